"""REFI-QDA exchange in a real browser: start an export, follow its progress, download it."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import assert_accessible


def test_export_the_demo_analysis_and_download_it(page, tmp_path: Path) -> None:
    sign_in(page, "researcher")
    page.goto("/s/demo/voices/exchange/")
    assert page.locator("h1").inner_text() == "REFI-QDA project exchange"
    assert "taken to be de-identified already" in page.inner_text("main")
    assert_accessible(page)
    page.click("text=Export the analysis as .qdpx")
    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]+/$"))
    assert page.locator("progress").count() == 1
    page.locator("#job-progress >> text=Done").wait_for(timeout=60000)
    assert "Exported " in page.inner_text("#job-progress")
    assert_accessible(page)
    page.goto("/s/demo/voices/exchange/")
    link = page.locator("text=Download the .qdpx file").first
    link.wait_for(timeout=10000)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".qdpx")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert "project.qde" in names
        assert any(name.startswith("Sources/") for name in names)
        xml = archive.read("project.qde").decode("utf-8")
        text = archive.read(next(n for n in names if n.endswith(".txt"))).decode("utf-8")
    assert text.startswith("[Synthetic transcript written for the Stepping Stones demo.")
    assert "demo-peer-researcher" in xml
    assert page.console_errors == []


def test_the_import_form_is_keyboard_usable_and_labelled(page) -> None:
    sign_in(page, "study-manager")
    page.goto("/s/demo/voices/exchange/")
    page.focus("#id_file")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_site"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_deidentified"
    for field in ("id_file", "id_site", "id_deidentified"):
        assert page.locator(f"label[for={field}]").count() == 1
    assert_accessible(page)


def test_a_peer_researcher_cannot_reach_the_exchange(page) -> None:
    sign_in(page, "peer-researcher")
    response = page.goto("/s/demo/voices/exchange/")
    assert response is not None and response.status == 404

"""Evidence synthesis in a real browser: every page checked by axe, and a peer researcher's
blinded extraction reconciled by keyboard."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import assert_accessible

R = "integrated/"
PAGES = [
    "",
    R,
    R + "studies/S-1/",
    R + "studies/S-9/",
    R + "extraction/",
    R + "extraction/form/",
    R + "studies/S-1/extract/",
    R + "studies/S-2/reconcile/",
    R + "studies/S-2/appraise/rob2/",
    R + "studies/S-1/appraise/mmat-2018/",
    R + "appraisal/mmat-2018/",
    R + "appraisal/rob2/",
    R + "appraisal/robins-i/",
    R + "meta/MA-1/",
    R + "meta/new/",
    R + "synthesis/",
    R + "synthesis/findings/QF-1/",
    R + "sources/",
    R + "import/",
    R + "duplicates/",
    R + "screening/",
    R + "screen/title-abstract/",
    R + "screen/full-text/",
    R + "conflicts/title-abstract/",
    R + "records/",
    R + "records/?state=conflict",
    R + "prisma/",
    "guidance/prisma/",
    "guidance/",
    "guidance/charting/",
    "guidance/studies/S-1/chart/",
]


@pytest.mark.parametrize("path", PAGES)
def test_evidence_pages_are_accessible(page, path) -> None:
    sign_in(page, "researcher")
    response = page.goto(f"/s/demo/evidence/{path}")
    assert response.status == 200
    assert_accessible(page)
    assert page.console_errors == []


def test_a_peer_researcher_extracts_blind_and_reconciles_by_keyboard(page) -> None:
    sign_in(page, "peer-researcher")
    # S-11 was extracted by the researcher only: the peer sees none of those answers.
    page.goto("/s/demo/evidence/integrated/studies/S-11/extract/")
    assert page.input_value("#f_country") == ""
    page.select_option("#f_design", "qualitative")
    page.fill("#f_country", "Canada")
    page.fill("#f_sample_size", "twenty")
    page.click("main button[value=complete]")
    assert "is not a whole number" in page.inner_text("main")
    page.fill("#f_sample_size", "19")
    page.click("main button[value=complete]")
    page.wait_for_url("**/studies/S-11/")
    page.click("text=Compare and reconcile")
    assert_accessible(page)
    table = page.inner_text("table.compare")
    assert "Differ" in table or "One answered" in table
    # Choose the first reviewer's answer everywhere, using only the keyboard.
    for radio in page.locator("input[type=radio][value=first]").all():
        radio.focus()
        page.keyboard.press("Space")
    page.locator("main button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/studies/S-11/")
    assert "reconciled" in page.inner_text("main")
    assert page.console_errors == []


def test_a_researcher_runs_a_meta_analysis_and_sees_the_forest_plot(page) -> None:
    sign_in(page, "researcher")
    page.goto("/s/demo/evidence/integrated/meta/new/")
    page.fill("#id_title", "Smoking at booking (browser test)")
    page.select_option("#id_measure", "GEN")
    page.select_option("#id_method", "DL")
    page.fill("#id_table", "study,yi,vi\nA,0.2,0.04\nB,0.5,0.09\nC,-0.1,0.05\n")
    page.click("main button[type=submit]")
    page.wait_for_url("**/meta/MA-*/")
    assert "DL model, k = 3" in page.inner_text("main")
    assert page.locator("svg.forest").count() == 1
    assert_accessible(page)


def test_screening_by_keyboard_with_undo(page) -> None:
    sign_in(page, "researcher")
    page.goto("/s/demo/evidence/integrated/screen/title-abstract/")
    first = page.inner_text("#record-title")
    before = page.inner_text("#progress-text")
    with page.expect_navigation():
        page.keyboard.press("e")
    assert page.inner_text("#record-title") != first
    assert page.inner_text("#progress-text") != before
    second = page.inner_text("#record-title")
    with page.expect_navigation():
        page.keyboard.press("i")
    with page.expect_navigation():
        page.keyboard.press("u")  # takes back the include
    assert page.inner_text("#record-title") == second
    assert "undone" in page.inner_text("main")
    # typing a note with the letter e in it decides nothing
    page.fill("#note", "see the methods")
    assert page.inner_text("#record-title") == second
    assert_accessible(page)
    assert page.console_errors == []


def test_a_duplicate_group_is_checked_side_by_side(page) -> None:
    sign_in(page, "researcher")
    page.goto("/s/demo/evidence/integrated/duplicates/")
    links = page.locator("main table a[href*='/duplicates/']")
    assert links.count() > 0, "the demo leaves fuzzy duplicate groups for a person to check"
    links.first.click()
    assert "Are these the same publication?" in page.inner_text("h1")
    assert_accessible(page)

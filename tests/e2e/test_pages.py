"""Each demo role in a real browser: what it sees, keyboard use, accessibility, background jobs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import ACCOUNTS, sign_in

WCAG_22_AA = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    }
}

NAVIGATION = {
    "study-manager": [
        "Dashboard",
        "Evidence",
        "Cohort",
        "Voices",
        "Journeys",
        "Model",
        "Members",
        "Audit trail",
    ],
    "researcher": ["Dashboard", "Evidence", "Cohort", "Voices", "Journeys", "Model"],
    "site-researcher": ["Dashboard", "Evidence", "Cohort", "Voices", "Journeys", "Model"],
    "peer-researcher": ["Dashboard", "Evidence", "Voices", "Journeys", "Model"],
    "advisory-group-member": ["Dashboard", "Model"],
    "auditor": ["Dashboard", "Evidence", "Cohort", "Voices", "Journeys", "Model", "Audit trail"],
}


def assert_accessible(page) -> None:
    results = Axe().run(page, options=WCAG_22_AA)
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
    assert problems == [], f"{page.url}: " + "; ".join(problems)


def test_signing_in_and_skipping_to_content_work_by_keyboard(page) -> None:
    page.goto("/accounts/login/")
    assert_accessible(page)
    assert page.evaluate("document.activeElement.id") == "id_username", "focus starts in the form"
    username, password = ACCOUNTS["auditor"]
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/s/demo/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.console_errors == []


@pytest.mark.parametrize("role", list(NAVIGATION))
def test_each_role_sees_its_own_navigation_and_accessible_pages(page, role) -> None:
    sign_in(page, role)
    links = page.locator("nav.areas a").all_inner_texts()
    assert links == NAVIGATION[role]
    assert "Synthetic demo study" in page.inner_text(".synthetic-banner")
    assert_accessible(page)
    for name in NAVIGATION[role][1:]:
        page.click(f"nav.areas >> text={name}")
        page.wait_for_load_state()
        assert page.locator("h1").count() == 1
        assert_accessible(page)
    assert page.console_errors == [], "no CSP or script errors"


def test_the_dashboard_shows_the_demo_figures_with_a_chart_and_its_text(page) -> None:
    sign_in(page, "researcher")
    figures = dict(
        zip(
            page.locator(".figures dt").all_inner_texts(),
            page.locator(".figures dd").all_inner_texts(),
            strict=True,
        )
    )
    per_site = [
        int(cell) for cell in page.locator("table tbody tr td:nth-child(3)").all_inner_texts()
    ]
    assert figures["Sites"] == "4" and len(per_site) == 4
    # The demo has 36 women; the cohort browser test may have added one at East London.
    assert int(figures["Women"]) == sum(per_site) >= 36
    title = page.locator("svg.chart title").text_content()
    assert "Greater Glasgow and Clyde: 9" in title and "Ayrshire and Arran: 8" in title


def test_identity_pages_open_for_managers_and_404_for_peer_researchers(page) -> None:
    sign_in(page, "study-manager")
    page.goto("/s/demo/participants/EL-W01/identity/")
    assert page.locator("h1").inner_text() == "Identity of EL-W01"
    assert re.search(r"999 \d{3} \d{4}", page.inner_text("main"))
    assert_accessible(page)
    page.click("text=Change identifiers")
    assert_accessible(page)
    # Editing must show the stored date, or saving the form would wipe it.
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.input_value("#id_date_of_birth"))
    page.context.clear_cookies()
    sign_in(page, "peer-researcher")
    response = page.goto("/s/demo/participants/EL-W01/identity/")
    assert response.status == 404


def test_a_site_researcher_is_kept_to_their_site(page) -> None:
    sign_in(page, "site-researcher")
    page.goto("/s/demo/participants/")
    text = page.inner_text("main")
    assert "EL-W01" in text and "GG-W01" not in text
    assert page.goto("/s/demo/sites/GG/").status == 404


def test_the_audit_export_shows_progress_and_finishes_in_the_background(page) -> None:
    sign_in(page, "study-manager")
    page.goto("/s/demo/audit/")
    assert_accessible(page)
    page.click("text=Export these events as CSV")
    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]+/$"))
    assert page.locator("progress").count() == 1
    download_link = page.locator("text=Download the file")
    download_link.wait_for(timeout=30000)
    assert page.locator("progress").get_attribute("value") == "100"
    assert_accessible(page)
    with page.expect_download() as info:
        download_link.click()
    content = Path(info.value.path()).read_text(encoding="utf-8")
    assert content.startswith("id,at,actor,action")
    assert "identity.view" in content

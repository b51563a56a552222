"""The cohort in a real browser: a site researcher's day, and every cohort page checked by axe."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import assert_accessible

PAGES = [
    "",
    "women/",
    "schedule/",
    "diary/",
    "diary/?view=month&from=2023-01-01",
    "staff/",
    "consent-forms/",
    "import/",
    "dictionary/",
    "calendar/",
    "women/EL-W01/",
]


@pytest.mark.parametrize("path", PAGES)
def test_cohort_pages_are_accessible(page, path) -> None:
    sign_in(page, "researcher")
    response = page.goto(f"/s/demo/cohort/{path}")
    assert response.status == 200
    assert_accessible(page)
    assert page.console_errors == []


def _window_of(page, wave: int) -> str:
    row = page.locator("section[aria-labelledby=schedule-heading] tbody tr").nth(wave - 1)
    return row.locator("td").first.inner_text()


def test_a_site_researcher_records_a_birth_and_books_and_completes_an_interview(page) -> None:
    sign_in(page, "site-researcher")
    today = date.today()
    # Recruited two weeks ago at 35+0, so she is 37+0 today and the late-pregnancy window is open.
    edd = today - timedelta(days=14) + timedelta(days=280 - 35 * 7)
    page.goto("/s/demo/cohort/women/add/")
    page.select_option("#id_site", label="East London (EL)")
    page.fill("#id_recruited_on", (today - timedelta(days=14)).isoformat())
    page.fill("#id_edd", edd.isoformat())
    page.fill("#id_gestation_at_recruitment", "35+0")
    page.click("main button[type=submit]")
    page.wait_for_url("**/cohort/women/EL-W11/")
    assert_accessible(page)

    page.goto("/s/demo/cohort/schedule/")
    assert "EL-W11" in page.inner_text("main"), "wave 2 is due"
    page.goto("/s/demo/cohort/women/EL-W11/")
    page.click("text=Book wave 2")
    page.select_option("#id_status", "booked")
    page.fill("#id_date", today.isoformat())
    page.fill("#id_time", "10:30")
    page.select_option("#id_location_type", "clinic")
    assert_accessible(page)
    page.click("main button[type=submit]")
    page.wait_for_url("**/cohort/women/EL-W11/")
    assert f"Booked {today.isoformat()}" in page.inner_text("main")
    page.goto(f"/s/demo/cohort/diary/?from={today.isoformat()}")
    assert "10:30 EL-W11 wave 2" in page.inner_text("main")

    page.goto("/s/demo/cohort/women/EL-W11/")
    page.click("text=Update wave 2")
    page.select_option("#id_status", "done")
    page.fill("#id_duration_minutes", "50")
    page.click("main button[type=submit]")
    page.wait_for_url("**/cohort/women/EL-W11/")
    assert f"Done {today.isoformat()}" in page.inner_text("main")

    wave3_before = _window_of(page, 3)
    assert wave3_before.startswith((edd + timedelta(weeks=8)).isoformat())
    page.click("text=Record the birth")
    page.fill("#id_birth_date", today.isoformat())
    page.fill("#id_gestation_at_birth", "37+0")
    page.select_option("#id_outcome", "live-birth")
    page.click("main button[type=submit]")
    page.wait_for_url("**/cohort/women/EL-W11/")
    wave3_after = _window_of(page, 3)
    assert wave3_after.startswith((today + timedelta(weeks=8)).isoformat()), "the schedule moved"
    assert wave3_after != wave3_before
    assert "EL-W11-I1" in page.inner_text("main")
    assert page.console_errors == []

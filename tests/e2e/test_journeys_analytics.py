"""Pathway analytics in a real browser: the cohort's process map and guideline timings, by
keyboard, checked by axe."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import assert_accessible

PAGES = [
    "analytics/",
    "analytics/map/",
    "analytics/variants/",
    "analytics/milestones/",
    "analytics/timings/",
    "analytics/conformance/",
    "analytics/dropoff/",
    "analytics/rules/",
    "analytics/pathways/",
    "analytics/logs/",
]


@pytest.mark.parametrize("path", PAGES)
def test_analytics_pages_are_accessible(page, path) -> None:
    sign_in(page, "researcher")
    response = page.goto(f"/s/demo/journeys/{path}")
    assert response.status == 200
    assert page.locator("h1").count() == 1
    assert_accessible(page)
    assert page.console_errors == []


def test_the_process_map_is_filtered_by_keyboard(page) -> None:
    sign_in(page, "researcher")
    page.goto("/s/demo/journeys/analytics/map/")
    svg = page.locator("svg.process-map")
    assert svg.count() == 1
    assert svg.get_attribute("role") == "img"
    rows_before = page.locator("table").first.locator("tbody tr").count()
    assert rows_before > 0, "the map's text alternative lists its transitions"
    page.focus("#f-min")
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    page.wait_for_url("**min_count=3**")
    rows_after = page.locator("table").first.locator("tbody tr").count()
    assert rows_after <= rows_before
    assert_accessible(page)
    # The synthetic routine-data log is one choice of data away, and says it is synthetic.
    page.focus("#f-source")
    page.keyboard.press("ArrowDown")
    page.focus("form.filters button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**source=log-**")
    assert "SYNTHETIC" in page.inner_text("main")
    assert page.locator("svg.process-map").count() == 1
    assert page.console_errors == []


def test_timing_rules_show_shares_with_a_table(page) -> None:
    sign_in(page, "site-researcher")
    page.goto("/s/demo/journeys/analytics/timings/")
    assert page.locator("figure svg[role=img]").count() == 1
    table = page.locator("table", has=page.locator("caption", has_text="Women by rule"))
    assert table.locator("tbody tr").count() > 0
    assert "Booking by 10+0 weeks" in table.inner_text()
    assert_accessible(page)
    # The sub-navigation is reachable by keyboard.
    page.focus("nav.subnav a >> text=Process map")
    page.keyboard.press("Enter")
    page.wait_for_url("**/analytics/map/**")
    assert page.locator("h1").inner_text() == "Process map"

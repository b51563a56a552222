"""Journey maps in a real browser: a woman's map, its experience marks by keyboard, axe."""

from __future__ import annotations

from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import assert_accessible


def test_a_womans_map_reads_its_quotes_by_keyboard(page) -> None:
    sign_in(page, "researcher")
    page.goto("/s/demo/journeys/women/")
    assert page.locator("h1").inner_text() == "Women's journeys"
    assert_accessible(page)
    page.locator("table tbody th a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Journey of ")
    assert page.locator("svg.journey-map").count() == 1
    assert page.locator("ol.journey-list > li").count() > 5
    assert_accessible(page)
    marks = page.locator("svg.journey-map a.experience")
    assert marks.count() > 0
    label = marks.first.get_attribute("aria-label") or ""
    # Tab from the map's start until the first experience mark has focus.
    page.locator("#journey-text").scroll_into_view_if_needed()
    page.focus("ul.map-actions a")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('experience')"):
            break
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == label
    assert page.inner_text("#map-quote") == label
    # Following the mark lands on the same event in the text list.
    page.keyboard.press("Enter")
    target = page.evaluate("document.activeElement.id")
    assert target.startswith("ev-")
    assert page.console_errors == []


def test_the_composite_journey_page_is_accessible(page) -> None:
    sign_in(page, "peer-researcher")
    page.goto("/s/demo/journeys/composite/?group=all&site=")
    assert page.locator("svg.journey-map").count() == 1
    assert "EL-W" not in page.inner_text("main")
    assert_accessible(page)

"""Coding in a real browser: by keyboard alone and by mouse, overlapping codings, axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import assert_accessible

BASE = "/s/demo/voices/"


def ensure_codes(page) -> None:
    """The demo's codebook, or two codes made through the codebook page when it has none."""
    page.goto(BASE + "codes/")
    assert_accessible(page)
    codable = page.locator("table.codebook tbody tr:not(:has(.tag))").count()
    for name in ["Being listened to", "Feeling judged"][: max(0, 2 - codable)]:
        page.goto(BASE + "codes/new/")
        page.fill("#id_name", name)
        page.click("button[type=submit] >> text=Save")
        page.wait_for_url(re.compile(r".*/voices/codes/$"))


def open_a_ready_transcript(page) -> None:
    page.goto(BASE + "search-and-code/?q=the&extend=hit")
    assert_accessible(page)
    link = page.locator("ol.hits a").first
    if link.count() == 0:
        pytest.skip("the demo study has no ready text source to code yet")
    link.click()
    page.wait_for_selector("#coding[data-ready=true]")


def test_coding_by_keyboard_and_mouse_with_overlaps(page) -> None:
    sign_in(page, "researcher")
    ensure_codes(page)
    open_a_ready_transcript(page)
    assert_accessible(page)
    before = int(page.inner_text("#coding-count"))

    # Keyboard alone: Tab into the text, K, Shift+Ctrl+Right twice, then the shortcut 1.
    page.focus("#kbd-mode")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "coding-text"
    page.keyboard.press("k")
    assert page.get_attribute("#kbd-mode", "aria-pressed") == "true"
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    expect(page.locator("#selection-status")).to_contain_text("Selected")
    page.keyboard.press("1")
    expect(page.locator("#coding-count")).not_to_have_text(str(before))
    expect(page.locator("#selection-status")).to_contain_text("Coded with")
    page.keyboard.press("Escape")
    assert page.get_attribute("#kbd-mode", "aria-pressed") == "false"
    first_code = int(page.get_attribute('.apply-code[data-key="1"]', "data-code"))
    second_code = int(page.get_attribute('.apply-code[data-key="2"]', "data-code"))

    # Mouse: drag across the start of the same paragraph, then click the second code.
    count = int(page.inner_text("#coding-count"))
    page.click("h1")  # click away: pressing inside the kept selection would drag it instead
    paragraph = page.locator("#coding-text p").first
    paragraph.scroll_into_view_if_needed()
    box = paragraph.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 2, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(box["x"] + min(box["width"] - 60, 220), box["y"] + 8, steps=5)
    page.mouse.up()
    expect(page.locator("#selection-status")).to_contain_text("Selected")
    page.click(f'.apply-code[data-code="{second_code}"]')
    expect(page.locator("#coding-count")).not_to_have_text(str(count))

    # Both codes paint highlights, and they overlap at the start of the text.
    overlap = page.evaluate(
        """([a, b]) => {
          const ha = CSS.highlights.get('code-' + a), hb = CSS.highlights.get('code-' + b);
          if (!ha || !hb) return false;
          for (const ra of ha) for (const rb of hb) {
            if (ra.compareBoundaryPoints(Range.START_TO_END, rb) > 0 &&
                rb.compareBoundaryPoints(Range.START_TO_END, ra) > 0) return true;
          }
          return false;
        }""",
        [first_code, second_code],
    )
    assert overlap, "the two codings overlap and both are painted"
    assert page.locator("#coding-text p").first.locator(".stripe").count() >= 2

    # The codings list: show one by keyboard, then remove it.
    page.select_option("#codings-filter", str(second_code))
    item = page.locator("#codings-list li").first
    item.locator("button", has_text="Show").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#selection-status")).to_contain_text("Showing")
    remaining = int(page.inner_text("#coding-count"))
    item.locator("button", has_text="Remove").click()
    expect(page.locator("#coding-count")).not_to_have_text(str(remaining))
    assert_accessible(page)
    assert page.console_errors == []


def test_codebook_pages_are_accessible(page) -> None:
    sign_in(page, "researcher")
    ensure_codes(page)
    for path in ["codes/versions/", "codes/import/", "memos/", "search-and-code/?q=midwife"]:
        page.goto(BASE + path)
        assert page.locator("h1").count() == 1
        assert_accessible(page)
    page.goto(BASE + "codes/")
    page.locator("table.codebook tbody a").first.click()
    assert_accessible(page)
    assert page.console_errors == []

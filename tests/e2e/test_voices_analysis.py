"""Voices analysis in a real browser: retrieval and the framework matrix by keyboard, axe clean."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import assert_accessible


def _codes(page) -> list[str]:
    page.goto("/s/demo/voices/retrieve/")
    return [name.strip() for name in page.locator("#code-names li").all_text_contents()]


def _require_ready_sources(page) -> None:
    page.goto("/s/demo/voices/search/?q=the")
    heading = page.inner_text("#results-heading")
    if heading.startswith("0 hits"):
        pytest.skip("the demo study has no ready (de-identified) voices source")


def test_retrieval_by_keyboard(page) -> None:
    sign_in(page, "researcher")
    _require_ready_sources(page)
    codes = [c for c in _codes(page) if c != "The codebook is empty."]
    if not codes:
        pytest.skip("the demo study has no codes")
    assert_accessible(page)
    page.focus("#q")
    name = codes[0]
    page.keyboard.type(f'"{name}"' if re.search(r"\b(AND|OR|NOT)\b|[()\"]", name) else name)
    page.keyboard.press("Enter")
    page.wait_for_url("**/voices/retrieve/?q=*")
    assert re.match(r"\d+ passages? in \d+ sources?", page.inner_text("#results-heading"))
    assert_accessible(page)
    page.goto("/s/demo/voices/frequencies/")
    assert_accessible(page)
    page.goto("/s/demo/voices/co-occurrence/")
    assert_accessible(page)
    assert page.console_errors == []


def test_framework_matrix_by_keyboard(page) -> None:
    sign_in(page, "researcher")
    _require_ready_sources(page)
    page.goto("/s/demo/voices/frameworks/")
    assert_accessible(page)
    links = page.locator("table a")
    if links.count() == 0:
        options = page.locator("#theme-0-codes option")
        if options.count() == 0:
            pytest.skip("the demo study has no codes to build a framework from")
        page.fill("#fw-name", "Browser test framework")
        page.fill("#theme-0-name", "First theme")
        page.select_option("#theme-0-codes", index=0)
        page.click("text=Create framework")
        page.wait_for_url(re.compile(r".*/voices/frameworks/\d+/$"))
    else:
        links.first.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/voices/frameworks/\d+/$"))
    assert page.locator("h1").count() == 1
    assert_accessible(page)
    cells = page.locator("table.framework td a")
    if cells.count():
        cells.first.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/cells/.*"))
        assert_accessible(page)
        page.focus("#summary")
        page.keyboard.type(" Checked in the browser.")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/voices/frameworks/\d+/(\?.*)?$"))
        assert "saved" in page.inner_text(".messages")
    page.click("text=Cube (all waves)")
    assert_accessible(page)
    page.click("text=Coverage")
    assert_accessible(page)
    assert page.console_errors == []


def test_agreement_pages_are_accessible(page) -> None:
    sign_in(page, "researcher")
    page.goto("/s/demo/voices/agreement/")
    assert_accessible(page)
    rounds = page.locator("table a")
    if rounds.count():
        rounds.first.click()
        assert_accessible(page)
        if page.locator("text=Disagreements side by side").count():
            page.click("text=Disagreements side by side")
            assert_accessible(page)
    assert page.console_errors == []

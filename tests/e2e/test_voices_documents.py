"""Voices documents in a real browser: upload a transcript, review it by keyboard, finish."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import assert_accessible

TRANSCRIPT = (
    "Interviewer: How have things been since the birth?\n"
    "EL-W01: Better. Darren comes round on Sundays and we moved to Harehills.\n"
    "Interviewer: And the midwife?\n"
    "EL-W01: She rang me on 07700 900123. Kayden loves her.\n"
)


def test_upload_review_by_keyboard_and_read_the_deidentified_text(page, tmp_path: Path) -> None:
    sign_in(page, "researcher")
    page.goto("/s/demo/voices/sources/upload/")
    assert_accessible(page)
    transcript = tmp_path / "wave two.txt"
    transcript.write_text(TRANSCRIPT, encoding="utf-8")
    page.select_option("#id_kind", "interview")
    page.select_option("#id_participant", "EL-W01")
    page.select_option("#id_wave", index=2)
    page.set_input_files("#id_file", str(transcript))
    page.click("main button[type=submit]")
    page.wait_for_url("**/review/")
    assert_accessible(page)
    main = page.inner_text("main")
    assert "0 of" in main and "detections decided" in main

    # Keyboard only: from the first row's label field, Tab to "Replace" and press Enter.
    first_label = page.locator(
        "main table tbody tr input[type=text], main table tbody tr input:not([type])"
    ).first
    first_label.focus()
    for _ in range(4):  # label → kind → "every one" → Replace
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").startswith("Replace"):
            break
    assert page.evaluate("document.activeElement.textContent").startswith("Replace")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "1 of" in page.inner_text("#progress-count")

    # The phone number is kept: find its row's "Keep" button and use it by keyboard.
    page.get_by_role("button", name="Keep “07700 900123”", exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "2 of" in page.inner_text("#progress-count")

    # Add a missed identifier by typing its words.
    page.focus("#add-words")
    page.keyboard.type("Sundays")
    page.select_option("#add-kind", "date")
    page.fill("#add-label", "day")
    page.focus("#add-label")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "1 added by reviewers" in page.inner_text("#progress-count")
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("button", name="Finish de-identification").click()
    assert "De-identification finished" in page.inner_text("main")
    text = page.inner_text("#voices-transcript")
    assert "07700 900123" in text and "[day]" in text
    for word in ("Darren", "Harehills", "Kayden", "Sundays"):
        assert word not in text
    assert_accessible(page)
    assert page.console_errors == []


def test_selecting_text_fills_in_the_positions(page, tmp_path: Path) -> None:
    sign_in(page, "researcher")
    page.goto("/s/demo/voices/sources/upload/")
    transcript = tmp_path / "note.txt"
    # Written in lower case, as speech often is transcribed: neither rules nor model find it.
    transcript.write_text("P1: We go to the bridge hub every week.\n", encoding="utf-8")
    page.select_option("#id_kind", "interview")
    page.select_option("#id_participant", "EL-W01")
    page.set_input_files("#id_file", str(transcript))
    page.click("main button[type=submit]")
    page.wait_for_url("**/review/")
    page.evaluate(
        """() => {
          const pre = document.getElementById('raw-text');
          const node = pre.firstChild;
          const start = node.textContent.indexOf('bridge hub');
          const range = document.createRange();
          range.setStart(node, start);
          range.setEnd(node, start + 'bridge hub'.length);
          const sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
          pre.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }"""
    )
    assert page.input_value("#add-start") == "17"
    assert page.input_value("#add-end") == "27"
    assert "bridge hub" in page.inner_text("#selection")
    page.select_option("#add-kind", "institution")
    with page.expect_navigation():
        page.click("#add-form button[type=submit]")
    with page.expect_navigation():
        page.get_by_role("button", name="Finish de-identification").click()
    assert "We go to the [institution] every week." in page.inner_text("#voices-transcript")


def test_sources_list_is_accessible_for_a_peer_researcher(page) -> None:
    sign_in(page, "peer-researcher")
    response = page.goto("/s/demo/voices/sources/")
    assert response.status == 200
    assert_accessible(page)
    assert "Upload a source" not in page.inner_text("main")

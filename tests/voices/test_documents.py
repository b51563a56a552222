"""Transcript files to text: every format, speaker turns, encodings, hostile files."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import Path

import pytest

from steppingstones.voices import documents
from steppingstones.voices.documents import (
    Document,
    DocumentError,
    decode_text,
    extract_text,
    find_label_turns,
    map_speakers,
    parse_seconds,
    speakers,
)

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
EXPECTED_TURNS = [
    ("Interviewer", "Thanks for coming in. Can you tell me about the birth?"),
    ("EL-W07", "It was quick. Kayden came at 3 in the morning at Leeds General Infirmary."),
    ("Interviewer", "And afterwards?"),
    ("EL-W07", "They kept him in for five days for the withdrawals."),
]


def turns_of(doc: Document) -> list[tuple[str, str]]:
    return [(t.speaker, doc.turn_text(t)) for t in doc.turns]


# --------------------------------------------------------------------------- TXT


def test_txt_utf8_crlf_nfd_normalised_and_original_kept() -> None:
    raw = "Interviewer: Cafe\u0301 or tea?\r\nP1: Tea.\rP1: Ta.\r\n".encode()
    doc = extract_text(raw, "t.txt")
    assert doc.text == "Interviewer: Caf\u00e9 or tea?\nP1: Tea.\nP1: Ta.\n"
    assert unicodedata.is_normalized("NFC", doc.text)
    assert doc.original == raw
    assert doc.encoding == "utf-8"
    assert doc.format == "txt"


def test_txt_cp1252_is_decoded() -> None:
    raw = "P1: It cost me £20 – the caf\u00e9 said \u201cno\u201d.".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    doc = extract_text(raw, "old.txt")
    assert doc.encoding == "cp1252"
    assert doc.text == "P1: It cost me £20 – the caf\u00e9 said \u201cno\u201d."


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (b"\xef\xbb\xbfP1: hello", "utf-8 (BOM)"),
        ("P1: hello".encode("utf-16"), None),
        (b"\xfe\xff" + "P1: hello".encode("utf-16-be"), "utf-16-be (BOM)"),
        ("P1: hello".encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_txt_byte_order_marks_and_utf16(raw: bytes, encoding: str | None) -> None:
    text, used = decode_text(raw)
    assert text.replace("\ufeff", "") == "P1: hello"
    if encoding:
        assert used == encoding
    assert extract_text(raw, "x.txt").text == "P1: hello"


def test_undefined_cp1252_bytes_fall_back_to_latin1() -> None:
    text, used = decode_text(b"abc \x81 def \xe9")
    assert used == "latin-1"
    assert text.endswith("\u00e9")


def test_label_turns_with_continuations_and_times() -> None:
    text = (
        "Interview 3 (synthetic)\n"
        "Note: recorded in a side room\n"
        "[00:00:05] Interviewer: How was the booking appointment?\n"
        "[00:00:09] EL-W07: Scary. I thought they'd ring social services.\n"
        "And they did, in the end.\n"
        "\n"
        "[00:01:02] Interviewer: Right.\n"
    )
    turns = find_label_turns(text)
    assert [(t.speaker, text[t.start_char : t.end_char]) for t in turns] == [
        ("Interviewer", "How was the booking appointment?"),
        ("EL-W07", "Scary. I thought they'd ring social services.\nAnd they did, in the end."),
        ("Interviewer", "Right."),
    ]
    assert [t.start_seconds for t in turns] == [5.0, 9.0, 62.0]
    assert [t.end_seconds for t in turns] == [9.0, 62.0, None]


def test_names_count_as_labels_only_when_repeated() -> None:
    text = "Sarah: We see women late.\nJo: Yes.\nSarah: Very late.\nJo: Agreed.\nWell: no."
    doc = extract_text(text.encode(), "fg.txt")
    assert speakers(doc) == ["Sarah", "Jo"]
    assert len(doc.turns) == 4


def test_plain_prose_has_no_turns() -> None:
    doc = extract_text(b"Field note: she seemed tired. We talked about housing.", "n.txt")
    assert doc.turns == []


# --------------------------------------------------------------------------- DOCX / ODT / PDF


@pytest.mark.parametrize("name", ["interview.docx", "interview.odt", "interview.pdf"])
def test_office_and_pdf_fixtures(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    doc = extract_text(data, name)
    assert doc.format == name.rsplit(".", 1)[1]
    assert doc.text.startswith("Interview EL-W07 (synthetic)\n")
    got = turns_of(doc)
    assert [s for s, _ in got] == [s for s, _ in EXPECTED_TURNS]
    for (_, text), (_, expected) in zip(got, EXPECTED_TURNS, strict=True):
        assert text.startswith(expected)
    assert doc.original == data
    assert doc.warnings == []


def test_docx_table_cells_are_tab_separated() -> None:
    doc = extract_text((FIXTURES / "interview.docx").read_bytes(), "interview.docx")
    assert doc.text.endswith("\nSite\tEL")


def test_odt_repeated_spaces_kept() -> None:
    doc = extract_text((FIXTURES / "interview.odt").read_bytes(), "interview.odt")
    assert doc.text.endswith("Two   spaces kept.")


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def make_docx(body: str, extra: dict[str, bytes] | None = None, *, decl: str = "") -> bytes:
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>{decl}'
        f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", xml)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def test_docx_tracked_deletions_breaks_and_tabs() -> None:
    body = (
        "<w:p><w:r><w:t>P1: I said </w:t></w:r>"
        "<w:del><w:r><w:delText>Darren</w:delText></w:r></w:del>"
        "<w:ins><w:r><w:t>my partner</w:t></w:r></w:ins>"
        "<w:r><w:tab/><w:t>came</w:t><w:br/><w:t>later</w:t></w:r></w:p>"
    )
    doc = extract_text(make_docx(body), "tracked.docx")
    assert doc.text == "P1: I said my partner\tcame\nlater"
    assert "Darren" not in doc.text


def test_docx_macros_are_not_read() -> None:
    data = make_docx("<w:p><w:r><w:t>Hi</w:t></w:r></w:p>", {"word/vbaProject.bin": b"\0" * 10})
    doc = extract_text(data, "m.docx")
    assert doc.text == "Hi"
    assert any("macros" in w for w in doc.warnings)


def test_docx_zip_bomb_ratio_refused() -> None:
    bomb = make_docx("<w:p/>", {"word/media/image1.bin": b"\0" * 5_000_000})
    assert len(bomb) < 50_000
    with pytest.raises(DocumentError, match=r"bomb\.docx: word/media/image1\.bin: .*ratio"):
        extract_text(bomb, "bomb.docx")


def test_docx_total_uncompressed_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_UNCOMPRESSED_BYTES", 10_000)
    data = make_docx("<w:p/>", {f"word/part{i}.xml": b"x" * 3000 for i in range(5)})
    with pytest.raises(DocumentError, match="zip bomb"):
        extract_text(data, "big.docx")


def test_zip_entry_lying_about_its_size_refused() -> None:
    data = bytearray(make_docx("<w:p><w:r><w:t>" + "A" * 2000 + "</w:t></w:r></w:p>"))
    # Rewrite the declared uncompressed size of word/document.xml in the central directory.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("word/document.xml")
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"word/document.xml") + 1)
    size_at = central + 24
    assert int.from_bytes(data[size_at : size_at + 4], "little") == info.file_size
    data[size_at : size_at + 4] = (100).to_bytes(4, "little")
    with pytest.raises(DocumentError, match=r"word/document\.xml"):
        extract_text(bytes(data), "liar.docx")


def test_zip_path_traversal_refused() -> None:
    data = make_docx("<w:p/>", {"../../evil.sh": b"echo"})
    with pytest.raises(DocumentError, match=r"\.\./\.\./evil\.sh: unsafe path"):
        extract_text(data, "trav.docx")


def test_docx_entities_refused() -> None:
    decl = '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    data = make_docx("<w:p><w:r><w:t>&b;</w:t></w:r></w:p>", decl=decl)
    with pytest.raises(DocumentError, match=r"laughs\.docx: word/document\.xml: refused"):
        extract_text(data, "laughs.docx")


def test_docx_external_entity_refused() -> None:
    decl = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    data = make_docx("<w:p><w:r><w:t>&x;</w:t></w:r></w:p>", decl=decl)
    with pytest.raises(DocumentError, match="refused"):
        extract_text(data, "xxe.docx")


def test_docx_malformed_xml_names_part_and_line() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document>\n<unclosed>")
    with pytest.raises(DocumentError, match=r"word/document\.xml line \d+ column \d+"):
        extract_text(buf.getvalue(), "bad.docx")


def test_docx_missing_document_part() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("content.xml", "<x/>")
    with pytest.raises(DocumentError, match=r"word/document\.xml: is missing"):
        extract_text(buf.getvalue(), "empty.docx")


def test_odt_other_mimetype_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<x/>")
    with pytest.raises(DocumentError, match="not an ODF text document"):
        extract_text(buf.getvalue(), "sheet.odt")


def test_encrypted_pdf_refused() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(FIXTURES / "interview.pdf").pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="owner-secret")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(DocumentError, match=r"locked\.pdf: is an encrypted .*PDF"):
        extract_text(buf.getvalue(), "locked.pdf")


def test_pdf_without_text_warns() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    doc = extract_text(buf.getvalue(), "scan.pdf")
    assert doc.text == ""
    assert any("OCR" in w for w in doc.warnings)


def test_broken_pdf_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match=r"broken\.pdf"):
        extract_text(b"%PDF-1.7\nnot really a pdf", "broken.pdf")


# --------------------------------------------------------------------------- VTT / SRT

VTT = """WEBVTT - interview 3 (synthetic)

NOTE exported by the transcription tool
with two lines

1
00:00:01.000 --> 00:00:04.500 align:start position:10%
<v Interviewer>How did the first <i>midwife</i> appointment go?</v>

2
00:00:05.000 --> 00:01:02.250
<v.loud EL-W07>Not great. She said
they'd have to tell &amp; refer me.</v>

00:01:03.000 --> 00:01:04.000
<v Interviewer><00:01:03.500>Mm.

01:00:00.000 --> 01:00:02.000
P1: One hour in.
"""


def test_vtt_speaker_turns_and_timestamps() -> None:
    doc = extract_text(VTT.encode(), "call.vtt")
    assert doc.text == (
        "Interviewer: How did the first midwife appointment go?\n"
        "EL-W07: Not great. She said they'd have to tell & refer me.\n"
        "Interviewer: Mm.\n"
        "P1: One hour in."
    )
    assert [(t.speaker, t.start_seconds, t.end_seconds) for t in doc.turns] == [
        ("Interviewer", 1.0, 4.5),
        ("EL-W07", 5.0, 62.25),
        ("Interviewer", 63.0, 64.0),
        ("P1", 3600.0, 3602.0),
    ]
    assert doc.turn_text(doc.turns[1]) == "Not great. She said they'd have to tell & refer me."
    assert speakers(doc) == ["Interviewer", "EL-W07", "P1"]


def test_vtt_short_timestamps_and_crlf() -> None:
    raw = b"WEBVTT\r\n\r\n00:01.000 --> 00:02.500\r\nHello there\r\n"
    doc = extract_text(raw, "s.vtt")
    assert doc.text == "Hello there"
    assert (doc.turns[0].speaker, doc.turns[0].start_seconds, doc.turns[0].end_seconds) == (
        "",
        1.0,
        2.5,
    )


def test_srt_turns() -> None:
    srt = (
        "1\n00:00:01,000 --> 00:00:03,200\nFacilitator: Welcome, everyone.\n\n"
        "2\n00:00:03,500 --> 00:00:06,000\nSpeaker 2: Thanks.\nGlad to be here.\n"
    )
    doc = extract_text(srt.encode("cp1252"), "fg.srt")
    assert turns_of(doc) == [
        ("Facilitator", "Welcome, everyone."),
        ("Speaker 2", "Thanks. Glad to be here."),
    ]
    assert doc.turns[1].start_seconds == 3.5


def test_vtt_without_header_refused() -> None:
    with pytest.raises(DocumentError, match=r"x\.vtt: line 1: .*WEBVTT"):
        extract_text(b"00:00:01.000 --> 00:00:02.000\nhi\n", "x.vtt")


def test_vtt_bad_timing_names_line() -> None:
    raw = b"WEBVTT\n\n1\n00:00:01.000 --> soon\nhi\n"
    with pytest.raises(DocumentError, match=r"y\.vtt: line 4: cannot read the cue timing"):
        extract_text(raw, "y.vtt")


def test_srt_cue_without_timing_names_line() -> None:
    raw = b"1\n00:00:01,000 --> 00:00:02,000\nhi\n\n2\njust text\n"
    with pytest.raises(DocumentError, match=r"z\.srt: line 5: cue without a timing"):
        extract_text(raw, "z.srt")


def test_parse_seconds() -> None:
    assert parse_seconds("01:02:03.5") == 3723.5
    assert parse_seconds("02:03,250") == 123.25
    assert parse_seconds("0:05") == 5


# --------------------------------------------------------------------------- speakers


def test_map_speakers_to_staff_participants() -> None:
    text = "Facilitator: Hello.\nSpeaker 1: Hi.\nSpeaker 2: Hiya.\nSpeaker 1: So.\n"
    doc = extract_text(text.encode(), "fg.txt")
    mapped = map_speakers(doc, {"Speaker 1": "EL-S03", "Speaker 2": "EL-S07"})
    assert [(t.speaker, t.participant) for t in mapped.turns] == [
        ("Facilitator", None),
        ("Speaker 1", "EL-S03"),
        ("Speaker 2", "EL-S07"),
        ("Speaker 1", "EL-S03"),
    ]
    assert mapped.speaker_map == {"Speaker 1": "EL-S03", "Speaker 2": "EL-S07"}
    assert doc.turns[1].participant is None  # the original is untouched
    assert mapped.text == doc.text


def test_map_speakers_unknown_label_and_duplicates() -> None:
    doc = extract_text(b"Speaker 1: Hi.\nSpeaker 2: Hiya.\n", "fg.txt")
    with pytest.raises(DocumentError, match="Speaker 3"):
        map_speakers(doc, {"Speaker 3": "EL-S03"})
    with pytest.raises(DocumentError, match="same participant: EL-S03"):
        map_speakers(doc, {"Speaker 1": "EL-S03", "Speaker 2": "EL-S03"})


# --------------------------------------------------------------------------- file types


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"hello", "notes.rtf", "unsupported file type '.rtf'"),
        (b"hello", "noext", "unsupported file type"),
        (b"plain text", "fake.docx", "not a zip archive"),
        (b"PK\x03\x04rest", "fake.txt", "binary document"),
        (b"hello", "fake.pdf", "does not start with %PDF-"),
        (b"PK\x03\x04 broken", "broken.odt", "not a valid Office zip archive"),
    ],
)
def test_wrong_or_unsupported_files(data: bytes, name: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message) as info:
        extract_text(data, name)
    assert info.value.filename == name
    assert isinstance(info.value, ValueError)


def test_too_large_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_FILE_BYTES", 10)
    with pytest.raises(DocumentError, match="larger than"):
        extract_text(b"P1: more than ten bytes", "big.txt")

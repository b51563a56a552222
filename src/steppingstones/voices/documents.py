"""Transcript files to text: TXT, DOCX, ODT, PDF (text layer), WebVTT and SRT.

Plain Python, no Django. ``extract_text(data, filename)`` returns a ``Document``:

* ``text``: normalised (Unicode NFC, ``\\n`` line endings, no BOM, no NULs); ``original``
  keeps the bytes exactly as uploaded, ``encoding`` says how a text file was read (BOM, UTF-8,
  else Windows-1252).
* ``turns``: speaker turns with their offsets in ``text``; from VTT/SRT cues (``<v Name>``
  voice tags or a "Name:" prefix, with start and end times in seconds), and from any
  transcript whose lines start with a speaker label ("Interviewer:", "P1:", "EL-W07:",
  optionally after or before a "[00:01:23]" time).
* ``speakers(document)`` lists the labels; ``map_speakers(document, mapping)`` ties labels
  of a focus group to staff participants (``{"Speaker 2": "EL-S03"}``).

Office files are read with ``zipfile`` and ``defusedxml`` only: no macro is ever run or read,
DTDs and entities are refused, and the archive is checked before anything is decompressed
(entry count, names, total uncompressed size and compression ratio). PDFs are read with
``pypdf``; encrypted PDFs are refused. Every failure is a ``DocumentError`` (a ``ValueError``)
naming the file and the place in it.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

FORMATS = ("txt", "docx", "odt", "pdf", "vtt", "srt")
_EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".docx": "docx",
    ".odt": "odt",
    ".pdf": "pdf",
    ".vtt": "vtt",
    ".srt": "srt",
}

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
MAX_ENTRIES = 5000
MAX_PDF_PAGES = 2000


class DocumentError(ValueError):
    """A file that cannot be read as a transcript; says which file and where."""

    def __init__(self, filename: str, place: str, message: str) -> None:
        self.filename = filename
        self.place = place
        self.message = message
        where = f"{filename}: {place}" if place else filename
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Turn:
    """One speaker's turn: ``document.text[start_char:end_char]`` is what they said."""

    speaker: str
    start_seconds: float | None
    end_seconds: float | None
    start_char: int
    end_char: int
    participant: str | None = None


@dataclass(frozen=True)
class Document:
    filename: str
    format: str
    text: str
    original: bytes = field(repr=False)
    encoding: str | None = None
    turns: list[Turn] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    speaker_map: dict[str, str] = field(default_factory=dict)

    def turn_text(self, turn: Turn) -> str:
        return self.text[turn.start_char : turn.end_char]


# --------------------------------------------------------------------------- normalising


def normalise_text(text: str) -> str:
    """NFC, ``\\n`` line endings (CRLF, CR, NEL, LS, PS), no BOM or NUL, no trailing spaces."""
    text = text.replace("\ufeff", "").replace("\x00", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\x85", "\n")
    text = text.replace("\f", "\n\n")
    text = unicodedata.normalize("NFC", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def decode_text(data: bytes, filename: str = "") -> tuple[str, str]:
    """Bytes of a text file to a string and the encoding used: BOM, UTF-8, else cp1252."""
    boms = (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    )
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                body = data[len(bom) :] if encoding != "utf-8-sig" else data
                return body.decode(encoding), encoding.replace("-sig", "") + " (BOM)"
            except UnicodeDecodeError as exc:
                raise DocumentError(
                    filename,
                    f"byte {exc.start}",
                    f"has a {encoding} byte-order mark but is not valid in that encoding",
                ) from exc
    if _looks_utf16(data):
        for encoding in ("utf-16-le", "utf-16-be"):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                continue
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # The five bytes cp1252 leaves undefined: read them as Latin-1 control characters.
        return data.decode("latin-1"), "latin-1"


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a BOM: most odd or even bytes are NUL in ASCII-heavy text."""
    sample = data[:2000]
    if len(sample) < 8:
        return False
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    return max(even, odd) > 0.4 and min(even, odd) < 0.05


# --------------------------------------------------------------------------- speaker turns

_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_LABEL = (
    r"(?:[A-Z]{1,4}\d{0,3}(?:-[A-Z]{1,3}\d{1,4})+"  # EL-W07, GG-S03
    r"|(?:Participant|Speaker|Respondent|Interviewee|Interviewer|Facilitator|Moderator"
    r"|Researcher|Woman|Mother|Mum|Midwife|Staff|Practitioner|Co-facilitator|Note-taker)"
    r"(?:[ ]?\d{1,3}|[ ][A-Z])?"
    r"|[A-Z]{1,3}\d{1,3}"  # P1, R12, FG2, IV1
    r"|INT|IV|IVR|RES|MOD|FAC"
    r"|[A-Z][a-z]+(?:[ ][A-Z][a-z]+)?)"  # Sarah, Health Visitor (only if repeated)
)
_LINE_LABEL = re.compile(
    rf"^[ \t]*(?:[\[(](?P<t1>{_TIME})[\])][ \t]*)?(?P<label>{_LABEL})"
    rf"(?:[ \t]*[\[(](?P<t2>{_TIME})[\])])?[ \t]*:[ \t]*"
)
_STRONG_LABEL = re.compile(
    r"(?:[A-Z]{1,4}\d{0,3}(?:-[A-Z]{1,3}\d{1,4})+|[A-Z]{1,3}\d{1,3}|INT|IV|IVR|RES|MOD|FAC"
    r"|(?:Participant|Speaker|Respondent|Interviewee|Interviewer|Facilitator|Moderator"
    r"|Researcher|Co-facilitator|Note-taker)(?:[ ]?\d{1,3}|[ ][A-Z])?)"
)
_NOT_LABELS = frozenset({"Note", "Notes", "Date", "Time", "Location", "Re", "Subject", "Ps", "Nb"})


def parse_seconds(value: str) -> float:
    """``01:02:03.5``, ``02:03,500`` or ``2:03`` to seconds."""
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def find_label_turns(text: str) -> list[Turn]:
    """Turns of a transcript whose lines start with speaker labels.

    A label counts if it is a usual transcript label ("Interviewer", "P1", "EL-W07",
    "Speaker 2") or appears at the start of at least two lines (a name such as "Sarah").
    Lines without a label continue the turn before them.
    """
    lines = text.split("\n")
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    candidates: list[tuple[int, re.Match[str]]] = []
    counts: dict[str, int] = {}
    for i, line in enumerate(lines):
        m = _LINE_LABEL.match(line)
        if m and m.group("label") not in _NOT_LABELS:
            candidates.append((i, m))
            counts[m.group("label")] = counts.get(m.group("label"), 0) + 1
    accepted = {label for label, n in counts.items() if _STRONG_LABEL.fullmatch(label) or n >= 2}
    starts = {i: m for i, m in candidates if m.group("label") in accepted}
    turns: list[Turn] = []
    current: dict[str, Any] | None = None

    def close(end_line: int) -> None:
        if current is None:
            return
        end = current["start"]
        for j in range(current["line"], end_line):
            line_end = offsets[j] + len(lines[j])
            if lines[j].strip():
                end = max(end, line_end)
        turns.append(Turn(current["speaker"], current["time"], None, current["start"], end))

    for i in range(len(lines)):
        m = starts.get(i)
        if m is None:
            continue
        close(i)
        t = m.group("t1") or m.group("t2")
        current = {
            "speaker": m.group("label"),
            "time": parse_seconds(t) if t else None,
            "start": offsets[i] + m.end(),
            "line": i,
        }
    close(len(lines))
    # Timed turns end where the next one starts.
    out = []
    for k, turn in enumerate(turns):
        nxt = turns[k + 1] if k + 1 < len(turns) else None
        if turn.start_seconds is not None and nxt and nxt.start_seconds is not None:
            turn = replace(turn, end_seconds=nxt.start_seconds)
        out.append(turn)
    return out


# --------------------------------------------------------------------------- VTT / SRT

_CUE_TIMING = re.compile(rf"^[ \t]*(?P<start>{_TIME})[ \t]+-->[ \t]+(?P<end>{_TIME})(?:[ \t].*)?$")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?[ \t]+([^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>")
_PREFIX_SPEAKER = re.compile(rf"^(?:-[ \t]*)?({_LABEL}):[ \t]+")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": "\u00a0", "&lrm;": "", "&rlm;": ""}


def _cue_text(payload: list[str]) -> tuple[str | None, str]:
    joined = " ".join(p.strip() for p in payload if p.strip())
    speaker = None
    m = _VOICE.search(joined)
    if m:
        speaker = m.group(1).strip()
    text = _TAG.sub("", joined)
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    text = " ".join(text.split())
    if speaker is None:
        pm = _PREFIX_SPEAKER.match(text)
        if pm:
            speaker = pm.group(1)
            text = text[pm.end() :]
    return speaker, text


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks with the (1-based) line number each starts on."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 1
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            if not current:
                start = n
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def parse_cues(text: str, filename: str, fmt: str) -> tuple[str, list[Turn]]:
    """VTT or SRT cues to transcript text ("Speaker: words" per cue) and timed turns."""
    blocks = _blocks(text)
    if fmt == "vtt":
        if not blocks or not re.match(r"^WEBVTT(?:[ \t].*)?$", blocks[0][1][0]):
            raise DocumentError(filename, "line 1", "a WebVTT file must start with WEBVTT")
        blocks = blocks[1:]
    out: list[str] = []
    turns: list[Turn] = []
    pos = 0
    for line_no, lines in blocks:
        first = lines[0].strip()
        if fmt == "vtt" and re.match(r"^(?:NOTE|STYLE|REGION)(?:[ \t]|$)", first):
            continue
        timing_at = next((k for k, ln in enumerate(lines[:3]) if "-->" in ln), None)
        if timing_at is None:
            raise DocumentError(
                filename,
                f"line {line_no}",
                "cue without a timing line (00:00:01.000 --> 00:00:04.000)",
            )
        m = _CUE_TIMING.match(lines[timing_at])
        if not m:
            raise DocumentError(
                filename,
                f"line {line_no + timing_at}",
                f"cannot read the cue timing {lines[timing_at].strip()!r}",
            )
        start, end = parse_seconds(m.group("start")), parse_seconds(m.group("end"))
        if end < start:
            raise DocumentError(
                filename, f"line {line_no + timing_at}", "the cue ends before it starts"
            )
        speaker, words = _cue_text(lines[timing_at + 1 :])
        if not words:
            continue
        prefix = f"{speaker}: " if speaker else ""
        line = prefix + words
        turns.append(Turn(speaker or "", start, end, pos + len(prefix), pos + len(line)))
        out.append(line)
        pos += len(line) + 1
    return "\n".join(out), turns


# --------------------------------------------------------------------------- zip archives


def _safe_zip(data: bytes, filename: str, required: tuple[str, ...]) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise DocumentError(filename, "", f"is not a valid Office zip archive ({exc})") from exc
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise DocumentError(filename, "", f"has {len(infos)} parts (limit {MAX_ENTRIES})")
    total = 0
    for info in infos:
        name = info.filename
        path = PurePosixPath(name)
        if (
            name.startswith(("/", "\\"))
            or "\\" in name
            or ".." in path.parts
            or re.match(r"^[A-Za-z]:", name)
            or "\x00" in name
        ):
            raise DocumentError(filename, name, "unsafe path inside the archive")
        if info.flag_bits & 0x1:
            raise DocumentError(filename, name, "is encrypted inside the archive")
        total += info.file_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise DocumentError(
                filename,
                name,
                f"unpacks to more than {MAX_UNCOMPRESSED_BYTES // 2**20} MiB (a zip bomb?)",
            )
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise DocumentError(
                filename, name, f"compression ratio over {MAX_RATIO}:1 (a zip bomb?)"
            )
    names = set(archive.namelist())
    for part in required:
        if part not in names:
            raise DocumentError(filename, part, "is missing: not a valid document")
    return archive


def _read_part(archive: zipfile.ZipFile, name: str, filename: str) -> bytes:
    info = archive.getinfo(name)
    limit = min(info.file_size, MAX_UNCOMPRESSED_BYTES)
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        raise DocumentError(filename, name, f"cannot be decompressed ({exc})") from exc
    if len(data) > limit:
        raise DocumentError(filename, name, "is larger than its header says (a zip bomb?)")
    return data


def _parse_xml(data: bytes, filename: str, part: str) -> Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise DocumentError(filename, part, f"refused: {exc}") from exc
    except ParseError as exc:
        line, column = exc.position
        raise DocumentError(
            filename, f"{part} line {line} column {column}", "is not well-formed XML"
        ) from exc


# --------------------------------------------------------------------------- DOCX

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"


def _docx_text(root: Element) -> str:
    body = root.find(f"{_W}body")
    if body is None:
        return ""
    lines: list[str] = []
    _docx_block(body, lines)
    return "\n".join(lines)


def _docx_block(parent: Element, lines: list[str]) -> None:
    for child in parent:
        tag = child.tag
        if tag == f"{_W}p":
            lines.append(_docx_runs(child))
        elif tag == f"{_W}tbl":
            for row in child.iter(f"{_W}tr"):
                cells = []
                for cell in row.findall(f"{_W}tc"):
                    cell_lines: list[str] = []
                    _docx_block(cell, cell_lines)
                    cells.append(" ".join(x for x in cell_lines if x))
                lines.append("\t".join(cells))
        elif tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}ins"):
            _docx_block(child, lines)


def _docx_runs(paragraph: Element) -> str:
    parts: list[str] = []

    def walk(el: Element) -> None:
        for child in el:
            tag = child.tag
            if tag in (
                f"{_W}del",
                f"{_W}instrText",
                f"{_W}delText",
                f"{_MC}Fallback",
                f"{_W}pPr",
                f"{_W}rPr",
                f"{_W}footnoteReference",
                f"{_W}commentReference",
            ):
                continue
            if tag == f"{_W}t":
                parts.append(child.text or "")
            elif tag == f"{_W}tab":
                parts.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
            elif tag == f"{_W}noBreakHyphen":
                parts.append("-")
            elif tag == f"{_W}softHyphen":
                continue
            elif tag == f"{_W}txbxContent":
                inner: list[str] = []
                _docx_block(child, inner)
                parts.append(" ".join(inner))
            else:
                walk(child)

    walk(paragraph)
    return "".join(parts)


# --------------------------------------------------------------------------- ODT

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _odt_text(root: Element) -> str:
    body = root.find(f"{_OFFICE}body")
    text_el = body.find(f"{_OFFICE}text") if body is not None else None
    if text_el is None:
        return ""
    lines: list[str] = []
    _odt_block(text_el, lines)
    return "\n".join(lines)


def _odt_block(parent: Element, lines: list[str]) -> None:
    for child in parent:
        tag = child.tag
        if tag in (f"{_TEXT}p", f"{_TEXT}h"):
            lines.append(_odt_inline(child))
        elif tag == f"{_TABLE}table":
            for row in child.iter(f"{_TABLE}table-row"):
                cells = []
                for cell in row.findall(f"{_TABLE}table-cell"):
                    cell_lines: list[str] = []
                    _odt_block(cell, cell_lines)
                    cells.append(" ".join(x for x in cell_lines if x))
                lines.append("\t".join(cells))
        elif tag in (
            f"{_TEXT}tracked-changes",
            f"{_OFFICE}annotation",
            f"{_TEXT}sequence-decls",
            f"{_TEXT}variable-decls",
        ):
            continue
        else:
            _odt_block(child, lines)  # lists, list items, sections


def _odt_inline(el: Element) -> str:
    parts: list[str] = [el.text or ""]
    for child in el:
        tag = child.tag
        if tag == f"{_TEXT}s":
            parts.append(" " * int(child.get(f"{_TEXT}c", "1")))
        elif tag == f"{_TEXT}tab":
            parts.append("\t")
        elif tag == f"{_TEXT}line-break":
            parts.append("\n")
        elif tag in (
            f"{_TEXT}note",
            f"{_OFFICE}annotation",
            f"{_OFFICE}annotation-end",
            f"{_TEXT}change-start",
            f"{_TEXT}change-end",
            f"{_TEXT}change",
        ):
            pass
        else:
            parts.append(_odt_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


# --------------------------------------------------------------------------- PDF


def _pdf_text(data: bytes, filename: str) -> tuple[str, list[str]]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError, PyPdfError
    except ImportError as exc:  # pragma: no cover - pypdf is a dependency
        raise DocumentError(filename, "", "reading PDFs needs the pypdf package") from exc
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except (PdfReadError, PyPdfError, ValueError, KeyError, OSError) as exc:
        raise DocumentError(filename, "", f"is not a readable PDF ({exc})") from exc
    if reader.is_encrypted:
        raise DocumentError(
            filename,
            "",
            "is an encrypted (password-protected) PDF; remove the protection and upload it again",
        )
    warnings: list[str] = []
    pages = []
    try:
        count = len(reader.pages)
    except (PdfReadError, PyPdfError, ValueError, KeyError) as exc:
        raise DocumentError(filename, "", f"page tree cannot be read ({exc})") from exc
    if count > MAX_PDF_PAGES:
        raise DocumentError(filename, "", f"has {count} pages (limit {MAX_PDF_PAGES})")
    for n in range(count):
        try:
            pages.append(reader.pages[n].extract_text() or "")
        except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:
            raise DocumentError(filename, f"page {n + 1}", f"text cannot be read ({exc})") from exc
    empty = [str(n + 1) for n, p in enumerate(pages) if not p.strip()]
    if empty and len(empty) == len(pages):
        warnings.append("no text layer: a scanned PDF needs OCR before it can be used")
    elif empty:
        warnings.append(f"pages without text: {', '.join(empty)}")
    return "\n\n".join(p.strip("\n") for p in pages), warnings


# --------------------------------------------------------------------------- entry points


def detect_format(data: bytes, filename: str) -> str:
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    fmt = _EXTENSIONS.get(suffix)
    if fmt is None:
        raise DocumentError(
            filename,
            "",
            f"unsupported file type {suffix or '(none)'!r}; use " + ", ".join(sorted(_EXTENSIONS)),
        )
    is_zip = data.startswith(b"PK\x03\x04")
    if fmt in ("docx", "odt") and not is_zip:
        raise DocumentError(filename, "", f"is named .{fmt} but is not a zip archive")
    if fmt == "pdf" and not data.lstrip()[:5].startswith(b"%PDF-"):
        raise DocumentError(filename, "", "is named .pdf but does not start with %PDF-")
    if fmt in ("txt", "vtt", "srt") and (is_zip or data.startswith(b"%PDF-")):
        raise DocumentError(filename, "", f"is named .{fmt} but is a binary document")
    return fmt


def extract_text(data: bytes, filename: str) -> Document:
    """Read a transcript file; see the module's docstring for what is kept."""
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(filename, "", f"is larger than {MAX_FILE_BYTES // 2**20} MiB")
    fmt = detect_format(data, filename)
    warnings: list[str] = []
    encoding: str | None = None
    turns: list[Turn]
    if fmt in ("txt", "vtt", "srt"):
        raw, encoding = decode_text(data, filename)
        text = normalise_text(raw)
        if fmt == "txt":
            turns = find_label_turns(text)
        else:
            text, turns = parse_cues(text, filename, fmt)
            text = normalise_text(text)
    elif fmt == "docx":
        archive = _safe_zip(data, filename, ("word/document.xml",))
        names = archive.namelist()
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            warnings.append("contains macros; they were neither read nor run")
        root = _parse_xml(
            _read_part(archive, "word/document.xml", filename), filename, "word/document.xml"
        )
        text = normalise_text(_docx_text(root))
        turns = find_label_turns(text)
    elif fmt == "odt":
        archive = _safe_zip(data, filename, ("content.xml",))
        if "mimetype" in archive.namelist():
            mime = _read_part(archive, "mimetype", filename).decode("ascii", "replace").strip()
            if mime != "application/vnd.oasis.opendocument.text":
                raise DocumentError(filename, "mimetype", f"is {mime!r}, not an ODF text document")
        if any(n.startswith("Basic/") or n.startswith("Scripts/") for n in archive.namelist()):
            warnings.append("contains macros; they were neither read nor run")
        root = _parse_xml(_read_part(archive, "content.xml", filename), filename, "content.xml")
        text = normalise_text(_odt_text(root))
        turns = find_label_turns(text)
    else:
        raw_text, warnings = _pdf_text(data, filename)
        text = normalise_text(raw_text)
        turns = find_label_turns(text)
    return Document(
        filename=filename,
        format=fmt,
        text=text,
        original=data,
        encoding=encoding,
        turns=turns,
        warnings=warnings,
    )


def speakers(document: Document) -> list[str]:
    """Speaker labels in order of first appearance."""
    seen: dict[str, None] = {}
    for turn in document.turns:
        if turn.speaker:
            seen.setdefault(turn.speaker, None)
    return list(seen)


def map_speakers(document: Document, mapping: Mapping[str, str]) -> Document:
    """A copy whose turns carry the participant each label stands for.

    ``mapping``: label → participant (a staff pseudonym such as ``EL-S03``). A label not in
    the transcript is an error (a typo would otherwise silently leave a turn unmapped);
    labels left out stay unmapped (``participant`` None).
    """
    known = set(speakers(document))
    unknown = [label for label in mapping if label not in known]
    if unknown:
        raise DocumentError(
            document.filename,
            "speaker labels",
            f"not in this transcript: {', '.join(unknown)} (labels: {', '.join(sorted(known))})",
        )
    targets = [p for p in mapping.values() if p]
    duplicates = sorted({p for p in targets if targets.count(p) > 1})
    if duplicates:
        raise DocumentError(
            document.filename,
            "speaker labels",
            f"two labels mapped to the same participant: {', '.join(duplicates)}",
        )
    turns = [replace(t, participant=mapping.get(t.speaker)) for t in document.turns]
    return replace(document, turns=turns, speaker_map=dict(mapping))


def _vtt_time(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def captions_vtt(text: str, turns: list[dict[str, Any]]) -> str:
    """A WebVTT captions file from a transcript's timed turns (positions into ``text``).

    A turn without an end time lasts until the next turn starts (or five seconds if last).
    Cue text never contains "-->" or blank lines, which would break the cue.
    """
    timed = [t for t in turns if t.get("start_seconds") is not None]
    timed.sort(key=lambda t: (float(t["start_seconds"]), int(t.get("start_char") or 0)))
    cues = ["WEBVTT", ""]
    for number, turn in enumerate(timed, start=1):
        start = float(turn["start_seconds"])
        end = turn.get("end_seconds")
        if end is None or float(end) <= start:
            following = timed[number]["start_seconds"] if number < len(timed) else None
            end = float(following) if following is not None and following > start else start + 5
        words = text[int(turn.get("start_char") or 0) : int(turn.get("end_char") or 0)]
        words = re.sub(r"\n\s*\n+", "\n", words.replace("-->", "->")).strip()
        if not words:
            continue
        cues += [str(number), f"{_vtt_time(start)} --> {_vtt_time(float(end))}", words, ""]
    return "\n".join(cues)

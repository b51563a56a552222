"""RIS, as written by PubMed, Ovid, EBSCO, Scopus, Web of Science, Embase and ProQuest.

Why not ``rispy``: it was tried (0.10.0). It reports no line numbers, silently skips tag
lines that come before a ``TY`` line, silently drops a last record that has no ``ER``, and
leaves the vendors' quirks (below) to the caller. The format is small, so this module
reads it line by line itself, in one linear pass, and says where a file is broken.

The grammar read here: a tag line is two characters (a capital letter, then a capital or a
digit), one or two spaces (or a tab), a hyphen, and the value after one optional space
(``"TY  - JOUR"``, ``"ER  -"``, ``"TY - JOUR"``). A record runs from ``TY`` to ``ER``. A
line inside a record that is not a tag line continues the previous field (EBSCO and
Ovid wrap long abstracts). Between records, blank lines, Ovid's record numbers
(``"1. "``, ``"<1. >"``) and header text (``"Provider: ..."``) are skipped; other stray text
is skipped with a warning. Malformed input raises
:class:`~steppingstones.evidence.references.records.ReferenceFormatError` naming the line:
an ``ER`` with no ``TY`` before it, a ``TY`` inside an open record, a file that ends inside
a record, tag lines outside any record.

Vendor quirks handled (where each field is looked for, first found wins):

* Title: ``TI``, ``T1`` (Ovid, Embase, EBSCO, ProQuest), ``CT``, then ``BT`` (book title).
* Authors: ``AF`` (Web of Science full names) if present, else ``AU`` and ``A1`` lines in
  file order. Embase's ``"Lucas J.S."`` and MEDLINE's ``"Smith JA"`` become
  ``"Lucas, J.S."`` / ``"Smith, JA"``. Editors (``A2``, ``ED``) are not authors.
* Abstract: ``AB``, else ``N2`` (Ovid, Embase and EBSCO put the abstract in ``N2``).
* Year: ``PY``, ``Y1``, ``DA`` (``"2020"``, ``"2020///"``, ``"2020/03//"``); never ``Y2``,
  which ProQuest uses for the date the record was exported, nor ``DA`` in Web of Science
  records (``AN  - WOS:...``), where it is the export date too.
* Journal: ``JF``, ``JO``, ``T2`` (Scopus, Web of Science, ProQuest: the source title; for
  a chapter or paper, the book or proceedings; not for a whole book, where it is the
  series); abbreviation ``JA``, ``J2``, ``JI``, ``J1``, ``J9``.
* Pages: ``SP`` and ``EP`` joined; ProQuest and Ovid give the whole range in ``SP``;
  without pages, the article number in ``C7`` (Scopus, Web of Science).
  Issue: ``IS``, else ``M1`` for journal articles where it is a number.
* DOI: ``DO`` (Ovid Embase writes ``http://dx.doi.org/10...`` there), ``DI``, then a
  DOI-shaped ``M3``; failing those, a DOI resolver URL in ``UR``/``L2``/``L1``/``LK``
  (Ovid's ``"UR  - https://dx.doi.org/10..."``, Embase's ``L2``).
* PMID: ``PM``; ``AN`` when the database (``DB``/``DP``) is PubMed or MEDLINE (PubMed's own
  RIS, Ovid MEDLINE, EBSCO MEDLINE); ``C5`` in Embase records, ``C2`` in Scopus records
  (where those databases write the PubMed ID); ``"PMID: 123"`` / ``"PubMed ID: 123"`` in a
  note (``N1``, ``U1``-``U5``, ``M2``; EBSCO CINAHL writes ``"U2  - PMID: 123."``); a
  PubMed URL. An ``AN`` from any other database (Embase, CINAHL, ProQuest, Web of Science)
  is that database's accession number, not a PMID.
* Keywords: ``KW`` lines; a line holding several terms separated by ``;`` is split.
* Type: ``TY`` mapped (``JOUR``, ``JFULL``, ``MGZN``, ``NEWS``, ``EJOUR``, ``INPR``, ``ABST``
  -> journal-article, ``BOOK``/``EBOOK``/``EDBOOK`` -> book, ``CHAP``/``ECHAP`` -> chapter,
  ``CONF``/``CPAPER`` -> conference, ``RPRT``/``GOVDOC``/``STAND`` -> report, ``THES`` ->
  thesis, ``ELEC``/``WEB``/``BLOG``/``ICOMM`` -> web, anything else -> other).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._context import Draft, ParseContext
from .normalise import find_doi, find_pmid_in_note, find_pmid_in_url, is_doi_url
from .records import Reference

FORMAT = "ris"

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])[ \t]{1,2}-(?:[ \t](.*)|[ \t]*)$")
_RECORD_NUMBER = re.compile(r"^\s*<?\s*\d+\s*\.?\s*>?\s*$")
_COUNT_ER = re.compile(r"^ER[ \t]{1,2}-", re.MULTILINE)
_MAX_STRAY_WARNINGS = 5

TYPES: dict[str, str] = {
    **dict.fromkeys(("JOUR", "JFULL", "MGZN", "NEWS", "EJOUR", "INPR", "ABST"), "journal-article"),
    **dict.fromkeys(("BOOK", "EBOOK", "EDBOOK", "WHOLE"), "book"),
    **dict.fromkeys(("CHAP", "ECHAP"), "chapter"),
    **dict.fromkeys(("CONF", "CPAPER"), "conference"),
    **dict.fromkeys(("RPRT", "GOVDOC", "STAND"), "report"),
    "THES": "thesis",
    **dict.fromkeys(("ELEC", "WEB", "BLOG", "ICOMM"), "web"),
}

_NOTE_TAGS = ("N1", "U1", "U2", "U3", "U4", "U5", "M2")
_URL_TAGS = ("UR", "L2", "LK", "L1")


def estimate_total(text: str) -> int | None:
    """Number of ``ER`` lines: the record count of a well-formed file."""
    return len(_COUNT_ER.findall(text))


def split_lines(text: str) -> list[str]:
    """Lines of ``text``, ``\\r\\n`` and ``\\r`` line ends included, numbered from 0."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def iter_records(text: str, ctx: ParseContext) -> Iterator[Reference]:
    """Parse RIS ``text``, yielding each record as soon as its ``ER`` line is read."""
    fields: list[list[str]] | None = None  # [tag, value] pairs of the open record
    start = 0
    number = 0
    stray_tag_line: int | None = None
    stray_tag = ""
    stray_text = 0
    tag_line = _TAG_LINE.match

    for index, line in enumerate(split_lines(text)):
        lineno = index + 1
        match = tag_line(line)
        if match is not None:
            tag = match.group(1)
            value = (match.group(2) or "").strip()
            if tag == "TY":
                if fields is not None:
                    raise ctx.error(
                        f"a new record (TY) starts before the record that began on line "
                        f"{start} was closed with ER",
                        line=lineno,
                    )
                if stray_tag_line is not None:
                    raise _stray_error(ctx, stray_tag, stray_tag_line)
                fields = [["TY", value]]
                start = lineno
                number += 1
            elif tag == "ER":
                if fields is None:
                    raise ctx.error("record has no TY line before ER", line=lineno)
                yield build(fields, number, start, ctx)
                fields = None
            elif fields is None:
                if stray_tag_line is None:
                    stray_tag_line, stray_tag = lineno, tag
            else:
                fields.append([tag, value])
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if fields is not None:
            last = fields[-1]
            last[1] = f"{last[1]} {stripped}" if last[1] else stripped
        elif _RECORD_NUMBER.match(line) or (number == 0 and ":" in line):
            continue  # Ovid's "1. " record numbers; a "Provider: ..." header
        else:
            stray_text += 1
            if stray_text <= _MAX_STRAY_WARNINGS:
                ctx.warn("text outside a record ignored", line=lineno)

    if fields is not None:
        raise ctx.error(
            f"the file ends inside record {number}, which began on line {start} and has no "
            "ER line (is the file complete?)",
            line=start,
        )
    if stray_tag_line is not None:
        raise _stray_error(ctx, stray_tag, stray_tag_line)
    if stray_text > _MAX_STRAY_WARNINGS:
        ctx.warn(f"{stray_text - _MAX_STRAY_WARNINGS} more lines of text outside records ignored")
    if number == 0 and text.strip():
        raise ctx.error("no RIS records found (no 'TY  - ' line)")


def _stray_error(ctx: ParseContext, tag: str, line: int) -> Exception:
    return ctx.error(f"{tag} line outside a record (no TY line before it)", line=line)


def build(fields: list[list[str]], number: int, line: int, ctx: ParseContext) -> Reference:
    """Turn one record's ``[tag, value]`` pairs into a :class:`Reference`."""
    tags: dict[str, list[str]] = {}
    for tag, value in fields:
        if value:
            tags.setdefault(tag, []).append(value)

    def first(*names: str) -> str | None:
        for name in names:
            values = tags.get(name)
            if values:
                return values[0]
        return None

    def joined(name: str) -> str | None:
        values = tags.get(name)
        return " ".join(values) if values else None

    raw_type = first("TY") or ""
    kind = TYPES.get(raw_type.upper(), "other")
    draft = Draft(record=number, line=line, type=kind, source_type=raw_type or None)

    draft.title = first("TI", "T1", "CT") or first("BT")
    if "AF" in tags:
        draft.authors = list(tags["AF"])
    else:
        draft.authors = [value for tag, value in fields if tag in ("AU", "A1") and value]
    draft.abstract = joined("AB") or joined("N2")
    is_wos = (first("AN") or "").upper().startswith("WOS:")
    # Web of Science writes the export date in DA: never a publication year there.
    draft.year = first("PY", "Y1") if is_wos else first("PY", "Y1", "DA")
    # For a whole book, T2 is its series, not a container the record sits in.
    draft.journal = first("JF", "JO") if kind == "book" else first("JF", "JO", "T2")
    draft.journal_abbrev = first("JA", "J2", "JI", "J1", "J9")
    draft.volume = first("VL")
    draft.issue = first("IS")
    if draft.issue is None and kind == "journal-article":
        m1 = first("M1")
        if m1 and m1.isdigit():
            draft.issue = m1
    draft.start_page = first("SP")
    draft.end_page = first("EP")
    if draft.start_page is None and draft.end_page is None:
        draft.start_page = first("C7")  # the article number (Scopus, Web of Science)
    draft.language = first("LA")

    urls = [value for name in _URL_TAGS for value in tags.get(name, ())]
    draft.url = next((url for url in urls if not is_doi_url(url)), urls[0] if urls else None)

    doi = first("DO", "DI")
    if doi is None:
        m3 = first("M3")
        if m3 and find_doi(m3) and (m3.startswith("10.") or "doi" in m3.lower()):
            doi = m3
    if doi is None:
        doi = next((found for url in urls if is_doi_url(url) and (found := find_doi(url))), None)
    draft.doi = doi

    draft.pmid = _pmid(tags, urls)

    keywords: list[str] = []
    for value in tags.get("KW", ()):
        keywords.extend(value.split(";") if ";" in value else [value])
    draft.keywords = keywords
    return ctx.finish(draft)


def _pmid(tags: dict[str, list[str]], urls: list[str]) -> str | None:
    if tags.get("PM"):
        return tags["PM"][0]
    database = " ".join(tags.get("DB", []) + tags.get("DP", [])).lower()
    accession = (tags.get("AN") or [""])[0].strip()
    if accession.isdigit() and ("pubmed" in database or "medline" in database):
        return accession
    is_embase = (
        "embase" in database
        or any(value.startswith("L") and value[1:].isdigit() for value in tags.get("U2", []))
        or any("embase" in url.lower() for url in urls)
    )
    if is_embase and tags.get("C5") and tags["C5"][0].strip().isdigit():
        return tags["C5"][0]
    if "scopus" in database and tags.get("C2") and tags["C2"][0].strip().isdigit():
        return tags["C2"][0]
    for name in (*_NOTE_TAGS, "AN"):
        for value in tags.get(name, ()):
            found = find_pmid_in_note(value)
            if found:
                return found
    for url in urls:
        found = find_pmid_in_url(url)
        if found:
            return found
    return None

"""Write references out again: RIS, BibTeX and a spreadsheet-safe CSV.

Each writer takes an iterable of :class:`~.records.Reference` records or of mappings with
the same keys (``Reference.to_dict()`` plus, for CSV, any extra columns such as a screening
decision), writes to an open text handle and returns the number of records written::

    with open("included.ris", "w", encoding="utf-8", newline="") as handle:
        write_ris(references, handle)

    rows = [{**ref.to_dict(), "decision": "exclude", "reason": "wrong population"} ...]
    write_csv(rows, handle, extra_columns=("decision", "reason"))

In a mapping, ``authors`` and ``keywords`` may be lists or ``;``-separated text; missing keys
are empty. Everything written reads back through
:func:`~steppingstones.evidence.references.parse` with the same title, authors, year,
journal, volume, issue, pages, DOI, PMID and keywords (the tests check this), with the
limits named below.

RIS (one tag per line, records ended by ``ER``; lines end in ``\\n``, so open the file with
``newline="\\r\\n"`` for the specification's CRLF): ``TY`` from the record type (see
:data:`RIS_TYPES`), ``AU`` per author, ``TI``, the journal or container title in ``T2``
(``JO`` for a whole book, where ``T2`` would mean its series), ``J2`` for the
abbreviation, ``PY``, ``VL``, ``IS``, ``SP``/``EP`` split from the page range (a single page
or article number goes in ``SP``), ``AB``, ``KW`` per keyword, ``DO``, ``UR``, ``LA``, and
the PMID as the note ``N1  - PMID: 123`` (RIS has no PMID tag; a ``PMID:`` note is how
several databases carry it and where the project's parser finds it, while ``AN`` with
``DB  - PubMed`` would claim that the record came from PubMed). Values are written on one
line: runs of whitespace (the line breaks of a multi-paragraph abstract included) become
one space, so no value can start a new tag line. A keyword holding ``;`` comes back as two keywords.

BibTeX (UTF-8, for biblatex/biber or a UTF-8 BibTeX): a unique key per entry from the first
author's surname (ASCII letters and digits), the year (``nd`` without one) and a letter:
``garcia2019a``, ``garcia2019b``. Entry types: see :data:`BIBTEX_TYPES` (``thesis`` and
``online`` are biblatex types; classic BibTeX styles print them as ``misc``). Text fields
are escaped: ``& % $ # _`` get a backslash, ``~`` and ``^`` and ``\\`` become
``\\textasciitilde{}``, ``\\^{}`` and ``\\textbackslash{}``, braces that pair up become
``\\{``/``\\}`` and a lone brace ``\\textbraceleft{}``/``\\textbraceright{}`` (BibTeX needs
the braces in a value to balance); non-ASCII letters are kept as they are. Words of a title
with a capital after their first letter (``HIV``, ``COVID-19``, ``McDonald``) are braced so
that styles do not lower-case them. DOIs and URLs are written verbatim (biblatex reads them
so), with any brace percent-encoded. Authors are joined with ``and``: ``"Surname, Given"`` as
it is, a name without a comma (a corporate author) in braces, ``"Surname, Given, Jr"`` as
BibTeX's ``Surname, Jr, Given``. Keywords are joined with ``"; "``. Values are written on one
line. Not read back exactly by the project's parser: a backslash and a lone brace (their
LaTeX commands stay as text) and ``--`` (read as an en dash).

CSV: the columns :data:`CSV_COLUMNS` then the extra columns, written with
:func:`steppingstones.core.exports.write_csv`, so a cell that a spreadsheet would run as a
formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@`` ...) starts with an apostrophe. Authors
and keywords are joined with ``"; "``. Open the handle with ``newline=""``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

from steppingstones.core import exports

from .records import Reference

RIS_TYPES: dict[str, str] = {
    "journal-article": "JOUR",
    "book": "BOOK",
    "chapter": "CHAP",
    "conference": "CPAPER",
    "report": "RPRT",
    "thesis": "THES",
    "web": "ELEC",
    "other": "GEN",
}
"""Our record type -> the RIS ``TY`` value (anything else is written as ``GEN``)."""

BIBTEX_TYPES: dict[str, str] = {
    "journal-article": "article",
    "book": "book",
    "chapter": "incollection",
    "conference": "inproceedings",
    "report": "techreport",
    "thesis": "thesis",
    "web": "online",
    "other": "misc",
}
"""Our record type -> the BibTeX entry type (anything else is written as ``misc``)."""

CSV_COLUMNS: tuple[str, ...] = (
    "title",
    "abstract",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "keywords",
    "type",
    "url",
)
"""The CSV columns, in order, before any extra columns."""

ReferenceLike = Reference | Mapping[str, Any]
"""What the writers take: a :class:`Reference`, or a mapping with its keys."""

_WS = re.compile(r"\s+")
# The page-range dashes the parsers accept (normalise_pages): hyphens, en/em dashes, minus.
_PAGE_DASH = re.compile(r"\s*(?:-{1,3}|[\u2010-\u2015\u2212])\s*")
_AND = re.compile(r"\band\b", re.IGNORECASE)
# A word with a capital letter after its first character: HIV, COVID-19, McDonald, mHealth.
_CASED_WORD = re.compile(r"(?<![\w\\])[^\W_]+(?:[-'’][^\W_]+)*")
_KEY_CHARS = re.compile(r"[^A-Za-z0-9]")
# Letters that Unicode does not decompose into an ASCII letter plus an accent.
_KEY_LETTERS = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
     "ß": "ss", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "\u0131": "i"}
)  # fmt: skip


# --- shared ------------------------------------------------------------------------------


def _fields(record: ReferenceLike) -> dict[str, Any]:
    if isinstance(record, Reference):
        return record.to_dict()
    if isinstance(record, Mapping):
        return dict(record)
    raise TypeError(f"expected a Reference or a mapping, not {type(record).__name__}")


def _line(value: Any) -> str | None:
    """The value as one line of text (whitespace runs collapsed); ``None`` if empty."""
    if value is None:
        return None
    text = _WS.sub(" ", str(value)).strip()
    return text or None


def _items(value: Any) -> list[str]:
    """Authors or keywords as a list: from a list, or from ``;``-separated text."""
    if value is None:
        return []
    parts = value.split(";") if isinstance(value, str) else value
    return [text for part in parts if (text := _line(part))]


def _split_pages(pages: str) -> tuple[str, str | None]:
    """``"100-110"`` -> ``("100", "110")``; a single page, an article number or a list of
    ranges stays whole."""
    if "," not in pages and ";" not in pages:
        parts = _PAGE_DASH.split(pages)
        if len(parts) == 2 and parts[0] and parts[1]:
            return parts[0], parts[1]
    return pages, None


# --- RIS ---------------------------------------------------------------------------------


def _ris_tags(fields: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    kind = _line(fields.get("type")) or "other"
    yield "TY", RIS_TYPES.get(kind, "GEN")
    for author in _items(fields.get("authors")):
        yield "AU", author
    yield "TI", _line(fields.get("title"))
    yield ("JO" if kind == "book" else "T2"), _line(fields.get("journal"))
    yield "J2", _line(fields.get("journal_abbrev"))
    yield "PY", _line(fields.get("year"))
    yield "VL", _line(fields.get("volume"))
    yield "IS", _line(fields.get("issue"))
    pages = _line(fields.get("pages"))
    if pages:
        start, end = _split_pages(pages)
        yield "SP", start
        yield "EP", end
    yield "AB", _line(fields.get("abstract"))
    for keyword in _items(fields.get("keywords")):
        yield "KW", keyword
    yield "DO", _line(fields.get("doi"))
    yield "UR", _line(fields.get("url"))
    yield "LA", _line(fields.get("language"))
    pmid = _line(fields.get("pmid"))
    yield "N1", f"PMID: {pmid}" if pmid else None


def write_ris(references: Iterable[ReferenceLike], handle: IO[str]) -> int:
    """Write ``references`` to ``handle`` as RIS; return the number of records written."""
    count = 0
    for record in references:
        lines = [f"{tag}  - {value}\n" for tag, value in _ris_tags(_fields(record)) if value]
        handle.write("".join(lines) + "ER  - \n\n")
        count += 1
    return count


# --- BibTeX ------------------------------------------------------------------------------


def _paired_braces(text: str) -> set[int]:
    """Positions of the braces in ``text`` that pair up with another."""
    paired: set[int] = set()
    opened: list[int] = []
    for index, char in enumerate(text):
        if char == "{":
            opened.append(index)
        elif char == "}" and opened:
            paired.add(opened.pop())
            paired.add(index)
    return paired


_LATEX_SPECIALS = {
    "\\": "\\textbackslash{}",
    "&": "\\&",
    "%": "\\%",
    "$": "\\$",
    "#": "\\#",
    "_": "\\_",
    "~": "\\textasciitilde{}",
    "^": "\\^{}",
}


def latex_escape(text: str) -> str:
    """``text`` with the characters special to LaTeX and BibTeX escaped (see the module
    docstring); whitespace runs become one space."""
    text = _WS.sub(" ", text).strip()
    paired = _paired_braces(text) if "{" in text or "}" in text else set()
    out: list[str] = []
    for index, char in enumerate(text):
        if char == "{":
            out.append("\\{" if index in paired else "\\textbraceleft{}")
        elif char == "}":
            out.append("\\}" if index in paired else "\\textbraceright{}")
        else:
            out.append(_LATEX_SPECIALS.get(char, char))
    return "".join(out)


def _protect_case(escaped: str) -> str:
    def brace(match: re.Match[str]) -> str:
        word = match.group(0)
        return f"{{{word}}}" if any(char.isupper() for char in word[1:]) else word

    return _CASED_WORD.sub(brace, escaped)


def _verbatim(value: str) -> str:
    # DOIs and URLs are verbatim fields; only the braces BibTeX would count are encoded.
    return value.replace("{", "%7B").replace("}", "%7D")


def _bibtex_name(name: str) -> str:
    def part(text: str) -> str:
        escaped = latex_escape(text)
        return f"{{{escaped}}}" if _AND.search(text) else escaped

    pieces = [piece.strip() for piece in name.split(",")]
    if len(pieces) == 1:
        return f"{{{latex_escape(name)}}}"  # a corporate author: one name, never reordered
    if len(pieces) == 2:
        return f"{part(pieces[0])}, {part(pieces[1])}"
    # Ours: "Surname, Given, Jr"; BibTeX's: "Surname, Jr, Given".
    given = ", ".join(pieces[1:-1])
    return f"{part(pieces[0])}, {part(pieces[-1])}, {part(given)}"


def _key_letters(number: int) -> str:
    """0 -> ``a``, 25 -> ``z``, 26 -> ``aa`` ..."""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _key_base(fields: Mapping[str, Any]) -> str:
    authors = _items(fields.get("authors"))
    surname = authors[0].split(",")[0] if authors else ""
    folded = unicodedata.normalize("NFKD", surname.translate(_KEY_LETTERS))
    ascii_name = folded.encode("ascii", "ignore").decode()
    word = _KEY_CHARS.sub("", ascii_name).lower()[:20] or "anon"
    year = _line(fields.get("year"))
    return word + (_KEY_CHARS.sub("", year) if year else "nd")


def _bibtex_fields(fields: Mapping[str, Any], kind: str) -> Iterator[tuple[str, str | None]]:
    authors = _items(fields.get("authors"))
    yield "author", " and ".join(_bibtex_name(name) for name in authors) if authors else None
    title = _line(fields.get("title"))
    yield "title", _protect_case(latex_escape(title)) if title else None
    journal = _line(fields.get("journal"))
    container = "booktitle" if kind in ("chapter", "conference") else "journal"
    yield container, latex_escape(journal) if journal else None
    abbrev = _line(fields.get("journal_abbrev"))
    yield "shortjournal", latex_escape(abbrev) if abbrev else None
    for name, key in (("year", "year"), ("volume", "volume"), ("number", "issue")):
        value = _line(fields.get(key))
        yield name, latex_escape(value) if value else None
    pages = _line(fields.get("pages"))
    if pages:
        start, end = _split_pages(pages)
        pages = latex_escape(f"{start}--{end}" if end else start)
    yield "pages", pages
    doi = _line(fields.get("doi"))
    yield "doi", _verbatim(doi) if doi else None
    pmid = _line(fields.get("pmid"))
    yield "pmid", latex_escape(pmid) if pmid else None
    url = _line(fields.get("url"))
    yield "url", _verbatim(url) if url else None
    keywords = _items(fields.get("keywords"))
    joined = "; ".join(keywords)
    if len(keywords) == 1 and "," in joined:
        joined += ";"  # one keyword holding a comma: the ";" keeps it from being split there
    yield "keywords", latex_escape(joined) if keywords else None
    language = _line(fields.get("language"))
    yield "language", latex_escape(language) if language else None
    abstract = _line(fields.get("abstract"))
    yield "abstract", latex_escape(abstract) if abstract else None


def write_bibtex(references: Iterable[ReferenceLike], handle: IO[str]) -> int:
    """Write ``references`` to ``handle`` as BibTeX; return the number of entries written."""
    used: set[str] = set()
    next_letter: dict[str, int] = {}
    count = 0
    for record in references:
        fields = _fields(record)
        kind = _line(fields.get("type")) or "other"
        base = _key_base(fields)
        while True:
            number = next_letter.get(base, 0)
            next_letter[base] = number + 1
            key = base + _key_letters(number)
            if key not in used:
                used.add(key)
                break
        body = "".join(
            f"  {name} = {{{value}}},\n" for name, value in _bibtex_fields(fields, kind) if value
        )
        handle.write(f"@{BIBTEX_TYPES.get(kind, 'misc')}{{{key},\n{body}}}\n\n")
        count += 1
    return count


# --- CSV ---------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    return value


def write_csv(
    records: Iterable[ReferenceLike], handle: IO[str], extra_columns: Sequence[str] = ()
) -> int:
    """Write ``records`` as CSV: :data:`CSV_COLUMNS`, then ``extra_columns`` taken from each
    record's mapping (empty for a :class:`Reference`, or where a key is missing). Returns
    the number of rows written. Cells are made safe to open in a spreadsheet."""
    extras = [extra_columns] if isinstance(extra_columns, str) else list(extra_columns)
    clashes = sorted(set(extras) & set(CSV_COLUMNS))
    if clashes:
        raise ValueError(f"extra columns repeat standard ones: {', '.join(clashes)}")
    if len(set(extras)) != len(extras):
        raise ValueError("extra columns are named more than once")

    def rows() -> Iterator[list[Any]]:
        for record in records:
            fields = _fields(record)
            row = [_csv_cell(fields.get(column)) for column in CSV_COLUMNS]
            row[CSV_COLUMNS.index("authors")] = "; ".join(_items(fields.get("authors")))
            row[CSV_COLUMNS.index("keywords")] = "; ".join(_items(fields.get("keywords")))
            row.extend(_csv_cell(fields.get(column)) for column in extras)
            yield row

    return exports.write_csv(handle, [*CSV_COLUMNS, *extras], rows())


__all__ = [
    "BIBTEX_TYPES",
    "CSV_COLUMNS",
    "RIS_TYPES",
    "ReferenceLike",
    "latex_escape",
    "write_bibtex",
    "write_csv",
    "write_ris",
]

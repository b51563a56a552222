"""Comma-, semicolon- or tab-separated tables of references (Scopus, PubMed, Web of Science
tab-delimited, Zotero, spreadsheets), read through a column mapping.

The mapping goes from our field names (:data:`CSV_FIELDS`) to the file's column headers,
e.g. ``{"title": "Title", "authors": "Author full names", "year": "Year"}``. Without one,
:func:`guess_mapping` proposes it from the header row, knowing the headers of the common
exports. The delimiter is whichever of tab, ``;`` and ``,`` the header row uses most.
Rows are read with :mod:`csv` (quoted cells may span lines; ``source_line`` is the line a
row starts on).

Cells are read as: ``authors`` split with
:func:`~steppingstones.evidence.references.normalise.split_author_list` (``;``-separated,
or PubMed's comma-separated ``"Smith J, Doe A."``; Scopus author IDs in brackets dropped);
``keywords`` split on ``;``; ``pages`` as a range, or ``start_page``/``end_page`` columns
joined; ``type`` mapped from labels such as ``"Article"``, ``"Conference Paper"``,
``"Book Chapter"`` (``source_type`` keeps the label).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence

from ._context import Draft, ParseContext
from .normalise import split_author_list, type_from_label
from .records import Reference

FORMAT = "csv"

CSV_FIELDS: tuple[str, ...] = (
    "title",
    "abstract",
    "authors",
    "year",
    "journal",
    "journal_abbrev",
    "volume",
    "issue",
    "pages",
    "start_page",
    "end_page",
    "doi",
    "pmid",
    "keywords",
    "type",
    "url",
    "language",
)
"""Field names a CSV mapping may use (``start_page``/``end_page`` for split page columns)."""

# For each field, the headers of common exports, best first (compared case- and
# space-insensitively). Scopus: "Author full names", "Source title", "Abbreviated Source
# Title", "Page start"; Web of Science: "Article Title", "Source Title", "Publication Year",
# "Pubmed Id" and the tab-delimited export's tags (TI, AF, PY, SO ...); PubMed:
# "Journal/Book", "Publication Year"; Zotero: "Publication Title", "Item Type", "Manual Tags".
HEADER_GUESSES: dict[str, tuple[str, ...]] = {
    "title": ("title", "article title", "document title", "primary title", "ti"),
    "abstract": ("abstract", "abstract note", "ab"),
    "authors": (
        "author full names",
        "af",
        "authors",
        "author",
        "author(s)",
        "au",
        "author names",
    ),
    "year": ("publication year", "year", "py", "pub year", "year published", "publication date"),
    "journal": (
        "source title",
        "journal",
        "journal/book",
        "publication title",
        "journal title",
        "journal name",
        "so",
        "source",
    ),
    "journal_abbrev": (
        "abbreviated source title",
        "journal abbreviation",
        "journal iso abbreviation",
        "iso abbreviation",
        "ji",
        "j9",
    ),
    "volume": ("volume", "vol", "vl"),
    "issue": ("issue", "number", "no", "is"),
    "pages": ("pages", "page range", "pagination"),
    "start_page": ("page start", "start page", "first page", "bp"),
    "end_page": ("page end", "end page", "last page", "ep"),
    "doi": ("doi", "di", "digital object identifier"),
    "pmid": ("pmid", "pubmed id", "pm", "pubmed"),
    "keywords": ("author keywords", "keywords", "de", "manual tags", "index keywords"),
    "type": ("document type", "type", "item type", "publication type", "dt", "pt"),
    "url": ("url", "link", "links"),
    "language": ("language", "language of original document", "la"),
}

_SPACES = re.compile(r"\s+")


def _key(header: str) -> str:
    return _SPACES.sub(" ", header.replace("\ufeff", "")).strip().strip('"').lower()


def guess_mapping(headers: Sequence[str]) -> dict[str, str]:
    """Propose a mapping (our field -> the file's header) from a header row.

    Each header is used at most once; fields with no likely column are left out.
    ``guess_mapping(["Title", "Authors", "Year", "DOI"])`` ->
    ``{"title": "Title", "authors": "Authors", "year": "Year", "doi": "DOI"}``.
    """
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(_key(header), header)
    used: set[str] = set()
    mapping: dict[str, str] = {}
    for field, candidates in HEADER_GUESSES.items():
        for candidate in candidates:
            found = by_key.get(candidate)
            if found is not None and found not in used:
                mapping[field] = found
                used.add(found)
                break
    return mapping


def sniff_delimiter(header_line: str) -> str:
    """Tab, ``;`` or ``,``: whichever the header row holds most of (``,`` on a tie)."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", "\t", ";")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > counts[","] else ","


def estimate_total(text: str) -> int | None:
    return None


def iter_records(text: str, ctx: ParseContext) -> Iterator[Reference]:
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    try:
        headers = next(reader)
    except StopIteration:
        raise ctx.error("the file is empty") from None
    except csv.Error as exc:
        raise ctx.error(f"malformed CSV header: {exc}", line=1) from None
    headers = [header.replace("\ufeff", "").strip() for header in headers]
    columns = _resolve(headers, ctx)
    number = 0
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ctx.error(f"malformed CSV: {exc}", line=reader.line_num) from None
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        number += 1
        if len(row) != len(headers):
            ctx.warn(
                f"row has {len(row)} cells but the header has {len(headers)}",
                record=number,
                line=start,
            )
        values = {
            field: row[index].strip()
            for field, index in columns.items()
            if index < len(row) and row[index].strip()
        }
        yield build(values, number, start, ctx)


def _resolve(headers: list[str], ctx: ParseContext) -> dict[str, int]:
    """Column index for each mapped field, checking the mapping against the headers."""
    mapping: Mapping[str, str] | None = ctx.mapping
    if mapping is None:
        mapping = guess_mapping(headers)
        if "title" not in mapping:
            raise ctx.error(
                "could not find a title column to guess a column mapping from (columns: "
                f"{', '.join(headers)}); pass mapping={{'title': ..., ...}}",
                line=1,
            )
    unknown = sorted(set(mapping) - set(CSV_FIELDS))
    if unknown:
        raise ValueError(
            f"unknown field(s) in the CSV mapping: {', '.join(unknown)}; "
            f"known fields: {', '.join(CSV_FIELDS)}"
        )
    exact = {header: index for index, header in reversed(list(enumerate(headers)))}
    loose = {_key(header): index for index, header in reversed(list(enumerate(headers)))}
    columns: dict[str, int] = {}
    for field, header in mapping.items():
        index = exact.get(header)
        if index is None:
            index = loose.get(_key(header))
        if index is None:
            raise ctx.error(
                f"the mapping names the column {header!r} for {field!r}, but the file has no "
                f"such column (columns: {', '.join(headers)})",
                line=1,
            )
        columns[field] = index
    return columns


def build(values: dict[str, str], number: int, line: int, ctx: ParseContext) -> Reference:
    label = values.get("type")
    kind = type_from_label(label) or "other"
    draft = Draft(record=number, line=line, type=kind, source_type=label)
    draft.title = values.get("title")
    draft.abstract = values.get("abstract")
    draft.authors = split_author_list(values.get("authors"))
    draft.year = values.get("year")
    draft.journal = values.get("journal")
    draft.journal_abbrev = values.get("journal_abbrev")
    draft.volume = values.get("volume")
    draft.issue = values.get("issue")
    draft.start_page = values.get("pages") or values.get("start_page")
    draft.end_page = None if values.get("pages") else values.get("end_page")
    draft.doi = values.get("doi")
    draft.pmid = values.get("pmid")
    draft.url = values.get("url")
    draft.language = values.get("language")
    keywords = values.get("keywords")
    draft.keywords = keywords.split(";") if keywords else []
    return ctx.finish(draft)

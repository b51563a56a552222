"""The normalised reference record, the result of a parse, and the error for malformed files.

Every parser in this package turns its format's record into one :class:`Reference` with the
same fields and conventions, so that records exported from different databases can be
compared, deduplicated and screened side by side:

* ``authors``: ``"Surname, Given"`` strings in the order the source lists them; a corporate
  author (``"World Health Organization"``) is kept as written.
* ``year``: an ``int``, or ``None`` where the source has no usable year (a warning says so
  when the source had a value that is not a year, such as ``"20O4"``).
* ``journal``: the full journal (or container) title where the source has one, else its
  abbreviation; ``journal_abbrev`` keeps the abbreviation.
* ``pages``: ``"start-end"`` (RIS ``SP``/``EP`` joined, MEDLINE's ``"1234-9"`` written out in
  full as ``"1234-1239"``), or a single page or article number.
* ``doi``: lower-case, without ``https://doi.org/``, ``http://dx.doi.org/`` or ``doi:``
  prefixes and without trailing punctuation.
* ``pmid``: digits only.
* ``type``: one of :data:`REFERENCE_TYPES`; ``source_type`` keeps the source's own label.
* ``source_record``: the record's 1-based position in the file; ``source_line``: the line
  on which it starts, for formats that have lines (every format here does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REFERENCE_TYPES: tuple[str, ...] = (
    "journal-article",
    "book",
    "chapter",
    "conference",
    "report",
    "thesis",
    "web",
    "other",
)
"""The normalised record types, in the order a person would list them."""


@dataclass(frozen=True)
class Reference:
    """One bibliographic record, normalised (see the module docstring for the conventions)."""

    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str | None = None
    journal_abbrev: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    keywords: list[str] = field(default_factory=list)
    type: str = "other"
    source_type: str | None = None
    url: str | None = None
    language: str | None = None
    source_record: int = 0
    source_line: int | None = None

    def __hash__(self) -> int:
        # Hashable despite its list fields, so records can go in sets and dict keys.
        return hash(tuple(tuple(v) if isinstance(v, list) else v for v in self.to_dict().values()))

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict (lists copied), ready for JSON or a model's fields."""
        return {
            "title": self.title,
            "abstract": self.abstract,
            "authors": list(self.authors),
            "year": self.year,
            "journal": self.journal,
            "journal_abbrev": self.journal_abbrev,
            "volume": self.volume,
            "issue": self.issue,
            "pages": self.pages,
            "doi": self.doi,
            "pmid": self.pmid,
            "keywords": list(self.keywords),
            "type": self.type,
            "source_type": self.source_type,
            "url": self.url,
            "language": self.language,
            "source_record": self.source_record,
            "source_line": self.source_line,
        }


@dataclass
class ParseResult:
    """What :func:`~steppingstones.evidence.references.parse` found in one file.

    ``warnings`` lists field problems that did not stop the parse (a year that is not a
    year, a record without a title, a DOI that is not a DOI); each message names the file,
    the record number and the line.
    """

    records: list[Reference]
    encoding: str
    format: str
    warnings: list[str] = field(default_factory=list)
    filename: str = ""

    def __len__(self) -> int:
        return len(self.records)


def display_name(filename: str) -> str:
    """The name used for a file in messages: the name as given, or ``<input>``."""
    return filename or "<input>"


class ReferenceFormatError(ValueError):
    """The file is malformed (or hostile) and cannot be read as the format it claims to be.

    The message names the file and the line (or the record) where the problem was found,
    e.g. ``"search.ris, line 57: record has no TY line before ER"``. The parts are kept as
    attributes: ``filename``, ``line``, ``record`` and ``reason``.
    """

    def __init__(
        self,
        reason: str,
        *,
        filename: str = "",
        line: int | None = None,
        record: int | None = None,
    ) -> None:
        self.reason = reason
        self.filename = filename
        self.line = line
        self.record = record
        where = display_name(filename)
        if record is not None:
            where += f", record {record}"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {reason}")

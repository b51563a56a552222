"""What every parser shares: the parse context (file name, warnings) and the record draft.

A parser reads its format's fields into a :class:`Draft` (raw text, our field names) and
calls :meth:`ParseContext.finish`, which normalises each field in one place, so that a DOI,
a year or a page range means the same whatever format it came from, and the warnings for
bad values read the same too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .normalise import (
    clean_text,
    nfc,
    normalise_author,
    normalise_doi,
    normalise_pages,
    normalise_pmid,
    parse_year,
    unique,
)
from .records import REFERENCE_TYPES, Reference, ReferenceFormatError, display_name

MAX_WARNINGS = 1000
"""Warnings kept per file; past that one summary line says how many more there were."""


@dataclass
class Draft:
    """A record's raw field values, before normalisation."""

    record: int
    line: int | None
    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    year: str | None = None
    journal: str | None = None
    journal_abbrev: str | None = None
    volume: str | None = None
    issue: str | None = None
    start_page: str | None = None
    end_page: str | None = None
    doi: str | None = None
    pmid: str | None = None
    keywords: list[str] = field(default_factory=list)
    type: str | None = None
    source_type: str | None = None
    url: str | None = None
    language: str | None = None


@dataclass
class ParseContext:
    """The file being parsed, the warnings so far, and the options a parser may need."""

    filename: str = ""
    mapping: Mapping[str, str] | None = None
    warnings: list[str] = field(default_factory=list)
    dropped_warnings: int = 0

    @property
    def name(self) -> str:
        return display_name(self.filename)

    def where(self, record: int | None, line: int | None) -> str:
        text = self.name
        if record is not None:
            text += f", record {record}"
        if line is not None:
            text += f", line {line}"
        return text

    def warn(self, message: str, *, record: int | None = None, line: int | None = None) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(f"{self.where(record, line)}: {message}")
        else:
            self.dropped_warnings += 1

    def error(
        self, reason: str, *, line: int | None = None, record: int | None = None
    ) -> ReferenceFormatError:
        return ReferenceFormatError(reason, filename=self.filename, line=line, record=record)

    def summarise_warnings(self) -> None:
        if self.dropped_warnings:
            self.warnings.append(f"{self.name}: {self.dropped_warnings} more warnings not listed")
            self.dropped_warnings = 0

    def finish(self, draft: Draft) -> Reference:
        """Normalise a draft into a :class:`Reference`, warning about unusable values."""

        def warn(message: str) -> None:
            self.warn(message, record=draft.record, line=draft.line)

        title = _text(draft.title)
        if title is None:
            warn("record has no title")

        year = parse_year(draft.year)
        if year is None and clean_text(draft.year):
            warn(f"year {clean_text(draft.year)!r} is not a year; year left empty")

        doi = normalise_doi(draft.doi)
        if doi is None and clean_text(draft.doi):
            warn(f"DOI {clean_text(draft.doi)!r} is not a DOI; DOI left empty")

        pmid = normalise_pmid(draft.pmid)
        if pmid is None and clean_text(draft.pmid):
            warn(f"PMID {clean_text(draft.pmid)!r} is not a PMID; PMID left empty")

        authors: list[str] = []
        for raw in draft.authors:
            name = normalise_author(raw)
            if name:
                authors.append(nfc(name))

        kind = draft.type if draft.type in REFERENCE_TYPES else "other"
        journal = _text(draft.journal)
        journal_abbrev = _text(draft.journal_abbrev)
        return Reference(
            title=title,
            abstract=_text(draft.abstract),
            authors=authors,
            year=year,
            journal=journal or journal_abbrev,
            journal_abbrev=journal_abbrev,
            volume=_text(draft.volume),
            issue=_text(draft.issue),
            pages=normalise_pages(draft.start_page, draft.end_page),
            doi=doi,
            pmid=pmid,
            keywords=[nfc(keyword) for keyword in unique(draft.keywords)],
            type=kind,
            source_type=_text(draft.source_type),
            url=clean_text(draft.url),
            language=_text(draft.language),
            source_record=draft.record,
            source_line=draft.line,
        )


def _text(value: str | None) -> str | None:
    text = clean_text(value)
    return nfc(text) if text else None

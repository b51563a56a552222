"""PubMed / MEDLINE format (``.nbib`` from "Send to: Citation manager", or "PubMed" text).

A tag line is the tag left-justified in four columns, a hyphen and a space:
``"PMID- 31234567"``, ``"TI  - Title"``, ``"LID - 10.1000/xyz [doi]"``. A line indented by
six spaces continues the previous tag (long titles and abstracts wrap). Records are
separated by blank lines and each begins with ``PMID-``. Read line by line in one linear
pass; a line that is neither a tag line nor a continuation raises
:class:`~steppingstones.evidence.references.records.ReferenceFormatError` naming the line.

Fields: ``TI`` (``BTI`` for books); ``FAU`` full author names, each followed by its ``AU``
short form (``"Smith JA"``, used only when there is no ``FAU``), and ``CN`` corporate
authors in their place in the list; ``AB``; ``JT`` journal, ``TA`` abbreviation; ``VI``,
``IP``; ``PG`` (``"1234-9"`` -> ``"1234-1239"``); ``DP`` year (``"2020 Mar 15"``, else
``DEP``); ``LID``/``AID`` with ``[doi]``; ``PMID``; ``MH`` and ``OT`` keywords; ``PT``
publication types (``source_type`` lists them joined by ``"; "``); ``LA``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._context import Draft, ParseContext
from .normalise import type_from_label
from .records import Reference
from .ris import split_lines

FORMAT = "nbib"

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]{0,3}) {0,3}-(?: (.*))?$")
_COUNT_PMID = re.compile(r"^PMID-", re.MULTILINE)
_DOI_ID = re.compile(r"^(.*?)\s*\[doi\]\s*$", re.IGNORECASE)


def estimate_total(text: str) -> int | None:
    return len(_COUNT_PMID.findall(text))


def iter_records(text: str, ctx: ParseContext) -> Iterator[Reference]:
    fields: list[list[str]] = []
    start = 0
    number = 0
    for index, line in enumerate(split_lines(text)):
        lineno = index + 1
        if not line.strip():
            if fields:
                yield build(fields, number, start, ctx)
                fields = []
            continue
        if line.startswith(" "):
            if not fields:
                raise ctx.error("continuation line outside a record", line=lineno)
            last = fields[-1]
            last[1] = f"{last[1]} {line.strip()}" if last[1] else line.strip()
            continue
        match = _TAG_LINE.match(line[:4] + line[4:].rstrip()) if len(line) >= 5 else None
        if match is None or len(line) < 5 or line[4] != "-":
            raise ctx.error(
                "expected a MEDLINE tag line ('TAG - value', the tag in four columns) or a "
                f"continuation line indented by six spaces, found {line.strip()[:40]!r}",
                line=lineno,
            )
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "PMID" and fields:
            yield build(fields, number, start, ctx)
            fields = []
        if not fields:
            number += 1
            start = lineno
        fields.append([tag, value])
    if fields:
        yield build(fields, number, start, ctx)
    if number == 0 and text.strip():
        raise ctx.error("no MEDLINE records found (no 'PMID- ' line)")


def build(fields: list[list[str]], number: int, line: int, ctx: ParseContext) -> Reference:
    tags: dict[str, list[str]] = {}
    authors: list[str] = []
    last_author_tag = ""
    for tag, value in fields:
        if not value:
            continue
        tags.setdefault(tag, []).append(value)
        # Each FAU is followed by the AU short form of the same name: skip that one.
        if tag in ("FAU", "CN") or (tag == "AU" and last_author_tag != "FAU"):
            authors.append(value)
        if tag in ("FAU", "AU", "CN"):
            last_author_tag = tag

    def first(*names: str) -> str | None:
        for name in names:
            if tags.get(name):
                return tags[name][0]
        return None

    if "PMID" not in tags:
        ctx.warn("record has no PMID line", record=number, line=line)

    types = tags.get("PT", [])
    kind = _kind(types, has_journal=bool(first("JT", "TA")))
    draft = Draft(record=number, line=line, type=kind, source_type="; ".join(types) or None)
    draft.title = first("TI", "BTI")
    draft.authors = authors
    draft.abstract = " ".join(tags.get("AB", [])) or None
    draft.journal = first("JT")
    draft.journal_abbrev = first("TA")
    draft.volume = first("VI")
    draft.issue = first("IP")
    draft.start_page = first("PG")
    draft.year = first("DP", "DEP")
    draft.pmid = first("PMID")
    draft.language = first("LA")
    draft.keywords = tags.get("MH", []) + tags.get("OT", [])
    draft.doi = next(
        (
            match.group(1)
            for value in tags.get("LID", []) + tags.get("AID", [])
            if (match := _DOI_ID.match(value))
        ),
        None,
    )
    return ctx.finish(draft)


def _kind(types: list[str], *, has_journal: bool) -> str:
    kinds = {type_from_label(label) for label in types}
    for kind in ("chapter", "book", "conference", "report", "thesis", "journal-article"):
        if kind in kinds:
            return kind
    return "journal-article" if has_journal else "other"

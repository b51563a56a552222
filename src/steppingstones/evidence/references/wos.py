"""Web of Science tagged text ("Other file formats" / "Plain text", saved as ``.txt`` or ``.ciw``).

The file opens with ``FN Clarivate Analytics Web of Science`` and ``VR 1.0``; each record
runs from ``PT J`` to ``ER``; ``EF`` ends the file. A tag line is a two-character tag, one
space and the value; a line indented by three spaces continues the previous tag. For the
list tags (``AU``, ``AF``, ``CA``, ``C1``, ``CR`` ...) each continuation line is one more
item; for text tags (``TI``, ``AB``, ``SO``) the lines are joined with spaces. Read line by
line in one linear pass; malformed input raises
:class:`~steppingstones.evidence.references.records.ReferenceFormatError` naming the line.

Fields: ``TI`` title; ``AF`` full author names (else ``AU``), then ``CA`` group authors;
``PY`` year (``EY`` or the year in ``EA`` for early-access records without one); ``SO``
journal, ``JI`` (else ``J9``) abbreviation; ``VL``, ``IS``; ``BP``-``EP`` pages, else the
article number ``AR``; ``DI`` DOI; ``PM`` PMID; ``DE`` and ``ID`` keywords (``;``-separated);
``LA`` language; ``PT``/``DT`` type (``source_type`` keeps ``DT``, else ``PT``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._context import Draft, ParseContext
from .normalise import type_from_label
from .records import Reference
from .ris import split_lines

FORMAT = "wos"

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")
_COUNT_ER = re.compile(r"^ER\s*$", re.MULTILINE)
_LIST_TAGS = frozenset({"AU", "AF", "BA", "BF", "CA", "GP", "BE", "C1", "C3", "CR", "RI", "OI"})
_HEADER_TAGS = frozenset({"FN", "VR"})
_PT_TYPES = {"J": "journal-article", "B": "book", "S": "book", "C": "conference", "P": "other"}


def estimate_total(text: str) -> int | None:
    return len(_COUNT_ER.findall(text))


def iter_records(text: str, ctx: ParseContext) -> Iterator[Reference]:
    fields: list[tuple[str, list[str]]] | None = None
    start = 0
    number = 0
    stray: tuple[str, int] | None = None
    ended = False
    for index, line in enumerate(split_lines(text)):
        lineno = index + 1
        if not line.strip():
            continue
        if line.startswith(("  ", "\t")):
            if fields is None:
                if stray is None:
                    raise ctx.error("continuation line outside a record", line=lineno)
                continue
            if not fields:
                raise ctx.error("continuation line with no tag before it", line=lineno)
            fields[-1][1].append(line.strip())
            continue
        match = _TAG_LINE.match(line.rstrip())
        if match is None:
            raise ctx.error(
                f"expected a two-letter tag or a line indented by three spaces, found "
                f"{line.strip()[:40]!r}",
                line=lineno,
            )
        tag, value = match.group(1), (match.group(2) or "").strip()
        if ended:
            raise ctx.error(f"{tag} line after the EF line that ends the file", line=lineno)
        if tag == "PT":
            if fields is not None:
                raise ctx.error(
                    f"a new record (PT) starts before the record that began on line {start} "
                    "was closed with ER",
                    line=lineno,
                )
            if stray is not None:
                raise _stray_error(ctx, *stray)
            fields = [("PT", [value])]
            start = lineno
            number += 1
        elif tag == "ER":
            if fields is None:
                raise ctx.error("record has no PT line before ER", line=lineno)
            yield build(fields, number, start, ctx)
            fields = None
        elif tag == "EF":
            if fields is not None:
                break
            if stray is not None:
                raise _stray_error(ctx, *stray)
            ended = True
        elif fields is None:
            if tag not in _HEADER_TAGS and stray is None:
                stray = (tag, lineno)
        else:
            fields.append((tag, [value] if value else []))

    if fields is not None:
        raise ctx.error(
            f"the file ends inside record {number}, which began on line {start} and has no "
            "ER line (is the file complete?)",
            line=start,
        )
    if stray is not None:
        raise _stray_error(ctx, *stray)
    if number == 0:
        raise ctx.error("no Web of Science records found (no 'PT ' line)")


def _stray_error(ctx: ParseContext, tag: str, line: int) -> Exception:
    return ctx.error(f"{tag} line outside a record (no PT line before it)", line=line)


def build(
    fields: list[tuple[str, list[str]]], number: int, line: int, ctx: ParseContext
) -> Reference:
    items: dict[str, list[str]] = {}
    for tag, lines in fields:
        values = items.setdefault(tag, [])
        if tag in _LIST_TAGS:
            values.extend(lines)
        elif lines:
            values.append(" ".join(lines))

    def first(*names: str) -> str | None:
        for name in names:
            if items.get(name):
                return items[name][0]
        return None

    pt = (first("PT") or "").strip()
    dt = first("DT")
    kind = _PT_TYPES.get(pt.upper(), "other")
    label_kind = type_from_label(dt)
    if label_kind in ("conference", "chapter") or (kind == "other" and label_kind):
        kind = label_kind or kind
    draft = Draft(record=number, line=line, type=kind, source_type=dt or pt or None)
    draft.title = first("TI")
    draft.authors = list(items.get("AF") or items.get("AU") or [])
    draft.authors += items.get("CA", [])
    draft.year = first("PY", "EY")
    if draft.year is None and first("EA"):
        draft.year = first("EA")
    draft.journal = first("SO")
    draft.journal_abbrev = first("JI", "J9")
    draft.volume = first("VL")
    draft.issue = first("IS")
    draft.start_page = first("BP") or first("AR")
    draft.end_page = first("EP") if first("BP") else None
    draft.doi = first("DI")
    draft.pmid = first("PM")
    draft.abstract = first("AB")
    draft.language = first("LA")
    keywords: list[str] = []
    for tag in ("DE", "ID"):
        for value in items.get(tag, ()):
            keywords.extend(value.split(";"))
    draft.keywords = keywords
    return ctx.finish(draft)

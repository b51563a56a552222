"""Charting documents for a scoping review, with counts, an evidence map and accessible SVG.

Plain data in, plain data / strings out (no Django). A scoping review "charts" each included
source on a form of agreed data items (PRISMA-ScR items 10 and 11 -- Tricco AC, Lillie E,
Zarin W, et al. PRISMA Extension for Scoping Reviews (PRISMA-ScR): checklist and
explanation. Ann Intern Med 2018;169(7):467-473) and presents the results as counts, tables
and maps of where evidence or guidance exists and where it is missing (item 17/18). Here
the sources are documents such as UK guidance on perinatal care for women who use drugs:
issuing body, nation, year, type, audience and the themes they address (integrated working,
stigma, mental health, neonatal care, ...).

The SVG charts meet WCAG 2.2 AA for graphics: ``role="img"`` with a ``<title>`` and a
``<desc>`` giving the data in words, every bar and cell labelled with its number as text
(never colour alone), text at least 4.5:1 and graphics at least 3:1 against the white
background drawn behind them (see :func:`contrast_ratio`), and all text escaped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import IO, Any

from steppingstones.core.exports import spreadsheet_safe, write_csv

#: The conventional values of ``ChartedDocument.nation``; evidence maps show all of them so
#: that a nation with no documents is visible as a gap.
NATIONS: tuple[str, ...] = ("England", "Scotland", "Wales", "Northern Ireland", "UK-wide")
#: Label counted for a document that does not report a field.
NOT_REPORTED = "Not reported"
#: Columns of :func:`write_chart_csv` when none are given.
DEFAULT_FIELDS: tuple[str, ...] = (
    "id",
    "title",
    "issuing_body",
    "nation",
    "year",
    "type",
    "audience",
    "themes",
)

# Colours: near-black text and a dark blue for bars and circles, on an explicit white
# background so the contrast holds whatever page the SVG is placed in.
BACKGROUND = "#ffffff"
TEXT = "#1a1a1a"
MARK = "#0b5c8a"
GRID = "#6b6b6b"
FONT = "system-ui, sans-serif"
CHAR_WIDTH = 7.2  # rough advance of one 13px sans-serif character, for laying out labels
MAX_LABEL_CHARS = 40

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_INTEGER = re.compile(r"-?\d+")
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


@dataclass
class ChartedDocument:
    """One charted source. ``audience`` and ``themes`` are multi-valued; ``extra`` holds any
    further data items of the charting form (PRISMA-ScR item 11), looked up by name like the
    built-in fields."""

    id: str
    title: str
    issuing_body: str = ""
    nation: str = ""
    year: int | None = None
    type: str = ""
    audience: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


_ATTRIBUTES = frozenset(f.name for f in dataclasses.fields(ChartedDocument)) - {"extra"}


def _check_field(documents: Sequence[ChartedDocument], name: str) -> None:
    if name in _ATTRIBUTES or not documents:
        return
    if not any(name in document.extra for document in documents):
        raise ValueError(f"Unknown charting field {name!r}: not a document field or extra item")


def _items(document: ChartedDocument, name: str) -> list[Any]:
    """The values of one field for one document, as charted (a list, maybe empty)."""
    value = getattr(document, name) if name in _ATTRIBUTES else document.extra.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _labels(document: ChartedDocument, name: str) -> list[str]:
    """The distinct, whitespace-tidied values of one field for one document, as text."""
    labels: list[str] = []
    for item in _items(document, name):
        if item is None:
            continue
        text = " ".join(str(item).split())
        if text and text not in labels:
            labels.append(text)
    return labels


def _document_labels(document: ChartedDocument, name: str, missing: str | None) -> list[str]:
    labels = _labels(document, name)
    if not labels and missing is not None:
        return [missing]
    return labels


def _order(tally: Mapping[str, int], missing: str | None) -> list[tuple[str, int]]:
    """Integer labels (years) ascending; others by count descending then name; the
    "not reported" label last either way."""
    reported = {label: n for label, n in tally.items() if label != missing}
    if reported and all(_INTEGER.fullmatch(label) for label in reported):
        ordered = sorted(reported.items(), key=lambda item: int(item[0]))
    else:
        ordered = sorted(reported.items(), key=lambda item: (-item[1], item[0].casefold()))
    if missing is not None and missing in tally:
        ordered.append((missing, tally[missing]))
    return ordered


def counts_by(
    documents: Sequence[ChartedDocument], field: str, *, missing: str | None = NOT_REPORTED
) -> list[tuple[str, int]]:
    """How many documents have each value of ``field`` (a document attribute or an
    ``extra`` item).

    Multi-valued fields (lists such as ``themes``) count each document once per distinct
    value, so the counts can add up to more than the number of documents. Documents with no
    value are counted under ``missing`` ("Not reported"; pass ``None`` to leave them out) --
    in a scoping review what is absent is itself a finding. Integer-valued fields such as
    ``year`` come in ascending order; others by count, largest first, then by name.
    """
    _check_field(documents, field)
    tally: dict[str, int] = {}
    for document in documents:
        for label in _document_labels(document, field, missing):
            tally[label] = tally.get(label, 0) + 1
    return _order(tally, missing)


@dataclass
class EvidenceMap:
    """A cross-tabulation of documents: ``counts[i][j]`` documents have row label ``i`` and
    column label ``j``, and ``document_ids[i][j]`` says which, so every cell can be traced
    back to the charting table."""

    row_field: str
    column_field: str
    row_labels: list[str]
    column_labels: list[str]
    counts: list[list[int]]
    document_ids: list[list[list[str]]]

    def count(self, row: str, column: str) -> int:
        return self.counts[self.row_labels.index(row)][self.column_labels.index(column)]

    def ids(self, row: str, column: str) -> list[str]:
        return self.document_ids[self.row_labels.index(row)][self.column_labels.index(column)]

    @property
    def max_count(self) -> int:
        return max((n for row in self.counts for n in row), default=0)


def _axis(documents: Sequence[ChartedDocument], name: str, missing: str | None) -> list[str]:
    ordered = [label for label, _ in counts_by(documents, name, missing=missing)]
    if name != "nation":
        return ordered
    return [*NATIONS, *(label for label in ordered if label not in NATIONS)]


def evidence_map(
    documents: Sequence[ChartedDocument],
    rows: str = "themes",
    columns: str = "nation",
    *,
    missing: str | None = NOT_REPORTED,
) -> EvidenceMap:
    """Cross-tabulate documents by two fields, e.g. themes by nation, to show where guidance
    exists and where the gaps are (the "evidence map" of scoping reviews).

    A document counts once in each cell its values fall into (a document on two themes
    counts in two rows). Rows and columns follow :func:`counts_by` order, except that a
    ``nation`` axis lists all of :data:`NATIONS` in their usual order, empty or not, followed
    by any other values.
    """
    row_labels = _axis(documents, rows, missing)
    column_labels = _axis(documents, columns, missing)
    row_index = {label: i for i, label in enumerate(row_labels)}
    column_index = {label: j for j, label in enumerate(column_labels)}
    ids: list[list[list[str]]] = [[[] for _ in column_labels] for _ in row_labels]
    for document in documents:
        for row in _document_labels(document, rows, missing):
            for column in _document_labels(document, columns, missing):
                cell = ids[row_index[row]][column_index[column]]
                if document.id not in cell:
                    cell.append(document.id)
    return EvidenceMap(
        row_field=rows,
        column_field=columns,
        row_labels=row_labels,
        column_labels=column_labels,
        counts=[[len(cell) for cell in row] for row in ids],
        document_ids=ids,
    )


# --- accessible SVG -------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.2 contrast ratio of two ``#rrggbb`` colours (1 to 21); AA asks 4.5 for text
    and 3 for graphics needed to understand the content."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _text(value: Any) -> str:
    """Text safe inside SVG: characters XML cannot hold removed, markup escaped."""
    return escape(_XML_INVALID.sub("", str(value)))


def _short(value: str, limit: int) -> str:
    """Truncate a label for display (the ``<desc>`` keeps it whole)."""
    return value if len(value) <= limit else value[: max(limit - 1, 1)] + "\u2026"


def _pairs(counts: Sequence[tuple[Any, int]] | Mapping[Any, int]) -> list[tuple[str, int]]:
    items = counts.items() if isinstance(counts, Mapping) else counts
    return [(str(label), int(n)) for label, n in items]


def _open_svg(
    kind: str, width: float, height: float, title: str, desc: str, chart_id: str | None
) -> list[str]:
    if chart_id is None:
        digest = hashlib.sha256(f"{kind}\n{title}\n{desc}".encode()).hexdigest()[:10]
        chart_id = f"chart-{digest}"
    elif not _ID.fullmatch(chart_id):
        raise ValueError(f"chart_id {chart_id!r} is not a valid XML id")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" font-family="{FONT}" '
        f'font-size="13">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{_text(desc)}</desc>',
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="{BACKGROUND}"/>',
        f'<text x="12" y="24" font-size="15" font-weight="bold" fill="{TEXT}">'
        f"{_text(_short(title, 90))}</text>",
    ]


def _listing(pairs: Iterable[tuple[str, int]]) -> str:
    return "; ".join(f"{label}: {n}" for label, n in pairs)


def bar_chart_svg(
    counts: Sequence[tuple[Any, int]] | Mapping[Any, int],
    title: str,
    *,
    chart_id: str | None = None,
) -> str:
    """Horizontal bar chart of ``counts`` (e.g. from :func:`counts_by`), one bar a
    category in the order given, each with its number printed after the bar."""
    pairs = _pairs(counts)
    longest = max((len(label) for label, _ in pairs), default=0)
    label_w = min(longest, MAX_LABEL_CHARS) * CHAR_WIDTH + 24
    plot_w, row_h, bar_h, top = 360, 26, 18, 44
    biggest = max((n for _, n in pairs), default=0)
    width = max(label_w + plot_w + 60, len(_short(title, 90)) * 8.5 + 24)
    height = top + len(pairs) * row_h + 16
    desc = (
        f"Horizontal bar chart, {len(pairs)} categories. {_listing(pairs)}."
        if pairs
        else "Horizontal bar chart with no data."
    )
    parts = _open_svg("bar-chart", width, height, title, desc, chart_id)
    parts.append(
        f'<line x1="{label_w:.1f}" y1="{top - 4}" x2="{label_w:.1f}" '
        f'y2="{top + len(pairs) * row_h:.0f}" stroke="{TEXT}"/>'
    )
    for index, (label, n) in enumerate(pairs):
        y = top + index * row_h
        length = plot_w * n / biggest if biggest else 0.0
        parts.append(
            f'<g class="bar"><text x="{label_w - 8:.1f}" y="{y + bar_h / 2 + 5:.1f}" '
            f'text-anchor="end" fill="{TEXT}">{_text(_short(label, MAX_LABEL_CHARS))}</text>'
            f'<rect x="{label_w:.1f}" y="{y}" width="{length:.1f}" height="{bar_h}" '
            f'fill="{MARK}"/>'
            f'<text class="value" x="{label_w + length + 6:.1f}" y="{y + bar_h / 2 + 5:.1f}" '
            f'fill="{TEXT}">{n}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def fill_years(
    counts: Sequence[tuple[Any, int]] | Mapping[Any, int],
) -> list[tuple[str, int]]:
    """Year counts from the earliest to the latest year with every year in between, empty
    years as 0, so a gap in publication shows as a gap. Non-year labels are left out."""
    tally: dict[int, int] = {}
    for label, n in _pairs(counts):
        if _INTEGER.fullmatch(label.strip()):
            year = int(label)
            tally[year] = tally.get(year, 0) + n
    if not tally:
        return []
    return [(str(year), tally.get(year, 0)) for year in range(min(tally), max(tally) + 1)]


def year_chart_svg(
    counts: Sequence[tuple[Any, int]] | Mapping[Any, int],
    title: str,
    *,
    chart_id: str | None = None,
) -> str:
    """Vertical bar chart by year with every year between the first and last shown (empty
    years as 0); each bar's number is printed above it. Labels that are not years (such as
    "Not reported") are given in a note below the chart and in the description."""
    years = fill_years(counts)
    others = [(label, n) for label, n in _pairs(counts) if not _INTEGER.fullmatch(label.strip())]
    slot, bar_w, plot_h, top, left = 40, 26, 200, 58, 16
    biggest = max((n for _, n in years), default=0)
    baseline = top + plot_h
    note = "; ".join(f"{label}: {n}" for label, n in others)
    width = max(left * 2 + len(years) * slot, len(_short(title, 90)) * 8.5 + 24, 240)
    height = baseline + 30 + (22 if note else 0)
    if years:
        desc = f"Vertical bar chart by year, {years[0][0]} to {years[-1][0]}. {_listing(years)}."
    else:
        desc = "Vertical bar chart by year with no dated data."
    if note:
        desc += f" Not shown as bars: {note}."
    parts = _open_svg("year-chart", width, height, title, desc, chart_id)
    parts.append(
        f'<line x1="{left}" y1="{baseline}" x2="{left + len(years) * slot}" y2="{baseline}" '
        f'stroke="{TEXT}"/>'
    )
    for index, (year, n) in enumerate(years):
        x = left + index * slot + (slot - bar_w) / 2
        bar = plot_h * n / biggest if biggest else 0.0
        centre = x + bar_w / 2
        parts.append(
            f'<g class="bar"><rect x="{x:.1f}" y="{baseline - bar:.1f}" width="{bar_w}" '
            f'height="{bar:.1f}" fill="{MARK}"/>'
            f'<text class="value" x="{centre:.1f}" y="{baseline - bar - 5:.1f}" '
            f'text-anchor="middle" fill="{TEXT}">{n}</text>'
            f'<text x="{centre:.1f}" y="{baseline + 17}" text-anchor="middle" font-size="12" '
            f'fill="{TEXT}">{_text(year)}</text></g>'
        )
    if note:
        parts.append(
            f'<text x="{left}" y="{baseline + 42}" fill="{TEXT}">Not shown: '
            f"{_text(_short(note, 90))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _heading(name: str) -> str:
    return name.replace("_", " ").capitalize()


def evidence_map_svg(evidence_map: EvidenceMap, title: str, *, chart_id: str | None = None) -> str:
    """The evidence map as a grid: row and column headers, and in each non-empty cell a
    circle whose area follows the count with the count printed beside it. Empty cells are
    left blank (the grid makes them visible as gaps)."""
    evidence = evidence_map
    rows, columns = evidence.row_labels, evidence.column_labels
    longest = max((len(label) for label in rows), default=0)
    label_w = min(longest, MAX_LABEL_CHARS) * CHAR_WIDTH + 24
    cell_w, cell_h, top = 120, 44, 70
    radius_min, radius_max = 4.0, 14.0
    biggest = evidence.max_count
    width = max(label_w + len(columns) * cell_w + 16, len(_short(title, 90)) * 8.5 + 24)
    height = top + len(rows) * cell_h + 16
    filled = [
        (f"{row}, {column}", evidence.counts[i][j])
        for i, row in enumerate(rows)
        for j, column in enumerate(columns)
        if evidence.counts[i][j]
    ]
    empty = len(rows) * len(columns) - len(filled)
    desc = (
        f"Evidence map of documents by {_heading(evidence.row_field).lower()} (rows, "
        f"{len(rows)}) and {_heading(evidence.column_field).lower()} (columns, {len(columns)}); "
        "circle size and the number show how many documents. "
        + (f"Cells with documents: {_listing(filled)}. " if filled else "No documents. ")
        + f"Empty cells: {empty}."
    )
    parts = _open_svg("evidence-map", width, height, title, desc, chart_id)
    parts.append(
        f'<text x="12" y="{top - 12}" font-weight="bold" fill="{TEXT}">'
        f"{_text(_heading(evidence.row_field))}</text>"
    )
    for j, column in enumerate(columns):
        cx = label_w + j * cell_w + cell_w / 2
        parts.append(
            f'<text class="column" x="{cx:.1f}" y="{top - 12}" text-anchor="middle" '
            f'font-weight="bold" fill="{TEXT}">{_text(_short(column, 16))}</text>'
        )
    for i in range(len(rows) + 1):
        y = top + i * cell_h
        parts.append(
            f'<line x1="12" y1="{y}" x2="{label_w + len(columns) * cell_w:.1f}" y2="{y}" '
            f'stroke="{GRID}" stroke-width="0.5"/>'
        )
    for j in range(len(columns) + 1):
        x = label_w + j * cell_w
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + len(rows) * cell_h}" '
            f'stroke="{GRID}" stroke-width="0.5"/>'
        )
    for i, row in enumerate(rows):
        cy = top + i * cell_h + cell_h / 2
        parts.append(
            f'<text class="row" x="12" y="{cy + 5:.1f}" fill="{TEXT}">'
            f"{_text(_short(row, MAX_LABEL_CHARS))}</text>"
        )
        for j, _column in enumerate(columns):
            n = evidence.counts[i][j]
            if not n:
                continue
            radius = radius_min + (radius_max - radius_min) * math.sqrt(n / biggest)
            cx = label_w + j * cell_w + cell_w / 2 - 12
            parts.append(
                f'<g class="cell"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}" '
                f'fill="{MARK}"/><text class="value" x="{cx + radius_max + 6:.1f}" '
                f'y="{cy + 5:.1f}" fill="{TEXT}">{n}</text></g>'
            )
    parts.append("</svg>")
    return "".join(parts)


def write_chart_csv(
    handle: IO[str],
    documents: Sequence[ChartedDocument],
    fields: Sequence[str] = DEFAULT_FIELDS,
) -> int:
    """The charting table (PRISMA-ScR item 11's data items, one row a document) as CSV;
    returns the number of rows. Values are written as charted (not tidied) and multi-valued
    fields are joined with "; ". Every cell goes
    through the project's ``spreadsheet_safe`` (a leading ``=``, ``+``, ``-``, ``@``, tab or
    carriage return gets an apostrophe) because titles and extra items are free text."""
    for name in fields:
        _check_field(documents, name)
    return write_csv(
        handle,
        [spreadsheet_safe(name) for name in fields],
        (
            [
                "; ".join(str(item) for item in _items(document, name) if item is not None)
                for name in fields
            ]
            for document in documents
        ),
    )

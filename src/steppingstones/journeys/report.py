"""The HTML report of ``steppingstones journeys analyse``: one self-contained page.

Summary, process map (directly-follows edges with their times), the most frequent variants
with an inline SVG bar chart, and the milestone table. Every value from the log is escaped;
the page loads nothing from anywhere (no scripts, fonts, images or style sheets outside it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from .analytics import MilestoneTimes, PerformanceEdge, ProcessMap, Variant

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;
margin:2rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ccc;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d0d0d0;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}
dd{margin:0}.note{color:#555;font-size:.9rem}svg text{font-size:12px;fill:#1b1b1b}
.synthetic{background:#fff3cd;border:1px solid #c9a227;padding:.5rem;font-weight:600}
"""


@dataclass(frozen=True)
class ReportInput:
    """What the report shows."""

    source_name: str
    backend: str
    process_map: ProcessMap
    performance: Sequence[PerformanceEdge]
    variants: Sequence[Variant]
    milestones: Sequence[MilestoneTimes]
    first_event: str | None = None
    last_event: str | None = None
    synthetic: bool = False
    top_variants: int = 20
    top_edges: int = 60


def duration(seconds: float | None) -> str:
    """A readable duration: ``3 d 4 h``, ``2 h 5 min``, ``40 s``; an en dash for none."""
    if seconds is None:
        return "–"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.0f} s" if s >= 1 or s == 0 else f"{sign}{s:.3f} s"
    minutes, hours, days = s / 60, s / 3600, s / 86400
    if minutes < 60:
        return f"{sign}{int(minutes)} min {int(s % 60)} s"
    if hours < 48:
        return f"{sign}{int(hours)} h {int(minutes % 60)} min"
    return f"{sign}{int(days)} d {int(hours % 24)} h"


def _number(value: int) -> str:
    return f"{value:,}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def variant_chart(variants: Sequence[Variant], n_cases: int) -> str:
    """A horizontal bar chart (inline SVG) of the cases following each variant."""
    if not variants:
        return ""
    bar_height, gap, label_width, width = 18, 6, 70, 640
    top = max(count for _, count in variants)
    height = len(variants) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="variant-chart-title">',
        '<title id="variant-chart-title">Cases per variant, most frequent first</title>',
    ]
    room = width - label_width - 110
    for i, (activities, count) in enumerate(variants):
        y = gap + i * (bar_height + gap)
        bar = max(1.0, room * count / top)
        share = 100 * count / n_cases if n_cases else 0.0
        label = escape(" → ".join(activities))
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height - 5}" text-anchor="end">'
            f"#{i + 1}</text>"
            f'<rect x="{label_width}" y="{y}" width="{bar:.1f}" height="{bar_height}" '
            f'fill="#3b6ea5"><title>{label}: {count:,} cases</title></rect>'
            f'<text x="{label_width + bar + 6:.1f}" y="{y + bar_height - 5}">'
            f"{count:,} ({share:.1f}%)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def render(data: ReportInput) -> str:
    """The whole report as one HTML document."""
    pm = data.process_map
    title = f"Pathway analysis of {data.source_name}"
    summary = [
        ("Event log", escape(data.source_name)),
        ("Cases", _number(pm.n_cases)),
        ("Events", _number(pm.n_events)),
        ("Activities", _number(len(pm.activities))),
        ("Variants", _number(len(data.variants))),
        ("Directly-follows edges", _number(len(pm.edges))),
    ]
    if data.first_event and data.last_event:
        summary.append(("Events from", f"{escape(data.first_event)} to {escape(data.last_event)}"))
    summary.append(("Engine", escape(data.backend)))
    summary_html = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in summary)

    edges = sorted(data.performance, key=lambda e: (-e.frequency, e.source, e.target))
    shown_edges = edges[: data.top_edges]
    edge_rows = [
        [
            escape(e.source),
            escape(e.target),
            _number(e.frequency),
            duration(e.median_seconds),
            duration(e.mean_seconds),
            duration(e.min_seconds),
            duration(e.max_seconds),
        ]
        for e in shown_edges
    ]
    edges_note = (
        f'<p class="note">The {len(shown_edges):,} most frequent of {len(edges):,} edges; '
        "all are in process_map.csv.</p>"
        if len(edges) > len(shown_edges)
        else ""
    )
    activity_rows = [
        [
            escape(name),
            _number(count),
            _number(pm.start_activities.get(name, 0)),
            _number(pm.end_activities.get(name, 0)),
        ]
        for name, count in pm.activities.items()
    ]

    top = list(data.variants[: data.top_variants])
    variant_rows = [
        [
            str(i + 1),
            _number(count),
            f"{100 * count / pm.n_cases:.1f}%" if pm.n_cases else "–",
            _number(len(activities)),
            escape(" → ".join(activities)),
        ]
        for i, (activities, count) in enumerate(top)
    ]
    covered = sum(count for _, count in top)
    variants_note = (
        f'<p class="note">The {len(top):,} most frequent of {len(data.variants):,} variants '
        f"cover {covered:,} of {pm.n_cases:,} cases; all are in variants.csv.</p>"
    )

    milestone_rows = [
        [
            escape(m.from_activity),
            escape(m.to_activity),
            _number(m.cases_from),
            _number(m.cases_reached),
            duration(m.median_seconds),
            f"{duration(m.q1_seconds)} – {duration(m.q3_seconds)}",
            duration(m.mean_seconds),
            duration(m.min_seconds),
            duration(m.max_seconds),
        ]
        for m in data.milestones
    ]
    banner = (
        '<p class="synthetic">SYNTHETIC DATA: this log was generated; it describes no real '
        "person, site or region.</p>"
        if data.synthetic
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>{escape(title)}</h1>
{banner}
<h2>Summary</h2>
<dl>{summary_html}</dl>
<p class="note">Events are ordered within each case by time, then by their place in the source
file; durations are wall-clock time between events.</p>
<h2>Process map</h2>
{
        _table(
            ["From", "To", "Times", "Median", "Mean", "Shortest", "Longest"],
            edge_rows,
            {2, 3, 4, 5, 6},
        )
    }
{edges_note}
<h3>Activities</h3>
{_table(["Activity", "Events", "Cases starting", "Cases ending"], activity_rows, {1, 2, 3})}
<h2>Variants</h2>
{variant_chart(top, pm.n_cases)}
{_table(["#", "Cases", "Share", "Events", "Activities"], variant_rows, {0, 1, 2, 3})}
{variants_note}
<h2>Milestones</h2>
<p class="note">From the first <em>from</em> activity of a case to the first <em>to</em>
activity after it.</p>
{
        _table(
            [
                "From",
                "To",
                "Cases with from",
                "Cases reaching to",
                "Median",
                "Quartiles",
                "Mean",
                "Shortest",
                "Longest",
            ],
            milestone_rows,
            {2, 3, 4, 5, 6, 7, 8},
        )
    }
</main>
</body>
</html>
"""

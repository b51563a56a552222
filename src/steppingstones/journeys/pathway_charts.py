"""Charts of pathway measures, drawn server-side as accessible SVG.

Each chart has ``role="img"``, a title and a description; the pages show the numbers in a table
beside it, which is the text alternative. Colours are presentation attributes (no styles), so
the charts work under the site's content security policy and when saved as files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

from .pathways import Distribution, DropoffResult

FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="13"'
INK = "#1f2933"
ACCENT = "#2b5d9b"
# Colour-blind-safe (Okabe–Ito) hues, dark enough for 3:1 contrast on white.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8c6d00", "#56b4e9", "#000000", "#e69f00")
MARKERS = ("circle", "square", "diamond", "triangle")


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    span = high - low or 1.0
    step = 10 ** math.floor(math.log10(span / count))
    for multiple in (1, 2, 2.5, 5, 10):
        if span / (step * multiple) <= count:
            step *= multiple
            break
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:  # the axis always reaches the largest value
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _open(width: float, height: float, title: str, desc: str, key: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="{key}-title {key}-desc" {FONT}>',
        f'<title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(desc)}</desc>',
    ]


def box_plot(
    groups: Sequence[Distribution],
    points: Mapping[str, Sequence[float]],
    *,
    title: str,
    unit: str = "days",
    divisor: float = 1.0,
    key: str = "box",
) -> str:
    """Horizontal box plots (quartiles, median, whiskers to the extremes) for each group, with
    every value drawn as a dot (a strip plot) over its box."""
    label_width, width, row = 200, 760, 44
    plot_left, plot_right = label_width, width - 30
    values = [v / divisor for g in groups for v in (g.minimum, g.maximum) if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    ticks = nice_ticks(min(low, 0.0) if low >= 0 else low, high)
    lo, hi = ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1

    def x(v: float) -> float:
        return plot_left + (v - lo) / (hi - lo) * (plot_right - plot_left)

    height = 30 + len(groups) * row + 50
    summary = "; ".join(
        f"{g.group}: n {g.n}, median {(g.median or 0) / divisor:.1f} {unit}" for g in groups
    )
    parts = _open(width, height, title, f"Box and strip plot by site. {summary}", key)
    axis_y = 30 + len(groups) * row + 6
    for t in ticks:
        parts.append(
            f'<line x1="{x(t):.1f}" y1="24" x2="{x(t):.1f}" y2="{axis_y}" stroke="#d5dbe3"/>'
            f'<text x="{x(t):.1f}" y="{axis_y + 18}" text-anchor="middle" fill="{INK}">{t:g}</text>'
        )
    parts.append(
        f'<text x="{(plot_left + plot_right) / 2:.0f}" y="{axis_y + 38}" text-anchor="middle" '
        f'fill="{INK}">{escape(unit)}</text>'
    )
    for i, g in enumerate(groups):
        cy = 30 + i * row + row / 2
        parts.append(
            f'<text x="{label_width - 10}" y="{cy:.1f}" text-anchor="end" '
            f'dominant-baseline="middle" fill="{INK}">{escape(g.group)} (n={g.n})</text>'
        )
        if g.n == 0 or g.median is None:
            continue
        q1, q3 = (g.q1 or 0) / divisor, (g.q3 or 0) / divisor
        mn, mx, med = (g.minimum or 0) / divisor, (g.maximum or 0) / divisor, g.median / divisor
        parts.append(
            f'<line x1="{x(mn):.1f}" y1="{cy:.1f}" x2="{x(mx):.1f}" y2="{cy:.1f}" stroke="{INK}"/>'
            f'<rect x="{x(q1):.1f}" y="{cy - 12:.1f}" width="{max(x(q3) - x(q1), 1):.1f}" '
            f'height="24" fill="#dbe7f5" stroke="{ACCENT}"/>'
            f'<line x1="{x(med):.1f}" y1="{cy - 12:.1f}" x2="{x(med):.1f}" y2="{cy + 12:.1f}" '
            f'stroke="{INK}" stroke-width="3"/>'
        )
        for j, v in enumerate(points.get(g.group, ())):
            jitter = ((j * 7919) % 17 - 8) * 1.1  # fixed spread, same on every draw
            parts.append(
                f'<circle cx="{x(v / divisor):.1f}" cy="{cy + jitter:.1f}" r="3" '
                f'fill="{ACCENT}" fill-opacity="0.55"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def share_bars(
    rows: Sequence[tuple[str, float | None, int]], *, title: str, key: str = "share"
) -> str:
    """Horizontal bars of shares (0–1) labelled with the percentage and its denominator."""
    label_width, width, bar, gap = 320, 760, 22, 8
    plot = width - label_width - 120
    height = gap + len(rows) * (bar + gap) + 30
    summary = "; ".join(
        f"{label}: {'no decided cases' if s is None else f'{s:.0%} of {n}'}" for label, s, n in rows
    )
    parts = _open(width, height, title, summary, key)
    for t in (0, 0.25, 0.5, 0.75, 1):
        tx = label_width + plot * t
        parts.append(
            f'<line x1="{tx:.1f}" y1="0" x2="{tx:.1f}" y2="{height - 26}" stroke="#d5dbe3"/>'
            f'<text x="{tx:.1f}" y="{height - 8}" text-anchor="middle" fill="{INK}">{t:.0%}</text>'
        )
    for i, (label, raw, n) in enumerate(rows):
        share = None if raw is None else max(0.0, min(1.0, raw))
        y = gap + i * (bar + gap)
        middle = y + bar / 2
        text = "no decided cases" if share is None else f"{share:.0%} of {n}"
        parts.append(
            f'<text x="{label_width - 8}" y="{middle:.1f}" text-anchor="end" '
            f'dominant-baseline="middle" fill="{INK}">{escape(label[:48])}</text>'
        )
        if share is not None:
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{plot * share:.1f}" height="{bar}" '
                f'fill="{ACCENT}"/>'
            )
        parts.append(
            f'<text x="{label_width + plot * (share or 0) + 6:.1f}" y="{middle:.1f}" '
            f'dominant-baseline="middle" fill="{INK}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _marker(kind: str, cx: float, cy: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{cx - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if kind == "diamond":
        return (
            f'<path d="M{cx:.1f},{cy - 5:.1f} L{cx + 5:.1f},{cy:.1f} L{cx:.1f},{cy + 5:.1f} '
            f'L{cx - 5:.1f},{cy:.1f} z" fill="{colour}"/>'
        )
    if kind == "triangle":
        return (
            f'<path d="M{cx:.1f},{cy - 5:.1f} L{cx + 5:.1f},{cy + 4:.1f} '
            f'L{cx - 5:.1f},{cy + 4:.1f} z" fill="{colour}"/>'
        )
    return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}"/>'


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dropoff_lines(
    result: DropoffResult, *, title: str, name: Mapping[str, str] | None = None, key: str = "drop"
) -> str:
    """Contacts per woman per month, one line per service, with the birth marked; colours
    come with distinct markers so that lines can be told apart without colour."""
    name = name or {}
    width, height = 820, 380
    left, right, top, bottom = 60, 560, 20, 320
    months = result.months
    rates = [c.rate for c in result.cells if c.rate is not None]
    ticks = nice_ticks(0.0, max(rates, default=1.0) or 1.0, 5)
    top_value = ticks[-1] or 1.0

    def x(m: float) -> float:
        span = (months[-1] - months[0]) or 1
        return left + (m - months[0]) / span * (right - left)

    def y(v: float) -> float:
        return bottom - v / top_value * (bottom - top)

    lines_text = "; ".join(
        f"{name.get(s.group, s.group)}: {s.before or 0:.2f} before, {s.after or 0:.2f} after"
        for s in result.summaries
    )
    desc = (
        f"Contacts per woman per month from {months[0]} to {months[-1]} months around the "
        f"birth, {len(result.groups)} services, {result.births} births. Mean rate in the "
        f"{result.window} months before and after: {lines_text}."
    )
    parts = _open(width, height, title, desc, key)
    for t in ticks:
        parts.append(
            f'<line x1="{left}" y1="{y(t):.1f}" x2="{right}" y2="{y(t):.1f}" stroke="#d5dbe3"/>'
            f'<text x="{left - 6}" y="{y(t):.1f}" text-anchor="end" dominant-baseline="middle" '
            f'fill="{INK}">{t:g}</text>'
        )
    for m in months:
        if m % 3 == 0:
            parts.append(
                f'<text x="{x(m):.1f}" y="{bottom + 18}" text-anchor="middle" '
                f'fill="{INK}">{m}</text>'
            )
    parts.append(
        f'<line x1="{x(0):.1f}" y1="{top}" x2="{x(0):.1f}" y2="{bottom}" stroke="{INK}" '
        f'stroke-dasharray="5 4"/><text x="{x(0) + 4:.1f}" y="{top + 12}" fill="{INK}">Birth</text>'
        f'<text x="{(left + right) / 2:.0f}" y="{bottom + 40}" text-anchor="middle" '
        f'fill="{INK}">Months from the birth</text>'
        f'<text x="16" y="{(top + bottom) / 2:.0f}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 16 {(top + bottom) / 2:.0f})">Contacts per woman</text>'
    )
    for i, group in enumerate(result.groups):
        colour = PALETTE[i % len(PALETTE)]
        marker = MARKERS[i % len(MARKERS)]
        cells = [c for c in result.cells if c.group == group and c.rate is not None]
        if not cells:
            continue
        path = " ".join(
            f"{'M' if j == 0 else 'L'}{x(c.month):.1f},{y(c.rate or 0):.1f}"
            for j, c in enumerate(cells)
        )
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(_marker(marker, x(c.month), y(c.rate or 0), colour) for c in cells)
        ly = top + 10 + i * 22
        parts.append(
            _marker(marker, right + 24, ly, colour)
            + f'<text x="{right + 34}" y="{ly:.1f}" dominant-baseline="middle" fill="{INK}">'
            f"{escape(_short(name.get(group, group)))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)

"""Charts drawn server-side as accessible SVG (a title and a text alternative on every chart)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def horizontal_bars(
    rows: Sequence[tuple[str, int]], *, title: str, width: int = 560, bar_height: int = 24
) -> str:
    """A horizontal bar chart of (label, value) rows, scaled to the largest value."""
    label_width, gap, value_width = 220, 6, 48
    plot_width = width - label_width - value_width
    largest = max((value for _, value in rows), default=0) or 1
    height = len(rows) * (bar_height + gap) + gap
    summary = "; ".join(f"{label}: {value}" for label, value in rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)} — {escape(summary)}</title>",
    ]
    for index, (label, value) in enumerate(rows):
        y = gap + index * (bar_height + gap)
        bar = round(plot_width * value / largest)
        middle = y + bar_height / 2
        parts.append(
            f'<text x="{label_width - 8}" y="{middle}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(label)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{bar}" height="{bar_height}"/>'
            f'<text x="{label_width + bar + 6}" y="{middle}" '
            f'dominant-baseline="middle">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)

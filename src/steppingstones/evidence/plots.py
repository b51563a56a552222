"""Forest plots drawn server-side as accessible SVG (title and a text alternative included)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

Z95 = 1.959963984540054
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = high - low or 1.0
    step = 10 ** math.floor(math.log10(span / count))
    for multiple in (1, 2, 2.5, 5, 10):
        if span / (step * multiple) <= count:
            step *= multiple
            break
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + 1e-12:
        ticks.append(round(value, 10))
        value += step
    return ticks


def forest_svg(
    labels: Sequence[str],
    yi: Sequence[float],
    vi: Sequence[float],
    *,
    estimate: float,
    ci_low: float,
    ci_high: float,
    tau2: float = 0.0,
    pi_low: float | None = None,
    pi_high: float | None = None,
    ratio: bool = False,
    measure: str = "",
    model: str = "",
) -> str:
    """One row a study (square sized by its weight, line for its 95% CI), a diamond for the
    pooled estimate and, when given, a line for the prediction interval. For ratio measures the
    axis is on the log scale and labelled with ratios."""
    rows = len(labels)
    lows = [y - Z95 * math.sqrt(v) for y, v in zip(yi, vi, strict=True)]
    highs = [y + Z95 * math.sqrt(v) for y, v in zip(yi, vi, strict=True)]
    extent = [*lows, *highs, ci_low, ci_high, 0.0]
    if pi_low is not None and pi_high is not None:
        extent += [pi_low, pi_high]
    low, high = min(extent), max(extent)
    pad = (high - low) * 0.05 or 0.1
    low, high = low - pad, high + pad
    label_w, plot_w, text_w, row_h, top = 220, 380, 220, 22, 40
    width = label_w + plot_w + text_w
    height = top + (rows + 3) * row_h + 40

    def x(value: float) -> float:
        return label_w + (value - low) / (high - low) * plot_w

    def shown(value: float) -> str:
        return f"{math.exp(value):.2f}" if ratio else f"{value:.2f}"

    weights = [1 / (v + tau2) for v in vi]
    total = sum(weights)
    biggest = max(weights)
    summary = "; ".join(
        f"{label} {shown(y)} [{shown(lo)}, {shown(hi)}]"
        for label, y, lo, hi in zip(labels, yi, lows, highs, strict=True)
    )
    pooled = f"{model} pooled {shown(estimate)} [{shown(ci_low)}, {shown(ci_high)}]"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart forest" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>Forest plot{' of ' + escape(measure) if measure else ''}: "
        f"{escape(summary)}; {escape(pooled)}</title>",
        f'<text x="8" y="24" font-weight="bold">Study</text>'
        f'<text x="{label_w + plot_w + 8}" y="24" font-weight="bold">'
        f"{escape(measure or 'Estimate')} [95% CI]  weight</text>",
    ]
    null = 0.0
    parts.append(
        f'<line x1="{x(null):.1f}" y1="{top - 6}" x2="{x(null):.1f}" '
        f'y2="{top + (rows + 1.6) * row_h:.1f}" stroke="#555" stroke-dasharray="4 3"/>'
    )
    for index, (label, y, lo, hi, w) in enumerate(
        zip(labels, yi, lows, highs, weights, strict=True)
    ):
        cy = top + index * row_h + row_h / 2
        side = 4 + 8 * math.sqrt(w / biggest)
        parts.append(
            f'<text x="8" y="{cy + 4:.1f}">{escape(label)}</text>'
            f'<line x1="{x(lo):.1f}" y1="{cy:.1f}" x2="{x(hi):.1f}" y2="{cy:.1f}" stroke="#111"/>'
            f'<rect x="{x(y) - side / 2:.1f}" y="{cy - side / 2:.1f}" width="{side:.1f}" '
            f'height="{side:.1f}" fill="#0b5c8a"/>'
            f'<text x="{label_w + plot_w + 8}" y="{cy + 4:.1f}">{shown(y)} [{shown(lo)}, '
            f"{shown(hi)}]  {100 * w / total:.1f}%</text>"
        )
    cy = top + (rows + 0.8) * row_h
    parts.append(
        f'<polygon points="{x(ci_low):.1f},{cy:.1f} {x(estimate):.1f},{cy - 7:.1f} '
        f'{x(ci_high):.1f},{cy:.1f} {x(estimate):.1f},{cy + 7:.1f}" fill="#8a1c1c"/>'
        f'<text x="8" y="{cy + 4:.1f}" font-weight="bold">{escape(model or "Pooled")}</text>'
        f'<text x="{label_w + plot_w + 8}" y="{cy + 4:.1f}" font-weight="bold">'
        f"{shown(estimate)} [{shown(ci_low)}, {shown(ci_high)}]</text>"
    )
    if pi_low is not None and pi_high is not None:
        py = cy + row_h
        parts.append(
            f'<line x1="{x(pi_low):.1f}" y1="{py:.1f}" x2="{x(pi_high):.1f}" y2="{py:.1f}" '
            f'stroke="#8a1c1c" stroke-width="3"/>'
            f'<text x="8" y="{py + 4:.1f}">Prediction interval</text>'
            f'<text x="{label_w + plot_w + 8}" y="{py + 4:.1f}">[{shown(pi_low)}, '
            f"{shown(pi_high)}]</text>"
        )
    axis_y = top + (rows + 2.4) * row_h
    parts.append(
        f'<line x1="{label_w}" y1="{axis_y:.1f}" x2="{label_w + plot_w}" y2="{axis_y:.1f}" '
        f'stroke="#111"/>'
    )
    if ratio:
        ticks = [math.log(r) for r in RATIO_TICKS if low <= math.log(r) <= high]
    else:
        ticks = _nice_ticks(low, high)
    for tick in ticks:
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{axis_y:.1f}" x2="{x(tick):.1f}" '
            f'y2="{axis_y + 5:.1f}" stroke="#111"/>'
            f'<text x="{x(tick):.1f}" y="{axis_y + 18:.1f}" text-anchor="middle">'
            f"{shown(tick)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)

"""Forest plots drawn server-side as accessible SVG (title and a text alternative included).

``forest_svg`` returns an SVG document as a string: a row for each study (a square sized by
its weight, a line for its confidence interval), the estimate, interval and percent weight
of each study in columns on the right, a diamond for the pooled estimate and, when given,
a line for the prediction interval.  With ``groups`` the studies are listed under subgroup
headings, each subgroup closed by its own diamond, and the test for subgroup differences
is printed under the overall result.  The root element has ``role="img"``, a ``<title>``
with a text summary of every row and a ``<desc>`` explaining how to read the plot, for
screen readers; ``figures.svg_to`` turns it into PNG or PDF.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Protocol

__all__ = ["RATIO_TICKS", "Z95", "PooledSummary", "forest_svg"]

Z95 = 1.959963984540054
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
_FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="13"'


class PooledSummary(Protocol):
    """What a subgroup row needs (``meta.MetaResult`` has it)."""

    @property
    def k(self) -> int: ...
    @property
    def estimate(self) -> float: ...
    @property
    def ci_low(self) -> float: ...
    @property
    def ci_high(self) -> float: ...


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


def _p_text(p: float | None) -> str:
    if p is None:
        return "p not defined"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


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
    groups: Sequence[str] | None = None,
    subgroups: Mapping[str, PooledSummary] | None = None,
    subgroup_test: tuple[float, int, float | None] | None = None,
    weights: Sequence[float] | None = None,
) -> str:
    """Draw a forest plot; every estimate is on the analysis scale (log scale for ratios).

    One row a study (square sized by its weight, line for its 95% CI), a diamond for the
    pooled estimate and, when given, a line for the prediction interval.  For ratio
    measures the axis is on the log scale and labelled with ratios.  The weight column
    shows each study's percent of the total weight, by default ``1 / (vi + tau2)``
    (the pooled model's weights); pass ``weights`` (any positive numbers, one a study)
    to show others.

    Subgroups: ``groups`` gives each study's subgroup (studies are listed by subgroup,
    in order of first appearance, keeping their order within a subgroup) and
    ``subgroups`` maps each subgroup to its pooled result (``k``, ``estimate``,
    ``ci_low``, ``ci_high``; e.g. the ``results`` of ``meta.subgroup_analysis``),
    drawn as a diamond closing the subgroup with the sum of its studies' weights.
    ``subgroup_test`` is ``(Q, df, p)`` of the test for subgroup differences, printed
    under the overall result.

    Raises ``ValueError`` for mismatched lengths, no studies, non-finite values,
    variances <= 0 or a subgroup without a pooled result.
    """
    rows = len(labels)
    if not rows:
        raise ValueError("no studies given")
    if len(yi) != rows or len(vi) != rows:
        raise ValueError(f"labels, yi and vi have different lengths ({rows}, {len(yi)}, {len(vi)})")
    for index, (y, v) in enumerate(zip(yi, vi, strict=True)):
        if not (math.isfinite(y) and math.isfinite(v)) or v <= 0:
            raise ValueError(f"row {index + 1}: effect and variance must be finite, variance > 0")
    if weights is None:
        weights = [1 / (v + tau2) for v in vi]
    elif len(weights) != rows or not all(w > 0 and math.isfinite(w) for w in weights):
        raise ValueError("weights must be one positive number a study")
    total = sum(weights)
    percent = [100 * w / total for w in weights]
    biggest = max(weights)
    lows = [y - Z95 * math.sqrt(v) for y, v in zip(yi, vi, strict=True)]
    highs = [y + Z95 * math.sqrt(v) for y, v in zip(yi, vi, strict=True)]

    # Rows from top to bottom: (kind, payload).
    order: list[tuple[str, object]] = []
    share: dict[str, float] = {}
    if groups is not None:
        if len(groups) != rows:
            raise ValueError(f"groups has {len(groups)} values for {rows} studies")
        names = list(dict.fromkeys(str(g) for g in groups))
        subgroups = subgroups or {}
        for name in names:
            if name not in subgroups:
                raise ValueError(f"no pooled result for subgroup {name!r}")
            order.append(("heading", name))
            order.extend(("study", i) for i in range(rows) if str(groups[i]) == name)
            order.append(("subtotal", name))
            share[name] = sum(percent[i] for i in range(rows) if str(groups[i]) == name)
            order.append(("gap", None))
    else:
        subgroups = {}
        order.extend(("study", i) for i in range(rows))
    order.append(("pooled", None))
    if pi_low is not None and pi_high is not None:
        order.append(("pi", None))
    if subgroup_test is not None:
        order.append(("test", None))

    extent = [*lows, *highs, ci_low, ci_high, 0.0]
    for summary in subgroups.values():
        extent += [summary.ci_low, summary.ci_high]
    if pi_low is not None and pi_high is not None:
        extent += [pi_low, pi_high]
    low, high = min(extent), max(extent)
    pad = (high - low) * 0.05 or 0.1
    low, high = low - pad, high + pad
    label_w, plot_w, text_w, weight_w, row_h, top = 220, 380, 170, 70, 22, 40
    width = label_w + plot_w + text_w + weight_w
    height = top + (len(order) + 1.5) * row_h + 40
    text_x, weight_x = label_w + plot_w + 8, label_w + plot_w + text_w + weight_w - 8

    def x(value: float) -> float:
        return label_w + (value - low) / (high - low) * plot_w

    def shown(value: float) -> str:
        return f"{math.exp(value):.2f}" if ratio else f"{value:.2f}"

    def interval(est: float, lo: float, hi: float) -> str:
        return f"{shown(est)} [{shown(lo)}, {shown(hi)}]"

    def diamond(cy: float, est: float, lo: float, hi: float, fill: str) -> str:
        return (
            f'<polygon points="{x(lo):.1f},{cy:.1f} {x(est):.1f},{cy - 7:.1f} '
            f'{x(hi):.1f},{cy:.1f} {x(est):.1f},{cy + 7:.1f}" fill="{fill}"/>'
        )

    study_text = "; ".join(
        f"{label} {interval(y, lo, hi)}, weight {pc:.1f}%"
        for label, y, lo, hi, pc in zip(labels, yi, lows, highs, percent, strict=True)
    )
    pooled = f"{model} pooled {interval(estimate, ci_low, ci_high)}"
    desc = (
        "Each study is a row: a square at its effect estimate, sized by its weight, and a "
        "horizontal line for its 95% confidence interval; the columns on the right give the "
        "estimate with its interval and the study's percent of the total weight. The diamond "
        "is the pooled estimate, its width the confidence interval. The dashed vertical line "
        f"marks no effect ({'a ratio of 1' if ratio else '0'})"
        f"{'; the axis is on the log scale, labelled with ratios' if ratio else ''}."
    )
    if pi_low is not None and pi_high is not None:
        desc += (
            " The thick line below the diamond is the prediction interval "
            f"[{shown(pi_low)}, {shown(pi_high)}]."
        )
    if groups is not None:
        desc += (
            " Studies are listed under subgroup headings; each subgroup ends with its own "
            "diamond (a separate model fitted to its studies) and the sum of its studies' "
            "weights. Subgroup results: "
            + "; ".join(
                f"{name} (k = {s.k}) {interval(s.estimate, s.ci_low, s.ci_high)}"
                for name, s in subgroups.items()
            )
            + "."
        )
    test_text = ""
    if subgroup_test is not None:
        q, df, p = subgroup_test
        test_text = f"Test for subgroup differences: Q = {q:.2f}, df = {df}, {_p_text(p)}"
        desc += f" {test_text}."
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart forest" role="img" '
        f'viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}" {_FONT}>',
        f"<title>Forest plot{' of ' + escape(measure) if measure else ''}: "
        f"{escape(study_text)}; {escape(pooled)}</title>",
        f"<desc>{escape(desc)}</desc>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="8" y="24" font-weight="bold">Study</text>'
        f'<text x="{text_x}" y="24" font-weight="bold">'
        f"{escape(measure or 'Estimate')} [95% CI]</text>"
        f'<text x="{weight_x}" y="24" font-weight="bold" text-anchor="end">Weight</text>',
    ]
    drawn = len(order) - (1 if subgroup_test is not None else 0)  # the test row is text only
    last_y = top + (drawn - 0.4) * row_h
    parts.append(
        f'<line x1="{x(0.0):.1f}" y1="{top - 6}" x2="{x(0.0):.1f}" '
        f'y2="{last_y:.1f}" stroke="#555" stroke-dasharray="4 3"/>'
    )
    for position, (kind, payload) in enumerate(order):
        cy = top + position * row_h + row_h / 2
        if kind == "heading":
            parts.append(
                f'<text x="8" y="{cy + 4:.1f}" font-weight="bold" font-style="italic">'
                f"{escape(str(payload))}</text>"
            )
        elif kind == "study":
            i = int(str(payload))
            side = 4 + 8 * math.sqrt(weights[i] / biggest)
            indent = 20 if groups is not None else 8
            parts.append(
                f'<text x="{indent}" y="{cy + 4:.1f}">{escape(labels[i])}</text>'
                f'<line x1="{x(lows[i]):.1f}" y1="{cy:.1f}" x2="{x(highs[i]):.1f}" '
                f'y2="{cy:.1f}" stroke="#111"/>'
                f'<rect x="{x(yi[i]) - side / 2:.1f}" y="{cy - side / 2:.1f}" '
                f'width="{side:.1f}" height="{side:.1f}" fill="#0b5c8a"/>'
                f'<text x="{text_x}" y="{cy + 4:.1f}">{interval(yi[i], lows[i], highs[i])}</text>'
                f'<text x="{weight_x}" y="{cy + 4:.1f}" text-anchor="end">{percent[i]:.1f}%</text>'
            )
        elif kind == "subtotal":
            name = str(payload)
            s = subgroups[name]
            parts.append(
                diamond(cy, s.estimate, s.ci_low, s.ci_high, "#5a7d9a")
                + f'<text x="20" y="{cy + 4:.1f}">Subgroup {escape(name)} (k = {s.k})</text>'
                f'<text x="{text_x}" y="{cy + 4:.1f}">'
                f"{interval(s.estimate, s.ci_low, s.ci_high)}</text>"
                f'<text x="{weight_x}" y="{cy + 4:.1f}" text-anchor="end">{share[name]:.1f}%</text>'
            )
        elif kind == "pooled":
            parts.append(
                diamond(cy, estimate, ci_low, ci_high, "#8a1c1c")
                + f'<text x="8" y="{cy + 4:.1f}" font-weight="bold">'
                f"{escape(model or 'Pooled')}</text>"
                f'<text x="{text_x}" y="{cy + 4:.1f}" font-weight="bold">'
                f"{interval(estimate, ci_low, ci_high)}</text>"
                f'<text x="{weight_x}" y="{cy + 4:.1f}" text-anchor="end" '
                f'font-weight="bold">100%</text>'
            )
        elif kind == "pi" and pi_low is not None and pi_high is not None:
            parts.append(
                f'<line x1="{x(pi_low):.1f}" y1="{cy:.1f}" x2="{x(pi_high):.1f}" y2="{cy:.1f}" '
                f'stroke="#8a1c1c" stroke-width="3"/>'
                f'<text x="8" y="{cy + 4:.1f}">Prediction interval</text>'
                f'<text x="{text_x}" y="{cy + 4:.1f}">[{shown(pi_low)}, {shown(pi_high)}]</text>'
            )
        elif kind == "test":
            parts.append(
                f'<text x="8" y="{cy + 4:.1f}" class="subgroup-test">{escape(test_text)}</text>'
            )
    axis_y = top + (len(order) + 0.4) * row_h
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

"""Accessible SVG funnel plots (standard library only).

``funnel_svg(yi, vi, estimate)`` returns an SVG document as a string: observed effects
on the x axis, standard errors on the y axis (inverted, 0 at the top, as metafor's
``funnel()``), the pseudo-95% confidence region ``estimate +/- 1.96 se`` around the
pooled estimate, and optionally the contour-enhanced regions of Peters et al. (2008)
centred at 0 (shaded where a study's two-sided p is in .10-.05, .05-.01 and < .01).
The root element has ``role="img"`` and is labelled by a ``<title>`` with a text
summary and a ``<desc>`` describing the regions, for screen readers.

References
----------
Light RJ, Pillemer DB (1984). Summing Up: The Science of Reviewing Research. Harvard
    University Press.
Sterne JAC, Egger M (2001). Funnel plots for detecting bias in meta-analysis:
    guidelines on choice of axis. J Clin Epidemiol 54:1046-1055.
Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2008). Contour-enhanced
    meta-analysis funnel plots help distinguish publication bias from other causes of
    asymmetry. J Clin Epidemiol 61:991-996.
Viechtbauer W (2010). J Stat Softw 36(3); metafor reference manual, ``funnel()``,
    https://wviechtb.github.io/metafor/reference/funnel.html.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

__all__ = ["funnel_svg"]

_WIDTH = 480
_HEIGHT = 360
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 20, 40, 50
_Z95 = 1.959963984540054
#: Two-sided normal quantiles for p = .10, .05, .01 and the region fills (light to dark).
_CONTOURS = ((1.6448536269514722, "#f2f2f2"), (_Z95, "#bfbfbf"), (2.5758293035489004, "#8c8c8c"))
_RATIOS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)


def _floats(values: Sequence[float], name: str) -> list[float]:
    out = []
    for i, value in enumerate(values):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"row {i + 1}: '{name}' is not finite")
        out.append(number)
    return out


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.3g}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    span = hi - lo
    raw = span / max(n - 1, 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + 1e-9 * span:
        ticks.append(0.0 if abs(value) < 1e-12 else value)
        value += step
    return ticks


def _ratio_ticks(lo: float, hi: float) -> list[float]:
    """Logs of round ratios inside [lo, hi] (at most 7), else evenly spaced log ticks."""
    for ratios in (_RATIOS, _RATIOS[::3], (0.001, 0.01, 0.1, 1, 10, 100, 1000)):
        ticks = [math.log(r) for r in ratios if lo <= math.log(r) <= hi]
        if 2 <= len(ticks) <= 7:
            return ticks
    return _ticks(lo, hi)


def funnel_svg(
    yi: Sequence[float],
    vi: Sequence[float],
    estimate: float,
    *,
    contours: bool = False,
    ratio: bool = False,
    title: str = "Funnel plot",
) -> str:
    """Draw a funnel plot as an SVG string.

    ``yi``/``vi`` are the observed effects and sampling variances and ``estimate`` the
    pooled estimate (all on the analysis scale, e.g. log risk ratios).  With
    ``ratio=True`` the x-axis labels show ``exp()`` of the values (the plot stays
    on the log scale) and the reference line of the contours is 1.  ``contours=True``
    adds the contour-enhanced regions (p < .10, < .05, < .01, centred at 0).  The
    ``<title>`` holds ``title`` followed by a text summary (number of studies, the
    estimate, how many studies fall outside the pseudo-95% limits).

    Raises ``ValueError`` for mismatched lengths, no studies, non-finite values or
    non-positive variances.
    """
    y = _floats(yi, "yi")
    v = _floats(vi, "vi")
    if len(y) != len(v):
        raise ValueError(f"yi and vi have different lengths ({len(y)} and {len(v)})")
    if not y:
        raise ValueError("no studies given")
    for i, value in enumerate(v):
        if value <= 0:
            raise ValueError(f"row {i + 1}: sampling variance must be > 0")
    estimate = float(estimate)
    if not math.isfinite(estimate):
        raise ValueError("estimate is not finite")
    se = [math.sqrt(value) for value in v]
    se_max = max(se) * 1.05

    # x range: the studies and the widest pseudo-confidence (and contour) limits.
    half = (_CONTOURS[-1][0] if contours else _Z95) * se_max
    centres = [estimate, 0.0] if contours else [estimate]
    x_lo = min(min(y), *(c - half for c in centres))
    x_hi = max(max(y), *(c + half for c in centres))
    pad = 0.04 * (x_hi - x_lo or 1.0)
    x_lo, x_hi = x_lo - pad, x_hi + pad
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM

    def px(x: float) -> float:
        return _LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w

    def py(s: float) -> float:
        return _TOP + s / se_max * plot_h

    def tri(centre: float, z: float) -> str:
        # Region |x - centre| <= z * se from se = 0 (top) to se_max (bottom).
        points = [
            (px(centre), py(0.0)),
            (px(centre + z * se_max), py(se_max)),
            (px(centre - z * se_max), py(se_max)),
        ]
        return " ".join(f"{a:.2f},{b:.2f}" for a, b in points)

    outside = sum(1 for yy, s in zip(y, se, strict=True) if abs(yy - estimate) > _Z95 * s)
    shown = (lambda x: math.exp(x)) if ratio else (lambda x: x)
    scale_note = " (ratio scale)" if ratio else ""
    summary = (
        f"{title}: {len(y)} stud{'y' if len(y) == 1 else 'ies'}, pooled estimate "
        f"{_fmt(shown(estimate))}{scale_note}; {outside} of {len(y)} outside the "
        "pseudo-95% confidence limits. Standard error on the vertical axis, "
        "0 at the top."
    )
    desc = (
        "Points are studies plotted by effect size (horizontal) and standard error "
        "(vertical, inverted). The white triangle bounded by dashed lines is the "
        "pseudo-95% confidence region around the pooled estimate (vertical line)."
    )
    if contours:
        desc += (
            " Shaded contours centred at the null show where a study's two-sided p value "
            "is between .10 and .05 (lightest), between .05 and .01, and below .01 "
            "(darkest)."
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        'aria-labelledby="funnel-title funnel-desc">',
        f'<title id="funnel-title">{escape(summary)}</title>',
        f'<desc id="funnel-desc">{escape(desc)}</desc>',
        f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="#ffffff"/>',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="#ffffff" stroke="#000000"/>',
    ]
    parts.append(
        f'<svg x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" overflow="hidden">'
    )
    parts.append(f'<g transform="translate({-_LEFT},{-_TOP})">')
    if contours:
        # Draw outermost first: the area beyond |z| = 1.645 is shaded by successively
        # darker bands, the inner (p > .10) triangle is left white.
        parts.append(
            f'<rect class="contour p01" x="{_LEFT}" y="{_TOP}" width="{plot_w}" '
            f'height="{plot_h}" fill="{_CONTOURS[2][1]}"/>'
        )
        for (z, _), fill, label in (
            (_CONTOURS[2], _CONTOURS[1][1], "p05"),
            (_CONTOURS[1], _CONTOURS[0][1], "p10"),
            (_CONTOURS[0], "#ffffff", "ns"),
        ):
            parts.append(f'<polygon class="contour {label}" points="{tri(0.0, z)}" fill="{fill}"/>')
    parts.append(
        f'<polygon class="pseudo-ci" points="{tri(estimate, _Z95)}" '
        f'fill="{"none" if contours else "#ffffff"}" stroke="#000000" '
        'stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<line class="estimate" x1="{px(estimate):.2f}" y1="{py(0.0):.2f}" '
        f'x2="{px(estimate):.2f}" y2="{py(se_max):.2f}" stroke="#000000"/>'
    )
    for yy, s in zip(y, se, strict=True):
        parts.append(
            f'<circle class="study" cx="{px(yy):.2f}" cy="{py(s):.2f}" r="3.5" fill="#000000"/>'
        )
    parts.append("</g></svg>")

    # Axes: ticks and labels (round ratios on the log scale for ratio measures).
    for tick in _ratio_ticks(x_lo, x_hi) if ratio else _ticks(x_lo, x_hi):
        x = px(tick)
        parts.append(
            f'<line x1="{x:.2f}" y1="{_HEIGHT - _BOTTOM}" x2="{x:.2f}" '
            f'y2="{_HEIGHT - _BOTTOM + 5}" stroke="#000000"/>'
        )
        parts.append(
            f'<text x="{x:.2f}" y="{_HEIGHT - _BOTTOM + 18}" font-size="11" '
            f'text-anchor="middle">{escape(_fmt(shown(tick)))}</text>'
        )
    for tick in _ticks(0.0, se_max):
        y_pos = py(tick)
        parts.append(
            f'<line x1="{_LEFT - 5}" y1="{y_pos:.2f}" x2="{_LEFT}" y2="{y_pos:.2f}" '
            'stroke="#000000"/>'
        )
        parts.append(
            f'<text x="{_LEFT - 8}" y="{y_pos + 4:.2f}" font-size="11" '
            f'text-anchor="end">{escape(_fmt(tick))}</text>'
        )
    x_label = "Effect size (ratio, log scale)" if ratio else "Effect size"
    parts.append(
        f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 12}" font-size="12" '
        f'text-anchor="middle">{x_label}</text>'
    )
    parts.append(
        f'<text x="16" y="{_TOP + plot_h / 2:.1f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 16 {_TOP + plot_h / 2:.1f})">Standard error</text>'
    )
    parts.append(
        f'<text x="{_WIDTH / 2:.1f}" y="22" font-size="14" text-anchor="middle">'
        f"{escape(title)}</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)

"""Number formatting for statistical tables: fixed decimals, p values as journals print them."""

from __future__ import annotations

import math

from django import template

register = template.Library()


@register.filter
def num(value: object, places: int = 2) -> str:
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    return f"{value:.{int(places)}f}".replace("-", "−")


@register.filter
def pvalue(value: object) -> str:
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    if value < 0.001:
        return "< 0.001"
    return f"{value:.3f}"

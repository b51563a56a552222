"""Inter-rater agreement for screening decisions: percent agreement and Cohen's kappa.

Plain functions, no Django::

    cohen_kappa(["include", "exclude", "exclude"], ["include", "exclude", "include"])
    # 0.4

    pairwise([("ana", "r1", "include"), ("ben", "r1", "exclude"), ...])
    # [PairAgreement(reviewer_a="ana", reviewer_b="ben", records_in_common=120, agreed=104,
    #                percent=86.7, kappa=0.61, conflicts=["r1", ...]), ...]

Cohen's kappa (Cohen 1960) is the agreement beyond chance, as a share of the agreement
beyond chance that was possible: ``(p_o - p_e) / (1 - p_e)``, where ``p_o`` is the share of
items on which the two raters agree and ``p_e = sum_k p1_k * p2_k`` the agreement expected if
each rated at random with their own observed frequencies. It is computed here from the
integer counts, ``(n * agreed - sum_k n1_k * n2_k) / (n**2 - sum_k n1_k * n2_k)``, so
that it is exact up to one division.

**When kappa is undefined** (``None``): with no items, and when ``p_e`` is 1, i.e. when
both raters put every item in the same single category (both said "exclude" to all).
Kappa is then 0/0: the raters agree perfectly, but there is no variation for agreement
beyond chance to be measured on. scikit-learn's ``cohen_kappa_score`` returns ``nan`` there;
``None`` makes a caller say so ("kappa not defined: both reviewers excluded every record")
instead of printing ``nan``. Percent agreement is still defined (100%). When only one rater
is constant, kappa is defined (it is 0 or below).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

DECISIONS: tuple[str, ...] = ("include", "exclude", "maybe")
"""The screening decisions :func:`pairwise` accepts (case and surrounding spaces ignored)."""


def _check_lengths(first: Sequence[str], second: Sequence[str]) -> None:
    if len(first) != len(second):
        raise ValueError(
            f"the two raters must rate the same items: {len(first)} ratings against {len(second)}"
        )


def percent_agreement(first: Sequence[str], second: Sequence[str]) -> float | None:
    """The percentage (0-100) of items on which the two raters gave the same rating;
    ``None`` when there are no items. ``first[i]`` and ``second[i]`` rate the same item."""
    _check_lengths(first, second)
    if not first:
        return None
    agreed = sum(a == b for a, b in zip(first, second, strict=True))
    return 100.0 * agreed / len(first)


def cohen_kappa(
    first: Sequence[str], second: Sequence[str], categories: Sequence[str] | None = None
) -> float | None:
    """Cohen's (unweighted) kappa for two raters who rated the same items.

    ``first[i]`` and ``second[i]`` are the two ratings of item ``i``. ``categories``, if
    given, lists the allowed ratings: a rating outside it raises ``ValueError`` (categories
    no one used do not change kappa). Returns ``None`` where kappa is undefined: no items,
    or both raters giving every item the same single category (see the module docstring).
    """
    _check_lengths(first, second)
    if categories is not None:
        allowed = set(categories)
        unknown = sorted({*first, *second} - allowed)
        if unknown:
            raise ValueError(
                f"ratings outside the categories {list(categories)}: {', '.join(unknown)}"
            )
    n = len(first)
    if n == 0:
        return None
    agreed = sum(a == b for a, b in zip(first, second, strict=True))
    counts_first = Counter(first)
    counts_second = Counter(second)
    chance = sum(count * counts_second[label] for label, count in counts_first.items())
    denominator = n * n - chance
    if denominator == 0:
        return None
    return (n * agreed - chance) / denominator


@dataclass
class PairAgreement:
    """Agreement between two reviewers over the records both of them screened."""

    reviewer_a: str
    reviewer_b: str
    records_in_common: int
    agreed: int
    percent: float  # 0-100
    kappa: float | None  # None when undefined (see the module docstring)
    conflicts: list[str] = field(default_factory=list)  # record ids they decided differently


def _normalise_decision(decision: str, reviewer: str, record_id: str) -> str:
    value = decision.strip().lower()
    if value not in DECISIONS:
        raise ValueError(
            f"unknown decision {decision!r} by {reviewer!r} on record {record_id!r}; "
            f"expected one of: {', '.join(DECISIONS)}"
        )
    return value


def pairwise(
    decisions: Iterable[tuple[str, str, str]], *, maybe_as: str | None = None
) -> list[PairAgreement]:
    """Agreement for every pair of reviewers, over the records both screened.

    ``decisions`` holds ``(reviewer, record_id, decision)`` triples; a decision is
    ``include``, ``exclude`` or ``maybe`` (see :data:`DECISIONS`). When a reviewer decides
    the same record twice, the later decision counts (they changed their mind).

    "maybe" is a category of its own by default; ``maybe_as="include"`` (or ``"exclude"``)
    counts it as that decision, e.g. to measure agreement on "goes forward to full text".

    Returns one :class:`PairAgreement` per pair of reviewers who screened at least one
    record in common (a pair with nothing in common has no agreement to report and is left
    out), pairs in alphabetical order (``reviewer_a`` < ``reviewer_b``). ``conflicts``
    lists the records they decided differently, in the order the records first appear in
    ``decisions``.
    """
    if maybe_as not in (None, *DECISIONS):
        raise ValueError(f"maybe_as must be one of {', '.join(DECISIONS)} or None")
    collapse = maybe_as if maybe_as not in (None, "maybe") else None
    categories = [d for d in DECISIONS if collapse is None or d != "maybe"]

    by_reviewer: dict[str, dict[str, str]] = {}
    order: dict[str, int] = {}
    for reviewer, record_id, decision in decisions:
        value = _normalise_decision(decision, reviewer, record_id)
        if collapse is not None and value == "maybe":
            value = collapse
        by_reviewer.setdefault(reviewer, {})[record_id] = value
        order.setdefault(record_id, len(order))

    results: list[PairAgreement] = []
    for reviewer_a, reviewer_b in combinations(sorted(by_reviewer), 2):
        first = by_reviewer[reviewer_a]
        second = by_reviewer[reviewer_b]
        smaller, larger = (first, second) if len(first) <= len(second) else (second, first)
        common = sorted((r for r in smaller if r in larger), key=order.__getitem__)
        if not common:
            continue
        ratings_a = [first[record] for record in common]
        ratings_b = [second[record] for record in common]
        conflicts = [
            record for record, a, b in zip(common, ratings_a, ratings_b, strict=True) if a != b
        ]
        results.append(
            PairAgreement(
                reviewer_a=reviewer_a,
                reviewer_b=reviewer_b,
                records_in_common=len(common),
                agreed=len(common) - len(conflicts),
                percent=100.0 * (len(common) - len(conflicts)) / len(common),
                kappa=cohen_kappa(ratings_a, ratings_b, categories),
                conflicts=conflicts,
            )
        )
    return results


__all__ = ["DECISIONS", "PairAgreement", "cohen_kappa", "pairwise", "percent_agreement"]

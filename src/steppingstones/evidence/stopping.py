"""When to stop screening: a heuristic and two statistical rules, each an *estimate*.

Plain numpy/scipy module (no Django). Every function takes the screening decisions in the order
they were made (1 = relevant, 0 = irrelevant) and returns a :class:`StoppingAdvice` that names
its method and reference and always carries ``is_estimate=True``: none of these rules can know
the true recall, which depends on relevant records nobody has read yet.

Rules
-----
``consecutive_irrelevant(labels, n)``
    Heuristic: stop after ``n`` irrelevant records in a row. Common in practice, gives no recall
    estimate and has no statistical guarantee (Callaghan & Müller-Hansen 2020 show why).
``knee_method(labels, total_records)``
    Cormack & Grossman (2016), "Engineering quality and reliability in technology-assisted
    review", SIGIR '16, doi:10.1145/2911451.2911510: find the knee of the gain curve (the point
    farthest above the chord from the origin to the current point), compare the slope before
    it with the slope after it (with one relevant record added after the knee), and stop when
    the ratio reaches ``156 - min(relevant found, 150)`` once at least 150 records are screened.
    Recall is estimated by extending the post-knee slope over the unscreened records.
``hypergeometric_test(labels, total_records, target_recall, confidence)``
    Callaghan & Müller-Hansen (2020), "Statistical stopping criteria for automated screening in
    systematic reviews", Systematic Reviews 9:273, doi:10.1186/s13643-020-01521-4 (the
    *buscar* method): the last ``n`` screened records are treated as a random sample of the
    records not screened before them (conservative, because prioritisation puts relevant
    records first); the null hypothesis "recall is below the target" is tested with the
    hypergeometric distribution for every ``n`` and rejected when the smallest p is below
    ``1 - confidence``. The lower confidence bound of recall is the highest target the test
    rejects, and the reported point estimate is the target at which p = 0.5.
``random_sample_estimate(sample_relevant, sample_size, population, found)``
    Estimate of the total number of relevant records from a simple random sample of the
    unscreened records (Clopper-Pearson interval), giving recall with a confidence bound.
``stopping_aid(labels, total_records)``
    All of the above that apply, with the statistical rule's recommendation first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import beta, hypergeom

KNEE_REFERENCE = (
    "Cormack GV, Grossman MR. Engineering quality and reliability in technology-assisted "
    "review. SIGIR 2016. doi:10.1145/2911451.2911510"
)
HYPERGEOMETRIC_REFERENCE = (
    "Callaghan MW, Müller-Hansen F. Statistical stopping criteria for automated screening in "
    "systematic reviews. Systematic Reviews 2020;9:273. doi:10.1186/s13643-020-01521-4"
)
RANDOM_SAMPLE_REFERENCE = (
    "Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case "
    "of the binomial. Biometrika 1934;26:404-413 (interval for the sample's inclusion rate)"
)
HEURISTIC_REFERENCE = "rule of thumb; no statistical guarantee"

ESTIMATE_NOTE = (
    "This is an estimate: true recall depends on relevant records that have not been read."
)


@dataclass(frozen=True)
class StoppingAdvice:
    """What one stopping rule says about the screening so far.

    ``recommended_stop`` is the number of screened records at which the rule first says stop
    (``None`` if it has not fired yet); ``should_stop`` is whether it says stop now.
    ``recall_estimate`` / ``recall_lower`` are ``None`` when the method gives none.
    """

    method: str
    reference: str
    screened: int
    relevant_found: int
    should_stop: bool
    recommended_stop: int | None
    recall_estimate: float | None
    recall_lower: float | None = None
    confidence: float | None = None
    estimated_total_relevant: float | None = None
    detail: str = ""
    is_estimate: bool = True
    note: str = ESTIMATE_NOTE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for a person: the method, the estimate (said to be one) and the advice."""
        parts = [f"{self.method}:"]
        if self.recall_estimate is not None:
            parts.append(f"estimated recall {self.recall_estimate:.0%}")
        if self.recall_lower is not None and self.confidence is not None:
            parts.append(
                f"(at least {self.recall_lower:.0%} with {self.confidence:.0%} confidence)"
            )
        if self.recall_estimate is None and self.recall_lower is None:
            parts.append("no recall estimate")
        if self.should_stop:
            parts.append(f"- stopping is supported from record {self.recommended_stop}")
        else:
            parts.append("- keep screening")
        return " ".join(parts) + " [estimate]"


def _as_labels(labels_in_order: Sequence[int] | np.ndarray) -> np.ndarray:
    array = np.asarray(labels_in_order, dtype=np.int64).ravel()
    if array.size and (array.min() < 0 or array.max() > 1):
        raise ValueError("labels must be 0 (irrelevant) or 1 (relevant)")
    return array


def _check_total(total_records: int, screened: int) -> None:
    if total_records < screened:
        raise ValueError(
            f"total_records ({total_records}) is smaller than the number screened ({screened})"
        )


# --- heuristic ------------------------------------------------------------------------------


def consecutive_irrelevant(labels_in_order: Sequence[int] | np.ndarray, n: int) -> StoppingAdvice:
    """Stop after ``n`` irrelevant records in a row (a heuristic, with no recall estimate)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    labels = _as_labels(labels_in_order)
    first: int | None = None
    run = 0
    for position, label in enumerate(labels, start=1):
        run = 0 if label else run + 1
        if run >= n:
            first = position
            break
    trailing = 0
    for label in labels[::-1]:
        if label:
            break
        trailing += 1
    return StoppingAdvice(
        method=f"heuristic: {n} consecutive irrelevant records",
        reference=HEURISTIC_REFERENCE,
        screened=int(labels.size),
        relevant_found=int(labels.sum()),
        should_stop=trailing >= n,
        recommended_stop=first,
        recall_estimate=None,
        detail=f"{trailing} irrelevant in a row now",
    )


# --- knee method (Cormack & Grossman 2016) --------------------------------------------------


def _knee_at(cumulative: np.ndarray, s: int) -> tuple[int, float]:
    """Knee position (records screened, 1-based) and slope ratio rho at ``s`` screened."""
    found = float(cumulative[s - 1])
    positions = np.arange(1, s + 1, dtype=np.float64)
    # Farthest point above the chord from (0, 0) to (s, found): the gain-curve knee.
    distance = cumulative[:s] - positions * (found / s)
    knee = int(np.argmax(distance)) + 1
    if knee >= s:
        return knee, 0.0
    before = cumulative[knee - 1] / knee
    after = (found - cumulative[knee - 1] + 1.0) / (s - knee)
    return knee, float(before / after)


def knee_method(
    labels_in_order: Sequence[int] | np.ndarray,
    total_records: int,
    *,
    min_screened: int = 150,
    check_every: int | None = None,
) -> StoppingAdvice:
    """Cormack & Grossman's (2016) knee method, with a slope-extrapolated recall estimate.

    The rule is checked at every ``check_every`` records (default about 1,000 checks over the
    screened list) and fires at the first check with at least ``min_screened`` records where
    rho >= 156 - min(relevant found, 150).
    """
    labels = _as_labels(labels_in_order)
    screened = int(labels.size)
    _check_total(total_records, screened)
    cumulative = np.cumsum(labels).astype(np.float64)
    found = int(labels.sum())
    step = check_every or max(1, screened // 1000)
    first: int | None = None
    if found:
        checks = list(range(min_screened, screened + 1, step))
        if screened >= min_screened and (not checks or checks[-1] != screened):
            checks.append(screened)
        for s in checks:
            _, rho = _knee_at(cumulative, s)
            if rho >= 156 - min(float(cumulative[s - 1]), 150.0):
                first = s
                break
    rho_now = 0.0
    recall: float | None = None
    estimated_total: float | None = None
    if screened and found:
        knee, rho_now = _knee_at(cumulative, screened)
        if knee < screened:
            rate_after = (found - cumulative[knee - 1] + 1.0) / (screened - knee)
        else:
            rate_after = 1.0 / max(screened, 1)
        estimated_total = found + rate_after * (total_records - screened)
        recall = found / estimated_total if estimated_total else None
    threshold = 156 - min(found, 150)
    return StoppingAdvice(
        method="knee method (Cormack & Grossman 2016)",
        reference=KNEE_REFERENCE,
        screened=screened,
        relevant_found=found,
        should_stop=first is not None,
        recommended_stop=first,
        recall_estimate=recall,
        estimated_total_relevant=estimated_total,
        detail=(
            f"slope ratio {rho_now:.1f} (stops at >= {threshold}, after >= {min_screened} "
            "screened); recall extrapolated from the slope after the knee"
        ),
    )


# --- hypergeometric test (Callaghan & Müller-Hansen 2020) ------------------------------------


def _window_sizes(screened: int) -> np.ndarray:
    """Sample sizes tested: every size up to 100, then sizes 3% apart, and the whole list."""
    sizes = [np.arange(1, min(screened, 100) + 1)]
    if screened > 100:
        steps = int(math.log(screened / 100) / math.log(1.03)) + 1
        sizes.append(np.round(100 * 1.03 ** np.arange(1, steps + 1)).astype(np.int64))
        sizes.append(np.asarray([screened]))
    all_sizes = np.unique(np.concatenate(sizes))
    return all_sizes[all_sizes <= screened]


def _h0_p(labels: np.ndarray, total_records: int, target: float) -> float:
    """Smallest p over the 'last n records' samples for H0: recall < target.

    Callaghan & Müller-Hansen test every n; to keep this fast on long lists, n runs over every
    size up to 100 and then sizes 3% apart (a minimum over fewer tests: slightly conservative).
    """
    found = float(labels.sum())
    sizes = _window_sizes(labels.size)
    in_sample = np.cumsum(labels[::-1])[sizes - 1]
    population = total_records - (labels.size - sizes)
    before = found - in_sample
    needed = np.floor(found / target - before + 1.0)
    impossible = needed > population
    p = hypergeom.cdf(in_sample, population, np.minimum(needed, population), sizes)
    p = np.where(impossible, 0.0, p)
    p = p[np.isfinite(p)]
    return float(p.min()) if p.size else 1.0


def _recall_where_p(labels: np.ndarray, total_records: int, level: float) -> float:
    """Highest target recall (to 0.001) whose H0 p-value is below ``level``; 0 if none."""
    if _h0_p(labels, total_records, 0.001) >= level:
        return 0.0
    low, high = 0.001, 1.0
    if _h0_p(labels, total_records, high) < level:
        return 1.0
    while high - low > 0.0005:
        middle = (low + high) / 2
        if _h0_p(labels, total_records, middle) < level:
            low = middle
        else:
            high = middle
    return round(low, 3)


def hypergeometric_test(
    labels_in_order: Sequence[int] | np.ndarray,
    total_records: int,
    *,
    target_recall: float = 0.95,
    confidence: float = 0.95,
    check_every: int | None = None,
    find_first: bool = True,
) -> StoppingAdvice:
    """Callaghan & Müller-Hansen's (2020) stopping criterion, with recall bounds.

    With ``find_first``, ``recommended_stop`` is the first check (every ``check_every``
    records, default about 100 checks) where the null hypothesis "recall < target_recall" is
    rejected at ``1 - confidence``; without it (live screening: only now matters) it is the
    current count when the test rejects now.
    """
    if not 0 < target_recall < 1 or not 0 < confidence < 1:
        raise ValueError("target_recall and confidence must be between 0 and 1")
    labels = _as_labels(labels_in_order)
    screened = int(labels.size)
    _check_total(total_records, screened)
    found = int(labels.sum())
    alpha = 1 - confidence
    first: int | None = None
    p_now = 1.0
    lower: float | None = None
    point: float | None = None
    if found:
        p_now = _h0_p(labels, total_records, target_recall)
        step = check_every or max(1, screened // 100)
        checks = list(range(step, screened + 1, step)) if find_first else []
        if not checks or checks[-1] != screened:
            checks.append(screened)
        for s in checks:
            if s == screened:
                first = s if p_now < alpha else None
                break
            if labels[:s].sum() and _h0_p(labels[:s], total_records, target_recall) < alpha:
                first = s
                break
        lower = _recall_where_p(labels, total_records, alpha)
        point = max(_recall_where_p(labels, total_records, 0.5), lower)
    return StoppingAdvice(
        method=(
            f"hypergeometric test (Callaghan & Müller-Hansen 2020), target recall "
            f"{target_recall:.0%}"
        ),
        reference=HYPERGEOMETRIC_REFERENCE,
        screened=screened,
        relevant_found=found,
        should_stop=p_now < alpha,
        recommended_stop=first,
        recall_estimate=point,
        recall_lower=lower,
        confidence=confidence,
        estimated_total_relevant=(found / point) if point else None,
        detail=f"p = {p_now:.3g} for H0 'recall < {target_recall:.0%}' (stop when p < {alpha:g})",
    )


# --- random sample of the unscreened records -------------------------------------------------


def random_sample_estimate(
    sample_relevant: int,
    sample_size: int,
    population: int,
    found: int,
    *,
    confidence: float = 0.95,
) -> StoppingAdvice:
    """Recall from a simple random sample of the ``population`` records not yet screened.

    ``found`` relevant records were found by screening; ``sample_relevant`` of ``sample_size``
    randomly drawn unscreened records were relevant. The number still missed is estimated as
    rate x population, with a one-sided Clopper-Pearson upper limit for the rate giving the
    lower bound of recall.
    """
    if not 0 <= sample_relevant <= sample_size or sample_size < 1:
        raise ValueError("need 0 <= sample_relevant <= sample_size and sample_size >= 1")
    if population < sample_size:
        raise ValueError("the sample cannot be larger than the population it comes from")
    rate = sample_relevant / sample_size
    upper_rate = (
        1.0
        if sample_relevant == sample_size
        else float(beta.ppf(confidence, sample_relevant + 1, sample_size - sample_relevant))
    )
    found_total = found + sample_relevant
    rest = population - sample_size
    missed = rate * rest
    missed_upper = upper_rate * rest
    recall = found_total / (found_total + missed) if found_total + missed else None
    lower = found_total / (found_total + missed_upper) if found_total + missed_upper else None
    return StoppingAdvice(
        method="random-sample estimate of the relevant records left (Clopper-Pearson)",
        reference=RANDOM_SAMPLE_REFERENCE,
        screened=found,
        relevant_found=found_total,
        should_stop=False,
        recommended_stop=None,
        recall_estimate=recall,
        recall_lower=lower,
        confidence=confidence,
        estimated_total_relevant=found_total + missed,
        detail=(
            f"{sample_relevant} relevant in a random sample of {sample_size} of {population} "
            "unscreened records; whether to stop is the reviewers' call given the bound"
        ),
    )


def stopping_aid(
    labels_in_order: Sequence[int] | np.ndarray,
    total_records: int,
    *,
    target_recall: float = 0.95,
    confidence: float = 0.95,
    consecutive: int | None = None,
    find_first: bool = True,
) -> list[StoppingAdvice]:
    """The statistical rule first (its recommendation is the one to show), then the others.

    ``consecutive`` defaults to :func:`default_consecutive` of the number of records.
    """
    labels = _as_labels(labels_in_order)
    if consecutive is None:
        consecutive = default_consecutive(total_records)
    return [
        hypergeometric_test(
            labels,
            total_records,
            target_recall=target_recall,
            confidence=confidence,
            find_first=find_first,
        ),
        knee_method(labels, total_records),
        consecutive_irrelevant(labels, consecutive),
    ]


def default_consecutive(total_records: int) -> int:
    """A commonly used size for the heuristic: 5% of the records, at least 50, at most 200."""
    return int(min(200, max(50, math.ceil(0.05 * total_records))))

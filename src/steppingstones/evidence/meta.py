"""Statistics engine for meta-analysis.

Plain numpy/scipy module (no Django) implementing the effect-size calculations and
the common-effect / random-effects models of R's *metafor* package (Viechtbauer,
2010), following metafor's conventions closely enough that results can be checked
number for number against ``escalc()``, ``rma()``, ``confint()``, ``predict()``,
``rma.mh()`` and ``rma.peto()``.

Public API
----------
``escalc(measure, **columns) -> EffectSizes``
    Observed effect sizes ``yi`` and sampling variances ``vi``.
``rma(yi, vi, method="REML", test="z", level=95) -> MetaResult``
    Inverse-variance common-effect ("EE") and random-effects models with the
    DL, REML, ML, PM, HE and SJ estimators of tau^2, Wald (``test="z"``) or
    Hartung-Knapp-Sidik-Jonkman (``test="knha"``) inference, Q-profile
    confidence interval for tau^2, I^2, H^2 and the prediction interval.
``rma_many(yi, vi, method="REML", test="z", level=95) -> MetaResults``
    :func:`rma` for many independent analyses at once (a 2-D array, analyses x
    studies, or lists of arrays), vectorised in NumPy; arrays of the same results.
``mantel_haenszel(ai, bi, ci, di, measure="OR") -> CommonEffectResult``
``peto(ai, bi, ci, di) -> CommonEffectResult``
    Common-effect models for 2x2 tables (rma.mh / rma.peto).
``back_transform(result) -> BackTransformed``
    ``exp()`` of the estimate and interval limits for ratio measures.
``meta_regression(yi, vi, moderators, method="REML", test="z") -> MetaRegressionResult``
    Mixed-effects meta-regression (rma with ``mods``): coefficients, QM, QE, R^2.
``subgroup_analysis(yi, vi, groups, method="REML", test="z") -> SubgroupResult``
    Separate fits per subgroup and the Q test for subgroup differences.
``leave_one_out(yi, vi, method="REML") -> list[MetaResult]``
    metafor's ``leave1out``.
``egger_test(yi, vi, method="REML") -> EggerResult``
    metafor's ``regtest`` default (mixed-effects model on sei, z test).
``trim_and_fill(yi, vi, method="REML", estimator="L0") -> TrimFillResult``
    metafor's ``trimfill`` (Duval & Tweedie, 2000).

All estimates of ratio measures (RR, OR, Peto OR) are on the log scale.

Conventions that matter when comparing with metafor
---------------------------------------------------
* Zero cells: metafor's default ``add=1/2, to="only0"`` -- 1/2 is added to every
  cell of a 2x2 table that has at least one zero cell (RR, OR, RD), and to ``xi``
  and ``ni - xi`` of a proportion with ``xi == 0`` or ``xi == ni`` (PR, PLO).  As
  in metafor, the arcsine measures PAS and PFT use ``add=0``.
* tau^2 is truncated at zero for every estimator; I^2 and H^2 of the
  random-effects models use the "typical" within-study variance of Higgins &
  Thompson (2002), ``vt = (k - 1) / (sum(w) - sum(w^2) / sum(w))`` with
  ``w = 1/vi``; for the EE model they are computed from Q.
* The Q test is always Cochran's inverse-variance Q with ``k - 1`` df.
* Where the (restricted) likelihood has a local maximum at tau^2 = 0 and a higher
  one inside, and the Hedges starting value is negative, Fisher scoring stays at 0, as
  metafor's does (a global search would find the inner one; metafor does not search).
* ``k == 1``: the single study is returned as its own estimate (Wald z interval,
  ``tau2 = 0``, ``q = 0``, ``q_df = 0``); ``q_p``, ``i2``, ``h2``, ``tau2_se``
  and the tau^2 interval are ``None`` because heterogeneity cannot be assessed
  from one study, the prediction interval equals the confidence interval, and
  ``test`` is reported as ``"z"`` (a t distribution on 0 df does not exist).

References
----------
Cochran WG (1954). The combination of estimates from different experiments.
    Biometrics 10:101-129.
DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled
    Clinical Trials 7:177-188.
Hartung J, Knapp G (2001). On tests of the overall treatment effect in
    meta-analysis with normally distributed responses. Stat Med 20:1771-1782.
Hedges LV (1981). Distribution theory for Glass's estimator of effect size and
    related estimators. J Educ Stat 6:107-128.
Hedges LV (1983). A random effects model for effect sizes. Psychol Bull
    93:388-395; Hedges LV, Olkin I (1985). Statistical Methods for
    Meta-Analysis. Academic Press.
Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a
    meta-analysis. Stat Med 21:1539-1558.
Mantel N, Haenszel W (1959). J Natl Cancer Inst 22:719-748; Robins J,
    Breslow N, Greenland S (1986). Biometrics 42:311-323; Greenland S,
    Robins JM (1985). Biometrics 41:55-68; Sato T, Greenland S, Robins JM
    (1989). Biometrics 45:1323-1324.
Paule RC, Mandel J (1982). Consensus values and weighting factors. J Res Natl
    Bur Stand 87:377-385.
Sidik K, Jonkman JN (2002). A simple confidence interval for meta-analysis.
    Stat Med 21:3153-3159.
Sidik K, Jonkman JN (2005). Simple heterogeneity variance estimation for
    meta-analysis. J R Stat Soc C 54:367-384.
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators
    in the random-effects model. J Educ Behav Stat 30:261-293.
Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in
    meta-analysis. Stat Med 26:37-52.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
    J Stat Softw 36(3):1-48; metafor reference manual,
    https://wviechtb.github.io/metafor/reference/ (escalc, rma.uni, confint.rma,
    predict.rma, rma.mh, rma.peto).
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during and
    after myocardial infarction. Prog Cardiovasc Dis 27:335-371.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

# scipy.special rather than scipy.stats: the same functions without per-call overhead,
# which dominates when thousands of small analyses run.
from scipy import optimize, special

__all__ = [
    "MEASURES",
    "METHODS",
    "RATIO_MEASURES",
    "TESTS",
    "BackTransformed",
    "CommonEffectResult",
    "EffectSizes",
    "EggerResult",
    "MetaConvergenceError",
    "MetaInputError",
    "MetaRegressionResult",
    "MetaResult",
    "MetaResults",
    "SubgroupResult",
    "TrimFillResult",
    "back_transform",
    "egger_test",
    "escalc",
    "leave_one_out",
    "mantel_haenszel",
    "meta_regression",
    "peto",
    "rma",
    "rma_many",
    "subgroup_analysis",
    "trim_and_fill",
]

FloatArray = NDArray[np.float64]

MEASURES: Final = ("RR", "OR", "RD", "MD", "SMD", "PR", "PLO", "PAS", "PFT", "ZCOR", "GEN")
METHODS: Final = ("EE", "DL", "REML", "ML", "PM", "HE", "SJ")
TESTS: Final = ("z", "knha")
#: Measures analysed on the log scale, for which ``exp()`` gives the ratio.
RATIO_MEASURES: Final = frozenset({"RR", "OR", "PETO", "HR", "IRR", "ROM"})

_METHOD_ALIASES: Final = {"FE": "EE", "CE": "EE"}
_TWO_BY_TWO: Final = frozenset({"RR", "OR", "RD"})
_PROPORTIONS: Final = frozenset({"PR", "PLO", "PAS", "PFT"})
_MEANS: Final = frozenset({"MD", "SMD"})
_CONTINUITY_MODES: Final = ("only0", "all", "if0all", "none")

#: Fisher scoring (ML/REML): stop when |tau2_new - tau2_old| <= threshold.
_THRESHOLD: Final = 1e-10
_MAX_ITER: Final = 100
#: metafor's ``tol`` (.Machine$double.eps^0.25) used when comparing log-likelihoods.
_LL_TOL: Final = float(np.finfo(float).eps) ** 0.25
_EPS: Final = float(np.finfo(float).eps)


# --------------------------------------------------------------------------------------
# Errors and result types
# --------------------------------------------------------------------------------------


class MetaInputError(ValueError):
    """Invalid meta-analysis input.

    ``row`` is the 1-based study row at fault, or ``None`` when the problem is not
    specific to one study (mismatched column lengths, missing columns, ...);
    ``analysis`` is the 1-based analysis at fault in :func:`rma_many` (else ``None``).
    """

    def __init__(self, message: str, row: int | None = None, analysis: int | None = None) -> None:
        self.message = message
        self.row = row
        self.analysis = analysis
        where = [f"analysis {analysis}"] if analysis is not None else []
        where += [f"row {row}"] if row is not None else []
        super().__init__(f"{', '.join(where)}: {message}" if where else message)

    def __reduce__(self) -> tuple[type[MetaInputError], tuple[str, int | None, int | None]]:
        return (type(self), (self.message, self.row, self.analysis))


class MetaConvergenceError(ArithmeticError):
    """An iterative tau^2 estimator (Fisher scoring, root finding) did not converge."""


@dataclass(frozen=True, eq=False)
class EffectSizes:
    """Observed effect sizes and their sampling variances (metafor's ``escalc`` object).

    ``yi`` and ``vi`` are read-only float arrays of length ``k``; ``labels`` are the
    optional study labels.  Ratio measures (RR, OR) are on the log scale.
    """

    yi: FloatArray
    vi: FloatArray
    measure: str
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        yi = np.array(self.yi, dtype=np.float64)
        vi = np.array(self.vi, dtype=np.float64)
        yi.setflags(write=False)
        vi.setflags(write=False)
        object.__setattr__(self, "yi", yi)
        object.__setattr__(self, "vi", vi)

    @property
    def k(self) -> int:
        """Number of studies."""
        return int(self.yi.shape[0])

    @property
    def sei(self) -> FloatArray:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)


@dataclass(frozen=True)
class MetaResult:
    """Result of :func:`rma` (fields named after metafor's ``rma.uni`` output).

    ``z_or_t`` is a z statistic for ``test="z"`` and a t statistic on ``k - 1`` df
    for ``test="knha"``.  ``i2`` is a percentage.  Fields that metafor does not
    report for a model are ``None`` (``tau2_se`` and the tau^2 interval for the EE
    model; heterogeneity statistics when ``k == 1``).
    """

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z_or_t: float
    p: float
    tau2: float
    tau2_se: float | None
    tau2_ci_low: float | None
    tau2_ci_high: float | None
    i2: float | None
    h2: float | None
    q: float
    q_df: int
    q_p: float | None
    pi_low: float
    pi_high: float
    method: str
    test: str
    level: float = 95.0
    measure: str | None = None


@dataclass(frozen=True)
class CommonEffectResult:
    """Result of :func:`mantel_haenszel` or :func:`peto` (rma.mh / rma.peto).

    ``estimate`` is the log risk/odds ratio (or the risk difference for
    ``measure="RD"``).  ``q`` is the heterogeneity statistic on ``q_df`` df;
    ``q_p`` is ``None`` when fewer than two tables are informative.
    """

    method: str
    measure: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    q: float
    q_df: int
    q_p: float | None
    level: float = 95.0


@dataclass(frozen=True)
class BackTransformed:
    """``exp()`` of an estimate and its intervals (ratio scale)."""

    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float | None
    pi_high: float | None


# --------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------


def _as_column(values: object, name: str) -> FloatArray:
    """Convert one input column to floats, naming the 1-based row of any bad entry."""
    if isinstance(values, str | bytes):
        raise MetaInputError(f"'{name}' must be a sequence of numbers, not a string")
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf" and values.ndim == 1:
        # Numeric arrays (the common, large case) are checked at once; the loop below only
        # runs to name the row of a fault.
        fast = np.asarray(values, dtype=np.float64)  # no copy when already float64
        if fast.shape[0] and np.isfinite(fast).all():
            return fast
    arr = np.asarray(values, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise MetaInputError(f"'{name}' must be one-dimensional")
    out = np.empty(arr.shape[0], dtype=np.float64)
    for index, value in enumerate(arr):
        row = index + 1
        if value is None:
            raise MetaInputError(f"missing value in '{name}'", row)
        if isinstance(value, bool | np.bool_):
            raise MetaInputError(f"'{name}' must be numeric, got {value!r}", row)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise MetaInputError(f"'{name}' is not a number: {value!r}", row) from None
        if math.isnan(number):
            raise MetaInputError(f"missing value (NaN) in '{name}'", row)
        if math.isinf(number):
            raise MetaInputError(f"infinite value in '{name}'", row)
        out[index] = number
    return out


def _columns(columns: Mapping[str, object], names: Sequence[str]) -> list[FloatArray]:
    arrays = [_as_column(columns[name], name) for name in names]
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        detail = ", ".join(f"{n}={len(a)}" for n, a in zip(names, arrays, strict=True))
        raise MetaInputError(f"columns have different lengths ({detail})")
    if not lengths or lengths.pop() == 0:
        raise MetaInputError("no studies given")
    return arrays


def _raise_first(checks: Sequence[tuple[NDArray[np.bool_], str]]) -> None:
    """Raise for the lowest-numbered row failing any check (checks in priority order)."""
    best: tuple[int, str] | None = None
    for mask, message in checks:
        bad = np.flatnonzero(mask)
        if bad.size and (best is None or bad[0] < best[0]):
            best = (int(bad[0]), message)
    if best is not None:
        raise MetaInputError(best[1], best[0] + 1)


@lru_cache(maxsize=64)
def _alpha(level: float) -> float:
    """metafor's level convention: 95 (percent) or 0.95 (proportion) -> alpha = 0.05."""
    level = float(level)
    if 1.0 < level < 100.0:
        return (100.0 - level) / 100.0
    if 0.0 < level < 1.0:
        return 1.0 - level
    raise ValueError(f"level must be a percentage in (1, 100) or a proportion in (0, 1): {level}")


def _level_percent(level: float) -> float:
    return 100.0 * (1.0 - _alpha(level))


# --------------------------------------------------------------------------------------
# Effect sizes (metafor's escalc)
# --------------------------------------------------------------------------------------


def _continuity(zero: NDArray[np.bool_], add: float, to: str) -> FloatArray:
    """Amount added to each study's cells under metafor's ``add``/``to`` rules."""
    if to not in _CONTINUITY_MODES:
        raise ValueError(f"'to' must be one of {_CONTINUITY_MODES}, got {to!r}")
    if add < 0 or not math.isfinite(add):
        raise ValueError(f"'add' must be a non-negative number, got {add!r}")
    if to == "all":
        mask = np.ones_like(zero)
    elif to == "only0":
        mask = zero
    elif to == "if0all":
        mask = np.full_like(zero, bool(zero.any()))
    else:
        mask = np.zeros_like(zero)
    return np.where(mask, add, 0.0)


def _tables(measure: str, columns: Mapping[str, object]) -> tuple[FloatArray, ...]:
    """Validated 2x2 cells from ``ai, bi, ci, di`` or ``ai, ci, n1i, n2i``."""
    names = set(columns)
    if names == {"ai", "bi", "ci", "di"}:
        ai, bi, ci, di = _columns(columns, ("ai", "bi", "ci", "di"))
        _raise_first(
            [
                (ai < 0, "negative count in 'ai'"),
                (bi < 0, "negative count in 'bi'"),
                (ci < 0, "negative count in 'ci'"),
                (di < 0, "negative count in 'di'"),
                (ai + bi <= 0, "group 1 size n1i = ai + bi must be > 0"),
                (ci + di <= 0, "group 2 size n2i = ci + di must be > 0"),
            ]
        )
    elif names == {"ai", "ci", "n1i", "n2i"}:
        ai, ci, n1i, n2i = _columns(columns, ("ai", "ci", "n1i", "n2i"))
        _raise_first(
            [
                (ai < 0, "negative count in 'ai'"),
                (ci < 0, "negative count in 'ci'"),
                (n1i <= 0, "group size 'n1i' must be > 0"),
                (n2i <= 0, "group size 'n2i' must be > 0"),
                (ai > n1i, "'ai' exceeds 'n1i'"),
                (ci > n2i, "'ci' exceeds 'n2i'"),
            ]
        )
        bi, di = n1i - ai, n2i - ci
    else:
        raise MetaInputError(
            f"measure {measure!r} needs columns ai, bi, ci, di (or ai, ci, n1i, n2i); "
            f"got {', '.join(sorted(names)) or 'none'}"
        )
    return ai, bi, ci, di


def _require(measure: str, columns: Mapping[str, object], names: Sequence[str]) -> None:
    if set(columns) != set(names):
        raise MetaInputError(
            f"measure {measure!r} needs columns {', '.join(names)}; "
            f"got {', '.join(sorted(columns)) or 'none'}"
        )


def escalc(
    measure: str,
    *,
    labels: Sequence[str] | None = None,
    add: float | None = None,
    to: str = "only0",
    **columns: ArrayLike,
) -> EffectSizes:
    """Compute effect sizes and sampling variances as metafor's ``escalc()`` does.

    Measures and columns (one value per study):

    * ``"RR"``, ``"OR"``, ``"RD"`` -- 2x2 tables ``ai, bi, ci, di`` (events /
      non-events in group 1, then group 2) or ``ai, ci, n1i, n2i``.  Log risk
      ratio ``log((ai/n1i)/(ci/n2i))`` with ``vi = 1/ai - 1/n1i + 1/ci - 1/n2i``;
      log odds ratio ``log(ai*di/(bi*ci))`` with ``vi = 1/ai + 1/bi + 1/ci + 1/di``;
      risk difference ``p1 - p2`` with ``vi = p1(1-p1)/n1i + p2(1-p2)/n2i``.
    * ``"MD"`` -- raw mean difference ``m1i - m2i`` with metafor's default
      ``vtype="LS"`` variance ``sd1i^2/n1i + sd2i^2/n2i`` (no equal-variance
      assumption).  Columns ``m1i, sd1i, n1i, m2i, sd2i, n2i``.
    * ``"SMD"`` -- Hedges' g (Hedges, 1981): Cohen's d with the pooled SD, times
      the exact correction ``c(m) = exp(lgamma(m/2) - log(sqrt(m/2)) -
      lgamma((m-1)/2))`` with ``m = n1i + n2i - 2``; variance is metafor's
      large-sample ``vtype="LS"`` ``1/n1i + 1/n2i + yi^2 / (2 (n1i + n2i))``.
    * ``"PR"``, ``"PLO"``, ``"PAS"``, ``"PFT"`` -- single proportions from ``xi,
      ni`` (or ``xi, mi`` with ``mi = ni - xi``): raw proportion (``vi =
      p(1-p)/ni``), logit (``vi = 1/xi + 1/mi``), arcsine square root
      ``asin(sqrt(p))`` (``vi = 1/(4 ni)``) and the Freeman-Tukey double arcsine
      ``(asin(sqrt(xi/(ni+1))) + asin(sqrt((xi+1)/(ni+1))))/2`` (``vi = 1/(4 ni +
      2)``).
    * ``"ZCOR"`` -- Fisher's r-to-z, ``atanh(ri)`` with ``vi = 1/(ni - 3)``.
    * ``"GEN"`` -- generic ``yi, vi`` supplied directly.

    Zero cells are handled with metafor's defaults ``add=1/2, to="only0"`` (1/2 is
    added to all four cells of a table with a zero cell, or to ``xi`` and ``mi``
    of a proportion with ``xi == 0`` or ``mi == 0``); as in metafor, ``add``
    defaults to 0 for PAS and PFT.  ``to`` may be ``"only0"``, ``"all"``,
    ``"if0all"`` or ``"none"``.

    Raises :class:`MetaInputError` naming the 1-based row for missing or
    non-numeric values, negative counts, group sizes <= 0, SDs < 0, ``|ri| >= 1``,
    events exceeding the group size, and any resulting non-finite ``yi`` or
    ``vi <= 0``.
    """
    measure = str(measure).upper()
    if measure not in MEASURES:
        raise MetaInputError(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
    if add is None:
        add = 0.0 if measure in {"PAS", "PFT"} else 0.5

    if measure in _TWO_BY_TWO:
        yi, vi = _escalc_2x2(measure, columns, add, to)
    elif measure in _MEANS:
        yi, vi = _escalc_means(measure, columns)
    elif measure in _PROPORTIONS:
        yi, vi = _escalc_proportion(measure, columns, add, to)
    elif measure == "ZCOR":
        _require(measure, columns, ("ri", "ni"))
        ri, ni = _columns(columns, ("ri", "ni"))
        _raise_first(
            [
                (np.abs(ri) >= 1, "correlation 'ri' must satisfy |ri| < 1"),
                (ni <= 0, "sample size 'ni' must be > 0"),
                (ni <= 3, "ZCOR needs ni > 3 (vi = 1/(ni - 3))"),
            ]
        )
        yi, vi = np.arctanh(ri), 1.0 / (ni - 3.0)
    else:  # GEN
        _require(measure, columns, ("yi", "vi"))
        yi, vi = _columns(columns, ("yi", "vi"))

    _check_yi_vi(yi, vi)
    label_tuple: tuple[str, ...] | None = None
    if labels is not None:
        label_tuple = tuple(str(label) for label in labels)
        if len(label_tuple) != len(yi):
            raise MetaInputError(f"{len(label_tuple)} labels given for {len(yi)} studies")
    return EffectSizes(yi=yi, vi=vi, measure=measure, labels=label_tuple)


def _escalc_2x2(
    measure: str, columns: Mapping[str, object], add: float, to: str
) -> tuple[FloatArray, FloatArray]:
    ai, bi, ci, di = _tables(measure, columns)
    zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    extra = _continuity(zero, add, to)
    ai, bi, ci, di = ai + extra, bi + extra, ci + extra, di + extra
    n1i, n2i = ai + bi, ci + di
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log(ai / n1i) - np.log(ci / n2i)
            vi = 1.0 / ai - 1.0 / n1i + 1.0 / ci - 1.0 / n2i
        elif measure == "OR":
            yi = np.log(ai) + np.log(di) - np.log(bi) - np.log(ci)
            vi = 1.0 / ai + 1.0 / bi + 1.0 / ci + 1.0 / di
        else:  # RD
            p1, p2 = ai / n1i, ci / n2i
            yi = p1 - p2
            vi = p1 * (1.0 - p1) / n1i + p2 * (1.0 - p2) / n2i
    return yi, vi


def _escalc_means(measure: str, columns: Mapping[str, object]) -> tuple[FloatArray, FloatArray]:
    names = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
    _require(measure, columns, names)
    m1i, sd1i, n1i, m2i, sd2i, n2i = _columns(columns, names)
    _raise_first(
        [
            (sd1i < 0, "standard deviation 'sd1i' must be >= 0"),
            (n1i <= 0, "group size 'n1i' must be > 0"),
            (sd2i < 0, "standard deviation 'sd2i' must be >= 0"),
            (n2i <= 0, "group size 'n2i' must be > 0"),
        ]
    )
    if measure == "MD":
        return m1i - m2i, sd1i**2 / n1i + sd2i**2 / n2i
    df = n1i + n2i - 2.0
    _raise_first([(df <= 1, "SMD needs n1i + n2i > 3 for the small-sample correction")])
    sd_pooled = np.sqrt(((n1i - 1.0) * sd1i**2 + (n2i - 1.0) * sd2i**2) / df)
    _raise_first([(sd_pooled <= 0, "pooled standard deviation is zero")])
    correction = np.exp(
        special.gammaln(df / 2.0) - 0.5 * np.log(df / 2.0) - special.gammaln((df - 1.0) / 2.0)
    )
    yi = correction * (m1i - m2i) / sd_pooled
    vi = 1.0 / n1i + 1.0 / n2i + yi**2 / (2.0 * (n1i + n2i))
    return yi, vi


def _escalc_proportion(
    measure: str, columns: Mapping[str, object], add: float, to: str
) -> tuple[FloatArray, FloatArray]:
    if set(columns) == {"xi", "mi"}:
        xi, mi = _columns(columns, ("xi", "mi"))
        _raise_first(
            [
                (xi < 0, "negative count in 'xi'"),
                (mi < 0, "negative count in 'mi'"),
                (xi + mi <= 0, "sample size ni = xi + mi must be > 0"),
            ]
        )
    else:
        _require(measure, columns, ("xi", "ni"))
        xi, ni = _columns(columns, ("xi", "ni"))
        _raise_first(
            [
                (xi < 0, "negative count in 'xi'"),
                (ni <= 0, "sample size 'ni' must be > 0"),
                (xi > ni, "'xi' exceeds 'ni'"),
            ]
        )
        mi = ni - xi
    extra = _continuity((xi == 0) | (mi == 0), add, to)
    xi, mi = xi + extra, mi + extra
    ni = xi + mi
    pi = xi / ni
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            return pi, pi * (1.0 - pi) / ni
        if measure == "PLO":
            return np.log(xi) - np.log(mi), 1.0 / xi + 1.0 / mi
        if measure == "PAS":
            return np.arcsin(np.sqrt(pi)), 1.0 / (4.0 * ni)
        yi = 0.5 * (
            np.arcsin(np.sqrt(xi / (ni + 1.0))) + np.arcsin(np.sqrt((xi + 1.0) / (ni + 1.0)))
        )
        return yi, 1.0 / (4.0 * ni + 2.0)


def _check_yi_vi(yi: FloatArray, vi: FloatArray) -> None:
    if np.isfinite(yi).all() and np.isfinite(vi).all() and (vi > 0).all():
        return
    _raise_first(
        [
            (~np.isfinite(yi), "effect size is not finite (missing or undefined)"),
            (~np.isfinite(vi), "sampling variance is not finite (missing or undefined)"),
            (np.isfinite(vi) & (vi <= 0), "sampling variance must be > 0"),
        ]
    )


# --------------------------------------------------------------------------------------
# Random-effects machinery, vectorised over analyses
# --------------------------------------------------------------------------------------
#
# The estimators work on a *block* of analyses that have the same number of studies k:
# ``y`` and ``v`` are (k, n) arrays, one analysis a column, k >= 2, and every sum runs
# down axis 0 (column sums of a C-ordered array are the fast direction in NumPy, many
# times faster than row sums of short rows).  :func:`rma` fits the block with n = 1 and
# :func:`rma_many` stacks analyses into blocks, so both run the same code.  Each
# iteration (Fisher scoring, root finding) is a fixed number of O(k n) NumPy passes with
# no Python loop over studies or analyses; analyses that have converged leave the block,
# so the work shrinks as they do.  The traces of P = W - w w'/sum(w) (the
# residual-forming matrix of the weighted intercept-only model) are closed forms in
# s_j = sum(w^j), never k x k matrices.

_ROOT_RTOL: Final = 1e-14
_ROOT_MAX_ITER: Final = 300


def _colsum(a: FloatArray) -> FloatArray:
    """Sum down axis 0 (``np.add.reduce`` without ``ndarray.sum``'s Python wrapper)."""
    result: FloatArray = np.add.reduce(a, axis=0)
    return result


def _weighted_mean(y: FloatArray, w: FloatArray) -> float:
    return float((w * y).sum() / w.sum())


def _generalised_q(y: FloatArray, v: FloatArray, tau2: float) -> float:
    """Generalised Q: sum w_i (y_i - mu_w)^2 with w_i = 1/(v_i + tau2); decreasing in tau2."""
    w = 1.0 / (v + tau2)
    return float((w * (y - _weighted_mean(y, w)) ** 2).sum())


def _positive_root(func: Callable[[float], float], scale: float) -> float:
    """Root in (0, inf) of a continuous function with func(0) > 0, negative for large tau2.

    The bracket [0, hi] is grown upwards from ``scale``, then refined by Brent's method
    to a relative accuracy of 1e-14.
    """
    hi = max(scale, 1e-8)
    for _ in range(400):
        if func(hi) < 0:
            break
        hi *= 4.0
    else:
        raise MetaConvergenceError("could not bracket the root for tau^2")
    root = optimize.brentq(func, 0.0, hi, xtol=1e-300, rtol=1e-14, maxiter=1000)
    return float(root)


def _block_scale(y: FloatArray, v: FloatArray) -> FloatArray:
    """var(y) + mean(v) of each analysis: where a tau^2 bracket starts."""
    k = y.shape[0]
    r = y - _colsum(y) / k
    return _colsum(r * r) / max(k - 1, 1) + _colsum(v) / k


def _q_root_one(y: FloatArray, v: FloatArray, target: float) -> float:
    """:func:`_block_q_root` for one analysis (1-D ``y``, ``v``): the same steps and
    stopping rule with Python floats for the bookkeeping, for less per-call overhead."""
    lo, hi, t = 0.0, math.inf, 0.0
    w, r = np.empty_like(v), np.empty_like(v)
    for _ in range(_ROOT_MAX_ITER):
        np.add(v, t, out=w)
        np.divide(1.0, w, out=w)
        np.multiply(w, y, out=r)
        np.subtract(y, float(np.add.reduce(r)) / float(np.add.reduce(w)), out=r)
        np.multiply(r, r, out=r)
        np.multiply(r, w, out=r)
        q = float(np.add.reduce(r))
        np.multiply(r, w, out=r)
        slope = float(np.add.reduce(r))
        f = q - target
        if f == 0.0:
            return t
        if f > 0.0:
            lo = t
        else:
            hi = t
        new = t + (q / target) * f / slope if slope > 0.0 else math.nan
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        if abs(new - t) <= _ROOT_RTOL * new or hi - lo <= _ROOT_RTOL * lo:
            return new
        t = new
    raise MetaConvergenceError("root search for tau^2 did not converge")


def _block_q_root(
    y: FloatArray,
    v: FloatArray,
    target: FloatArray,
    work: tuple[FloatArray, ...] | None = None,
) -> FloatArray:
    """Solve generalised Q(tau2) = target for each analysis (Q(0) >= target > 0 assumed).

    Q is decreasing in tau2, with dQ/dtau2 = -sum w^2 (y - mu_w)^2, and close to
    c / (a + tau2) (exactly so when all vi are equal), so Newton's method is applied
    to 1/Q(tau2) - 1/target, which is then nearly linear: the step is the Newton step
    for Q scaled by Q/target.  It starts at 0 and is safeguarded by the bracket
    [lo, hi] of the values seen so far (Q above / below the target), bisecting when a
    step leaves it.  An analysis stops when its step is at most 1e-14 of its value (as
    Brent's method with ``rtol=1e-14``) or Q equals the target exactly.
    """
    k, n = y.shape
    if n == 1:
        return np.array([_q_root_one(y[:, 0], v[:, 0], float(target[0]))])
    out = np.empty(n)
    cols = np.arange(n)
    lo, hi, t = np.zeros(n), np.full(n, np.inf), np.zeros(n)
    buffers = work if work is not None and work[0].size >= k * n else _workspace(k, n, 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(_ROOT_MAX_ITER):
            w, r = _views(buffers[:2], k, cols.size)
            np.add(v, t, out=w)
            np.divide(1.0, w, out=w)
            np.multiply(w, y, out=r)
            np.subtract(y, _colsum(r) / _colsum(w), out=r)
            np.multiply(r, r, out=r)
            np.multiply(r, w, out=r)  # w r^2
            q = _colsum(r)
            np.multiply(r, w, out=r)  # w^2 r^2
            f = q - target
            lo = np.where(f > 0.0, t, lo)
            hi = np.where(f < 0.0, t, hi)
            new = t + (q / target) * f / _colsum(r)
            outside = ~((new > lo) & (new < hi))
            if outside.any():
                new = np.where(outside, 0.5 * (lo + hi), new)
            exact = f == 0.0
            done = exact | (np.abs(new - t) <= _ROOT_RTOL * new) | (hi - lo <= _ROOT_RTOL * lo)
            if done.any():
                out[cols[done]] = np.where(exact, t, new)[done]
                keep = ~done
                cols, y, v, target = cols[keep], y[:, keep], v[:, keep], target[keep]
                lo, hi, new = lo[keep], hi[keep], new[keep]
                if not cols.size:
                    return out
            t = new
    raise MetaConvergenceError("root search for tau^2 did not converge")


def _block_score(y: FloatArray, v: FloatArray, tau2: FloatArray, reml: bool) -> FloatArray:
    """Twice the (restricted) likelihood score for tau2: Y'PPY - tr(W) (ML) or
    Y'PPY - tr(P) (REML), with PY = W (y - mu_w) for the intercept-only model."""
    w = 1.0 / (v + tau2)
    w2 = w * w
    s1, s2 = _colsum(w), _colsum(w2)
    r = y - _colsum(w * y) / s1
    ypy = _colsum(w2 * r * r)
    return ypy - (s1 - s2 / s1 if reml else s1)


def _block_score_root(y: FloatArray, v: FloatArray, reml: bool) -> FloatArray:
    """The likelihood maximum by a bracketed root search on the score (the fallback when
    Fisher scoring oscillates): 0 where the score is <= 0 at 0, else a root in [0, hi],
    hi grown from var(y) + mean(v) by factors of 4 until the score is negative, found by
    the Illinois variant of regula falsi to a bracket of 1e-14 relative width."""
    n = y.shape[1]
    out = np.zeros(n)
    f_lo = _block_score(y, v, np.zeros(n), reml)
    cols = np.flatnonzero(f_lo > 0.0)
    if not cols.size:
        return out
    y, v, f_lo = y[:, cols], v[:, cols], f_lo[cols]
    m = cols.size
    hi = np.maximum(_block_scale(y, v), 1e-8)
    f_hi = _block_score(y, v, hi, reml)
    for _ in range(400):
        grow = f_hi >= 0.0
        if not grow.any():
            break
        hi[grow] *= 4.0
        f_hi[grow] = _block_score(y[:, grow], v[:, grow], hi[grow], reml)
    else:
        raise MetaConvergenceError("could not bracket the root for tau^2")
    lo, side = np.zeros(m), np.zeros(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(_ROOT_MAX_ITER):
            t = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
            t = np.where((t > lo) & (t < hi), t, 0.5 * (lo + hi))
            f = _block_score(y, v, t, reml)
            right = f < 0.0  # the root lies left of t: t becomes the upper end
            f_lo = np.where(right & (side == -1.0), f_lo / 2.0, f_lo)
            f_hi = np.where(~right & (side == 1.0), f_hi / 2.0, f_hi)
            hi, f_hi = np.where(right, t, hi), np.where(right, f, f_hi)
            lo, f_lo = np.where(right, lo, t), np.where(right, f_lo, f)
            side = np.where(right, -1.0, 1.0)
            done = (f == 0.0) | (hi - lo <= _ROOT_RTOL * hi)
            if done.any():
                out[cols[done]] = t[done]
                keep = ~done
                cols, y, v = cols[keep], y[:, keep], v[:, keep]
                lo, hi, f_lo, f_hi, side = lo[keep], hi[keep], f_lo[keep], f_hi[keep], side[keep]
                if not cols.size:
                    return out
    raise MetaConvergenceError("root search for tau^2 did not converge")


_SCRATCH = threading.local()
#: Scratch arrays up to this many values are kept for the next call (per thread).
_SCRATCH_KEEP: Final = 4_000_000


def _workspace(k: int, n: int, count: int) -> tuple[FloatArray, ...]:
    """Scratch arrays of at least k * n values for a hot loop, used with ``out=`` rather
    than allocating block-sized temporaries each time: fresh large allocations cost page
    faults on first touch.  Kept per thread for the next call up to ``_SCRATCH_KEEP``."""
    size = k * n
    kept: tuple[FloatArray, ...] = getattr(_SCRATCH, "buffers", ())
    if len(kept) >= count and kept[0].size >= size:
        return kept[:count]
    buffers = tuple(np.empty(max(size, kept[0].size if kept else 0)) for _ in range(count))
    if size <= _SCRATCH_KEEP:
        _SCRATCH.buffers = buffers
    return buffers


def _views(buffers: tuple[FloatArray, ...], k: int, m: int) -> list[FloatArray]:
    return [buffer[: k * m].reshape(k, m) for buffer in buffers]


def _fisher_one(y: FloatArray, v: FloatArray, start: float, reml: bool) -> float:
    """:func:`_block_fisher` for one analysis (1-D ``y``, ``v``): the same steps and
    stopping rule with Python floats for the bookkeeping; NaN if not converged."""
    threshold = _THRESHOLD
    tau2 = max(0.0, start)
    w, a, b = np.empty_like(v), np.empty_like(v), np.empty_like(v)
    for _ in range(_MAX_ITER):
        np.add(v, tau2, out=w)
        np.divide(1.0, w, out=w)
        s1 = float(np.add.reduce(w))
        np.multiply(w, y, out=a)
        np.subtract(y, float(np.add.reduce(a)) / s1, out=a)
        np.multiply(a, a, out=a)
        np.multiply(w, w, out=b)
        s2 = float(np.add.reduce(b))
        np.multiply(a, b, out=a)
        ypy = float(np.add.reduce(a))
        if reml:
            np.multiply(b, w, out=b)
            s3 = float(np.add.reduce(b))
            tr_p = s1 - s2 / s1
            step = (ypy - tr_p) / (s2 - 2.0 * s3 / s1 + s2**2 / s1**2)
        else:
            step = (ypy - s1) / s2
        if tau2 + step < 0.0:
            if tau2 == 0.0:
                step = 0.0
            while tau2 + step < 0.0:
                step /= 2.0
        new = tau2 + step
        change = abs(new - tau2)
        tau2 = new
        if change <= threshold:
            return max(0.0, tau2)
    return math.nan


def _block_fisher(
    y: FloatArray,
    v: FloatArray,
    start: FloatArray,
    reml: bool,
    work: tuple[FloatArray, ...] | None = None,
) -> FloatArray:
    """metafor's Fisher scoring for each analysis; NaN where not converged in 100 steps.

    Start max(0, start); update tau2 += (Y'PPY - tr(W)) / tr(W^2) (ML) or
    (Y'PPY - tr(P)) / tr(PP) (REML), halving a step while it would make tau2 negative
    (a step from 0 that would is dropped, as metafor's halving makes it vanish);
    an analysis has converged when its change is <= ``_THRESHOLD`` (1e-10), and its
    value is taken then.  Converged analyses are dropped from the block once they are a
    quarter of it (until then they iterate on, unrecorded).
    """
    threshold = _THRESHOLD
    k, n = y.shape
    if n == 1:
        return np.array([_fisher_one(y[:, 0], v[:, 0], float(start[0]), reml)])
    out = np.full(n, np.nan)
    cols = np.arange(n)
    tau2 = np.maximum(0.0, start)
    recorded = np.zeros(n, dtype=bool)
    buffers = work if work is not None and work[0].size >= k * n else _workspace(k, n, 3)
    for _ in range(_MAX_ITER):
        w, a, b = _views(buffers[:3], k, cols.size)
        np.add(v, tau2, out=w)
        np.divide(1.0, w, out=w)
        s1 = _colsum(w)
        np.multiply(w, y, out=a)
        np.subtract(y, _colsum(a) / s1, out=a)
        np.multiply(a, a, out=a)  # (y - mu)^2
        np.multiply(w, w, out=b)  # w^2
        s2 = _colsum(b)
        np.multiply(a, b, out=a)
        ypy = _colsum(a)
        if reml:
            np.multiply(b, w, out=b)  # w^3
            s3 = _colsum(b)
            tr_p = s1 - s2 / s1
            step = (ypy - tr_p) / (s2 - 2.0 * s3 / s1 + s2**2 / s1**2)
        else:
            step = (ypy - s1) / s2
        negative = tau2 + step < 0.0
        if negative.any():
            step = np.where(negative & (tau2 == 0.0), 0.0, step)
            negative = tau2 + step < 0.0
            while negative.any():
                step = np.where(negative, step / 2.0, step)
                negative = tau2 + step < 0.0
        new = tau2 + step
        fresh = (np.abs(new - tau2) <= threshold) & ~recorded
        tau2 = new
        if fresh.any():
            out[cols[fresh]] = np.maximum(0.0, tau2[fresh])
            recorded |= fresh
            count = int(recorded.sum())
            if count == cols.size:
                break
            if 4 * count >= cols.size:
                keep = ~recorded
                cols, y, v, tau2 = cols[keep], y[:, keep], v[:, keep], tau2[keep]
                recorded = np.zeros(cols.size, dtype=bool)
    return out


def _block_loglik_drop(
    y: FloatArray, v: FloatArray, tau2: FloatArray, q0: FloatArray, s1_0: FloatArray, reml: bool
) -> FloatArray:
    """ll(0) - ll(tau2) of the (restricted) log-likelihood, up to a constant

        ll(t) = -1/2 [sum log(v + t) + sum w (y - mu_w)^2 (+ log sum w for REML)],

    with w = 1/(v + t); ``q0`` and ``s1_0`` are Q and sum w at t = 0.  Written as
    1/2 [sum log1p(t/v) + RSS(t) - Q (+ log sum w(t) - log sum w(0))]: one logarithm a
    study instead of two."""
    w = 1.0 / (v + tau2)
    s1 = _colsum(w)
    r = y - _colsum(w * y) / s1
    np.multiply(r, r, out=r)
    np.multiply(r, w, out=r)
    drop = 0.5 * (_colsum(np.log1p(tau2 / v)) + _colsum(r) - q0)
    if reml:
        drop += 0.5 * (np.log(s1) - np.log(s1_0))
    return drop


class _Base(NamedTuple):
    """Sums at w = 1/v for each analysis: Cochran's Q, s_j = sum w^j (s3 for DL only) and
    tr(P) = s1 - s2/s1."""

    q: FloatArray
    s1: FloatArray
    s2: FloatArray
    s3: FloatArray | None
    tr_p: FloatArray


def _block_tau2(
    y: FloatArray,
    v: FloatArray,
    method: str,
    base: _Base,
    work: tuple[FloatArray, ...],
) -> tuple[FloatArray, FloatArray]:
    """tau^2 and its standard error for each analysis.  See :func:`rma` for the
    estimators; NaN standard errors for EE.  ``work``: scratch arrays (:func:`_workspace`)."""
    k, n = y.shape
    df = k - 1
    if method == "EE":
        return np.zeros(n), np.full(n, np.nan)
    q0, tr_p0 = base.q, base.tr_p
    if method == "DL":
        s1, s2, s3 = base.s1, base.s2, base.s3
        assert s3 is not None
        tr_pp = s2 - 2.0 * s3 / s1 + s2**2 / s1**2
        tau2 = np.maximum(0.0, (q0 - df) / tr_p0)
        se = np.sqrt(2.0 * df + 4.0 * tau2 * tr_p0 + 2.0 * tau2**2 * tr_pp) / tr_p0
        return tau2, se
    centred = y - _colsum(y) / k
    rss = _colsum(centred * centred)
    if method in ("HE", "ML", "REML"):
        # Hedges: with w = 1, tr(PV) = (1 - 1/k) sum v, tr(PVPV) = (1 - 2/k) sum v^2 +
        # (sum v)^2 / k^2.  The untruncated value is the ML/REML starting value.
        sum_v = _colsum(v)
        tr_pd = (1.0 - 1.0 / k) * sum_v
        raw = (rss - tr_pd) / df
        if method == "HE":
            tau2 = np.maximum(0.0, raw)
            tr_pdpd = (1.0 - 2.0 / k) * _colsum(v * v) + sum_v**2 / k**2
            se = np.sqrt(2.0 * tr_pdpd + 4.0 * tau2 * tr_pd + 2.0 * tau2**2 * df) / df
            return tau2, se
        return _block_likelihood(y, v, raw, base, method == "REML", work)
    if method == "SJ":
        tau0 = rss / k
        w = 1.0 / (v + tau0)
        w2 = w * w
        s1, s2, s3 = _colsum(w), _colsum(w2), _colsum(w2 * w)
        r = y - _colsum(w * y) / s1
        tau2 = tau0 * _colsum(w * r * r) / df
        tr_pp = s2 - 2.0 * s3 / s1 + s2**2 / s1**2
        tr_pdp = _colsum(v * (w2 - 2.0 * w2 * w / s1 + w2 * (s2 / s1**2)))
        tr_pdpd = _colsum(v * v * (w2 - 2.0 * w2 * w / s1)) + _colsum(w2 * v) ** 2 / s1**2
        with np.errstate(invalid="ignore"):
            se = tau0 / df * np.sqrt(2.0 * tr_pdpd + 4.0 * tau2 * tr_pdp + 2.0 * tau2**2 * tr_pp)
        flat = tau0 <= 0.0
        return np.where(flat, 0.0, tau2), np.where(flat, 0.0, se)
    # PM: the root of Q_gen(tau2) = k - 1, or 0 when Q (at 0) is already <= k - 1.
    tau2 = np.zeros(n)
    positive = q0 > df
    if positive.any():
        yp, vp = y[:, positive], v[:, positive]
        tau2[positive] = _block_q_root(yp, vp, np.full(yp.shape[1], float(df)), work)
    se = math.sqrt(2.0 * k**2 / df) / _colsum(1.0 / (v + tau2))
    return tau2, se


def _block_likelihood(
    y: FloatArray,
    v: FloatArray,
    start: FloatArray,
    base: _Base,
    reml: bool,
    work: tuple[FloatArray, ...],
) -> tuple[FloatArray, FloatArray]:
    """ML or REML estimate of tau2 (Viechtbauer, 2005) by Fisher scoring as in metafor.

    Starting value max(0, HE); see :func:`_block_fisher`.  As in metafor, tau2 is reset
    to 0 if the (restricted) likelihood is higher there (by more than
    ``.Machine$double.eps^0.25``).  SE from the Fisher information: sqrt(2 / sum w^2)
    (ML) or sqrt(2 / tr(PP)) (REML).

    Where metafor would stop with "Fisher scoring algorithm did not converge" (the
    iterations can oscillate; metafor's documented remedy is a smaller step length,
    ``control=list(stepadj=...)``), the same maximum is found instead, for those
    analyses, by a bracketed root search on the score equation (0 if the score is
    non-positive at 0).
    """
    tau2 = _block_fisher(y, v, start, reml, work)
    failed = np.isnan(tau2)
    if failed.any():
        tau2[failed] = _block_score_root(y[:, failed], v[:, failed], reml)
    check = tau2 > _THRESHOLD
    if check.any():
        tc = tau2[check]
        drop = _block_loglik_drop(y[:, check], v[:, check], tc, base.q[check], base.s1[check], reml)
        tau2[check] = np.where(drop > _LL_TOL, 0.0, tc)
    k, n = y.shape
    w, w2 = _views(work, k, n)[:2]
    np.add(v, tau2, out=w)
    np.divide(1.0, w, out=w)
    np.multiply(w, w, out=w2)
    s2 = _colsum(w2)
    if reml:
        s1 = _colsum(w)
        np.multiply(w2, w, out=w2)
        s3 = _colsum(w2)
        information = s2 - 2.0 * s3 / s1 + s2**2 / s1**2
    else:
        information = s2
    return tau2, np.sqrt(2.0 / information)


@lru_cache(maxsize=256)
def _critical(test: str, df: int, alpha: float) -> float:
    """Two-sided critical value: normal (``z``) or t on ``df`` df (``knha``)."""
    if test == "knha":
        return float(special.stdtrit(df, 1.0 - alpha / 2.0))
    return float(-special.ndtri(alpha / 2.0))


@lru_cache(maxsize=256)
def _chi2_quantiles(df: int, alpha: float) -> tuple[float, float]:
    """chi^2_{df} quantiles at 1 - alpha/2 and alpha/2 (the Q-profile targets)."""
    return float(special.chdtri(df, alpha / 2.0)), float(special.chdtri(df, 1.0 - alpha / 2.0))


_BLOCK_FIELDS: Final = (
    "estimate", "se", "ci_low", "ci_high", "z_or_t", "p", "tau2", "tau2_se", "tau2_ci_low",
    "tau2_ci_high", "i2", "h2", "q", "q_p", "pi_low", "pi_high",
)  # fmt: skip


def _fit_core(
    y: FloatArray, v: FloatArray, method: str, test: str, alpha: float, tau2_ci: bool
) -> dict[str, FloatArray]:
    """The model for every analysis (column) of a (k, n) block, k >= 2: tau^2 (with its SE
    and Q-profile interval), the pooled estimate and its variance, Cochran's Q and tr(P)
    at w = 1/v; :func:`_fit_block` and :func:`_result_one` derive the rest."""
    k, n = y.shape
    df = k - 1
    # Block-sized temporaries live in three reused scratch arrays.
    work = _workspace(k, n, 3)
    w, a, _ = _views(work, k, n)
    # Cochran's Q (inverse-variance weights) and the sums s_j = sum w^j at w = 1/v.
    np.divide(1.0, v, out=w)
    s1_0 = _colsum(w)
    np.multiply(w, y, out=a)
    np.subtract(y, _colsum(a) / s1_0, out=a)
    np.multiply(a, a, out=a)
    np.multiply(a, w, out=a)
    q_raw = _colsum(a)
    np.multiply(w, w, out=a)
    s2_0 = _colsum(a)
    s3_0 = None
    if method == "DL":
        np.multiply(a, w, out=a)
        s3_0 = _colsum(a)
    base = _Base(q_raw, s1_0, s2_0, s3_0, s1_0 - s2_0 / s1_0)
    tr_p0 = base.tr_p
    tau2, tau2_se = _block_tau2(y, v, method, base, work)

    # Pooled estimate with weights 1/(vi + tau2).
    w, a, _ = _views(work, k, n)
    np.add(v, tau2, out=w)
    np.divide(1.0, w, out=w)
    s1 = _colsum(w)
    np.multiply(w, y, out=a)
    estimate = _colsum(a) / s1
    variance = 1.0 / s1
    if test == "knha":
        np.subtract(y, estimate, out=a)
        np.multiply(a, a, out=a)
        np.multiply(a, w, out=a)
        rss = _colsum(a)
        variance = variance * np.where(rss > _EPS, rss / df, 0.0)
    if method != "EE" and tau2_ci:
        ci_tau2 = _block_qprofile(y, v, q_raw, df, alpha, work)
    else:
        nan = np.full(n, np.nan)
        ci_tau2 = (nan, nan)
    return {
        "estimate": estimate,
        "variance": variance,
        "tau2": tau2,
        "tau2_se": tau2_se,
        "tau2_ci_low": ci_tau2[0],
        "tau2_ci_high": ci_tau2[1],
        "q_raw": q_raw,
        "tr_p0": tr_p0,
    }


def _fit_block(
    y: FloatArray, v: FloatArray, method: str, test: str, alpha: float, tau2_ci: bool
) -> dict[str, FloatArray]:
    """Fit every analysis (column) of a (k, n) block, k >= 2: :class:`MetaResults`' fields.

    The statistics derived from the model (interval, test, I^2, H^2, Q test, prediction
    interval) are the arithmetic of :func:`_result_one` on arrays."""
    k = y.shape[0]
    df = k - 1
    core = _fit_core(y, v, method, test, alpha, tau2_ci)
    estimate, variance, tau2 = core["estimate"], core["variance"], core["tau2"]
    q_raw, tr_p0 = core["q_raw"], core["tr_p0"]
    crit = _critical(test, df, alpha)
    se = np.sqrt(variance)
    if (se > 0.0).all():
        statistic = estimate / se
    else:  # HKSJ with identical effects: se = 0, as in metafor
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = estimate / se
    if test == "knha":
        p = 2.0 * special.stdtr(df, -np.abs(statistic))
    else:
        p = 2.0 * special.ndtr(-np.abs(statistic))

    # Heterogeneity: Cochran's Q and I^2 / H^2.
    q = np.maximum(0.0, q_raw)
    if method == "EE":
        with np.errstate(divide="ignore", invalid="ignore"):
            i2 = np.where(q > 0.0, np.maximum(0.0, 100.0 * (q - df) / q), 0.0)
        h2 = q / df
    else:
        typical = df / tr_p0
        i2 = 100.0 * tau2 / (typical + tau2)
        h2 = tau2 / typical + 1.0
    half_pi = crit * np.sqrt(variance + tau2)
    return {
        "estimate": estimate,
        "se": se,
        "ci_low": estimate - crit * se,
        "ci_high": estimate + crit * se,
        "z_or_t": statistic,
        "p": np.asarray(p, dtype=np.float64),
        "tau2": tau2,
        "tau2_se": core["tau2_se"],
        "tau2_ci_low": core["tau2_ci_low"],
        "tau2_ci_high": core["tau2_ci_high"],
        "i2": i2,
        "h2": h2,
        "q": q,
        "q_p": np.asarray(special.chdtrc(df, q), dtype=np.float64),
        "pi_low": estimate - half_pi,
        "pi_high": estimate + half_pi,
    }


def _block_qprofile(
    y: FloatArray,
    v: FloatArray,
    q0: FloatArray,
    df: int,
    alpha: float,
    work: tuple[FloatArray, ...],
) -> tuple[FloatArray, FloatArray]:
    """Q-profile confidence interval for tau^2 (Viechtbauer, 2007; metafor's confint).

    The bounds solve Q_gen(tau2) = chi^2_{k-1; 1-alpha/2} (lower) and
    Q_gen(tau2) = chi^2_{k-1; alpha/2} (upper); a bound is 0 when Q_gen(0) is
    already below its critical value (both are 0 when the interval is empty).
    """
    bounds = []
    for critical in _chi2_quantiles(df, alpha):
        bound = np.zeros(y.shape[1])
        above = q0 >= critical
        if above.any():
            target = np.full(int(above.sum()), critical)
            bound[above] = _block_q_root(y[:, above], v[:, above], target, work)
        bounds.append(bound)
    return bounds[0], bounds[1]


def _fit_single(y: FloatArray, v: FloatArray, alpha: float) -> dict[str, FloatArray]:
    """k = 1: each study is its own estimate (Wald z), with no heterogeneity (NaN)."""
    se = np.sqrt(v)
    crit = _critical("z", 0, alpha)
    statistic = y / se
    nan = np.full(y.shape[0], np.nan)
    low, high = y - crit * se, y + crit * se
    return {
        "estimate": y.copy(),
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "z_or_t": statistic,
        "p": np.asarray(2.0 * special.ndtr(-np.abs(statistic)), dtype=np.float64),
        "tau2": np.zeros(y.shape[0]),
        "tau2_se": nan,
        "tau2_ci_low": nan,
        "tau2_ci_high": nan,
        "i2": nan,
        "h2": nan,
        "q": np.zeros(y.shape[0]),
        "q_p": nan,
        "pi_low": low,
        "pi_high": high,
    }


def _vectors(
    yi: ArrayLike | EffectSizes, vi: ArrayLike | None
) -> tuple[FloatArray, FloatArray, str | None]:
    measure: str | None = None
    effects: ArrayLike
    if isinstance(yi, EffectSizes):
        if vi is not None:
            raise TypeError("pass either an EffectSizes object or yi and vi, not both")
        effects, vi, measure = yi.yi, yi.vi, yi.measure
    else:
        effects = yi
    if vi is None:
        raise TypeError("rma() needs sampling variances 'vi'")
    if (
        type(effects) is np.ndarray
        and type(vi) is np.ndarray
        and effects.dtype == np.float64
        and vi.dtype == np.float64
        and effects.ndim == 1
        and effects.shape == vi.shape
        and effects.shape[0]
        and math.isfinite(float(np.add.reduce(effects)))  # no NaN or infinity
        and float(vi.min()) > 0.0
        and math.isfinite(float(vi.max()))
    ):
        return effects, vi, measure  # the common case, checked in three passes
    y, v = _columns({"yi": effects, "vi": vi}, ("yi", "vi"))
    # _as_column has checked that the values are finite numbers; only vi > 0 is left.
    if not (v > 0.0).all():
        _check_yi_vi(y, v)
    return y, v, measure


def _float_or_none(value: np.floating | float) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def rma(
    yi: ArrayLike | EffectSizes,
    vi: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    tau2_ci: bool = True,
) -> MetaResult:
    """Fit the common-effect or random-effects model as metafor's ``rma()``.

    ``tau2_ci=False`` skips the Q-profile interval for tau^2 (it is the costliest part), for
    callers running many analyses that do not report it.  To fit many independent
    analyses at once, use :func:`rma_many`.

    ``yi``/``vi`` are the observed effects and sampling variances (or pass an
    :class:`EffectSizes` as ``yi``).  ``method``:

    * ``"EE"`` (aliases ``"FE"``, ``"CE"``) -- common/equal-effects model with
      inverse-variance weights (tau2 = 0).
    * ``"DL"`` -- DerSimonian & Laird (1986): tau2 = max(0, (Q - (k-1)) /
      (sum w - sum w^2 / sum w)), w = 1/vi.
    * ``"HE"`` -- Hedges (1983), Hedges & Olkin (1985) method of moments:
      max(0, sum (y - ybar)^2 / (k-1) - mean(vi)).
    * ``"SJ"`` -- Sidik & Jonkman (2005) with metafor's initial value tau0 =
      sum (y - ybar)^2 / k: tau2 = tau0 * sum w (y - mu_w)^2 / (k-1), w = 1/(vi + tau0).
    * ``"PM"`` -- Paule & Mandel (1982): the root of sum w (y - mu_w)^2 = k - 1 with
      w = 1/(vi + tau2) (0 when the left side is already <= k - 1 at tau2 = 0).
    * ``"ML"``, ``"REML"`` -- (restricted) maximum likelihood by Fisher scoring
      (Viechtbauer, 2005), start max(0, HE), convergence 1e-10, <= 100 steps
      (if the iterations oscillate, where metafor stops with an error, the score
      equation is solved by a bracketed root search instead); reset to 0 when the
      likelihood is higher there, as metafor does.

    All estimates are truncated at 0.  ``tau2_se`` uses metafor's formulas
    (variance of the moment statistic for DL/HE/SJ, Fisher information for
    ML/REML, sqrt(2k^2/(k-1))/sum(w) for PM) and is ``None`` for EE.

    ``test="z"`` gives Wald z inference; ``test="knha"`` the Hartung & Knapp
    (2001) / Sidik & Jonkman (2002) adjustment: Var(mu) is multiplied by
    ``sum w (y - mu)^2 / (k-1)`` (not truncated at 1; set to 0 if that sum is
    numerically zero, as metafor does) and a t distribution on ``k - 1`` df is used.

    Heterogeneity: Cochran's Q on ``k - 1`` df; I^2 and H^2 as metafor (Higgins &
    Thompson, 2002, with the "typical" within-study variance for tau2-based
    models, or from Q for EE); Q-profile CI for tau^2 (Viechtbauer, 2007) for all
    methods except EE.  Prediction interval as metafor's ``predict()``:
    ``estimate +/- crit * sqrt(se^2 + tau2)`` with the normal quantile, or the t
    quantile on ``k - 1`` df for ``test="knha"``.  ``level`` is a percentage (95)
    or a proportion (0.95).  See the module docstring for ``k == 1``.

    Each iteration of the iterative estimators (Fisher scoring, the Paule-Mandel and
    Q-profile root searches) is a few vectorised O(k) passes over the studies.
    """
    y, v, measure = _vectors(yi, vi)
    method_key, test_key = _method_key(method), _test_key(test)
    alpha = _alpha(level)
    k = y.shape[0]
    if k == 1:
        fields = _fit_single(y, v, alpha)
        return _result_from(fields, 0, k, method_key, test_key, _level_percent(level), measure)
    core = _fit_core(y[:, None], v[:, None], method_key, test_key, alpha, tau2_ci)
    return _result_one(core, k, method_key, test_key, alpha, _level_percent(level), measure)


def _result_one(
    core: Mapping[str, FloatArray],
    k: int,
    method: str,
    test: str,
    alpha: float,
    level: float,
    measure: str | None,
) -> MetaResult:
    """:func:`_fit_block`'s derived statistics for one analysis, in Python floats (the same
    IEEE arithmetic, without the per-call cost of NumPy on one-element arrays)."""
    df = k - 1
    estimate, variance = float(core["estimate"][0]), float(core["variance"][0])
    tau2, q_raw = float(core["tau2"][0]), float(core["q_raw"][0])
    crit = _critical(test, df, alpha)
    se = math.sqrt(variance)
    if se > 0.0:
        statistic = estimate / se
    else:  # HKSJ with identical effects: as NumPy's x / 0
        statistic = math.copysign(math.inf, estimate) if estimate != 0.0 else math.nan
    if test == "knha":
        p = float(2.0 * special.stdtr(df, -abs(statistic)))
    else:
        p = float(2.0 * special.ndtr(-abs(statistic)))
    q = max(0.0, q_raw)
    if method == "EE":
        i2 = max(0.0, 100.0 * (q - df) / q) if q > 0.0 else 0.0
        h2 = q / df
    else:
        typical = df / float(core["tr_p0"][0])
        i2 = 100.0 * tau2 / (typical + tau2)
        h2 = tau2 / typical + 1.0
    half_pi = crit * math.sqrt(variance + tau2)
    return MetaResult(
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        z_or_t=statistic,
        p=p,
        tau2=tau2,
        tau2_se=None if method == "EE" else float(core["tau2_se"][0]),
        tau2_ci_low=_float_or_none(core["tau2_ci_low"][0]),
        tau2_ci_high=_float_or_none(core["tau2_ci_high"][0]),
        i2=i2,
        h2=h2,
        q=q,
        q_df=df,
        q_p=float(special.chdtrc(df, q)),
        pi_low=estimate - half_pi,
        pi_high=estimate + half_pi,
        method=method,
        test=test,
        level=level,
        measure=measure,
    )


def _result_from(
    fields: Mapping[str, FloatArray],
    index: int,
    k: int,
    method: str,
    test: str,
    level: float,
    measure: str | None,
) -> MetaResult:
    """One :class:`MetaResult` from the field arrays (NaN -> ``None`` where undefined)."""
    value = {name: float(fields[name][index]) for name in _BLOCK_FIELDS}
    single = k == 1
    return MetaResult(
        k=k,
        estimate=value["estimate"],
        se=value["se"],
        ci_low=value["ci_low"],
        ci_high=value["ci_high"],
        z_or_t=value["z_or_t"],
        p=value["p"],
        tau2=value["tau2"],
        tau2_se=None if single or method == "EE" else value["tau2_se"],
        tau2_ci_low=_float_or_none(value["tau2_ci_low"]),
        tau2_ci_high=_float_or_none(value["tau2_ci_high"]),
        i2=None if single else value["i2"],
        h2=None if single else value["h2"],
        q=value["q"],
        q_df=k - 1,
        q_p=None if single else value["q_p"],
        pi_low=value["pi_low"],
        pi_high=value["pi_high"],
        method=method,
        test="z" if single else test,
        level=level,
        measure=measure,
    )


# --------------------------------------------------------------------------------------
# Many analyses at once
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MetaResults:
    """Results of :func:`rma_many`: one element of each array an analysis, in input order.

    The fields are those of :class:`MetaResult` as NumPy arrays (``k``, ``q_df``
    integers, the rest floats).  Where :class:`MetaResult` has ``None`` (a statistic
    that is not defined for that analysis: heterogeneity statistics when ``k == 1``,
    ``tau2_se`` for EE, the tau^2 interval for EE or with ``tau2_ci=False``) the array
    holds NaN; NaN means "not defined" and nothing else.  ``result(i)`` gives analysis
    ``i`` as a :class:`MetaResult` (NaN back to ``None``), equal to what :func:`rma`
    returns for it.
    """

    k: NDArray[np.int64]
    estimate: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    z_or_t: FloatArray
    p: FloatArray
    tau2: FloatArray
    tau2_se: FloatArray
    tau2_ci_low: FloatArray
    tau2_ci_high: FloatArray
    i2: FloatArray
    h2: FloatArray
    q: FloatArray
    q_df: NDArray[np.int64]
    q_p: FloatArray
    pi_low: FloatArray
    pi_high: FloatArray
    method: str
    test: str
    level: float = 95.0
    measure: str | None = None

    def __len__(self) -> int:
        return int(self.k.shape[0])

    def result(self, index: int) -> MetaResult:
        """Analysis ``index`` as a :class:`MetaResult`."""
        fields = {name: getattr(self, name) for name in _BLOCK_FIELDS}
        if not -len(self) <= index < len(self):
            raise IndexError(f"analysis index {index} out of range for {len(self)} analyses")
        k = int(self.k[index])
        return _result_from(fields, index, k, self.method, self.test, self.level, self.measure)

    def results(self) -> list[MetaResult]:
        """All analyses as :class:`MetaResult` objects."""
        return [self.result(i) for i in range(len(self))]


def _many_error(error: MetaInputError, analysis: int) -> MetaInputError:
    return MetaInputError(error.message, error.row, analysis=analysis)


def _many_inputs(
    yi: object, vi: object
) -> tuple[list[tuple[NDArray[np.intp], FloatArray, FloatArray]], int, str | None]:
    """Validate the analyses and group them into blocks of equal k.

    Returns ``[(indices, Y, V), ...]``, the number of analyses and the common measure.
    """
    measure: str | None = None
    if vi is None:
        if not isinstance(yi, Sequence) or not all(isinstance(e, EffectSizes) for e in yi):
            raise TypeError("rma_many() needs sampling variances 'vi' (or a list of EffectSizes)")
        measures = {e.measure for e in yi}
        measure = measures.pop() if len(measures) == 1 else None
        vi = [e.vi for e in yi]
        yi = [e.yi for e in yi]
    # Fast path: two numeric 2-D arrays of the same shape (analyses x studies).
    y2: FloatArray | None
    v2: FloatArray | None
    try:
        y2 = np.asarray(yi, dtype=np.float64)
        v2 = np.asarray(vi, dtype=np.float64)
    except (TypeError, ValueError):
        y2 = v2 = None
    if y2 is not None and v2 is not None and y2.ndim == 2 and y2.shape == v2.shape:
        n, k = y2.shape
        if n == 0:
            raise MetaInputError("no analyses given")
        ok = np.isfinite(y2).all(axis=1) & np.isfinite(v2).all(axis=1) & (v2 > 0.0).all(axis=1)
        if k and ok.all():
            return [(np.arange(n), y2, v2)], n, measure
        first = int(np.flatnonzero(~ok)[0]) if k else 0
        try:
            _vectors(np.asarray(yi, dtype=object)[first], np.asarray(vi, dtype=object)[first])
        except MetaInputError as error:
            raise _many_error(error, first + 1) from None
        raise AssertionError("unreachable: a row failed the vectorised check")  # pragma: no cover
    if y2 is not None and y2.ndim != 2:
        raise MetaInputError(
            "rma_many() needs a 2-D array (analyses x studies) or a list of 1-D arrays; "
            "use rma() for a single analysis"
        )
    if isinstance(yi, str | bytes) or not isinstance(yi, Sequence | np.ndarray):
        raise MetaInputError("rma_many() needs a list of analyses")
    if isinstance(vi, str | bytes) or not isinstance(vi, Sequence | np.ndarray):
        raise MetaInputError("rma_many() needs a list of sampling-variance arrays")
    ys, vs = list(yi), list(vi)
    if len(ys) != len(vs):
        raise MetaInputError(f"{len(ys)} effect arrays but {len(vs)} variance arrays")
    if not ys:
        raise MetaInputError("no analyses given")
    by_k: dict[int, list[int]] = {}
    columns: list[tuple[FloatArray, FloatArray]] = []
    for index, (effects, variances) in enumerate(zip(ys, vs, strict=True)):
        try:
            y, v, _ = _vectors(effects, variances)
        except MetaInputError as error:
            raise _many_error(error, index + 1) from None
        columns.append((y, v))
        by_k.setdefault(y.shape[0], []).append(index)
    blocks = []
    for indices in by_k.values():
        blocks.append(
            (
                np.asarray(indices, dtype=np.intp),
                np.stack([columns[i][0] for i in indices]),
                np.stack([columns[i][1] for i in indices]),
            )
        )
    return blocks, len(ys), measure


def rma_many(
    yi: ArrayLike | Sequence[ArrayLike] | Sequence[EffectSizes],
    vi: ArrayLike | Sequence[ArrayLike] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    tau2_ci: bool = True,
    chunk: int = 1_000_000,
) -> MetaResults:
    """Fit many independent analyses at once, vectorised in NumPy: :func:`rma` for each.

    ``yi`` and ``vi`` are either two 2-D arrays of the same shape (analyses x studies,
    one analysis a row) or two lists of 1-D arrays (analysis i has studies
    ``yi[i]``, ``vi[i]``; the numbers of studies may differ), or ``yi`` is a list of
    :class:`EffectSizes` and ``vi`` is ``None``.  ``method``, ``test``, ``level`` and
    ``tau2_ci`` are as for :func:`rma` and apply to every analysis.

    Analyses with the same number of studies are fitted together: Fisher scoring
    (ML/REML), the Paule-Mandel and Q-profile root searches iterate on all of them at
    once, each analysis stopping by its own convergence rule (the same as
    :func:`rma`'s), and an analysis whose Fisher scoring oscillates falls back, alone,
    to the bracketed root search :func:`rma` uses.  The results equal those of
    calling :func:`rma` on each analysis (the tests check agreement to 1e-10).
    ``chunk`` caps the number of values (analyses x studies) fitted in one block, to
    bound memory.

    Returns a :class:`MetaResults` of arrays (NaN where :func:`rma` gives ``None``).
    Raises :class:`MetaInputError` naming the analysis (1-based) and the study row for
    bad input, as :func:`rma` does for one analysis.
    """
    method_key, test_key = _method_key(method), _test_key(test)
    alpha = _alpha(level)
    blocks, n, measure = _many_inputs(yi, vi)
    out = {name: np.empty(n) for name in _BLOCK_FIELDS}
    ks = np.empty(n, dtype=np.int64)
    for indices, y, v in blocks:
        k = y.shape[1]
        ks[indices] = k
        step = max(1, chunk // max(k, 1))
        for start in range(0, len(indices), step):
            part = indices[start : start + step]
            ya, va = y[start : start + step], v[start : start + step]
            if k == 1:
                fields = _fit_single(ya[:, 0], va[:, 0], alpha)
            else:  # studies down the columns: the fast direction for the sums
                ya, va = np.ascontiguousarray(ya.T), np.ascontiguousarray(va.T)
                fields = _fit_block(ya, va, method_key, test_key, alpha, tau2_ci)
            for name in _BLOCK_FIELDS:
                out[name][part] = fields[name]
    return MetaResults(
        k=ks,
        q_df=ks - 1,
        method=method_key,
        test=test_key,
        level=_level_percent(level),
        measure=measure,
        **out,
    )


# --------------------------------------------------------------------------------------
# Mantel-Haenszel and Peto (rma.mh, rma.peto)
# --------------------------------------------------------------------------------------


def _common_effect(
    method: str,
    measure: str,
    k: int,
    estimate: float,
    se: float,
    q: float,
    q_df: int,
    level: float,
) -> CommonEffectResult:
    alpha = _alpha(level)
    if not se > 0.0:
        raise MetaInputError(
            f"{method} {measure} has no sampling variability (e.g. no events in any table)"
        )
    crit = float(-special.ndtri(alpha / 2.0))
    z = estimate / se
    return CommonEffectResult(
        method=method,
        measure=measure,
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        z=z,
        p=float(2.0 * special.ndtr(-abs(z))),
        q=q,
        q_df=q_df,
        q_p=float(special.chdtrc(q_df, q)) if q_df > 0 else None,
        level=_level_percent(level),
    )


def mantel_haenszel(
    ai: ArrayLike,
    bi: ArrayLike,
    ci: ArrayLike,
    di: ArrayLike,
    measure: str = "OR",
    level: float = 95,
) -> CommonEffectResult:
    """Mantel-Haenszel common-effect model for 2x2 tables, as metafor's ``rma.mh()``.

    * OR: ``log(sum(ai di / ni) / sum(bi ci / ni))`` (Mantel & Haenszel, 1959)
      with the Robins, Breslow & Greenland (1986) variance.
    * RR: ``log(sum(ai n2i / ni) / sum(ci n1i / ni))`` with the Greenland &
      Robins (1985) variance.
    * RD: ``sum((ai n2i - ci n1i) / ni) / sum(n1i n2i / ni)`` with the Sato,
      Greenland & Robins (1989) variance.

    The pooled estimate uses the tables as given (no continuity correction).  Q is
    metafor's inverse-variance heterogeneity statistic around the MH estimate,
    ``sum (yi - est)^2 / vi``, with ``yi, vi`` from :func:`escalc` (1/2 added to
    tables with a zero cell) and tables with no events or only events in both
    groups left out (metafor's ``drop00=TRUE``); ``q_df`` is their number - 1.
    """
    measure = str(measure).upper()
    if measure not in _TWO_BY_TWO:
        raise ValueError(f"measure must be 'OR', 'RR' or 'RD', got {measure!r}")
    a, b, c, d = _tables(measure, {"ai": ai, "bi": bi, "ci": ci, "di": di})
    n1, n2 = a + b, c + d
    n = n1 + n2
    k = len(a)
    if measure == "OR":
        r_i, s_i = a * d / n, b * c / n
        r, s = float(r_i.sum()), float(s_i.sum())
        if r == 0.0 or s == 0.0:
            raise MetaInputError("Mantel-Haenszel odds ratio is undefined (a zero sum)")
        p_i, q_i = (a + d) / n, (b + c) / n
        estimate = math.log(r / s)
        variance = 0.5 * (
            float((p_i * r_i).sum()) / r**2
            + float((p_i * s_i + q_i * r_i).sum()) / (r * s)
            + float((q_i * s_i).sum()) / s**2
        )
    elif measure == "RR":
        r, s = float((a * n2 / n).sum()), float((c * n1 / n).sum())
        if r == 0.0 or s == 0.0:
            raise MetaInputError("Mantel-Haenszel risk ratio is undefined (no events in one group)")
        estimate = math.log(r / s)
        variance = float(((n1 * n2 * (a + c) - a * c * n) / n**2).sum()) / (r * s)
    else:
        weight = float((n1 * n2 / n).sum())
        estimate = float(((a * n2 - c * n1) / n).sum()) / weight
        sato_p = float(((n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2.0) / n**2).sum())
        sato_q = float(((a * (n2 - c) + c * (n1 - a)) / (2.0 * n)).sum())
        variance = (estimate * sato_p + sato_q) / weight**2

    informative = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    q, q_df = 0.0, 0
    if informative.sum() > 1:
        keep = informative
        es = escalc(measure, ai=a[keep], bi=b[keep], ci=c[keep], di=d[keep])
        q = max(0.0, float(((es.yi - estimate) ** 2 / es.vi).sum()))
        q_df = es.k - 1
    return _common_effect("MH", measure, k, estimate, math.sqrt(variance), q, q_df, level)


def peto(
    ai: ArrayLike,
    bi: ArrayLike,
    ci: ArrayLike,
    di: ArrayLike,
    level: float = 95,
) -> CommonEffectResult:
    """Peto's one-step log odds ratio (Yusuf et al., 1985), as metafor's ``rma.peto()``.

    With O = ai, E = (ai + ci) n1i / ni and V = (ai + ci)(bi + di) n1i n2i /
    (ni^2 (ni - 1)): estimate ``sum(O - E) / sum(V)``, SE ``1/sqrt(sum V)``, and
    ``Q = sum((O - E)^2 / V) - sum(O - E)^2 / sum(V)`` over the tables with V > 0
    (``q_df`` = their number - 1).  No continuity correction is applied.
    """
    a, b, c, d = _tables("OR", {"ai": ai, "bi": bi, "ci": ci, "di": di})
    n1, n2 = a + b, c + d
    n = n1 + n2
    _raise_first([(n < 2, "Peto's method needs at least two participants per table")])
    events, non_events = a + c, b + d
    expected = events * n1 / n
    var = events * non_events * n1 * n2 / (n**2 * (n - 1.0))
    total_var = float(var.sum())
    if total_var <= 0.0:
        raise MetaInputError("Peto's method is undefined: one outcome never occurs in any table")
    diff = a - expected
    estimate = float(diff.sum()) / total_var
    positive = var > 0
    between = float((diff[positive] ** 2 / var[positive]).sum())
    q = max(0.0, between - float(diff.sum()) ** 2 / total_var)
    q_df = max(int(positive.sum()) - 1, 0)
    se = 1.0 / math.sqrt(total_var)
    return _common_effect("PETO", "OR", len(a), estimate, se, q, q_df, level)


# --------------------------------------------------------------------------------------
# Back-transformation
# --------------------------------------------------------------------------------------


def back_transform(
    result: MetaResult | CommonEffectResult, measure: str | None = None
) -> BackTransformed:
    """``exp()`` of the estimate, CI and (for :class:`MetaResult`) prediction interval.

    Only for ratio measures analysed on the log scale (RR, OR, Peto OR, and
    generic log ratios HR, IRR, ROM).  ``measure`` defaults to the measure
    recorded on the result (set when :func:`rma` was given an
    :class:`EffectSizes`, and always for MH/Peto results).
    """
    chosen = (measure or result.measure or "").upper()
    if isinstance(result, CommonEffectResult) and result.method == "PETO":
        chosen = chosen or "PETO"
    if chosen not in RATIO_MEASURES:
        raise ValueError(
            "back_transform applies exp() to log-scale ratio measures "
            f"({', '.join(sorted(RATIO_MEASURES))}); got {chosen or 'no measure'!r}"
        )
    pi_low = pi_high = None
    if isinstance(result, MetaResult):
        pi_low, pi_high = math.exp(result.pi_low), math.exp(result.pi_high)
    return BackTransformed(
        estimate=math.exp(result.estimate),
        ci_low=math.exp(result.ci_low),
        ci_high=math.exp(result.ci_high),
        pi_low=pi_low,
        pi_high=pi_high,
    )


# --------------------------------------------------------------------------------------
# Meta-regression, subgroups, sensitivity and small-study methods
# --------------------------------------------------------------------------------------
#
# References for this part:
# Viechtbauer W (2010), J Stat Softw 36(3) and the metafor reference manual
#     (rma.uni with ``mods``, regtest, trimfill, leave1out;
#     https://wviechtb.github.io/metafor/reference/).
# Raudenbush SW (2009). Analyzing effect sizes: random-effects models. In Cooper H,
#     Hedges LV, Valentine JC (eds), The Handbook of Research Synthesis and
#     Meta-Analysis, 2nd ed., 295-315 (pseudo-R^2, mixed-effects model).
# Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis
#     detected by a simple, graphical test. BMJ 315:629-634; Sterne JAC, Egger M
#     (2005). Regression methods to detect publication and other bias in
#     meta-analysis. In Rothstein HR et al. (eds), Publication Bias in
#     Meta-Analysis, Wiley, 99-110.
# Duval S, Tweedie R (2000a). Trim and fill. Biometrics 56:455-463; Duval S,
#     Tweedie R (2000b). A nonparametric "trim and fill" method of accounting for
#     publication bias in meta-analysis. J Am Stat Assoc 95:89-98.


@dataclass(frozen=True)
class MetaRegressionResult:
    """Result of :func:`meta_regression` (metafor's ``rma(yi, vi, mods=...)``).

    ``names`` label the coefficients (``"intrcpt"`` first).  ``stat`` holds z values
    (``test="z"``) or t values on ``df`` = k - p degrees of freedom (``test="knha"``).
    ``qm`` is the omnibus test of all moderators (chi^2 on ``qm_df`` df, or F on
    ``(qm_df, k - p)`` df for knha); ``qe`` the test for residual heterogeneity on
    ``k - p`` df.  ``r2`` is metafor's pseudo-R^2 (percent), ``None`` for the EE model
    or when tau^2 of the random-effects model without moderators is 0.
    """

    k: int
    names: tuple[str, ...]
    coefficients: FloatArray
    se: FloatArray
    stat: FloatArray
    p: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    vcov: FloatArray
    tau2: float
    tau2_se: float | None
    i2: float
    h2: float
    r2: float | None
    qm: float
    qm_df: int
    qm_p: float
    qe: float
    qe_df: int
    qe_p: float
    method: str
    test: str
    df: int | None
    level: float = 95.0


@dataclass(frozen=True)
class SubgroupResult:
    """Result of :func:`subgroup_analysis`.

    ``results`` maps each group (in order of first appearance) to its own
    :func:`rma` fit; ``q_between`` is the test for subgroup differences on
    ``q_between_df`` = groups - 1 df.
    """

    results: dict[str, MetaResult]
    q_between: float
    q_between_df: int
    q_between_p: float | None


@dataclass(frozen=True)
class EggerResult:
    """Result of :func:`egger_test` (metafor's ``regtest``).

    ``stat`` is the z (or t, on ``df`` df) statistic of the standard-error
    coefficient; ``limit`` (with its interval) is the intercept, the estimate as
    the standard error goes to 0.
    """

    stat: float
    p: float
    df: int | None
    limit: float
    limit_ci_low: float
    limit_ci_high: float
    fit: MetaRegressionResult


@dataclass(frozen=True)
class TrimFillResult:
    """Result of :func:`trim_and_fill` (metafor's ``trimfill``).

    ``k0`` studies with effects ``yi_filled`` and variances ``vi_filled`` were
    imputed on ``side``; ``result`` is the model refitted to the observed plus
    imputed studies (the original fit when ``k0 == 0``).
    """

    k0: int
    se_k0: float
    side: str
    estimator: str
    yi_filled: FloatArray
    vi_filled: FloatArray
    result: MetaResult


@lru_cache(maxsize=64)
def _method_key(method: str) -> str:
    key = _METHOD_ALIASES.get(str(method).upper(), str(method).upper())
    if key not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    return key


@lru_cache(maxsize=64)
def _test_key(test: str) -> str:
    key = str(test).lower()
    if key not in TESTS:
        raise ValueError(f"unknown test {test!r}; expected 'z' or 'knha'")
    return key


class _Wls:
    """Weighted least squares of y on X (weights w) and the traces of
    P = W - W X (X'WX)^-1 X' W that the mixed-effects model needs.

    Every quantity is a closed form in p x p matrices and O(k) sums (H = W X (X'WX)^-1 X' W,
    P = W - H, G(d) = X' diag(d) X, A = (X'WX)^-1), so memory and time are O(k p^2),
    never k x k: y'Py = sum w r^2 and Py = w r with r = y - X b; tr(PD) = sum w d -
    tr(A G(w^2 d)); tr(PDPD) = sum w^2 d^2 - 2 tr(A G(w^3 d^2)) + tr((A G(w^2 d))^2);
    tr(PDP) = sum d_i (w_i^2 - 2 w_i H_ii + (H^2)_ii).
    """

    def __init__(self, x: FloatArray, y: FloatArray, w: FloatArray) -> None:
        self.x, self.w = x, w
        xw = x * w[:, None]
        self.gram = x.T @ xw
        self.inv = np.asarray(np.linalg.inv(self.gram), dtype=np.float64)
        self.b = self.inv @ (xw.T @ y)
        self.resid = y - x @ self.b

    def _g(self, d: FloatArray) -> FloatArray:
        result: FloatArray = self.x.T @ (self.x * d[:, None])
        return result

    def ypy(self) -> float:
        """y'Py (the weighted residual sum of squares)."""
        return float((self.w * self.resid**2).sum())

    def pyy(self) -> float:
        """y'PPy = ||Py||^2."""
        return float(((self.w * self.resid) ** 2).sum())

    def tr_pd(self, d: FloatArray) -> float:
        return float((self.w * d).sum()) - float(np.trace(self.inv @ self._g(self.w**2 * d)))

    def tr_p(self) -> float:
        return self.tr_pd(np.ones_like(self.w))

    def tr_pdpd(self, d: FloatArray) -> float:
        w = self.w
        m = self.inv @ self._g(w**2 * d)
        return (
            float((w**2 * d**2).sum())
            - 2.0 * float(np.trace(self.inv @ self._g(w**3 * d**2)))
            + float(np.trace(m @ m))
        )

    def tr_pp(self) -> float:
        return self.tr_pdpd(np.ones_like(self.w))

    def tr_pdp(self, d: FloatArray) -> float:
        w, x = self.w, self.x
        xa = x @ self.inv
        h = w**2 * (xa * x).sum(axis=1)  # H_ii
        h2 = w**2 * ((xa @ self._g(w**2) @ self.inv) * x).sum(axis=1)  # (H^2)_ii
        return float((d * (w**2 - 2.0 * w * h + h2)).sum())

    def logdet(self) -> float:
        """log det(X'WX)."""
        return float(np.linalg.slogdet(self.gram)[1])


def _mods_loglik(y: FloatArray, v: FloatArray, x: FloatArray, tau2: float, reml: bool) -> float:
    fit = _Wls(x, y, 1.0 / (v + tau2))
    ll = -0.5 * float(np.log(v + tau2).sum()) - 0.5 * fit.ypy()
    if reml:
        ll -= 0.5 * fit.logdet()
    return ll


def _mods_score(
    y: FloatArray, v: FloatArray, x: FloatArray, tau2: float, reml: bool
) -> tuple[float, float]:
    """Score (times 2) and Fisher-scoring step for tau2 in the mixed-effects model."""
    fit = _Wls(x, y, 1.0 / (v + tau2))
    ypy = fit.pyy()
    if reml:
        score = ypy - fit.tr_p()
        return score, score / fit.tr_pp()
    score = ypy - float(fit.w.sum())
    return score, score / float((fit.w**2).sum())


def _mods_root(func: Callable[[float], float], y: FloatArray, v: FloatArray) -> float:
    scale = float(((y - y.mean()) ** 2).sum()) / max(len(y) - 1, 1) + float(v.mean())
    return _positive_root(func, scale)


def _mods_tau2(
    y: FloatArray, v: FloatArray, x: FloatArray, method: str
) -> tuple[float, float | None]:
    """tau^2 (and its SE) of the mixed-effects model, as metafor's rma.uni with mods."""
    k, n_par = x.shape
    df = k - n_par
    if method == "EE":
        return 0.0, None
    if method == "DL":
        fe = _Wls(x, y, 1.0 / v)
        tr_p = fe.tr_p()
        tau2 = max(0.0, (fe.ypy() - df) / tr_p)
        var_q = 2.0 * df + 4.0 * tau2 * tr_p + 2.0 * tau2**2 * fe.tr_pp()
        return tau2, math.sqrt(var_q) / tr_p
    ols = _Wls(x, y, np.ones(k))  # P with w = 1: the OLS residual-forming matrix
    he_raw = (ols.ypy() - ols.tr_pd(v)) / df
    if method == "HE":
        tau2 = max(0.0, he_raw)
        se = math.sqrt(2.0 * ols.tr_pdpd(v) + 4.0 * tau2 * ols.tr_pd(v) + 2.0 * tau2**2 * df)
        return tau2, se / df
    if method == "SJ":
        tau0 = float(((y - y.mean()) ** 2).sum()) / k
        if tau0 <= 0.0:
            return 0.0, 0.0
        p0 = _Wls(x, y, 1.0 / (v + tau0))
        tau2 = tau0 * p0.ypy() / df
        se = (
            tau0
            / df
            * math.sqrt(
                2.0 * p0.tr_pdpd(v) + 4.0 * tau2 * p0.tr_pdp(v) + 2.0 * tau2**2 * p0.tr_pp()
            )
        )
        return tau2, se

    def qe(t: float) -> float:
        return _Wls(x, y, 1.0 / (v + t)).ypy()

    if method == "PM":
        tau2 = 0.0 if qe(0.0) <= df else _mods_root(lambda t: qe(t) - df, y, v)
        w = 1.0 / (v + tau2)
        return tau2, math.sqrt(2.0 * k**2 / df) / float(w.sum())
    reml = method == "REML"
    found: float | None = None
    tau2 = max(0.0, he_raw)
    for _ in range(_MAX_ITER):
        step = _mods_score(y, v, x, tau2, reml)[1]
        if tau2 + step < 0.0:
            if tau2 == 0.0:
                step = 0.0
            while tau2 + step < 0.0:
                step /= 2.0
        new = tau2 + step
        change = abs(new - tau2)
        tau2 = new
        if change <= _THRESHOLD:
            found = max(0.0, tau2)
            break
    if found is None:
        if _mods_score(y, v, x, 0.0, reml)[0] <= 0.0:
            found = 0.0
        else:
            found = _mods_root(lambda t: _mods_score(y, v, x, t, reml)[0], y, v)
    tau2 = found
    if (
        tau2 > _THRESHOLD
        and _mods_loglik(y, v, x, 0.0, reml) - _mods_loglik(y, v, x, tau2, reml) > _LL_TOL
    ):
        tau2 = 0.0
    fit = _Wls(x, y, 1.0 / (v + tau2))
    information = fit.tr_pp() if reml else float((fit.w**2).sum())
    return tau2, math.sqrt(2.0 / information)


def _moderator_matrix(moderators: object, k: int) -> tuple[FloatArray, tuple[str, ...]]:
    names: list[str]
    if isinstance(moderators, Mapping):
        if not moderators:
            raise MetaInputError("no moderators given")
        names = [str(n) for n in moderators]
        cols = [_as_column(moderators[n], str(n)) for n in moderators]
    else:
        arr = np.asarray(moderators, dtype=object)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise MetaInputError("moderators must be a 2-D array (k x m) or a dict of columns")
        names = [f"mod{j + 1}" for j in range(arr.shape[1])]
        cols = [_as_column(arr[:, j], names[j]) for j in range(arr.shape[1])]
    for name, col in zip(names, cols, strict=True):
        if len(col) != k:
            raise MetaInputError(f"moderator '{name}' has {len(col)} values for {k} studies")
    x = np.column_stack([np.ones(k), *cols])
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise MetaInputError("moderators are collinear (with each other or the intercept)")
    return x, ("intrcpt", *names)


def _fit_mods(
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    names: tuple[str, ...],
    method: str,
    test: str,
    level: float,
) -> MetaRegressionResult:
    k, n_par = x.shape
    if k <= n_par:
        raise MetaInputError(
            f"too few studies for meta-regression: k = {k} with {n_par} coefficients "
            f"(need k > {n_par})"
        )
    method_key, test_key = _method_key(method), _test_key(test)
    alpha = _alpha(level)
    df = k - n_par
    tau2, tau2_se = _mods_tau2(y, v, x, method_key)
    fit = _Wls(x, y, 1.0 / (v + tau2))
    vb, b = fit.inv, fit.b
    if test_key == "knha":
        rss = fit.ypy()
        vb = vb * (rss / df if rss > _EPS else 0.0)
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = b / se
    m = n_par - 1
    vb_mods = vb[1:, 1:]
    qm = float(b[1:] @ np.linalg.solve(vb_mods, b[1:])) if np.all(se[1:] > 0) else math.inf
    if test_key == "knha":
        crit = float(special.stdtrit(df, 1.0 - alpha / 2.0))
        pvals = 2.0 * special.stdtr(df, -np.abs(stat))
        qm /= m
        qm_p = float(special.fdtrc(m, df, qm))
    else:
        crit = float(-special.ndtri(alpha / 2.0))
        pvals = 2.0 * special.ndtr(-np.abs(stat))
        qm_p = float(special.chdtrc(m, qm))
    fe = _Wls(x, y, 1.0 / v)
    qe = max(0.0, fe.ypy())
    if method_key == "EE":
        i2 = max(0.0, 100.0 * (qe - df) / qe) if qe > 0 else 0.0
        h2 = qe / df
        r2: float | None = None
    else:
        typical = df / fe.tr_p()
        i2 = 100.0 * tau2 / (typical + tau2)
        h2 = tau2 / typical + 1.0
        tau2_re = rma(y, v, method=method_key, tau2_ci=False).tau2
        r2 = None if tau2_re <= 0.0 else max(0.0, 100.0 * (tau2_re - tau2) / tau2_re)
    return MetaRegressionResult(
        k=k,
        names=names,
        coefficients=b,
        se=se,
        stat=stat,
        p=np.asarray(pvals, dtype=np.float64),
        ci_low=b - crit * se,
        ci_high=b + crit * se,
        vcov=vb,
        tau2=tau2,
        tau2_se=tau2_se,
        i2=i2,
        h2=h2,
        r2=r2,
        qm=qm,
        qm_df=m,
        qm_p=qm_p,
        qe=qe,
        qe_df=df,
        qe_p=float(special.chdtrc(df, qe)),
        method=method_key,
        test=test_key,
        df=df if test_key == "knha" else None,
        level=_level_percent(level),
    )


def meta_regression(
    yi: ArrayLike | EffectSizes,
    vi: ArrayLike | None = None,
    moderators: object = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
) -> MetaRegressionResult:
    """Mixed-effects meta-regression with an intercept, as metafor's ``rma(yi, vi, mods=...)``.

    ``moderators`` is a k x m array (or one column) or a dict ``{name: column}``; an
    intercept is always added.  tau^2 (residual heterogeneity) is estimated by
    ``method`` exactly as in :func:`rma` but with P = W - W X (X'WX)^-1 X' W
    (Fisher scoring for ML/REML, the generalised moment estimators otherwise);
    coefficients are weighted least squares with w = 1/(vi + tau2) and
    Var(b) = (X'WX)^-1 (multiplied by y'Py/(k-p) and tested against t on k - p df
    for ``test="knha"``, Knapp & Hartung, 2003).  QM is the Wald test of all
    moderator coefficients (chi^2 on m df, or F(m, k-p) = QM/m for knha); QE the
    test for residual heterogeneity y'P_FE y on k - p df.  I^2/H^2 use the typical
    variance (k-p)/tr(P_FE); pseudo-R^2 (Raudenbush, 2009) is
    max(0, 100 (tau2_RE - tau2) / tau2_RE) with tau2_RE from :func:`rma` with the same
    method (``None`` for EE or if tau2_RE is 0), as metafor computes it.

    Raises :class:`MetaInputError` for mismatched lengths, collinear moderators or
    k <= p (too few studies for the number of coefficients).
    """
    if moderators is None:
        raise MetaInputError("meta_regression() needs moderators")
    y, v, _ = _vectors(yi, vi)
    x, names = _moderator_matrix(moderators, len(y))
    return _fit_mods(y, v, x, names, method, test, level)


def subgroup_analysis(
    yi: ArrayLike | EffectSizes,
    vi: ArrayLike | None = None,
    groups: Sequence[object] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
) -> SubgroupResult:
    """Separate :func:`rma` fits per subgroup and the test for subgroup differences.

    As in metafor's documented approach for dat.bcg by ``alloc`` (fit separate
    random-effects models, collect ``estimate`` and ``se`` in a data frame, then
    ``rma(estimate, sei=se, method="FE", data=...)``): Q_between is Cochran's Q of
    the group estimates with weights 1/se^2, on (number of groups - 1) df.  A group
    with a single study is fitted as in :func:`rma` (its own estimate), as metafor
    does; with a single group Q_between is 0 on 0 df and its p value ``None``.
    """
    y, v, _ = _vectors(yi, vi)
    if groups is None:
        raise MetaInputError("subgroup_analysis() needs 'groups'")
    labels = [str(g) if g is not None else None for g in groups]
    if len(labels) != len(y):
        raise MetaInputError(f"'groups' has {len(labels)} values for {len(y)} studies")
    for index, label in enumerate(labels):
        if label is None:
            raise MetaInputError("missing group label", index + 1)
    order = list(dict.fromkeys(labels))
    results: dict[str, MetaResult] = {}
    for group in order:
        rows = [i for i, label in enumerate(labels) if label == group]
        results[str(group)] = rma(y[rows], v[rows], method=method, test=test, level=level)
    est = np.array([r.estimate for r in results.values()])
    var = np.array([r.se**2 for r in results.values()])
    df = len(order) - 1
    if df == 0:
        return SubgroupResult(results, 0.0, 0, None)
    if np.any(var <= 0):
        raise MetaInputError("a subgroup estimate has zero standard error")
    q = max(0.0, _generalised_q(est, var, 0.0))
    return SubgroupResult(results, q, df, float(special.chdtrc(df, q)))


def leave_one_out(
    yi: ArrayLike | EffectSizes,
    vi: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
) -> list[MetaResult]:
    """:func:`rma` with each study omitted in turn (metafor's ``leave1out``).

    Element i is the fit without study i (0-based).  Needs at least two studies.
    """
    y, v, measure = _vectors(yi, vi)
    k = len(y)
    if k < 2:
        raise MetaInputError("leave-one-out needs at least two studies")
    out: list[MetaResult] = []
    # The k fits run as one rma_many() block (row i = all studies but i), in chunks of
    # rows that keep the block near a million values.
    step = max(1, 1_000_000 // k)
    columns = np.arange(k - 1)[None, :]
    for start in range(0, k, step):
        left_out = np.arange(start, min(k, start + step))[:, None]
        index = columns + (columns >= left_out)
        fits = rma_many(y[index], v[index], method=method, test=test, level=level)
        out.extend(_measure(fits.result(i), measure) for i in range(len(fits)))
    return out


def _with_measure(result: MetaResult, measure: str) -> MetaResult:
    return replace(result, measure=measure)


def egger_test(
    yi: ArrayLike | EffectSizes,
    vi: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
) -> EggerResult:
    """Regression test for funnel plot asymmetry: metafor's ``regtest()`` default.

    Fits the meta-regression ``yi = b0 + b1 sei`` (``model="rma"``,
    ``predictor="sei"``) with the same tau^2 ``method`` and ``test`` as the model
    (Egger et al., 1997; Sterne & Egger, 2005) and returns the test of b1 (z, or t
    on k - 2 df for knha) and the limit estimate b0 (the estimate as sei -> 0) with
    its confidence interval.  Needs k >= 3.
    """
    y, v, _ = _vectors(yi, vi)
    if len(y) < 3:
        raise MetaInputError(f"too few studies for the regression test: k = {len(y)} (need 3)")
    x = np.column_stack([np.ones(len(y)), np.sqrt(v)])
    fit = _fit_mods(y, v, x, ("intrcpt", "sei"), method, test, level)
    return EggerResult(
        stat=float(fit.stat[1]),
        p=float(fit.p[1]),
        df=fit.df,
        limit=float(fit.coefficients[0]),
        limit_ci_low=float(fit.ci_low[0]),
        limit_ci_high=float(fit.ci_high[0]),
        fit=fit,
    )


def trim_and_fill(
    yi: ArrayLike | EffectSizes,
    vi: ArrayLike | None = None,
    method: str = "REML",
    estimator: str = "L0",
    side: str | None = None,
    test: str = "z",
    level: float = 95,
    maxiter: int = 100,
) -> TrimFillResult:
    """Trim and fill (Duval & Tweedie, 2000a, b), following metafor's ``trimfill()``.

    ``side=None`` chooses the side as metafor: fit ``yi ~ sqrt(vi)`` with the same
    method; missing studies are imputed on the right if the slope is negative, else on
    the left.  Effects are flipped for the right side and sorted (stable); the
    estimate of the truncated data (``method``) centres the effects, whose signed
    ranks of |centred| (ties by order) give k0 by ``L0`` =
    (4 S_r - k(k+1)) / (2k - 1) or ``R0`` = k - (largest negative rank) - 1,
    rounded half-to-even as R's ``round()`` and truncated at 0, iterated until k0
    is unchanged.  The k0 most extreme studies are mirrored about the final
    truncated estimate (2 beta - yi, same vi) and the model refitted to all
    k + k0 studies.  ``se_k0`` is metafor's SE of k0.
    """
    y, v, measure = _vectors(yi, vi)
    method_key = _method_key(method)
    est_key = str(estimator).upper()
    if est_key not in ("L0", "R0"):
        raise ValueError(f"unknown estimator {estimator!r}; expected 'L0' or 'R0'")
    k = len(y)
    if k < 3:
        raise MetaInputError(f"too few studies for trim and fill: k = {k} (need 3)")
    if side is None:
        x = np.column_stack([np.ones(k), np.sqrt(v)])
        slope = float(
            _fit_mods(y, v, x, ("intrcpt", "sei"), method_key, "z", level).coefficients[1]
        )
        side = "right" if slope < 0 else "left"
    elif side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    sign = -1.0 if side == "right" else 1.0
    ys = sign * y
    ix = np.argsort(ys, kind="stable")
    ys, vs = ys[ix], v[ix]
    k0, k0_prev, iteration = 0, -1, 0
    se_k0 = 0.0
    beta = 0.0
    while k0 != k0_prev:
        k0_prev = k0
        iteration += 1
        if iteration > maxiter:
            raise MetaConvergenceError("trim and fill algorithm did not converge")
        beta = rma(ys[: k - k0], vs[: k - k0], method=method_key, tau2_ci=False).estimate
        centred = ys - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(centred) * ranks
        if est_key == "R0":
            negative = -signed[signed < 0]
            raw = k - float(negative.max()) - 1 if negative.size else k - 1.0
            se_k0 = math.sqrt(2.0 * max(0.0, raw) + 2.0)
        else:
            s_r = float(signed[signed > 0].sum())
            raw = (4.0 * s_r - k * (k + 1)) / (2.0 * k - 1.0)
            var_sr = (
                k * (k + 1) * (2 * k + 1)
                + 10 * raw**3
                + 27 * raw**2
                + 17 * raw
                - 18 * k * raw**2
                - 18 * k * raw
                + 6 * k**2 * raw
            ) / 24.0
            se_k0 = 4.0 * math.sqrt(max(var_sr, 0.0)) / (2.0 * k - 1.0)
        k0 = max(0, int(np.round(raw)))
        se_k0 = max(0.0, se_k0)
    if k0 == 0:
        empty = np.empty(0)
        result = rma(y, v, method=method_key, test=test, level=level)
        return TrimFillResult(0, se_k0, side, est_key, empty, empty, _measure(result, measure))
    yi_fill = sign * (2.0 * beta - ys[k - k0 :])
    vi_fill = vs[k - k0 :].copy()
    result = rma(
        np.concatenate([y, yi_fill]),
        np.concatenate([v, vi_fill]),
        method=method_key,
        test=test,
        level=level,
    )
    return TrimFillResult(k0, se_k0, side, est_key, yi_fill, vi_fill, _measure(result, measure))


def _measure(result: MetaResult, measure: str | None) -> MetaResult:
    return result if measure is None else _with_measure(result, measure)

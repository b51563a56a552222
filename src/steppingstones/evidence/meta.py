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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

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
    specific to one study (mismatched column lengths, missing columns, ...).
    """

    def __init__(self, message: str, row: int | None = None) -> None:
        self.message = message
        self.row = row
        super().__init__(message if row is None else f"row {row}: {message}")

    def __reduce__(self) -> tuple[type[MetaInputError], tuple[str, int | None]]:
        return (type(self), (self.message, self.row))


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
        fast = values.astype(np.float64)
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
    _raise_first(
        [
            (~np.isfinite(yi), "effect size is not finite (missing or undefined)"),
            (~np.isfinite(vi), "sampling variance is not finite (missing or undefined)"),
            (np.isfinite(vi) & (vi <= 0), "sampling variance must be > 0"),
        ]
    )


# --------------------------------------------------------------------------------------
# Random-effects machinery
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Traces:
    """Traces involving P = W - w w'/sum(w) (W = diag(w)) and D = diag(d).

    P is the residual-forming matrix of the weighted intercept-only model; with
    w = 1 it is the OLS centring matrix.  Closed forms avoid building k x k
    matrices (P is symmetric, so tr(PDPD) = sum_ij P_ij^2 d_i d_j, etc.).
    """

    tr_p: float
    tr_pp: float
    tr_pd: float
    tr_pdp: float
    tr_pdpd: float


def _traces(w: FloatArray, d: FloatArray) -> _Traces:
    s1, s2, s3 = float(w.sum()), float((w**2).sum()), float((w**3).sum())
    return _Traces(
        tr_p=s1 - s2 / s1,
        tr_pp=s2 - 2.0 * s3 / s1 + s2**2 / s1**2,
        tr_pd=float((d * (w - w**2 / s1)).sum()),
        tr_pdp=float((d * (w**2 - 2.0 * w**3 / s1 + w**2 * s2 / s1**2)).sum()),
        tr_pdpd=float((d**2 * (w**2 - 2.0 * w**3 / s1)).sum() + (w**2 * d).sum() ** 2 / s1**2),
    )


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


def _tau2_dl(y: FloatArray, v: FloatArray) -> tuple[float, float]:
    """DerSimonian & Laird (1986) method-of-moments estimator based on Cochran's Q.

    tau2 = max(0, (Q - (k-1)) / (sum w - sum w^2 / sum w)), w = 1/vi.  SE is
    metafor's: sqrt(Var(Q)) / tr(P) with Var(Q) = 2(k-1) + 4 tau2 tr(P) +
    2 tau2^2 tr(PP) evaluated at the truncated estimate.
    """
    df = len(y) - 1
    w = 1.0 / v
    t = _traces(w, v)
    q = _generalised_q(y, v, 0.0)
    tau2 = max(0.0, (q - df) / t.tr_p)
    se = math.sqrt(2.0 * df + 4.0 * tau2 * t.tr_p + 2.0 * tau2**2 * t.tr_pp) / t.tr_p
    return tau2, se


def _tau2_he(y: FloatArray, v: FloatArray) -> tuple[float, float, float]:
    """Hedges (1983) / Hedges & Olkin (1985) unweighted method-of-moments estimator.

    tau2 = max(0, sum (y - ybar)^2 / (k-1) - mean(vi)) -- written as
    (RSS - tr(PV)) / (k-1) with P the OLS centring matrix.  SE as metafor:
    sqrt(2 tr(PVPV) + 4 tau2 tr(PV) + 2 tau2^2 (k-1)) / (k-1).  Also returns
    the untruncated value (metafor's starting value for ML/REML).
    """
    k = len(y)
    df = k - 1
    t = _traces(np.ones(k), v)
    rss = float(((y - y.mean()) ** 2).sum())
    raw = (rss - t.tr_pd) / df
    tau2 = max(0.0, raw)
    se = math.sqrt(2.0 * t.tr_pdpd + 4.0 * tau2 * t.tr_pd + 2.0 * tau2**2 * df) / df
    return tau2, se, raw


def _tau2_sj(y: FloatArray, v: FloatArray) -> tuple[float, float]:
    """Sidik & Jonkman (2005) estimator with metafor's initial value.

    tau0 = sum (y - ybar)^2 / k (metafor: var(yi) (k-1)/k); with w = 1/(vi + tau0),
    tau2 = tau0 * sum w (y - mu_w)^2 / (k-1).  Non-negative by construction.  SE as
    metafor: tau0/(k-1) sqrt(2 tr(PVPV) + 4 tau2 tr(PVP) + 2 tau2^2 tr(PP)).
    """
    k = len(y)
    df = k - 1
    tau0 = float(((y - y.mean()) ** 2).sum()) / k
    if tau0 <= 0.0:
        return 0.0, 0.0
    w = 1.0 / (v + tau0)
    tau2 = tau0 * _generalised_q(y, v, tau0) / df
    t = _traces(w, v)
    se = tau0 / df * math.sqrt(2.0 * t.tr_pdpd + 4.0 * tau2 * t.tr_pdp + 2.0 * tau2**2 * t.tr_pp)
    return tau2, se


def _tau2_pm(y: FloatArray, v: FloatArray) -> tuple[float, float]:
    """Paule & Mandel (1982) estimator: root of the generalised Q equation.

    Solves sum w_i (y_i - mu_w)^2 = k - 1 with w_i = 1/(vi + tau2); tau2 = 0 when
    the generalised Q at 0 is already below k - 1.  SE as metafor:
    sqrt(2 k^2 / (k-1)) / sum(w).
    """
    k = len(y)
    df = k - 1
    if _generalised_q(y, v, 0.0) <= df:
        tau2 = 0.0
    else:
        scale = float(((y - y.mean()) ** 2).sum()) / max(df, 1) + float(v.mean())
        tau2 = _positive_root(lambda t: _generalised_q(y, v, t) - df, scale)
    w = 1.0 / (v + tau2)
    se = math.sqrt(2.0 * k**2 / df) / float(w.sum())
    return tau2, se


def _loglik(y: FloatArray, v: FloatArray, tau2: float, reml: bool) -> float:
    """(Restricted) log-likelihood of the random-effects model, up to a constant."""
    w = 1.0 / (v + tau2)
    rss = float((w * (y - _weighted_mean(y, w)) ** 2).sum())
    ll = -0.5 * float(np.log(v + tau2).sum()) - 0.5 * rss
    if reml:
        ll -= 0.5 * math.log(float(w.sum()))
    return ll


def _score(y: FloatArray, v: FloatArray, tau2: float, reml: bool) -> tuple[float, float]:
    """Twice the (restricted) likelihood score for tau2 and the Fisher-scoring step.

    Score: Y'PPY - tr(W) (ML) or Y'PPY - tr(P) (REML); expected information (times
    2): tr(W^2) (ML) or tr(PP) (REML).  For the intercept-only model PY = W (y - mu_w).
    """
    w = 1.0 / (v + tau2)
    resid = y - _weighted_mean(y, w)
    ypy = float((w**2 * resid**2).sum())
    if reml:
        t = _traces(w, v)
        return ypy - t.tr_p, (ypy - t.tr_p) / t.tr_pp
    return ypy - float(w.sum()), (ypy - float(w.sum())) / float((w**2).sum())


def _fisher_scoring(y: FloatArray, v: FloatArray, reml: bool, start: float) -> float | None:
    """metafor's Fisher scoring iterations; ``None`` if not converged in 100 steps."""
    tau2 = max(0.0, start)
    for _ in range(_MAX_ITER):
        step = _score(y, v, tau2, reml)[1]
        if tau2 + step < 0.0:
            if tau2 == 0.0:  # metafor halves the step until it vanishes: stay at 0
                step = 0.0
            while tau2 + step < 0.0:
                step /= 2.0
        new = tau2 + step
        change = abs(new - tau2)
        tau2 = new
        if change <= _THRESHOLD:
            return max(0.0, tau2)
    return None


def _tau2_fisher(y: FloatArray, v: FloatArray, reml: bool, start: float) -> tuple[float, float]:
    """ML or REML estimate of tau2 (Viechtbauer, 2005) by Fisher scoring as in metafor.

    Starting value max(0, HE); update tau2 += (Y'PPY - tr(W)) / tr(W^2) for ML and
    (Y'PPY - tr(P)) / tr(PP) for REML, halving the step whenever it would make
    tau2 negative; converged when the change is <= 1e-10 (at most 100 iterations).
    As in metafor, tau2 is reset to 0 if the (restricted) likelihood is higher
    there.  SE from the Fisher information: sqrt(2 / sum w^2) (ML) or
    sqrt(2 / tr(PP)) (REML).

    Where metafor would stop with "Fisher scoring algorithm did not converge" (the
    iterations can oscillate; metafor's documented remedy is a smaller step length,
    ``control=list(stepadj=...)``), the same maximum is found instead by a bracketed
    root search on the score equation (0 if the score is non-positive at 0).
    """
    found = _fisher_scoring(y, v, reml, start)
    if found is None:
        if _score(y, v, 0.0, reml)[0] <= 0.0:
            found = 0.0
        else:
            scale = float(((y - y.mean()) ** 2).sum()) / max(len(y) - 1, 1) + float(v.mean())
            found = _positive_root(lambda t: _score(y, v, t, reml)[0], scale)
    tau2 = found
    if tau2 > _THRESHOLD and _loglik(y, v, 0.0, reml) - _loglik(y, v, tau2, reml) > _LL_TOL:
        tau2 = 0.0
    w = 1.0 / (v + tau2)
    information = _traces(w, v).tr_pp if reml else float((w**2).sum())
    return tau2, math.sqrt(2.0 / information)


def _qprofile(y: FloatArray, v: FloatArray, alpha: float) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (Viechtbauer, 2007; metafor's confint).

    The bounds solve Q_gen(tau2) = chi^2_{k-1; 1-alpha/2} (lower) and
    Q_gen(tau2) = chi^2_{k-1; alpha/2} (upper); a bound is 0 when Q_gen(0) is
    already below its critical value (both are 0 when the interval is empty).
    """
    df = len(y) - 1
    q0 = _generalised_q(y, v, 0.0)
    scale = float(((y - y.mean()) ** 2).sum()) / max(df, 1) + float(v.mean())

    def bound(critical: float) -> float:
        if q0 < critical:
            return 0.0
        return _positive_root(lambda t: _generalised_q(y, v, t) - critical, scale)

    upper_quantile = float(special.chdtri(df, alpha / 2.0))
    lower_quantile = float(special.chdtri(df, 1.0 - alpha / 2.0))
    return bound(upper_quantile), bound(lower_quantile)


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
    y, v = _columns({"yi": effects, "vi": vi}, ("yi", "vi"))
    _check_yi_vi(y, v)
    return y, v, measure


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
    callers running many analyses that do not report it.

    ``yi``/``vi`` are the observed effects and sampling variances (or pass an
    :class:`EffectSizes` as ``yi``).  ``method``:

    * ``"EE"`` (aliases ``"FE"``, ``"CE"``) -- common/equal-effects model with
      inverse-variance weights (tau2 = 0).
    * ``"DL"`` -- DerSimonian & Laird (1986).
    * ``"HE"`` -- Hedges (1983), Hedges & Olkin (1985) method of moments.
    * ``"SJ"`` -- Sidik & Jonkman (2005), metafor's starting value.
    * ``"PM"`` -- Paule & Mandel (1982), generalised Q root.
    * ``"ML"``, ``"REML"`` -- (restricted) maximum likelihood by Fisher scoring
      (Viechtbauer, 2005), start max(0, HE), convergence 1e-10, <= 100 steps
      (if the iterations oscillate, where metafor stops with an error, the score
      equation is solved by a bracketed root search instead).

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
    """
    y, v, measure = _vectors(yi, vi)
    method_key = _METHOD_ALIASES.get(str(method).upper(), str(method).upper())
    if method_key not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    test_key = str(test).lower()
    if test_key not in TESTS:
        raise ValueError(f"unknown test {test!r}; expected 'z' or 'knha'")
    alpha = _alpha(level)
    level_pct = _level_percent(level)
    k = len(y)

    if k == 1:
        estimate, se = float(y[0]), math.sqrt(float(v[0]))
        crit = float(-special.ndtri(alpha / 2.0))
        z = estimate / se
        return MetaResult(
            k=1,
            estimate=estimate,
            se=se,
            ci_low=estimate - crit * se,
            ci_high=estimate + crit * se,
            z_or_t=z,
            p=float(2.0 * special.ndtr(-abs(z))),
            tau2=0.0,
            tau2_se=None,
            tau2_ci_low=None,
            tau2_ci_high=None,
            i2=None,
            h2=None,
            q=0.0,
            q_df=0,
            q_p=None,
            pi_low=estimate - crit * se,
            pi_high=estimate + crit * se,
            method=method_key,
            test="z",
            level=level_pct,
            measure=measure,
        )

    df = k - 1
    tau2_se: float | None
    if method_key == "EE":
        tau2, tau2_se = 0.0, None
    elif method_key == "DL":
        tau2, tau2_se = _tau2_dl(y, v)
    elif method_key == "HE":
        tau2, tau2_se, _ = _tau2_he(y, v)
    elif method_key == "SJ":
        tau2, tau2_se = _tau2_sj(y, v)
    elif method_key == "PM":
        tau2, tau2_se = _tau2_pm(y, v)
    else:
        start = _tau2_he(y, v)[2]
        tau2, tau2_se = _tau2_fisher(y, v, reml=method_key == "REML", start=start)

    # Pooled estimate with weights 1/(vi + tau2).
    w = 1.0 / (v + tau2)
    estimate = _weighted_mean(y, w)
    variance = 1.0 / float(w.sum())
    if test_key == "knha":
        rss = float((w * (y - estimate) ** 2).sum())
        variance *= rss / df if rss > _EPS else 0.0
        crit = float(special.stdtrit(df, 1.0 - alpha / 2.0))
    else:
        crit = float(-special.ndtri(alpha / 2.0))
    se = math.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = float(np.float64(estimate) / np.float64(se))
    if test_key == "knha":
        p = float(2.0 * special.stdtr(df, -abs(statistic)))
    else:
        p = float(2.0 * special.ndtr(-abs(statistic)))

    # Heterogeneity: Cochran's Q (inverse-variance, tau2 = 0) and I^2 / H^2.
    w_fe = 1.0 / v
    q = max(0.0, _generalised_q(y, v, 0.0))
    q_p = float(special.chdtrc(df, q))
    if method_key == "EE":
        i2 = max(0.0, 100.0 * (q - df) / q) if q > 0 else 0.0
        h2 = q / df
        tau2_interval: tuple[float | None, float | None] = (None, None)
    else:
        typical = df / _traces(w_fe, v).tr_p
        i2 = 100.0 * tau2 / (typical + tau2)
        h2 = tau2 / typical + 1.0
        tau2_interval = _qprofile(y, v, alpha) if tau2_ci else (None, None)

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
        tau2_se=tau2_se,
        tau2_ci_low=tau2_interval[0],
        tau2_ci_high=tau2_interval[1],
        i2=i2,
        h2=h2,
        q=q,
        q_df=df,
        q_p=q_p,
        pi_low=estimate - half_pi,
        pi_high=estimate + half_pi,
        method=method_key,
        test=test_key,
        level=level_pct,
        measure=measure,
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


def _method_key(method: str) -> str:
    key = _METHOD_ALIASES.get(str(method).upper(), str(method).upper())
    if key not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    return key


def _test_key(test: str) -> str:
    key = str(test).lower()
    if key not in TESTS:
        raise ValueError(f"unknown test {test!r}; expected 'z' or 'knha'")
    return key


def _hat(x: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(X'WX)^-1 and P = W - W X (X'WX)^-1 X' W for weights w."""
    xw = x * w[:, None]
    inv = np.asarray(np.linalg.inv(x.T @ xw), dtype=np.float64)
    p = np.asarray(np.diag(w) - xw @ inv @ xw.T, dtype=np.float64)
    return inv, p


def _mods_loglik(y: FloatArray, v: FloatArray, x: FloatArray, tau2: float, reml: bool) -> float:
    w = 1.0 / (v + tau2)
    inv, p = _hat(x, w)
    ll = -0.5 * float(np.log(v + tau2).sum()) - 0.5 * float(y @ p @ y)
    if reml:
        ll -= 0.5 * float(np.linalg.slogdet(np.linalg.inv(inv))[1])
    return ll


def _mods_score(
    y: FloatArray, v: FloatArray, x: FloatArray, tau2: float, reml: bool
) -> tuple[float, float]:
    """Score (times 2) and Fisher-scoring step for tau2 in the mixed-effects model."""
    w = 1.0 / (v + tau2)
    _, p = _hat(x, w)
    py = p @ y
    ypy = float(py @ py)
    if reml:
        score = ypy - float(np.trace(p))
        return score, score / float((p * p).sum())
    score = ypy - float(w.sum())
    return score, score / float((w**2).sum())


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
    _, p_fe = _hat(x, 1.0 / v)
    if method == "DL":
        tr_p = float(np.trace(p_fe))
        tau2 = max(0.0, (float(y @ p_fe @ y) - df) / tr_p)
        var_q = 2.0 * df + 4.0 * tau2 * tr_p + 2.0 * tau2**2 * float((p_fe * p_fe).sum())
        return tau2, math.sqrt(var_q) / tr_p
    ols = np.eye(k) - x @ np.linalg.inv(x.T @ x) @ x.T
    rss_ols = float(y @ ols @ y)
    he_raw = (rss_ols - float((np.diag(ols) * v).sum())) / df
    if method == "HE":
        tau2 = max(0.0, he_raw)
        pv = ols * v[None, :]
        se = math.sqrt(
            2.0 * float((pv * pv.T).sum()) + 4.0 * tau2 * float(np.trace(pv)) + 2.0 * tau2**2 * df
        )
        return tau2, se / df
    if method == "SJ":
        tau0 = float(((y - y.mean()) ** 2).sum()) / k
        if tau0 <= 0.0:
            return 0.0, 0.0
        _, p0 = _hat(x, 1.0 / (v + tau0))
        tau2 = tau0 * float(y @ p0 @ y) / df
        pv = p0 * v[None, :]
        se = (
            tau0
            / df
            * math.sqrt(
                2.0 * float((pv * pv.T).sum())
                + 4.0 * tau2 * float(np.trace(pv @ p0))
                + 2.0 * tau2**2 * float((p0 * p0).sum())
            )
        )
        return tau2, se

    def qe(t: float) -> float:
        return float(y @ _hat(x, 1.0 / (v + t))[1] @ y)

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
    w = 1.0 / (v + tau2)
    _, p = _hat(x, w)
    information = float((p * p).sum()) if reml else float((w**2).sum())
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
    w = 1.0 / (v + tau2)
    vb, p = _hat(x, w)
    b = vb @ (x.T @ (w * y))
    if test_key == "knha":
        rss = float(y @ p @ y)
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
    _, p_fe = _hat(x, 1.0 / v)
    qe = max(0.0, float(y @ p_fe @ y))
    if method_key == "EE":
        i2 = max(0.0, 100.0 * (qe - df) / qe) if qe > 0 else 0.0
        h2 = qe / df
        r2: float | None = None
    else:
        typical = df / float(np.trace(p_fe))
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
    out = []
    for i in range(k):
        keep = np.arange(k) != i
        res = rma(y[keep], v[keep], method=method, test=test, level=level)
        out.append(res if measure is None else _with_measure(res, measure))
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

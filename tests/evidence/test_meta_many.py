"""``rma_many`` (many analyses at once) against ``rma`` one by one, and bad input.

The reference for every number here is :func:`rma` itself, whose agreement with metafor
is tested in test_meta.py: ``rma_many`` must give the same results to 1e-10.  The last
part checks the issue's list of bad input (zero or negative variances, a single study,
all-zero cells, missing values, non-numeric cells): each is either refused with a
message naming the study row or handled in a documented way, never a silent NaN.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import replace

import numpy as np
import pytest

from steppingstones.evidence.meta import (
    METHODS,
    TESTS,
    MetaInputError,
    MetaResult,
    escalc,
    leave_one_out,
    rma,
    rma_many,
)
from tests.evidence.test_meta import bcg

FIELDS = (
    "estimate", "se", "ci_low", "ci_high", "z_or_t", "p", "tau2", "tau2_se", "tau2_ci_low",
    "tau2_ci_high", "i2", "h2", "q", "q_p", "pi_low", "pi_high",
)  # fmt: skip


def assert_same(a: MetaResult, b: MetaResult, tol: float = 1e-10) -> None:
    assert (a.k, a.q_df, a.method, a.test, a.level, a.measure) == (
        b.k,
        b.q_df,
        b.method,
        b.test,
        b.level,
        b.measure,
    )
    for field in FIELDS:
        x, y = getattr(a, field), getattr(b, field)
        if x is None or y is None:
            assert x is None and y is None, field
        else:
            assert abs(x - y) <= tol * max(1.0, abs(x)), (field, x, y)


def simulated(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.005, 0.5, (n, k)) * rng.choice([0.1, 1.0, 10.0], (n, 1))
    tau2 = rng.choice([0.0, 0.01, 0.1, 1.0], (n, 1))
    yi = rng.normal(rng.normal(0, 1, (n, 1)), np.sqrt(vi + tau2))
    return yi, vi


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_rma_many_equals_rma_one_by_one(method: str, test: str) -> None:
    yi, vi = simulated(300, 8, seed=hash((method, test)) % 2**32)
    fits = rma_many(yi, vi, method=method, test=test)
    assert len(fits) == 300 and fits.method == method and fits.test == test
    for i in range(300):
        assert_same(fits.result(i), rma(yi[i], vi[i], method=method, test=test))


def test_rma_many_arrays_hold_the_fields_with_nan_only_where_undefined() -> None:
    yi, vi = simulated(50, 5, seed=1)
    fits = rma_many(yi, vi, method="REML", level=90)
    one = rma(yi[7], vi[7], method="REML", level=90)
    assert fits.tau2[7] == one.tau2 and fits.level == 90.0
    assert fits.k.tolist() == [5] * 50 and fits.q_df.tolist() == [4] * 50
    for field in FIELDS:
        assert np.isfinite(getattr(fits, field)).all(), field
    ee = rma_many(yi, vi, method="EE")
    assert np.isnan(ee.tau2_se).all() and np.isnan(ee.tau2_ci_low).all()
    assert ee.result(0).tau2_se is None and ee.result(0).tau2_ci_low is None
    no_ci = rma_many(yi, vi, tau2_ci=False)
    assert np.isnan(no_ci.tau2_ci_high).all() and no_ci.result(3).tau2_ci_high is None
    assert len(no_ci.results()) == 50 and no_ci.result(-1) == no_ci.result(49)
    with pytest.raises(IndexError):
        no_ci.result(50)


def test_rma_many_takes_lists_of_different_lengths_in_order() -> None:
    rng = np.random.default_rng(7)
    sizes = [1, 10, 2, 3, 1, 10, 25, 2]
    ys = [rng.normal(0, 1, k) for k in sizes]
    vs = [rng.uniform(0.01, 0.5, k) for k in sizes]
    for method in ("REML", "PM", "DL"):
        fits = rma_many(ys, vs, method=method, test="knha")
        assert fits.k.tolist() == sizes
        for i, (y, v) in enumerate(zip(ys, vs, strict=True)):
            assert_same(fits.result(i), rma(y, v, method=method, test="knha"))
    single = rma_many([[0.5]], [[0.04]]).result(0)
    assert single.i2 is None and single.q_p is None and single.test == "z"
    assert_same(single, rma([0.5], [0.04]))


def test_rma_many_takes_effect_sizes_and_keeps_the_measure() -> None:
    es = bcg()
    halves = [
        escalc("RR", ai=[4, 6, 3], bi=[119, 300, 228], ci=[11, 29, 11], di=[128, 274, 209]),
        es,
    ]
    fits = rma_many(halves)
    assert fits.measure == "RR"
    assert_same(fits.result(1), rma(es))
    assert fits.result(1).estimate == pytest.approx(-0.7145, abs=5e-5)  # metafor, dat.bcg


def test_per_analysis_convergence_and_fallback_in_a_batch() -> None:
    # Analysis 2 makes Fisher scoring oscillate (test_meta.py); it falls back alone while
    # the others converge by Fisher scoring, as rma() does for each.
    yi, vi = simulated(5, 7, seed=3)
    yi[2], vi[2] = [0.0] * 6 + [1.0], [1.0] * 6 + [0.125]
    yi[4], vi[4] = [0.1] * 7, [0.2] * 7  # no heterogeneity: tau2 = 0
    for method in ("REML", "ML"):
        fits = rma_many(yi, vi, method=method)
        for i in range(5):
            assert_same(fits.result(i), rma(yi[i], vi[i], method=method))
        assert fits.tau2[4] == 0.0
        if method == "REML":
            assert 0.05 < fits.tau2[2] < 0.15


def test_chunks_do_not_change_results() -> None:
    yi, vi = simulated(40, 6, seed=11)
    whole = rma_many(yi, vi, method="PM")
    parts = rma_many(yi, vi, method="PM", chunk=13)  # blocks of two analyses
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(whole, field), getattr(parts, field))


def test_leave_one_out_runs_as_one_batch_and_equals_refits() -> None:
    es = bcg()
    for method in ("REML", "PM"):
        for i, res in enumerate(leave_one_out(es, method=method, test="knha")):
            keep = np.arange(13) != i
            direct = rma(es.yi[keep], es.vi[keep], method=method, test="knha")
            assert_same(res, replace(direct, measure="RR"))


def test_one_analysis_of_many_studies_is_vectorised() -> None:
    # 200,000 studies: a k x k matrix would need 320 GB, so this only runs in O(k) memory.
    rng = np.random.default_rng(5)
    vi = rng.uniform(0.01, 0.3, 200_000)
    yi = rng.normal(-0.5, np.sqrt(vi + 0.1))
    res = rma(yi, vi, method="REML")
    w = 1 / (vi + res.tau2)
    mu = np.sum(w * yi) / np.sum(w)
    score = np.sum(w**2 * (yi - mu) ** 2) - (np.sum(w) - np.sum(w**2) / np.sum(w))
    assert abs(score) < 1e-6 * np.sum(w**2)  # REML score equation solved
    assert res.tau2 == pytest.approx(0.1, rel=0.05) and res.estimate == pytest.approx(mu)
    assert res.tau2_ci_low is not None and res.tau2_ci_low < res.tau2 < res.tau2_ci_high


# --------------------------------------------------------------------------------------
# Bad input, for rma_many and the list
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yi", "vi", "analysis", "row", "message"),
    [
        ([[0.1, 0.2], [0.3, math.nan]], [[0.1, 0.1], [0.1, 0.1]], 2, 2, "missing"),
        ([[0.1, 0.2], [0.3, 0.4]], [[0.1, 0.1], [0.0, 0.1]], 2, 1, "sampling variance"),
        ([[0.1, 0.2], [0.3, 0.4]], [[0.1, -1.0], [0.1, 0.1]], 1, 2, "sampling variance"),
        ([[0.1], [0.2, None]], [[0.1], [0.1, 0.1]], 2, 2, "missing"),
        ([[0.1], [0.2, "x"]], [[0.1], [0.1, 0.1]], 2, 2, "not a number"),
        ([[0.1], [0.2, math.inf]], [[0.1], [0.1, 0.1]], 2, 2, "infinite"),
    ],
)
def test_rma_many_names_the_analysis_and_row(
    yi: list[list[object]], vi: list[list[object]], analysis: int, row: int, message: str
) -> None:
    with pytest.raises(MetaInputError) as info:
        rma_many(yi, vi)  # type: ignore[arg-type]
    assert (info.value.analysis, info.value.row) == (analysis, row)
    assert str(info.value).startswith(f"analysis {analysis}, row {row}: ")
    assert message in info.value.message
    again = pickle.loads(pickle.dumps(info.value))  # noqa: S301 - our own object
    assert (again.analysis, again.row, again.message) == (analysis, row, info.value.message)


def test_rma_many_refuses_malformed_batches() -> None:
    with pytest.raises(MetaInputError, match="2-D array"):
        rma_many([0.1, 0.2], [0.1, 0.1])
    with pytest.raises(MetaInputError, match="no analyses"):
        rma_many(np.empty((0, 3)), np.empty((0, 3)))
    with pytest.raises(MetaInputError, match="analysis 1: no studies"):
        rma_many(np.empty((2, 0)), np.empty((2, 0)))
    with pytest.raises(MetaInputError, match="2 effect arrays but 1 variance"):
        rma_many([[0.1], [0.2, 0.3]], [[0.1]])
    with pytest.raises(MetaInputError, match="analysis 1: columns have different lengths"):
        rma_many([[0.1, 0.2]], [[0.1]])
    with pytest.raises(TypeError, match="vi"):
        rma_many([[0.1, 0.2]])
    with pytest.raises(ValueError, match="unknown method"):
        rma_many([[0.1, 0.2]], [[0.1, 0.1]], method="EB")


def test_single_study_is_documented_not_nan() -> None:
    # k = 1: the study itself, tau2 = 0, heterogeneity statistics None (module docstring).
    for method in METHODS:
        res = rma([0.3], [0.09], method=method, test="knha")
        assert (res.estimate, res.se, res.tau2, res.q, res.q_df) == (0.3, 0.3, 0.0, 0.0, 0)
        assert res.i2 is None and res.h2 is None and res.q_p is None and res.tau2_se is None
        values = [getattr(res, f) for f in FIELDS if getattr(res, f) is not None]
        assert all(math.isfinite(x) for x in values)


def test_all_zero_cells() -> None:
    # A table whose cells are all zero has no participants: refused, naming the row.
    with pytest.raises(MetaInputError) as info:
        escalc("OR", ai=[3, 0], bi=[10, 0], ci=[4, 0], di=[9, 0])
    assert info.value.row == 2 and "n1i" in info.value.message
    # No events in either group (double zero): metafor's default adds 1/2 to each cell
    # (escalc's drop00=FALSE), so the study counts, with a finite effect and variance.
    es = escalc("RR", ai=[3, 0], bi=[10, 20], ci=[4, 0], di=[9, 20])
    assert es.yi[1] == pytest.approx(0.0) and es.vi[1] == pytest.approx(2 / 0.5 - 2 / 21)
    assert math.isfinite(rma(es).estimate)
    # Every study without events still pools to finite numbers (1/2 added everywhere).
    none = escalc("OR", ai=[0, 0, 0], bi=[10, 12, 9], ci=[0, 0, 0], di=[11, 10, 8])
    assert np.isfinite(none.yi).all() and np.isfinite(none.vi).all()
    res = rma(none)
    assert all(math.isfinite(getattr(res, f)) for f in FIELDS if getattr(res, f) is not None)


@pytest.mark.parametrize(
    ("yi", "vi", "row", "message"),
    [
        ([0.1, 0.2, 0.3], [0.1, 0.0, 0.1], 2, "sampling variance must be > 0"),
        ([0.1, 0.2, 0.3], [0.1, 0.1, -0.5], 3, "sampling variance must be > 0"),
        ([0.1, math.nan], [0.1, 0.1], 2, "missing value"),
        ([0.1, 0.2], [None, 0.1], 1, "missing value"),
        (["0.1", "abc"], [0.1, 0.1], 2, "not a number"),
        ([0.1, True], [0.1, 0.1], 2, "must be numeric"),
    ],
)
def test_rma_bad_vectors_name_the_row(
    yi: list[object], vi: list[object], row: int, message: str
) -> None:
    with pytest.raises(MetaInputError) as info:
        rma(yi, vi)  # type: ignore[arg-type]
    assert info.value.row == row and info.value.analysis is None
    assert str(info.value) == f"row {row}: {info.value.message}"
    assert message in info.value.message


# --------------------------------------------------------------------------------------
# Meta-regression without k x k matrices
# --------------------------------------------------------------------------------------


def test_mixed_model_traces_match_explicit_matrices() -> None:
    from steppingstones.evidence.meta import _Wls

    rng = np.random.default_rng(9)
    k = 12
    x = np.column_stack([np.ones(k), rng.normal(size=k), rng.uniform(size=k)])
    y, w, d = rng.normal(size=k), rng.uniform(0.5, 5, k), rng.uniform(0.01, 1, k)
    fit = _Wls(x, y, w)
    xw = x * w[:, None]
    p = np.diag(w) - xw @ np.linalg.inv(x.T @ xw) @ xw.T
    dm = np.diag(d)
    assert fit.ypy() == pytest.approx(y @ p @ y, rel=1e-12)
    assert fit.pyy() == pytest.approx((p @ y) @ (p @ y), rel=1e-12)
    assert fit.tr_p() == pytest.approx(np.trace(p), rel=1e-12)
    assert fit.tr_pp() == pytest.approx(np.trace(p @ p), rel=1e-12)
    assert fit.tr_pd(d) == pytest.approx(np.trace(p @ dm), rel=1e-12)
    assert fit.tr_pdpd(d) == pytest.approx(np.trace(p @ dm @ p @ dm), rel=1e-12)
    assert fit.tr_pdp(d) == pytest.approx(np.trace(p @ dm @ p), rel=1e-12)
    assert fit.logdet() == pytest.approx(np.log(np.linalg.det(x.T @ xw)), rel=1e-12)


def test_regression_test_on_many_studies_needs_no_k_by_k_matrix() -> None:
    from steppingstones.evidence.meta import egger_test

    rng = np.random.default_rng(4)
    vi = rng.uniform(0.01, 0.3, 60_000)  # a 60,000 x 60,000 matrix would need 29 GB
    yi = rng.normal(0.2, np.sqrt(vi + 0.05))
    res = egger_test(yi, vi)
    assert res.fit.k == 60_000 and abs(res.stat) < 5  # no small-study effect simulated
    assert res.fit.tau2 == pytest.approx(0.05, rel=0.1)


def test_hksj_with_identical_effects_is_documented() -> None:
    # The HKSJ variance is 0 when every effect is the same (metafor does the same): the CI
    # collapses to the estimate and z is infinite; undefined (NaN) only for an estimate of 0,
    # which the command line prints as null (docs/meta-analysis.md, "Bad input").
    res = rma([0.2, 0.2, 0.2], [0.1, 0.1, 0.1], test="knha")
    assert (res.se, res.ci_low, res.ci_high, res.p) == (0.0, 0.2, 0.2, 0.0)
    assert res.z_or_t == math.inf
    zero = rma([0.0, 0.0, 0.0], [0.1, 0.1, 0.1], test="knha")
    assert zero.se == 0.0 and math.isnan(zero.z_or_t)

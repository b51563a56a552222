"""Random-effects meta-analysis: our engine against statsmodels and PyMARE, one run.

The issue's workloads: 10,000 separate meta-analyses of 10 studies each, and one of
100,000 studies.  DerSimonian-Laird and Paule-Mandel are timed against statsmodels'
``combine_effects`` (the two estimators it offers, one call an analysis: it has no batch
form); REML against PyMARE's ``VarianceBasedLikelihoodEstimator(method="REML")``, which
fits many analyses in one call (columns of a 2-D array).  Ours is
``evidence.meta.rma_many`` for the many analyses and ``rma`` for the single large one,
with ``tau2_ci=False`` since neither peer gives an interval for tau^2.

For each case it prints our time, the peer's, the ratio (peer / ours: above 1 means we
are faster) and the largest absolute difference in the estimate and in tau^2.  Times are
the best of three runs.  Run: .venv/bin/python bench/meta_vs_statsmodels.py
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from statsmodels.stats.meta_analysis import combine_effects

from steppingstones.evidence.meta import rma, rma_many

try:
    from pymare.estimators import VarianceBasedLikelihoodEstimator
except ImportError:  # pymare is optional: the REML comparison is then skipped
    VarianceBasedLikelihoodEstimator = None

SEED = 20241001
MANY, SMALL_K, BIG_K = 10_000, 10, 100_000
REPEAT = 3


def simulate(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    vi = rng.uniform(0.01, 0.3, (n, k))
    yi = rng.normal(-0.5, np.sqrt(vi + 0.1))
    return yi, vi


def best(function: Callable[[], Any], repeat: int = REPEAT) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def ours(yi: np.ndarray, vi: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    if yi.shape[0] == 1:  # one analysis: rma() itself
        res = rma(yi[0], vi[0], method=method, tau2_ci=False)
        return np.array([res.estimate]), np.array([res.tau2])
    fits = rma_many(yi, vi, method=method, tau2_ci=False)
    return fits.estimate, fits.tau2


def statsmodels(yi: np.ndarray, vi: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    name = {"DL": "dl", "PM": "iterated"}[method]
    estimates, tau2 = np.empty(len(yi)), np.empty(len(yi))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, (y, v) in enumerate(zip(yi, vi, strict=True)):
            res = combine_effects(y, v, method_re=name)
            estimates[i], tau2[i] = res.mean_effect_re, res.tau2
    return estimates, tau2


def pymare(yi: np.ndarray, vi: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    assert VarianceBasedLikelihoodEstimator is not None
    estimator = VarianceBasedLikelihoodEstimator(method=method, small_sample_correction="wald")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(yi.T, vi.T, np.ones((yi.shape[1], 1)))
    return estimator.params_["fe_params"].ravel(), estimator.params_["tau2"].ravel()


def restricted_loglik(yi: np.ndarray, vi: np.ndarray, tau2: np.ndarray) -> np.ndarray:
    """REML log-likelihood (up to a constant) of each analysis at its tau^2."""
    w = 1.0 / (vi + tau2[:, None])
    mu = (w * yi).sum(axis=1) / w.sum(axis=1)
    rss = (w * (yi - mu[:, None]) ** 2).sum(axis=1)
    return -0.5 * (np.log(vi + tau2[:, None]).sum(axis=1) + rss + np.log(w.sum(axis=1)))


def pm_residual(yi: np.ndarray, vi: np.ndarray, tau2: np.ndarray) -> float:
    """Largest |Q_gen(tau2) - (k - 1)| where tau2 > 0: how well the Paule-Mandel equation
    is solved (relative to k - 1)."""
    positive = tau2 > 0
    yi, vi, tau2 = yi[positive], vi[positive], tau2[positive]
    w = 1.0 / (vi + tau2[:, None])
    mu = (w * yi).sum(axis=1) / w.sum(axis=1)
    q = (w * (yi - mu[:, None]) ** 2).sum(axis=1)
    return float(np.abs(q - (yi.shape[1] - 1)).max() / (yi.shape[1] - 1)) if q.size else 0.0


def compare(label: str, yi: np.ndarray, vi: np.ndarray, method: str, peer: str) -> None:
    function = statsmodels if peer == "statsmodels" else pymare
    our_time, (our_est, our_tau2) = best(lambda: ours(yi, vi, method))
    their_time, (their_est, their_tau2) = best(lambda: function(yi, vi, method))
    keep = np.ones(len(yi), dtype=bool)
    note = ""
    if peer == "statsmodels" and method == "DL":
        # statsmodels' DL does not truncate a negative tau^2 at zero (DerSimonian and Laird,
        # metafor and we do): those analyses differ by design and are left out.
        keep = their_tau2 >= 0
        note = f"; statsmodels tau2 < 0 (left out) in {int((~keep).sum())}"
    if method == "PM":
        note = (
            f"; PM equation solved to (relative) ours {pm_residual(yi, vi, our_tau2):.0e}, "
            f"statsmodels {pm_residual(yi, vi, their_tau2):.0e}"
        )
    if peer == "pymare":
        # Which answer is the better REML fit: the restricted log-likelihood at each.
        gain = restricted_loglik(yi, vi, our_tau2) - restricted_loglik(yi, vi, their_tau2)
        # Where the restricted likelihood has two maxima, metafor's Fisher scoring (and
        # ours, which follows it) stays at the boundary one, tau2 = 0, and PyMARE's scan
        # may find the other: those analyses are counted and left out.
        keep = gain > -1e-6
        # Fisher scoring stops within its threshold (1e-10) of a maximum at tau2 = 0, which
        # PyMARE returns exactly: there the likelihoods differ by ~1e-9.
        edge = keep & (their_tau2 == 0) & (our_tau2 > 0)
        inner = keep & ~edge
        note = (
            f"; loglik ours - pymare: min {gain[inner].min():.1e}, max {gain.max():.1e}"
            f" (min {gain[edge].min() if edge.any() else 0.0:.1e} where ours < 1e-10 and "
            f"pymare's 0: {int(edge.sum())}); two-maxima analyses (left out) "
            f"{int((~keep).sum())}"
        )
    d_est = float(np.abs(our_est - their_est)[keep].max())
    d_tau = float(np.abs(our_tau2 - their_tau2)[keep].max())
    print(
        f"{label:<31} {method:<4} ours {our_time:7.3f} s  {peer} {their_time:7.3f} s  "
        f"ratio {their_time / our_time:6.1f}x  max|diff| estimate {d_est:.1e} "
        f"tau2 {d_tau:.1e}{note}",
        flush=True,
    )


def package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def main() -> None:
    rng = np.random.default_rng(SEED)
    many = simulate(rng, MANY, SMALL_K)
    big = simulate(rng, 1, BIG_K)
    print(
        f"Python {platform.python_version()} on {os.cpu_count()} CPUs ({sys.platform}); "
        f"numpy {package('numpy')}, statsmodels {package('statsmodels')}, "
        f"pymare {package('pymare')}; best of {REPEAT} runs"
    )
    many_label = f"{MANY:,} analyses of {SMALL_K} studies"
    big_label = f"1 analysis of {BIG_K:,} studies"
    for method in ("DL", "PM"):
        compare(many_label, *many, method, "statsmodels")
        compare(big_label, *big, method, "statsmodels")
    if VarianceBasedLikelihoodEstimator is None:
        print("REML: pymare is not installed (pip install pymare); no peer to compare")
    else:
        compare(many_label, *many, "REML", "pymare")
        compare(big_label, *big, "REML", "pymare")
    # For reference: the same many analyses through rma() one call at a time, with the
    # Q-profile interval for tau^2 (rma's default), and rma_many with it.
    yi, vi = many
    for method in ("DL", "PM", "REML"):
        loop, _ = best(
            lambda m=method: [rma(y, v, method=m) for y, v in zip(yi, vi, strict=True)], 1
        )
        batch, _ = best(lambda m=method: rma_many(yi, vi, method=m))
        print(
            f"{many_label} {method:<4} with the tau2 CI: rma one by one {loop:7.3f} s, "
            f"rma_many {batch:7.3f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Random-effects meta-analysis: our engine against statsmodels on the same data, one run.

10,000 separate meta-analyses of 10 studies each, then one of 100,000 studies, with the
DerSimonian-Laird and Paule-Mandel estimators (the two statsmodels offers); REML (which
statsmodels lacks) is timed for us alone. Prints the times, the ratio and the largest
difference in estimate and tau^2. Run: .venv/bin/python bench/meta_vs_statsmodels.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from statsmodels.stats.meta_analysis import combine_effects

from steppingstones.evidence.meta import rma

rng = np.random.default_rng(20241001)
MANY, SMALL_K, BIG_K = 10_000, 10, 100_000


def simulate(k: int) -> tuple[np.ndarray, np.ndarray]:
    vi = rng.uniform(0.01, 0.3, k)
    yi = rng.normal(-0.5, np.sqrt(vi + 0.1))
    return yi, vi


def ours(data, method):
    # Like for like: statsmodels gives no confidence interval for tau^2, so neither do we here.
    return [rma(yi, vi, method=method, tau2_ci=False) for yi, vi in data]


def theirs(data, method):
    names = {"DL": "dl", "PM": "iterated"}
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for yi, vi in data:
            out.append(combine_effects(yi, vi, method_re=names[method]))
    return out


def timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - start, value


def compare(label, data, method):
    our_time, our_results = timed(ours, data, method)
    their_time, their_results = timed(theirs, data, method)
    # statsmodels' DL does not truncate a negative tau^2 at zero (metafor and we do), so those
    # analyses differ by design; they are counted and left out of the comparison.
    pairs = [(a, b) for a, b in zip(our_results, their_results, strict=True) if b.tau2 >= 0]
    negative = len(our_results) - len(pairs)
    d_est = max(abs(a.estimate - b.mean_effect_re) for a, b in pairs)
    d_tau = max(abs(a.tau2 - b.tau2) for a, b in pairs)
    print(
        f"{label:<34} {method:<4} ours {our_time:8.3f} s  statsmodels {their_time:8.3f} s  "
        f"ratio {their_time / our_time:6.2f}x  max|diff| estimate {d_est:.1e} tau2 {d_tau:.1e}"
        f"  (statsmodels tau2 < 0 in {negative})"
    )


def main() -> None:
    many = [simulate(SMALL_K) for _ in range(MANY)]
    big = [simulate(BIG_K)]
    for method in ("DL", "PM"):
        compare(f"{MANY:,} analyses of {SMALL_K} studies", many, method)
        compare(f"1 analysis of {BIG_K:,} studies", big, method)
    reml_time, _ = timed(lambda d: [rma(y, v, method="REML") for y, v in d], many)
    big_time, _ = timed(lambda d: [rma(y, v, method="REML") for y, v in d], big)
    print(
        f"REML with Q-profile CI (ours only): {MANY:,} x {SMALL_K} in {reml_time:.3f} s; "
        f"1 x {BIG_K:,} in {big_time:.3f} s"
    )


if __name__ == "__main__":
    main()

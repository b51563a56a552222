"""Tests for the meta-analysis engine against R's metafor.

Reference numbers are metafor's published output, copied (to the printed 4 decimal
places unless noted) from the pages cited beside each value:

* DAT_BCG_PAGE / RMA_UNI_PAGE: example output printed in metafor's reference manual.
* The ``METAFOR_TESTS`` files: metafor's own test suite, whose expected values are
  metafor output checked against Stata's ``metan`` or the cited articles.

Where no published value exists for an estimator on these data (HE, SJ and PM on
dat.bcg, and the Hartung-Knapp interval for DL/PM) the result is cross-checked
against statsmodels' ``combine_effects`` or an independent direct computation in
the same test, as stated there.
"""

from __future__ import annotations

import math
import pickle
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from steppingstones.evidence import meta
from steppingstones.evidence.meta import (
    METHODS,
    TESTS,
    EffectSizes,
    MetaInputError,
    back_transform,
    escalc,
    mantel_haenszel,
    peto,
    rma,
)

DAT_BCG_PAGE = "https://wviechtb.github.io/metafor/reference/dat.bcg.html"
RMA_UNI_PAGE = "https://wviechtb.github.io/metafor/reference/rma.uni.html"
METAFOR_TESTS = "https://github.com/wviechtb/metafor/blob/master/tests/testthat/"
METAN_UNI = METAFOR_TESTS + "test_misc_metan_vs_rma.uni_with_dat.bcg.r"
METAN_MH = METAFOR_TESTS + "test_misc_metan_vs_rma.mh_with_dat.bcg.r"
METAN_PETO = METAFOR_TESTS + "test_misc_metan_vs_rma.peto_with_dat.bcg.r"
CONFINT_TESTS = METAFOR_TESTS + "test_misc_confint.r"
RMA_UNI_TESTS = METAFOR_TESTS + "test_misc_rma_uni.r"
VANHOUWELINGEN = METAFOR_TESTS + "test_analysis_example_vanhouwelingen2002.r"
VIECHTBAUER2005 = METAFOR_TESTS + "test_analysis_example_viechtbauer2005.r"
ESCALC_TESTS = METAFOR_TESTS + "test_misc_escalc.r"
VANHOUWELINGEN_PAGE = "https://metafor-project.org/doku.php/analyses:vanhouwelingen2002"

# BCG vaccine trials: Colditz GA, Brewer TF, Berkey CS, et al. (1994). Efficacy of BCG
# vaccine in the prevention of tuberculosis: meta-analysis of the published literature.
# JAMA 271:698-702 -- as distributed with metafor (dat.bcg / dat.colditz1994).
# tpos/tneg: TB positive/negative among vaccinated; cpos/cneg: among controls.
TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
ALLOC = [
    "random", "random", "random", "random", "alternate", "alternate", "random",
    "random", "random", "systematic", "systematic", "systematic", "systematic",
]  # fmt: skip

DP4 = 5e-5  # agreement with a value printed to 4 decimal places
DP3 = 5e-4  # agreement with a value printed to 3 decimal places
# One unit in the 4th decimal: for ML/REML output, where metafor's default Fisher
# scoring threshold (1e-5) leaves the last printed digit short of the fully converged
# value this engine computes (threshold 1e-10), and for Q-profile limits, which
# metafor's confint() finds with uniroot(tol = .Machine$double.eps^0.25 = 1.2e-4).
REML_DP4 = 1e-4
QP_DP4 = 1.3e-4


def bcg(measure: str = "RR") -> EffectSizes:
    return escalc(measure, ai=TPOS, bi=TNEG, ci=CPOS, di=CNEG)


def subset(es: EffectSizes, group: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [i for i, a in enumerate(ALLOC) if a == group]
    return es.yi[rows], es.vi[rows]


# --------------------------------------------------------------------------------------
# escalc
# --------------------------------------------------------------------------------------


def test_escalc_rr_matches_metafor_table() -> None:
    es = bcg()
    # yi and vi columns printed by escalc(measure="RR", ...) on DAT_BCG_PAGE
    yi = [-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209,
          0.0120, -0.4694, -1.3713, -0.3394, 0.4459, -0.0173]  # fmt: skip
    vi = [0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230,
          0.0040, 0.0564, 0.0730, 0.0124, 0.5325, 0.0714]  # fmt: skip
    np.testing.assert_allclose(es.yi, yi, atol=DP4)
    np.testing.assert_allclose(es.vi, vi, atol=DP4)
    assert es.measure == "RR" and es.k == 13


def test_escalc_or_matches_metafor() -> None:
    es = bcg("OR")
    # first rows of escalc(measure="OR") on dat.colditz1994, printed on VANHOUWELINGEN_PAGE
    yi = [-0.9387, -1.6662, -1.3863, -1.4564]  # VANHOUWELINGEN_PAGE
    vi = [0.3571, 0.2081, 0.4334, 0.0203]  # VANHOUWELINGEN_PAGE
    np.testing.assert_allclose(es.yi[:4], yi, atol=DP4)
    np.testing.assert_allclose(es.vi[:4], vi, atol=DP4)


def test_escalc_smd_hedges_g_matches_metafor() -> None:
    # dat.normand1999 rows 1-4; expected values from ESCALC_TESTS ("SMD" test)
    es = escalc(
        "SMD",
        m1i=[55, 27, 64, 66], sd1i=[47, 7, 17, 20], n1i=[155, 31, 75, 18],
        m2i=[75, 29, 119, 137], sd2i=[64, 4, 29, 48], n2i=[156, 32, 71, 18],
    )  # fmt: skip
    np.testing.assert_allclose(es.yi, [-0.3552, -0.3479, -2.3176, -1.8880], atol=DP4)
    np.testing.assert_allclose(es.vi, [0.0131, 0.0645, 0.0458, 0.1606], atol=DP4)


def test_escalc_smd_uses_exact_gamma_correction() -> None:
    n1, n2, m = 5, 7, 10
    d = (3.0 - 1.0) / math.sqrt(((n1 - 1) * 2.0**2 + (n2 - 1) * 3.0**2) / m)
    correction = math.gamma(m / 2) / (math.sqrt(m / 2) * math.gamma((m - 1) / 2))
    es = escalc("SMD", m1i=[3.0], sd1i=[2.0], n1i=[n1], m2i=[1.0], sd2i=[3.0], n2i=[n2])
    g = correction * d
    assert es.yi[0] == pytest.approx(g, rel=1e-12)
    assert es.vi[0] == pytest.approx(1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2)), rel=1e-12)


def test_escalc_pas_matches_metafor() -> None:
    es = escalc("PAS", xi=[10], ni=[20])
    assert es.yi[0] == pytest.approx(0.7854, abs=DP4)  # ESCALC_TESTS ("PAS" test)
    assert es.vi[0] == pytest.approx(0.0125, abs=DP4)  # ESCALC_TESTS ("PAS" test)


def test_escalc_md_pr_plo_pft_zcor_formulas() -> None:
    md = escalc("MD", m1i=[10.0], sd1i=[2.0], n1i=[20], m2i=[8.0], sd2i=[3.0], n2i=[30])
    assert md.yi[0] == pytest.approx(2.0)
    assert md.vi[0] == pytest.approx(4 / 20 + 9 / 30)
    pr = escalc("PR", xi=[3], ni=[12])
    assert (pr.yi[0], pr.vi[0]) == pytest.approx((0.25, 0.25 * 0.75 / 12))
    plo = escalc("PLO", xi=[3], ni=[12])
    assert (plo.yi[0], plo.vi[0]) == pytest.approx((math.log(3 / 9), 1 / 3 + 1 / 9))
    pft = escalc("PFT", xi=[3], ni=[12])
    ft = 0.5 * (math.asin(math.sqrt(3 / 13)) + math.asin(math.sqrt(4 / 13)))
    assert (pft.yi[0], pft.vi[0]) == pytest.approx((ft, 1 / 50))
    z = escalc("ZCOR", ri=[0.62], ni=[15])
    assert (z.yi[0], z.vi[0]) == pytest.approx((math.atanh(0.62), 1 / 12))
    gen = escalc("GEN", yi=[0.1, 0.2], vi=[0.01, 0.02], labels=["a", "b"])
    assert gen.labels == ("a", "b")


def test_escalc_zero_cells_add_half_only_to_tables_with_a_zero() -> None:
    # metafor default add=1/2, to="only0": all four cells of table 1 get 1/2, table 2 none
    es = escalc("RR", ai=[0, 5], bi=[10, 5], ci=[4, 2], di=[6, 8])
    assert es.yi[0] == pytest.approx(math.log((0.5 / 11) / (4.5 / 11)))
    assert es.vi[0] == pytest.approx(1 / 0.5 - 1 / 11 + 1 / 4.5 - 1 / 11)
    assert es.yi[1] == pytest.approx(math.log((5 / 10) / (2 / 10)))
    odds = escalc("OR", ai=[0], bi=[10], ci=[4], di=[6])
    assert odds.yi[0] == pytest.approx(math.log(0.5 * 6.5 / (10.5 * 4.5)))
    rd = escalc("RD", ai=[0], bi=[10], ci=[4], di=[6])
    assert rd.yi[0] == pytest.approx(0.5 / 11 - 4.5 / 11)
    plo = escalc("PLO", xi=[0], ni=[10])
    assert (plo.yi[0], plo.vi[0]) == pytest.approx((math.log(0.5 / 10.5), 1 / 0.5 + 1 / 10.5))
    pr = escalc("PR", xi=[10], ni=[10])
    assert pr.yi[0] == pytest.approx(10.5 / 11)
    # metafor uses add=0 for the arcsine transformations
    assert escalc("PAS", xi=[0], ni=[10]).yi[0] == 0.0
    assert escalc("PFT", xi=[0], ni=[10]).vi[0] == pytest.approx(1 / 42)
    # explicit control of the correction
    none = escalc("RD", ai=[0], bi=[10], ci=[4], di=[6], to="none")
    assert none.yi[0] == pytest.approx(0 - 0.4)


def test_escalc_accepts_group_sizes_instead_of_non_events() -> None:
    n1 = [a + b for a, b in zip(TPOS, TNEG, strict=True)]
    n2 = [c + d for c, d in zip(CPOS, CNEG, strict=True)]
    alt = escalc("RR", ai=TPOS, ci=CPOS, n1i=n1, n2i=n2)
    np.testing.assert_allclose(alt.yi, bcg().yi)
    np.testing.assert_allclose(alt.vi, bcg().vi)


# --------------------------------------------------------------------------------------
# rma() on dat.bcg (log risk ratios) against published metafor output
# --------------------------------------------------------------------------------------


def test_reml_matches_published_output() -> None:
    res = rma(bcg(), method="REML")
    # rma(yi, vi, data=dat) on RMA_UNI_PAGE and DAT_BCG_PAGE
    assert res.estimate == pytest.approx(-0.7145, abs=DP4)  # RMA_UNI_PAGE
    assert res.se == pytest.approx(0.1798, abs=DP4)  # RMA_UNI_PAGE
    assert res.z_or_t == pytest.approx(-3.9744, abs=DP4)  # RMA_UNI_PAGE
    assert res.ci_low == pytest.approx(-1.0669, abs=DP4)  # RMA_UNI_PAGE
    assert res.ci_high == pytest.approx(-0.3622, abs=DP4)  # RMA_UNI_PAGE
    assert res.p < 1e-4  # RMA_UNI_PAGE: "<.0001"
    assert res.tau2 == pytest.approx(0.3132, abs=DP4)  # RMA_UNI_PAGE
    assert res.tau2_se == pytest.approx(0.1664, abs=DP4)  # RMA_UNI_PAGE
    assert math.sqrt(res.tau2) == pytest.approx(0.5597, abs=DP4)  # RMA_UNI_PAGE (tau)
    assert res.i2 == pytest.approx(92.22, abs=0.005)  # RMA_UNI_PAGE: 92.22%
    assert res.h2 == pytest.approx(12.86, abs=0.005)  # RMA_UNI_PAGE
    assert res.q == pytest.approx(152.2330, abs=DP4)  # RMA_UNI_PAGE
    assert res.q_df == 12  # RMA_UNI_PAGE
    assert res.q_p is not None and res.q_p < 1e-4  # RMA_UNI_PAGE: "<.0001"
    assert (res.k, res.method, res.test, res.measure) == (13, "REML", "z", "RR")


def test_reml_prediction_and_back_transform_match_published_predict() -> None:
    res = rma(bcg())
    bt = back_transform(res)
    # predict(res, transf=exp) on DAT_BCG_PAGE: pred 0.4894, ci 0.3441-0.6962, cr 0.1546-1.5490
    assert bt.estimate == pytest.approx(0.4894, abs=DP4)  # DAT_BCG_PAGE
    assert bt.ci_low == pytest.approx(0.3441, abs=DP4)  # DAT_BCG_PAGE
    assert bt.ci_high == pytest.approx(0.6962, abs=DP4)  # DAT_BCG_PAGE
    assert bt.pi_low == pytest.approx(0.1546, abs=DP4)  # DAT_BCG_PAGE
    assert bt.pi_high == pytest.approx(1.5490, abs=DP4)  # DAT_BCG_PAGE
    # log scale: estimate +/- z * sqrt(se^2 + tau2), as predict.rma computes it
    half = stats.norm.isf(0.025) * math.sqrt(res.se**2 + res.tau2)
    assert (res.pi_low, res.pi_high) == pytest.approx((res.estimate - half, res.estimate + half))


def test_qprofile_ci_for_tau2_matches_confint() -> None:
    # confint(rma(yi, vi, method="DL")): tau^2 0.3088 [0.1197, 1.1115] -- CONFINT_TESTS.
    # The Q-profile interval depends only on the data, not on the tau^2 estimator.
    for method in ("DL", "REML", "ML", "PM", "HE", "SJ"):
        res = rma(bcg(), method=method)
        assert res.tau2_ci_low == pytest.approx(0.1197, abs=DP4)  # CONFINT_TESTS
        assert res.tau2_ci_high == pytest.approx(1.1115, abs=DP4)  # CONFINT_TESTS
    assert rma(bcg(), method="EE").tau2_ci_low is None


def test_ee_matches_published_output() -> None:
    res = rma(bcg(), method="EE")
    # rma(yi, vi, data=dat, method="FE") on RMA_UNI_PAGE
    assert res.estimate == pytest.approx(-0.4303, abs=DP4)  # RMA_UNI_PAGE
    assert res.se == pytest.approx(0.0405, abs=DP4)  # RMA_UNI_PAGE
    assert res.z_or_t == pytest.approx(-10.6247, abs=DP4)  # RMA_UNI_PAGE, METAN_UNI
    assert res.ci_low == pytest.approx(-0.5097, abs=DP4)  # RMA_UNI_PAGE, METAN_UNI
    assert res.ci_high == pytest.approx(-0.3509, abs=DP4)  # RMA_UNI_PAGE, METAN_UNI
    assert res.q == pytest.approx(152.2330, abs=DP4)  # RMA_UNI_PAGE, METAN_UNI
    assert res.i2 == pytest.approx(92.12, abs=0.005)  # RMA_UNI_PAGE: 92.12%
    assert res.h2 == pytest.approx(12.69, abs=0.005)  # RMA_UNI_PAGE
    assert res.tau2 == 0.0 and res.tau2_se is None
    bt = back_transform(res)
    assert bt.estimate == pytest.approx(0.6503, abs=DP4)  # METAN_UNI
    assert bt.ci_low == pytest.approx(0.6007, abs=DP4)  # METAN_UNI
    assert bt.ci_high == pytest.approx(0.7040, abs=DP4)  # METAN_UNI
    assert rma(bcg(), method="FE").estimate == res.estimate  # metafor's alias


def test_dl_matches_published_output_and_statsmodels() -> None:
    es = bcg()
    res = rma(es, method="DL")
    assert res.estimate == pytest.approx(-0.7141, abs=DP4)  # METAN_UNI
    assert res.ci_low == pytest.approx(-1.0644, abs=DP4)  # METAN_UNI
    assert res.ci_high == pytest.approx(-0.3638, abs=DP4)  # METAN_UNI
    assert res.z_or_t == pytest.approx(-3.9952, abs=DP4)  # METAN_UNI
    assert res.tau2 == pytest.approx(0.3088, abs=DP4)  # METAN_UNI, CONFINT_TESTS
    assert res.i2 == pytest.approx(92.1173, abs=DP4)  # METAN_UNI, CONFINT_TESTS
    assert res.h2 == pytest.approx(12.6861, abs=DP4)  # CONFINT_TESTS
    bt = back_transform(res)
    assert bt.estimate == pytest.approx(0.4896, abs=DP4)  # METAN_UNI, CONFINT_TESTS
    assert bt.ci_low == pytest.approx(0.3449, abs=DP4)  # METAN_UNI, CONFINT_TESTS
    assert bt.ci_high == pytest.approx(0.6950, abs=DP4)  # METAN_UNI, CONFINT_TESTS
    # cross-check against statsmodels (DerSimonian-Laird, "dl")
    sm = combine_effects(np.asarray(es.yi), np.asarray(es.vi), method_re="dl")
    assert res.tau2 == pytest.approx(sm.tau2, rel=1e-10)
    assert res.estimate == pytest.approx(sm.mean_effect_re, rel=1e-10)
    assert res.se == pytest.approx(sm.sd_eff_w_re, rel=1e-10)
    assert res.q == pytest.approx(sm.q, rel=1e-10)


def test_pm_matches_metafor_and_statsmodels() -> None:
    es = bcg()
    res = rma(es, method="PM")
    # metafor's iterated DL and iterated SJ estimators both converge to the Paule-Mandel
    # root; RMA_UNI_TESTS prints tau^2 = 0.3181 for both on dat.bcg (no PM value is
    # published for these data, so statsmodels' Paule-Mandel iteration is also checked).
    assert res.tau2 == pytest.approx(0.3181, abs=DP4)  # RMA_UNI_TESTS
    for name in ("pm", "iterated"):
        sm = combine_effects(
            np.asarray(es.yi), np.asarray(es.vi), method_re=name, atol=1e-13, maxiter=1000
        )
        assert res.tau2 == pytest.approx(sm.tau2, rel=1e-9)
        assert res.estimate == pytest.approx(sm.mean_effect_re, rel=1e-9)
        assert res.se == pytest.approx(sm.sd_eff_w_re, rel=1e-9)
    # the defining equation: generalised Q equals k - 1 at the estimate
    w = 1 / (es.vi + res.tau2)
    mu = np.sum(w * es.yi) / np.sum(w)
    assert np.sum(w * (es.yi - mu) ** 2) == pytest.approx(12, rel=1e-10)
    # metafor's SE for PM: sqrt(2 k^2 / (k - 1)) / sum(w)
    assert res.tau2_se == pytest.approx(math.sqrt(2 * 13**2 / 12) / np.sum(w), rel=1e-12)


def test_reml_subgroups_match_published_output() -> None:
    # rma(yi, vi, data=dat, subset=(alloc==...)) on RMA_UNI_PAGE (res.a, res.r, res.s)
    published = {
        # group: (k, tau2, tau2_se, i2, h2, q, estimate, se, z, ci_low, ci_high)
        "alternate": (2, 0.1326, 0.2286, 82.02, 5.56, 5.5625, -0.5408, 0.2816, -1.9204,
                      -1.0927, 0.0111),
        "random": (7, 0.3925, 0.3029, 89.93, 9.93, 110.2133, -0.9710, 0.2760, -3.5186,
                   -1.5118, -0.4301),
        "systematic": (4, 0.4003, 0.4199, 86.42, 7.36, 16.5919, -0.4242, 0.3597, -1.1792,
                       -1.1293, 0.2809),
    }  # fmt: skip
    # metafor stops Fisher scoring at a change <= 1e-5 (its default threshold); this
    # engine uses 1e-10, which can move the 4th printed decimal by one unit (z for
    # "random": -3.51855 here, -3.5186 printed), hence the tolerance REML_DP4.
    for group, values in published.items():
        k, tau2, tau2_se, i2, h2, q, est, se, z, lo, hi = values
        res = rma(*subset(bcg(), group))
        assert res.k == k
        assert res.tau2 == pytest.approx(tau2, abs=REML_DP4)  # RMA_UNI_PAGE
        assert res.tau2_se == pytest.approx(tau2_se, abs=REML_DP4)  # RMA_UNI_PAGE
        assert res.i2 == pytest.approx(i2, abs=0.005)  # RMA_UNI_PAGE
        assert res.h2 == pytest.approx(h2, abs=0.005)  # RMA_UNI_PAGE
        assert res.q == pytest.approx(q, abs=DP4)  # RMA_UNI_PAGE
        assert res.estimate == pytest.approx(est, abs=REML_DP4)  # RMA_UNI_PAGE
        assert res.se == pytest.approx(se, abs=REML_DP4)  # RMA_UNI_PAGE
        assert res.z_or_t == pytest.approx(z, abs=REML_DP4)  # RMA_UNI_PAGE
        assert res.ci_low == pytest.approx(lo, abs=REML_DP4)  # RMA_UNI_PAGE
        assert res.ci_high == pytest.approx(hi, abs=REML_DP4)  # RMA_UNI_PAGE


def test_odds_ratio_models_match_published_output() -> None:
    es = bcg("OR")
    ee = rma(es, method="EE")
    assert ee.estimate == pytest.approx(-0.4361, abs=DP4)  # METAN_UNI
    assert ee.ci_low == pytest.approx(-0.5190, abs=DP4)  # METAN_UNI
    assert ee.ci_high == pytest.approx(-0.3533, abs=DP4)  # METAN_UNI
    assert ee.z_or_t == pytest.approx(-10.3190, abs=DP4)  # METAN_UNI
    assert ee.q == pytest.approx(163.1649, abs=DP4)  # METAN_UNI
    dl = rma(es, method="DL")
    assert dl.estimate == pytest.approx(-0.7474, abs=DP4)  # METAN_UNI
    assert dl.ci_low == pytest.approx(-1.1242, abs=DP4)  # METAN_UNI
    assert dl.ci_high == pytest.approx(-0.3706, abs=DP4)  # METAN_UNI
    assert dl.z_or_t == pytest.approx(-3.8873, abs=DP4)  # METAN_UNI
    assert dl.tau2 == pytest.approx(0.3663, abs=DP4)  # METAN_UNI
    assert dl.i2 == pytest.approx(92.6455, abs=DP4)  # METAN_UNI


def test_ml_matches_published_output() -> None:
    # van Houwelingen et al. (2002), Stat Med 21:589-624, p. 597, reproduced with
    # rma(yi, vi, method="ML") on log odds ratios in VANHOUWELINGEN (3 decimals)
    res = rma(bcg("OR"), method="ML")
    bt = back_transform(res)
    assert bt.estimate == pytest.approx(0.476, abs=DP3)  # VANHOUWELINGEN
    assert bt.ci_low == pytest.approx(0.336, abs=DP3)  # VANHOUWELINGEN
    assert bt.ci_high == pytest.approx(0.675, abs=DP3)  # VANHOUWELINGEN
    assert res.tau2 == pytest.approx(0.302, abs=DP3)  # VANHOUWELINGEN
    assert res.tau2_ci_low == pytest.approx(0.130, abs=DP3)  # VANHOUWELINGEN (Q-profile)
    assert res.tau2_ci_high == pytest.approx(1.181, abs=DP3)  # VANHOUWELINGEN (Q-profile)
    assert res.pi_low == pytest.approx(-1.875, abs=DP3)  # VANHOUWELINGEN (predict cr.lb)
    assert res.pi_high == pytest.approx(0.391, abs=DP3)  # VANHOUWELINGEN (predict cr.ub)
    # the same Q-profile interval to 4 dp: "(0.1302 to 1.1812)" on VANHOUWELINGEN_PAGE;
    # the exact lower root is 0.13015, metafor's uniroot tolerance explains the 0.1302
    assert res.tau2_ci_low == pytest.approx(0.1302, abs=QP_DP4)  # VANHOUWELINGEN_PAGE
    assert res.tau2_ci_high == pytest.approx(1.1812, abs=QP_DP4)  # VANHOUWELINGEN_PAGE


def test_ml_and_reml_are_likelihood_maxima() -> None:
    # Independent check of the Fisher scoring: maximise the (restricted) likelihood
    # of the random-effects model numerically on dat.bcg (log RR).
    es = bcg()
    y, v = np.asarray(es.yi), np.asarray(es.vi)

    def negloglik(tau2: float, reml: bool) -> float:
        w = 1 / (v + tau2)
        mu = np.sum(w * y) / np.sum(w)
        ll = -0.5 * np.sum(np.log(v + tau2)) - 0.5 * np.sum(w * (y - mu) ** 2)
        if reml:
            ll -= 0.5 * np.log(np.sum(w))
        return float(-ll)

    for method, reml in (("ML", False), ("REML", True)):
        opt = optimize.minimize_scalar(
            negloglik, bounds=(0, 5), args=(reml,), method="bounded", options={"xatol": 1e-10}
        )
        assert rma(es, method=method).tau2 == pytest.approx(opt.x, abs=1e-7)


def test_oscillating_fisher_scoring_falls_back_to_the_likelihood_maximum() -> None:
    # Fisher scoring oscillates here without converging (metafor stops with an error and
    # suggests a smaller step length); the engine then solves the score equation.
    y = np.array([0.0] * 6 + [1.0])
    v = np.array([1.0] * 6 + [0.125])
    res = rma(y, v, method="REML")
    w = 1 / (v + res.tau2)
    mu = np.sum(w * y) / np.sum(w)
    trace_p = np.sum(w) - np.sum(w**2) / np.sum(w)
    assert np.sum(w**2 * (y - mu) ** 2) == pytest.approx(trace_p, rel=1e-10)  # REML score = 0
    assert 0.05 < res.tau2 < 0.15


def test_he_and_sj_match_direct_computation() -> None:
    # No published HE or SJ output exists for dat.bcg: cross-check against the
    # estimators' defining formulas computed directly here (and see the published
    # Viechtbauer 2005 values below).
    es = bcg()
    y, v = np.asarray(es.yi), np.asarray(es.vi)
    k = len(y)
    he = max(0.0, np.sum((y - y.mean()) ** 2) / (k - 1) - v.mean())  # Hedges (1983)
    assert rma(es, method="HE").tau2 == pytest.approx(he, rel=1e-12)
    tau0 = np.var(y)  # Sidik & Jonkman (2005) initial estimate, sum (y - ybar)^2 / k
    w = 1 / (v + tau0)
    mu = np.sum(w * y) / np.sum(w)
    sj = tau0 * np.sum(w * (y - mu) ** 2) / (k - 1)
    res = rma(es, method="SJ")
    assert res.tau2 == pytest.approx(sj, rel=1e-12)
    w = 1 / (v + res.tau2)
    assert res.estimate == pytest.approx(np.sum(w * y) / np.sum(w), rel=1e-12)


@pytest.mark.parametrize(
    ("method", "tau2", "i2", "h2", "tau2_se"),
    [
        ("HE", 0.1484, 68.7988, 3.2050, 0.1234),
        ("DL", 0.2768, 80.4447, 5.1137, 0.1841),
        ("ML", 0.1967, 74.5098, 3.9231, 0.1255),
        ("REML", 0.2232, 76.8399, 4.3178, 0.1464),
        ("SJ", 0.1992, 74.7545, 3.9611, 0.0979),
    ],
)
def test_estimators_match_viechtbauer_2005_example_1(
    method: str, tau2: float, i2: float, h2: float, tau2_se: float
) -> None:
    # Viechtbauer (2005), J Educ Behav Stat 30:261-293, p. 271, example 1, as checked by
    # metafor in VIECHTBAUER2005 (4 dp).  REML/ML: see REML_DP4 (REML I^2 is 76.83977
    # fully converged; metafor's 1e-5 threshold gives 76.83987, printed 76.8399).
    yi = [-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232]
    vi = [0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040]
    res = rma(yi, vi, method=method)
    tol = REML_DP4 * 1.5 if method in {"ML", "REML"} else DP4
    assert res.tau2 == pytest.approx(tau2, abs=tol)  # VIECHTBAUER2005
    assert res.i2 == pytest.approx(i2, abs=tol)  # VIECHTBAUER2005
    assert res.h2 == pytest.approx(h2, abs=tol)  # VIECHTBAUER2005
    assert res.tau2_se == pytest.approx(tau2_se, abs=tol)  # VIECHTBAUER2005


def test_metafor_default_threshold_reproduces_the_printed_digits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With metafor's default Fisher-scoring threshold (1e-5) instead of the 1e-10 used
    # here, the last printed digits that REML_DP4 allows for are reproduced exactly.
    monkeypatch.setattr(meta, "_THRESHOLD", 1e-5)
    yi = [-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232]
    vi = [0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040]
    res = rma(yi, vi, method="REML")
    assert res.i2 is not None and res.h2 is not None
    assert (round(res.i2, 4), round(res.h2, 4)) == (76.8399, 4.3178)  # VIECHTBAUER2005
    res = rma(*subset(bcg(), "random"))
    assert round(res.z_or_t, 4) == -3.5186  # RMA_UNI_PAGE (res.r)


def test_knha_on_published_ml_and_statsmodels() -> None:
    # rma(yi, vi, method="ML", test="knha") on log ORs: exp CI (.318, .714), VANHOUWELINGEN
    res = rma(bcg("OR"), method="ML", test="knha")
    bt = back_transform(res)
    assert bt.ci_low == pytest.approx(0.318, abs=DP3)  # VANHOUWELINGEN
    assert bt.ci_high == pytest.approx(0.714, abs=DP3)  # VANHOUWELINGEN
    assert res.test == "knha"
    # No published knha output on log RRs: cross-check the Hartung-Knapp-Sidik-Jonkman
    # standard error and t(k-1) interval with statsmodels for the DL and PM estimators.
    es = bcg()
    y, v = np.asarray(es.yi), np.asarray(es.vi)
    for method, name, kwds in (("DL", "dl", {}), ("PM", "iterated", {"atol": 1e-13})):
        ours = rma(es, method=method, test="knha")
        sm = combine_effects(y, v, method_re=name, maxiter=1000, **kwds)
        assert ours.se == pytest.approx(sm.sd_eff_w_re_hksj, rel=1e-9)
        lo, hi = sm.conf_int(use_t=True)[3]
        assert (ours.ci_low, ours.ci_high) == pytest.approx((lo, hi), rel=1e-9)
        t = ours.estimate / ours.se
        assert ours.z_or_t == pytest.approx(t)
        assert ours.p == pytest.approx(2 * stats.t.sf(abs(t), 12))


def test_knha_prediction_interval_uses_t_quantile() -> None:
    res = rma(bcg(), method="REML", test="knha")
    crit = stats.t.isf(0.025, 12)
    half = crit * math.sqrt(res.se**2 + res.tau2)
    assert (res.pi_low, res.pi_high) == pytest.approx((res.estimate - half, res.estimate + half))
    # the scale factor is not truncated at 1 (metafor's test="knha", not "adhoc")
    w = 1 / (bcg().vi + res.tau2)
    scale = np.sum(w * (bcg().yi - res.estimate) ** 2) / 12
    assert res.se == pytest.approx(math.sqrt(scale / np.sum(w)), rel=1e-12)


def test_risk_difference_models_match_published_output() -> None:
    es = bcg("RD")
    ee = rma(es, method="EE")
    assert ee.estimate == pytest.approx(-0.0009, abs=DP4)  # METAN_UNI
    assert ee.ci_low == pytest.approx(-0.0014, abs=DP4)  # METAN_UNI
    assert ee.ci_high == pytest.approx(-0.0005, abs=DP4)  # METAN_UNI
    assert ee.z_or_t == pytest.approx(-4.0448, abs=DP4)  # METAN_UNI
    assert ee.q == pytest.approx(276.4737, abs=DP4)  # METAN_UNI
    dl = rma(es, method="DL")
    assert dl.estimate == pytest.approx(-0.0071, abs=DP4)  # METAN_UNI
    assert dl.ci_low == pytest.approx(-0.0101, abs=DP4)  # METAN_UNI
    assert dl.ci_high == pytest.approx(-0.0040, abs=DP4)  # METAN_UNI
    assert dl.z_or_t == pytest.approx(-4.5128, abs=DP4)  # METAN_UNI
    assert dl.tau2 == pytest.approx(0.0000, abs=DP4)  # METAN_UNI
    assert dl.i2 == pytest.approx(95.6596, abs=DP4)  # METAN_UNI


def test_level_argument() -> None:
    a, b = rma(bcg(), level=95), rma(bcg(), level=0.95)
    assert (a.ci_low, a.ci_high) == pytest.approx((b.ci_low, b.ci_high), rel=1e-12)
    narrow = rma(bcg(), level=90)
    assert a.ci_low < narrow.ci_low < narrow.ci_high < a.ci_high
    assert narrow.tau2_ci_low is not None and a.tau2_ci_low is not None
    assert narrow.tau2_ci_low > a.tau2_ci_low
    with pytest.raises(ValueError, match="level"):
        rma(bcg(), level=100)


# --------------------------------------------------------------------------------------
# Mantel-Haenszel and Peto
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "estimate", "ci_low", "ci_high", "z", "q"),
    [
        ("RR", -0.4537, -0.5308, -0.3766, -11.5338, 152.5676),
        ("OR", -0.4734, -0.5538, -0.3930, -11.5444, 163.9426),
        ("RD", -0.0033, -0.0039, -0.0027, -11.4708, 386.7759),
    ],
)
def test_mantel_haenszel_matches_published_output(
    measure: str, estimate: float, ci_low: float, ci_high: float, z: float, q: float
) -> None:
    res = mantel_haenszel(TPOS, TNEG, CPOS, CNEG, measure=measure)
    assert res.estimate == pytest.approx(estimate, abs=DP4)  # METAN_MH
    assert res.ci_low == pytest.approx(ci_low, abs=DP4)  # METAN_MH
    assert res.ci_high == pytest.approx(ci_high, abs=DP4)  # METAN_MH
    assert res.z == pytest.approx(z, abs=DP4)  # METAN_MH
    assert res.q == pytest.approx(q, abs=DP4)  # METAN_MH
    assert (res.k, res.q_df, res.method, res.measure) == (13, 12, "MH", measure)


def test_mantel_haenszel_back_transform_matches_published() -> None:
    rr = back_transform(mantel_haenszel(TPOS, TNEG, CPOS, CNEG, measure="RR"))
    # predict(res, transf=exp): 0.6353 [0.5881, 0.6862] -- METAN_MH and CONFINT_TESTS
    assert (rr.estimate, rr.ci_low, rr.ci_high) == pytest.approx((0.6353, 0.5881, 0.6862), abs=DP4)
    assert rr.pi_low is None
    odds = back_transform(mantel_haenszel(TPOS, TNEG, CPOS, CNEG, measure="OR"))
    # 0.6229 [0.5748, 0.6750] -- METAN_MH
    assert (odds.estimate, odds.ci_low, odds.ci_high) == pytest.approx(
        (0.6229, 0.5748, 0.6750), abs=DP4
    )
    with pytest.raises(ValueError, match="ratio"):
        back_transform(mantel_haenszel(TPOS, TNEG, CPOS, CNEG, measure="RD"))


def test_peto_matches_published_output() -> None:
    res = peto(TPOS, TNEG, CPOS, CNEG)
    assert res.estimate == pytest.approx(-0.4744, abs=DP4)  # METAN_PETO
    assert res.ci_low == pytest.approx(-0.5541, abs=DP4)  # METAN_PETO
    assert res.ci_high == pytest.approx(-0.3948, abs=DP4)  # METAN_PETO
    assert res.z == pytest.approx(-11.6689, abs=DP4)  # METAN_PETO
    assert res.q == pytest.approx(167.7302, abs=DP4)  # METAN_PETO
    bt = back_transform(res)
    # predict(res, transf=exp): 0.6222 [0.5746, 0.6738] -- METAN_PETO, CONFINT_TESTS
    assert (bt.estimate, bt.ci_low, bt.ci_high) == pytest.approx((0.6222, 0.5746, 0.6738), abs=DP4)


def test_uninformative_tables_do_not_count_in_q() -> None:
    # a double-zero table adds nothing to the MH/Peto ratio estimates and is dropped
    # from Q (metafor's drop00=TRUE), but still counts in k
    ai, bi, ci, di = [*TPOS, 0], [*TNEG, 50], [*CPOS, 0], [*CNEG, 50]
    for measure in ("RR", "OR"):
        base = mantel_haenszel(TPOS, TNEG, CPOS, CNEG, measure=measure)
        more = mantel_haenszel(ai, bi, ci, di, measure=measure)
        assert more.estimate == pytest.approx(base.estimate)
        assert (more.k, more.q_df, more.q) == (14, 12, pytest.approx(base.q))
    more = peto(ai, bi, ci, di)
    base = peto(TPOS, TNEG, CPOS, CNEG)
    assert (more.estimate, more.q, more.q_df, more.k) == (
        pytest.approx(base.estimate),
        pytest.approx(base.q),
        12,
        14,
    )


# --------------------------------------------------------------------------------------
# k = 1, bad input
# --------------------------------------------------------------------------------------


def test_single_study_is_returned_as_is() -> None:
    res = rma([0.5], [0.04], method="REML", test="knha")
    assert (res.k, res.estimate, res.se, res.tau2, res.q, res.q_df) == (1, 0.5, 0.2, 0.0, 0.0, 0)
    assert res.ci_low == pytest.approx(0.5 - stats.norm.isf(0.025) * 0.2)
    assert (res.pi_low, res.pi_high) == (res.ci_low, res.ci_high)
    assert res.test == "z" and res.method == "REML"
    assert res.q_p is None and res.i2 is None and res.h2 is None
    assert res.tau2_se is None and res.tau2_ci_low is None and res.tau2_ci_high is None
    one = escalc("RR", ai=[4], bi=[119], ci=[11], di=[128])
    assert rma(one).estimate == pytest.approx(-0.8893, abs=DP4)  # DAT_BCG_PAGE row 1


@pytest.mark.parametrize(
    ("measure", "columns", "row", "message"),
    [
        ("RR", {"ai": [1, 2, -3], "bi": [5, 5, 5], "ci": [1, 1, 1], "di": [5, 5, 5]}, 3,
         "negative"),
        ("OR", {"ai": [1, 0], "bi": [5, 0], "ci": [1, 1], "di": [5, 5]}, 2, "> 0"),
        ("RD", {"ai": [1, 2], "ci": [1, 1], "n1i": [5, 0], "n2i": [5, 5]}, 2, "> 0"),
        ("RD", {"ai": [1, 7], "ci": [1, 1], "n1i": [5, 5], "n2i": [5, 5]}, 2, "exceeds"),
        ("RR", {"ai": [1, None], "bi": [5, 5], "ci": [1, 1], "di": [5, 5]}, 2, "missing"),
        ("RR", {"ai": [1, 2, 3], "bi": [5, 5, math.nan], "ci": [1, 1, 1], "di": [5, 5, 5]}, 3,
         "missing"),
        ("RR", {"ai": [1, "x"], "bi": [5, 5], "ci": [1, 1], "di": [5, 5]}, 2, "not a number"),
        ("MD", {"m1i": [1, 1], "sd1i": [1, -1], "n1i": [5, 5], "m2i": [0, 0], "sd2i": [1, 1],
                "n2i": [5, 5]}, 2, "sd1i"),
        ("SMD", {"m1i": [1, 1], "sd1i": [1, 1], "n1i": [5, 5], "m2i": [0, 0], "sd2i": [1, 1],
                 "n2i": [5, 0]}, 2, "n2i"),
        ("MD", {"m1i": [1, 1], "sd1i": [1, 0], "n1i": [5, 5], "m2i": [0, 0], "sd2i": [1, 0],
                "n2i": [5, 5]}, 2, "sampling variance"),
        ("PLO", {"xi": [1, 12], "ni": [10, 10]}, 2, "exceeds"),
        ("PR", {"xi": [1, 2], "ni": [10, 0]}, 2, "> 0"),
        ("ZCOR", {"ri": [0.1, 0.2, 0.3, 1.0], "ni": [10, 10, 10, 10]}, 4, "ri"),
        ("ZCOR", {"ri": [0.1, -1.2], "ni": [10, 10]}, 2, "ri"),
        ("ZCOR", {"ri": [0.1, 0.2], "ni": [10, 3]}, 2, "ni > 3"),
        ("GEN", {"yi": [0.1, 0.2], "vi": [0.1, 0.0]}, 2, "sampling variance"),
        ("GEN", {"yi": [0.1, 0.2], "vi": [-0.1, 0.1]}, 1, "sampling variance"),
    ],
)  # fmt: skip
def test_bad_input_names_the_row(
    measure: str, columns: dict[str, list[object]], row: int, message: str
) -> None:
    with pytest.raises(MetaInputError) as info:
        escalc(measure, **columns)  # type: ignore[arg-type]
    assert info.value.row == row
    assert f"row {row}" in str(info.value)
    assert message in info.value.message


def test_bad_input_without_a_row() -> None:
    with pytest.raises(MetaInputError, match="different lengths") as info:
        escalc("RR", ai=[1, 2], bi=[3], ci=[1, 1], di=[3, 3])
    assert info.value.row is None
    with pytest.raises(MetaInputError, match="unknown measure"):
        escalc("XYZ", yi=[1], vi=[1])
    with pytest.raises(MetaInputError, match="needs columns"):
        escalc("MD", m1i=[1], sd1i=[1], n1i=[5])
    with pytest.raises(MetaInputError, match="labels"):
        escalc("GEN", yi=[1, 2], vi=[1, 1], labels=["only one"])
    with pytest.raises(MetaInputError, match="no studies"):
        rma([], [])
    with pytest.raises(ValueError, match="unknown method"):
        rma([0.1, 0.2], [0.1, 0.1], method="EB")
    with pytest.raises(ValueError, match="unknown test"):
        rma([0.1, 0.2], [0.1, 0.1], test="t")
    with pytest.raises(ValueError, match="measure"):
        mantel_haenszel(TPOS, TNEG, CPOS, CNEG, measure="PETO")
    for measure in ("OR", "RR", "RD"):  # no events in any table
        with pytest.raises(MetaInputError):
            mantel_haenszel([0, 0], [5, 5], [0, 0], [5, 5], measure=measure)
    with pytest.raises(MetaInputError, match="Peto"):
        peto([0, 0], [5, 5], [0, 0], [5, 5])
    with pytest.raises(ValueError, match="ratio"):
        back_transform(rma([0.1, 0.2], [0.1, 0.1]))
    assert back_transform(rma([0.1, 0.2], [0.1, 0.1]), measure="HR").estimate > 1


def test_rma_rejects_bad_vectors_naming_the_row() -> None:
    with pytest.raises(MetaInputError) as info:
        rma([0.1, 0.2, 0.3], [0.1, 0.0, 0.1])
    assert info.value.row == 2
    with pytest.raises(MetaInputError) as info:
        rma([0.1, None, 0.3], [0.1, 0.1, 0.1])
    assert info.value.row == 2 and "missing" in info.value.message
    with pytest.raises(MetaInputError) as info:
        rma([0.1, 0.2, 0.3], [0.1, 0.1, -1])
    assert info.value.row == 3
    with pytest.raises(MetaInputError) as info:
        mantel_haenszel([1, 2], [3, -1], [1, 1], [3, 3])
    assert info.value.row == 2
    error = pickle.loads(pickle.dumps(info.value))  # noqa: S301 - round-trip of our own object
    assert (error.row, error.message) == (2, info.value.message)


# --------------------------------------------------------------------------------------
# Properties (Hypothesis)
# --------------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,  # keep the shared working tree free of a .hypothesis directory
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def studies(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    k = draw(st.integers(min_value=2, max_value=12))
    effect = st.floats(min_value=-3, max_value=3, allow_nan=False, allow_infinity=False)
    variance = st.floats(min_value=0.005, max_value=2, allow_nan=False, allow_infinity=False)
    return draw(st.lists(effect, min_size=k, max_size=k)), draw(
        st.lists(variance, min_size=k, max_size=k)
    )


def _close(a: float | None, b: float | None, rel: float = 1e-7, abs_: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    return a == pytest.approx(b, rel=rel, abs=abs_)


@PROPERTY_SETTINGS
@given(data=studies(), order=st.randoms(use_true_random=False))
def test_results_do_not_depend_on_study_order(
    data: tuple[list[float], list[float]], order: random.Random
) -> None:
    yi, vi = data
    perm = list(range(len(yi)))
    order.shuffle(perm)
    for method in METHODS:
        for test in TESTS:
            a = rma(yi, vi, method=method, test=test)
            b = rma([yi[i] for i in perm], [vi[i] for i in perm], method=method, test=test)
            for field in ("estimate", "se", "tau2", "q", "i2", "h2", "pi_low", "pi_high",
                          "tau2_ci_low", "tau2_ci_high", "tau2_se"):  # fmt: skip
                assert _close(getattr(a, field), getattr(b, field), rel=1e-6, abs_=1e-8), field


@PROPERTY_SETTINGS
@given(data=studies())
def test_common_effect_is_the_inverse_variance_weighted_mean(
    data: tuple[list[float], list[float]],
) -> None:
    yi, vi = np.asarray(data[0]), np.asarray(data[1])
    res = rma(yi, vi, method="EE")
    w = 1 / vi
    assert res.estimate == pytest.approx(np.sum(w * yi) / np.sum(w), rel=1e-12, abs=1e-12)
    assert res.se == pytest.approx(1 / math.sqrt(np.sum(w)), rel=1e-12)
    assert res.q == pytest.approx(np.sum(w * (yi - res.estimate) ** 2), rel=1e-9, abs=1e-9)


@PROPERTY_SETTINGS
@given(data=studies())
def test_tau2_and_intervals_are_well_formed(data: tuple[list[float], list[float]]) -> None:
    yi, vi = data
    for method in METHODS:
        res = rma(yi, vi, method=method)
        assert res.tau2 >= 0
        assert res.ci_low <= res.estimate <= res.ci_high
        assert res.pi_low <= res.ci_low and res.ci_high <= res.pi_high
        assert res.i2 is not None and 0 <= res.i2 <= 100
        if method != "EE":
            assert res.tau2_ci_low is not None and res.tau2_ci_high is not None
            assert 0 <= res.tau2_ci_low <= res.tau2_ci_high


@PROPERTY_SETTINGS
@given(
    data=studies(),
    scale=st.floats(min_value=0.1, max_value=10, allow_nan=False),
    sign=st.sampled_from([-1.0, 1.0]),
)
def test_rescaling_effects_rescales_estimate_and_tau2(
    data: tuple[list[float], list[float]], scale: float, sign: float
) -> None:
    c = sign * scale
    yi, vi = np.asarray(data[0]), np.asarray(data[1])
    for method in METHODS:
        # Fisher scoring (ML/REML) stops at an absolute change of 1e-10 in tau2, which
        # is not scale-free: near tau2 = 0 the two fits may stop ~1e-10 apart.
        slack = 1e-9 * max(1.0, scale**2) if method in {"ML", "REML"} else 1e-12
        for test in TESTS:
            a = rma(yi, vi, method=method, test=test)
            b = rma(c * yi, c**2 * vi, method=method, test=test)
            assert b.tau2 == pytest.approx(c**2 * a.tau2, rel=1e-6, abs=slack)
            assert b.estimate == pytest.approx(c * a.estimate, rel=1e-5, abs=1e-6 * scale)
            assert b.se == pytest.approx(scale * a.se, rel=1e-5)
            assert b.q == pytest.approx(a.q, rel=1e-6, abs=1e-9)
            if method not in {"ML", "REML"}:
                assert _close(b.i2, a.i2, rel=1e-6, abs_=1e-6)

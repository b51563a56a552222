"""Tests for inter-rater agreement (steppingstones.evidence.agreement).

Kappa is checked against scikit-learn's ``cohen_kappa_score`` on seeded random ratings and
against the worked examples published in:

    Altman DG. Practical Statistics for Medical Research. London: Chapman & Hall; 1991.
    Section 14.3 (pp. 403-409): Table 14.2, two radiologists' assessments of 85
    xeromammograms (from Boyd NF et al., J Natl Cancer Inst 1982;68:357-63), kappa = 0.47
    with 54/85 = 64% agreement and 26.2/85 = 0.31 expected by chance; Table 14.3, RAST
    against MAST allergy tests on 363 sera (Brostoff J et al. 1984), kappa = 0.32 for the
    5x5 table, 0.42 with the categories grouped as 0 / 1-2 / 3-4, and 0.53 as negative (0)
    against positive (1-4); Table 14.4, two 2x2 tables with the same 80% agreement and
    kappa 0.38 and 0.60.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Sequence

import pytest
from sklearn.metrics import cohen_kappa_score

from steppingstones.evidence.agreement import (
    DECISIONS,
    PairAgreement,
    cohen_kappa,
    pairwise,
    percent_agreement,
)


def ratings_from_table(
    table: Sequence[Sequence[int]], labels: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Expand a contingency table (rows: first rater, columns: second) into ratings."""
    first: list[str] = []
    second: list[str] = []
    for row_label, row in zip(labels, table, strict=True):
        for column_label, count in zip(labels, row, strict=True):
            first.extend([row_label] * count)
            second.extend([column_label] * count)
    return first, second


# Altman (1991), Table 14.2: rows radiologist A, columns radiologist B.
XEROMAMMOGRAMS = [[21, 12, 0, 0], [4, 17, 1, 0], [3, 9, 15, 2], [0, 0, 0, 1]]
XEROMAMMOGRAM_LABELS = ["normal", "benign", "suspected cancer", "cancer"]

# Altman (1991), Table 14.3: rows MAST, columns RAST, grades 0 (negative) to 4 (very high).
MAST_RAST = [
    [86, 3, 14, 0, 2],
    [26, 0, 10, 4, 0],
    [20, 2, 22, 4, 1],
    [11, 1, 37, 16, 14],
    [3, 0, 15, 24, 48],
]
GRADES = ["0", "1", "2", "3", "4"]


# --- published worked examples ---------------------------------------------------------


def test_altman_xeromammograms() -> None:
    first, second = ratings_from_table(XEROMAMMOGRAMS, XEROMAMMOGRAM_LABELS)
    assert len(first) == 85
    assert percent_agreement(first, second) == pytest.approx(100 * 54 / 85)
    kappa = cohen_kappa(first, second, XEROMAMMOGRAM_LABELS)
    assert kappa is not None
    assert round(kappa, 2) == 0.47
    # Exactly: p_o = 54/85, p_e = (33*28 + 22*38 + 29*16 + 1*3) / 85**2 = 2227/7225.
    assert kappa == pytest.approx((54 * 85 - 2227) / (85 * 85 - 2227), rel=1e-12)


def test_altman_mast_rast_and_its_grouped_categories() -> None:
    mast, rast = ratings_from_table(MAST_RAST, GRADES)
    assert len(mast) == 363
    kappa = cohen_kappa(mast, rast)
    assert kappa is not None and round(kappa, 2) == 0.32

    three = {"0": "0", "1": "1-2", "2": "1-2", "3": "3-4", "4": "3-4"}
    kappa3 = cohen_kappa([three[g] for g in mast], [three[g] for g in rast])
    assert kappa3 is not None and round(kappa3, 2) == 0.42

    two = {"0": "negative", "1": "positive", "2": "positive", "3": "positive", "4": "positive"}
    kappa2 = cohen_kappa([two[g] for g in mast], [two[g] for g in rast])
    assert kappa2 is not None and round(kappa2, 2) == 0.53


@pytest.mark.parametrize(
    ("table", "published"),
    [([[70, 10], [10, 10]], 0.38), ([[40, 10], [10, 40]], 0.60)],
)
def test_altman_same_agreement_different_prevalence(
    table: list[list[int]], published: float
) -> None:
    first, second = ratings_from_table(table, ["+", "-"])
    assert percent_agreement(first, second) == pytest.approx(80.0)
    kappa = cohen_kappa(first, second)
    # Published to two decimals: 0.375 (exactly) is printed as 0.38.
    assert kappa is not None and abs(kappa - published) <= 0.005 + 1e-9


# --- against scikit-learn --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_matches_scikit_learn_on_random_ratings(seed: int) -> None:
    rng = random.Random(seed)
    labels = ["include", "exclude", "maybe"][: rng.choice([2, 3])]
    n = rng.randint(1, 400)
    agreement = rng.random()  # how often the second rater copies the first
    weights = [rng.random() + 0.05 for _ in labels]
    first = rng.choices(labels, weights=weights, k=n)
    second = [a if rng.random() < agreement else rng.choice(labels) for a in first]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns when a single label occurs
        expected = cohen_kappa_score(first, second)
    ours = cohen_kappa(first, second, labels)
    if math.isnan(expected):
        assert ours is None
    else:
        assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert percent_agreement(first, second) == pytest.approx(
        100 * sum(a == b for a, b in zip(first, second, strict=True)) / n
    )


def test_matches_scikit_learn_on_large_screening_sample() -> None:
    rng = random.Random(2024)
    first = rng.choices(DECISIONS, weights=[0.1, 0.8, 0.1], k=5000)
    second = [a if rng.random() < 0.9 else rng.choice(DECISIONS) for a in first]
    assert cohen_kappa(first, second) == pytest.approx(cohen_kappa_score(first, second))


# --- edge cases ------------------------------------------------------------------------


def test_kappa_undefined_when_both_raters_use_one_and_the_same_category() -> None:
    assert cohen_kappa(["exclude"] * 10, ["exclude"] * 10) is None
    assert percent_agreement(["exclude"] * 10, ["exclude"] * 10) == 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(cohen_kappa_score(["exclude"] * 10, ["exclude"] * 10))


def test_kappa_defined_when_only_one_rater_is_constant() -> None:
    assert cohen_kappa(["exclude"] * 4, ["exclude", "exclude", "include", "exclude"]) == 0.0
    # Constant on different categories: no agreement at all, and none expected by chance.
    assert cohen_kappa(["exclude"] * 3, ["include"] * 3) == 0.0


def test_perfect_and_systematic_disagreement() -> None:
    assert cohen_kappa(["a", "b", "a", "b"], ["a", "b", "a", "b"]) == 1.0
    assert cohen_kappa(["a", "b", "a", "b"], ["b", "a", "b", "a"]) == -1.0


def test_empty_and_mismatched_input() -> None:
    assert cohen_kappa([], []) is None
    assert percent_agreement([], []) is None
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="same items"):
        percent_agreement(["a"], [])


def test_categories_reject_unknown_ratings_and_unused_ones_do_not_matter() -> None:
    first, second = ["include", "exclude", "exclude"], ["include", "exclude", "include"]
    assert cohen_kappa(first, second) == pytest.approx(0.4)
    assert cohen_kappa(first, second, DECISIONS) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="Include"):
        cohen_kappa(["Include"], ["include"], DECISIONS)


# --- pairwise ----------------------------------------------------------------------------


def test_pairwise_over_records_in_common() -> None:
    decisions = [
        ("ben", "r1", "include"),
        ("ana", "r1", "include"),
        ("ana", "r2", "exclude"),
        ("ben", "r2", "maybe"),
        ("ana", "r3", "maybe"),
        ("ben", "r3", "include"),
        ("ana", "r4", "exclude"),
        ("ben", "r4", "exclude"),
        ("ana", "r5", "exclude"),  # only ana screened r5
        ("cai", "r5", " Exclude "),  # case and spaces ignored
        ("cai", "r6", "include"),
    ]
    ab, ac = pairwise(decisions)  # ben and cai screened nothing in common: no pair
    assert ab == PairAgreement(
        reviewer_a="ana",
        reviewer_b="ben",
        records_in_common=4,
        agreed=2,
        percent=50.0,
        kappa=ab.kappa,
        conflicts=["r2", "r3"],
    )
    ana = ["include", "exclude", "maybe", "exclude"]
    ben = ["include", "maybe", "include", "exclude"]
    assert ab.kappa == pytest.approx(cohen_kappa_score(ana, ben))
    assert (ac.reviewer_a, ac.reviewer_b, ac.records_in_common, ac.agreed) == ("ana", "cai", 1, 1)
    assert ac.percent == 100.0
    assert ac.kappa is None  # one record, both said exclude: kappa undefined
    assert ac.conflicts == []


def test_pairwise_maybe_as_include_collapses_maybe() -> None:
    decisions = [
        ("ana", "r1", "maybe"),
        ("ben", "r1", "include"),
        ("ana", "r2", "exclude"),
        ("ben", "r2", "exclude"),
        ("ana", "r3", "include"),
        ("ben", "r3", "maybe"),
        ("ana", "r4", "maybe"),
        ("ben", "r4", "exclude"),
    ]
    (own,) = pairwise(decisions)
    assert own.conflicts == ["r1", "r3", "r4"]
    (collapsed,) = pairwise(decisions, maybe_as="include")
    assert collapsed.conflicts == ["r4"]
    assert collapsed.agreed == 3 and collapsed.percent == 75.0
    assert collapsed.kappa == pytest.approx(
        cohen_kappa_score(
            ["include", "exclude", "include", "include"],
            ["include", "exclude", "include", "exclude"],
        )
    )
    (as_exclude,) = pairwise(decisions, maybe_as="exclude")
    assert as_exclude.conflicts == ["r1", "r3"]
    assert pairwise(decisions, maybe_as="maybe") == [own]


def test_pairwise_later_decision_replaces_earlier() -> None:
    decisions = [
        ("ana", "r1", "include"),
        ("ben", "r1", "exclude"),
        ("ana", "r1", "exclude"),
    ]
    (pair,) = pairwise(decisions)
    assert pair.records_in_common == 1 and pair.conflicts == []


def test_pairwise_matches_scikit_learn_on_a_simulated_screen() -> None:
    rng = random.Random(7)
    records = [f"rec{i}" for i in range(600)]
    truth = {r: rng.choices(DECISIONS, weights=[0.12, 0.8, 0.08])[0] for r in records}
    reviewers = ["ana", "ben", "cai"]
    decisions = []
    for reviewer in reviewers:
        for record in rng.sample(records, 400):
            decision = truth[record] if rng.random() < 0.85 else rng.choice(DECISIONS)
            decisions.append((reviewer, record, decision))
    result = pairwise(decisions)
    assert [(p.reviewer_a, p.reviewer_b) for p in result] == [
        ("ana", "ben"),
        ("ana", "cai"),
        ("ben", "cai"),
    ]
    by_reviewer: dict[str, dict[str, str]] = {reviewer: {} for reviewer in reviewers}
    first_seen: list[str] = []
    for reviewer, record, decision in decisions:
        by_reviewer[reviewer][record] = decision
        if record not in first_seen:
            first_seen.append(record)
    for pair in result:
        a, b = by_reviewer[pair.reviewer_a], by_reviewer[pair.reviewer_b]
        common = [r for r in first_seen if r in a and r in b]
        assert pair.records_in_common == len(common) > 0
        assert pair.kappa == pytest.approx(
            cohen_kappa_score([a[r] for r in common], [b[r] for r in common])
        )
        assert pair.conflicts == [r for r in common if a[r] != b[r]]
        assert pair.percent == pytest.approx(100 * pair.agreed / pair.records_in_common)


def test_pairwise_rejects_unknown_decisions_and_options() -> None:
    with pytest.raises(ValueError, match="'perhaps' by 'ana' on record 'r1'"):
        pairwise([("ana", "r1", "perhaps")])
    with pytest.raises(ValueError, match="maybe_as"):
        pairwise([], maybe_as="yes")
    assert pairwise([]) == []
    assert pairwise([("ana", "r1", "include")]) == []

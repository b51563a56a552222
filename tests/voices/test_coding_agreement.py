"""Inter-coder agreement checked against independent implementations and published values.

scikit-learn's ``cohen_kappa_score`` and the ``krippendorff`` package (a test-only peer) are given
the same units as our functions; the published values are those of Krippendorff, K. (2011),
"Computing Krippendorff's Alpha-Reliability", Departmental Papers (ASC), Annenberg School for
Communication, University of Pennsylvania (examples A, B and C).
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from steppingstones.voices.agreement import (
    Coding,
    Disagreement,
    Level,
    Resolution,
    character_units,
    disagreements,
    krippendorff_alpha,
    per_code_agreement,
    reconcile,
    segment_agreement,
    segment_units,
    segments,
    side_by_side,
    unitized_alpha,
)


def package_alpha(data: np.ndarray, level: str) -> float:
    """The krippendorff package's alpha (a test-only peer: these checks skip without it)."""
    krippendorff = pytest.importorskip("krippendorff")
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


# --------------------------------------------------------------------------- Krippendorff (2011)

# Example C: four observers, twelve units, values 1-5, missing data.
EXAMPLE_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_alpha_matches_krippendorff_2011_example_c(level: Level, published: float) -> None:
    assert round(krippendorff_alpha(EXAMPLE_C, level), 3) == published


def test_alpha_matches_krippendorff_2011_examples_a_and_b() -> None:
    # Example A: binary data, two observers, ten units: alpha = 0.095.
    example_a = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    assert round(krippendorff_alpha(example_a, "nominal"), 3) == 0.095
    # Example B: nominal data, two observers, twelve units, no missing data: alpha = 0.692.
    example_b = [list("aabbdcccedda"), list("babbbcccedddd")[:12]]
    assert round(krippendorff_alpha(example_b, "nominal"), 3) == 0.692


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", range(6))
def test_alpha_equals_krippendorff_package_on_random_data(level: Level, seed: int) -> None:
    rng = np.random.default_rng(seed)
    coders = int(rng.integers(2, 6))
    units = int(rng.integers(10, 300))
    data = rng.integers(1, 7, size=(coders, units)).astype(float)
    # Agreement well above chance, so alpha is not near zero; then blank some values.
    truth = rng.integers(1, 7, size=units)
    copy = rng.random((coders, units)) < 0.6
    data[copy] = np.broadcast_to(truth, data.shape)[copy]
    data[rng.random((coders, units)) < 0.2] = np.nan
    expected = package_alpha(data, level)
    as_lists = [[None if math.isnan(v) else v for v in row] for row in data.tolist()]
    assert krippendorff_alpha(as_lists, level) == pytest.approx(expected, abs=1e-12)
    assert krippendorff_alpha(data, level) == pytest.approx(expected, abs=1e-12)


def test_alpha_nominal_accepts_labels_and_rejects_bad_tables() -> None:
    labels: list[list[str | None]] = [
        ["stigma", "trust", None, "trust"],
        ["stigma", "trust", "fear", "fear"],
    ]
    numbers: list[list[int | None]] = [[1, 2, None, 2], [1, 2, 3, 3]]
    assert krippendorff_alpha(labels) == pytest.approx(krippendorff_alpha(numbers))
    constant: list[list[int | None]] = [[1, 1, 1], [1, 1, None]]
    with pytest.raises(ValueError, match="undefined"):
        krippendorff_alpha(constant)
    ragged: list[list[int]] = [[1, 2, 3], [1, 2]]
    with pytest.raises(ValueError, match="rows differ"):
        krippendorff_alpha(ragged)
    # Labels that look like numbers, or like "nan", are still labels and never missing.
    text_labels: list[list[str | None]] = [["1", "nan", "2", "2"], ["1", "nan", "2", "nan"]]
    assert krippendorff_alpha(text_labels) == pytest.approx(
        krippendorff_alpha([[1, 9, 2, 2], [1, 9, 2, 9]])
    )
    with pytest.raises(ValueError, match="numbers"):
        krippendorff_alpha(labels, "interval")
    with pytest.raises(ValueError, match="two coders"):
        krippendorff_alpha([[1, 2, 3]])
    with pytest.raises(ValueError, match="two coders"):
        krippendorff_alpha([["a", "b"]])


# --------------------------------------------------------------------------- character units


def random_codings(
    seed: int,
    lengths: dict[str, int],
    coders: tuple[str, ...] = ("ana", "ben"),
    codes: int = 5,
    per_document: int = 12,
) -> list[Coding]:
    """Codings where the later coders partly follow the first and partly go their own way."""
    rng = random.Random(seed)
    result = []
    for doc, length in lengths.items():
        for _ in range(per_document):
            code = f"C{rng.randrange(codes)}"
            start = rng.randrange(length - 1)
            end = min(length, start + rng.randint(1, max(2, length // 8)))
            for coder in coders:
                if rng.random() < 0.75:  # roughly the same span
                    s = min(length - 1, max(0, start + rng.randint(-5, 5)))
                    e = min(length, max(s + 1, end + rng.randint(-5, 5)))
                    result.append(Coding(doc, code, coder, s, e))
                elif rng.random() < 0.5:  # somewhere else
                    s = rng.randrange(length - 1)
                    result.append(Coding(doc, code, coder, s, min(length, s + rng.randint(1, 40))))
    return result


@pytest.mark.parametrize("seed", range(5))
def test_kappa_percent_and_alpha_per_code_equal_independent_implementations(seed: int) -> None:
    lengths = {"int-01": 900, "int-02": 1500, "int-03": 400}
    codings = random_codings(seed, lengths)
    results = per_code_agreement(codings, lengths, ("ana", "ben"))
    assert [r.code_id for r in results] == sorted({c.code_id for c in codings})
    for result in results:
        units = character_units(codings, lengths, result.code_id, ("ana", "ben"))
        assert units.shape == (2, sum(lengths.values())) == (2, result.units)
        first, second = units.astype(int)
        assert result.kappa == pytest.approx(cohen_kappa_score(first, second), abs=1e-12)
        assert result.percent == pytest.approx(100 * np.mean(first == second))
        expected_alpha = package_alpha(units.astype(float), "nominal")
        assert result.alpha == pytest.approx(expected_alpha, abs=1e-12)
        assert result.coded == {"ana": int(first.sum()), "ben": int(second.sum())}
        assert result.coded_by_all == int((first & second).sum())


def test_character_agreement_by_hand() -> None:
    lengths = {"d": 10}
    codings = [Coding("d", "Trust", "ana", 0, 5), Coding("d", "Trust", "ben", 3, 8)]
    # ana 0-4, ben 3-7: agree on 3,4 (both) and 8,9 (neither).
    [result] = per_code_agreement(codings, lengths, ("ana", "ben"))
    assert (result.units, result.agreed, result.percent) == (10, 4, 40.0)
    # p_o = 0.4, p_e = 0.5 * 0.5 + 0.5 * 0.5 = 0.5, kappa = (0.4 - 0.5) / 0.5.
    assert result.kappa == pytest.approx(-0.2)
    assert result.method == "character"


def test_code_nobody_varied_has_undefined_kappa_and_alpha() -> None:
    lengths = {"d": 20}
    codings = [Coding("d", "Trust", "ana", 0, 20), Coding("d", "Trust", "ben", 0, 20)]
    results = per_code_agreement(codings, lengths, ("ana", "ben"), codes=["Trust", "Police"])
    police, trust = results
    assert police.code_id == "Police" and police.percent == 100.0
    assert police.kappa is None and police.alpha is None and police.unitized_alpha is None
    assert trust.percent == 100.0 and trust.kappa is None  # both coded everything: p_e = 1


def test_three_coders_use_lights_kappa_and_alpha_over_all() -> None:
    lengths = {"a": 700, "b": 500}
    coders = ("ana", "ben", "cat")
    codings = random_codings(11, lengths, coders=coders)
    for result in per_code_agreement(codings, lengths, coders):
        units = character_units(codings, lengths, result.code_id, coders).astype(int)
        pairwise = [
            cohen_kappa_score(units[i], units[j]) for i, j in itertools.combinations(range(3), 2)
        ]
        assert result.kappa == pytest.approx(np.mean(pairwise), abs=1e-12)
        assert result.percent == pytest.approx(100 * np.mean((units == units[0]).all(axis=0)))
        assert result.alpha == pytest.approx(package_alpha(units.astype(float), "nominal"))
        assert result.unitized_alpha is None  # the 2004 unitized alpha: two coders only


def test_sample_is_the_documents_given_and_offsets_are_checked() -> None:
    codings = [Coding("in", "X", "ana", 0, 4), Coding("out", "X", "ben", 0, 4)]
    [result] = per_code_agreement(codings, {"in": 8}, ("ana", "ben"))
    assert result.coded == {"ana": 4, "ben": 0}
    with pytest.raises(ValueError, match="past the end"):
        per_code_agreement([Coding("in", "X", "ana", 0, 9)], {"in": 8}, ("ana", "ben"))
    with pytest.raises(ValueError, match="bad range"):
        Coding("in", "X", "ana", 5, 4)
    with pytest.raises(ValueError, match="two distinct coders"):
        per_code_agreement(codings, {"in": 8}, ("ana", "ana"))


def test_character_level_agreement_on_100000_character_documents() -> None:
    lengths = {f"long-{i}": 100_000 for i in range(4)}
    codings = random_codings(3, lengths, codes=25, per_document=400)
    results = per_code_agreement(codings, lengths, ("ana", "ben"))
    assert len(results) == 25 and all(r.units == 400_000 for r in results)
    sample = results[0]
    units = character_units(codings, lengths, sample.code_id, ("ana", "ben")).astype(int)
    assert sample.kappa == pytest.approx(cohen_kappa_score(units[0], units[1]), abs=1e-12)


# --------------------------------------------------------------------------- segment units


def test_segments_are_the_union_of_both_coders_codings() -> None:
    codings = [
        Coding("d", "A", "ana", 0, 10),
        Coding("d", "B", "ben", 8, 20),  # overlaps ana's: one segment 0-20
        Coding("d", "A", "ben", 30, 40),
        Coding("d", "B", "ana", 40, 45),  # touches: joined, 30-45
        Coding("d", "A", "zed", 60, 70),  # another coder: not a unit
        Coding("e", "B", "ana", 5, 6),
    ]
    assert segments(codings, ("ana", "ben")) == [("d", 0, 20), ("d", 30, 45), ("e", 5, 6)]
    units = segment_units(codings, "A", ("ana", "ben"))
    assert units.tolist() == [[True, False, False], [False, True, False]]
    # More than half: ana's 10 of 20 characters is not enough, ben's 10 of 15 is.
    strict = segment_units(codings, "A", ("ana", "ben"), min_overlap=0.5)
    assert strict.tolist() == [[False, False, False], [False, True, False]]


@pytest.mark.parametrize("seed", range(4))
def test_segment_kappa_equals_sklearn_on_the_same_segments(seed: int) -> None:
    lengths = {"x": 3000, "y": 2000}
    codings = random_codings(seed + 40, lengths, codes=4, per_document=25)
    for result in segment_agreement(codings, ("ana", "ben")):
        units = segment_units(codings, result.code_id, ("ana", "ben")).astype(int)
        assert result.method == "segment" and result.units == units.shape[1]
        if result.kappa is None:
            continue
        assert result.kappa == pytest.approx(cohen_kappa_score(units[0], units[1]), abs=1e-12)
        assert result.percent == pytest.approx(100 * np.mean(units[0] == units[1]))


# --------------------------------------------------------------------------- unitized alpha


def figure_2_codings() -> list[Coding]:
    """Krippendorff (2004) Figure 2: a continuum of 300 (150-450), two coders, codes c and k."""
    spans = {
        ("i", "c"): [(225, 295), (370, 400)],
        ("j", "c"): [(220, 300), (355, 375), (400, 420)],
        ("i", "k"): [(180, 240), (300, 350)],
        ("j", "k"): [(180, 240), (300, 350)],
    }
    return [
        Coding("fig2", code, coder, start - 150, end - 150)
        for (coder, code), ranges in spans.items()
        for start, end in ranges
    ]


def test_unitized_alpha_on_krippendorff_2004_figure_2() -> None:
    # The value for c also comes out of the independent text-alpha implementation: 0.729.
    codings = figure_2_codings()
    assert round(unitized_alpha(codings, {"fig2": 300}, "c", ("i", "j")) or 0, 3) == 0.729
    assert unitized_alpha(codings, {"fig2": 300}, "k", ("i", "j")) == pytest.approx(1.0)
    by_code = {r.code_id: r for r in per_code_agreement(codings, {"fig2": 300}, ("i", "j"))}
    assert by_code["c"].unitized_alpha == pytest.approx(0.7286, abs=1e-4)


def unitized_alpha_by_loops(codings: list[Coding], lengths: dict[str, int], code: str) -> float:
    """A direct transcription of Krippendorff's (2004) formulas, section pair by section pair."""
    coders = ("ana", "ben")
    total = sum(lengths.values())
    sections: dict[str, list[tuple[str, int, int, int]]] = {}  # coder -> (doc, begin, length, v)
    for coder in coders:
        rows = []
        for doc, length in lengths.items():
            covered = [False] * length
            for c in codings:
                if c.coder == coder and c.code_id == code and c.document_id == doc:
                    for k in range(c.start, c.end):
                        covered[k] = True
            k = 0
            while k < length:
                j = k
                while j < length and covered[j] == covered[k]:
                    j += 1
                rows.append((doc, k, j - k, int(covered[k])))
                k = j
        sections[coder] = rows
    observed = 0.0
    for first, second in itertools.permutations(coders, 2):
        for doc_g, b_g, l_g, v_g in sections[first]:
            for doc_h, b_h, l_h, v_h in sections[second]:
                if doc_g != doc_h:
                    continue
                if v_g and v_h and -l_g < b_g - b_h < l_h:
                    observed += (b_g - b_h) ** 2 + (b_g + l_g - b_h - l_h) ** 2
                elif v_g and not v_h and l_h - l_g >= b_g - b_h >= 0:
                    observed += l_g**2
                elif not v_g and v_h and l_g - l_h >= b_h - b_g >= 0:
                    observed += l_h**2
    observed /= 2 * 1 * total**2
    units = [(size, v) for coder in coders for _, _, size, v in sections[coder]]
    n_c = sum(v for _, v in units)
    numerator = 0.0
    for l_g, v_g in units:
        if not v_g:
            continue
        numerator += (n_c - 1) / 3 * (2 * l_g**3 - 3 * l_g**2 + l_g)
        for l_h, v_h in units:
            if not v_h and l_h >= l_g:
                numerator += l_g**2 * (l_h - l_g + 1)
    denominator = 2 * total * (2 * total - 1) - sum(size * (size - 1) for size, v in units if v)
    expected = 2 / total * numerator / denominator
    return 1 - observed / expected


@pytest.mark.parametrize("seed", range(4))
def test_unitized_alpha_equals_the_formulas_written_out(seed: int) -> None:
    lengths = {"p": 300, "q": 180}
    codings = random_codings(seed + 70, lengths, codes=2, per_document=6)
    for code in sorted({c.code_id for c in codings}):
        expected = unitized_alpha_by_loops(codings, lengths, code)
        assert unitized_alpha(codings, lengths, code, ("ana", "ben")) == pytest.approx(expected)


# --------------------------------------------------------------------------- disagreements


def test_disagreements_are_merged_contiguous_ranges_per_coder() -> None:
    text = "I felt judged 🙁 by the midwife, but the named midwife listened."
    codings = [
        Coding("t1", "Stigma", "ana", 0, 5),
        Coding("t1", "Stigma", "ana", 5, 16),  # adjacent to the first: one range 0-16
        Coding("t1", "Stigma", "ben", 7, 13),
        Coding("t1", "Trust", "ben", 38, 63),
        Coding("t1", "Trust", "ana", 38, 63),  # agreement: nothing listed
        Coding("t1", "Trust", "cat", 0, 3),  # a third coder is ignored
        Coding("t2", "Police", "ben", 2, 4),
    ]
    found = disagreements(codings, "ana", "ben", texts={"t1": text})
    assert found == [
        Disagreement("t1", "Stigma", 0, 7, "ana", "ben", "I felt "),
        Disagreement("t1", "Stigma", 13, 16, "ana", "ben", " 🙁 "),
        Disagreement("t2", "Police", 2, 4, "ben", "ana", None),
    ]
    assert side_by_side(found, "ana", "ben")[2] == ("t2", 2, 4, "Police", "not coded", "coded")


def test_disagreements_agree_with_the_character_units() -> None:
    lengths = {"int-01": 900, "int-02": 1500}
    codings = random_codings(5, lengths)
    found = disagreements(codings, "ana", "ben")
    for code in sorted({c.code_id for c in codings}):
        units = character_units(codings, lengths, code, ("ana", "ben"))
        listed = sum(d.end - d.start for d in found if d.code_id == code)
        assert listed == int((units[0] ^ units[1]).sum())
    for doc_code, group in itertools.groupby(found, key=lambda d: (d.document_id, d.code_id)):
        del doc_code
        ranges = sorted((d.start, d.end, d.coded_by) for d in group)
        for (_, end, coder), (start, _, next_coder) in itertools.pairwise(ranges):
            assert end < start or coder != next_coder  # same-coder ranges never touch


def test_reconciliation_records_decisions_and_what_is_left() -> None:
    codings = [
        Coding("t1", "Stigma", "ana", 0, 20),
        Coding("t1", "Stigma", "ben", 10, 30),
        Coding("t1", "Trust", "ana", 40, 50),
    ]
    first = reconcile(codings, "ana", "ben")
    assert first.codings == (Coding("t1", "Stigma", "consensus", 10, 20),)
    assert [(d.code_id, d.start, d.end, d.coded_by) for d in first.unresolved] == [
        ("Stigma", 0, 10, "ana"),
        ("Stigma", 20, 30, "ben"),
        ("Trust", 40, 50, "ana"),
    ]
    assert not first.complete
    decisions = [
        Resolution("t1", "Stigma", 0, 10, True, "team meeting", "ana's reading of 'judged'"),
        Resolution("t1", "Stigma", 20, 30, False, "team meeting"),
        Resolution("t1", "Trust", 40, 50, True, "team meeting"),
    ]
    final = reconcile(codings, "ana", "ben", decisions)
    assert final.complete and final.resolutions == tuple(decisions)
    assert final.resolutions[0].note == "ana's reading of 'judged'"
    assert final.codings == (
        Coding("t1", "Stigma", "consensus", 0, 20),
        Coding("t1", "Trust", "consensus", 40, 50),
    )
    # A decision can also overrule what both coders agreed on.
    overruled = reconcile(
        codings, "ana", "ben", [*decisions, Resolution("t1", "Stigma", 12, 15, False, "PI")]
    )
    assert overruled.codings[:2] == (
        Coding("t1", "Stigma", "consensus", 0, 12),
        Coding("t1", "Stigma", "consensus", 15, 20),
    )
    with pytest.raises(ValueError, match="start < end"):
        Resolution("t1", "Stigma", 5, 5, True, "PI")

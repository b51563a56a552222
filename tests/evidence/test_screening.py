"""Prioritised screening: metrics by hand, the queue, determinism, stopping rules, a real set.

No database. The real-data test reads ``../shared/data/screening/`` beside the project and is
skipped (with the reason) when that folder is absent.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from steppingstones.evidence import screening, stopping
from steppingstones.evidence.screening import (
    Prioritiser,
    RetrainSchedule,
    ScreeningInputError,
    average_time_to_discovery,
    recall_at,
    screened_to_recall,
    simulate,
    simulate_csv,
    time_to_discovery,
    wss,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "screening"

# --- metrics on hand-made orders (values worked out by hand, asreview-insights 1.6.1 rules) ---

# Two relevant records among ten, found 1st and 3rd.
TWO_IN_TEN = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]
# Twenty relevant records first, then eighty irrelevant.
PERFECT_20_OF_100 = [1] * 20 + [0] * 80
# Four relevant records among twenty, at positions 3, 5, 8 and 20.
FOUR_IN_TWENTY = [0, 0, 1, 0, 1, 0, 0, 1] + [0] * 11 + [1]


def test_wss_two_in_ten() -> None:
    # 95% of 2 relevant: the largest k/2 <= 0.95 is k = 1, found at index 0. Random screening
    # finds round(linspace(0, 2, 10)) = 0,0,0,1,1,1,1,2,2,2: its first relevant at index 3.
    assert wss(TWO_IN_TEN, 0.95) == pytest.approx(0.3)
    # 100%: second relevant at index 2 here, at index 7 by random screening.
    assert wss(TWO_IN_TEN, 1.0) == pytest.approx(0.5)


def test_wss_perfect_order() -> None:
    # k = 19 (19/20 = 0.95) found at index 18; random finds its 19th where round(20 i / 99) >= 19,
    # i.e. i = 92: (92 - 18) / 100.
    assert wss(PERFECT_20_OF_100, 0.95) == pytest.approx(0.74)
    # k = 20 at index 19; random reaches 20 at i = 97 (20 i / 99 >= 19.5): (97 - 19) / 100.
    assert wss(PERFECT_20_OF_100, 1.0) == pytest.approx(0.78)


def test_wss_can_be_negative() -> None:
    # k = 3 (3/4 <= 0.95) at index 7; random reaches 3 at i = 12 (4 i / 19 >= 2.5): 5 / 20.
    assert wss(FOUR_IN_TWENTY, 0.95) == pytest.approx(0.25)
    # The last relevant record is the last record; random reaches 4 at i = 17: (17 - 19) / 20.
    assert wss(FOUR_IN_TWENTY, 1.0) == pytest.approx(-0.1)


def test_recall_at() -> None:
    assert recall_at(TWO_IN_TEN, 0.1) == pytest.approx(0.5)  # the first record of ten
    assert recall_at(TWO_IN_TEN, 0.05) == 0.0  # not even one record
    assert recall_at(TWO_IN_TEN, 0.3) == pytest.approx(1.0)
    assert recall_at(PERFECT_20_OF_100, 0.1) == pytest.approx(0.5)  # 10 of 20 in 10 records
    assert recall_at(FOUR_IN_TWENTY, 0.1) == 0.0  # two records, none relevant
    assert recall_at(FOUR_IN_TWENTY, 0.25) == pytest.approx(0.5)  # five records, two relevant


def test_atd_and_time_to_discovery() -> None:
    assert time_to_discovery(TWO_IN_TEN) == [1, 3]
    assert average_time_to_discovery(TWO_IN_TEN) == pytest.approx(2 / 10)
    assert time_to_discovery(FOUR_IN_TWENTY) == [3, 5, 8, 20]
    assert average_time_to_discovery(FOUR_IN_TWENTY) == pytest.approx(9 / 20)
    assert average_time_to_discovery(PERFECT_20_OF_100) == pytest.approx(10.5 / 100)


def test_screened_to_recall() -> None:
    assert screened_to_recall(TWO_IN_TEN, 0.95) == 3  # ceil(1.9) = 2 relevant
    assert screened_to_recall(TWO_IN_TEN, 0.5) == 1
    assert screened_to_recall(FOUR_IN_TWENTY, 0.95) == 20  # ceil(3.8) = 4
    assert screened_to_recall(FOUR_IN_TWENTY, 0.75) == 8
    assert screened_to_recall(PERFECT_20_OF_100, 0.95) == 19


def test_metrics_refuse_no_relevant_and_bad_labels() -> None:
    with pytest.raises(ValueError):
        wss([0, 0, 0])
    with pytest.raises(ValueError):
        recall_at([0, 2, 1])
    with pytest.raises(ValueError):
        average_time_to_discovery([0, 0])


# --- a small synthetic corpus ---------------------------------------------------------------

FILLER = [
    "hospital",
    "audit",
    "staffing",
    "rota",
    "budget",
    "software",
    "survey",
    "cardiology",
    "orthopaedic",
    "dental",
    "radiology",
    "pharmacy",
    "logistics",
    "training",
    "wellbeing",
    "parking",
    "catering",
    "ward",
    "estates",
]
TOPIC = [
    "pregnant",
    "women",
    "opioid",
    "substitution",
    "neonatal",
    "abstinence",
    "syndrome",
    "infant",
    "outcomes",
]


def corpus(n: int = 300, relevant: int = 20, seed: int = 1) -> tuple[list[str], list[int]]:
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    labels: list[int] = []
    for i in range(n):
        words = list(rng.choice(FILLER, 12))
        is_relevant = i % (n // relevant) == 0 and sum(labels) < relevant
        if is_relevant:
            words += list(rng.choice(TOPIC, 5))
        elif rng.random() < 0.1:
            words += list(rng.choice(TOPIC, 1))  # a stray topic word in a few irrelevant ones
        texts.append(" ".join(words))
        labels.append(int(is_relevant))
    return texts, labels


def test_simulation_is_deterministic_per_seed() -> None:
    texts, labels = corpus()
    first = simulate(texts, labels, seed=3)
    second = simulate(texts, labels, seed=3)
    assert first.to_dict() == second.to_dict()
    other = simulate(texts, labels, seed=4)
    assert other.priors != first.priors
    assert sorted(first.order) == list(range(len(texts)))


def test_simulation_finds_the_topic_early() -> None:
    texts, labels = corpus()
    result = simulate(texts, labels, model="tfidf-svm", seed=0)
    assert result.records == 300 and result.inclusions == 20
    assert result.order[:2] == result.priors
    assert labels[result.priors[0]] == 1 and labels[result.priors[1]] == 0
    assert result.wss95 > 0.7
    assert result.recall_at_10pct > 0.9
    assert result.screened_to_100 <= 40
    ordered = [labels[i] for i in result.order]
    assert result.screened_to_95 == screened_to_recall(ordered, 0.95)
    assert result.wss95 == pytest.approx(wss(ordered[2:], 0.95))
    assert result.atd == pytest.approx(average_time_to_discovery(ordered[2:]))
    random_result = simulate(texts, labels, model="random", seed=0)
    assert random_result.wss95 < result.wss95 - 0.3


@pytest.mark.parametrize("model", ["tfidf-nb", "tfidf-logistic", "tfidf-svm-liblinear"])
def test_every_model_runs(model: str) -> None:
    texts, labels = corpus(n=120, relevant=8)
    result = simulate(texts, labels, model=model, seed=1, evaluate_stopping=False)
    assert result.model == model
    assert result.wss95 > 0.3


def test_progress_callable_and_object() -> None:
    texts, labels = corpus(n=80, relevant=5)
    calls: list[tuple[int, int]] = []
    simulate(texts, labels, seed=0, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (80, 80)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)

    class Bar:
        def __init__(self) -> None:
            self.total = 0
            self.done = 0
            self.finished = False

        def start(self, total: int, label: str = "") -> None:
            self.total = total

        def advance(self, amount: int = 1) -> None:
            self.done += amount

        def finish(self) -> None:
            self.finished = True

    bar = Bar()
    simulate(texts, labels, seed=0, progress=bar)
    assert (bar.total, bar.done, bar.finished) == (80, 80, True)


def test_batched_schedule_is_used_for_large_sets() -> None:
    schedule = RetrainSchedule(every_record_up_to=50, warmup=4, growth=0.5, max_step=5)
    assert schedule.step(10, 40) == 1  # a small set: every record
    assert schedule.step(3, 100) == 1  # warm-up
    assert schedule.step(6, 100) == 3
    assert schedule.step(400, 100) == 5  # capped
    texts, labels = corpus()
    every = simulate(texts, labels, seed=2, evaluate_stopping=False)
    batched = simulate(texts, labels, seed=2, schedule=schedule, evaluate_stopping=False)
    assert batched.retrains < every.retrains
    assert batched.wss95 > 0.5


def test_to_dict_is_json_and_has_the_metrics() -> None:
    texts, labels = corpus(n=100, relevant=6)
    data = simulate(texts, labels, seed=0).to_dict()
    for key in (
        "records",
        "inclusions",
        "screened_to_95",
        "screened_to_100",
        "wss95",
        "recall_at_10pct",
        "atd",
        "order",
        "stopping",
    ):
        assert key in data
    assert all(advice["is_estimate"] for advice in data["stopping"])
    json.dumps(data)


# --- the live queue -------------------------------------------------------------------------


def test_prioritiser_never_returns_decided_records() -> None:
    texts, labels = corpus(n=200, relevant=10)
    queue = Prioritiser(texts, seed=5)
    assert queue.retrain() is False  # nothing decided yet
    first = queue.next_records(10)
    assert len(first) == len(set(first)) == 10
    decided: set[int] = set()
    rng = np.random.default_rng(0)
    for step in range(120):
        shown = queue.next_records(3)
        assert not decided.intersection(shown)
        # Decide the first shown, and now and then one from elsewhere (a search hit).
        pick = shown[0] if step % 7 else int(rng.integers(0, 200))
        queue.record_decision(pick, labels[pick])
        decided.add(pick)
        if step % 5 == 0:
            queue.retrain()
        assert pick not in queue.next_records(200)
    rest = queue.next_records(1000)
    assert sorted(rest + sorted(decided)) == list(range(200))
    assert queue.n_labelled == len(decided)


def test_prioritiser_ranks_after_retrain_and_is_deterministic() -> None:
    texts, labels = corpus(n=200, relevant=10)
    relevant = [i for i, label in enumerate(labels) if label]
    orders = []
    for _ in range(2):
        queue = Prioritiser(texts, seed=9)
        queue.record_decision(relevant[0], 1)
        queue.record_decision(1, 0)
        assert queue.retrain() is True
        assert queue.model_version == 1 and queue.trained_on == 2
        orders.append(queue.next_records(9))
    assert orders[0] == orders[1]
    assert sum(labels[i] for i in orders[0]) >= 3  # random order would show about 0.4


def test_prioritiser_async_retrain_and_changed_decision() -> None:
    texts, _labels = corpus(n=150, relevant=8)
    queue = Prioritiser(texts, seed=1)
    try:
        queue.record_decision(0, 1)
        queue.record_decision(1, 0)
        assert queue.retrain_async().result(timeout=60) is True
        queue.record_decision(1, 1)  # a changed mind overwrites, not duplicates
        assert queue.n_labelled == 2 and queue.labels_in_order() == [1, 1]
        assert queue.retrain_async().result(timeout=60) is False  # one class only now
    finally:
        queue.close()
    with pytest.raises(IndexError):
        queue.record_decision(150, 0)
    with pytest.raises(ValueError):
        queue.record_decision(3, 2)


def test_prioritiser_stopping_aid_names_methods_and_says_estimate() -> None:
    texts, labels = corpus(n=200, relevant=10)
    queue = Prioritiser(texts, seed=0)
    for index in range(120):
        queue.record_decision(index, labels[index])
    advice = queue.stopping_aid()
    assert [a.method.split(" ")[0] for a in advice] == ["hypergeometric", "knee", "heuristic:"]
    assert all(a.is_estimate and "estimate" in a.note for a in advice)
    assert all(a.summary().endswith("[estimate]") for a in advice)


def test_unknown_model_and_bad_input() -> None:
    with pytest.raises(ScreeningInputError, match="unknown model"):
        Prioritiser(["a b"], model="gpt")
    with pytest.raises(ScreeningInputError):
        simulate(["a", "b"], [0, 0])
    with pytest.raises(ScreeningInputError):
        simulate(["a", "b"], [0, 1, 1])
    assert "tfidf-nb" in screening.available_models()


# --- stopping rules -------------------------------------------------------------------------


def test_consecutive_irrelevant() -> None:
    advice = stopping.consecutive_irrelevant([1, 0, 0, 1, 0, 0, 0, 0], 3)
    assert advice.recommended_stop == 7
    assert advice.should_stop is True
    assert advice.recall_estimate is None and advice.is_estimate
    not_yet = stopping.consecutive_irrelevant([1, 0, 0, 1, 0], 3)
    assert not_yet.should_stop is False and not_yet.recommended_stop is None


def test_knee_method_fires_after_a_clear_knee() -> None:
    # 40 relevant in the first 100 records, then 500 irrelevant: slope before the knee 0.4,
    # after it 1/500, ratio 200 >= 156 - 40 = 116.
    labels = [1 if i % 5 < 2 else 0 for i in range(100)] + [0] * 500
    advice = stopping.knee_method(labels, total_records=2000)
    assert advice.should_stop
    assert advice.recommended_stop is not None and 150 <= advice.recommended_stop <= 600
    assert advice.recall_estimate is not None and 0.9 < advice.recall_estimate < 1.0
    assert "Cormack" in advice.reference and advice.is_estimate
    early = stopping.knee_method(labels[:120], total_records=2000)
    assert not early.should_stop


def test_hypergeometric_test() -> None:
    labels = [1 if i % 5 < 2 else 0 for i in range(100)] + [0] * 900
    advice = stopping.hypergeometric_test(labels, total_records=1500, target_recall=0.95)
    assert advice.should_stop and advice.recommended_stop is not None
    assert advice.recall_lower is not None and advice.recall_estimate is not None
    assert 0.95 <= advice.recall_lower <= advice.recall_estimate <= 1.0
    assert "Callaghan" in advice.reference and advice.is_estimate
    # Right after the relevant records, nothing supports stopping yet.
    early = stopping.hypergeometric_test(labels[:110], total_records=1500)
    assert not early.should_stop
    assert early.recall_lower is not None and early.recall_lower < 0.95


def test_random_sample_estimate() -> None:
    # 0 relevant in a random sample of 100 of 1,000 unscreened; 40 found by screening.
    advice = stopping.random_sample_estimate(0, 100, 1000, 40, confidence=0.95)
    upper_rate = 1 - 0.05 ** (1 / 100)  # Clopper-Pearson one-sided limit for 0 of 100
    assert advice.recall_estimate == pytest.approx(1.0)
    assert advice.recall_lower == pytest.approx(40 / (40 + upper_rate * 900))
    some = stopping.random_sample_estimate(2, 100, 1000, 40)
    assert some.recall_estimate == pytest.approx(42 / (42 + 0.02 * 900))
    assert math.isclose(some.estimated_total_relevant or 0, 42 + 18)


# --- files ----------------------------------------------------------------------------------


def test_simulate_csv_and_its_errors(tmp_path: Path) -> None:
    texts, labels = corpus(n=60, relevant=4)
    path = tmp_path / "labelled.csv"
    lines = ["title,abstract,label_included"]
    lines += [f'"{t[:20]}","{t[20:]}",{label}' for t, label in zip(texts, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = simulate_csv(path, seed=2)
    assert result.records == 60 and result.inclusions == 4
    assert "wss95" in screening.format_simulation(result)
    bad = tmp_path / "bad.csv"
    bad.write_text("title,abstract,label_included\na,b,1\nc,d,maybe\n", encoding="utf-8")
    with pytest.raises(ScreeningInputError, match=r"bad.csv: row 3"):
        simulate_csv(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("title,label_included\na,1\n", encoding="utf-8")
    with pytest.raises(ScreeningInputError, match="abstract"):
        simulate_csv(missing)
    with pytest.raises(ScreeningInputError, match="unknown model"):
        simulate_csv(path, model="nope")


# --- a real review --------------------------------------------------------------------------


@pytest.mark.skipif(
    not (SHARED / "Cohen_2006_NSAIDS.csv").exists(),
    reason="the labelled screening data sets (../shared/data/screening/) are not beside the "
    "project",
)
def test_real_cohen_dataset_beats_random_by_far() -> None:
    result = simulate_csv(SHARED / "Cohen_2006_NSAIDS.csv", seed=0)
    assert result.records == 393 and result.inclusions == 41
    assert result.wss95 > 0.3
    assert result.recall_at_10pct > 0.3

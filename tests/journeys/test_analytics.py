"""Pathway analytics: equal to PM4Py on real and synthetic logs, and blind to row order."""

from __future__ import annotations

import contextlib
import io
import math
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pytest

from steppingstones.journeys import analytics, eventlog, synthetic

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "event-logs"
SEPSIS = DATA / "sepsis.csv"
HOSPITAL = DATA / "Hospital_log.xes.gz"

needs_sepsis = pytest.mark.skipif(
    not SEPSIS.exists(), reason=f"real log {SEPSIS.name} not found beside the project (shared/)"
)
needs_hospital = pytest.mark.skipif(
    not HOSPITAL.exists(), reason=f"real log {HOSPITAL.name} not found beside the project (shared/)"
)


@cache
def sepsis() -> pa.Table:
    return eventlog.read_csv(
        SEPSIS, case="Case ID", activity="Activity", timestamp="Complete Timestamp"
    )


@cache
def hospital() -> pa.Table:
    return eventlog.read_xes(HOSPITAL)


def real_log(name: str) -> pa.Table:
    if name == "sepsis":
        if not SEPSIS.exists():
            pytest.skip(f"real log {SEPSIS.name} not found beside the project (shared/)")
        return sepsis()
    if not HOSPITAL.exists():
        pytest.skip(f"real log {HOSPITAL.name} not found beside the project (shared/)")
    return hospital()


def pm4py_module() -> Any:
    pm4py = pytest.importorskip("pm4py", reason="PM4Py (AGPL) is the test peer: pip install pm4py")
    return pm4py


def for_pm4py(table: pa.Table) -> Any:
    """The same events as a pandas DataFrame in canonical order, PM4Py's column names."""
    ordered = eventlog.sort_canonical(table)
    return pa.table(
        {
            "case:concept:name": ordered["case_id"].cast(pa.string()),
            "concept:name": ordered["activity"].cast(pa.string()),
            "time:timestamp": ordered["timestamp"],
        }
    ).to_pandas()


def assert_equal_to_pm4py(table: pa.Table, df: Any) -> None:
    pm4py = pm4py_module()
    with contextlib.redirect_stderr(io.StringIO()):
        dfg, starts, ends = pm4py.discover_dfg(df)
        variants = pm4py.get_variants(df)
        performance, _, _ = pm4py.discover_performance_dfg(df)
    prepared = analytics.prepare(table)
    process_map = analytics.dfg(prepared)
    assert process_map.counts() == dict(dfg)
    assert process_map.start_activities == dict(starts)
    assert process_map.end_activities == dict(ends)
    assert dict(analytics.variants(prepared)) == dict(variants)
    assert sum(n for _, n in analytics.variants(prepared)) == process_map.n_cases
    ours = {(e.source, e.target): e for e in analytics.performance_dfg(prepared)}
    assert set(ours) == set(performance)
    for key, theirs in performance.items():
        edge = ours[key]
        assert edge.frequency == dfg[key]
        for mine, name in (
            (edge.mean_seconds, "mean"),
            (edge.median_seconds, "median"),
            (edge.min_seconds, "min"),
            (edge.max_seconds, "max"),
            (edge.sum_seconds, "sum"),
        ):
            assert math.isclose(mine, theirs[name], rel_tol=1e-9, abs_tol=1e-6), (key, name)
        if edge.stdev_seconds is None:
            assert math.isnan(theirs["stdev"])
        else:
            assert math.isclose(edge.stdev_seconds, theirs["stdev"], rel_tol=1e-9, abs_tol=1e-6)
    medians = {(e.source, e.target): e.median_seconds for e in process_map.edges}
    assert medians == {k: e.median_seconds for k, e in ours.items()}


# ---------------------------------------------------------------------------- PM4Py


@needs_sepsis
def test_sepsis_equals_pm4py_reading_the_csv_itself() -> None:
    pm4py = pm4py_module()
    import pandas as pd

    # PM4Py's own path: pandas (keeping the case named NA) and format_dataframe, which sorts
    # by case, timestamp and file row: the same canonical order.
    raw = pd.read_csv(SEPSIS, sep=";", dtype=str, keep_default_na=False)
    raw["Complete Timestamp"] = pd.to_datetime(
        raw["Complete Timestamp"], format="%Y/%m/%d %H:%M:%S.%f"
    )
    with contextlib.redirect_stderr(io.StringIO()):
        df = pm4py.format_dataframe(
            raw, case_id="Case ID", activity_key="Activity", timestamp_key="Complete Timestamp"
        )
    assert "NA" in set(df["case:concept:name"])
    assert_equal_to_pm4py(sepsis(), df)


@needs_hospital
def test_hospital_xes_equals_pm4py() -> None:
    assert_equal_to_pm4py(hospital(), for_pm4py(hospital()))


def test_synthetic_log_equals_pm4py() -> None:
    table = synthetic.generate(3000, seed=11)
    assert_equal_to_pm4py(table, for_pm4py(table))


# ---------------------------------------------------------------------------- order


def results(log: Any) -> tuple[Any, ...]:
    """Every analysis of a log; sums and means (whose last bits depend on the engine's
    parallel summation order) as a separate list, compared to 1e-12."""
    prepared = analytics.prepare(log)
    milestones = analytics.milestone_times(prepared, *milestone_pair(prepared))
    performance = analytics.performance_dfg(prepared)
    exact = (
        analytics.dfg(prepared),
        analytics.variants(prepared),
        [
            (e.source, e.target, e.frequency, e.median_seconds, e.min_seconds, e.max_seconds)
            for e in performance
        ],
        milestones.per_case.to_pylist(),
        milestones.median_seconds,
        milestones.q1_seconds,
    )
    sums = [
        x for e in performance for x in (e.mean_seconds, e.sum_seconds, e.stdev_seconds or 0.0)
    ] + [milestones.mean_seconds or 0.0]
    return exact, sums


def assert_same(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert a[0] == b[0]
    assert len(a[1]) == len(b[1])
    assert all(math.isclose(x, y, rel_tol=1e-12) for x, y in zip(a[1], b[1], strict=True))


def milestone_pair(prepared: analytics.PreparedLog) -> tuple[str, str]:
    names = sorted(analytics.dfg(prepared).activities)
    if "ER Registration" in names:
        return "ER Registration", "Admission NC"
    if "Referral" in names:
        return "Referral", "Birth"
    return names[0], names[1]


@pytest.mark.parametrize("name", ["sepsis", "hospital"])
def test_shuffling_the_rows_of_a_real_log_changes_no_result(name: str) -> None:
    table = real_log(name)
    # The log has events of one case sharing a timestamp: only seq orders them.
    keys = list(zip(table["case_id"].to_pylist(), table["timestamp"].to_pylist(), strict=True))
    assert len(set(keys)) < len(keys)
    expected = results(table)
    for seed in (1, 2):
        order = np.random.default_rng(seed).permutation(table.num_rows)
        shuffled = table.take(pa.array(order))
        assert_same(results(shuffled), expected)
        # Dictionary-encoded columns, chunked differently: still the same.
        coded = pa.Table.from_batches(
            shuffled.set_column(0, "case_id", shuffled["case_id"].dictionary_encode())
            .set_column(1, "activity", shuffled["activity"].dictionary_encode())
            .to_batches(max_chunksize=997)
        )
        assert_same(results(coded), expected)


@needs_sepsis
def test_the_generic_ibis_path_equals_the_arrow_path() -> None:
    table = sepsis()
    via_windows = ibis.memtable(table.select(["case_id", "activity", "timestamp", "seq"]))
    backend = analytics.connect()
    generic, arrow = results(analytics.prepare(via_windows, backend=backend)), results(table)
    # Variants with equal counts are listed in an order fixed by each path's fingerprints.
    assert dict(generic[0][1]) == dict(arrow[0][1])
    strip = (generic[0][0], generic[0][2:]), generic[1]
    assert_same(strip, ((arrow[0][0], arrow[0][2:]), arrow[1]))


def test_same_timestamp_events_follow_the_source_sequence() -> None:
    t = datetime(2020, 1, 1, tzinfo=UTC)
    table = eventlog.make_table(
        ["a", "a", "a", "b", "b"],
        ["Birth", "Separation", "Discharge", "Birth", "Discharge"],
        pa.array([t, t + timedelta(days=2), t + timedelta(days=2), t, t + timedelta(hours=6)]),
        seq=pa.array([0, 2, 1, 3, 4]),
    )
    process_map = analytics.dfg(table)
    assert process_map.edges == [
        analytics.Edge("Birth", "Discharge", 2, (2 * 86400 + 6 * 3600) / 2),
        analytics.Edge("Discharge", "Separation", 1, 0.0),
    ]
    assert process_map.activities == {"Birth": 2, "Discharge": 2, "Separation": 1}
    assert process_map.start_activities == {"Birth": 2}
    assert process_map.end_activities == {"Discharge": 1, "Separation": 1}
    assert (process_map.n_cases, process_map.n_events) == (2, 5)
    assert analytics.variants(table) == [
        (("Birth", "Discharge"), 1),
        (("Birth", "Discharge", "Separation"), 1),
    ]
    performance = analytics.performance_dfg(table)
    assert performance[0].stdev_seconds == pytest.approx(
        math.sqrt(2) * 0.5 * (2 * 86400 - 6 * 3600)
    )
    assert performance[1].stdev_seconds is None


# ---------------------------------------------------------------------------- other analyses


def test_filter_by_frequency() -> None:
    table = synthetic.generate(2000, seed=3)
    full = analytics.dfg(table)
    total = sum(e.frequency for e in full.edges)
    frequent = analytics.filter_by_frequency(full, min_count=500)
    assert frequent.edges and all(e.frequency >= 500 for e in frequent.edges)
    assert len(frequent.edges) < len(full.edges)
    share = analytics.filter_by_frequency(full, keep_share=0.8)
    kept = sum(e.frequency for e in share.edges)
    assert kept >= 0.8 * total
    assert kept - share.edges[-1].frequency < 0.8 * total  # the fewest edges that reach 80%
    rare = min(full.activities, key=lambda a: full.activities[a])
    without = analytics.filter_by_frequency(full, min_activity_count=full.activities[rare] + 1)
    assert rare not in without.activities
    assert all(rare not in (e.source, e.target) for e in without.edges)
    with pytest.raises(ValueError):
        analytics.filter_by_frequency(full, keep_share=0)


def test_milestone_times() -> None:
    t = datetime(2020, 1, 1, tzinfo=UTC)
    day = timedelta(days=1)
    table = eventlog.make_table(
        ["a", "a", "a", "b", "b", "c", "d", "d"],
        ["Birth", "Referral", "Birth", "Referral", "Birth", "Referral", "Referral", "Birth"],
        pa.array([t, t + day, t + 10 * day, t, t + 30 * day, t, t, t]),
    )
    result = analytics.milestone_times(table, "Referral", "Birth")
    assert result.per_case.to_pylist() == [
        {"case_id": "a", "seconds": 9 * 86400.0},  # the Birth before the Referral is ignored
        {"case_id": "b", "seconds": 30 * 86400.0},
        {"case_id": "d", "seconds": 0.0},  # same time, later in the source
    ]
    assert (result.cases_from, result.cases_reached) == (4, 3)
    assert result.median_seconds == 9 * 86400.0
    assert result.min_seconds == 0.0 and result.max_seconds == 30 * 86400.0
    none = analytics.milestone_times(table, "Birth", "Discharge")
    assert (none.cases_from, none.cases_reached, none.median_seconds) == (3, 0, None)


def test_an_empty_log() -> None:
    table = synthetic.generate(0, seed=1)
    assert analytics.dfg(table).edges == []
    assert analytics.variants(table) == []
    assert analytics.performance_dfg(table) == []


def test_prepare_refuses_missing_values() -> None:
    table = pa.table(
        {
            "case_id": ["a", None],
            "activity": ["x", "y"],
            "timestamp": pa.array([0, 1], eventlog.TIMESTAMP_TYPE),
            "seq": [0, 1],
        }
    )
    with pytest.raises(ValueError, match="missing values"):
        analytics.prepare(table)
    with pytest.raises(TypeError):
        analytics.prepare("not a log")  # type: ignore[arg-type]

"""The two real hospital logs, checked against references that share no code with ours.

``test_analytics`` already checks both logs against PM4Py (directly-follows counts, start and
end activities, variants, performance DFG) and shuffles their rows in memory. Here:

* the hospital XES file read by ElementTree (the standard library's parser, guarded by
  defusedxml), events in file order (the file lists each trace's events in time order; its
  dates are day-only, so the file order is the only tie-breaker): directly-follows counts
  and variants equal ours;
* the sepsis CSV read by pandas (``keep_default_na=False`` keeps the case named ``NA``) and
  ordered by case, time and file row: directly-follows counts with median times, variants and
  milestone times computed with pandas equal ours;
* rows shuffled, written to Parquet with their source sequence and read back: every result
  unchanged (the sequence travels with the row, not with its place);
* the hospital log's day-only times: every time between events is a whole number of hours.
"""

from __future__ import annotations

import gzip
import itertools
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from defusedxml import ElementTree as ET

from steppingstones.journeys import analytics, eventlog

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "event-logs"
SEPSIS = DATA / "sepsis.csv"
HOSPITAL = DATA / "Hospital_log.xes.gz"
XES = "{http://www.xes-standard.org/}"


def need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"real log {path.name} not found beside the project (shared/)")


@cache
def sepsis() -> pa.Table:
    need(SEPSIS)
    return eventlog.read_csv(
        SEPSIS, case="Case ID", activity="Activity", timestamp="Complete Timestamp"
    )


@cache
def hospital() -> pa.Table:
    need(HOSPITAL)
    return eventlog.read_xes(HOSPITAL)


@cache
def hospital_traces_in_file_order() -> dict[str, list[str]]:
    """Each trace's event names in file order, by the standard library's parser."""
    need(HOSPITAL)
    traces: dict[str, list[str]] = {}
    with gzip.open(HOSPITAL, "rb") as stream:
        name: str | None = None
        events: list[str] = []
        depth_event = False
        for action, element in ET.iterparse(stream, events=("start", "end")):
            tag = element.tag
            if action == "start":
                if tag == XES + "trace":
                    name, events = None, []
                elif tag == XES + "event":
                    depth_event = True
                continue
            if tag == XES + "string" and element.get("key") == "concept:name":
                if depth_event:
                    events.append(element.get("value", ""))
                elif name is None:
                    name = element.get("value")
            elif tag == XES + "event":
                depth_event = False
                element.clear()
            elif tag == XES + "trace":
                assert name is not None
                traces[name] = events
                element.clear()
    return traces


def pandas_sepsis() -> Any:
    """The sepsis log by pandas, in canonical order: case, time, file row."""
    pd = pytest.importorskip("pandas")
    need(SEPSIS)
    raw = pd.read_csv(SEPSIS, sep=";", dtype=str, keep_default_na=False)
    raw["row"] = np.arange(len(raw))
    raw["t"] = pd.to_datetime(raw["Complete Timestamp"], format="%Y/%m/%d %H:%M:%S.%f")
    return raw.sort_values(["Case ID", "t", "row"], kind="stable").reset_index(drop=True)


def directly_follows(traces: dict[str, list[str]]) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for events in traces.values():
        found.update(itertools.pairwise(events))
    return found


# ---------------------------------------------------------------------------- hospital (XES)


def test_hospital_log_equals_the_file_order_read_by_the_standard_library() -> None:
    traces = hospital_traces_in_file_order()
    assert len(traces) == 1143 and sum(map(len, traces.values())) == 150_291
    process_map = analytics.dfg(hospital())
    assert process_map.counts() == dict(directly_follows(traces))
    assert (process_map.n_cases, process_map.n_events) == (1143, 150_291)
    expected = Counter(tuple(events) for events in traces.values())
    found = analytics.variants(hospital())
    assert dict(found) == dict(expected)
    assert len(found) == len(expected)
    starts = Counter(events[0] for events in traces.values())
    ends = Counter(events[-1] for events in traces.values())
    assert process_map.start_activities == dict(starts)
    assert process_map.end_activities == dict(ends)


def test_hospital_day_only_times_give_whole_hours_and_many_ties() -> None:
    table = hospital()
    prepared = analytics.prepare(table)
    # Midnight in Dutch local time is 22:00 or 23:00 UTC: every gap is whole hours.
    for edge in analytics.performance_dfg(prepared):
        for seconds in (edge.min_seconds, edge.max_seconds, edge.median_seconds * 2):
            assert seconds % 3600 == 0, edge
    zero = sum(e.frequency for e in analytics.performance_dfg(prepared) if e.max_seconds == 0)
    total = sum(e.frequency for e in analytics.dfg(prepared).edges)
    assert zero > total / 3  # many transitions happen "the same day"


# ---------------------------------------------------------------------------- sepsis (CSV)


def test_sepsis_equals_pandas_directly_follows_with_medians_and_variants() -> None:
    df = pandas_sepsis()
    assert "NA" in set(df["Case ID"])
    nxt = df.groupby("Case ID", sort=False)["Activity"].shift(-1)
    dt = (df.groupby("Case ID", sort=False)["t"].shift(-1) - df["t"]).dt.total_seconds()
    moves = df.assign(nxt=nxt, dt=dt).dropna(subset=["nxt"])
    grouped = moves.groupby(["Activity", "nxt"])["dt"]
    expected = {
        key: (int(n), float(m))
        for (key, n), m in zip(grouped.size().items(), grouped.median().tolist(), strict=True)
    }
    process_map = analytics.dfg(sepsis())
    assert {(e.source, e.target): (e.frequency, e.median_seconds) for e in process_map.edges} == (
        expected
    )
    sequences = df.groupby("Case ID", sort=False)["Activity"].agg(tuple)
    found = analytics.variants(sepsis())
    assert dict(found) == dict(Counter(sequences.tolist()))
    assert len(found) == 846 and process_map.n_cases == 1050
    # The case named NA is a case like any other, with its own pathway.
    na = sequences["NA"]
    assert any(v == na for v, _ in found)


@pytest.mark.parametrize(
    ("start", "end"),
    [("ER Registration", "Admission NC"), ("ER Registration", "Release A"), ("CRP", "Leucocytes")],
)
def test_sepsis_milestones_equal_pandas(start: str, end: str) -> None:
    df = pandas_sepsis()
    df["k"] = df.groupby("Case ID", sort=False).cumcount()
    first = df[df["Activity"] == start].groupby("Case ID")[["k", "t"]].first()
    first = first.rename(columns={"k": "k0", "t": "t0"})
    targets = df[df["Activity"] == end].join(first, on="Case ID", how="inner")
    after = targets[targets["k"] > targets["k0"]].groupby("Case ID")[["t", "t0"]].first()
    seconds = (after["t"] - after["t0"]).dt.total_seconds().sort_index()
    result = analytics.milestone_times(sepsis(), start, end)
    assert result.cases_from == len(first)
    assert result.cases_reached == len(seconds)
    assert result.per_case.to_pylist() == [
        {"case_id": case, "seconds": float(s)} for case, s in seconds.items()
    ]
    assert result.median_seconds == float(seconds.median())
    assert result.q1_seconds == pytest.approx(float(seconds.quantile(0.25)), rel=1e-12)
    assert result.q3_seconds == pytest.approx(float(seconds.quantile(0.75)), rel=1e-12)
    assert result.mean_seconds == pytest.approx(float(seconds.mean()), rel=1e-12)
    assert (result.min_seconds, result.max_seconds) == (seconds.min(), seconds.max())


# ---------------------------------------------------------------------------- row order


@pytest.mark.parametrize("name", ["sepsis", "hospital"])
def test_shuffled_rows_through_parquet_give_the_same_results(name: str, tmp_path: Path) -> None:
    table = sepsis() if name == "sepsis" else hospital()
    expected_map = analytics.dfg(table)
    expected_variants = analytics.variants(table)
    expected_performance = analytics.performance_dfg(table)
    order = np.random.default_rng(3).permutation(table.num_rows)
    path = tmp_path / "shuffled.parquet"
    eventlog.write_parquet(table.take(pa.array(order)), path)
    back = eventlog.read_parquet(path)
    assert back["seq"].to_pylist() == table["seq"].take(pa.array(order)).to_pylist()
    assert analytics.dfg(back) == expected_map
    assert analytics.variants(back) == expected_variants
    performance = analytics.performance_dfg(back)
    assert [(e.source, e.target, e.frequency, e.median_seconds) for e in performance] == [
        (e.source, e.target, e.frequency, e.median_seconds) for e in expected_performance
    ]
    # Without the source sequence, ties would fall in shuffled order: the sequence matters.
    without = back.set_column(3, "seq", pa.array(np.arange(back.num_rows), pa.int64()))
    assert analytics.dfg(without).counts() != expected_map.counts()

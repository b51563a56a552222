"""Pathway analytics over an event log: process map, variants, performance, milestones.

The analytics are Ibis expressions over one relation, the *steps* of the log: one row per event
with its case, activity, time, its place ``k`` in the case (0-based) and the activity and
seconds to the next event of the same case (null for the last). Events are ordered canonically
by ``(case_id, timestamp, seq)``, so the order of the rows handed in never matters.

The steps are made in one of two ways, and every analysis after that is the same expression:

* from an Arrow table (the usual case, :mod:`.eventlog` and :mod:`.synthetic` make them): case
  and activity are coded as integers (free for dictionary-encoded columns), the log is checked
  for canonical order in one vectorised pass and sorted by the engine (Ibis ``order_by``) only
  if it is not, and each event's successor is then the next row;
* from an Ibis table on any backend: by window functions partitioned by case and ordered by
  timestamp and ``seq``.

The default backend is an in-memory DuckDB connection (:func:`connect`); pass ``backend=`` to
use another. :func:`prepare` makes the steps once so that several analyses share them.

Durations are in seconds (floats). The results equal PM4Py's ``discover_dfg``, ``get_variants``
and ``discover_performance_dfg`` given the same events in the same canonical order (the tests
and ``bench/journeys_vs_pm4py.py`` check it); PM4Py is not a dependency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TypeAlias

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis import _
from ibis.backends import BaseBackend

from .eventlog import ACTIVITY, CASE, SEQ, TIMESTAMP, TIMESTAMP_TYPE

# Columns of the steps relation.
S_CASE = "case"
S_ACTIVITY = "activity"
S_TIME = "timestamp"
S_K = "k"
S_NEXT = "next_activity"
S_DT = "seconds_to_next"
S_F1 = "fingerprint1"
S_F2 = "fingerprint2"


class Edge(NamedTuple):
    """A directly-follows relation: ``target`` came straight after ``source`` ``frequency``
    times, with the median time between them."""

    source: str
    target: str
    frequency: int
    median_seconds: float


class PerformanceEdge(NamedTuple):
    """Times between directly-following activities (seconds); ``stdev`` is None for one."""

    source: str
    target: str
    frequency: int
    mean_seconds: float
    median_seconds: float
    min_seconds: float
    max_seconds: float
    sum_seconds: float
    stdev_seconds: float | None


Variant: TypeAlias = tuple[tuple[str, ...], int]
"""A pathway variant: the activities of a case in order, and how many cases follow it."""


@dataclass(frozen=True)
class ProcessMap:
    """A directly-follows graph with activity, start and end counts."""

    edges: list[Edge]
    activities: dict[str, int]
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    n_cases: int
    n_events: int

    def counts(self) -> dict[tuple[str, str], int]:
        """``{(source, target): frequency}``, the shape of PM4Py's ``discover_dfg`` graph."""
        return {(e.source, e.target): e.frequency for e in self.edges}


@dataclass(frozen=True)
class MilestoneTimes:
    """Time from the first ``from_activity`` of a case to the first ``to_activity`` after it.

    ``cases_from`` cases have the first milestone, ``cases_reached`` of them the second after
    it; the statistics (seconds) are over those, and ``per_case`` lists them (``case_id``,
    ``seconds``). Statistics are None when no case reached the second milestone.
    """

    from_activity: str
    to_activity: str
    cases_from: int
    cases_reached: int
    median_seconds: float | None
    q1_seconds: float | None
    q3_seconds: float | None
    mean_seconds: float | None
    min_seconds: float | None
    max_seconds: float | None
    per_case: pa.Table = field(repr=False)


def connect(
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
) -> BaseBackend:
    """An in-memory DuckDB backend (the default), optionally with limits and a spill folder."""
    config: dict[str, Any] = {}
    if threads is not None:
        config["threads"] = threads
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if temp_directory is not None:
        config["temp_directory"] = temp_directory
    return ibis.duckdb.connect(**config)


# --------------------------------------------------------------------------------------------
# Preparing the steps


@dataclass(frozen=True)
class PreparedLog:
    """The steps of a log on a backend, made once by :func:`prepare` and shared by analyses.

    For a log prepared from Arrow, cases and activities are integer codes: ``case_names`` and
    ``activity_names`` decode them, and ``codes``/``starts``/``lengths`` (canonical order) spell
    out a case's activities without another query.
    """

    steps: ir.Table
    cases: ir.Table
    backend: BaseBackend
    n_events: int
    n_cases: int
    activity_names: list[str] | None = None
    case_names: pa.Array | None = None
    codes: np.ndarray | None = field(default=None, repr=False)
    starts: np.ndarray | None = field(default=None, repr=False)
    lengths: np.ndarray | None = field(default=None, repr=False)
    run_of_case: np.ndarray | None = field(default=None, repr=False)

    @property
    def coded(self) -> bool:
        return self.activity_names is not None

    def activity_code(self, name: str) -> Any:
        """The value an activity has in the steps (its code, or the name itself)."""
        if self.activity_names is None:
            return name
        try:
            return self.activity_names.index(name)
        except ValueError:
            return -1

    def activity_name(self, value: Any) -> str:
        return str(value) if self.activity_names is None else self.activity_names[int(value)]


Log: TypeAlias = "pa.Table | ir.Table | PreparedLog"


def prepare(log: Log, *, backend: BaseBackend | None = None) -> PreparedLog:
    """The steps of ``log`` (canonical Arrow table, Ibis table, or already prepared)."""
    if isinstance(log, PreparedLog):
        return log
    if isinstance(log, pa.Table):
        return _prepare_arrow(log, backend or connect())
    if isinstance(log, ir.Table):
        if backend is None:
            backend = log._find_backend(use_default=True)
        return _prepare_ibis(log, backend)
    raise TypeError(f"expected an Arrow table, an Ibis table or a PreparedLog, not {type(log)}")


def steps_expr(events: ir.Table) -> ir.Table:
    """The steps of a canonical event table, by window functions (any Ibis backend)."""
    w = ibis.window(group_by=events[CASE], order_by=[events[TIMESTAMP], events[SEQ]])
    following = events[TIMESTAMP].lead().over(w)
    steps = events.select(
        **{
            S_CASE: events[CASE],
            S_ACTIVITY: events[ACTIVITY],
            S_TIME: events[TIMESTAMP],
            S_K: ibis.row_number().over(w),
            S_NEXT: events[ACTIVITY].lead().over(w),
            S_DT: following.delta(events[TIMESTAMP], unit="microsecond") / 1e6,
        }
    )
    text = steps[S_ACTIVITY].cast("string") + "\x1f" + steps[S_K].cast("string")
    return steps.mutate(**{S_F1: text.hash(), S_F2: (text + "\x1e").hash()})


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-mixed 64-bit hash of each uint64 (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _fingerprints(activity: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each (activity, place) pair, as int64.

    When activities × places is small (the usual case) the hashes are looked up in a table
    made once, which is faster than hashing every event."""
    if not activity.size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    width = int(k.max()) + 1
    height = int(activity.max()) + 1
    if width * height <= 4 * activity.size:
        grid_a = np.repeat(np.arange(height, dtype=np.uint64), width)
        grid_k = np.tile(np.arange(width, dtype=np.uint64), height)
        pair = (grid_a << np.uint64(32)) | grid_k
        t1 = _mix(pair + np.uint64(0x9E3779B97F4A7C15)).view(np.int64)
        t2 = _mix(pair ^ np.uint64(0xD6E8FEB86659FD93)).view(np.int64)
        index = activity * np.int32(width) + k
        return np.take(t1, index), np.take(t2, index)
    pair = (activity.astype(np.uint64) << np.uint64(32)) | k.astype(np.uint64)
    f1 = _mix(pair + np.uint64(0x9E3779B97F4A7C15))
    f2 = _mix(pair ^ np.uint64(0xD6E8FEB86659FD93))
    return f1.view(np.int64), f2.view(np.int64)


def cases_expr(steps: ir.Table) -> ir.Table:
    """One row per case: its number of events and two order-aware 64-bit fingerprints of its
    pathway, the XOR over its events of a hash of each (activity, place) pair."""
    return steps.group_by(S_CASE).aggregate(
        n=_.count(), f1=steps[S_F1].bit_xor(), f2=steps[S_F2].bit_xor()
    )


def _prepare_ibis(events: ir.Table, backend: BaseBackend) -> PreparedLog:
    steps = steps_expr(events)
    counts = backend.to_pyarrow(
        events.aggregate(n_events=_.count(), n_cases=events[CASE].nunique())
    ).to_pylist()[0]
    return PreparedLog(
        steps, cases_expr(steps), backend, int(counts["n_events"]), int(counts["n_cases"])
    )


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Integer codes and the dictionary of a string (or dictionary) column."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    column = column.unify_dictionaries() if column.num_chunks > 1 else column
    if column.num_chunks == 0:
        return np.zeros(0, np.int32), pa.array([], pa.string())
    dictionary = column.chunk(0).dictionary
    indices = [chunk.indices for chunk in column.chunks]
    codes = pa.chunked_array(indices).combine_chunks() if len(indices) > 1 else indices[0]
    if dictionary.type != pa.string():
        dictionary = pc.cast(dictionary, pa.string())
    return codes.to_numpy(zero_copy_only=False).astype(np.int32, copy=False), dictionary


def _sorted_codes(codes: np.ndarray, dictionary: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Recode so that codes follow the names' sort order: codes then depend on the names
    alone, not on which row came first, and ordering code tuples orders name tuples."""
    names = dictionary.to_pylist()
    order = sorted(range(len(names)), key=names.__getitem__)
    if order == list(range(len(names))):
        return codes, names
    rank = np.empty(len(names), dtype=np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    return rank[codes], [names[i] for i in order]


def _is_canonical(case: np.ndarray, t: np.ndarray, seq: np.ndarray) -> bool:
    """Whether rows are grouped by case and ordered by (timestamp, seq) in each case: O(n)."""
    if case.size < 2:
        return True
    same = case[1:] == case[:-1]
    later = (t[1:] > t[:-1]) | ((t[1:] == t[:-1]) & (seq[1:] > seq[:-1]))
    if not np.all(later | ~same):
        return False
    run_cases = case[np.flatnonzero(np.concatenate(([True], ~same)))]
    return bool(np.bincount(run_cases).max() == 1)


def _prepare_arrow(table: pa.Table, backend: BaseBackend) -> PreparedLog:
    for name in (CASE, ACTIVITY, TIMESTAMP, SEQ):
        if name not in table.column_names:
            raise ValueError(f"not a canonical event table: no column {name!r}")
        if table[name].null_count:
            raise ValueError(f"column {name!r} has missing values: check the log first")
    case, case_names = _codes(table[CASE])
    activity, activity_names = _sorted_codes(*_codes(table[ACTIVITY]))
    t = pc.cast(pc.cast(table[TIMESTAMP], TIMESTAMP_TYPE), pa.int64())
    t_us = t.to_numpy() if isinstance(t, pa.ChunkedArray) else np.asarray(t)
    seq = table[SEQ].to_numpy().astype(np.int64, copy=False)
    if not _is_canonical(case, t_us, seq):
        order = _canonical_order(case, t_us, seq, backend)
        case, activity, t_us = case[order], activity[order], t_us[order]
    n = case.size
    starts = np.flatnonzero(np.concatenate(([True], case[1:] != case[:-1]))) if n else case[:0]
    lengths = np.diff(np.append(starts, n))
    k = np.arange(n, dtype=np.int32) - np.repeat(starts.astype(np.int32), lengths)
    last = np.zeros(n, dtype=bool)
    if n:
        last[starts[1:] - 1] = True
        last[-1] = True
    following = np.empty(n, dtype=np.int32)
    following[:-1] = activity[1:]
    seconds = np.empty(n, dtype=np.float64)
    seconds[:-1] = (t_us[1:] - t_us[:-1]) / 1e6
    if n:
        following[-1] = 0
        seconds[-1] = 0.0
    f1, f2 = _fingerprints(activity, k)
    cases = pa.table(
        {
            S_CASE: pa.array(case[starts]),
            "n": pa.array(lengths),
            "f1": pa.array(np.bitwise_xor.reduceat(f1, starts) if n else f1),
            "f2": pa.array(np.bitwise_xor.reduceat(f2, starts) if n else f2),
        }
    )
    steps = pa.table(
        {
            S_CASE: pa.array(case),
            S_ACTIVITY: pa.array(activity),
            S_TIME: pa.array(t_us).cast(TIMESTAMP_TYPE),
            S_K: pa.array(k),
            S_NEXT: pa.array(following, mask=last),
            S_DT: pa.array(seconds, mask=last),
        }
    )
    run_of_case = np.full(len(case_names), -1, dtype=np.int64)
    run_of_case[case[starts]] = np.arange(starts.size)
    return PreparedLog(
        steps=ibis.memtable(steps),
        cases=ibis.memtable(cases),
        backend=backend,
        n_events=n,
        n_cases=int(starts.size),
        activity_names=activity_names,
        case_names=case_names,
        codes=activity,
        starts=starts,
        lengths=lengths,
        run_of_case=run_of_case,
    )


def _canonical_order(
    case: np.ndarray, t_us: np.ndarray, seq: np.ndarray, backend: BaseBackend
) -> np.ndarray:
    """The permutation that puts rows in canonical order, sorted by the engine."""
    keys = ibis.memtable(
        pa.table(
            {
                "c": pa.array(case),
                "t": pa.array(t_us),
                "s": pa.array(seq),
                "i": pa.array(np.arange(case.size, dtype=np.int64)),
            }
        )
    )
    ordered = backend.to_pyarrow(keys.order_by(["c", "t", "s"]).select("i"))
    return ordered["i"].to_numpy()


# --------------------------------------------------------------------------------------------
# Analyses


def _edges(prepared: PreparedLog, *, performance: bool) -> pa.Table:
    steps = prepared.steps
    moves = steps.filter(steps[S_NEXT].notnull())
    dt = moves[S_DT]
    metrics: dict[str, Any] = {"count": _.count(), "median": dt.median()}
    if performance:
        metrics.update(
            mean=dt.mean(), min=dt.min(), max=dt.max(), sum=dt.sum(), stdev=dt.std(how="sample")
        )
    expr = moves.group_by([S_ACTIVITY, S_NEXT]).aggregate(**metrics)
    return prepared.backend.to_pyarrow(expr)


def _activity_counts(prepared: PreparedLog) -> tuple[dict[str, int], ...]:
    """Events, case starts and case ends per activity, in one query."""
    steps = prepared.steps
    expr = steps.group_by(S_ACTIVITY).aggregate(
        n=_.count(),
        starts=(steps[S_K] == 0).sum(),
        ends=steps[S_NEXT].isnull().sum(),
    )
    table = prepared.backend.to_pyarrow(expr)
    names = [prepared.activity_name(a) for a in table[S_ACTIVITY].to_pylist()]
    return tuple(
        _sorted_counts((a, int(n)) for a, n in zip(names, table[c].to_pylist(), strict=True) if n)
        for c in ("n", "starts", "ends")
    )


def _sorted_counts(items: Iterable[tuple[str, int]]) -> dict[str, int]:
    return dict(sorted(items, key=lambda item: (-item[1], item[0])))


def dfg(log: Log, *, backend: BaseBackend | None = None) -> ProcessMap:
    """The process map: directly-follows edges with counts and median seconds, activity counts,
    start and end activities. Edges are listed most frequent first."""
    prepared = prepare(log, backend=backend)
    table = _edges(prepared, performance=False)
    name = prepared.activity_name
    edges = [
        Edge(name(a), name(b), int(n), float(m))
        for a, b, n, m in zip(
            table[S_ACTIVITY].to_pylist(),
            table[S_NEXT].to_pylist(),
            table["count"].to_pylist(),
            table["median"].to_pylist(),
            strict=True,
        )
    ]
    edges.sort(key=lambda e: (-e.frequency, e.source, e.target))
    activities, starts, ends = _activity_counts(prepared)
    return ProcessMap(
        edges=edges,
        activities=activities,
        start_activities=starts,
        end_activities=ends,
        n_cases=prepared.n_cases,
        n_events=prepared.n_events,
    )


def performance_dfg(log: Log, *, backend: BaseBackend | None = None) -> list[PerformanceEdge]:
    """Directly-follows edges with the mean, median, min, max, sum and sample standard
    deviation of the seconds between the two activities, most frequent first."""
    prepared = prepare(log, backend=backend)
    table = _edges(prepared, performance=True)
    name = prepared.activity_name
    columns = [
        table[c].to_pylist()
        for c in (S_ACTIVITY, S_NEXT, "count", "mean", "median", "min", "max", "sum", "stdev")
    ]
    edges = [
        PerformanceEdge(
            name(a),
            name(b),
            int(n),
            float(mean),
            float(med),
            float(lo),
            float(hi),
            float(tot),
            None if sd is None or np.isnan(sd) else float(sd),
        )
        for a, b, n, mean, med, lo, hi, tot, sd in zip(*columns, strict=True)
    ]
    edges.sort(key=lambda e: (-e.frequency, e.source, e.target))
    return edges


def _variant_keys(prepared: PreparedLog) -> ir.Table:
    """Cases grouped by pathway (length and fingerprints), with a representative case each.

    The fingerprints need no ordered aggregate; with two independent 64-bit ones, merging two
    different variants by chance is as unlikely as a 128-bit hash collision.
    """
    cases = prepared.cases
    return cases.group_by(["n", "f1", "f2"]).aggregate(
        count=_.count(), representative=cases[S_CASE].min()
    )


def variants(log: Log, *, backend: BaseBackend | None = None) -> list[Variant]:
    """Pathway variants as ``(activities, count)``, most frequent first.

    Variants with equal counts come shortest first, then in a fixed order set by their
    fingerprints (which depend on the activities alone, not on the order of the rows).
    """
    prepared = prepare(log, backend=backend)
    keys = prepared.backend.to_pyarrow(_variant_keys(prepared))
    counts = keys["count"].to_numpy()
    order = np.lexsort(
        (keys["f2"].to_numpy(), keys["f1"].to_numpy(), keys["n"].to_numpy(), -counts)
    )
    reps = keys["representative"].take(pa.array(order)).to_pylist()
    if prepared.coded:
        sequences = _sequences_from_arrays(prepared, reps)
    else:
        found = _sequences_from_engine(prepared, reps)
        sequences = [found[r] for r in reps]
    return list(zip(sequences, counts[order].tolist(), strict=True))


def _sequences_from_arrays(prepared: PreparedLog, cases: list[Any]) -> list[tuple[str, ...]]:
    assert prepared.codes is not None and prepared.starts is not None
    assert prepared.lengths is not None and prepared.run_of_case is not None
    assert prepared.activity_names is not None
    runs = prepared.run_of_case[np.asarray(cases, dtype=np.int64)]
    starts, lengths = prepared.starts[runs], prepared.lengths[runs]
    # Gather the rows of the representative cases in one go, then cut them into tuples.
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    rows = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    names = np.asarray(prepared.activity_names, dtype=object)[prepared.codes[rows]].tolist()
    bounds = offsets.tolist()
    return [tuple(names[bounds[i] : bounds[i + 1]]) for i in range(len(cases))]


def _sequences_from_engine(prepared: PreparedLog, cases: list[Any]) -> dict[Any, tuple[str, ...]]:
    steps = prepared.steps
    chosen = steps.filter(steps[S_CASE].isin(cases))
    expr = chosen.group_by(S_CASE).aggregate(acts=chosen[S_ACTIVITY].collect(order_by=chosen[S_K]))
    table = prepared.backend.to_pyarrow(expr)
    return {
        case: tuple(prepared.activity_name(a) for a in acts)
        for case, acts in zip(table[S_CASE].to_pylist(), table["acts"].to_pylist(), strict=True)
    }


def filter_by_frequency(
    process_map: ProcessMap,
    *,
    min_count: int = 1,
    keep_share: float | None = None,
    min_activity_count: int = 1,
) -> ProcessMap:
    """A process map with only its frequent parts.

    Activities seen fewer than ``min_activity_count`` times go, with their edges; edges seen
    fewer than ``min_count`` times go; with ``keep_share`` (0–1], only the most frequent edges
    that together make up at least that share of all transitions stay. Start and end counts
    are kept for the remaining activities.
    """
    if keep_share is not None and not 0 < keep_share <= 1:
        raise ValueError("keep_share must be in (0, 1]")
    activities = {a: n for a, n in process_map.activities.items() if n >= min_activity_count}
    edges = [
        e
        for e in process_map.edges
        if e.frequency >= min_count and e.source in activities and e.target in activities
    ]
    if keep_share is not None and edges:
        total = sum(e.frequency for e in process_map.edges)
        kept, running = [], 0
        for edge in sorted(edges, key=lambda e: (-e.frequency, e.source, e.target)):
            if running >= keep_share * total:
                break
            kept.append(edge)
            running += edge.frequency
        edges = kept
    return replace(
        process_map,
        edges=edges,
        activities=activities,
        start_activities={a: n for a, n in process_map.start_activities.items() if a in activities},
        end_activities={a: n for a, n in process_map.end_activities.items() if a in activities},
    )


def milestone_times(
    log: Log, from_activity: str, to_activity: str, *, backend: BaseBackend | None = None
) -> MilestoneTimes:
    """Time between milestones: from the first ``from_activity`` of each case to the first
    ``to_activity`` that follows it (in canonical order)."""
    prepared = prepare(log, backend=backend)
    steps = prepared.steps
    code_from = prepared.activity_code(from_activity)
    code_to = prepared.activity_code(to_activity)
    firsts = (
        steps.filter(steps[S_ACTIVITY] == code_from)
        .group_by(S_CASE)
        .aggregate(k0=_[S_K].min(), t0=_[S_TIME].min())
    )
    targets = steps.filter(steps[S_ACTIVITY] == code_to)
    joined = targets.inner_join(firsts, S_CASE)
    reached = (
        joined.filter(joined[S_K] > joined["k0"])
        .group_by(S_CASE)
        .aggregate(t0=_["t0"].min(), t1=_[S_TIME].min())
    )
    per_case = reached.select(
        S_CASE, seconds=reached["t1"].delta(reached["t0"], unit="microsecond") / 1e6
    )
    s = per_case["seconds"]
    summary_expr = per_case.aggregate(
        n=_.count(),
        median=s.median(),
        q1=s.quantile(0.25),
        q3=s.quantile(0.75),
        mean=s.mean(),
        min=s.min(),
        max=s.max(),
    )
    backend_ = prepared.backend
    summary = backend_.to_pyarrow(summary_expr).to_pylist()[0]
    n_from = backend_.to_pyarrow(firsts.aggregate(n=_.count()))["n"][0].as_py()
    rows = backend_.to_pyarrow(per_case.order_by(S_CASE))
    cases = rows[S_CASE]
    if prepared.case_names is not None:
        cases = prepared.case_names.take(cases)
    table = pa.table({CASE: pc.cast(cases, pa.string()), "seconds": rows["seconds"]})
    table = table.take(pc.sort_indices(table, [(CASE, "ascending")]))

    def number(key: str) -> float | None:
        value = summary[key]
        return None if value is None else float(value)

    return MilestoneTimes(
        from_activity=from_activity,
        to_activity=to_activity,
        cases_from=int(n_from),
        cases_reached=int(summary["n"]),
        median_seconds=number("median"),
        q1_seconds=number("q1"),
        q3_seconds=number("q3"),
        mean_seconds=number("mean"),
        min_seconds=number("min"),
        max_seconds=number("max"),
        per_case=table,
    )

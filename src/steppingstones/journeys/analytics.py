"""Pathway analytics over an event log: process map, variants, performance, milestones.

The analytics are Ibis expressions over one relation, the *steps* of the log: one row per
event with its case, activity (an integer code; codes follow the names' sort order), time, its
place ``k`` in the case (0-based) and the activity and seconds to the next event of the same
case (null for the last). Events are ordered canonically by ``(case_id, timestamp, seq)``, so
the order of the rows handed in never matters.

The steps are made in one of two ways, and every analysis after that is the same expression:

* ``"arrow"``, for an Arrow table (:mod:`.eventlog` and :mod:`.synthetic` make them) on
  DuckDB: case and activity are coded as integers (free for dictionary-encoded columns), the
  log is checked for canonical order in one vectorised pass and sorted by the engine (Ibis
  ``order_by``) only if it is not, and each event's successor is then the next row;
* ``"windows"``, for an Ibis table on any backend, or an Arrow table sent to one that is not
  DuckDB (Spark): by window functions partitioned by case and ordered by timestamp and
  ``seq``, all in the engine.

The default backend is an in-memory DuckDB connection (:func:`connect`, see
:mod:`.backends`); pass ``backend=`` to use another, such as Spark. :func:`prepare` makes the
steps once so that several analyses share them. Both ways, and both backends, give the same
results (the tests check it on the real hospital logs and on synthetic ones).

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

from . import backends
from .eventlog import ACTIVITY, CASE, SEQ, TIMESTAMP, TIMESTAMP_TYPE

# Columns of the steps relation.
S_CASE = "case"
S_ACTIVITY = "activity"
S_TIME = "timestamp"
S_K = "k"
S_NEXT = "next_activity"
S_DT = "seconds_to_next"
S_PATHWAY = "pathway"
METHODS = ("auto", "arrow", "windows")


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
    memory_limit: str | None = "default",
    temp_directory: str | None = None,
) -> BaseBackend:
    """An in-memory DuckDB backend (the default): see :func:`.backends.duckdb`."""
    return backends.duckdb(
        threads=threads, memory_limit=memory_limit, temp_directory=temp_directory
    )


# --------------------------------------------------------------------------------------------
# Preparing the steps


@dataclass(frozen=True)
class PreparedLog:
    """The steps of a log on a backend, made once by :func:`prepare` and shared by analyses.

    Activities are integer codes in the steps, decoded by ``activity_names``. For a log
    prepared from Arrow, cases are codes too (``case_names`` decodes them), ``cases`` holds
    two order-aware fingerprints of each case's pathway, and ``codes``/``starts``/``lengths``
    (canonical order) spell out a case's activities without another query. Prepared by window
    functions, ``cases`` holds each case's pathway itself as a sorted list of
    ``k * len(activity_names) + code``.
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

    @property
    def method(self) -> str:
        """``"arrow"`` or ``"windows"``: how the steps were made."""
        return "arrow" if self.codes is not None else "windows"

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


def prepare(log: Log, *, backend: BaseBackend | None = None, method: str = "auto") -> PreparedLog:
    """The steps of ``log`` (canonical Arrow table, Ibis table, or already prepared).

    ``method`` is ``"arrow"`` (an Arrow table on DuckDB), ``"windows"`` (window functions in
    the engine, for any backend) or ``"auto"``: ``"arrow"`` for an Arrow table on DuckDB,
    ``"windows"`` otherwise. An Arrow table handed to a backend other than DuckDB is sent to it
    (case, activity, timestamp and seq only) and prepared there.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    if isinstance(log, PreparedLog):
        return log
    if isinstance(log, pa.Table):
        backend = backend or connect()
        on_duckdb = backends.backend_name(backend) == "duckdb"
        if method == "arrow" or (method == "auto" and on_duckdb):
            return _prepare_arrow(log, backend)
        return _prepare_ibis(backends.upload(backend, _core_columns(log)), backend)
    if isinstance(log, ir.Table):
        if method == "arrow":
            raise ValueError("method 'arrow' needs an Arrow table")
        if backend is None:
            backend = log._find_backend(use_default=True)
        return _prepare_ibis(log, backend)
    raise TypeError(f"expected an Arrow table, an Ibis table or a PreparedLog, not {type(log)}")


def _core_columns(table: pa.Table) -> pa.Table:
    """Case, activity (plain strings), timestamp (UTC, microseconds) and seq (int64)."""
    for name in (CASE, ACTIVITY, TIMESTAMP, SEQ):
        if name not in table.column_names:
            raise ValueError(f"not a canonical event table: no column {name!r}")
        if table[name].null_count:
            raise ValueError(f"column {name!r} has missing values: check the log first")
    return pa.table(
        {
            CASE: pc.cast(table[CASE], pa.string()),
            ACTIVITY: pc.cast(table[ACTIVITY], pa.string()),
            TIMESTAMP: pc.cast(table[TIMESTAMP], TIMESTAMP_TYPE),
            SEQ: pc.cast(table[SEQ], pa.int64()),
        }
    )


def steps_expr(events: ir.Table) -> ir.Table:
    """The steps of a canonical event table, by window functions (any Ibis backend).

    The ``activity`` column is taken as it is: a name, or a code as :func:`prepare` makes."""
    w = ibis.window(group_by=events[CASE], order_by=[events[TIMESTAMP], events[SEQ]])
    following = events[TIMESTAMP].lead().over(w)
    return events.select(
        **{
            S_CASE: events[CASE],
            S_ACTIVITY: events[ACTIVITY],
            S_TIME: events[TIMESTAMP],
            S_K: ibis.row_number().over(w),
            S_NEXT: events[ACTIVITY].lead().over(w),
            S_DT: following.delta(events[TIMESTAMP], unit="microsecond").cast("float64") / 1e6,
        }
    )


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


def cases_expr(steps: ir.Table, n_activities: int) -> ir.Table:
    """One row per case: its number of events and its pathway, exactly, as the sorted list of
    ``k * n_activities + activity code`` over its events (no ordered aggregate needed)."""
    key = steps[S_K].cast("int64") * n_activities + steps[S_ACTIVITY].cast("int64")
    cases = steps.group_by(S_CASE).aggregate(n=_.count(), keys=key.collect())
    return cases.select(S_CASE, "n", **{S_PATHWAY: cases["keys"].sort()})


def _prepare_ibis(events: ir.Table, backend: BaseBackend) -> PreparedLog:
    for name in (CASE, ACTIVITY, TIMESTAMP, SEQ):
        if name not in events.columns:
            raise ValueError(f"not a canonical event table: no column {name!r}")
    names_table = backend.to_pyarrow(events.select(ACTIVITY).distinct())
    names = sorted(str(a) for a in names_table[ACTIVITY].to_pylist() if a is not None)
    lookup = backends.upload(
        backend,
        pa.table(
            {
                "__name": pa.array(names, pa.string()),
                "__code": pa.array(range(len(names)), pa.int32()),
            }
        ),
    )
    coded = events.inner_join(lookup, events[ACTIVITY] == lookup["__name"]).select(
        **{CASE: _[CASE], ACTIVITY: _["__code"], TIMESTAMP: _[TIMESTAMP], SEQ: _[SEQ]}
    )
    missing = (
        events[CASE].isnull()
        | events[ACTIVITY].isnull()
        | events[TIMESTAMP].isnull()
        | events[SEQ].isnull()
    )
    counts = backend.to_pyarrow(
        events.aggregate(
            n_events=_.count(), n_cases=events[CASE].nunique(), missing=missing.cast("int64").sum()
        )
    ).to_pylist()[0]
    if counts["missing"]:
        raise ValueError(
            f"{counts['missing']} events have missing values in {CASE}, {ACTIVITY}, "
            f"{TIMESTAMP} or {SEQ}: check the log first"
        )
    steps = backends.materialize(backend, steps_expr(coded))
    return PreparedLog(
        steps,
        cases_expr(steps, max(1, len(names))),
        backend,
        int(counts["n_events"]),
        int(counts["n_cases"]),
        activity_names=names,
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
        steps=backends.upload(backend, steps, "steps"),
        cases=backends.upload(backend, cases, "cases"),
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
    keys = backends.upload(
        backend,
        pa.table(
            {
                "c": pa.array(case),
                "t": pa.array(t_us),
                "s": pa.array(seq),
                "i": pa.array(np.arange(case.size, dtype=np.int64)),
            }
        ),
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


def variants(log: Log, *, backend: BaseBackend | None = None) -> list[Variant]:
    """Pathway variants as ``(activities, count)``, most frequent first.

    Variants with equal counts are listed in the order of their activities (compared name by
    name, a variant before its own extensions), so the list depends on the log alone: not on
    the order of its rows, the way it was prepared or the backend.
    """
    prepared = prepare(log, backend=backend)
    if prepared.method == "arrow":
        counts, codes, offsets = _variants_arrow(prepared)
    else:
        counts, codes, offsets = _variants_windows(prepared)
    order = canonical_variant_order(counts, codes, offsets)
    assert prepared.activity_names is not None
    names = np.asarray(prepared.activity_names, dtype=object)[codes].tolist()
    bounds = offsets.tolist()
    return [(tuple(names[bounds[i] : bounds[i + 1]]), int(counts[i])) for i in order.tolist()]


def _variants_arrow(prepared: PreparedLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts, and the activity codes of each variant (flat, with offsets), for a log prepared
    from Arrow: cases are grouped in the engine by length and two order-aware 64-bit
    fingerprints (the XOR over the case's events of two independent hashes of each (activity,
    place) pair; merging two different variants by chance is as unlikely as a 128-bit hash
    collision), and one representative case of each group spells out its activities."""
    assert prepared.codes is not None and prepared.starts is not None
    assert prepared.lengths is not None and prepared.run_of_case is not None
    cases = prepared.cases
    keys = prepared.backend.to_pyarrow(
        cases.group_by(["n", "f1", "f2"]).aggregate(
            count=_.count(), representative=cases[S_CASE].min()
        )
    )
    counts = keys["count"].to_numpy().astype(np.int64, copy=False)
    reps = keys["representative"].to_numpy().astype(np.int64, copy=False)
    runs = prepared.run_of_case[reps]
    starts, lengths = prepared.starts[runs], prepared.lengths[runs]
    # Gather the rows of the representative cases in one go.
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    rows = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    return counts, prepared.codes[rows], offsets


def _variants_windows(prepared: PreparedLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts and activity codes of each variant, grouped exactly in the engine by pathway."""
    assert prepared.activity_names is not None
    n_activities = max(1, len(prepared.activity_names))
    cases = prepared.cases
    table = prepared.backend.to_pyarrow(cases.group_by(S_PATHWAY).aggregate(count=_.count()))
    counts = table["count"].to_numpy().astype(np.int64, copy=False)
    pathways = table[S_PATHWAY].combine_chunks()
    if not len(pathways):
        return counts, np.zeros(0, np.int64), np.zeros(1, np.int64)
    offsets = pathways.offsets.to_numpy().astype(np.int64)
    flat = pathways.values.to_numpy().astype(np.int64)[offsets[0] : offsets[-1]]
    return counts, flat % n_activities, offsets - offsets[0]


def canonical_variant_order(
    counts: np.ndarray, codes: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """The order of variants by count (descending), then by their activity codes compared
    lexicographically (a prefix first). Codes follow the names' sort order, so this is the
    order of the names too.

    Each variant becomes a zero-padded row of its codes plus one (so the padding sorts first),
    as big-endian bytes packed into 64-bit words; sorting the rows by their words, first word
    first, is lexicographic order.
    """
    n = counts.size
    if n == 0:
        return np.zeros(0, np.int64)
    lengths = np.diff(offsets)
    width = max(1, int(lengths.max()))
    top = int(codes.max()) + 1 if codes.size else 1
    dtype = np.dtype(">u1") if top < 2**8 else np.dtype(">u2") if top < 2**16 else np.dtype(">u4")
    row_bytes = -(-width * dtype.itemsize // 8) * 8
    if n * row_bytes > 512 * 2**20:  # very long cases: compare in Python instead
        bounds = offsets.tolist()
        flat = codes.tolist()
        by_sequence = sorted(range(n), key=lambda i: flat[bounds[i] : bounds[i + 1]])
        rank = np.empty(n, np.int64)
        rank[np.asarray(by_sequence, dtype=np.int64)] = np.arange(n)
        return np.lexsort((rank, -counts.astype(np.int64)))
    padded = np.zeros((n, row_bytes // dtype.itemsize), dtype=dtype)
    row = np.repeat(np.arange(n), lengths)
    column = np.arange(codes.size) - np.repeat(offsets[:-1], lengths)
    padded[row, column] = codes.astype(np.int64) + 1
    words = padded.view(">u8").astype(np.uint64)
    keys = [words[:, j] for j in range(words.shape[1] - 1, -1, -1)]
    return np.lexsort((*keys, -counts.astype(np.int64)))


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
    micros = reached["t1"].delta(reached["t0"], unit="microsecond").cast("float64")
    per_case = reached.select(S_CASE, seconds=micros / 1e6)
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

"""The same analytics on DuckDB and on Spark (local mode) give the same results.

Every result is compared in full: process map (edges, activity, start and end counts), the
performance DFG, the variants in their order and the milestone tables case by case. Sums and
means, whose last bits depend on each engine's summation order, are compared to a relative
1e-12; everything else exactly. The Spark tests share one local session per module and skip,
saying why, only where Spark cannot start (no Java runtime or no pyspark).
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pytest

from steppingstones.journeys import analytics, backends, eventlog, synthetic

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "event-logs"
SEPSIS = DATA / "sepsis.csv"
HOSPITAL = DATA / "Hospital_log.xes.gz"

# PySpark 4.0's own pandas conversions use a keyword pandas 3 deprecates: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")

SPARK_OK, SPARK_REASON = backends.spark_available()
needs_spark = pytest.mark.skipif(not SPARK_OK, reason=f"Spark cannot start: {SPARK_REASON}")


@cache
def sepsis() -> pa.Table:
    return eventlog.read_csv(
        SEPSIS, case="Case ID", activity="Activity", timestamp="Complete Timestamp"
    )


@cache
def hospital() -> pa.Table:
    return eventlog.read_xes(HOSPITAL)


def real_log(name: str) -> pa.Table:
    path = SEPSIS if name == "sepsis" else HOSPITAL
    if not path.exists():
        pytest.skip(f"real log {path.name} not found beside the project (shared/)")
    return sepsis() if name == "sepsis" else hospital()


def first_cases(table: pa.Table, n: int) -> pa.Table:
    """The events of the first ``n`` cases in the file (a sample that keeps whole cases)."""
    cases = pa.array(list(dict.fromkeys(table["case_id"].to_pylist()))[:n])
    return table.filter(pa.compute.is_in(table["case_id"], value_set=cases))


MILESTONES = {
    "sepsis": [("ER Registration", "Admission NC"), ("ER Triage", "Release A")],
    "hospital": [
        ("vervolgconsult poliklinisch", "aanname laboratoriumonderzoek"),
        ("1e consult poliklinisch", "ligdagen - alle spec.beh.kinderg.-reval."),
    ],
    "synthetic": [("Referral", "Birth"), ("Birth", "Discharge"), ("Birth", "Separation")],
}


def results(log: pa.Table, backend: Any, pairs: list[tuple[str, str]], **kw: Any) -> Any:
    """(exact results, floating sums) of every analysis on one backend."""
    prepared = analytics.prepare(log, backend=backend, **kw)
    process_map = analytics.dfg(prepared)
    performance = analytics.performance_dfg(prepared)
    milestones = [analytics.milestone_times(prepared, a, b) for a, b in pairs]
    exact = (
        process_map,
        analytics.variants(prepared),
        [
            (e.source, e.target, e.frequency, e.median_seconds, e.min_seconds, e.max_seconds)
            for e in performance
        ],
        [
            (
                m.cases_from,
                m.cases_reached,
                m.median_seconds,
                m.q1_seconds,
                m.q3_seconds,
                m.min_seconds,
                m.max_seconds,
                m.per_case.to_pylist(),
            )
            for m in milestones
        ],
    )
    sums = [x for e in performance for x in (e.mean_seconds, e.sum_seconds)]
    sums += [e.stdev_seconds if e.stdev_seconds is not None else -1.0 for e in performance]
    sums += [m.mean_seconds if m.mean_seconds is not None else -1.0 for m in milestones]
    return exact, sums, prepared.method


def assert_same(a: Any, b: Any) -> None:
    assert a[0][0] == b[0][0]  # process map
    assert a[0][1] == b[0][1]  # variants, in order
    assert a[0][2] == b[0][2]  # performance DFG
    assert a[0][3] == b[0][3]  # milestones
    assert len(a[1]) == len(b[1])
    for x, y in zip(a[1], b[1], strict=True):
        assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9)


# ---------------------------------------------------------------------------- DuckDB


def test_duckdb_backend_has_a_memory_limit_and_a_spill_folder(tmp_path: Path) -> None:
    con = backends.duckdb(memory_limit="1GB", temp_directory=str(tmp_path), threads=1)
    limit, folder, threads = con.raw_sql(  # type: ignore[attr-defined]
        "select current_setting('memory_limit'), current_setting('temp_directory'), "
        "current_setting('threads')"
    ).fetchone()
    assert limit in ("953.6 MiB", "1.0 GB", "1000.0 MB") and folder == str(tmp_path)
    assert threads == 1
    default = backends.duckdb()
    limit, folder = default.raw_sql(  # type: ignore[attr-defined]
        "select current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    total = backends.total_memory_bytes()
    assert total is not None
    value, unit = limit.split()
    scale = {"MiB": 2**20, "GiB": 2**30, "MB": 10**6, "GB": 10**9}[unit]
    assert float(value) * scale == pytest.approx(0.6 * total, rel=0.01)
    assert Path(folder).parent.is_dir() and "steppingstones-duckdb-" in folder
    with pytest.raises(ValueError, match="unknown backend"):
        backends.connect("oracle")


def test_a_small_memory_limit_spills_instead_of_failing(tmp_path: Path) -> None:
    table = synthetic.generate(30_000, seed=5)
    shuffled = table.take(pa.array(np.random.default_rng(5).permutation(table.num_rows)))
    small = backends.duckdb(memory_limit="120MB", temp_directory=str(tmp_path), threads=2)
    expected = results(table, backends.duckdb(), MILESTONES["synthetic"])
    # The windows path sorts 600k events in the engine, within 120 MB.
    got = results(shuffled, small, MILESTONES["synthetic"], method="windows")
    assert got[2] == "windows"
    assert_same(got, expected)


@pytest.mark.parametrize("name", ["sepsis", "hospital"])
def test_window_functions_equal_the_arrow_path_on_duckdb(name: str) -> None:
    table = real_log(name)
    arrow = results(table, backends.duckdb(), MILESTONES[name])
    windows = results(table, backends.duckdb(), MILESTONES[name], method="windows")
    assert (arrow[2], windows[2]) == ("arrow", "windows")
    assert_same(windows, arrow)
    # An Ibis table handed in goes the windows way too.
    con = backends.duckdb()
    as_ibis = ibis.memtable(table.select(["case_id", "activity", "timestamp", "seq"]))
    assert_same(results(as_ibis, con, MILESTONES[name]), arrow)  # type: ignore[arg-type]


def test_windows_path_refuses_missing_values_and_unknown_methods() -> None:
    events = ibis.memtable(
        pa.table(
            {
                "case_id": ["a", None],
                "activity": ["x", "y"],
                "timestamp": pa.array([0, 1], eventlog.TIMESTAMP_TYPE),
                "seq": [0, 1],
            }
        )
    )
    with pytest.raises(ValueError, match="missing values"):
        analytics.prepare(events, backend=backends.duckdb())
    with pytest.raises(ValueError, match="unknown method"):
        analytics.prepare(synthetic.generate(3, seed=1), method="fast")
    with pytest.raises(ValueError, match="needs an Arrow table"):
        analytics.prepare(events, method="arrow")


def test_variants_with_equal_counts_are_in_the_order_of_their_activities() -> None:
    table = synthetic.generate(3000, seed=2)
    found = analytics.variants(table)
    counts = [n for _, n in found]
    assert counts == sorted(counts, reverse=True)
    for (a, n), (b, m) in itertools.pairwise(found):
        if n == m:
            assert a < b  # Python's tuple order: name by name, a prefix first
    assert len({v for v, _ in found}) == len(found)


# ---------------------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if not SPARK_OK:
        pytest.skip(f"Spark cannot start: {SPARK_REASON}")
    session = backends.spark_session(cores=2, driver_memory="2g")
    yield backends.spark(session)
    session.stop()


@needs_spark
def test_spark_session_settings(spark: Any) -> None:
    conf = spark._session.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.shuffle.partitions") == "4"
    assert backends.backend_name(spark) == "spark"


@needs_spark
@pytest.mark.parametrize("name", ["sepsis", "hospital"])
def test_spark_equals_duckdb_on_a_real_log(spark: Any, name: str) -> None:
    table = real_log(name)
    if name == "hospital":
        table = first_cases(table, 150)  # 150 whole cases, ~20,000 events: keeps Spark quick
    expected = results(table, backends.duckdb(), MILESTONES[name])
    # Rows shuffled before they reach Spark: Spark orders them itself.
    order = np.random.default_rng(7).permutation(table.num_rows)
    got = results(table.take(pa.array(order)), spark, MILESTONES[name])
    assert got[2] == "windows" and expected[2] == "arrow"
    assert_same(got, expected)


@needs_spark
def test_spark_equals_duckdb_on_a_synthetic_log(spark: Any) -> None:
    table = synthetic.generate(1500, seed=9)
    expected = results(table, backends.duckdb(), MILESTONES["synthetic"])
    assert_same(results(table, spark, MILESTONES["synthetic"]), expected)
    # The Arrow-made steps, sent to Spark, give the same too.
    assert_same(results(table, spark, MILESTONES["synthetic"], method="arrow"), expected)


@needs_spark
def test_spark_reads_parquet_itself_and_agrees(spark: Any, tmp_path: Path) -> None:
    table = synthetic.generate(1500, seed=4)
    path = tmp_path / "log.parquet"
    eventlog.write_parquet(table, path)
    events = spark.read_parquet(str(path))
    got = results(events, spark, MILESTONES["synthetic"])
    assert_same(got, results(table, backends.duckdb(), MILESTONES["synthetic"]))


@needs_spark
def test_dfg_command_on_spark_prints_what_duckdb_prints() -> None:
    if not SEPSIS.exists():
        pytest.skip(f"real log {SEPSIS.name} not found beside the project (shared/)")
    columns = ["--case", "Case ID", "--activity", "Activity", "--timestamp", "Complete Timestamp"]
    base = [sys.executable, "-m", "steppingstones.cli", "journeys", "dfg", str(SEPSIS), *columns]
    outputs = []
    for backend in ("duckdb", "spark"):
        done = subprocess.run(
            [*base, "--backend", backend, "--quiet", "--threads", "2"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith("source,target,count,median_seconds\n")

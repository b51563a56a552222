"""Where the pathway analytics run: embedded DuckDB by default, Apache Spark for big data.

The analytics in :mod:`.analytics` are Ibis expressions; they run unchanged on either backend.

* :func:`duckdb` — an in-memory DuckDB database in this process, with a memory limit and a
  folder to spill to when a sort or aggregation outgrows it. The default everywhere.
* :func:`spark` — a PySpark backend; by default on a local Spark session made by
  :func:`spark_session` (all cores of this machine, UTC session time zone, no web UI, Arrow
  transfers, a spill folder), or on any session you hand in, for example one attached to a
  cluster.

:func:`connect` picks one by name (``"duckdb"`` or ``"spark"``), as the command line does.
Spark needs a Java runtime (17 or later) and the ``pyspark`` package; :func:`spark_available`
says whether both are here and, if not, why.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import uuid
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

BACKENDS = ("duckdb", "spark")
DEFAULT_MEMORY_SHARE = 0.6


def total_memory_bytes() -> int | None:
    """Physical memory of this machine, or None where it cannot be read."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_limit(share: float = DEFAULT_MEMORY_SHARE) -> str | None:
    """``share`` of physical memory as a DuckDB size (``"14GiB"``), None if unknown."""
    total = total_memory_bytes()
    if total is None:
        return None
    return f"{max(1, int(total * share) // 2**20)}MiB"


_SPILL_PARENTS: dict[str, str] = {}


def _spill_directory(prefix: str) -> str:
    """A private folder for one engine's spill files, inside one temporary folder per process
    (made on first use, removed at exit). The engine creates its own folder only if it spills,
    so a connection that never spills leaves nothing behind."""
    parent = _SPILL_PARENTS.get(prefix)
    if parent is None or not os.path.isdir(parent):
        parent = tempfile.mkdtemp(prefix=prefix)
        atexit.register(shutil.rmtree, parent, ignore_errors=True)
        _SPILL_PARENTS[prefix] = parent
    return os.path.join(parent, uuid.uuid4().hex)


def duckdb(
    *,
    threads: int | None = None,
    memory_limit: str | None = "default",
    temp_directory: str | None = None,
) -> BaseBackend:
    """An in-memory DuckDB backend.

    ``memory_limit`` is a DuckDB size (``"8GB"``); ``"default"`` means 60% of physical memory,
    None DuckDB's own default. ``temp_directory`` is where DuckDB spills what does not fit; by
    default a private temporary folder removed at exit.
    """
    config: dict[str, Any] = {}
    if threads is not None:
        config["threads"] = threads
    if memory_limit == "default":
        memory_limit = default_memory_limit()
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    config["temp_directory"] = temp_directory or _spill_directory("steppingstones-duckdb-")
    # Insertion order is not needed by any analysis (every result is ordered explicitly), and
    # dropping it lets DuckDB stream big aggregations within the memory limit.
    config["preserve_insertion_order"] = False
    return ibis.duckdb.connect(**config)


def java_version() -> str | None:
    """The first line of ``java -version`` (JAVA_HOME's java first), None without Java."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else None


def spark_available() -> tuple[bool, str]:
    """Whether a local Spark session can start here, and the reason when it cannot."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False, "the pyspark package is not installed (pip install 'ibis-framework[pyspark]')"
    if java_version() is None:
        return False, "no Java runtime: Spark needs java 17 or later on PATH or in JAVA_HOME"
    return True, ""


def spark_session(
    *,
    cores: int | None = None,
    driver_memory: str | None = None,
    shuffle_partitions: int | None = None,
    local_directory: str | None = None,
    app_name: str = "steppingstones-journeys",
) -> Any:
    """A local Spark session with settings that suit one machine.

    ``local[cores]`` (all cores by default); the driver (which is also the only executor in
    local mode) gets ``driver_memory``, by default half of physical memory; shuffles use
    ``shuffle_partitions`` partitions (default: twice the cores, instead of Spark's 200, which
    only adds overhead on one machine); times are in UTC; the web UI is off; Arrow carries data
    between Python and the JVM; shuffle and spill files go to ``local_directory`` (a private
    temporary folder by default). An existing active session is returned as it is: Spark allows
    one per process.
    """
    ok, reason = spark_available()
    if not ok:
        raise RuntimeError(f"Spark cannot start: {reason}")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    cores = cores or os.cpu_count() or 1
    if driver_memory is None:
        total = total_memory_bytes()
        driver_memory = f"{max(1024, (total or 2**31) // 2 // 2**20)}m"
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or 2 * cores))
        .config("spark.default.parallelism", str(2 * cores))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.local.dir", local_directory or _spill_directory("steppingstones-spark-"))
        .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=ERROR")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark(session: Any | None = None, **options: Any) -> BaseBackend:
    """An Ibis PySpark backend on ``session`` (default: :func:`spark_session` with ``options``)."""
    if session is None:
        session = spark_session(**options)
    return ibis.pyspark.connect(session)


def connect(name: str = "duckdb", **options: Any) -> BaseBackend:
    """The backend called ``name`` (``"duckdb"`` or ``"spark"``) with its options."""
    if name == "duckdb":
        return duckdb(**options)
    if name == "spark":
        return spark(**options)
    raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")


def backend_name(backend: BaseBackend) -> str:
    """``"duckdb"``, ``"spark"`` or Ibis's name for another backend."""
    name = str(getattr(backend, "name", type(backend).__module__))
    return "spark" if name == "pyspark" else name


def materialize(backend: BaseBackend, expr: ir.Table, prefix: str = "steps") -> ir.Table:
    """``expr`` computed once and kept for the queries that follow: a temporary table on
    DuckDB, a cached view on Spark (in memory, spilling to disk); other backends get the
    expression back as it is."""
    name = f"steppingstones_{prefix}_{uuid.uuid4().hex}"
    kind = backend_name(backend)
    if kind == "duckdb":
        return backend.create_table(name, expr, temp=True)
    if kind == "spark":
        view = backend.create_view(name, expr)  # type: ignore[attr-defined]
        backend.raw_sql(f"CACHE TABLE `{name}`")  # type: ignore[attr-defined]
        return view
    return expr


def upload(backend: BaseBackend, table: pa.Table, prefix: str = "events") -> ir.Table:
    """An Arrow table as a table of ``backend``: handed straight to Spark as Arrow (a temporary
    view), or an Ibis memtable elsewhere (DuckDB reads it in place)."""
    if backend_name(backend) == "spark":
        name = f"steppingstones_{prefix}_{uuid.uuid4().hex}"
        session = backend._session  # type: ignore[attr-defined]
        session.createDataFrame(table).createOrReplaceTempView(name)
        return backend.table(name)
    return ibis.memtable(table)

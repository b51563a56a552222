"""Background work for pathway analytics: importing an event log, and analysing a large one.

An import reads the uploaded file whole (CSV with a column mapping, Parquet, XES or OCEL 2.0
JSON), checks every event, and only then stores the log as Parquet with an :class:`EventLog`
row: a file with any bad row or element stores nothing, and the job's message names each fault
(``row 12: no date``, ``trace 3 (case '17'), event 5: …``, ``events[4]: …``).
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from steppingstones.core import audit
from steppingstones.core.exports import write_csv as write_safe_csv
from steppingstones.core.jobs import JobProgress, job_kind
from steppingstones.core.models import Job, Study

from . import analytics, backends, eventlog
from .eventlog import CASE
from .models import EventLog

FORMATS = {
    "csv": "CSV",
    "parquet": "Parquet",
    "xes": "XES (IEEE 1849)",
    "ocel": "OCEL 2.0 JSON",
}
UPLOAD_DIR = "journeys-imports"


def upload_path(token: str) -> Path:
    return Path(settings.MEDIA_ROOT) / UPLOAD_DIR / token


def save_upload(data: Any) -> str:
    """Keep an uploaded file until its job reads it; returns the token naming it."""
    token = uuid.uuid4().hex
    path = upload_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for chunk in data.chunks():
            handle.write(chunk)
    return token


def read_log_file(data: bytes, source_format: str, options: dict[str, Any]) -> pa.Table:
    """Any supported file as a canonical table; raises ``EventLogError`` with every problem."""
    zone = options.get("naive_timezone") or "UTC"
    if source_format == "csv":
        return eventlog.read_csv(
            data,
            case=options.get("case") or eventlog.CASE,
            activity=options.get("activity") or eventlog.ACTIVITY,
            timestamp=options.get("timestamp") or eventlog.TIMESTAMP,
            timestamp_format=options.get("timestamp_format") or None,
            naive_timezone=zone,
        )
    if source_format == "parquet":
        return eventlog.read_parquet(
            data,
            case=options.get("case") or eventlog.CASE,
            activity=options.get("activity") or eventlog.ACTIVITY,
            timestamp=options.get("timestamp") or eventlog.TIMESTAMP,
            naive_timezone=zone,
        )
    if source_format == "xes":
        return eventlog.read_xes(data, naive_timezone=zone)
    if source_format == "ocel":
        return eventlog.read_ocel_json(
            data, object_type=options.get("object_type") or None, naive_timezone=zone
        )
    raise eventlog.EventLogError(f"unknown format {source_format!r}")


def count_cases(table: pa.Table) -> int:
    column = table[CASE]
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    return int(pc.count_distinct(column).as_py())


def store_log(
    study: Study,
    table: pa.Table,
    *,
    name: str,
    original_name: str,
    source_format: str,
    user: Any = None,
    is_synthetic: bool = False,
) -> EventLog:
    """Store a checked canonical table as Parquet with its EventLog row (both or neither)."""
    buffer = io.BytesIO()
    eventlog.write_parquet(table, buffer)
    attributes = [c for c in table.column_names if c not in eventlog.CANONICAL]
    log = EventLog(
        study=study,
        name=name,
        original_name=original_name,
        source_format=source_format,
        cases=count_cases(table),
        events=table.num_rows,
        attributes=attributes,
        is_synthetic=is_synthetic,
        created_by=user,
    )
    stem = Path(original_name).stem or "event-log"
    log.file.save(f"{stem}.parquet", ContentFile(buffer.getvalue()), save=False)
    try:
        with transaction.atomic():
            log.save()
    except Exception:
        log.file.delete(save=False)
        raise
    return log


@job_kind("journeys-log-import", capability="area:journeys")
def import_log(job: Job, progress: JobProgress) -> str:
    params = job.params
    path = upload_path(params["token"])
    try:
        progress.start(3, f"Reading {params['filename']}")
        data = path.read_bytes()
        table = read_log_file(data, params["format"], params.get("options", {}))
        progress.advance()
        progress.job.message = "Storing the log"
        table = eventlog.sort_canonical(table)
        progress.advance()
        log = store_log(
            job.study,
            table,
            name=params.get("name") or params["filename"],
            original_name=params["filename"],
            source_format=params["format"],
            user=job.user,
        )
        progress.advance()
    finally:
        path.unlink(missing_ok=True)
    return f"Imported {log.events:,} events of {log.cases:,} cases as “{log.name}”."


ANALYSES = {
    "process-map": "Process map (directly-follows edges)",
    "performance": "Process map with times (mean, median, min, max)",
    "variants": "Variants",
}


@job_kind("journeys-log-analysis", capability="area:journeys")
def analyse_log(job: Job, progress: JobProgress) -> str:
    """Run an analysis of a large imported log and keep its result as a CSV file."""
    from .cohort_log import read_log

    log = EventLog.objects.get(study=job.study, pk=job.params["log"])
    analysis = job.params["analysis"]
    progress.start(3, f"Reading {log.name}")
    table = read_log(log)
    progress.advance()
    # A spill-capable DuckDB (or Spark, when asked for and installed) for logs of any size.
    backend = backends.connect(job.params.get("backend") or "duckdb")
    prepared = analytics.prepare(table, backend=backend)
    progress.job.message = f"{ANALYSES[analysis]} of {prepared.n_events:,} events"
    progress.advance()
    header: list[str]
    rows: list[list[Any]]
    if analysis == "process-map":
        process_map = analytics.dfg(prepared)
        header = ["from", "to", "count", "median_seconds"]
        rows = [[e.source, e.target, e.frequency, e.median_seconds] for e in process_map.edges]
    elif analysis == "performance":
        edges = analytics.performance_dfg(prepared)
        header = ["from", "to", "count", "mean_seconds", "median_seconds", "min_seconds"]
        header += ["max_seconds", "sum_seconds", "stdev_seconds"]
        rows = [list(e) for e in edges]
    else:
        header = ["rank", "count", "share", "length", "activities"]
        found = analytics.variants(prepared)
        total = sum(n for _v, n in found) or 1
        rows = [[i, n, n / total, len(v), " > ".join(v)] for i, (v, n) in enumerate(found, start=1)]
    target = Path(settings.MEDIA_ROOT) / "jobs" / f"{job.pk}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        written = write_safe_csv(handle, header, rows)
    job.result_file = str(target.relative_to(settings.MEDIA_ROOT))
    progress.advance()
    audit.record("export.journeys", study=job.study_id, obj=job, changes={"rows": written})
    return f"{ANALYSES[analysis]}: {written:,} rows from {prepared.n_cases:,} cases."

"""The ``steppingstones journeys`` subcommands: ``analyse`` and ``dfg`` on an event-log file.

``analyse EVENTS -o OUTDIR`` writes the process map, activities, variants and milestone tables
as CSV and a self-contained HTML report; ``dfg EVENTS`` prints the directly-follows graph as
``source,target,count,median_seconds``. Both read CSV, Parquet or XES (by the file's suffix or
``--log-format``), run on DuckDB or Spark (``--backend``) and need no database. Progress goes
to standard error; a bad file is one error naming the file and each bad row or element.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from . import analytics, backends, eventlog, report, synthetic
from .eventlog import EventLogError

LOG_FORMATS = ("csv", "parquet", "xes")
SHOWN_PROBLEMS = 20


def guess_format(path: Path) -> str | None:
    """``csv``, ``parquet`` or ``xes`` from the file name (``.gz`` looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in (".csv", ".tsv", ".txt"):
        return "csv"
    if last in (".parquet", ".pq"):
        return "parquet"
    if last == ".xes":
        return "xes"
    return None


class Steps:
    """Timed progress lines on standard error (``--quiet`` silences them)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        start = time.perf_counter()
        if self.enabled:
            print(f"{label} …", file=sys.stderr, flush=True)
        yield
        if self.enabled:
            print(f"{label}: done in {time.perf_counter() - start:.1f} s", file=sys.stderr)


def _describe(error: EventLogError, name: str) -> str:
    lines = [f"{name}: {error.count} problem{'s' if error.count != 1 else ''}; nothing was read"]
    lines += [f"  {problem}" for problem in error.problems[:SHOWN_PROBLEMS]]
    if error.count > SHOWN_PROBLEMS:
        lines.append(f"  … and {error.count - SHOWN_PROBLEMS:,} more")
    return "\n".join(lines)


def read_log(args: argparse.Namespace, fail: type[Exception]) -> pa.Table:
    """The event log named on the command line, as a canonical table."""
    path = Path(args.events)
    name = path.name
    kind = args.log_format or guess_format(path)
    if kind is None:
        raise fail(
            f"{name}: cannot tell the format from the name; use --log-format csv|parquet|xes"
        )
    if not path.is_file():
        raise fail(f"{name}: no such file")
    columns: dict[str, Any] = {
        "case": args.case or eventlog.CASE,
        "activity": args.activity or eventlog.ACTIVITY,
        "timestamp": args.timestamp or eventlog.TIMESTAMP,
    }
    if kind == "xes" and (args.case or args.activity or args.timestamp):
        raise fail(
            f"{name}: XES names its own case, activity and time "
            "(concept:name, time:timestamp): drop --case/--activity/--timestamp"
        )
    common: dict[str, Any] = {"naive_timezone": args.timezone, "allow_future": args.allow_future}
    try:
        if kind == "csv":
            return eventlog.read_csv(
                path, timestamp_format=args.timestamp_format, **columns, **common
            )
        if kind == "parquet":
            return eventlog.read_parquet(
                path, timestamp_format=args.timestamp_format, **columns, **common
            )
        return eventlog.read_xes(path, **common)
    except EventLogError as error:
        raise fail(_describe(error, name)) from error
    except UnicodeDecodeError as error:
        raise fail(
            f"{name}: not {kind.upper()} text ({error.reason} at byte {error.start})"
        ) from error
    except OSError as error:
        raise fail(f"{name}: {error.strerror or error}") from error


def _backend(args: argparse.Namespace, fail: type[Exception]) -> Any:
    if args.backend == "spark":
        ok, reason = backends.spark_available()
        if not ok:
            raise fail(f"--backend spark: {reason}")
        return backends.spark(cores=args.threads)
    return backends.duckdb(threads=args.threads, memory_limit=args.memory_limit)


def _seconds(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def default_milestones(process_map: analytics.ProcessMap) -> list[tuple[str, str]]:
    """From the most common start activity to the five most frequent other activities and to
    the most common end activity."""
    if not process_map.start_activities:
        return []
    start = next(iter(process_map.start_activities))
    targets = [a for a in process_map.activities if a != start][:5]
    end = next(iter(process_map.end_activities), None)
    if end is not None and end != start and end not in targets:
        targets.append(end)
    return [(start, target) for target in targets]


def _time_range(table: pa.Table) -> tuple[str | None, str | None]:
    if not table.num_rows:
        return None, None
    bounds = pc.min_max(table[eventlog.TIMESTAMP])
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return low.isoformat(), high.isoformat()


def analyse(args: argparse.Namespace, fail: type[Exception]) -> None:
    steps = Steps(not args.quiet)
    name = Path(args.events).name
    with steps.step(f"reading {name}"):
        table = read_log(args, fail)
    out = Path(args.output)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(f"{out}: cannot create the folder ({error.strerror or error})") from error
    with steps.step(f"starting the {args.backend} engine"):
        backend = _backend(args, fail)
    with steps.step(f"preparing {table.num_rows:,} events"):
        prepared = analytics.prepare(table, backend=backend)
    with steps.step("process map"):
        process_map = analytics.dfg(prepared)
        performance = analytics.performance_dfg(prepared)
    with steps.step("variants"):
        variants = analytics.variants(prepared)
    pairs = [tuple(pair) for pair in args.milestone] if args.milestone else None
    pairs = pairs or default_milestones(process_map)
    unknown = sorted({a for pair in pairs for a in pair} - set(process_map.activities))
    if unknown:
        raise fail(f"{name}: no activity {', '.join(map(repr, unknown))} in the log")
    with steps.step("milestones"):
        milestones = [analytics.milestone_times(prepared, a, b) for a, b in pairs]

    _write_csv(
        out / "process_map.csv",
        [
            "source",
            "target",
            "count",
            "median_seconds",
            "mean_seconds",
            "min_seconds",
            "max_seconds",
            "sum_seconds",
            "stdev_seconds",
        ],
        [
            [
                e.source,
                e.target,
                e.frequency,
                _seconds(e.median_seconds),
                _seconds(e.mean_seconds),
                _seconds(e.min_seconds),
                _seconds(e.max_seconds),
                _seconds(e.sum_seconds),
                _seconds(e.stdev_seconds),
            ]
            for e in performance
        ],
    )
    _write_csv(
        out / "activities.csv",
        ["activity", "events", "cases_starting", "cases_ending"],
        [
            [
                a,
                n,
                process_map.start_activities.get(a, 0),
                process_map.end_activities.get(a, 0),
            ]
            for a, n in process_map.activities.items()
        ],
    )
    _write_csv(
        out / "variants.csv",
        ["rank", "count", "share", "length", "activities"],
        [
            [
                i + 1,
                count,
                repr(count / process_map.n_cases) if process_map.n_cases else "",
                len(activities),
                json.dumps(list(activities), ensure_ascii=False),
            ]
            for i, (activities, count) in enumerate(variants)
        ],
    )
    _write_csv(
        out / "milestones.csv",
        [
            "from_activity",
            "to_activity",
            "cases_from",
            "cases_reached",
            "median_seconds",
            "q1_seconds",
            "q3_seconds",
            "mean_seconds",
            "min_seconds",
            "max_seconds",
        ],
        [
            [
                m.from_activity,
                m.to_activity,
                m.cases_from,
                m.cases_reached,
                _seconds(m.median_seconds),
                _seconds(m.q1_seconds),
                _seconds(m.q3_seconds),
                _seconds(m.mean_seconds),
                _seconds(m.min_seconds),
                _seconds(m.max_seconds),
            ]
            for m in milestones
        ],
    )
    first, last = _time_range(table)
    html = report.render(
        report.ReportInput(
            source_name=name,
            backend="Apache Spark (local)" if args.backend == "spark" else "DuckDB",
            process_map=process_map,
            performance=performance,
            variants=variants,
            milestones=milestones,
            first_event=first,
            last_event=last,
            synthetic=synthetic.is_synthetic(table),
            top_variants=args.top,
        )
    )
    (out / "report.html").write_text(html, encoding="utf-8")
    if not args.quiet:
        print(
            f"{name}: {process_map.n_cases:,} cases, {process_map.n_events:,} events, "
            f"{len(variants):,} variants, {len(process_map.edges):,} edges; "
            f"wrote process_map.csv, activities.csv, variants.csv, milestones.csv and "
            f"report.html to {out}",
            file=sys.stderr,
        )


def dfg(args: argparse.Namespace, fail: type[Exception]) -> None:
    steps = Steps(not args.quiet)
    name = Path(args.events).name
    with steps.step(f"reading {name}"):
        table = read_log(args, fail)
    backend = _backend(args, fail)
    with steps.step(f"directly-follows graph of {table.num_rows:,} events"):
        process_map = analytics.dfg(table, backend=backend)
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "source": e.source,
                        "target": e.target,
                        "count": e.frequency,
                        "median_seconds": e.median_seconds,
                    }
                    for e in process_map.edges
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["source", "target", "count", "median_seconds"])
    writer.writerows(
        [e.source, e.target, e.frequency, _seconds(e.median_seconds)] for e in process_map.edges
    )
    sys.stdout.write(buffer.getvalue())


def _log_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", metavar="EVENTS", help="event log: .csv, .parquet or .xes (.gz)")
    parser.add_argument(
        "--log-format", choices=LOG_FORMATS, help="the file's format (default: by its suffix)"
    )
    parser.add_argument("--case", metavar="COL", help="case column (default case_id)")
    parser.add_argument("--activity", metavar="COL", help="activity column (default activity)")
    parser.add_argument("--timestamp", metavar="COL", help="time column (default timestamp)")
    parser.add_argument(
        "--timestamp-format", metavar="FMT", help="strptime layout of the times (default: ISO 8601)"
    )
    parser.add_argument(
        "--timezone", default="UTC", help="zone of times without an offset (default UTC)"
    )
    parser.add_argument(
        "--allow-future", action="store_true", help="accept events dated later than now"
    )
    parser.add_argument(
        "--backend", choices=backends.BACKENDS, default="duckdb", help="engine (default duckdb)"
    )
    parser.add_argument("--threads", type=int, help="threads or cores for the engine")
    parser.add_argument(
        "--memory-limit",
        default="default",
        help="DuckDB memory limit, e.g. 8GB (default 60%% of RAM)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on standard error")


def add_commands(subcommands: Any, command_error: type[Exception]) -> None:
    """Add the journeys subcommands to the ``journeys`` subparsers."""

    def handler(run: Callable[[argparse.Namespace, type[Exception]], None]) -> Any:
        return lambda args: run(args, command_error)

    analyse_parser = subcommands.add_parser(
        "analyse",
        help="process map, variants and milestones of an event log, as CSV and an HTML report",
        description="Write process_map.csv, activities.csv, variants.csv, milestones.csv and "
        "report.html for an event log.",
    )
    _log_arguments(analyse_parser)
    analyse_parser.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    analyse_parser.add_argument(
        "--milestone",
        nargs=2,
        action="append",
        metavar=("FROM", "TO"),
        help="time from the first FROM to the first TO after it (repeatable; default: from the "
        "most common start activity to the most frequent others)",
    )
    analyse_parser.add_argument(
        "--top", type=int, default=20, help="variants shown in the report (default 20)"
    )
    analyse_parser.set_defaults(handler=handler(analyse), needs_database=False)

    dfg_parser = subcommands.add_parser(
        "dfg",
        help="print the directly-follows graph: source,target,count,median_seconds",
        description="Print the directly-follows graph of an event log, most frequent first.",
    )
    _log_arguments(dfg_parser)
    dfg_parser.add_argument("--format", choices=("csv", "json"), default="csv")
    dfg_parser.set_defaults(handler=handler(dfg), needs_database=False)

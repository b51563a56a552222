"""Pathway analytics: our Ibis/DuckDB engine against PM4Py, same synthetic log, same run.

For each size in ``--sizes`` (cases), one synthetic perinatal log is generated
(``steppingstones.journeys.synthetic.generate(n, seed)``, about 19 events per case) and both
engines answer the same three questions: the directly-follows graph with start and end
activities (``pm4py.discover_dfg``), the variants with their counts (``pm4py.get_variants``)
and the performance DFG (``pm4py.discover_performance_dfg``: mean, median, min, max, sum and
standard deviation of the times between activities). PM4Py gets a pandas DataFrame in
canonical order (case, timestamp, source sequence), its natural input, built before its clock
starts; ours gets the Arrow table and its time includes ``prepare`` (coding, the order check
and the steps). The results are checked for equality: counts, start/end activities and
variants exactly, times to a relative 1e-9. With ``--shuffle`` our engine is also timed on the
same rows shuffled, which makes it sort.

Each engine runs ``--repeats`` times (alternating) and the fastest time of each step is kept;
the run exits non-zero if any result differs. Then each size in ``--engine-sizes`` runs on our
engine alone in a fresh process (DuckDB with its default memory limit, 60% of RAM, and a spill
folder), which reports the time of each step and its peak resident memory (VmHWM), the
generation included. ``--quick`` is a small run of the same measurements (2,000 and 20,000
cases against PM4Py, 200,000 alone, one repeat).

PM4Py is AGPL and only a peer here: ``pip install pm4py`` beside the project; the platform
never imports it.

Run: .venv/bin/python bench/journeys_vs_pm4py.py [--quick] [--sizes 20000 200000]
     [--engine-sizes 2000000] [--seed 1] [--repeats 3] [--shuffle] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from steppingstones.journeys import analytics, backends, synthetic
from steppingstones.journeys.eventlog import sort_canonical


def peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def to_pandas_for_pm4py(table: pa.Table) -> Any:
    ordered = sort_canonical(table)
    plain = pa.table(
        {
            "case:concept:name": ordered["case_id"].cast(pa.string()),
            "concept:name": ordered["activity"].cast(pa.string()),
            "time:timestamp": ordered["timestamp"],
        }
    )
    return plain.to_pandas()


def run_ours(table: pa.Table, backend: Any) -> tuple[dict[str, float], dict[str, Any]]:
    times: dict[str, float] = {}
    start = time.perf_counter()
    prepared = analytics.prepare(table, backend=backend)
    times["prepare"] = time.perf_counter() - start
    start = time.perf_counter()
    process_map = analytics.dfg(prepared)
    times["dfg"] = time.perf_counter() - start
    start = time.perf_counter()
    found = analytics.variants(prepared)
    times["variants"] = time.perf_counter() - start
    start = time.perf_counter()
    performance = analytics.performance_dfg(prepared)
    times["performance_dfg"] = time.perf_counter() - start
    times["total"] = sum(times.values())
    return times, {"map": process_map, "variants": found, "performance": performance}


def run_pm4py(df: Any) -> tuple[dict[str, float], dict[str, Any]]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import pm4py  # its banner goes to stderr
    times: dict[str, float] = {}
    start = time.perf_counter()
    dfg, starts, ends = pm4py.discover_dfg(df)
    times["dfg"] = time.perf_counter() - start
    start = time.perf_counter()
    variants = pm4py.get_variants(df)
    times["variants"] = time.perf_counter() - start
    start = time.perf_counter()
    performance, _, _ = pm4py.discover_performance_dfg(df)
    times["performance_dfg"] = time.perf_counter() - start
    times["total"] = sum(times.values())
    result = {"dfg": dfg, "starts": starts, "ends": ends, "variants": variants}
    result["performance"] = performance
    return times, result


def differences(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """What differs between the two engines' answers (empty when they agree)."""
    found = []
    process_map = ours["map"]
    if process_map.counts() != dict(theirs["dfg"]):
        found.append("directly-follows counts")
    if process_map.start_activities != dict(theirs["starts"]):
        found.append("start activities")
    if process_map.end_activities != dict(theirs["ends"]):
        found.append("end activities")
    if dict(ours["variants"]) != dict(theirs["variants"]):
        found.append("variants")
    mine = {(e.source, e.target): e for e in ours["performance"]}
    if set(mine) != set(theirs["performance"]):
        found.append("performance edges")
    else:
        for key, values in theirs["performance"].items():
            edge = mine[key]
            pairs = [
                (edge.mean_seconds, values["mean"]),
                (edge.median_seconds, values["median"]),
                (edge.min_seconds, values["min"]),
                (edge.max_seconds, values["max"]),
                (edge.sum_seconds, values["sum"]),
            ]
            if edge.stdev_seconds is None:
                if not math.isnan(values["stdev"]):
                    found.append(f"stdev of {key}")
            else:
                pairs.append((edge.stdev_seconds, values["stdev"]))
            if not all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6) for a, b in pairs):
                found.append(f"times of {key}")
    return found


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """The fastest of several runs, step by step (the total is the fastest total)."""
    return {step: min(run[step] for run in runs) for step in runs[0]}


def compare(n_cases: int, seed: int, shuffle: bool, repeats: int) -> dict[str, Any]:
    table = synthetic.generate(n_cases, seed)
    start = time.perf_counter()
    df = to_pandas_for_pm4py(table)
    convert = time.perf_counter() - start
    backend = backends.duckdb()
    analytics.dfg(synthetic.generate(50, seed), backend=backend)  # first-query warm-up
    ours_runs, theirs_runs = [], []
    for _ in range(repeats):  # alternate, so that a busy spell hits both
        ours_t, ours = run_ours(table, backend)
        theirs_t, theirs = run_pm4py(df)
        ours_runs.append(ours_t)
        theirs_runs.append(theirs_t)
        diff = differences(ours, theirs)
        if diff:
            break
    ours_t, theirs_t = best(ours_runs), best(theirs_runs)
    row: dict[str, Any] = {
        "cases": n_cases,
        "events": table.num_rows,
        "variants": len(ours["variants"]),
        "pm4py_dataframe_seconds": convert,
        "ours": ours_t,
        "pm4py": theirs_t,
        "ratio": {k: theirs_t[k] / ours_t[k] for k in theirs_t if ours_t.get(k)},
        "equal": not diff,
        "differences": diff,
    }
    row["ratio"]["total"] = theirs_t["total"] / ours_t["total"]
    if shuffle:
        rng = np.random.default_rng(seed)
        shuffled = table.take(pa.array(rng.permutation(table.num_rows)))
        shuffled_runs = []
        for _ in range(repeats):
            shuffled_t, shuffled_res = run_ours(shuffled, backend)
            shuffled_runs.append(shuffled_t)
        shuffled_t = best(shuffled_runs)
        row["ours_shuffled"] = shuffled_t
        row["ratio_shuffled_total"] = theirs_t["total"] / shuffled_t["total"]
        row["shuffled_equal"] = not differences(shuffled_res, theirs)
    return row


def engine_alone(n_cases: int, seed: int) -> dict[str, Any]:
    start = time.perf_counter()
    table = synthetic.generate(n_cases, seed)
    generate = time.perf_counter() - start
    times, result = run_ours(table, backends.duckdb())
    return {
        "cases": n_cases,
        "events": table.num_rows,
        "variants": len(result["variants"]),
        "edges": len(result["map"].edges),
        "generate_seconds": generate,
        "ours": times,
        "peak_rss_mib": peak_rss_mib(),
    }


def fmt(seconds: float) -> str:
    return f"{seconds:8.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000, 200_000])
    parser.add_argument("--engine-sizes", type=int, nargs="*", default=[2_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--shuffle", action="store_true", help="also time ours on shuffled rows")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, one repeat: a check that it all runs"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.engine_sizes, args.repeats = [2_000, 20_000], [200_000], 1

    if args.child is not None:
        print(json.dumps(engine_alone(args.child, args.seed)))
        return 0

    print(
        f"{os.cpu_count()} CPUs; best of {args.repeats} runs; times in seconds; "
        "ratio = PM4Py time / ours"
    )
    rows = []
    ok = True
    for n in args.sizes:
        row = compare(n, args.seed, args.shuffle, args.repeats)
        rows.append(row)
        ok &= row["equal"] and row.get("shuffled_equal", True)
        print(f"\n{n:,} cases, {row['events']:,} events, {row['variants']:,} variants")
        print(f"{'step':18}{'ours':>9}{'PM4Py':>9}{'ratio':>8}")
        print(f"{'prepare':18}{fmt(row['ours']['prepare'])}{'':>9}")
        for step in ("dfg", "variants", "performance_dfg", "total"):
            ours, theirs = row["ours"][step], row["pm4py"][step]
            print(f"{step:18}{fmt(ours)}{fmt(theirs)}{theirs / ours:7.1f}×")
        if args.shuffle:
            shuffled = row["ours_shuffled"]["total"]
            print(
                f"{'total, shuffled':18}{fmt(shuffled)}{fmt(row['pm4py']['total'])}"
                f"{row['ratio_shuffled_total']:7.1f}×"
            )
        same = "identical" if row["equal"] else f"DIFFERENT: {row['differences']}"
        print(f"results: {same}")
    engine = []
    for n in args.engine_sizes:
        command = [sys.executable, __file__, "--child", str(n), "--seed", str(args.seed)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            ok = False
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        engine.append(row)
        t = row["ours"]
        events, variants = row["events"], row["variants"]
        print(f"\nour engine alone: {n:,} cases, {events:,} events, {variants:,} variants")
        print(
            f"generate {row['generate_seconds']:.1f} s; prepare {t['prepare']:.1f}, "
            f"dfg {t['dfg']:.1f}, variants {t['variants']:.1f}, "
            f"performance_dfg {t['performance_dfg']:.1f}; analytics total {t['total']:.1f} s; "
            f"peak memory {row['peak_rss_mib'] / 1024:.1f} GiB"
        )
    print(f"\npeak memory of the comparison process: {peak_rss_mib() / 1024:.1f} GiB")
    print("all results identical" if ok else "RESULTS DIFFER (see above)")
    if args.json:
        args.json.write_text(json.dumps({"compare": rows, "engine": engine}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

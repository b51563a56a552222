"""Prioritised screening: our simulation against ASReview's, same data, same priors, one run.

For every labelled data set in ``../shared/data/screening/`` (beside the project) and every
seed, one random include and one random exclude are drawn with
``steppingstones.evidence.screening.choose_priors(labels, seed)``; both simulations start from
those two records and screen until the last relevant record is found (ASReview's default
stopper). ASReview runs its default model (ELAS u4) through its Python API (``Simulate``, as
``asreview simulate`` does) in a worker process, started once, so that its import time is not
counted, as ours is not. Wall time covers feature extraction and the replay, not reading the
CSV. WSS@95, recall@10% and ATD of both orders are computed by our metric functions (the
asreview-insights definitions); when asreview-insights is installed beside asreview, the
worker also computes its own WSS@95 and recall@10% of ASReview's order and the largest
difference is printed.

ASReview needs its own environment if its pins clash with the project's (asreview 3.0 pins
pandas < 3): ``python3.11 -m venv /some/where && /some/where/bin/pip install asreview
asreview-insights``, then pass ``--asreview-python /some/where/bin/python`` (or set
ASREVIEW_PYTHON). Without either, the project's own interpreter is used.

Run: .venv/bin/python bench/screening_vs_asreview.py --seeds 3 [--asreview-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "screening"

WORKER = r"""
import json, sys, time
import numpy as np
import pandas as pd
from asreview.learner import ActiveLearningCycle
from asreview.models.models import get_ai_config
from asreview.models.queriers import TopDown
from asreview.models.stoppers import IsFittable
from asreview.simulation.simulate import Simulate
import asreview
try:
    from asreviewcontrib.insights.metrics import _recall, _wss
except ImportError:
    _wss = _recall = None
print(json.dumps({"version": asreview.__version__, "model": get_ai_config()["name"]}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    df = pd.read_csv(job["path"])
    df["title"] = df["title"].fillna("").astype(str)
    df["abstract"] = df["abstract"].fillna("").astype(str)
    y = df["label_included"].to_numpy()
    start = time.perf_counter()
    cycle = ActiveLearningCycle.from_meta(get_ai_config()["value"])
    cycle.classifier.set_params(random_state=job["seed"])
    np.random.seed(job["seed"])
    sim = Simulate(
        df[["title", "abstract"]], y,
        [ActiveLearningCycle(querier=TopDown(), stopper=IsFittable()), cycle],
        print_progress=False,
    )
    sim.label(job["priors"])
    sim.review()
    seconds = time.perf_counter() - start
    order = [int(i) for i in sim._results["record_id"].to_numpy()]
    result = {"order": order, "seconds": seconds}
    if _wss is not None:
        labels = [int(v) for v in y[order][len(job["priors"]):]]
        labels += [0] * (len(y) - len(job["priors"]) - len(labels))
        result["insights_wss95"] = float(_wss(labels, 0.95))
        result["insights_recall10"] = float(_recall(labels, 0.1))
    print(json.dumps(result), flush=True)
"""


class Peer:
    """ASReview in a worker process: one JSON job a line in, one result a line out."""

    def __init__(self, python: str) -> None:
        self.process = subprocess.Popen(
            [python, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.info = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("the ASReview worker stopped: is asreview installed for it?")
        return json.loads(line)

    def run(self, path: Path, priors: tuple[int, ...], seed: int) -> dict[str, Any]:
        assert self.process.stdin is not None
        job = {"path": str(path), "priors": list(priors), "seed": seed}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def metrics(labels: list[int], order: list[int], n_priors: int) -> dict[str, float]:
    from steppingstones.evidence.screening import average_time_to_discovery, recall_at, wss

    after = [labels[i] for i in order[n_priors:]]
    after += [0] * (len(labels) - n_priors - len(after))
    return {
        "wss95": wss(after, 0.95),
        "recall10": recall_at(after, 0.1),
        "atd": average_time_to_discovery(after),
    }


def main() -> None:
    from steppingstones.evidence.screening import (
        DEFAULT_MODEL,
        choose_priors,
        read_labelled_csv,
        simulate,
    )

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per data set")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="our model")
    parser.add_argument(
        "--asreview-python",
        default=os.environ.get("ASREVIEW_PYTHON", sys.executable),
        help="interpreter that has asreview (default: $ASREVIEW_PYTHON or this one)",
    )
    parser.add_argument("--only", default="", help="data sets whose name contains this")
    parser.add_argument("--json", type=Path, help="also write every run to this file")
    parser.add_argument(
        "--latency-only", action="store_true", help="only time the live queue at ~21,000 records"
    )
    parser.add_argument(
        "--report-only", type=Path, metavar="RUNS.json", help="print the tables of a --json file"
    )
    parser.add_argument(
        "--resume", action="store_true", help="keep the runs already in the --json file"
    )
    args = parser.parse_args()

    files = sorted(p for p in args.data.glob("*.csv") if args.only in p.name)
    if not files:
        raise SystemExit(f"no labelled CSV files in {args.data}")
    if args.report_only:
        saved = json.loads(args.report_only.read_text(encoding="utf-8"))
        report(saved, len({r["seed"] for r in saved}))
        return
    if args.latency_only:
        latency(files)
        return
    peer = Peer(args.asreview_python)
    print(
        f"ours: {args.model}; ASReview {peer.info['version']} default model "
        f"{peer.info['model']}; {len(files)} data sets x {args.seeds} seeds",
        flush=True,
    )
    runs: list[dict[str, Any]] = []
    if args.resume and args.json and args.json.exists():
        runs = [
            r
            for r in json.loads(args.json.read_text(encoding="utf-8"))
            if r["seed"] < args.seeds and any(p.stem == r["dataset"] for p in files)
        ]
    done = {(r["dataset"], r["seed"]) for r in runs}
    try:
        for path in files:
            data = read_labelled_csv(path.read_text(encoding="utf-8-sig"))
            texts = data.texts()
            for seed in range(args.seeds):
                if (path.stem, seed) in done:
                    continue
                priors = choose_priors(data.labels, seed)
                start = time.perf_counter()
                ours = simulate(
                    texts,
                    data.labels,
                    model=args.model,
                    seed=seed,
                    priors=priors,
                    evaluate_stopping=False,
                )
                our_seconds = time.perf_counter() - start
                theirs = peer.run(path, priors, seed)
                run = {
                    "dataset": path.stem,
                    "records": len(data.labels),
                    "inclusions": sum(data.labels),
                    "seed": seed,
                    "priors": list(priors),
                    "ours": {
                        **metrics(data.labels, list(ours.order), 2),
                        "seconds": our_seconds,
                    },
                    "asreview": {
                        **metrics(data.labels, theirs["order"], 2),
                        "seconds": theirs["seconds"],
                        "screened": len(theirs["order"]),
                    },
                }
                if "insights_wss95" in theirs:
                    run["insights_check"] = max(
                        abs(theirs["insights_wss95"] - run["asreview"]["wss95"]),
                        abs(theirs["insights_recall10"] - run["asreview"]["recall10"]),
                    )
                runs.append(run)
                if args.json:
                    args.json.write_text(json.dumps(runs, indent=1), encoding="utf-8")
                print(
                    f"{path.stem:<40} seed {seed}  WSS@95 ours {run['ours']['wss95']:.3f} "
                    f"ASReview {run['asreview']['wss95']:.3f}  time {our_seconds:6.1f} s vs "
                    f"{theirs['seconds']:6.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        peer.close()
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1), encoding="utf-8")
    report(runs, args.seeds)
    latency(files)


def latency(files: list[Path], decisions: int = 300) -> None:
    """Decision-to-next-record time on all the data sets pooled (about 21,000 records)."""
    from steppingstones.evidence.screening import Prioritiser, read_labelled_csv

    texts: list[str] = []
    labels: list[int] = []
    for path in files:
        data = read_labelled_csv(path.read_text(encoding="utf-8-sig"))
        texts += data.texts()
        labels += data.labels
    start = time.perf_counter()
    queue = Prioritiser(texts, seed=0)
    features = time.perf_counter() - start
    queue.record_decision(labels.index(1), 1)
    queue.record_decision(labels.index(0), 0)
    retrains: list[tuple[int, float]] = []
    waits: list[float] = []
    checkpoints = {2, 500, 2000, 5000}
    while queue.n_labelled < 5001:
        if queue.n_labelled in checkpoints:
            start = time.perf_counter()
            queue.retrain()
            retrains.append((queue.n_labelled, time.perf_counter() - start))
        start = time.perf_counter()
        shown = queue.next_records(1)[0]
        queue.record_decision(shown, labels[shown])
        queue.next_records(1)
        if len(waits) < decisions or queue.n_labelled > 4700:
            waits.append(time.perf_counter() - start)
    waits.sort()
    print(
        f"\nLive queue on {len(texts):,} pooled records: features {features:.1f} s once; "
        f"decision + next record: median {1000 * waits[len(waits) // 2]:.3f} ms, "
        f"max {1000 * waits[-1]:.3f} ms over {len(waits)} decisions (no retrain on that path); "
        "retrain (run in the background by retrain_async) with "
        + ", ".join(f"{n:,} decided {1000 * seconds:.0f} ms" for n, seconds in retrains)
        + "."
    )


def report(runs: list[dict[str, Any]], seeds: int) -> None:
    def mean(name: str, side: str, key: str) -> float:
        return statistics.fmean(r[side][key] for r in runs if r["dataset"] == name)

    names = sorted({r["dataset"] for r in runs})
    print(f"\nMeans over {seeds} seeds per data set (ratio = ASReview time / our time)\n")
    print(
        "| data set | records | incl. | WSS@95 ours | WSS@95 ASReview | recall@10% ours | "
        "recall@10% ASReview | ATD ours | ATD ASReview | time ours (s) | time ASReview (s) | "
        "ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for name in names:
        first = next(r for r in runs if r["dataset"] == name)
        row = {
            side + key: mean(name, side, key)
            for side in ("ours", "asreview")
            for key in ("wss95", "recall10", "atd", "seconds")
        }
        rows.append(row)
        print(
            f"| {name} | {first['records']:,} | {first['inclusions']} | "
            f"{row['ourswss95']:.3f} | {row['asreviewwss95']:.3f} | "
            f"{row['oursrecall10']:.3f} | {row['asreviewrecall10']:.3f} | "
            f"{row['oursatd']:.3f} | {row['asreviewatd']:.3f} | "
            f"{row['oursseconds']:.1f} | {row['asreviewseconds']:.1f} | "
            f"{row['asreviewseconds'] / row['oursseconds']:.1f}x |"
        )

    def median(key: str) -> float:
        return statistics.median(row[key] for row in rows)

    total_ours = sum(r["ours"]["seconds"] for r in runs)
    total_theirs = sum(r["asreview"]["seconds"] for r in runs)
    print(
        f"| **median of data sets** | | | **{median('ourswss95'):.3f}** | "
        f"**{median('asreviewwss95'):.3f}** | **{median('oursrecall10'):.3f}** | "
        f"**{median('asreviewrecall10'):.3f}** | {median('oursatd'):.3f} | "
        f"{median('asreviewatd'):.3f} | {median('oursseconds'):.1f} | "
        f"{median('asreviewseconds'):.1f} | |"
    )
    print(
        f"| **total wall time** | | | | | | | | | **{total_ours:.0f}** | **{total_theirs:.0f}** "
        f"| **{total_theirs / total_ours:.1f}x** |"
    )
    wins = sum(row["ourswss95"] >= row["asreviewwss95"] for row in rows)
    print(f"\nWSS@95 ours >= ASReview on {wins} of {len(rows)} data sets (seed means).")
    checks = [r["insights_check"] for r in runs if "insights_check" in r]
    if checks:
        print(
            f"Our metric functions vs asreview-insights on ASReview's orders: largest "
            f"difference {max(checks):.2e} over {len(checks)} runs."
        )


if __name__ == "__main__":
    main()

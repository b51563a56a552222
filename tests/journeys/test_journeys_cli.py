"""`steppingstones journeys analyse | dfg` on the real hospital logs, as a user runs them.

The CSV output is parsed back and checked against pandas reading the same file; the HTML
report is checked for its parts, its escaping and that it loads nothing from outside; bad
files give one error naming the file and the row or element, exit status 1 and no traceback.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "event-logs"
SEPSIS = DATA / "sepsis.csv"
HOSPITAL = DATA / "Hospital_log.xes.gz"
SEPSIS_COLUMNS = [
    "--case",
    "Case ID",
    "--activity",
    "Activity",
    "--timestamp",
    "Complete Timestamp",
]


def need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"real log {path.name} not found beside the project (shared/)")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "steppingstones.cli", "journeys", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def pandas_sepsis_moves() -> tuple[
    dict[tuple[str, str], tuple[int, float]], Counter[tuple[str, ...]]
]:
    """Directly-follows counts with median seconds, and variants, by pandas."""
    pd = pytest.importorskip("pandas")
    raw = pd.read_csv(SEPSIS, sep=";", dtype=str, keep_default_na=False)
    raw["row"] = np.arange(len(raw))
    raw["t"] = pd.to_datetime(raw["Complete Timestamp"], format="%Y/%m/%d %H:%M:%S.%f")
    df = raw.sort_values(["Case ID", "t", "row"], kind="stable").reset_index(drop=True)
    by_case = df.groupby("Case ID", sort=False)
    moves = df.assign(
        nxt=by_case["Activity"].shift(-1),
        dt=(by_case["t"].shift(-1) - df["t"]).dt.total_seconds(),
    ).dropna(subset=["nxt"])
    grouped = moves.groupby(["Activity", "nxt"])["dt"]
    edges = {
        key: (int(n), float(m))
        for (key, n), m in zip(grouped.size().items(), grouped.median().tolist(), strict=True)
    }
    variants = Counter(by_case["Activity"].agg(tuple).tolist())
    return edges, variants


def test_dfg_prints_csv_equal_to_pandas() -> None:
    need(SEPSIS)
    done = run("dfg", str(SEPSIS), *SEPSIS_COLUMNS, "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "source,target,count,median_seconds"
    rows = read_csv(done.stdout)
    got = {(r["source"], r["target"]): (int(r["count"]), float(r["median_seconds"])) for r in rows}
    expected, _ = pandas_sepsis_moves()
    assert got == expected
    counts = [int(r["count"]) for r in rows]
    assert counts == sorted(counts, reverse=True)
    assert "reading sepsis.csv" in done.stderr  # progress goes to standard error


def test_dfg_json_on_the_hospital_xes() -> None:
    need(HOSPITAL)
    done = run("dfg", str(HOSPITAL), "--format", "json", "--quiet")
    assert done.returncode == 0, done.stderr
    edges = json.loads(done.stdout)
    assert sum(e["count"] for e in edges) == 150_291 - 1143  # one fewer move than events a case
    assert done.stderr == ""


def test_analyse_writes_tables_and_a_report(tmp_path: Path) -> None:
    need(SEPSIS)
    out = tmp_path / "out"
    done = run(
        "analyse",
        str(SEPSIS),
        *SEPSIS_COLUMNS,
        "-o",
        str(out),
        "--milestone",
        "ER Registration",
        "Admission NC",
        "--milestone",
        "ER Registration",
        "Release A",
        "--top",
        "15",
    )
    assert done.returncode == 0, done.stderr
    edges, variants = pandas_sepsis_moves()
    process_map = read_csv((out / "process_map.csv").read_text())
    got = {
        (r["source"], r["target"]): (int(r["count"]), float(r["median_seconds"]))
        for r in process_map
    }
    assert got == edges
    assert set(process_map[0]) >= {"mean_seconds", "min_seconds", "max_seconds", "stdev_seconds"}
    rows = read_csv((out / "variants.csv").read_text())
    assert {tuple(json.loads(r["activities"])): int(r["count"]) for r in rows} == dict(variants)
    assert [int(r["rank"]) for r in rows] == list(range(1, len(variants) + 1))
    assert all(int(r["length"]) == len(json.loads(r["activities"])) for r in rows)
    assert sum(float(r["share"]) for r in rows) == pytest.approx(1.0)
    milestones = read_csv((out / "milestones.csv").read_text())
    assert [(m["from_activity"], m["to_activity"]) for m in milestones] == [
        ("ER Registration", "Admission NC"),
        ("ER Registration", "Release A"),
    ]
    with_registration = sum(n for v, n in variants.items() if "ER Registration" in v)
    assert int(milestones[0]["cases_from"]) == with_registration
    activities = read_csv((out / "activities.csv").read_text())
    assert sum(int(a["events"]) for a in activities) == 15_214
    assert sum(int(a["cases_starting"]) for a in activities) == 1050

    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    for part in ("Summary", "Process map", "Variants", "Milestones", "sepsis.csv"):
        assert part in html
    assert html.count("<rect") == 15  # one bar for each of the top 15 variants
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "<script" not in html and "<link" not in html


def test_analyse_the_hospital_xes_with_default_milestones(tmp_path: Path) -> None:
    need(HOSPITAL)
    done = run("analyse", str(HOSPITAL), "-o", str(tmp_path), "--quiet")
    assert done.returncode == 0, done.stderr
    milestones = read_csv((tmp_path / "milestones.csv").read_text())
    assert milestones and all(
        m["from_activity"] == milestones[0]["from_activity"] for m in milestones
    )
    rows = read_csv((tmp_path / "variants.csv").read_text())
    assert sum(int(r["count"]) for r in rows) == 1143
    assert (tmp_path / "report.html").stat().st_size > 10_000


def test_report_escapes_what_the_log_says(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "case_id,activity,timestamp\n"
        "c1,<script>alert(1)</script>,2020-01-01T00:00:00Z\n"
        'c1,Birth & "discharge",2020-01-02T00:00:00Z\n'
    )
    done = run("analyse", str(log), "-o", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Birth &amp; &quot;discharge&quot;" in html


def test_a_bad_csv_row_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    need(SEPSIS)
    lines = SEPSIS.read_text().splitlines()
    lines[41] = lines[41].replace("2014/", "20x4/", 1)  # row 42 counting the header as row 1
    bad = tmp_path / "sepsis-bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    done = run("analyse", str(bad), *SEPSIS_COLUMNS, "-o", str(out))
    assert done.returncode == 1
    assert "sepsis-bad.csv: 1 problem" in done.stderr and "row 42" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_a_broken_xes_is_named_with_its_line(tmp_path: Path) -> None:
    need(HOSPITAL)
    with gzip.open(HOSPITAL, "rb") as stream:
        text = stream.read()
    cut = text.index(b"<event>", 100_000)
    bad = tmp_path / "broken.xes"
    bad.write_bytes(text[:cut] + b"<event <<" + text[cut + 7 :])
    line = text[:cut].count(b"\n") + 1
    done = run("dfg", str(bad), "--quiet")
    assert done.returncode == 1
    assert done.stderr.startswith("steppingstones journeys: broken.xes: 1 problem")
    assert f"line {line}" in done.stderr and "malformed XML" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_files_columns_and_formats_are_errors(tmp_path: Path) -> None:
    done = run("dfg", str(tmp_path / "absent.csv"))
    assert done.returncode == 1 and "absent.csv: no such file" in done.stderr
    log = tmp_path / "log.csv"
    log.write_text("case,act,time\nc1,a,2020-01-01\n")
    done = run("dfg", str(log))
    assert done.returncode == 1 and "no column 'case_id'" in done.stderr
    odd = tmp_path / "log.data"
    odd.write_text("x")
    done = run("dfg", str(odd))
    assert done.returncode == 1 and "--log-format" in done.stderr
    done = run(
        "analyse",
        str(log),
        "--case",
        "case",
        "--activity",
        "act",
        "--timestamp",
        "time",
        "-o",
        str(tmp_path / "o"),
        "--milestone",
        "a",
        "nowhere",
    )
    assert done.returncode == 1 and "no activity 'nowhere'" in done.stderr

"""`steppingstones evidence meta` on the BCG trials, against metafor's published output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evidence.test_meta import CNEG, CPOS, DAT_BCG_PAGE, RMA_UNI_PAGE, TNEG, TPOS

DP4 = 5e-5


def _bcg_csv(path: Path) -> Path:
    lines = ["study,ai,bi,ci,di"]
    for n, row in enumerate(zip(TPOS, TNEG, CPOS, CNEG, strict=True), start=1):
        lines.append(f"trial {n}," + ",".join(map(str, row)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "steppingstones.cli", "evidence", "meta", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_reml_json_matches_metafor(tmp_path) -> None:
    forest = tmp_path / "forest.svg"
    result = _run(
        str(_bcg_csv(tmp_path / "bcg.csv")),
        "--measure",
        "RR",
        "--method",
        "REML",
        "--json",
        "--forest",
        str(forest),
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # Published by metafor for rma(yi, vi, data=dat.bcg): RMA_UNI_PAGE and DAT_BCG_PAGE.
    assert (out["k"], out["q_df"]) == (13, 12)
    assert out["estimate"] == pytest.approx(-0.7145, abs=DP4)
    assert out["se"] == pytest.approx(0.1798, abs=DP4)
    assert out["ci_low"] == pytest.approx(-1.0669, abs=DP4)
    assert out["ci_high"] == pytest.approx(-0.3622, abs=DP4)
    assert out["tau2"] == pytest.approx(0.3132, abs=DP4)
    assert out["i2"] == pytest.approx(92.22, abs=0.005)
    assert out["h2"] == pytest.approx(12.86, abs=0.005)
    assert out["q"] == pytest.approx(152.2330, abs=DP4)
    assert out["exp"]["estimate"] == pytest.approx(0.4894, abs=DP4)
    assert out["exp"]["pi_low"] == pytest.approx(0.1546, abs=DP4)
    assert out["exp"]["pi_high"] == pytest.approx(1.5490, abs=DP4)
    svg = forest.read_text()
    assert svg.startswith("<svg") and "<title>Forest plot of RR" in svg and "trial 13" in svg
    assert RMA_UNI_PAGE and DAT_BCG_PAGE


def test_a_bad_cell_is_named_by_row_and_column(tmp_path) -> None:
    path = _bcg_csv(tmp_path / "bcg.csv")
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(",3,", ",three,", 1)
    path.write_text("\n".join(lines) + "\n")
    result = _run(str(path), "--measure", "RR")
    assert result.returncode == 1
    assert "row 4 (trial 3), column" in result.stderr and "'three' is not a number" in result.stderr
    assert "Traceback" not in result.stderr


def test_negative_counts_and_missing_columns_are_refused(tmp_path) -> None:
    path = tmp_path / "neg.csv"
    path.write_text("study,ai,bi,ci,di\nA,1,10,2,10\nB,-1,10,2,10\n")
    result = _run(str(path), "--measure", "OR")
    assert result.returncode == 1 and "row" in result.stderr and "Traceback" not in result.stderr
    result = _run(str(path), "--measure", "MD")
    assert result.returncode == 1 and "missing column(s) m1i" in result.stderr

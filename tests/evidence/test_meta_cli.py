"""`steppingstones evidence meta` on the BCG trials, against metafor's published output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evidence.test_meta import ALLOC, CNEG, CPOS, DAT_BCG_PAGE, RMA_UNI_PAGE, TNEG, TPOS

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


# --------------------------------------------------------------------------------------
# Subgroups, moderators, sensitivity analyses, figures in three formats, bad input
# --------------------------------------------------------------------------------------

ABLAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
BASE_KEYS = {
    "k", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "h2", "q",
    "q_p", "z_or_t", "p", "exp",
}  # fmt: skip


def _bcg_full_csv(path: Path) -> Path:
    lines = ["study,ai,bi,ci,di,alloc,ablat"]
    for n, row in enumerate(zip(TPOS, TNEG, CPOS, CNEG, strict=True), start=1):
        lines.append(f"trial {n}," + ",".join(map(str, row)) + f",{ALLOC[n - 1]},{ABLAT[n - 1]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_subgroups_moderators_and_extra_analyses_in_json(tmp_path) -> None:
    from steppingstones.evidence.meta import (
        egger_test,
        leave_one_out,
        meta_regression,
        subgroup_analysis,
        trim_and_fill,
    )
    from tests.evidence.test_meta import bcg

    forest, funnel = tmp_path / "forest.png", tmp_path / "funnel.pdf"
    result = _run(
        str(_bcg_full_csv(tmp_path / "bcg.csv")), "--measure", "RR", "--json",
        "--subgroup", "alloc", "--moderator", "ablat", "--leave-one-out", "--egger",
        "--trim-fill", "--forest", str(forest), "--funnel", str(funnel), "--contours",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= BASE_KEYS and out["estimate"] == pytest.approx(-0.7145, abs=DP4)
    es = bcg()
    split = subgroup_analysis(es, groups=ALLOC)
    assert list(out["subgroups"]) == ["random", "alternate", "systematic"]
    for name, fit in split.results.items():
        assert out["subgroups"][name]["estimate"] == pytest.approx(fit.estimate, rel=1e-12)
        assert out["subgroups"][name]["k"] == fit.k
    # Published per-group REML estimates (RMA_UNI_PAGE): random -0.9710, systematic -0.4242.
    assert out["subgroups"]["random"]["estimate"] == pytest.approx(-0.9710, abs=DP4)
    assert out["subgroups"]["systematic"]["estimate"] == pytest.approx(-0.4242, abs=DP4)
    assert out["test_of_differences"] == {
        "q": pytest.approx(split.q_between, rel=1e-12),
        "df": 2,
        "p": pytest.approx(split.q_between_p, rel=1e-12),
    }
    reg = meta_regression(es, moderators={"ablat": ABLAT})
    mr = out["meta_regression"]
    assert list(mr["coefficients"]) == ["intrcpt", "ablat"]
    assert mr["coefficients"]["ablat"]["estimate"] == pytest.approx(reg.coefficients[1])
    assert mr["coefficients"]["ablat"]["estimate"] == pytest.approx(-0.0291, abs=DP4)
    assert mr["qm"] == pytest.approx(reg.qm) and mr["r2"] == pytest.approx(reg.r2)
    loo = out["leave_one_out"]
    assert [row["omitted"] for row in loo] == [f"trial {n}" for n in range(1, 14)]
    assert loo[0]["estimate"] == pytest.approx(leave_one_out(es)[0].estimate, rel=1e-12)
    egger = egger_test(es)
    assert out["egger"]["stat"] == pytest.approx(egger.stat) and out["egger"]["test"] == "z"
    filled = trim_and_fill(es)
    assert out["trim_fill"]["k0"] == filled.k0 and out["trim_fill"]["side"] == filled.side
    assert len(out["trim_fill"]["filled"]) == filled.k0
    assert out["trim_fill"]["result"]["k"] == 13 + filled.k0
    assert forest.read_bytes().startswith(b"\x89PNG")
    assert funnel.read_bytes().startswith(b"%PDF")


def test_text_output_lists_the_extra_analyses(tmp_path) -> None:
    forest = tmp_path / "forest.svg"
    result = _run(
        str(_bcg_full_csv(tmp_path / "bcg.csv")), "--measure", "RR", "--hksj",
        "--subgroup", "alloc", "--moderator", "ablat", "--leave-one-out", "--egger",
        "--trim-fill", "--forest", str(forest),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for heading in (
        "Subgroups by alloc:",
        "Test for subgroup differences: Q(2) =",
        "Meta-regression (REML, k = 13):",
        "Leave one out (each study omitted in turn):",
        "without trial 13",
        "Egger's regression test for funnel plot asymmetry: t(11) =",
        "Trim and fill (L0):",
    ):
        assert heading in text, heading
    svg = forest.read_text(encoding="utf-8")
    assert "Subgroup random (k = 7)" in svg and "Test for subgroup differences" in svg


def test_single_study_json_has_nulls_not_nan(tmp_path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("study,yi,vi\nonly,0.3,0.09\n")
    result = _run(str(path), "--measure", "GEN", "--json")
    assert result.returncode == 0, result.stderr
    assert "NaN" not in result.stdout
    out = json.loads(result.stdout)
    assert (out["k"], out["estimate"], out["tau2"], out["q_df"]) == (1, 0.3, 0.0, 0)
    assert out["i2"] is None and out["q_p"] is None and out["h2"] is None
    text = _run(str(path), "--measure", "GEN")
    assert text.returncode == 0 and "a single study" in text.stdout


@pytest.mark.parametrize(
    ("csv", "args", "expected"),
    [
        ("study,yi,vi\nA,0.1,0.2\nB,0.3,0\n", ["--measure", "GEN"],
         "row 3 (B): sampling variance must be > 0"),
        ("study,yi,vi\nA,0.1,0.2\n\nB,0.3,-1\n", ["--measure", "GEN"],
         "row 4 (B): sampling variance must be > 0"),
        ("study,ai,bi,ci,di\nA,1,10,2,10\nB,0,0,0,0\n", ["--measure", "OR"],
         "row 3 (B): group 1 size n1i = ai + bi must be > 0"),
        ("study,ai,bi,ci,di\nA,1,10,2,10\nB,,10,2,10\n", ["--measure", "OR"],
         "row 3 (B), column ai: missing value"),
        ("study,ai,bi,ci,di\nA,1,10,2,10\nB,NA,10,2,10\n", ["--measure", "OR"],
         "row 3 (B), column ai: missing value"),
        ("study,yi,vi,g\nA,0.1,0.2,x\nB,0.3,0.1,\n", ["--measure", "GEN", "--subgroup", "g"],
         "row 3 (B), column g: missing value"),
        ("study,yi,vi,m\nA,0.1,0.2,1\nB,0.3,0.1,high\n", ["--measure", "GEN", "--moderator", "m"],
         "row 3 (B), column m: 'high' is not a number"),
        ("study,yi,vi\nA,0.1,0.2\n", ["--measure", "GEN", "--subgroup", "g"],
         "row 1: no column 'g' in the file"),
        ("study,yi,vi,m\nA,0.1,0.2,1\nB,0.3,0.1,2\n", ["--measure", "GEN", "--moderator", "m"],
         "too few studies for meta-regression"),
        ("study,yi,vi\nA,0.1,0.2\n", ["--measure", "GEN", "--forest", "plot.gif"],
         "--forest: plot.gif: a figure file must end in .svg, .png or .pdf"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_naming_row_and_column(
    tmp_path, csv: str, args: list[str], expected: str
) -> None:
    path = tmp_path / "data.csv"
    path.write_text(csv)
    result = _run(str(path), *args)
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr

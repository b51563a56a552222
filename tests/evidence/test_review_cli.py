"""`steppingstones evidence parse | import | simulate` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from steppingstones.cli import main
from steppingstones.evidence.models import Record, Review, Source

FIXTURES = Path(__file__).parent / "fixtures" / "references"
SCREENING = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "screening"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "steppingstones.cli", "evidence", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_parse_prints_normalised_records_as_json() -> None:
    result = _run("parse", str(FIXTURES / "ovid.ris"), "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert records
    for record in records:
        assert set(record) >= {
            "title",
            "abstract",
            "authors",
            "year",
            "journal",
            "volume",
            "issue",
            "pages",
            "doi",
            "pmid",
            "keywords",
            "type",
        }
        assert isinstance(record["authors"], list)
        if record["doi"]:
            assert record["doi"] == record["doi"].lower()
            assert not record["doi"].startswith(("http", "doi:"))


def test_parse_names_the_line_of_a_malformed_file() -> None:
    result = _run("parse", str(FIXTURES / "malformed_no_ty.ris"), "--format", "ris")
    assert result.returncode == 1
    assert "malformed_no_ty.ris, line" in result.stderr
    assert "Traceback" not in result.stderr


def test_hostile_xml_is_refused_on_the_command_line() -> None:
    result = _run("parse", str(FIXTURES / "billion_laughs.xml"))
    assert result.returncode == 1
    assert "refused" in result.stderr


@pytest.mark.django_db
def test_import_stores_every_record_or_none(make_study, tmp_path) -> None:
    study = make_study("alpha")
    review = Review.objects.create(study=study, slug="r", title="R")
    code = main(
        [
            "evidence",
            "import",
            str(FIXTURES / "pubmed.ris"),
            "--study",
            "alpha",
            "--review",
            "r",
            "--source",
            "PubMed",
        ]
    )
    assert code == 0
    stored = Record.objects.filter(review=review).count()
    assert stored > 0
    assert Source.objects.get(review=review).name == "PubMed"
    code = main(
        [
            "evidence",
            "import",
            str(FIXTURES / "malformed_truncated.ris"),
            "--study",
            "alpha",
            "--review",
            "r",
            "--source",
            "PubMed",
        ]
    )
    assert code == 1
    assert Record.objects.filter(review=review).count() == stored
    assert (
        main(
            [
                "evidence",
                "import",
                str(FIXTURES / "pubmed.ris"),
                "--study",
                "alpha",
                "--review",
                "nope",
                "--source",
                "X",
            ]
        )
        == 1
    )


def _labelled(path: Path) -> Path:
    rows = ["title,abstract,label_included"]
    for n in range(60):
        relevant = n % 6 == 0
        topic = "integrated antenatal care opioid pregnancy" if relevant else "rodent liver enzyme"
        rows.append(f"Study {n} of {topic},An abstract about {topic} number {n},{int(relevant)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_simulate_reports_the_metrics_and_is_reproducible(tmp_path) -> None:
    data = _labelled(tmp_path / "labelled.csv")
    first = _run("simulate", str(data), "--seed", "3", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    for key in (
        "records",
        "inclusions",
        "screened_to_95",
        "screened_to_100",
        "wss95",
        "recall_at_10pct",
        "atd",
    ):
        assert key in report
    assert report["records"] == 60 and report["inclusions"] == 10
    # Perfectly separable topics: every inclusion is found before any exclusion after the
    # two priors, so 100% recall needs at most 11 records.
    assert report["screened_to_100"] <= 11
    assert report["wss95"] > 0.7
    again = _run("simulate", str(data), "--seed", "3", "--json")
    assert json.loads(again.stdout) == report


def test_simulate_refuses_a_file_without_labels(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("title,abstract\na,b\n", encoding="utf-8")
    result = _run("simulate", str(bad))
    assert result.returncode == 1
    assert "bad.csv" in result.stderr and "label_included" in result.stderr


@pytest.mark.skipif(not SCREENING.exists(), reason="the shared screening datasets are absent")
def test_simulate_beats_random_screening_on_real_data() -> None:
    result = _run("simulate", str(SCREENING / "Cohen_2006_ADHD.csv"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # Random screening has an expected WSS@95 of 0; Cohen et al. (2006, JAMIA 13:206) report
    # 0.680 on this review for their voting-perceptron classifier.
    assert report["wss95"] > 0.4

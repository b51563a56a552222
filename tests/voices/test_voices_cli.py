"""`steppingstones voices import-qdpx | export-qdpx` as a user runs them, on real files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from steppingstones.cli import main
from steppingstones.core.models import AuditEvent, Study
from steppingstones.voices.models import Code, Coding, Source
from steppingstones.voices.refiqda import read_qdpx

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NVIVO = Path(__file__).resolve().parents[2].parent / "shared" / "refi-qda" / "fixtures"


def mixed_qdpx(path: Path) -> Path:
    folder = FIXTURES / "mixed_dialects"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in sorted(folder.rglob("*")):
            if item.is_file():
                archive.write(item, item.relative_to(folder).as_posix())
    return path


def test_import_then_export_through_the_command_line(
    make_study: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study: Study = make_study("alpha")
    source = mixed_qdpx(tmp_path / "team project.qdpx")
    code = main(["voices", "import-qdpx", str(source), "--study", "alpha", "--site", "GG"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.startswith("Imported team project.qdpx into alpha at GG: ")
    project = read_qdpx(source)
    assert Source.objects.filter(study=study, site__code="GG").count() == len(project.text_sources)
    whole = [c for s in project.text_sources for c in s.codings]  # codings of a whole source
    assert whole, "the fixture codes a whole source too"
    stored = Coding.objects.filter(source__study=study)
    assert stored.count() == len(list(project.codings())) + len(whole)
    event = AuditEvent.objects.get(action="voices.import-qdpx")
    assert event.actor_name == "command line"

    target = tmp_path / "out.qdpx"
    code = main(["voices", "export-qdpx", "--study", "alpha", "-o", str(target)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.startswith("Exported ") and str(target) in out.out
    again = read_qdpx(target)
    assert {s.guid for s in again.text_sources} == {s.guid for s in project.text_sources}
    assert {c.guid for _, _, c in again.codings()} == {c.guid for _, _, c in project.codings()} | {
        c.guid for c in whole
    }
    assert {c.guid for c in again.all_codes()} == {c.guid for c in project.all_codes()}


@pytest.mark.skipif(not (NVIVO / "oltas_teszt.qdpx").is_file(), reason="NVivo fixtures absent")
def test_nvivo_import_with_a_single_site_needs_no_site_option(
    make_study: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    make_study("solo", sites=("AA",))
    code = main(["voices", "import-qdpx", str(NVIVO / "oltas_teszt.qdpx"), "--study", "solo"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "2 sources, 152 new codes (0 already here), 330 codings" in out.out
    assert Code.objects.filter(study__slug="solo").count() == 152


def test_refusals_are_one_line_and_store_nothing(
    make_study: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_study("alpha")
    evil = tmp_path / "evil.qdpx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", b'<Project name="x"/>')
        archive.writestr("../../outside.txt", b"owned")
    evil.write_bytes(buffer.getvalue())
    cases = [
        (["import-qdpx", str(evil), "--study", "alpha", "--site", "EL"], "leaves the archive"),
        (["import-qdpx", str(evil), "--study", "alpha"], "choose the site"),
        (["import-qdpx", str(evil), "--study", "nope", "--site", "EL"], "no study"),
        (["import-qdpx", str(evil), "--study", "alpha", "--site", "ZZ"], "no site 'ZZ'"),
        (["import-qdpx", str(tmp_path / "missing.qdpx"), "--study", "alpha"], "no such file"),
        (["export-qdpx", "--study", "alpha", "-o", str(tmp_path / "x.zip")], "must end in"),
    ]
    for args, message in cases:
        assert main(["voices", *args]) == 1
        err = capsys.readouterr().err
        assert err.startswith("steppingstones voices: ") and message in err, err
    assert not Source.objects.exists()
    again = mixed_qdpx(tmp_path / "twice.qdpx")
    assert main(["voices", "import-qdpx", str(again), "--study", "alpha", "--site", "EL"]) == 0
    before = Source.objects.count()
    assert main(["voices", "import-qdpx", str(again), "--study", "alpha", "--site", "EL"]) == 1
    assert "is already in this study" in capsys.readouterr().err
    assert Source.objects.count() == before

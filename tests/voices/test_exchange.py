"""REFI-QDA exchange of a study's Voices data (steppingstones.voices.exchange), on the database.

The real NVivo exports and the official schemas live in ``shared/refi-qda/`` beside the
project; the tests that need them skip when it is absent.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from steppingstones.cohort import services as cohort_services
from steppingstones.core.demo_load import load_demo
from steppingstones.core.models import AuditEvent, Participant, Study
from steppingstones.voices import exchange
from steppingstones.voices.models import (
    AgreementRound,
    Case,
    Code,
    Coding,
    Memo,
    Source,
    SourceSet,
)
from steppingstones.voices.refiqda import (
    Project,
    RefiQdaError,
    project_xml,
    read_qdpx,
    validate_project_xml,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "refi-qda"
NVIVO_0517 = SHARED / "fixtures" / "oltas0517.qdpx"
NVIVO_TESZT = SHARED / "fixtures" / "oltas_teszt.qdpx"
MIXED = Path(__file__).resolve().parent / "fixtures" / "mixed_dialects"
needs_shared = pytest.mark.skipif(
    not (NVIVO_0517.is_file() and NVIVO_TESZT.is_file()),
    reason="shared/refi-qda/fixtures (the real NVivo exports) is not beside the project",
)
needs_schemas = pytest.mark.skipif(
    not (SHARED / "Project.xsd").is_file(), reason="the official REFI-QDA schemas are absent"
)


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def rewrite(
    data: bytes,
    *,
    rename: Callable[[str], str] = lambda n: n,
    qde: Callable[[bytes], bytes] = lambda x: x,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            if info.filename.casefold().endswith(".qde"):
                content = qde(content)
            target.writestr(rename(info.filename), content)
        for name, content in (extra or {}).items():
            target.writestr(zipfile.ZipInfo(name), content)
    return buffer.getvalue()


def counts(study: Study) -> dict[str, int]:
    return {
        "sources": Source.objects.filter(study=study).count(),
        "codes": Code.objects.filter(study=study).count(),
        "codings": Coding.objects.filter(source__study=study).count(),
        "memos": Memo.objects.filter(study=study).count(),
        "cases": Case.objects.filter(study=study).count(),
        "sets": SourceSet.objects.filter(study=study).count(),
    }


EMPTY = {"sources": 0, "codes": 0, "codings": 0, "memos": 0, "cases": 0, "sets": 0}


@pytest.fixture
def demo(db: Any) -> Study:
    load_demo()
    return Study.objects.get(slug="demo")


@pytest.fixture(scope="module")
def demo_qdpx(django_db_setup: Any, django_db_blocker: Any) -> bytes:
    """The demo study's export, made once: the demo is loaded and rolled back again."""
    with django_db_blocker.unblock(), transaction.atomic():
        load_demo()
        data, _ = exchange.export_qdpx(Study.objects.get(slug="demo"))
        transaction.set_rollback(True)
    return data


@pytest.fixture(scope="module")
def demo_project(demo_qdpx: bytes) -> Project:
    return read_qdpx(demo_qdpx)


@pytest.fixture
def target(make_study: Callable[..., Study]) -> Study:
    study = make_study("copy")
    cohort_services.ensure_waves(study)
    return study


# -- export -----------------------------------------------------------------------------------


def test_export_holds_only_ready_de_identified_text(demo: Study) -> None:
    data, summary = exchange.export_qdpx(demo)
    project = read_qdpx(data)
    ready = Source.objects.filter(study=demo, status="ready")
    assert {s.guid for s in project.sources} == set(ready.values_list("guid", flat=True))
    assert summary.sources == ready.count()
    for source in project.text_sources:
        assert source.text == Source.objects.get(guid=source.guid).text
    in_review = Source.objects.filter(study=demo, status="review")
    assert in_review.count() == 2
    blob = data.decode("latin-1")
    for source in in_review:
        assert source.guid not in blob
    assert "Darren" not in blob and "999 123 4560" not in blob
    assert [u.name for u in project.users] == ["demo-peer-researcher", "demo-researcher"]
    assert AuditEvent.objects.filter(action="voices.export-qdpx").count() == 1


def test_export_carries_codebook_selections_notes_cases_and_sets(demo: Study) -> None:
    project, summary = exchange.build_project(demo)
    codes = {c.guid: c for c in project.all_codes()}
    assert len(codes) == Code.objects.filter(study=demo).count()
    nas = Code.objects.get(study=demo, name="Baby's withdrawal and neonatal care")
    exported = codes[nas.guid]
    assert exported.color == nas.colour
    assert exchange.split_description(exported.description) == {
        "description": nas.description,
        "inclusion": nas.inclusion,
        "exclusion": nas.exclusion,
        "example": nas.example,
    }
    assert len(project.codes) == 10 and all(c.children for c in project.codes[:8])
    codings = list(project.codings())
    assert len(codings) == Coding.objects.filter(source__study=demo).count() == summary.codings
    for source, selection, _ in codings:
        assert 0 <= selection.start < selection.end <= len(source.text)
    two_coders = [s for s in project.text_sources for s in s.selections if len(s.codings) > 1]
    assert any(len({c.creating_user for c in sel.codings}) == 2 for sel in two_coders), (
        "one selection holds both coders' codings of the same range"
    )
    assert len(project.notes) == Memo.objects.filter(study=demo).count()
    assert project.note_refs, "a memo on nothing in particular is a project note"
    case = next(c for c in project.cases if c.name == "EL-W01")
    values = project.case_values(case)
    assert values["Site"] == "EL"
    assert values["Participant kind"] == "woman"
    assert isinstance(values["Parity"], int)
    assert values["Pathway after birth"]
    assert values["Waves interviewed"] == "1, 2, 3, 5"
    assert case.source_refs
    assert {s.name for s in project.sets} == {"Around birth", "Wave 1 interviews"}
    source = project.text_sources[0]
    wave_guid = exchange.variable_guid(exchange.WAVE_VARIABLE)
    assert any(v.variable_guid == wave_guid for v in source.values)


@needs_schemas
def test_export_is_valid_against_the_official_schema(
    demo_qdpx: bytes, demo_project: Project
) -> None:
    with zipfile.ZipFile(io.BytesIO(demo_qdpx)) as archive:
        assert validate_project_xml(archive.read("project.qde")) == []
    xml, _ = project_xml(demo_project)
    assert validate_project_xml(xml) == []


def test_site_limited_export_holds_only_those_sites(demo: Study) -> None:
    el = demo.sites.get(code="EL")
    project, _ = exchange.build_project(demo, site_ids=[el.pk])
    guids = {s.guid for s in project.sources}
    assert guids == set(
        Source.objects.filter(study=demo, status="ready", site=el).values_list("guid", flat=True)
    )
    assert {c.name[:2] for c in project.cases} == {"EL"}
    sourced = Memo.objects.filter(study=demo, source__isnull=False).exclude(source__site=el)
    assert not {m.guid for m in sourced} & {n.guid for n in project.notes}


def test_a_coder_coding_blind_exports_only_her_own_codings_of_the_rounds_sources(
    demo: Study,
) -> None:
    agreement = AgreementRound.objects.get(study=demo)
    agreement.status = AgreementRound.Status.CODING
    agreement.save()
    coder = agreement.coders.order_by("username").first()
    assert coder is not None
    in_round = set(agreement.sources.values_list("guid", flat=True))
    project, _ = exchange.build_project(demo, user=coder)
    exported = {
        (source.guid, coding.creating_user) for source, _selection, coding in project.codings()
    }
    users = {u.guid: u.name for u in project.users}
    on_round = {users.get(user or "") for guid, user in exported if guid in in_round}
    assert on_round == {coder.get_username()}
    # A member not coding in the round exports every coder's codings.
    everyone, _ = exchange.build_project(demo)
    names = {u.guid: u.name for u in everyone.users}
    assert (
        len(
            {
                names.get(c.creating_user or "")
                for s, _, c in everyone.codings()
                if s.guid in in_round
            }
        )
        >= 2
    )


# -- round trip --------------------------------------------------------------------------------


def test_round_trip_loses_nothing_the_format_carries(
    demo_qdpx: bytes, demo_project: Project, target: Study
) -> None:
    summary = exchange.import_qdpx(target, demo_qdpx, site=target.sites.get(code="EL"))
    assert summary.not_kept == []
    second, _ = exchange.export_qdpx(target)
    again = read_qdpx(second)
    assert dataclasses.replace(again, name=demo_project.name) == demo_project
    copy = Code.objects.get(study=target, name="Care on the ward")
    original = next(c for c in demo_project.all_codes() if c.name == "Care on the ward")
    assert copy.guid == original.guid and copy.colour == original.color
    parts = exchange.split_description(original.description)
    assert (copy.description, copy.inclusion, copy.exclusion, copy.example) == (
        parts["description"],
        parts["inclusion"],
        parts["exclusion"],
        parts["example"],
    )
    assert copy.inclusion and copy.example
    assert copy.parent is not None and copy.parent.name == "Birth and the postnatal ward"
    moved = Source.objects.get(study=target, name="EL-W01 wave 1 interview")
    assert moved.wave is not None and moved.wave.number == 1
    assert moved.kind == "interview" and moved.status == "ready"
    assert moved.turns and moved.turns[0]["role"] == "interviewer"


def test_import_links_cases_to_participants_by_pseudonym(demo_qdpx: bytes, target: Study) -> None:
    site = target.sites.get(code="EL")
    person = Participant.objects.create(study=target, site=site, kind="woman", pseudonym="EL-W01")
    summary = exchange.import_qdpx(target, demo_qdpx, site=site, label="demo.qdpx")
    assert summary.cases_matched == 1
    case = Case.objects.get(study=target, name="EL-W01")
    assert case.participant == person
    assert case.variables["Site"] == "EL"
    assert set(Source.objects.filter(participant=person).values_list("name", flat=True)) == {
        s.name for s in case.sources.all()
    }


def test_reimporting_the_same_file_is_refused_and_stores_nothing(
    demo_qdpx: bytes, target: Study
) -> None:
    data = demo_qdpx
    site = target.sites.get(code="EL")
    exchange.import_qdpx(target, data, site=site, label="demo.qdpx")
    before = counts(target)
    with pytest.raises(exchange.ExchangeError, match=r"^demo\.qdpx: source '.+' \(GUID "):
        exchange.import_qdpx(target, data, site=site, label="demo.qdpx")
    assert counts(target) == before


def test_a_codebook_exported_from_here_is_reused_not_duplicated(
    demo_project: Project, target: Study
) -> None:
    project = demo_project
    site = target.sites.get(code="GG")
    only_codes = Project(name="codebook", codes=project.codes)
    exchange.import_project(target, only_codes, site=site)
    summary = exchange.import_project(target, project, site=site)
    assert summary.codes == 0 and summary.codes_reused == len(list(project.all_codes()))
    assert Code.objects.filter(study=target).count() == len(list(project.all_codes()))


# -- real NVivo exports -----------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("path", [NVIVO_0517, NVIVO_TESZT], ids=["0517", "teszt"])
def test_nvivo_exports_import_keeping_codes_and_codings(path: Path, target: Study) -> None:
    project = read_qdpx(path)
    summary = exchange.import_qdpx(target, path, site=target.sites.get(code="GG"))
    assert summary.sources == 2
    assert summary.codes == len(list(project.all_codes())) == 152
    assert summary.codings == len(list(project.codings()))
    assert any("rich-text originals" in item for item in summary.not_kept)
    stored = Source.objects.get(study=target, guid="68BBDC14-C361-4432-B4DD-AE1DBFC12890")
    original = next(s for s in project.text_sources if s.guid == stored.guid)
    assert stored.text == original.text, "the text as given, CRLF line ends and all"
    assert "\r\n" in stored.text
    for sel in original.selections[:50]:
        for coding in sel.codings:
            row = Coding.objects.get(source=stored, guid=coding.guid)
            assert (row.start, row.end) == (sel.start, sel.end)
            assert row.selection_guid == sel.guid
            assert row.code.guid == coding.code_guid
    names = {u.guid: u.name for u in project.users}
    coders = set(Coding.objects.filter(source=stored).values_list("coder_name", flat=True))
    assert coders == {names[c.creating_user] for _, _, c in project.codings()}
    top = Code.objects.get(study=target, name="1. Oltás típusa")
    assert [c.name for c in top.children.order_by("position")] == ["COVID", "Nem COVID"]
    uncodable = [c for c in project.all_codes() if not c.is_codable]
    assert Code.objects.get(study=target, guid=uncodable[0].guid).is_codable is False


@needs_shared
def test_nvivo_import_exports_again_at_the_same_places(target: Study) -> None:
    project = read_qdpx(NVIVO_0517)
    exchange.import_qdpx(target, NVIVO_0517, site=target.sites.get(code="GG"))
    again = read_qdpx(exchange.export_qdpx(target)[0])
    original = {
        (s.guid, sel.guid, sel.start, sel.end, c.guid, c.code_guid)
        for s in project.text_sources
        for sel in s.selections
        for c in sel.codings
    }
    exported = {
        (s.guid, sel.guid, sel.start, sel.end, c.guid, c.code_guid)
        for s in again.text_sources
        for sel in s.selections
        for c in sel.codings
    }
    assert exported == original
    assert {s.guid: s.text for s in again.text_sources} == {
        s.guid: s.text for s in project.text_sources
    }


def test_memos_and_cases_of_another_tool_are_kept(target: Study) -> None:
    data = zip_folder(MIXED)
    project = read_qdpx(data, label="mixed.qdpx")
    summary = exchange.import_qdpx(target, data, site=target.sites.get(code="EL"), label="m.qdpx")
    assert summary.memos == len(project.notes) and summary.memos > 0
    assert summary.cases == len(project.cases) and summary.cases > 0
    for note in project.notes:
        memo = Memo.objects.get(study=target, guid=note.guid)
        assert memo.text == note.text
    for case in project.cases:
        stored = Case.objects.get(study=target, guid=case.guid)
        assert set(stored.variables) == set(project.case_values(case))


# -- dialects -------------------------------------------------------------------------------

DIALECTS: dict[str, dict[str, Callable[..., Any]]] = {
    "lower-case sources/ folder": {"rename": lambda n: n.replace("Sources/", "sources/")},
    "upper-case file names": {
        "rename": lambda n: n if "/" not in n else n.split("/")[0] + "/" + n.split("/")[1].upper()
    },
    "lower-case GUIDs": {"qde": lambda x: _lower_guids(x)},
    "BOM before the XML": {"qde": lambda x: b"\xef\xbb\xbf" + x},
    "CRLF line ends": {"qde": lambda x: x.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")},
    "inner file not named project.qde": {
        "rename": lambda n: "Export 2024.qde" if n.endswith(".qde") else n
    },
}


def _lower_guids(xml: bytes) -> bytes:
    import re

    pattern = rb"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"
    return re.sub(pattern, lambda m: m.group().lower(), xml)


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_dialects_import_the_same(
    dialect: str, demo_qdpx: bytes, demo_project: Project, target: Study
) -> None:
    variant = rewrite(demo_qdpx, **DIALECTS[dialect])
    assert variant != demo_qdpx
    exchange.import_qdpx(target, variant, site=target.sites.get(code="EL"))
    assert set(Source.objects.filter(study=target).values_list("guid", flat=True)) == {
        s.guid for s in demo_project.sources
    }
    assert set(Coding.objects.filter(source__study=target).values_list("guid", flat=True)) == {
        c.guid for _, _, c in demo_project.codings()
    }
    assert (
        dataclasses.replace(read_qdpx(exchange.export_qdpx(target)[0]), name=demo_project.name)
        == demo_project
    )


# -- hostile input --------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Project [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&secret;"/>
"""


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("project.qde", b'<Project name="bomb"/>')
        with archive.open("Sources/zeros.txt", "w", force_zip64=True) as entry:
            block = bytes(1 << 20)
            for _ in range(600):
                entry.write(block)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("hostile", "message"),
    [
        (
            lambda data: rewrite(data, extra={"../../evil.txt": b"owned"}),
            r"^hostile\.qdpx: entry '\.\./\.\./evil\.txt' leaves the archive$",
        ),
        (
            lambda data: rewrite(data, extra={"Sources/../../../etc/cron.d/x": b"owned"}),
            r"leaves the archive",
        ),
        (lambda data: _bomb(), r"^hostile\.qdpx: the archive unpacks to more than .*zip bomb"),
        (
            lambda data: rewrite(data, qde=lambda _: BILLION_LAUGHS),
            r"^hostile\.qdpx: project\.qde line 2: a document type declaration",
        ),
        (
            lambda data: rewrite(data, qde=lambda _: EXTERNAL_ENTITY),
            r"entity expansion and external entities are refused",
        ),
        (lambda data: b"PK\x03\x04 not really a zip", r"^hostile\.qdpx: not a readable ZIP"),
    ],
    ids=["path-traversal", "nested-traversal", "zip-bomb", "billion-laughs", "xxe", "not-a-zip"],
)
def test_hostile_files_are_refused_and_nothing_is_stored(
    hostile: Callable[[bytes], bytes], message: str, demo_qdpx: bytes, target: Study
) -> None:
    data = demo_qdpx
    with pytest.raises(RefiQdaError, match=message):
        exchange.import_qdpx(
            target, hostile(data), site=target.sites.get(code="EL"), label="hostile.qdpx"
        )
    assert counts(target) == EMPTY


def test_a_fault_late_in_the_file_leaves_nothing_behind(
    demo_project: Project, target: Study
) -> None:
    project = demo_project
    last = project.text_sources[-1]
    broken = dataclasses.replace(
        project,
        sources=(
            *project.sources[:-1],
            dataclasses.replace(last, text=last.text + "\x00"),
        ),
    )
    with pytest.raises(exchange.ExchangeError, match=r"holds a NUL character"):
        exchange.import_project(target, broken, site=target.sites.get(code="EL"), label="x.qdpx")
    assert counts(target) == EMPTY


def test_the_site_must_belong_to_the_study(
    demo_project: Project, target: Study, make_study: Callable[..., Study]
) -> None:
    other = make_study("other")
    with pytest.raises(exchange.ExchangeError, match="not a site of"):
        exchange.import_project(target, demo_project, site=other.sites.get(code="EL"))
    assert counts(target) == EMPTY


def test_descriptions_split_back_into_criteria() -> None:
    text = "About it.\n\nInclusion criteria: in\n\nExclusion criteria: out\n\nExample: e.g."
    assert exchange.split_description(text) == {
        "description": "About it.",
        "inclusion": "in",
        "exclusion": "out",
        "example": "e.g.",
    }
    assert exchange.split_description("Example: only") == {
        "description": "",
        "inclusion": "",
        "exclusion": "",
        "example": "only",
    }
    plain = "No headings here.\n\nJust text."
    assert exchange.split_description(plain)["description"] == plain

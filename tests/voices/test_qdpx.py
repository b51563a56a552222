"""REFI-QDA exchange (steppingstones.voices.refiqda): import, export, schema, dialects, hostility.

No database. The real NVivo exports and the official schemas live in ``shared/refi-qda/``
beside the project; the tests that need them skip when it is absent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import stat
import struct
import zipfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steppingstones.voices.refiqda import (
    EXPORT_ORIGIN,
    Case,
    Code,
    Codebook,
    Coding,
    Note,
    OtherSource,
    PlainTextSelection,
    PositionMap,
    Project,
    RefiQdaError,
    Set,
    TextSource,
    User,
    Variable,
    VariableValue,
    project_xml,
    read_qdc,
    read_qdpx,
    validate_codebook_xml,
    validate_project_xml,
    write_qdc,
    write_qdpx,
)

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
REFI = SHARED / "refi-qda"
NVIVO_0517 = REFI / "fixtures" / "oltas0517.qdpx"
NVIVO_TESZT = REFI / "fixtures" / "oltas_teszt.qdpx"

needs_shared = pytest.mark.skipif(
    not (NVIVO_0517.is_file() and NVIVO_TESZT.is_file()),
    reason="shared/refi-qda/fixtures (the real NVivo exports) is not beside the project",
)
needs_schemas = pytest.mark.skipif(
    not ((REFI / "Project.xsd").is_file() and (REFI / "Codebook.xsd").is_file()),
    reason="shared/refi-qda/Project.xsd and Codebook.xsd (the official schemas) are absent",
)

NVIVO_ORIGIN = "NVivo for Windows 12.6"
VIDEOS_10 = "68BBDC14-C361-4432-B4DD-AE1DBFC12890"  # the coded source in both NVivo exports
VIDEOS_ALL = "DDBEBE1B-306F-4271-ACDD-AE1DA7C06FCD"
GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# -- helpers ------------------------------------------------------------------------------


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
    rename: Callable[[str], str] = lambda name: name,
    qde: Callable[[bytes], bytes] = lambda xml: xml,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A copy of a .qdpx with entries renamed, the .qde transformed and entries added."""
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


def qde_of(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".qde")]
        return archive.read(name)


def with_qde(data: bytes, xml: bytes) -> bytes:
    return rewrite(data, qde=lambda _: xml)


def boundary_share(source: TextSource) -> float:
    """The share of selections that start and end on a word boundary."""

    def at_boundary(i: int) -> bool:
        text = source.text
        return i in (0, len(text)) or not (text[i - 1].isalnum() and text[i].isalnum())

    sels = source.selections
    return sum(at_boundary(s.start) and at_boundary(s.end) for s in sels) / len(sels)


def source(project: Project, guid: str) -> TextSource:
    (found,) = [s for s in project.text_sources if s.guid == guid]
    return found


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nvivo_0517_bytes() -> bytes:
    return NVIVO_0517.read_bytes()


@pytest.fixture(scope="module")
def nvivo_0517(nvivo_0517_bytes: bytes) -> Project:
    return read_qdpx(nvivo_0517_bytes)


@pytest.fixture(scope="module")
def nvivo_teszt() -> Project:
    return read_qdpx(NVIVO_TESZT)


@pytest.fixture(scope="module")
def mixed_bytes() -> bytes:
    return zip_folder(FIXTURES / "mixed_dialects")


@pytest.fixture(scope="module")
def mixed(mixed_bytes: bytes) -> Project:
    return read_qdpx(mixed_bytes, label="mixed.qdpx")


# -- the real NVivo exports -----------------------------------------------------------------


@needs_shared
def test_nvivo_0517_counts(nvivo_0517: Project) -> None:
    p = nvivo_0517
    assert p.origin == NVIVO_ORIGIN
    assert p.name == "Untitled"
    assert [u.name for u in p.users] == ["Gergo", "floriansipos"]
    codes = list(p.all_codes())
    assert len(codes) == 152
    assert len(p.codes) == 12
    assert p.codes[0].name == "1. Oltás típusa"
    assert [c.name for c in p.codes[0].children] == ["COVID", "Nem COVID"]
    assert sum(c.description is not None for c in codes) == 82
    assert sum(not c.is_codable for c in codes) == 1
    assert [s.name for s in p.sources] == ["videos_selection", "videos_10_selected"]
    assert [len(s.text) for s in p.text_sources] == [635_491, 600_490]
    assert [len(s.selections) for s in p.text_sources] == [0, 303]
    codings = list(p.codings())
    assert len(codings) == 303
    assert len({c.code_guid for _, _, c in codings}) == 76
    assert {c.creating_user for _, _, c in codings} == {p.users[0].guid}
    assert (p.cases, p.notes, p.sets, p.variables, p.links, p.graphs) == ((),) * 6
    assert p.created == dt.datetime(2025, 2, 21, 15, 9, 7, tzinfo=dt.UTC)


@needs_shared
def test_nvivo_teszt_counts(nvivo_teszt: Project, nvivo_0517: Project) -> None:
    p = nvivo_teszt
    assert [u.name for u in p.users] == ["Gergo", "floriansipos", "test_user"]
    assert p.users[2].id == "test"
    assert len(list(p.all_codes())) == 152
    assert [len(s.selections) for s in p.text_sources] == [0, 330]
    assert len(list(p.codings())) == 330
    by_user: dict[str | None, int] = {}
    for _, _, coding in p.codings():
        by_user[coding.creating_user] = by_user.get(coding.creating_user, 0) + 1
    assert by_user == {p.users[0].guid: 303, p.users[2].guid: 27}
    # The same codebook, and the 303 earlier selections, although this file was re-serialised
    # (attributes in another order, no indentation): 299 at the same places, 4 (all at 50607)
    # ending 2 characters earlier (endPosition 50702 edited to 50700, no modification stamp).
    assert p.codes == nvivo_0517.codes
    earlier = {s.guid: (s.start, s.end) for s in source(nvivo_0517, VIDEOS_10).selections}
    later = {s.guid: (s.start, s.end) for s in source(p, VIDEOS_10).selections}
    changed = {g: (earlier[g], later[g]) for g in earlier if later[g] != earlier[g]}
    assert len(changed) == 4
    assert set(changed.values()) == {((50607, 50657), (50607, 50655))}


@needs_shared
@pytest.mark.parametrize("name", ["nvivo_0517", "nvivo_teszt"])
def test_nvivo_every_coding_lies_in_its_source(name: str, request: pytest.FixtureRequest) -> None:
    project: Project = request.getfixturevalue(name)
    for text_source, selection, coding in project.codings():
        assert 0 <= selection.start < selection.end <= len(text_source.text)
        assert selection.end - selection.start == len(
            text_source.text[selection.start : selection.end]
        )
        assert coding.code_guid in {c.guid for c in project.all_codes()}


@needs_shared
def test_nvivo_texts_keep_crlf_and_drop_the_bom(nvivo_0517: Project) -> None:
    for text_source in nvivo_0517.text_sources:
        assert not text_source.text.startswith("\ufeff")
        assert text_source.text.startswith("video_id\r\nvideo_title\r\n")
        assert text_source.rich_text is not None
        assert text_source.rich_text.startswith(b"PK")  # the .docx original travels along
        assert text_source.rich_text_path == f"internal://{text_source.guid}.docx"


@needs_shared
def test_nvivo_positions_are_utf16_units(nvivo_0517_bytes: bytes, nvivo_0517: Project) -> None:
    """NVivo counts UTF-16 code units; read as such, selections fall on word boundaries."""
    coded = source(nvivo_0517, VIDEOS_10)
    assert sum(ord(ch) > 0xFFFF for ch in coded.text) == 892  # emoji shift the positions
    assert boundary_share(coded) > 0.98
    first = coded.selections[0]
    assert first.guid == "7154A758-6873-4134-BADD-AE1DC04D3086"
    assert coded.text[first.start : first.end].startswith("Senkit nem lehet kötelezni oltásra")
    as_codepoints = source(read_qdpx(nvivo_0517_bytes, positions="codepoints"), VIDEOS_10)
    assert boundary_share(as_codepoints) < 0.25


@needs_shared
def test_nvivo_positions_written_back_as_utf16_match_the_original(
    nvivo_0517_bytes: bytes, nvivo_0517: Project
) -> None:
    def spans(xml: bytes) -> list[tuple[str, str]]:
        return re.findall(rb'startPosition="(\d+)"\s+endPosition="(\d+)"', xml)

    original = spans(qde_of(nvivo_0517_bytes))
    assert len(original) == 303
    assert spans(project_xml(nvivo_0517, positions="utf16")[0]) == original
    assert spans(project_xml(nvivo_0517)[0]) != original  # code points, as the standard says


# -- export: schema validity ------------------------------------------------------------------


NVIVO_AND_MIXED = [
    pytest.param("nvivo_0517", marks=needs_shared),
    pytest.param("nvivo_teszt", marks=needs_shared),
    "mixed",
]


@needs_schemas
@pytest.mark.parametrize("name", NVIVO_AND_MIXED)
def test_export_is_valid_against_project_xsd(name: str, request: pytest.FixtureRequest) -> None:
    project: Project = request.getfixturevalue(name)
    data = write_qdpx(project)
    assert validate_project_xml(qde_of(data), schema_dir=REFI) == []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    assert names[0] == "project.qde"
    assert all(re.fullmatch(rf"Sources/{GUID_RE.pattern.upper()}\.\w+", n) for n in names[1:])
    assert all(g == g.upper() for g in GUID_RE.findall(qde_of(data).decode()))


@needs_schemas
def test_mixed_fixture_itself_is_valid_and_validation_reports_errors() -> None:
    xml = (FIXTURES / "mixed_dialects" / "project.qde").read_bytes()
    assert validate_project_xml(xml, schema_dir=REFI) == []
    broken = xml.replace(b'typeOfVariable="Integer"', b'typeOfVariable="Number"')
    errors = validate_project_xml(broken, schema_dir=REFI)
    assert len(errors) == 1 and "typeOfVariable" in errors[0]


@needs_schemas
def test_validation_refuses_entities_instead_of_expanding_them() -> None:
    errors = validate_project_xml(BILLION_LAUGHS, schema_dir=REFI)
    assert errors and "not a valid XML document" in errors[0]


@needs_schemas
def test_built_project_is_valid_and_reads_back() -> None:
    project = small_project()
    data = write_qdpx(project)
    assert validate_project_xml(qde_of(data), schema_dir=REFI) == []
    assert read_qdpx(data) == dataclasses.replace(project, origin=EXPORT_ORIGIN)


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NVIVO_AND_MIXED)
def test_round_trip_loses_nothing(name: str, request: pytest.FixtureRequest) -> None:
    first: Project = request.getfixturevalue(name)
    exported = write_qdpx(first)
    second = read_qdpx(exported)
    # The export states its own origin; everything else is the same.
    assert second == dataclasses.replace(first, origin=EXPORT_ORIGIN)
    assert write_qdpx(second) == exported  # export -> import -> export: the same bytes
    # Keeping the original origin (NVivo) writes NVivo's positions and still reads back equal.
    assert read_qdpx(write_qdpx(first, origin=first.origin or "")) == first


def test_mixed_fixture_keeps_its_crlf_line_ends() -> None:
    folder = FIXTURES / "mixed_dialects" / "sources"
    interview = (folder / "a1b2c3d4-0000-4000-8000-000000000001.txt").read_bytes()
    memo = (folder / "a1b2c3d4-0000-4000-8000-0000000000aa.txt").read_bytes()
    assert interview.count(b"\r\n") == 5, "line ends were converted: positions would shift"
    assert memo.startswith(b"\xef\xbb\xbf") and b"\r\n" in memo


def test_mixed_fixture_reads_every_part(mixed: Project) -> None:
    p = mixed
    g = "A1B2C3D4-0000-4000-8000-{:012X}".format
    assert [u.guid for u in p.users] == [g(0x101), g(0x102)]  # braces and case normalised
    assert p.modified == dt.datetime(2024, 3, 2, 9, 0, 0, 250_000, tzinfo=dt.UTC)
    folder = p.codes[0]
    assert (folder.name, folder.is_codable, folder.note_refs) == ("Experience", False, (g(0xAB),))
    assert [(c.name, c.color) for c in folder.children] == [
        ("Feeling safe", "#33cc33"),
        ("Waiting", "#F00"),
    ]
    assert folder.children[0].description == 'Safety & trust, "felt safe"'
    assert p.codes[1].name == "Staff <midwives>"
    assert p.case_values(p.cases[0]) == {
        "Age": 31,
        "Site": "Edinburgh",
        "Consented": True,
        "Weight": Decimal("61.50"),
        "Born": dt.date(1993, 7, 14),
        "Interviewed": dt.datetime(2024, 2, 20, 14, 5, tzinfo=dt.UTC),
    }
    assert p.case_values(p.cases[1]) == {"Age": 27, "Site": None}
    interview = p.sources[0]
    assert isinstance(interview, TextSource)
    assert [interview.text[s.start : s.end] for s in interview.selections] == [
        "The midwife listened. I felt safe.",
        "Waiting times were long — three hours.",
        "I felt safe.",
    ]
    assert interview.selections[0].start == 47  # code points: the emoji before it counts once
    assert interview.values == (VariableValue(g(0x302), "Glasgow"),)
    field_note = p.sources[1]
    assert isinstance(field_note, TextSource)
    assert field_note.text[field_note.selections[0].start :][:11] == "opened late"
    picture, pdf, audio = p.sources[2:]
    assert isinstance(picture, OtherSource)
    assert isinstance(pdf, OtherSource)
    assert isinstance(audio, OtherSource)
    assert picture.kind == "Picture" and picture.data and picture.data.startswith(b"\x89PNG")
    assert picture.path == f"internal://{g(0x3)}.png"
    assert picture.selections[0].position == {"firstX": 0, "firstY": 0, "secondX": 1, "secondY": 1}
    assert pdf.kind == "PDF" and pdf.text is not None and pdf.text.text == "Call us any time."
    assert pdf.selections[0].position["page"] == 1
    assert audio.kind == "Audio" and audio.data is None
    assert audio.path == "relative:///audio/interview-2.m4a"
    transcript = audio.transcripts[0]
    assert [sp.position for sp in transcript.sync_points] == [0, 34]
    assert transcript.selections[0].codings[0].code_guid == g(0x202)
    memo_file, memo_inline = p.notes
    assert memo_file.text == "Second thoughts on the waiting room:\r\nchairs, noise, no privacy."
    assert memo_inline.plain_text_path is None
    assert p.sets == (
        Set(
            guid=g(0x801),
            name="Core",
            description="Codes, sources and notes of the core analysis",
            member_code_guids=(g(0x202), g(0x203)),
            member_source_guids=(g(0x1),),
            member_note_guids=(g(0xAA),),
        ),
    )
    assert p.links[0].direction == "OneWay"
    graph = p.graphs[0]
    assert [v.shape for v in graph.vertices] == ["Oval", "Note"]
    assert graph.edges[0].line_style == "dashed"
    assert p.note_refs == (g(0xAB),)
    assert p.base_path == "//STUDY/Sources"


def test_text_oddities_survive_a_round_trip() -> None:
    text = "\ufeffstarts with U+FEFF\r\nthen \x00 and a lone \r and 😀 at the end"
    project = small_project(text=text, memo="line one\r\nform\x0cfeed")
    back = read_qdpx(write_qdpx(project))
    assert back.sources[0] == project.sources[0]
    assert back.notes[0].text == "line one\r\nform\x0cfeed"  # went to a file, XML can't hold it


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    data=st.data(),
)
def test_any_text_and_span_round_trip(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    project = small_project(text=text, span=(start, end))
    back = read_qdpx(write_qdpx(project))
    assert back.sources == project.sources
    nvivo_back = read_qdpx(write_qdpx(project, origin=NVIVO_ORIGIN))
    assert nvivo_back.sources == project.sources


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=40))
def test_position_map_agrees_with_utf16(text: str) -> None:
    pmap = PositionMap(text)
    assert pmap.utf16_length == len(text.encode("utf-16-le")) // 2
    for i in range(len(text) + 1):
        units = len(text[:i].encode("utf-16-le")) // 2
        assert pmap.to_utf16(i) == units
        assert pmap.from_utf16(units) == i


def test_position_inside_a_surrogate_pair_is_refused() -> None:
    assert PositionMap("a😀b").from_utf16(2) is None
    project = small_project(text="a😀b", span=(0, 2))
    xml = project_xml(project, origin=NVIVO_ORIGIN)[0]  # end = 3 units
    broken = xml.replace(b'endPosition="3"', b'endPosition="2"')
    data = write_qdpx(project, origin=NVIVO_ORIGIN)
    with pytest.raises(RefiQdaError, match=r"project\.qde line \d+: selection 0-2 splits"):
        read_qdpx(with_qde(data, broken))


# -- dialects ---------------------------------------------------------------------------------


def _upper_guids(xml: bytes) -> bytes:
    return GUID_RE.sub(lambda m: m.group().upper(), xml.decode("utf-8")).encode("utf-8")


def _braced_guids(xml: bytes) -> bytes:
    text = xml.decode("utf-8")
    return re.sub(rf'"({GUID_RE.pattern})"', r'"{\1}"', text).encode("utf-8")


def _upper_file_name(name: str) -> str:
    folder, _, file = name.rpartition("/")
    stem, _, ext = file.partition(".")
    return f"{folder}/{stem.upper()}.{ext.upper()}" if folder else name


DIALECTS: dict[str, dict[str, Callable[..., object]]] = {
    "lower-case sources/ folder": {"rename": lambda n: n.replace("Sources/", "sources/")},
    "upper-case GUIDs in the XML": {"qde": _upper_guids},
    "upper-case GUID file names": {"rename": _upper_file_name},
    "GUIDs in braces": {"qde": _braced_guids},
    "BOM before the XML": {"qde": lambda x: b"\xef\xbb\xbf" + x},
    "CRLF in the XML": {"qde": lambda x: x.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")},
    "LF in the XML": {"qde": lambda x: x.replace(b"\r\n", b"\n")},
    "inner file not named project.qde": {
        "rename": lambda n: "Oltás export.QDE" if n == "project.qde" else n
    },
    "no XML namespace": {"qde": lambda x: x.replace(b' xmlns="urn:QDA-XML:project:1.0"', b"")},
    "files at the archive root": {"rename": lambda n: n.removeprefix("Sources/")},
}


@needs_shared
@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_dialects_read_the_same(dialect: str, nvivo_0517_bytes: bytes, nvivo_0517: Project) -> None:
    variant = rewrite(nvivo_0517_bytes, **DIALECTS[dialect])  # type: ignore[arg-type]
    assert variant != nvivo_0517_bytes
    assert read_qdpx(variant) == nvivo_0517


def test_dialects_of_the_mixed_fixture(mixed_bytes: bytes, mixed: Project) -> None:
    variant = rewrite(
        mixed_bytes,
        rename=lambda n: "export.qde" if n == "project.qde" else _upper_file_name(n),
        qde=lambda x: b"\xef\xbb\xbf" + _braced_guids(x).replace(b"\n", b"\r\n"),
    )
    assert read_qdpx(variant, label="mixed.qdpx") == mixed
    no_scheme = rewrite(mixed_bytes, qde=lambda x: x.replace(b'Path="internal://', b'Path="'))
    assert no_scheme != mixed_bytes
    assert read_qdpx(no_scheme, label="mixed.qdpx") == mixed


def test_reads_from_a_path(tmp_path: Path, mixed_bytes: bytes, mixed: Project) -> None:
    path = tmp_path / "mixed.qdpx"
    path.write_bytes(mixed_bytes)
    assert read_qdpx(path) == mixed
    with pytest.raises(RefiQdaError, match=r"^bad\.qdpx: not a readable ZIP"):
        (tmp_path / "bad.qdpx").write_bytes(b"not a zip")
        read_qdpx(tmp_path / "bad.qdpx")


# -- hostile and broken input ---------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    ["../evil.txt", "Sources/../../evil.txt", "/etc/passwd", "C:\\evil.txt", "..\\evil.txt"],
)
def test_entries_leaving_the_archive_are_refused(entry: str, mixed_bytes: bytes) -> None:
    hostile = rewrite(mixed_bytes, extra={entry: b"owned"})
    with pytest.raises(RefiQdaError) as caught:
        read_qdpx(hostile)
    assert str(caught.value) == f"project.qdpx: entry {entry!r} leaves the archive"


def test_symbolic_links_are_refused(mixed_bytes: bytes) -> None:
    buffer = io.BytesIO(mixed_bytes)
    with zipfile.ZipFile(buffer, "a") as archive:
        link = zipfile.ZipInfo("Sources/link.txt")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(RefiQdaError, match=r"'Sources/link\.txt' is a symbolic link"):
        read_qdpx(buffer.getvalue())


def _zeros(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    block = bytes(chunk)
    for _ in range(total // chunk):
        yield block


def _bomb(size: int, *, level: int = 1) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("project.qde", b'<Project name="bomb"/>')
        with archive.open("Sources/zeros.txt", "w", force_zip64=size >= 1 << 31) as entry:
            for block in _zeros(size):
                entry.write(block)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def gigabyte_bomb() -> bytes:
    """1 GiB of zeros deflated to about 4.7 MB, streamed from a generator."""
    return _bomb(1 << 30)


def test_zip_bomb_is_refused_from_the_directory(gigabyte_bomb: bytes) -> None:
    assert len(gigabyte_bomb) < 8 * 1024 * 1024
    with pytest.raises(RefiQdaError) as caught:
        read_qdpx(gigabyte_bomb)
    message = str(caught.value)
    assert message.startswith("project.qdpx: the archive unpacks to more than 536,870,912 bytes")
    assert "'Sources/zeros.txt' alone declares 1,073,741,824" in message
    assert "zip bomb" in message


def test_zip_bomb_is_refused_by_its_ratio(gigabyte_bomb: bytes) -> None:
    with pytest.raises(RefiQdaError, match=r"'Sources/zeros.txt' is compressed more than 200:1"):
        read_qdpx(gigabyte_bomb, max_total_bytes=4 << 30)


def _patch_central(data: bytes, name: bytes, offset: int, value: int, fmt: str = "<I") -> bytes:
    """Overwrite a field of ``name``'s central directory header (8: flags, 24: size)."""
    header = data.index(b"PK\x01\x02")
    while data[header + 46 : header + 46 + struct.unpack_from("<H", data, header + 28)[0]] != name:
        header = data.index(b"PK\x01\x02", header + 4)
    patched = bytearray(data)
    struct.pack_into(fmt, patched, header + offset, value)
    return bytes(patched)


INTERVIEW_ENTRY = b"sources/a1b2c3d4-0000-4000-8000-000000000001.txt"


def test_a_large_entry_compressed_too_well_is_refused() -> None:
    bomb = _bomb(64 << 20, level=9)  # 64 MiB in about 64 KB: within the size limit
    with pytest.raises(RefiQdaError, match=r"'Sources/zeros\.txt' is compressed more than 200:1"):
        read_qdpx(bomb)


def test_a_directory_that_lies_about_sizes_gains_nothing(mixed_bytes: bytes) -> None:
    # The interview's text claims 10 bytes: the directory checks pass, reading stops at the
    # claimed size, and the checksum gives the lie away.
    lying = _patch_central(mixed_bytes, INTERVIEW_ENTRY, 24, 10)
    with pytest.raises(RefiQdaError, match=f"entry '{INTERVIEW_ENTRY.decode()}' is damaged"):
        read_qdpx(lying)


def test_encrypted_entries_are_refused(mixed_bytes: bytes) -> None:
    flags = _patch_central(mixed_bytes, INTERVIEW_ENTRY, 8, 0x1, "<H")
    with pytest.raises(RefiQdaError, match="is encrypted"):
        read_qdpx(flags)


def test_too_many_entries_are_refused(mixed_bytes: bytes) -> None:
    with pytest.raises(RefiQdaError, match=r"has 5 entries, more than the 3 allowed"):
        read_qdpx(mixed_bytes, max_files=3)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Project [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&secret;"/>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Project SYSTEM "http://example.invalid/evil.dtd">
<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY % remote SYSTEM "http://example.invalid/evil.dtd"> %remote;]>
<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>
"""


@pytest.mark.parametrize(
    "xml",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY],
    ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity"],
)
def test_xml_entity_attacks_are_refused(xml: bytes, mixed_bytes: bytes) -> None:
    with pytest.raises(RefiQdaError) as caught:
        read_qdpx(with_qde(mixed_bytes, xml))
    assert str(caught.value) == (
        "project.qdpx: project.qde line 2: a document type declaration (<!DOCTYPE>) is not "
        "allowed in a REFI-QDA file (entity expansion and external entities are refused)"
    )


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_codebook_entity_attacks_are_refused(xml: bytes) -> None:
    xml = xml.replace(b"Project", b"CodeBook")
    with pytest.raises(RefiQdaError, match=r"^codebook\.qdc line 2: a document type"):
        read_qdc(xml)


def test_absurd_nesting_and_element_counts_are_refused(mixed_bytes: bytes) -> None:
    deep = b'<Project name="x">' + b"<Code>" * 20_000 + b"</Code>" * 20_000 + b"</Project>"
    with pytest.raises(RefiQdaError, match=r"project\.qde line 1: elements nested more than 256"):
        read_qdpx(with_qde(mixed_bytes, deep))
    with pytest.raises(RefiQdaError, match=r"project\.qde line \d+: more than 50 elements"):
        read_qdpx(mixed_bytes, max_elements=50)


def _mixed_qde() -> bytes:
    return (FIXTURES / "mixed_dialects" / "project.qde").read_bytes()


def _line_of(xml: bytes, needle: bytes) -> int:
    return xml[: xml.index(needle)].count(b"\n") + 1


BROKEN: dict[str, tuple[Callable[[bytes], bytes], bytes, str]] = {
    # case: (change to project.qde, text on the line the error names, expected message)
    "malformed XML": (
        lambda x: x.replace(b"</Users>", b"</Userz>"),
        b"</Userz>",
        r"not well-formed XML \(mismatched tag\)",
    ),
    "selection past the end of its text": (
        lambda x: x.replace(b'endPosition="139"', b'endPosition="1390"'),
        b'endPosition="1390"',
        r"selection \{A1B2C3D4-0000-4000-8000-000000000502\} spans 101-1390, outside its text "
        r"of 141 characters",
    ),
    "coding of an unknown code": (
        lambda x: x.replace(
            b"{A1B2C3D4-0000-4000-8000-000000000203}", b"{A1B2C3D4-0000-4000-8000-000000000299}"
        ),
        b"000000000299",
        r"a coding refers to code A1B2C3D4-0000-4000-8000-000000000299, which is not in the "
        r"codebook",
    ),
    "GUID used twice": (
        lambda x: x.replace(
            b'<Coding guid="a1b2c3d4-0000-4000-8000-000000000602">',
            b'<Coding guid="{A1B2C3D4-0000-4000-8000-000000000601}">',
        ),
        b"{A1B2C3D4-0000-4000-8000-000000000601}",
        r"coding GUID A1B2C3D4-0000-4000-8000-000000000601 is used twice \(first on line \d+\)",
    ),
    "not a GUID": (
        lambda x: x.replace(b'guid="a1b2c3d4-0000-4000-8000-000000000301"', b'guid="age"'),
        b'guid="age"',
        r"<Variable> guid 'age' is not a GUID",
    ),
    "missing source file": (
        lambda x: x.replace(b"000000000001.txt", b"000000000009.txt"),
        b"000000000009.txt",
        r"plainTextPath 'internal://a1b2c3d4-0000-4000-8000-000000000009\.txt' names a file "
        r"that is not in the archive",
    ),
    "bad date": (
        lambda x: x.replace(b"2024-03-01T09:31:00Z", b"01/03/2024"),
        b"01/03/2024",
        r"<TextSource> '01/03/2024' is not an ISO 8601 date-time",
    ),
    "wrong root": (
        lambda x: x.replace(b"<Project ", b"<Projekt ").replace(b"</Project>", b"</Projekt>"),
        b"<Projekt ",
        r"the root element is <Projekt>, not <Project>",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_projects_are_refused_with_the_line(case: str, mixed_bytes: bytes) -> None:
    change, marker, message = BROKEN[case]
    xml = change(_mixed_qde())
    assert xml != _mixed_qde()
    line = _line_of(xml, marker)
    with pytest.raises(RefiQdaError, match=rf"^mixed\.qdpx: project\.qde line {line}: {message}$"):
        read_qdpx(with_qde(mixed_bytes, xml), label="mixed.qdpx")


def test_archive_without_or_with_several_project_files(mixed_bytes: bytes) -> None:
    no_qde = rewrite(mixed_bytes, rename=lambda n: n.replace(".qde", ".xml"))
    with pytest.raises(RefiQdaError, match=r"^project\.qdpx: no project file \(\.qde\)"):
        read_qdpx(no_qde)
    two = rewrite(
        mixed_bytes,
        rename=lambda n: n.replace("project.qde", "a.qde"),
        extra={"b.qde": b"<Project/>"},
    )
    with pytest.raises(RefiQdaError, match=r"several project files \(\.qde\) .*'a\.qde', 'b\.qde'"):
        read_qdpx(two)
    both = rewrite(mixed_bytes, extra={"old/backup.qde": b"<Project/>"})
    assert read_qdpx(both) == read_qdpx(mixed_bytes)  # project.qde is the one


def test_plain_text_that_is_not_utf8_is_refused(mixed_bytes: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(mixed_bytes)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == INTERVIEW_ENTRY.decode():
                content = "Körülmények".encode("latin-1")
            target.writestr(info.filename, content)
    with pytest.raises(RefiQdaError, match=r"line \d+: the plain text .* is not UTF-8"):
        read_qdpx(buffer.getvalue())


# -- writer refusals ---------------------------------------------------------------------------


def test_writer_refuses_what_the_format_cannot_carry() -> None:
    project = small_project()
    bad_name = dataclasses.replace(project, codes=(Code(guid=CODE, name="bell\x07"),))
    with pytest.raises(RefiQdaError, match="U\\+0007, which XML cannot carry"):
        write_qdpx(bad_name)
    outside = small_project(text="short", span=(2, 9))
    with pytest.raises(RefiQdaError, match=r"selection .* spans 2-9, outside its text of 5"):
        write_qdpx(outside)
    with pytest.raises(RefiQdaError, match="'not-a-guid' is not a GUID"):
        write_qdpx(dataclasses.replace(project, users=(User(guid="not-a-guid"),)))
    text_source = project.text_sources[0]
    escape = dataclasses.replace(
        project,
        sources=(dataclasses.replace(text_source, plain_text_path="internal://../x.txt"),),
    )
    with pytest.raises(RefiQdaError, match="is not a safe file name"):
        write_qdpx(escape)


# -- codebooks (.qdc) -------------------------------------------------------------------------


def test_annex_codebook_reads() -> None:
    codebook = read_qdc(FIXTURES / "codebook_annex_a1.qdc")
    assert [c.name for c in codebook.codes] == [
        "Topics",
        "Economy",
        "Health care",
        "Values",
        "Conservatives",
        "Liberals",
    ]
    assert codebook.codes[0].guid == "5215CC69-B628-4E02-AFB9-9BEEAEE55808"  # braces dropped
    assert [c.is_codable for c in codebook.codes] == [False, True, True, False, True, True]
    assert codebook.codes[2].color == "#33cc33"
    assert codebook.codes[5].description == "Democrats, socialists, or progressive independents"


@needs_schemas
def test_annex_codebook_is_valid_and_round_trips() -> None:
    data = (FIXTURES / "codebook_annex_a1.qdc").read_bytes()
    assert validate_codebook_xml(data, schema_dir=REFI) == []
    codebook = read_qdc(data)
    exported = write_qdc(codebook)
    assert validate_codebook_xml(exported, schema_dir=REFI) == []
    assert read_qdc(exported) == dataclasses.replace(codebook, origin=EXPORT_ORIGIN)


@needs_schemas
@pytest.mark.parametrize("name", [pytest.param("nvivo_0517", marks=needs_shared), "mixed"])
def test_project_codebook_exports_as_valid_qdc(name: str, request: pytest.FixtureRequest) -> None:
    project: Project = request.getfixturevalue(name)
    exported = write_qdc(project.codebook())
    assert validate_codebook_xml(exported, schema_dir=REFI) == []
    back = read_qdc(exported)
    assert [c.guid for c in back.all_codes()] == [c.guid for c in project.all_codes()]
    assert [c.name for c in back.all_codes()] == [c.name for c in project.all_codes()]
    assert all(not c.note_refs for c in back.all_codes())  # not part of Codebook.xsd
    assert [s.member_code_guids for s in back.sets] == [
        s.member_code_guids for s in project.sets if s.member_code_guids
    ]
    assert write_qdc(back) == exported


def test_codebook_sets_round_trip() -> None:
    codebook = Codebook(
        codes=(Code(guid=CODE, name="Trust", children=(Code(guid=CODE2, name="Doubt"),)),),
        sets=(Set(guid=SET, name="Core", description="core", member_code_guids=(CODE2,)),),
    )
    assert read_qdc(write_qdc(codebook)) == dataclasses.replace(codebook, origin=EXPORT_ORIGIN)


def test_codebook_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.qdc"
    path.write_bytes(b" " * 2000)
    with pytest.raises(RefiQdaError, match=r"^big\.qdc: larger than the 1,000 bytes allowed"):
        read_qdc(path, max_bytes=1000)


# -- a project built in code --------------------------------------------------------------------

USER = "0F8A1907-7E42-4739-8610-A676B4D1B69F"
CODE = "85D17F60-7BB0-481E-B742-B4861DD669DF"
CODE2 = "D2C1E38E-5220-42FA-A442-908471CC7964"
SOURCE = "69A4332D-5B31-4915-B520-5275CFC21B40"
SELECTION = "4191294A-E287-4510-95B0-69BCE4638E56"
CODING = "445A6AEC-1400-4502-919D-0867832FF211"
NOTE = "2F24EA88-C6A7-482B-8F89-893EF66D7A21"
CASE = "63E009F1-5C33-4568-B65D-53A7E28BDBC1"
VARIABLE = "789A62D6-A2AD-4B59-AB90-EF1D4AB1868F"
SET = "F4E8FF7E-1E00-4112-ADD1-37F087BB8598"


def small_project(
    text: str = "I felt listened to.\r\nThe wait was long.",
    span: tuple[int, int] = (2, 19),
    memo: str = "Ask about the wait.",
) -> Project:
    created = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    return Project(
        name="Voices pilot",
        origin=None,
        users=(User(guid=USER, name="Researcher"),),
        codes=(Code(guid=CODE, name="Being heard", color="#00AA00", description="listened to"),),
        variables=(Variable(guid=VARIABLE, name="Age", type_of_variable="Integer"),),
        cases=(
            Case(
                guid=CASE,
                name="P01",
                values=(VariableValue(VARIABLE, 29),),
                source_refs=(SOURCE,),
            ),
        ),
        sources=(
            TextSource(
                guid=SOURCE,
                text=text,
                name="Interview P01",
                plain_text_path=f"internal://{SOURCE}.txt",
                creating_user=USER,
                created=created,
                selections=(
                    PlainTextSelection(
                        guid=SELECTION,
                        start=span[0],
                        end=span[1],
                        codings=(Coding(guid=CODING, code_guid=CODE, creating_user=USER),),
                        note_refs=(NOTE,),
                        creating_user=USER,
                        created=created,
                    ),
                ),
            ),
        ),
        notes=(Note(guid=NOTE, text=memo, name="Memo"),),
        sets=(
            Set(guid=SET, name="Pilot", member_code_guids=(CODE,), member_source_guids=(SOURCE,)),
        ),
        created=created,
    )

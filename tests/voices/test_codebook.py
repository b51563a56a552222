"""The codebook as plain data: tree, moves, merges, splits, versions and the file formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steppingstones.voices import codebook as cb
from steppingstones.voices import refiqda

REFI = Path(__file__).resolve().parents[2].parent / "shared" / "refi-qda"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
needs_schema = pytest.mark.skipif(
    not (REFI / "Codebook.xsd").is_file(),
    reason="shared/refi-qda/Codebook.xsd (the official schema) is absent",
)


def code(guid: str, name: str, parent: str | None = None, **fields: Any) -> cb.CodeRecord:
    return cb.CodeRecord(
        guid=f"00000000-0000-0000-0000-{guid:0>12}",
        name=name,
        parent=f"00000000-0000-0000-0000-{parent:0>12}" if parent else None,
        **fields,
    )


def g(short: str) -> str:
    return f"00000000-0000-0000-0000-{short:0>12}"


CODES = [
    code("1", "Care", is_codable=False, description="Contact with services", position=0),
    code(
        "2",
        "Midwife",
        "1",
        colour="#d62728",
        inclusion="Any midwife",
        exclusion="=1+1",
        example="“she listened”",
        position=0,
    ),
    code("3", "Named midwife", "2", position=0),
    code("4", "Stigma", position=1, description="Being judged\n\nby staff"),
    code("5", "Police", "1", position=1),
]


def coding(
    i: int, code_guid: str, source: int = 1, coder: str = "ana", start: int = 0, end: int = 5
) -> cb.CodingRecord:
    return cb.CodingRecord(
        id=i, code=g(code_guid), source=source, coder=coder, start=start, end=end
    )


# ---------------------------------------------------------------------------------- tree


def test_the_tree_orders_siblings_and_keeps_orphans() -> None:
    forest = cb.build_tree([*CODES, code("9", "Orphan", "77")])
    assert [(n.code.name, n.depth) for n in cb.walk(forest)] == [
        ("Care", 0),
        ("Midwife", 1),
        ("Named midwife", 2),
        ("Police", 1),
        ("Orphan", 0),  # its parent is missing: a top-level code, by position
        ("Stigma", 0),
    ]
    assert cb.paths(CODES)[g("3")] == "Care > Midwife > Named midwife"


def test_a_cycle_in_stored_data_does_not_lose_codes() -> None:
    looped = [code("1", "A", "2"), code("2", "B", "1")]
    assert sorted(n.code.name for n in cb.walk(cb.build_tree(looped))) == ["A", "B"]


def test_moves_that_would_make_a_cycle_are_refused() -> None:
    cb.check_move(CODES, g("3"), g("4"))
    cb.check_move(CODES, g("2"), None)
    with pytest.raises(cb.CodebookError, match="own sub-codes"):
        cb.check_move(CODES, g("1"), g("3"))
    with pytest.raises(cb.CodebookError, match="its own parent"):
        cb.check_move(CODES, g("2"), g("2"))
    with pytest.raises(cb.CodebookError, match="not in this codebook"):
        cb.check_move(CODES, g("2"), g("99"))
    assert cb.descendants(CODES, g("1")) == {g("2"), g("3"), g("5")}


# ------------------------------------------------------------------------ merge and split


def test_merge_moves_codings_and_collapses_duplicates() -> None:
    codings = [
        coding(1, "2", start=0, end=5),  # target already has 0-5 by ana
        coding(2, "4", start=0, end=5),  # duplicate of 1: collapses
        coding(3, "4", start=0, end=5, coder="ben"),  # another coder: kept
        coding(4, "4", start=9, end=12),
        coding(5, "5", start=9, end=12),  # same place as 4, both merged: one kept
        coding(6, "3", start=0, end=5),  # an unrelated code
    ]
    plan = cb.plan_merge(CODES, codings, [g("4"), g("5")], g("2"))
    assert plan.reassign == (3, 4)
    assert plan.delete == (2, 5)
    assert plan.reparent == ()
    with pytest.raises(cb.CodebookError, match="into itself"):
        cb.plan_merge(CODES, codings, [g("2")], g("2"))
    with pytest.raises(cb.CodebookError, match="own sub-codes"):
        cb.plan_merge(CODES, codings, [g("1")], g("3"))


def test_merge_moves_the_merged_codes_children_to_the_target() -> None:
    plan = cb.plan_merge(CODES, [], [g("2")], g("4"))
    assert plan.reparent == (g("3"),)


def test_region_and_time_codings_collapse_by_their_own_place() -> None:
    region = (("height", 5.0), ("width", 5.0), ("x", 1.0), ("y", 1.0))
    a = cb.CodingRecord(1, g("2"), 1, "ana", region=region)
    b = cb.CodingRecord(2, g("4"), 1, "ana", region=region)
    c = cb.CodingRecord(3, g("4"), 1, "ana", time_start=1.0, time_end=2.0)
    plan = cb.plan_merge(CODES, [a, b, c], [g("4")], g("2"))
    assert plan.delete == (2,) and plan.reassign == (3,)


def test_split_checks_the_assignment() -> None:
    codings = [coding(1, "2"), coding(2, "2"), coding(3, "4")]
    assert cb.plan_split(codings, g("2"), {1: 0, 2: 1}, 2) == {1: 0, 2: 1}
    with pytest.raises(cb.CodebookError, match="not a coding of this code"):
        cb.plan_split(codings, g("2"), {3: 0}, 2)
    with pytest.raises(cb.CodebookError, match="not there"):
        cb.plan_split(codings, g("2"), {1: 2}, 2)
    with pytest.raises(cb.CodebookError, match="at least one"):
        cb.plan_split(codings, g("2"), {}, 0)


# ------------------------------------------------------------------------------- versions


def test_snapshot_round_trips_and_diff_names_every_change() -> None:
    before = cb.from_snapshot(cb.snapshot(CODES))
    assert sorted(before, key=lambda c: c.guid) == sorted(CODES, key=lambda c: c.guid)
    after = [c for c in CODES if c.name != "Police"]
    after = [
        cb.CodeRecord(**{**c.__dict__, "name": "Judged"}) if c.name == "Stigma" else c
        for c in after
    ]
    after = [
        cb.CodeRecord(**{**c.__dict__, "parent": g("4")}) if c.name == "Named midwife" else c
        for c in after
    ]
    after = [
        cb.CodeRecord(**{**c.__dict__, "colour": "#000000"}) if c.name == "Midwife" else c
        for c in after
    ]
    after.append(code("6", "Housing"))
    described = sorted(d.describe() for d in cb.diff(CODES, after))
    assert described == sorted(
        [
            "removed “Police”",
            "renamed “Stigma” to “Judged”",
            "moved “Named midwife” from Care > Midwife to Judged",
            "edited “Midwife”: colour",
            "added “Housing”",
        ]
    )
    assert cb.diff(CODES, CODES) == []


# ------------------------------------------------------------------------ REFI-QDA (.qdc)


@needs_schema
def test_qdc_export_is_valid_against_codebook_xsd_and_round_trips() -> None:
    data = cb.write_qdc(CODES)
    assert refiqda.validate_codebook_xml(data, schema_dir=REFI) == []
    assert sorted(cb.read_qdc(data), key=lambda c: c.guid) == sorted(CODES, key=lambda c: c.guid)


def test_qdc_carries_the_criteria_in_the_description() -> None:
    converted = cb.to_qdc(CODES)
    midwife = converted.codes[0].children[0]
    assert midwife.description == (
        "Inclusion criteria: Any midwife\n\nExclusion criteria: =1+1\n\nExample: “she listened”"
    )
    assert cb.split_description("Plain words") == {
        "description": "Plain words",
        "inclusion": "",
        "exclusion": "",
        "example": "",
    }


def test_the_annex_codebook_imports() -> None:
    records = cb.read_qdc((FIXTURES / "codebook_annex_a1.qdc").read_bytes())
    assert records[0].guid == "5215CC69-B628-4E02-AFB9-9BEEAEE55808"
    assert all(cb.COLOUR_RE.match(r.colour) for r in records)


def test_broken_qdc_files_name_the_fault() -> None:
    with pytest.raises(cb.CodebookImportError, match="CodeBook"):
        cb.read_qdc(b"<Project/>", label="x.qdc")
    twice = (
        b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        b'<Code guid="11111111-1111-1111-1111-111111111111" name="A" isCodable="true"/>'
        b'<Code guid="11111111-1111-1111-1111-111111111111" name="B" isCodable="true"/>'
        b"</Codes></CodeBook>"
    )
    with pytest.raises(cb.CodebookImportError, match="used twice"):
        cb.read_qdc(twice)


# ----------------------------------------------------------------------------- CSV / XLSX


def test_csv_and_xlsx_round_trip_and_guard_formulas() -> None:
    csv_data = cb.write_csv(CODES)
    assert b"'=1+1" in csv_data
    assert cb.read_csv(csv_data) == cb.from_snapshot(cb.snapshot(CODES))
    assert cb.read_xlsx(cb.write_xlsx(CODES)) == cb.from_snapshot(cb.snapshot(CODES))
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(cb.write_xlsx(CODES))).active
    assert sheet is not None
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_control_characters_do_not_break_a_qdc_export() -> None:
    odd = [cb.CodeRecord(guid=cb.new_guid(), name="A\x08", description="bell\x07")]
    assert [(r.name, r.description) for r in cb.read_qdc(cb.write_qdc(odd))] == [("A", "bell")]


def test_tables_may_give_only_names_and_paths() -> None:
    records = cb.read_csv(b"name,path,color\nCare,Care,\nMidwife,Care > Midwife,#abc\n")
    assert records[1].parent == records[0].guid and records[1].colour == "#aabbcc"


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ("name,colour\nA,blue\n", "row 2, column colour: “blue” is not a colour like #1f77b4"),
        ("name,path\nB,A > B\n", "row 2, column path: no row above this one is “A”"),
        (
            "name,path\nB,A > C\n",
            "row 2, column path: the path should end with the code's name “B”",
        ),
        ("guid,name\nnope,A\n", "row 2, column guid: “nope” is not a GUID"),
        (
            "name,parent_guid\nA,11111111-1111-1111-1111-111111111111\n",
            "row 2, column parent_guid: no code",
        ),
        ("name,codable\nA,maybe\n", "row 2, column codable: “maybe” is not yes or no"),
        ("title\nA\n", "row 1: there is no “name” column"),
        ("name,shade\nA,x\n", "row 1: unknown column “shade”"),
        ("name\n\n\n", "the file holds no codes"),
        ("name,description\n,text\n", "row 2, column name: a code needs a name"),
    ],
)
def test_table_faults_are_named_by_row_and_column(table: str, error: str) -> None:
    with pytest.raises(cb.CodebookImportError) as raised:
        cb.read_csv(table.encode())
    assert any(e.startswith(error) for e in raised.value.errors), raised.value.errors


def test_parent_guid_may_name_a_code_already_in_the_codebook() -> None:
    parent = "11111111-1111-1111-1111-111111111111"
    records = cb.read_csv(f"name,parent_guid\nA,{{{parent.lower()}}}\n".encode(), existing=[parent])
    assert records[0].parent == parent


def test_not_utf8_and_not_xlsx_are_refused() -> None:
    with pytest.raises(cb.CodebookImportError, match="not UTF-8"):
        cb.read_csv(b"name\n\xff\xfe\n")
    with pytest.raises(cb.CodebookImportError, match="not a readable XLSX"):
        cb.read_xlsx(b"PK not really")
    with pytest.raises(cb.CodebookImportError, match=r"give a \.qdc, \.csv or \.xlsx"):
        cb.read_codebook("codes.docx", b"")


names = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda s: s and ">" not in s)
)


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(names, texts), min_size=1, max_size=8))
def test_any_codebook_survives_every_format(items: list[tuple[str, str]]) -> None:
    records = [
        cb.CodeRecord(guid=cb.new_guid(), name=name, description=text.strip(), position=i)
        for i, (name, text) in enumerate(items)
    ]
    expected = cb.from_snapshot(cb.snapshot(records))
    assert cb.read_csv(cb.write_csv(records)) == expected
    assert cb.read_qdc(cb.write_qdc(records)) == expected

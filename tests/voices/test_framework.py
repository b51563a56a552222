"""The framework matrix: charting, reading by case and by wave, coverage, and exports."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from steppingstones.voices.agreement import Coding
from steppingstones.voices.framework import (
    CUBE_SHEET,
    Cell,
    FrameworkMatrix,
    PassageRef,
    build_matrix,
    case_trajectory,
    coverage,
    cross_section,
    to_docx,
    to_xlsx,
)

HOSTILE = "=cmd|' /C calc'!A0"

CASES = ["Rose", "Iris", "=Ivy"]  # a pseudonym that would start a formula
WAVES = ["Antenatal", "6 weeks", "6 months"]
THEMES = {"Trust": ["named-midwife", "continuity"], "Stigma": ["stigma"], "Housing": ["housing"]}
DOCUMENTS = {
    "rose-w1": ("Rose", "Antenatal"),
    "rose-w2": ("Rose", "6 weeks"),
    "iris-w1": ("Iris", "Antenatal"),
    "ivy-w3": ("=Ivy", "6 months"),
    "staff-1": ("Dr Who", "Antenatal"),  # not a case of this matrix
}
CODINGS = [
    Coding("rose-w1", "named-midwife", "consensus", 10, 50),
    Coding("rose-w1", "continuity", "consensus", 40, 80),  # same theme, overlapping: one passage
    Coding("rose-w1", "continuity", "consensus", 200, 240),
    Coding("rose-w1", "stigma", "consensus", 300, 320),
    Coding("rose-w2", "stigma", "consensus", 5, 25),
    Coding("iris-w1", "housing", "consensus", 0, 30),
    Coding("iris-w1", "police", "consensus", 0, 30),  # a code in no theme
    Coding("ivy-w3", "stigma", "consensus", 1, 9),
    Coding("staff-1", "stigma", "consensus", 1, 9),
    Coding("rose-w1", "housing", "ana", 0, 10),  # another coder: left out with coder="consensus"
]
SUMMARIES = {
    ("Rose", "Trust", "Antenatal"): "Trusts her named midwife; saw the same one each visit.",
    ("Rose", "Stigma", "Antenatal"): "Felt judged at booking.",
    ("Rose", "Stigma", "6 weeks"): "Less judged once on the ward.",
    ("Iris", "Trust", "6 months"): "Says she trusts the health visitor.",  # no passage behind it
    ("=Ivy", "Stigma", "6 months"): HOSTILE,
}


def matrix() -> FrameworkMatrix:
    return build_matrix(CASES, THEMES, WAVES, SUMMARIES, CODINGS, DOCUMENTS, coder="consensus")


def test_build_matrix_charts_passages_into_cells() -> None:
    m = matrix()
    assert m.themes == ("Trust", "Stigma", "Housing")
    trust = m.cell("Rose", "Trust", "Antenatal")
    assert trust.summary.startswith("Trusts her named midwife")
    assert trust.passages == (PassageRef("rose-w1", 10, 80), PassageRef("rose-w1", 200, 240))
    assert m.cell("Iris", "Housing", "Antenatal").passages == (PassageRef("iris-w1", 0, 30),)
    assert m.cell("Iris", "Housing", "Antenatal").summary == ""
    assert m.cell("Rose", "Housing", "Antenatal") == Cell("Rose", "Housing", "Antenatal")
    assert len(list(m)) == 3 * 3 * 3
    with pytest.raises(KeyError):
        m.cell("Dr Who", "Stigma", "Antenatal")


def test_themes_may_be_plain_code_ids() -> None:
    m = build_matrix(["Rose"], ["stigma"], ["Antenatal", "6 weeks"], {}, CODINGS, DOCUMENTS)
    assert m.cell("Rose", "stigma", "6 weeks").passages == (PassageRef("rose-w2", 5, 25),)


def test_bad_matrix_input_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the matrix"):
        build_matrix(CASES, THEMES, WAVES, {("Nobody", "Trust", "Antenatal"): "x"}, [], {})
    with pytest.raises(ValueError, match="distinct"):
        build_matrix(["Rose", "Rose"], THEMES, WAVES, {}, [], {})


def test_case_trajectory_and_cross_section() -> None:
    m = matrix()
    rose = case_trajectory(m, "Rose")
    assert list(rose) == ["Trust", "Stigma", "Housing"]
    assert [c.summary for c in rose["Stigma"]] == [
        "Felt judged at booking.",
        "Less judged once on the ward.",
        "",
    ]
    assert [c.wave for c in rose["Stigma"]] == WAVES
    antenatal = cross_section(m, "Antenatal")
    assert list(antenatal) == CASES
    assert [c.theme for c in antenatal["Iris"]] == ["Trust", "Stigma", "Housing"]
    assert antenatal["Iris"][2].passages == (PassageRef("iris-w1", 0, 30),)
    with pytest.raises(KeyError):
        case_trajectory(m, "Nobody")
    with pytest.raises(KeyError):
        cross_section(m, "12 months")


def test_coverage_finds_cells_that_need_a_summary() -> None:
    report = coverage(matrix())
    assert report.cells == 27 and report.summarised == 5
    assert [(c.case, c.theme, c.wave) for c in report.missing_summaries] == [
        ("Iris", "Housing", "Antenatal")
    ]
    assert [(c.case, c.theme, c.wave) for c in report.unsupported_summaries] == [
        ("Iris", "Trust", "6 months")
    ]
    assert not report.complete


def test_xlsx_has_a_sheet_per_wave_and_a_cube_with_every_text_cell_safe() -> None:
    handle = io.BytesIO()
    to_xlsx(matrix(), handle)
    book = load_workbook(io.BytesIO(handle.getvalue()))
    assert book.sheetnames == [*WAVES, CUBE_SHEET]
    antenatal = book["Antenatal"]
    rows = [[c.value for c in row] for row in antenatal.iter_rows()]
    assert rows[0] == ["Case", "Trust", "Stigma", "Housing"]
    assert rows[1][0] == "Rose"
    assert rows[1][1].startswith("Trusts her named midwife")
    assert "rose-w1 [10-80]; rose-w1 [200-240]" in rows[1][1]
    assert rows[3][0] == "'=Ivy"  # the hostile pseudonym, prefixed
    later = [[c.value for c in row] for row in book["6 months"].iter_rows()]
    ivy_stigma = later[3][2]
    assert ivy_stigma.startswith("'" + HOSTILE)
    cube = [[c.value for c in row] for row in book[CUBE_SHEET].iter_rows()]
    assert cube[0] == ["Case", "Theme", "Wave", "Summary", "Passages"]
    assert len(cube) == 1 + 27
    assert ["'=Ivy", "Stigma", "6 months", "'" + HOSTILE, "ivy-w3 [1-9]"] in cube
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                assert not str(cell.value or "").startswith(("=", "+", "-", "@"))


def test_xlsx_sheet_names_are_made_legal_and_unique() -> None:
    waves = ["Wave 1: antenatal/booking", "Wave 1: antenatal?booking", "x" * 40, "cube"]
    m = build_matrix(["Rose"], ["Trust"], waves, {("Rose", "Trust", "cube"): "ok\x07"}, [], {})
    handle = io.BytesIO()
    to_xlsx(m, handle)
    names = load_workbook(io.BytesIO(handle.getvalue())).sheetnames
    assert names[0] == "Wave 1_ antenatal_booking"
    assert names[1] == "Wave 1_ antenatal_booking (2)"
    assert names[2] == "x" * 31
    assert names[3] == "cube (2)" and names[4] == CUBE_SHEET
    assert load_workbook(io.BytesIO(handle.getvalue()))["cube (2)"]["B2"].value == "ok"


def test_docx_has_a_table_per_wave() -> None:
    docx = pytest.importorskip("docx")
    handle = io.BytesIO()
    to_docx(matrix(), handle)
    document = docx.Document(io.BytesIO(handle.getvalue()))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == WAVES
    assert len(document.tables) == 3
    antenatal = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert antenatal[0] == ["Case", "Trust", "Stigma", "Housing"]
    assert antenatal[1][1].startswith("Trusts her named midwife")
    assert antenatal[3][0] == "'=Ivy"
    later = [[cell.text for cell in row.cells] for row in document.tables[2].rows]
    assert later[3][2].startswith("'" + HOSTILE)

"""Tests for scoping-review charting: counts, evidence map, accessible SVG and CSV.

The five documents below are hand-built so every expected count can be checked by eye.
"""

from __future__ import annotations

import csv
import io
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree

from steppingstones.evidence.charting import (
    BACKGROUND,
    MARK,
    NATIONS,
    TEXT,
    ChartedDocument,
    bar_chart_svg,
    contrast_ratio,
    counts_by,
    evidence_map,
    evidence_map_svg,
    fill_years,
    write_chart_csv,
    year_chart_svg,
)

SVG = "{http://www.w3.org/2000/svg}"

DOCS = [
    ChartedDocument(
        "D1",
        "Drug use in pregnancy",
        "NICE",
        "England",
        2018,
        "guideline",
        ["midwives", "obstetricians"],
        ["stigma", "mental health", "stigma"],  # repeated theme: still one document
        {"pages": 40},
    ),
    ChartedDocument(
        "D2",
        "Getting our priorities right",
        "Scottish Government",
        "Scotland",
        2020,
        "standard",
        ["midwives"],
        ["integrated working", "stigma"],
    ),
    ChartedDocument(
        "D3",
        "Neonatal abstinence",
        "NICE",
        "England",
        2020,
        "guideline",
        [],
        ["neonatal care"],
    ),
    ChartedDocument(
        "D4",
        "Substance use and families",
        "Public Health Wales",
        "Wales",
        2022,
        "report",
        ["social workers"],
        ["integrated working", "stigma"],
    ),
    ChartedDocument(
        "D5",
        "Perinatal mental health",
        "Royal College of Midwives",
        "UK-wide",
        None,
        "guideline",
        [],
        ["mental health"],
    ),
]


def parse(svg: str) -> Element:
    return ElementTree.fromstring(svg)


def texts(root: Element, cls: str | None = None) -> list[str]:
    return [
        "".join(el.itertext())
        for el in root.iter(f"{SVG}text")
        if cls is None or el.get("class") == cls
    ]


def check_accessible(root: Element, title: str) -> str:
    """role, title and desc present and wired up; text and marks contrast enough."""
    assert root.get("role") == "img"
    title_el = root.find(f"{SVG}title")
    desc_el = root.find(f"{SVG}desc")
    assert title_el is not None and desc_el is not None
    assert title_el.text == title
    assert desc_el.text
    labelled = (root.get("aria-labelledby") or "").split()
    assert labelled == [title_el.get("id"), desc_el.get("id")]
    for el in root.iter(f"{SVG}text"):
        assert contrast_ratio(el.get("fill", "#000000"), BACKGROUND) >= 4.5
    for tag in ("rect", "circle"):
        for el in root.iter(f"{SVG}{tag}"):
            if el.get("fill") != BACKGROUND:
                assert contrast_ratio(el.get("fill", "#000000"), BACKGROUND) >= 3
    return desc_el.text


# --- counts ------------------------------------------------------------------------------


def test_counts_by_multivalued_themes_once_per_document() -> None:
    assert counts_by(DOCS, "themes") == [
        ("stigma", 3),
        ("integrated working", 2),
        ("mental health", 2),
        ("neonatal care", 1),
    ]


def test_counts_by_single_valued_sorted_by_count_then_name() -> None:
    assert counts_by(DOCS, "nation") == [
        ("England", 2),
        ("Scotland", 1),
        ("UK-wide", 1),
        ("Wales", 1),
    ]
    assert counts_by(DOCS, "issuing_body")[0] == ("NICE", 2)
    assert counts_by(DOCS, "type") == [("guideline", 3), ("report", 1), ("standard", 1)]


def test_counts_by_years_ascending_with_not_reported_last() -> None:
    assert counts_by(DOCS, "year") == [
        ("2018", 1),
        ("2020", 2),
        ("2022", 1),
        ("Not reported", 1),
    ]
    assert counts_by(DOCS, "year", missing=None) == [("2018", 1), ("2020", 2), ("2022", 1)]


def test_counts_by_missing_multivalued_and_extra_fields() -> None:
    assert counts_by(DOCS, "audience") == [
        ("midwives", 2),
        ("obstetricians", 1),
        ("social workers", 1),
        ("Not reported", 2),
    ]
    assert counts_by(DOCS, "pages") == [("40", 1), ("Not reported", 4)]
    with pytest.raises(ValueError, match="Unknown charting field 'colour'"):
        counts_by(DOCS, "colour")
    assert counts_by([], "themes") == []


def test_counts_by_tidies_whitespace() -> None:
    docs = [
        ChartedDocument("A", "a", themes=["stigma ", " stigma"]),
        ChartedDocument("B", "b", themes=["stigma"]),
    ]
    assert counts_by(docs, "themes") == [("stigma", 2)]


# --- evidence map ------------------------------------------------------------------------


def test_evidence_map_cells_and_document_ids() -> None:
    emap = evidence_map(DOCS)
    assert emap.row_labels == ["stigma", "integrated working", "mental health", "neonatal care"]
    assert emap.column_labels == list(NATIONS)
    assert emap.counts == [
        [1, 1, 1, 0, 0],
        [0, 1, 1, 0, 0],
        [1, 0, 0, 0, 1],
        [1, 0, 0, 0, 0],
    ]
    assert emap.ids("stigma", "England") == ["D1"]
    assert emap.ids("integrated working", "Wales") == ["D4"]
    assert emap.ids("mental health", "UK-wide") == ["D5"]
    assert emap.ids("neonatal care", "Northern Ireland") == []
    assert emap.count("stigma", "Scotland") == 1
    assert emap.max_count == 1


def test_evidence_map_other_axes_and_unknown_nation() -> None:
    docs = [*DOCS, ChartedDocument("D6", "Cross-border", nation="Ireland", themes=["stigma"])]
    emap = evidence_map(docs, rows="type", columns="themes")
    assert emap.row_labels == ["guideline", "report", "standard", "Not reported"]
    assert emap.column_labels[0] == "stigma"
    assert emap.count("guideline", "mental health") == 2
    assert emap.ids("guideline", "mental health") == ["D1", "D5"]
    assert emap.count("Not reported", "stigma") == 1
    by_nation = evidence_map(docs)
    assert by_nation.column_labels == [*NATIONS, "Ireland"]
    assert by_nation.ids("stigma", "Ireland") == ["D6"]


# --- SVG ---------------------------------------------------------------------------------


def test_contrast_of_palette() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio(TEXT, BACKGROUND) >= 4.5
    assert contrast_ratio(MARK, BACKGROUND) >= 3


def test_bar_chart_svg() -> None:
    counts = counts_by(DOCS, "themes")
    root = parse(bar_chart_svg(counts, "Documents by theme"))
    desc = check_accessible(root, "Documents by theme")
    assert "stigma: 3" in desc and "neonatal care: 1" in desc
    assert texts(root, "value") == ["3", "2", "2", "1"]
    for label, _ in counts:
        assert label in texts(root)
    widths = [
        float(el.get("width", "0")) for el in root.iter(f"{SVG}rect") if el.get("fill") == MARK
    ]
    assert widths == pytest.approx([360.0, 240.0, 240.0, 120.0])


def test_bar_chart_zero_and_empty() -> None:
    root = parse(bar_chart_svg([("a", 0), ("b", 0)], "Zeros"))
    assert texts(root, "value") == ["0", "0"]
    empty = parse(bar_chart_svg([], "Nothing"))
    assert "no data" in check_accessible(empty, "Nothing")


def test_fill_years_fills_gaps_and_drops_non_years() -> None:
    assert fill_years(counts_by(DOCS, "year")) == [
        ("2018", 1),
        ("2019", 0),
        ("2020", 2),
        ("2021", 0),
        ("2022", 1),
    ]
    assert fill_years({2001: 2, "2001": 1}) == [("2001", 3)]
    assert fill_years([("Not reported", 4)]) == []


def test_year_chart_svg_includes_empty_years() -> None:
    root = parse(year_chart_svg(counts_by(DOCS, "year"), "Documents by year"))
    desc = check_accessible(root, "Documents by year")
    assert "2018 to 2022" in desc
    assert "2019: 0" in desc and "2021: 0" in desc
    assert "Not reported: 1" in desc
    assert texts(root, "value") == ["1", "0", "2", "0", "1"]
    for year in ("2018", "2019", "2020", "2021", "2022"):
        assert year in texts(root)
    assert any("Not reported: 1" in text for text in texts(root))


def test_evidence_map_svg() -> None:
    emap = evidence_map(DOCS)
    root = parse(evidence_map_svg(emap, "Themes by nation"))
    desc = check_accessible(root, "Themes by nation")
    assert "stigma, England: 1" in desc
    assert "mental health, UK-wide: 1" in desc
    assert "Empty cells: 12" in desc
    assert texts(root, "column") == list(NATIONS)
    assert texts(root, "row") == emap.row_labels
    cells = [el for el in root.iter(f"{SVG}g") if el.get("class") == "cell"]
    assert len(cells) == 8
    assert all(cell.find(f"{SVG}circle") is not None for cell in cells)
    assert texts(root, "value") == ["1"] * 8


def test_evidence_map_circle_size_follows_count() -> None:
    docs = [ChartedDocument(f"X{i}", "x", nation="England", themes=["a"]) for i in range(4)]
    docs.append(ChartedDocument("Y", "y", nation="Wales", themes=["a"]))
    root = parse(evidence_map_svg(evidence_map(docs), "Sizes"))
    radii = [float(el.get("r", "0")) for el in root.iter(f"{SVG}circle")]
    assert radii == pytest.approx([14.0, 9.0])
    assert texts(root, "value") == ["4", "1"]


def test_hostile_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script>&\x07'
    svgs = [
        bar_chart_svg([(hostile, 2)], hostile),
        year_chart_svg([("2020", 1), (hostile, 2)], hostile),
        evidence_map_svg(
            evidence_map([ChartedDocument("H", "h", nation=hostile, themes=[hostile])]),
            hostile,
        ),
    ]
    for svg in svgs:
        assert "<script" not in svg
        assert "&lt;script&gt;" in svg
        root = parse(svg)
        title = root.find(f"{SVG}title")
        assert title is not None
        assert title.text == '<script>alert("x")</script>&'  # control character dropped
        assert not list(root.iter(f"{SVG}script"))


def test_chart_id_is_validated_and_used() -> None:
    root = parse(bar_chart_svg([("a", 1)], "T", chart_id="themes-1"))
    assert root.get("aria-labelledby") == "themes-1-title themes-1-desc"
    with pytest.raises(ValueError, match="not a valid XML id"):
        bar_chart_svg([("a", 1)], "T", chart_id='x" onload="alert(1)')


# --- CSV ---------------------------------------------------------------------------------


def test_chart_csv_is_formula_safe() -> None:
    docs = [
        ChartedDocument(
            "=1+2",
            "+Title",
            "@Body",
            "England",
            2020,
            "-report",
            ["midwives"],
            ["-x", "+y"],
            {"notes": "\tcmd", "ref": "\rnext"},
        ),
        ChartedDocument("D2", "Plain", "NICE", "Wales", None, "guideline", [], ["stigma"]),
    ]
    handle = io.StringIO()
    fields = ["id", "title", "issuing_body", "year", "type", "audience", "themes"]
    assert write_chart_csv(handle, docs, [*fields, "notes", "ref"]) == 2
    table = list(csv.reader(io.StringIO(handle.getvalue())))
    assert table[0] == [*fields, "notes", "ref"]
    assert table[1] == [
        "'=1+2",
        "'+Title",
        "'@Body",
        "2020",
        "'-report",
        "midwives",
        "'-x; +y",
        "'\tcmd",
        "'\rnext",
    ]
    assert table[2] == ["D2", "Plain", "NICE", "", "guideline", "", "stigma", "", ""]


def test_chart_csv_default_fields_and_unknown_field() -> None:
    handle = io.StringIO()
    assert write_chart_csv(handle, DOCS) == 5
    table = list(csv.reader(io.StringIO(handle.getvalue())))
    assert table[0] == [
        "id",
        "title",
        "issuing_body",
        "nation",
        "year",
        "type",
        "audience",
        "themes",
    ]
    assert table[1][7] == "stigma; mental health; stigma"  # as charted
    with pytest.raises(ValueError, match="Unknown charting field"):
        write_chart_csv(io.StringIO(), DOCS, ["id", "colour"])

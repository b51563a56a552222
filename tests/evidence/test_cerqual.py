"""Tests for the thematic synthesis and GRADE-CERQual support (no database needed).

The overall-confidence cases check the rule documented in ``suggest_overall``; the
vocabulary (four components, four concern levels, four confidence levels, SoQF columns)
follows Lewin S et al., Implement Sci 2018;13(Suppl 1):2 and :10.
"""

from __future__ import annotations

import csv
import io

import pytest

from steppingstones.evidence.cerqual import (
    SOQF_COLUMNS,
    WARNING_PREFIX,
    Assessment,
    Component,
    Finding,
    ReviewFinding,
    Theme,
    components_of,
    evidence_profile,
    suggest_overall,
    summary_of_qualitative_findings,
    theme_tree,
    validate_assessment,
    write_soqf_csv,
)


def make(
    ml: str = "no or very minor",
    co: str = "no or very minor",
    ad: str = "no or very minor",
    rel: str = "no or very minor",
    overall: str = "high",
    explanation: str = "Overall reasons.",
    explain_components: bool = True,
) -> Assessment:
    def part(level: str) -> Component:
        return Component(level, f"Reasons for {level}." if explain_components else "")

    return Assessment(part(ml), part(co), part(ad), part(rel), overall, explanation)


# --- suggest_overall: the documented rule --------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (("no or very minor",) * 4, "high"),
        (("minor", "no or very minor", "no or very minor", "no or very minor"), "high"),
        (("minor", "minor", "no or very minor", "no or very minor"), "moderate"),
        (("minor", "minor", "minor", "minor"), "moderate"),
        (("moderate", "no or very minor", "no or very minor", "no or very minor"), "moderate"),
        (("moderate", "minor", "minor", "minor"), "moderate"),
        (("moderate", "moderate", "no or very minor", "no or very minor"), "low"),
        (("serious", "no or very minor", "no or very minor", "no or very minor"), "low"),
        (("serious", "minor", "minor", "minor"), "low"),
        (("serious", "moderate", "no or very minor", "no or very minor"), "very low"),
        (("serious", "serious", "no or very minor", "no or very minor"), "very low"),
        (("moderate", "moderate", "moderate", "moderate"), "low"),
    ],
)
def test_suggest_overall_follows_documented_rule(levels: tuple[str, ...], expected: str) -> None:
    assert suggest_overall(make(*levels)) == expected
    assert suggest_overall([Component(level) for level in levels]) == expected


def test_components_of_gives_the_four_components_in_order() -> None:
    assessment = make("minor", "moderate")
    parts = components_of(assessment)
    assert list(parts) == ["methodological_limitations", "coherence", "adequacy", "relevance"]
    assert parts["coherence"].concern == "moderate"
    assert suggest_overall(parts) == suggest_overall(assessment) == "moderate"


def test_suggest_overall_accepts_mapping_and_rejects_unknown_or_empty() -> None:
    assert suggest_overall({"coherence": Component("moderate")}) == "moderate"
    with pytest.raises(ValueError, match="Unknown CERQual component"):
        suggest_overall({"dissemination bias": Component("minor")})
    with pytest.raises(ValueError, match="at least one"):
        suggest_overall([])


def test_levels_accept_published_wording_and_reject_others() -> None:
    assert Component("Moderate concerns").concern == "moderate"
    assert Component("No or very minor concerns").concern == "no or very minor"
    assert make(overall="Very low confidence").overall == "very low"
    with pytest.raises(ValueError, match="Concern must be one of"):
        Component("substantial")
    with pytest.raises(ValueError, match="Overall confidence must be one of"):
        make(overall="certain")


# --- validate_assessment -----------------------------------------------------------------


def test_valid_assessment_has_no_messages() -> None:
    assert validate_assessment(make("minor", overall="high")) == []
    assert validate_assessment(make()) == []


def test_components_with_concerns_need_explanations() -> None:
    assessment = make("minor", "moderate", overall="moderate", explain_components=False)
    messages = validate_assessment(assessment)
    assert messages == [
        "Methodological limitations: explain the minor concerns "
        "(CERQual asks for the reasons behind every concern).",
        "Coherence: explain the moderate concerns "
        "(CERQual asks for the reasons behind every concern).",
    ]


def test_no_concern_component_needs_no_explanation() -> None:
    assert validate_assessment(make(explain_components=False)) == []


def test_overall_explanation_is_required() -> None:
    messages = validate_assessment(make(explanation="   "))
    assert messages == [
        "Overall: explain the overall judgement of high confidence "
        "(CERQual asks for an explanation of every overall assessment)."
    ]


def test_high_despite_moderate_or_serious_is_a_warning_naming_components() -> None:
    messages = validate_assessment(make(ad="moderate", rel="serious", overall="high"))
    assert len(messages) == 1
    assert messages[0].startswith(WARNING_PREFIX)
    assert "adequacy of data (moderate)" in messages[0]
    assert "relevance (serious)" in messages[0]
    assert "not downgraded" in messages[0]
    # The same concerns with a downgraded judgement need no justification.
    assert validate_assessment(make(ad="moderate", rel="serious", overall="low")) == []


def test_validation_collects_all_problems() -> None:
    assessment = make("serious", explanation="", explain_components=False)
    messages = validate_assessment(assessment)
    assert [m.split(":")[0] for m in messages] == [
        "Methodological limitations",
        "Overall",
        "Warning",
    ]


# --- SoQF table and Evidence Profile -----------------------------------------------------

FINDINGS = [
    ReviewFinding(
        "RF1",
        "Women feared that disclosing drug use would lead to their baby being removed.",
        ["Smith 2019", "Jones 2021", "Smith 2019"],
        "T1",
    ),
    ReviewFinding("RF2", "Continuity of midwife built trust.", ("Khan 2020",), "T2"),
]
ASSESSMENTS = {
    "RF1": Assessment(
        Component("minor", "Two studies did not report reflexivity."),
        Component("no or very minor"),
        Component("no or very minor"),
        Component("moderate", "Mostly studies from the USA."),
        "moderate",
        "Moderate concerns about relevance.",
    ),
    "RF2": make("serious", overall="low", explanation="One small study."),
}


def test_soqf_rows() -> None:
    rows = summary_of_qualitative_findings(FINDINGS, ASSESSMENTS)
    assert [list(row) for row in rows] == [list(SOQF_COLUMNS)] * 2
    assert rows[0] == {
        "#": 1,
        "Summarised review finding": FINDINGS[0].summary,
        "Studies contributing to the review finding": "Smith 2019; Jones 2021",
        "CERQual assessment of confidence": "Moderate confidence",
        "Explanation of CERQual assessment": "Moderate concerns about relevance.",
    }
    assert rows[1]["#"] == 2
    assert rows[1]["CERQual assessment of confidence"] == "Low confidence"


def test_soqf_requires_assessment_unless_drafting() -> None:
    with pytest.raises(ValueError, match="'RF2' has no CERQual assessment"):
        summary_of_qualitative_findings(FINDINGS, {"RF1": ASSESSMENTS["RF1"]})
    rows = summary_of_qualitative_findings(
        FINDINGS, {"RF1": ASSESSMENTS["RF1"]}, allow_unassessed=True
    )
    assert rows[1]["CERQual assessment of confidence"] == "Not yet assessed"


def test_evidence_profile_has_each_component() -> None:
    rows = evidence_profile(FINDINGS, ASSESSMENTS)
    first = rows[0]
    assert first["Methodological limitations: concern"] == "Minor concerns"
    assert first["Methodological limitations: explanation"] == (
        "Two studies did not report reflexivity."
    )
    assert first["Coherence: concern"] == "No or very minor concerns"
    assert first["Adequacy of data: concern"] == "No or very minor concerns"
    assert first["Relevance: concern"] == "Moderate concerns"
    assert first["Relevance: explanation"] == "Mostly studies from the USA."
    assert first["CERQual assessment of confidence"] == "Moderate confidence"
    assert rows[1]["Methodological limitations: concern"] == "Serious concerns"


def test_soqf_csv_neutralises_formulas() -> None:
    hostile = [
        ReviewFinding("H1", '=HYPERLINK("http://example.invalid","x")', ["+Study"]),
        ReviewFinding("H2", "-2+3", ["@SUM(A1)"]),
        ReviewFinding("H3", "\tTabbed", ["Study"]),
        ReviewFinding("H4", "\rReturn", ["Study"]),
    ]
    assessments = {f.id: make(overall="high", explanation="=cmd|' /C calc'!A0") for f in hostile}
    handle = io.StringIO()
    written = write_soqf_csv(handle, summary_of_qualitative_findings(hostile, assessments))
    assert written == 4
    table = list(csv.reader(io.StringIO(handle.getvalue())))
    assert table[0] == list(SOQF_COLUMNS)
    assert table[1][1] == '\'=HYPERLINK("http://example.invalid","x")'
    assert table[1][2] == "'+Study"
    assert table[1][4] == "'=cmd|' /C calc'!A0"
    assert table[2][1] == "'-2+3"
    assert table[2][2] == "'@SUM(A1)"
    assert table[3][1] == "'\tTabbed"
    assert table[4][1] == "'\rReturn"
    for row in table[1:]:
        assert not row[1].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_soqf_csv_of_evidence_profile_and_empty_table() -> None:
    handle = io.StringIO()
    assert write_soqf_csv(handle, evidence_profile(FINDINGS, ASSESSMENTS)) == 2
    header = next(csv.reader(io.StringIO(handle.getvalue())))
    assert "Relevance: explanation" in header
    empty = io.StringIO()
    assert write_soqf_csv(empty, []) == 0
    assert next(csv.reader(io.StringIO(empty.getvalue()))) == list(SOQF_COLUMNS)


def test_soqf_csv_rejects_ragged_rows() -> None:
    rows = summary_of_qualitative_findings(FINDINGS, ASSESSMENTS)
    rows[1] = {**rows[1], "extra": "x"}
    with pytest.raises(ValueError, match="same columns"):
        write_soqf_csv(io.StringIO(), rows)


# --- theme tree --------------------------------------------------------------------------


def test_theme_tree_nests_analytical_descriptive_findings() -> None:
    themes = [
        Theme("A1", "Fear shapes engagement", "analytical"),
        Theme("D1", "Fear of child removal", "descriptive", "A1", ["F1", "F2"]),
        Theme("D2", "Judgemental staff", "descriptive", "A1", ["F3"]),
        Theme("D3", "Practical barriers", "descriptive", None, ["F4"]),
    ]
    tree = theme_tree(themes)
    assert [node["id"] for node in tree] == ["A1", "D3"]
    assert tree[0]["kind"] == "analytical"
    assert [child["id"] for child in tree[0]["children"]] == ["D1", "D2"]
    assert tree[0]["children"][0]["findings"] == ["F1", "F2"]
    assert tree[0]["children"][0]["children"] == []
    assert tree[1]["findings"] == ["F4"]


def test_theme_tree_attaches_findings_when_given() -> None:
    findings = [
        Finding("F1", "Smith 2019", "Fear of social services", [("'They'd take him'", "7")])
    ]
    tree = theme_tree([Theme("D1", "Fear", "descriptive", None, ["F1"])], findings)
    assert tree[0]["findings"] == [
        {
            "id": "F1",
            "study": "Smith 2019",
            "text": "Fear of social services",
            "quotes": [("'They'd take him'", "7")],
        }
    ]
    with pytest.raises(ValueError, match=r"Theme 'D1' \(Fear\) refers to unknown finding"):
        theme_tree([Theme("D1", "Fear", "descriptive", None, ["F1", "F9"])], findings)


def test_theme_tree_detects_cycles() -> None:
    themes = [
        Theme("A", "Alpha", "analytical", "C"),
        Theme("B", "Beta", "analytical", "A"),
        Theme("C", "Gamma", "analytical", "B"),
    ]
    with pytest.raises(ValueError, match=r"Theme 'A' \(Alpha\) is in a cycle") as info:
        theme_tree(themes)
    assert "A -> C -> B -> A" in str(info.value)


def test_theme_tree_detects_self_parent() -> None:
    with pytest.raises(ValueError, match=r"'S' \(Self\) is in a cycle of parents: S -> S"):
        theme_tree([Theme("S", "Self", "descriptive", "S")])


def test_theme_tree_unknown_parent_names_theme() -> None:
    with pytest.raises(ValueError, match=r"Theme 'D1' \(Fear\) has unknown parent 'A9'"):
        theme_tree([Theme("D1", "Fear", "descriptive", "A9")])


def test_theme_tree_rejects_duplicates_inverted_nesting_and_bad_kind() -> None:
    with pytest.raises(ValueError, match=r"'D1' .* more than once"):
        theme_tree([Theme("D1", "One"), Theme("D1", "Two")])
    with pytest.raises(ValueError, match=r"Analytical theme 'A1'.*under descriptive theme 'D1'"):
        theme_tree([Theme("D1", "Desc"), Theme("A1", "Analytic", "analytical", "D1")])
    with pytest.raises(ValueError, match="kind must be one of"):
        Theme("X", "X", "interpretive")

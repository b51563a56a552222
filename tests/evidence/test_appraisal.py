"""Tests for quality appraisal (MMAT 2018, CASP qualitative, RoB 2, ROBINS-I) and its charts.

Reference text and rules, copied from the published tools:

* MMAT 2018 criteria: Hong QN et al., Mixed Methods Appraisal Tool (MMAT) version 2018, the
  "Methodological quality criteria" table (screening questions S1-S2, criteria 1.1-5.5).
* CASP Qualitative Checklist (2018): questions 1-10.
* RoB 2 algorithms: Higgins JPT et al., Revised Cochrane risk-of-bias tool for randomized
  trials (RoB 2), guidance of 22 August 2019 -- the decision figure of each domain, and for
  domains 1 and 5 also the domain's "criteria for reaching risk-of-bias judgements" table,
  which is checked independently against every combination of answers.
* ROBINS-I overall judgement: Sterne JAC et al., BMJ 2016;355:i4919, table of overall
  risk-of-bias judgements.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import pytest

from steppingstones.evidence import appraisal
from steppingstones.evidence.appraisal import (
    CASP_QUALITATIVE,
    MMAT,
    PALETTE,
    ROB2,
    ROBINS_I,
    TOOLS,
    AppraisalError,
    Judgement,
    get_tool,
    judge,
    rob2_domain,
    robins_i_overall,
    summary_bars_svg,
    traffic_light_svg,
    validate,
)

SVG = "{http://www.w3.org/2000/svg}"

# --------------------------------------------------------------------------------------------
# The tools as data
# --------------------------------------------------------------------------------------------

MMAT_2018 = {
    "S1": "Are there clear research questions?",
    "S2": "Do the collected data allow to address the research questions?",
    "1.1": "Is the qualitative approach appropriate to answer the research question?",
    "1.2": "Are the qualitative data collection methods adequate to address the research question?",
    "1.3": "Are the findings adequately derived from the data?",
    "1.4": "Is the interpretation of results sufficiently substantiated by data?",
    "1.5": "Is there coherence between qualitative data sources, collection, analysis and "
    "interpretation?",
    "2.1": "Is randomization appropriately performed?",
    "2.2": "Are the groups comparable at baseline?",
    "2.3": "Are there complete outcome data?",
    "2.4": "Are outcome assessors blinded to the intervention provided?",
    "2.5": "Did the participants adhere to the assigned intervention?",
    "3.1": "Are the participants representative of the target population?",
    "3.2": "Are measurements appropriate regarding both the outcome and intervention (or "
    "exposure)?",
    "3.3": "Are there complete outcome data?",
    "3.4": "Are the confounders accounted for in the design and analysis?",
    "3.5": "During the study period, is the intervention administered (or exposure occurred) "
    "as intended?",
    "4.1": "Is the sampling strategy relevant to address the research question?",
    "4.2": "Is the sample representative of the target population?",
    "4.3": "Are the measurements appropriate?",
    "4.4": "Is the risk of nonresponse bias low?",
    "4.5": "Is the statistical analysis appropriate to answer the research question?",
    "5.1": "Is there an adequate rationale for using a mixed methods design to address the "
    "research question?",
    "5.2": "Are the different components of the study effectively integrated to answer the "
    "research question?",
    "5.3": "Are the outputs of the integration of qualitative and quantitative components "
    "adequately interpreted?",
    "5.4": "Are divergences and inconsistencies between quantitative and qualitative results "
    "adequately addressed?",
    "5.5": "Do the different components of the study adhere to the quality criteria of each "
    "tradition of the methods involved?",
}

CASP_2018 = {
    "1": "Was there a clear statement of the aims of the research?",
    "2": "Is a qualitative methodology appropriate?",
    "3": "Was the research design appropriate to address the aims of the research?",
    "4": "Was the recruitment strategy appropriate to the aims of the research?",
    "5": "Was the data collected in a way that addressed the research issue?",
    "6": "Has the relationship between researcher and participants been adequately considered?",
    "7": "Have ethical issues been taken into consideration?",
    "8": "Was the data analysis sufficiently rigorous?",
    "9": "Is there a clear statement of findings?",
    "10": "How valuable is the research?",
}


def test_registry_holds_the_four_tools() -> None:
    assert set(TOOLS) == {MMAT, CASP_QUALITATIVE, ROB2, ROBINS_I}
    for key, tool in TOOLS.items():
        assert get_tool(key) is tool
        assert tool.key == key and tool.citation and tool.version and tool.answers


def test_get_tool_names_the_known_tools() -> None:
    with pytest.raises(KeyError, match="rob2"):
        get_tool("rob1")


def test_tools_are_frozen() -> None:
    tool = get_tool(ROB2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tool.name = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tool.domains[0].items[0].text = "changed"  # type: ignore[misc]


def test_module_is_plain_python_without_django() -> None:
    tree = ast.parse(Path(appraisal.__file__).read_text(encoding="utf-8"))
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert imported and not any(name.startswith("django") for name in imported)


def test_citations_name_each_tool_source() -> None:
    assert "1148552" in get_tool(MMAT).citation and "Hong QN" in get_tool(MMAT).citation
    assert "366:l4898" in get_tool(ROB2).citation
    assert "355:i4919" in get_tool(ROBINS_I).citation
    assert "CASP Qualitative Checklist" in get_tool(CASP_QUALITATIVE).citation


@pytest.mark.parametrize("item_id", sorted(MMAT_2018))
def test_mmat_wording_is_the_2018_tool(item_id: str) -> None:
    assert get_tool(MMAT).item(item_id).text == MMAT_2018[item_id]


def test_mmat_has_five_categories_of_five_criteria() -> None:
    tool = get_tool(MMAT)
    assert [d.name for d in tool.domains] == [
        "Qualitative",
        "Quantitative randomized controlled trials",
        "Quantitative non-randomized",
        "Quantitative descriptive",
        "Mixed methods",
    ]
    assert [item.id for item in tool.items] == list(MMAT_2018)
    assert all(len(d.items) == 5 for d in tool.domains)
    assert [(o.code, o.label) for o in tool.answers] == [
        ("yes", "Yes"),
        ("no", "No"),
        ("cant_tell", "Can't tell"),
    ]


@pytest.mark.parametrize("item_id", list(CASP_2018))
def test_casp_wording_is_the_2018_checklist(item_id: str) -> None:
    assert get_tool(CASP_QUALITATIVE).item(item_id).text == CASP_2018[item_id]


def test_casp_question_10_is_free_text() -> None:
    tool = get_tool(CASP_QUALITATIVE)
    assert tool.item("10").free_text
    assert all(tool.item(str(n)).options == ("yes", "no", "cant_tell") for n in range(1, 10))


def test_rob2_signalling_questions_are_numbered_as_in_the_tool() -> None:
    tool = get_tool(ROB2)
    assert {d.id: [item.id for item in d.items] for d in tool.domains} == {
        "D1": ["1.1", "1.2", "1.3"],
        "D2": ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"],
        "D3": ["3.1", "3.2", "3.3", "3.4"],
        "D4": ["4.1", "4.2", "4.3", "4.4", "4.5"],
        "D5": ["5.1", "5.2", "5.3"],
    }
    assert [d.name for d in tool.domains] == [
        "Bias arising from the randomization process",
        "Bias due to deviations from intended interventions (effect of assignment to intervention)",
        "Bias due to missing outcome data",
        "Bias in measurement of the outcome",
        "Bias in selection of the reported result",
    ]
    assert [o.code for o in tool.judgements] == ["low", "some_concerns", "high"]


@pytest.mark.parametrize(
    ("item_id", "text", "options", "condition"),
    [
        ("1.1", "Was the allocation sequence random?", "Y PY PN N NI", ""),
        (
            "2.3",
            "Were there deviations from the intended intervention that arose because of the "
            "trial context?",
            "Y PY PN N NI NA",
            "If Y/PY/NI to 2.1 or 2.2",
        ),
        (
            "2.7",
            "Was there potential for a substantial impact (on the result) of the failure to "
            "analyse participants in the group to which they were randomized?",
            "Y PY PN N NI NA",
            "If N/PN/NI to 2.6",
        ),
        (
            "3.2",
            "Is there evidence that the result was not biased by missing outcome data?",
            "Y PY PN N NA",
            "If N/PN/NI to 3.1",
        ),
        (
            "4.3",
            "Were outcome assessors aware of the intervention received by study participants?",
            "Y PY PN N NI NA",
            "If N/PN/NI to 4.1 and 4.2",
        ),
        (
            "5.2",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple eligible outcome measurements (e.g. scales, "
            "definitions, time points) within the outcome domain?",
            "Y PY PN N NI",
            "",
        ),
    ],
)
def test_rob2_question_text_options_and_conditions(
    item_id: str, text: str, options: str, condition: str
) -> None:
    item = get_tool(ROB2).item(item_id)
    assert (item.text, item.options, item.condition) == (text, tuple(options.split()), condition)


def test_robins_i_domains_and_scale() -> None:
    tool = get_tool(ROBINS_I)
    assert [d.name for d in tool.domains] == [
        "Bias due to confounding",
        "Bias in selection of participants into the study",
        "Bias in classification of interventions",
        "Bias due to deviations from intended interventions",
        "Bias due to missing data",
        "Bias in measurement of outcomes",
        "Bias in selection of the reported result",
    ]
    assert [o.code for o in tool.judgements] == [
        "low",
        "moderate",
        "serious",
        "critical",
        "no_information",
    ]


def test_module_docstring_says_robins_i_has_no_signalling_algorithm() -> None:
    doc = " ".join((appraisal.__doc__ or "").split())
    assert "publishes no algorithm" in doc and "only the overall judgement is computed" in doc


# --------------------------------------------------------------------------------------------
# RoB 2 algorithms (guidance decision figures)
# --------------------------------------------------------------------------------------------


def _answers(spec: str) -> dict[str, str]:
    """``"1.1=Y 1.2=PY"`` -> ``{"1.1": "Y", "1.2": "PY"}``."""
    return dict(pair.split("=") for pair in spec.split())


D1_CASES = [
    # 1.2 Y/PY: 1.1 Y/PY/NI and 1.3 N/PN/NI -> low
    ("1.1=Y 1.2=Y 1.3=N", "low"),
    ("1.1=PY 1.2=PY 1.3=PN", "low"),
    ("1.1=NI 1.2=Y 1.3=NI", "low"),
    # ... 1.3 Y/PY -> some concerns
    ("1.1=Y 1.2=Y 1.3=Y", "some_concerns"),
    ("1.1=NI 1.2=PY 1.3=PY", "some_concerns"),
    # ... 1.1 N/PN -> some concerns whatever 1.3
    ("1.1=N 1.2=Y 1.3=N", "some_concerns"),
    ("1.1=PN 1.2=PY 1.3=Y", "some_concerns"),
    # 1.2 N/PN -> high
    ("1.1=Y 1.2=N 1.3=N", "high"),
    ("1.1=Y 1.2=PN 1.3=NI", "high"),
    # 1.2 NI: 1.3 N/PN/NI -> some concerns; 1.3 Y/PY -> high
    ("1.1=Y 1.2=NI 1.3=N", "some_concerns"),
    ("1.1=N 1.2=NI 1.3=PN", "some_concerns"),
    ("1.1=Y 1.2=NI 1.3=NI", "some_concerns"),
    ("1.1=Y 1.2=NI 1.3=Y", "high"),
    ("1.1=NI 1.2=NI 1.3=PY", "high"),
]

D2_CASES = [
    # part 1 low (2.1 and 2.2 N/PN), part 2 low (2.6 Y/PY)
    ("2.1=N 2.2=N 2.6=Y", "low"),
    ("2.1=PN 2.2=N 2.6=PY", "low"),
    # aware, but no deviations from trial context (2.3 N/PN) -> low
    ("2.1=Y 2.2=N 2.3=N 2.6=Y", "low"),
    ("2.1=NI 2.2=PN 2.3=PN 2.6=Y", "low"),
    ("2.1=N 2.2=PY 2.3=N 2.6=Y", "low"),
    # 2.3 NI -> some concerns
    ("2.1=Y 2.2=Y 2.3=NI 2.6=Y", "some_concerns"),
    # 2.3 Y/PY, 2.4 N/PN -> some concerns
    ("2.1=Y 2.2=Y 2.3=Y 2.4=N 2.6=Y", "some_concerns"),
    ("2.1=Y 2.2=Y 2.3=PY 2.4=PN 2.6=Y", "some_concerns"),
    # 2.4 Y/PY/NI, 2.5 Y/PY -> some concerns; 2.5 N/PN/NI -> high
    ("2.1=Y 2.2=Y 2.3=Y 2.4=Y 2.5=Y 2.6=Y", "some_concerns"),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=NI 2.5=PY 2.6=Y", "some_concerns"),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=Y 2.5=N 2.6=Y", "high"),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=PY 2.5=PN 2.6=Y", "high"),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=NI 2.5=NI 2.6=Y", "high"),
    # part 2: 2.6 N/PN/NI, 2.7 N/PN -> some concerns; 2.7 Y/PY/NI -> high
    ("2.1=N 2.2=N 2.6=N 2.7=N", "some_concerns"),
    ("2.1=N 2.2=N 2.6=NI 2.7=PN", "some_concerns"),
    ("2.1=N 2.2=N 2.6=PN 2.7=Y", "high"),
    ("2.1=N 2.2=N 2.6=N 2.7=PY", "high"),
    ("2.1=N 2.2=N 2.6=N 2.7=NI", "high"),
    # the domain is the worse of the two parts
    ("2.1=Y 2.2=Y 2.3=NI 2.6=N 2.7=N", "some_concerns"),
    ("2.1=Y 2.2=Y 2.3=NI 2.6=N 2.7=Y", "high"),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=Y 2.5=N 2.6=Y", "high"),
]

D3_CASES = [
    ("3.1=Y", "low"),
    ("3.1=PY", "low"),
    ("3.1=N 3.2=Y", "low"),
    ("3.1=NI 3.2=PY", "low"),
    ("3.1=N 3.2=N 3.3=N", "low"),
    ("3.1=PN 3.2=PN 3.3=PN", "low"),
    ("3.1=N 3.2=N 3.3=Y 3.4=N", "some_concerns"),
    ("3.1=NI 3.2=PN 3.3=NI 3.4=PN", "some_concerns"),
    ("3.1=N 3.2=N 3.3=PY 3.4=Y", "high"),
    ("3.1=N 3.2=N 3.3=Y 3.4=PY", "high"),
    ("3.1=N 3.2=N 3.3=NI 3.4=NI", "high"),
]

D4_CASES = [
    # inappropriate method, or measurement that could differ between groups -> high
    ("4.1=Y", "high"),
    ("4.1=PY", "high"),
    ("4.1=N 4.2=Y", "high"),
    ("4.1=NI 4.2=PY", "high"),
    # 4.2 N/PN
    ("4.1=N 4.2=N 4.3=N", "low"),
    ("4.1=PN 4.2=PN 4.3=PN", "low"),
    ("4.1=N 4.2=N 4.3=Y 4.4=N", "low"),
    ("4.1=NI 4.2=N 4.3=NI 4.4=PN", "low"),
    ("4.1=N 4.2=N 4.3=Y 4.4=Y 4.5=N", "some_concerns"),
    ("4.1=N 4.2=N 4.3=PY 4.4=NI 4.5=PN", "some_concerns"),
    ("4.1=N 4.2=N 4.3=Y 4.4=Y 4.5=Y", "high"),
    ("4.1=N 4.2=PN 4.3=Y 4.4=PY 4.5=NI", "high"),
    # 4.2 NI: what would be low becomes some concerns
    ("4.1=N 4.2=NI 4.3=N", "some_concerns"),
    ("4.1=N 4.2=NI 4.3=Y 4.4=N", "some_concerns"),
    ("4.1=N 4.2=NI 4.3=Y 4.4=Y 4.5=PN", "some_concerns"),
    ("4.1=N 4.2=NI 4.3=Y 4.4=Y 4.5=PY", "high"),
    ("4.1=NI 4.2=NI 4.3=NI 4.4=NI 4.5=NI", "high"),
]

D5_CASES = [
    ("5.1=Y 5.2=N 5.3=N", "low"),
    ("5.1=PY 5.2=PN 5.3=PN", "low"),
    ("5.1=N 5.2=N 5.3=N", "some_concerns"),
    ("5.1=PN 5.2=PN 5.3=N", "some_concerns"),
    ("5.1=NI 5.2=N 5.3=PN", "some_concerns"),
    ("5.1=Y 5.2=NI 5.3=N", "some_concerns"),
    ("5.1=Y 5.2=N 5.3=NI", "some_concerns"),
    ("5.1=Y 5.2=Y 5.3=N", "high"),
    ("5.1=Y 5.2=N 5.3=PY", "high"),
    ("5.1=NI 5.2=NI 5.3=Y", "high"),
]


@pytest.mark.parametrize(
    ("domain", "spec", "expected"),
    [("D1", *case) for case in D1_CASES]
    + [("D2", *case) for case in D2_CASES]
    + [("D3", *case) for case in D3_CASES]
    + [("D4", *case) for case in D4_CASES]
    + [("D5", *case) for case in D5_CASES],
)
def test_rob2_domain_algorithm(domain: str, spec: str, expected: str) -> None:
    assert rob2_domain(domain, _answers(spec)) == expected


def test_every_domain_reaches_each_judgement_in_the_cases() -> None:
    for cases in (D1_CASES, D2_CASES, D3_CASES, D4_CASES, D5_CASES):
        assert {expected for _, expected in cases} == {"low", "some_concerns", "high"}


Y, N, NI = {"Y", "PY"}, {"N", "PN"}, {"NI"}


def _d1_criteria(random: str, concealed: str, imbalance: str) -> str:
    """Domain 1 from the guidance's criteria table (not its figure)."""
    if concealed in N or (concealed in NI and imbalance in Y):
        return "high"
    if concealed in Y and imbalance in N | NI and random in Y | NI:
        return "low"
    return "some_concerns"


def _d5_criteria(plan: str, outcomes: str, analyses: str) -> str:
    """Domain 5 from the guidance's criteria table."""
    if outcomes in Y or analyses in Y:
        return "high"
    if plan in Y and outcomes in N and analyses in N:
        return "low"
    return "some_concerns"


ALL = ("Y", "PY", "PN", "N", "NI")


@pytest.mark.parametrize("combo", list(itertools.product(ALL, repeat=3)))
def test_rob2_domains_1_and_5_agree_with_the_criteria_tables(combo: tuple[str, str, str]) -> None:
    first, second, third = combo
    assert rob2_domain("D1", {"1.1": first, "1.2": second, "1.3": third}) == _d1_criteria(
        first, second, third
    )
    assert rob2_domain("D5", {"5.1": first, "5.2": second, "5.3": third}) == _d5_criteria(
        first, second, third
    )


def test_answers_off_the_algorithm_path_are_ignored() -> None:
    assert rob2_domain("D3", {"3.1": "Y", "3.2": "N", "3.3": "Y", "3.4": "Y"}) == "low"
    assert rob2_domain("D1", {"1.2": "N"}) == "high"  # 1.1 and 1.3 not needed


def test_rob2_domain_names_the_missing_question_on_the_path() -> None:
    with pytest.raises(AppraisalError) as caught:
        rob2_domain("D3", {"3.1": "N", "3.2": "N"})
    assert caught.value.messages == [
        "RoB 2 question 3.3: no answer, but the D3 algorithm needs one"
    ]


# --------------------------------------------------------------------------------------------
# RoB 2 judgement, overall and overrides
# --------------------------------------------------------------------------------------------

ALL_LOW = _answers("1.1=Y 1.2=Y 1.3=N 2.1=N 2.2=N 2.6=Y 3.1=Y 4.1=N 4.2=N 4.3=N 5.1=Y 5.2=N 5.3=N")


def _rob2(**changes: str) -> dict[str, object]:
    answers: dict[str, object] = dict(ALL_LOW)
    answers.update({key.replace("_", "."): value for key, value in changes.items()})
    return answers


def test_all_low_is_low_overall() -> None:
    assert validate(ROB2, ALL_LOW) == []
    result = judge(ROB2, ALL_LOW)
    assert result.proposed == dict.fromkeys(["D1", "D2", "D3", "D4", "D5"], "low")
    assert result.final == result.proposed
    assert (result.overall_proposed, result.overall) == ("low", "low")
    assert result.reasons == {}


def test_some_concerns_in_one_domain_is_some_concerns_overall() -> None:
    result = judge(ROB2, _rob2(**{"1_3": "Y"}))
    assert result.final["D1"] == "some_concerns"
    assert result.overall == "some_concerns"
    assert not any("several domains" in note for note in result.notes)


def test_any_high_domain_is_high_overall() -> None:
    result = judge(ROB2, _rob2(**{"1_3": "Y", "5_2": "Y"}))
    assert result.final["D5"] == "high"
    assert result.overall == "high"


def test_several_some_concerns_stay_some_concerns_with_a_note() -> None:
    result = judge(ROB2, _rob2(**{"1_3": "Y", "5_1": "N"}))
    assert result.overall == "some_concerns"
    assert any("several domains (D1, D5)" in note for note in result.notes)


def test_reviewer_may_raise_overall_to_high_with_reason_when_several_concerns() -> None:
    answers = _rob2(**{"1_3": "Y", "5_1": "N"})
    answers["overrides"] = {
        "overall": {"judgement": "high", "reason": "Concerns in D1 and D5 compound"}
    }
    assert validate(ROB2, answers) == []
    result = judge(ROB2, answers)
    assert (result.overall_proposed, result.overall) == ("some_concerns", "high")
    assert result.reasons == {"overall": "Concerns in D1 and D5 compound"}
    assert result.overridden == ("overall",)


@pytest.mark.parametrize(
    ("changes", "override", "fragment"),
    [
        ({"1_3": "Y"}, {"judgement": "high", "reason": "x"}, "only when several domains"),
        ({}, {"judgement": "high", "reason": "x"}, "only when several domains"),
        ({"1_3": "Y", "5_1": "N"}, {"judgement": "low", "reason": "x"}, "only be raised"),
        ({"1_3": "Y", "5_1": "N"}, {"judgement": "high", "reason": "  "}, "reason is required"),
        ({"1_3": "Y", "5_1": "N"}, {"judgement": "high"}, "reason is required"),
    ],
)
def test_overall_override_rules(
    changes: dict[str, str], override: dict[str, str], fragment: str
) -> None:
    answers = _rob2(**changes)
    answers["overrides"] = {"overall": override}
    messages = validate(ROB2, answers)
    assert any(fragment in message for message in messages), messages
    with pytest.raises(AppraisalError):
        judge(ROB2, answers)


def test_domain_override_keeps_proposal_and_reason() -> None:
    answers = _rob2()
    answers["overrides"] = {"D3": {"judgement": "high", "reason": "Attrition 40% in one arm"}}
    result = judge(ROB2, answers)
    assert result.proposed["D3"] == "low"
    assert result.final["D3"] == "high"
    assert result.reasons == {"D3": "Attrition 40% in one arm"}
    assert result.overall_proposed == "high"  # computed from the final domain judgements
    assert any("proposed low risk" in note and "high risk" in note for note in result.notes)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"D3": {"judgement": "high"}},
            "RoB 2 override of D3: a reason is required",
        ),
        (
            {"D3": {"judgement": "serious", "reason": "x"}},
            "RoB 2 override of D3: 'serious' is not one of low, some_concerns, high",
        ),
        (
            {"D9": {"judgement": "high", "reason": "x"}},
            "RoB 2 overrides: unknown domain 'D9' (D1-D5 or overall)",
        ),
    ],
)
def test_domain_override_needs_valid_judgement_and_reason(
    overrides: dict[str, object], message: str
) -> None:
    answers = _rob2()
    answers["overrides"] = overrides
    assert message in validate(ROB2, answers)


def test_override_before_the_proposal_is_refused() -> None:
    answers = {"1.2": "Y", "overrides": {"D1": {"judgement": "low", "reason": "x"}}}
    assert any("answer the signalling questions first" in m for m in validate(ROB2, answers))


def test_partial_answers_leave_domains_and_overall_open() -> None:
    answers = dict(ALL_LOW)
    del answers["3.1"]
    answers["1.2"] = "Y"
    answers["1.1"] = "Y"
    del answers["1.3"]
    result = judge(ROB2, answers)
    assert result.proposed["D1"] is None and result.proposed["D3"] is None
    assert result.proposed["D2"] == "low"
    assert result.overall is None
    assert "D1 not judged: answer 1.3" in result.notes
    assert not result.complete


def test_judgement_is_json_able() -> None:
    result = judge(ROB2, _rob2(**{"1_3": "Y"}))
    assert json.loads(json.dumps(result.to_dict()))["final"]["D1"] == "some_concerns"


# --------------------------------------------------------------------------------------------
# Validation messages
# --------------------------------------------------------------------------------------------


def test_rob2_invalid_answer_message_names_the_question() -> None:
    messages = validate(ROB2, _rob2(**{"1_2": "maybe"}))
    assert messages[0] == "RoB 2 question 1.2: 'maybe' is not one of Y, PY, PN, N, NI"


def test_rob2_na_is_only_for_questions_that_allow_it() -> None:
    assert validate(ROB2, _rob2(**{"1_1": "NA"})) == [
        "RoB 2 question 1.1: 'NA' is not one of Y, PY, PN, N, NI"
    ]
    assert "RoB 2 question 3.2: 'NI' is not one of Y, PY, PN, N, NA" in validate(
        ROB2, _rob2(**{"3_1": "N", "3_2": "NI"})
    )


def test_rob2_na_on_the_path_is_reported() -> None:
    messages = validate(ROB2, _rob2(**{"3_1": "N", "3_2": "NA"}))
    assert messages == [
        "RoB 2 question 3.2: 'NA' (not applicable) is not possible here, the question applies "
        "(if N/PN/NI to 3.1)"
    ]


def test_rob2_missing_conditional_question_on_the_path() -> None:
    messages = validate(ROB2, _rob2(**{"2_1": "Y"}))
    assert messages == [
        "RoB 2 question 2.3: no answer, but the D2 algorithm needs one (if Y/PY/NI to 2.1 or 2.2)"
    ]
    assert validate(ROB2, _rob2(**{"2_1": "Y"}), partial=True) == []


def test_rob2_unconditional_questions_are_required() -> None:
    answers = dict(ALL_LOW)
    del answers["5.1"]
    assert validate(ROB2, answers) == ["RoB 2 question 5.1: no answer"]


def test_unknown_items_and_bad_shapes_are_reported() -> None:
    assert validate(ROB2, _rob2(**{"6_1": "Y"})) == ["RoB 2: unknown item '6.1'"]
    assert validate(ROB2, []) == ["RoB 2: answers must be an object keyed by item number"]  # type: ignore[arg-type]
    assert "RoB 2 comments: unknown item '9.9'" in validate(
        ROB2, {**ALL_LOW, "comments": {"9.9": "x"}}
    )


def test_judge_refuses_invalid_values() -> None:
    with pytest.raises(AppraisalError) as caught:
        judge(ROB2, {"1.2": "maybe"})
    assert caught.value.messages == ["RoB 2 question 1.2: 'maybe' is not one of Y, PY, PN, N, NI"]


def test_validate_unknown_tool() -> None:
    with pytest.raises(KeyError):
        validate("rob3", {})


# --------------------------------------------------------------------------------------------
# MMAT
# --------------------------------------------------------------------------------------------


def _mmat(categories: list[str], answer: str = "yes", **extra: str) -> dict[str, object]:
    answers: dict[str, object] = {"categories": categories, "S1": "yes", "S2": "yes"}
    for category in categories:
        for n in range(1, 6):
            answers[f"{category}.{n}"] = answer
    answers.update({key.replace("_", "."): value for key, value in extra.items()})
    return answers


def test_mmat_summary_counts_yes_and_discourages_a_score() -> None:
    answers = _mmat(["1"], **{"1_2": "cant_tell"})
    answers["comments"] = {"1.2": "Interview guide not reported"}
    assert validate(MMAT, answers) == []
    result = judge(MMAT, answers)
    assert result.summary == {"1": "4/5 criteria met"}
    assert result.met == {"1": (4, 5)}
    assert result.items["1.2"] == "cant_tell"
    assert result.comments == {"1.2": "Interview guide not reported"}
    assert result.overall is None and result.proposed == {}
    assert any("discourages calculating an overall score" in note for note in result.notes)


@pytest.mark.parametrize(("question", "answer"), [("S1", "no"), ("S2", "cant_tell")])
def test_mmat_flags_screening_not_yes(question: str, answer: str) -> None:
    result = judge(MMAT, _mmat(["4"], **{question: answer}))
    flagged = [note for note in result.notes if "further appraisal may not be feasible" in note]
    assert flagged and question in flagged[0]


def test_mmat_without_screening_flag_when_both_yes() -> None:
    result = judge(MMAT, _mmat(["4"]))
    assert not any("further appraisal" in note for note in result.notes)


def test_mmat_criteria_optional_when_screening_fails() -> None:
    answers = {"categories": ["2"], "S1": "yes", "S2": "no"}
    assert validate(MMAT, answers) == []
    answers["S2"] = "yes"
    assert "MMAT criterion 2.1: no answer" in validate(MMAT, answers)


def test_mmat_mixed_methods_appraises_several_categories() -> None:
    answers = _mmat(["5", "1", "3"], **{"3_4": "no", "5_2": "cant_tell"})
    assert validate(MMAT, answers) == []
    result = judge(MMAT, answers)
    assert result.categories == ("1", "3", "5")
    assert result.summary == {
        "1": "5/5 criteria met",
        "3": "4/5 criteria met",
        "5": "4/5 criteria met",
    }
    assert any("Mixed methods study" in note for note in result.notes)


@pytest.mark.parametrize(
    ("categories", "fragment"),
    [
        (["5"], "mixed methods study (5) is also appraised"),
        (["5", "1"], "mixed methods study (5) is also appraised"),
        (["5", "3"], "mixed methods study (5) is also appraised"),
        (["1", "3"], "appraised in one category only"),
        (["6"], "'6' is not one of 1, 2, 3, 4, 5"),
        ([], "expected a non-empty list"),
        (["1", "1"], "listed twice"),
    ],
)
def test_mmat_category_rules(categories: list[str], fragment: str) -> None:
    messages = validate(MMAT, {"categories": categories, "S1": "yes", "S2": "yes"})
    assert any(fragment in message for message in messages), messages


def test_mmat_criterion_outside_the_category_is_reported() -> None:
    answers = _mmat(["1"], **{"3_1": "yes"})
    assert validate(MMAT, answers) == [
        "MMAT criterion 3.1: category 3 (Quantitative non-randomized) is not among this "
        "study's categories (1)"
    ]


def test_mmat_invalid_answer_message() -> None:
    assert validate(MMAT, _mmat(["1"], **{"1_1": "maybe"})) == [
        "MMAT criterion 1.1: 'maybe' is not one of yes, no, cant_tell"
    ]
    assert validate(MMAT, _mmat(["1"], S1="Yes")) == [
        "MMAT screening question S1: 'Yes' is not one of yes, no, cant_tell"
    ]


# --------------------------------------------------------------------------------------------
# CASP
# --------------------------------------------------------------------------------------------


def _casp(**changes: str) -> dict[str, object]:
    answers: dict[str, object] = {str(n): "yes" for n in range(1, 10)}
    answers["10"] = "Transferable to UK maternity services"
    answers.update({key.lstrip("q"): value for key, value in changes.items()})
    return answers


def test_casp_summary_and_free_text() -> None:
    answers = _casp(q6="cant_tell", q8="no")
    assert validate(CASP_QUALITATIVE, answers) == []
    result = judge(CASP_QUALITATIVE, answers)
    assert result.summary == {"A": "5/6 answered yes", "B": "2/3 answered yes"}
    assert result.items["10"] == "Transferable to UK maternity services"
    assert result.overall is None


def test_casp_screening_and_messages() -> None:
    result = judge(CASP_QUALITATIVE, _casp(q2="no"))
    assert any("question 2" in note and "worth continuing" in note for note in result.notes)
    assert validate(CASP_QUALITATIVE, _casp(q3="probably")) == [
        "CASP question 3: 'probably' is not one of yes, no, cant_tell"
    ]
    assert validate(CASP_QUALITATIVE, _casp(q10=3)) == ["CASP question 10: expected text"]  # type: ignore[arg-type]
    incomplete = _casp()
    del incomplete["7"]
    assert validate(CASP_QUALITATIVE, incomplete) == ["CASP question 7: no answer"]


# --------------------------------------------------------------------------------------------
# ROBINS-I
# --------------------------------------------------------------------------------------------


def _robins(*values: str) -> dict[str, str]:
    return {f"D{n}": value for n, value in enumerate(values, start=1)}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("low",) * 7, "low"),
        (("low",) * 6 + ("moderate",), "moderate"),
        (("moderate",) * 7, "moderate"),
        (("low", "moderate", "serious", "low", "low", "low", "low"), "serious"),
        (("serious", "moderate", "critical", "low", "low", "low", "low"), "critical"),
        (("low", "moderate", "low", "no_information", "low", "low", "low"), "no_information"),
        (("no_information", "serious", "low", "low", "low", "low", "low"), "serious"),
        (("no_information", "low", "critical", "low", "low", "low", "low"), "critical"),
    ],
)
def test_robins_i_overall_rule(values: tuple[str, ...], expected: str) -> None:
    answers = _robins(*values)
    assert robins_i_overall(answers) == expected
    result = judge(ROBINS_I, answers)
    assert result.overall == expected
    assert result.final == answers and result.proposed == answers


def test_robins_i_no_information_outside_key_domains() -> None:
    values = _robins("low", "low", "low", "low", "no_information", "low", "low")
    assert robins_i_overall(values) == "no_information"
    answers: dict[str, object] = {**values, "key_domains": ["D1", "D2"]}
    result = judge(ROBINS_I, answers)
    assert result.overall == "moderate"  # not low: low needs low in every domain
    assert any("not a key domain" in note for note in result.notes)


def test_robins_i_validation() -> None:
    assert validate(ROBINS_I, _robins("high", *["low"] * 6)) == [
        "ROBINS-I domain D1: 'high' is not one of low, moderate, serious, critical, no_information"
    ]
    assert validate(ROBINS_I, _robins(*["low"] * 6)) == ["ROBINS-I domain D7: no judgement"]
    assert "ROBINS-I key_domains: 'D8' is not one of D1, D2, D3, D4, D5, D6, D7" in validate(
        ROBINS_I, {**_robins(*["low"] * 7), "key_domains": ["D8"]}
    )
    assert validate(ROBINS_I, {**_robins(*["low"] * 7), "overrides": {}}) == [
        "ROBINS-I: unknown item 'overrides'"
    ]


def test_robins_i_incomplete_and_support_notes() -> None:
    answers: dict[str, object] = {**_robins("serious"), "comments": {"D1": "No adjustment"}}
    result = judge(ROBINS_I, answers)
    assert result.overall is None
    assert "Not judged: D2, D3, D4, D5, D6, D7" in result.notes
    full: dict[str, object] = {**_robins(*["low"] * 7), "comments": {"D1": "Adjusted"}}
    assert any("D2, D3" in note for note in judge(ROBINS_I, full).notes)


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 -- our own generated SVG, not untrusted input


def _check_accessible(root: ET.Element) -> tuple[str, str]:
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text and desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return title.text, desc.text


def _cells(root: ET.Element) -> list[tuple[str, str]]:
    """(tooltip, symbol) of every cell."""
    cells = []
    for group in root.iter(f"{SVG}g"):
        if group.get("class") != "cell":
            continue
        title = group.find(f"{SVG}title")
        text = group.find(f"{SVG}text")
        assert title is not None and title.text
        assert text is not None and text.text, "every cell carries its symbol as text"
        cells.append((title.text, text.text))
    return cells


def _rob2_rows() -> list[tuple[str, Judgement]]:
    return [
        ("Adams 2019", judge(ROB2, ALL_LOW)),
        ("Baker & <Ng> 2021", judge(ROB2, _rob2(**{"1_3": "Y", "5_2": "Y"}))),
        ("Chen 2022", judge(ROB2, {"1.2": "N"})),
    ]


def test_traffic_light_rob2_is_accessible_xml() -> None:
    svg = traffic_light_svg(ROB2, _rob2_rows())
    root = _parse(svg)
    title, desc = _check_accessible(root)
    assert "RoB 2" in title and "3 studies" in title
    assert "Baker & <Ng> 2021: D1 Some concerns" in desc
    assert "overall High risk" in desc
    assert "&lt;Ng&gt;" in svg and "<Ng>" not in svg
    cells = [cell for cell in _cells(root) if ", " in cell[0]]  # legend cells have no study
    assert len(cells) == 3 * 6  # five domains and overall per study
    symbols = dict(cells)
    assert symbols["Adams 2019, overall: Low risk"] == "+"
    assert (
        symbols[
            "Baker & <Ng> 2021, D1 (Bias arising from the randomization process): Some concerns"
        ]
        == "\u2212"
    )
    assert symbols["Baker & <Ng> 2021, overall: High risk"] == "\u00d7"
    assert (
        symbols[
            "Chen 2022, D2 (Bias due to deviations from intended interventions "
            "(effect of assignment to intervention)): Not judged"
        ]
        == "\u2026"
    )


def test_traffic_light_legend_lists_every_judgement() -> None:
    root = _parse(traffic_light_svg(ROB2, _rob2_rows()))
    texts = {element.text for element in root.iter(f"{SVG}text")}
    assert {"Low risk", "Some concerns", "High risk", "Not judged"} <= texts
    assert "D1: Bias arising from the randomization process" in texts


def test_traffic_light_mmat_by_criterion() -> None:
    rows = [
        ("Qualitative study", judge(MMAT, _mmat(["1"], **{"1_4": "no", "1_5": "cant_tell"}))),
        ("Mixed study", judge(MMAT, _mmat(["5", "1", "2"]))),
    ]
    root = _parse(traffic_light_svg(MMAT, rows))
    _, desc = _check_accessible(root)
    cells = dict(cell for cell in _cells(root) if ", " in cell[0])
    headers = ["S1", "S2"] + [f"{c}.{n}" for c in "125" for n in range(1, 6)]
    assert len(cells) == 2 * len(headers)
    assert cells[f"Qualitative study, 1.4 ({MMAT_2018['1.4']}): No"] == "\u00d7"
    assert cells[f"Qualitative study, 1.5 ({MMAT_2018['1.5']}): Can't tell"] == "?"
    assert cells[f"Qualitative study, 2.1 ({MMAT_2018['2.1']}): Not applicable"] == "n/a"
    assert cells[f"Mixed study, 5.5 ({MMAT_2018['5.5']}): Yes"] == "+"
    assert "Qualitative study (MMAT category 1): S1 Yes" in desc
    assert "criteria met 3/5" in desc and "1: 5/5, 2: 5/5, 5: 5/5" in desc
    assert "2.1 Not applicable" not in desc
    texts = {element.text for element in root.iter(f"{SVG}text")}
    assert appraisal.MMAT_NO_SCORE in texts


def test_traffic_light_casp_and_robins() -> None:
    casp = _parse(
        traffic_light_svg(CASP_QUALITATIVE, [("Study", judge(CASP_QUALITATIVE, _casp()))])
    )
    assert len([c for c in _cells(casp) if ", " in c[0]]) == 9
    robins = judge(ROBINS_I, _robins("critical", *["low"] * 6))
    root = _parse(traffic_light_svg(ROBINS_I, [("Cohort", robins)]))
    cells = dict(c for c in _cells(root) if ", " in c[0])
    assert cells["Cohort, D1 (Bias due to confounding): Critical risk"] == "!"
    assert cells["Cohort, overall: Critical risk"] == "!"


def test_summary_bars_rob2_shares_and_legend() -> None:
    root = _parse(summary_bars_svg(ROB2, _rob2_rows()))
    title, desc = _check_accessible(root)
    assert "share of 3 studies" in title
    # D1: Adams low, Baker some concerns, Chen high -> a third each
    assert "D1 (Bias arising from the randomization process): Low risk 1 of 3 (33%), " in desc
    # D2 is judged in two studies only (Chen's is incomplete)
    assert "D2 (" in desc and "Low risk 2 of 2 (100%)" in desc
    assert (
        "Overall (Overall risk of bias): Low risk 1 of 2 (50%), Some concerns 0 of 2 (0%), "
        "High risk 1 of 2 (50%)." in desc
    )
    segments = [g for g in root.iter(f"{SVG}g") if g.get("class") == "segment"]
    tips = [g.find(f"{SVG}title").text for g in segments]  # type: ignore[union-attr]
    assert "D1: Some concerns, 1 of 3 (33%)" in tips
    widths: dict[float, float] = {}
    for g in segments:
        rect = g.find(f"{SVG}rect")
        assert rect is not None
        y = float(rect.get("y", "0"))
        widths[y] = widths.get(y, 0.0) + float(rect.get("width", "0"))
    assert all(abs(total - 400) < 0.05 for total in widths.values())  # 100% stacked
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    assert "+ 33%" in texts and "\u00d7 50%" in texts
    assert {"Low risk", "Some concerns", "High risk"} <= set(texts)
    assert sum(text.startswith("n = ") for text in texts) == 6


def test_summary_bars_mmat_uses_studies_in_each_category() -> None:
    rows = [
        ("A", judge(MMAT, _mmat(["1"], **{"1_1": "no"}))),
        ("B", judge(MMAT, _mmat(["1"]))),
        ("C", judge(MMAT, _mmat(["4"], answer="cant_tell"))),
    ]
    root = _parse(summary_bars_svg(MMAT, rows))
    _, desc = _check_accessible(root)
    assert f"1.1 ({MMAT_2018['1.1']}): Yes 1 of 2 (50%), No 1 of 2 (50%)" in desc
    assert "4.3 (" in desc and "Can't tell 1 of 1 (100%)" in desc
    assert "S1 (" in desc and "Yes 3 of 3 (100%)" in desc
    texts = {element.text for element in root.iter(f"{SVG}text")}
    assert f"1.1: {MMAT_2018['1.1']}" in texts


def test_charts_with_no_studies_are_still_valid() -> None:
    for tool in TOOLS:
        _check_accessible(_parse(traffic_light_svg(tool, [])))
        _check_accessible(_parse(summary_bars_svg(tool, [])))


def test_charts_refuse_judgements_from_another_tool() -> None:
    with pytest.raises(ValueError, match="mmat-2018"):
        traffic_light_svg(ROB2, [("X", judge(MMAT, _mmat(["1"])))])


def test_chart_text_is_escaped_and_xml_safe() -> None:
    nasty = 'O"Brien <script>alert(1)</script> & \x07co'
    svg = traffic_light_svg(ROB2, [(nasty, judge(ROB2, ALL_LOW))])
    assert "<script>" not in svg
    _, desc = _check_accessible(_parse(svg))
    assert 'O"Brien <script>alert(1)</script> & co' in desc


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_wcag_contrast_of_palette_and_text() -> None:
    assert _contrast("#ffffff", "#000000") == pytest.approx(21)
    for code, (fill, ink, symbol) in PALETTE.items():
        assert _contrast(fill, appraisal.BACKGROUND) >= 3, code  # graphics
        assert _contrast(ink, fill) >= 4.5, code  # symbol text on the cell
        assert symbol.strip(), code
    for colour in (appraisal.TEXT, appraisal.MUTED):
        assert _contrast(colour, appraisal.BACKGROUND) >= 4.5
    assert _contrast(appraisal.OUTLINE, appraisal.BACKGROUND) >= 3


def test_each_scale_has_distinct_symbols() -> None:
    for tool in TOOLS.values():
        codes = [o.code for o in (tool.judgements or tool.answers) if o.code in PALETTE]
        symbols = [PALETTE[code][2] for code in codes]
        assert len(set(symbols)) == len(symbols), tool.key


def test_svg_fill_colours_come_from_the_palette() -> None:
    svg = traffic_light_svg(ROB2, _rob2_rows()) + summary_bars_svg(ROB2, _rob2_rows())
    fills = set(re.findall(r'fill="(#[0-9a-f]{6})"', svg))
    allowed = {fill for fill, _, _ in PALETTE.values()} | {
        appraisal.BACKGROUND,
        appraisal.TEXT,
        appraisal.MUTED,
        "#ffffff",
    }
    assert fills <= allowed


def test_judgement_mapping_fields_are_plain_mappings() -> None:
    result = judge(ROB2, ALL_LOW)
    assert isinstance(result.final, Mapping) and isinstance(result.notes, tuple)

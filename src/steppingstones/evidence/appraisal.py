"""Quality appraisal of the studies included in a systematic review.

The published appraisal tools are encoded here as plain, frozen data (no Django), together
with the rules each tool gives for turning answers into judgements, so that the same answers
always give the same, checkable result and the tool text shown to reviewers is the tool's own.

Tools (see :data:`TOOLS`; keys in brackets):

* **MMAT 2018** (``"mmat-2018"``) -- Hong QN, Pluye P, Fàbregues S, Bartlett G, Boardman F,
  Cargo M, Dagenais P, Gagnon M-P, Griffiths F, Nicolau B, O'Cathain A, Rousseau M-C,
  Vedel I. *Mixed Methods Appraisal Tool (MMAT), version 2018.* Registration of Copyright
  (#1148552), Canadian Intellectual Property Office, Industry Canada. Two screening questions
  and five criteria for each of five study categories, answered Yes / No / Can't tell. The
  MMAT discourages an overall score, so :func:`judge` reports each criterion and the number
  met per category ("4/5 criteria met"), never a total.
* **CASP qualitative checklist** (``"casp-qualitative-2018"``) -- Critical Appraisal Skills
  Programme (2018). *CASP Qualitative Checklist.* Ten questions; 1-9 answered Yes / No /
  Can't tell, 10 ("How valuable is the research?") in free text. Questions 1 and 2 are the
  checklist's screening questions. CASP gives no scoring rule; the count of "Yes" reported
  is descriptive only.
* **RoB 2** (``"rob2"``) -- Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for
  assessing risk of bias in randomised trials. *BMJ* 2019;366:l4898; with the full guidance,
  Higgins JPT, Savović J, Page MJ, Sterne JAC on behalf of the RoB2 Development Group.
  *Revised Cochrane risk-of-bias tool for randomized trials (RoB 2)*, 22 August 2019. The
  variant for individually randomized, parallel-group trials, assessing the effect of
  assignment to intervention. Signalling questions are answered Y / PY / PN / N / NI (NA
  where the tool allows it) and the guidance's algorithms (its decision figures for domains
  1-5) propose each domain judgement (low / some concerns / high). A reviewer may override a
  proposed domain judgement only with a stated reason; both are kept.
* **ROBINS-I** (``"robins-i"``) -- Sterne JAC, Hernán MA, Reeves BC, et al. ROBINS-I: a tool
  for assessing risk of bias in non-randomised studies of interventions. *BMJ*
  2016;355:i4919. Seven domains judged low / moderate / serious / critical / no information.
  ROBINS-I (2016) has signalling questions but publishes no algorithm mapping their answers to
  domain judgements, as RoB 2 does; the reviewer therefore enters each domain judgement (with
  support text in ``comments``) and only the overall judgement is computed, by the tool's
  rule. (Later revisions of ROBINS-I add such algorithms; they are not encoded here.)

Answers are plain JSON-able dicts keyed by the tool's item numbers; the exact shape for each
tool is documented in :func:`validate`. :func:`validate` returns readable messages naming
the item at fault; :func:`judge` returns a :class:`Judgement`. :func:`traffic_light_svg` and
:func:`summary_bars_svg` draw the usual risk-of-bias figures as accessible SVG (WCAG 2.2 AA:
``role="img"`` with ``<title>`` and ``<desc>``, a symbol and a ``<title>`` in every cell so
colour never carries meaning alone, fills at least 4.5:1 against the white background and
the white symbols on them, all text escaped).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

# --------------------------------------------------------------------------------------------
# Tool definitions (plain data)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One allowed answer or judgement: the stored ``code`` and the ``label`` shown."""

    code: str
    label: str


@dataclass(frozen=True)
class Item:
    """One question or criterion of a tool.

    ``options`` are the allowed answer codes (empty for a free-text question). ``condition``
    is the tool's own "If ... to ..." text for a question asked only on some paths, and
    ``kind`` the noun used in messages ("question", "criterion", "domain").
    """

    id: str
    text: str
    options: tuple[str, ...]
    condition: str = ""
    kind: str = "question"

    @property
    def free_text(self) -> bool:
        return not self.options


@dataclass(frozen=True)
class Domain:
    """A group of items: a RoB 2 or ROBINS-I bias domain, an MMAT study category or a CASP
    section. ``short`` is the label used in charts."""

    id: str
    name: str
    short: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Tool:
    """A published appraisal tool: its items, allowed answers and judgement scale.

    ``answers`` lists every answer option with its label (each item allows a subset);
    ``judgements`` the domain/overall judgement scale, least to most severe (empty for the
    checklists, which have none); ``screening`` the screening questions asked before the
    domains (MMAT S1, S2).
    """

    key: str
    name: str
    short_name: str
    version: str
    citation: str
    answers: tuple[Option, ...]
    domains: tuple[Domain, ...]
    judgements: tuple[Option, ...] = ()
    screening: tuple[Item, ...] = ()

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item, screening questions first, in the tool's order."""
        return self.screening + tuple(item for domain in self.domains for item in domain.items)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"{self.short_name} has no item {item_id!r}")

    def domain(self, domain_id: str) -> Domain:
        for domain in self.domains:
            if domain.id == domain_id:
                return domain
        raise KeyError(f"{self.short_name} has no domain {domain_id!r}")

    def label(self, code: str | None) -> str:
        """The label of an answer or judgement code (the code itself if unknown)."""
        for option in self.judgements + self.answers:
            if option.code == code:
                return option.label
        return "Not judged" if code is None else code


MMAT = "mmat-2018"
CASP_QUALITATIVE = "casp-qualitative-2018"
ROB2 = "rob2"
ROBINS_I = "robins-i"

YES, NO, CANT_TELL = "yes", "no", "cant_tell"
_YES_NO_CT: tuple[str, ...] = (YES, NO, CANT_TELL)
_YES_NO_CT_OPTIONS = (Option(YES, "Yes"), Option(NO, "No"), Option(CANT_TELL, "Can't tell"))

LOW, SOME_CONCERNS, HIGH = "low", "some_concerns", "high"
MODERATE, SERIOUS, CRITICAL, NO_INFORMATION = "moderate", "serious", "critical", "no_information"


def _mmat_category(number: str, name: str, short: str, criteria: Sequence[str]) -> Domain:
    return Domain(
        id=number,
        name=name,
        short=short,
        items=tuple(
            Item(f"{number}.{i}", text, _YES_NO_CT, kind="criterion")
            for i, text in enumerate(criteria, start=1)
        ),
    )


_MMAT_TOOL = Tool(
    key=MMAT,
    name="Mixed Methods Appraisal Tool (MMAT)",
    short_name="MMAT",
    version="2018",
    citation=(
        "Hong QN, Pluye P, Fàbregues S, Bartlett G, Boardman F, Cargo M, Dagenais P, "
        "Gagnon M-P, Griffiths F, Nicolau B, O'Cathain A, Rousseau M-C, Vedel I. Mixed Methods "
        "Appraisal Tool (MMAT), version 2018. Registration of Copyright (#1148552), Canadian "
        "Intellectual Property Office, Industry Canada."
    ),
    answers=_YES_NO_CT_OPTIONS,
    screening=(
        Item("S1", "Are there clear research questions?", _YES_NO_CT, kind="screening question"),
        Item(
            "S2",
            "Do the collected data allow to address the research questions?",
            _YES_NO_CT,
            kind="screening question",
        ),
    ),
    domains=(
        _mmat_category(
            "1",
            "Qualitative",
            "Qualitative",
            (
                "Is the qualitative approach appropriate to answer the research question?",
                "Are the qualitative data collection methods adequate to address the research "
                "question?",
                "Are the findings adequately derived from the data?",
                "Is the interpretation of results sufficiently substantiated by data?",
                "Is there coherence between qualitative data sources, collection, analysis and "
                "interpretation?",
            ),
        ),
        _mmat_category(
            "2",
            "Quantitative randomized controlled trials",
            "Randomized controlled trials",
            (
                "Is randomization appropriately performed?",
                "Are the groups comparable at baseline?",
                "Are there complete outcome data?",
                "Are outcome assessors blinded to the intervention provided?",
                "Did the participants adhere to the assigned intervention?",
            ),
        ),
        _mmat_category(
            "3",
            "Quantitative non-randomized",
            "Non-randomized",
            (
                "Are the participants representative of the target population?",
                "Are measurements appropriate regarding both the outcome and intervention (or "
                "exposure)?",
                "Are there complete outcome data?",
                "Are the confounders accounted for in the design and analysis?",
                "During the study period, is the intervention administered (or exposure "
                "occurred) as intended?",
            ),
        ),
        _mmat_category(
            "4",
            "Quantitative descriptive",
            "Descriptive",
            (
                "Is the sampling strategy relevant to address the research question?",
                "Is the sample representative of the target population?",
                "Are the measurements appropriate?",
                "Is the risk of nonresponse bias low?",
                "Is the statistical analysis appropriate to answer the research question?",
            ),
        ),
        _mmat_category(
            "5",
            "Mixed methods",
            "Mixed methods",
            (
                "Is there an adequate rationale for using a mixed methods design to address the "
                "research question?",
                "Are the different components of the study effectively integrated to answer the "
                "research question?",
                "Are the outputs of the integration of qualitative and quantitative components "
                "adequately interpreted?",
                "Are divergences and inconsistencies between quantitative and qualitative "
                "results adequately addressed?",
                "Do the different components of the study adhere to the quality criteria of "
                "each tradition of the methods involved?",
            ),
        ),
    ),
)

_CASP_TOOL = Tool(
    key=CASP_QUALITATIVE,
    name="CASP Qualitative Checklist",
    short_name="CASP",
    version="2018",
    citation=(
        "Critical Appraisal Skills Programme (2018). CASP Qualitative Checklist. "
        "https://casp-uk.net/casp-tools-checklists/"
    ),
    answers=_YES_NO_CT_OPTIONS,
    domains=(
        Domain(
            "A",
            "Section A: Are the results valid?",
            "Are the results valid?",
            (
                Item("1", "Was there a clear statement of the aims of the research?", _YES_NO_CT),
                Item("2", "Is a qualitative methodology appropriate?", _YES_NO_CT),
                Item(
                    "3",
                    "Was the research design appropriate to address the aims of the research?",
                    _YES_NO_CT,
                ),
                Item(
                    "4",
                    "Was the recruitment strategy appropriate to the aims of the research?",
                    _YES_NO_CT,
                ),
                Item(
                    "5",
                    "Was the data collected in a way that addressed the research issue?",
                    _YES_NO_CT,
                ),
                Item(
                    "6",
                    "Has the relationship between researcher and participants been adequately "
                    "considered?",
                    _YES_NO_CT,
                ),
            ),
        ),
        Domain(
            "B",
            "Section B: What are the results?",
            "What are the results?",
            (
                Item("7", "Have ethical issues been taken into consideration?", _YES_NO_CT),
                Item("8", "Was the data analysis sufficiently rigorous?", _YES_NO_CT),
                Item("9", "Is there a clear statement of findings?", _YES_NO_CT),
            ),
        ),
        Domain(
            "C",
            "Section C: Will the results help locally?",
            "Will the results help locally?",
            (Item("10", "How valuable is the research?", ()),),
        ),
    ),
)

_SIGNAL = ("Y", "PY", "PN", "N", "NI")
_SIGNAL_NA = (*_SIGNAL, "NA")
_SIGNAL_NA_NO_NI = ("Y", "PY", "PN", "N", "NA")

_ROB2_TOOL = Tool(
    key=ROB2,
    name="Cochrane risk-of-bias tool for randomized trials (RoB 2)",
    short_name="RoB 2",
    version=(
        "2019 (guidance of 22 August 2019): individually randomized, parallel-group trials, "
        "effect of assignment to intervention"
    ),
    citation=(
        "Sterne JAC, Savović J, Page MJ, Elbers RG, Blencowe NS, Boutron I, et al. RoB 2: a "
        "revised tool for assessing risk of bias in randomised trials. BMJ 2019;366:l4898. "
        "Higgins JPT, Savović J, Page MJ, Sterne JAC, on behalf of the RoB2 Development Group. "
        "Revised Cochrane risk-of-bias tool for randomized trials (RoB 2). 22 August 2019."
    ),
    answers=(
        Option("Y", "Yes"),
        Option("PY", "Probably yes"),
        Option("PN", "Probably no"),
        Option("N", "No"),
        Option("NI", "No information"),
        Option("NA", "Not applicable"),
    ),
    judgements=(
        Option(LOW, "Low risk"),
        Option(SOME_CONCERNS, "Some concerns"),
        Option(HIGH, "High risk"),
    ),
    domains=(
        Domain(
            "D1",
            "Bias arising from the randomization process",
            "Randomization process",
            (
                Item("1.1", "Was the allocation sequence random?", _SIGNAL),
                Item(
                    "1.2",
                    "Was the allocation sequence concealed until participants were enrolled and "
                    "assigned to interventions?",
                    _SIGNAL,
                ),
                Item(
                    "1.3",
                    "Did baseline differences between intervention groups suggest a problem "
                    "with the randomization process?",
                    _SIGNAL,
                ),
            ),
        ),
        Domain(
            "D2",
            "Bias due to deviations from intended interventions (effect of assignment to "
            "intervention)",
            "Deviations from intended interventions",
            (
                Item(
                    "2.1",
                    "Were participants aware of their assigned intervention during the trial?",
                    _SIGNAL,
                ),
                Item(
                    "2.2",
                    "Were carers and people delivering the interventions aware of participants' "
                    "assigned intervention during the trial?",
                    _SIGNAL,
                ),
                Item(
                    "2.3",
                    "Were there deviations from the intended intervention that arose because of "
                    "the trial context?",
                    _SIGNAL_NA,
                    condition="If Y/PY/NI to 2.1 or 2.2",
                ),
                Item(
                    "2.4",
                    "Were these deviations likely to have affected the outcome?",
                    _SIGNAL_NA,
                    condition="If Y/PY to 2.3",
                ),
                Item(
                    "2.5",
                    "Were these deviations from intended intervention balanced between groups?",
                    _SIGNAL_NA,
                    condition="If Y/PY/NI to 2.4",
                ),
                Item(
                    "2.6",
                    "Was an appropriate analysis used to estimate the effect of assignment to "
                    "intervention?",
                    _SIGNAL,
                ),
                Item(
                    "2.7",
                    "Was there potential for a substantial impact (on the result) of the failure "
                    "to analyse participants in the group to which they were randomized?",
                    _SIGNAL_NA,
                    condition="If N/PN/NI to 2.6",
                ),
            ),
        ),
        Domain(
            "D3",
            "Bias due to missing outcome data",
            "Missing outcome data",
            (
                Item(
                    "3.1",
                    "Were data for this outcome available for all, or nearly all, participants "
                    "randomized?",
                    _SIGNAL,
                ),
                Item(
                    "3.2",
                    "Is there evidence that the result was not biased by missing outcome data?",
                    _SIGNAL_NA_NO_NI,
                    condition="If N/PN/NI to 3.1",
                ),
                Item(
                    "3.3",
                    "Could missingness in the outcome depend on its true value?",
                    _SIGNAL_NA,
                    condition="If N/PN to 3.2",
                ),
                Item(
                    "3.4",
                    "Is it likely that missingness in the outcome depended on its true value?",
                    _SIGNAL_NA,
                    condition="If Y/PY/NI to 3.3",
                ),
            ),
        ),
        Domain(
            "D4",
            "Bias in measurement of the outcome",
            "Measurement of the outcome",
            (
                Item("4.1", "Was the method of measuring the outcome inappropriate?", _SIGNAL),
                Item(
                    "4.2",
                    "Could measurement or ascertainment of the outcome have differed between "
                    "intervention groups?",
                    _SIGNAL,
                ),
                Item(
                    "4.3",
                    "Were outcome assessors aware of the intervention received by study "
                    "participants?",
                    _SIGNAL_NA,
                    condition="If N/PN/NI to 4.1 and 4.2",
                ),
                Item(
                    "4.4",
                    "Could assessment of the outcome have been influenced by knowledge of "
                    "intervention received?",
                    _SIGNAL_NA,
                    condition="If Y/PY/NI to 4.3",
                ),
                Item(
                    "4.5",
                    "Is it likely that assessment of the outcome was influenced by knowledge of "
                    "intervention received?",
                    _SIGNAL_NA,
                    condition="If Y/PY/NI to 4.4",
                ),
            ),
        ),
        Domain(
            "D5",
            "Bias in selection of the reported result",
            "Selection of the reported result",
            (
                Item(
                    "5.1",
                    "Were the data that produced this result analysed in accordance with a "
                    "pre-specified analysis plan that was finalized before unblinded outcome "
                    "data were available for analysis?",
                    _SIGNAL,
                ),
                Item(
                    "5.2",
                    "Is the numerical result being assessed likely to have been selected, on the "
                    "basis of the results, from multiple eligible outcome measurements (e.g. "
                    "scales, definitions, time points) within the outcome domain?",
                    _SIGNAL,
                ),
                Item(
                    "5.3",
                    "Is the numerical result being assessed likely to have been selected, on the "
                    "basis of the results, from multiple eligible analyses of the data?",
                    _SIGNAL,
                ),
            ),
        ),
    ),
)

_ROBINS_SCALE = (LOW, MODERATE, SERIOUS, CRITICAL, NO_INFORMATION)


def _robins_domain(number: int, name: str, short: str) -> Domain:
    return Domain(
        f"D{number}", name, short, (Item(f"D{number}", name, _ROBINS_SCALE, kind="domain"),)
    )


_ROBINS_TOOL = Tool(
    key=ROBINS_I,
    name="Risk Of Bias In Non-randomised Studies - of Interventions (ROBINS-I)",
    short_name="ROBINS-I",
    version="2016",
    citation=(
        "Sterne JAC, Hernán MA, Reeves BC, Savović J, Berkman ND, Viswanathan M, et al. "
        "ROBINS-I: a tool for assessing risk of bias in non-randomised studies of "
        "interventions. BMJ 2016;355:i4919."
    ),
    answers=(
        Option(LOW, "Low risk"),
        Option(MODERATE, "Moderate risk"),
        Option(SERIOUS, "Serious risk"),
        Option(CRITICAL, "Critical risk"),
        Option(NO_INFORMATION, "No information"),
    ),
    judgements=(
        Option(LOW, "Low risk"),
        Option(MODERATE, "Moderate risk"),
        Option(SERIOUS, "Serious risk"),
        Option(CRITICAL, "Critical risk"),
        Option(NO_INFORMATION, "No information"),
    ),
    domains=(
        _robins_domain(1, "Bias due to confounding", "Confounding"),
        _robins_domain(
            2, "Bias in selection of participants into the study", "Selection of participants"
        ),
        _robins_domain(
            3, "Bias in classification of interventions", "Classification of interventions"
        ),
        _robins_domain(
            4, "Bias due to deviations from intended interventions", "Deviations from interventions"
        ),
        _robins_domain(5, "Bias due to missing data", "Missing data"),
        _robins_domain(6, "Bias in measurement of outcomes", "Measurement of outcomes"),
        _robins_domain(
            7, "Bias in selection of the reported result", "Selection of reported result"
        ),
    ),
)

#: Every encoded tool by key.
TOOLS: dict[str, Tool] = {
    tool.key: tool for tool in (_MMAT_TOOL, _CASP_TOOL, _ROB2_TOOL, _ROBINS_TOOL)
}


def get_tool(key: str) -> Tool:
    """The tool registered under ``key``; :class:`KeyError` naming the known keys if none."""
    try:
        return TOOLS[key]
    except KeyError:
        known = ", ".join(sorted(TOOLS))
        raise KeyError(f"unknown appraisal tool {key!r}; known tools: {known}") from None


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


class AppraisalError(ValueError):
    """Answers that cannot be judged; ``messages`` are those of :func:`validate`."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass(frozen=True)
class Judgement:
    """The outcome of appraising one study (for RoB 2 / ROBINS-I: one result of one study).

    ``proposed`` maps each domain to the judgement the tool's algorithm proposes (RoB 2), or
    the reviewer's entry (ROBINS-I), ``None`` while answers on its path are missing;
    ``final`` is the judgement after any reviewer override, whose reason is in ``reasons``
    (key ``"overall"`` for the overall override). ``overall_proposed`` / ``overall`` likewise;
    both stay ``None`` for the checklists (MMAT, CASP), which have no overall judgement.
    ``items`` holds the answers given, ``comments`` the free text per item or domain,
    ``categories`` the MMAT categories appraised, ``met`` per MMAT category or CASP section the
    number of "Yes" answers and of items, ``summary`` the same in words, and ``notes`` anything
    the reviewer should see (screening flags, the tools' advice, incomplete domains).
    """

    tool: str
    proposed: Mapping[str, str | None] = field(default_factory=dict)
    final: Mapping[str, str | None] = field(default_factory=dict)
    overall_proposed: str | None = None
    overall: str | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)
    items: Mapping[str, str] = field(default_factory=dict)
    comments: Mapping[str, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    met: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    summary: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def overridden(self) -> tuple[str, ...]:
        """Domains (and ``"overall"``) whose judgement the reviewer overrode."""
        return tuple(self.reasons)

    @property
    def complete(self) -> bool:
        """Every domain judged (RoB 2, ROBINS-I); for the checklists, no criterion missing."""
        if self.tool in (ROB2, ROBINS_I):
            return self.overall is not None
        return not any("not answered" in text for text in self.summary.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy, for storing beside the answers."""
        return {
            "tool": self.tool,
            "proposed": dict(self.proposed),
            "final": dict(self.final),
            "overall_proposed": self.overall_proposed,
            "overall": self.overall,
            "reasons": dict(self.reasons),
            "items": dict(self.items),
            "comments": dict(self.comments),
            "categories": list(self.categories),
            "met": {key: list(value) for key, value in self.met.items()},
            "summary": dict(self.summary),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------------------------
# Shared helpers for reading answers
# --------------------------------------------------------------------------------------------

_Y = frozenset({"Y", "PY"})
_N = frozenset({"N", "PN"})
_Y_NI = _Y | {"NI"}
_N_NI = _N | {"NI"}
_RANK = {LOW: 0, SOME_CONCERNS: 1, HIGH: 2}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _options_text(options: Sequence[str]) -> str:
    return ", ".join(options)


def _name(tool: Tool, item: Item) -> str:
    return f"{tool.short_name} {item.kind} {item.id}"


def _check_value(tool: Tool, item: Item, value: object) -> str | None:
    """A message if ``value`` is not allowed for ``item`` (blank values are checked later)."""
    if _blank(value):
        return None
    if item.free_text:
        return None if isinstance(value, str) else f"{_name(tool, item)}: expected text"
    if not isinstance(value, str) or value not in item.options:
        return f"{_name(tool, item)}: {value!r} is not one of {_options_text(item.options)}"
    return None


def _check_keys(tool: Tool, answers: Mapping[str, Any], extra: Sequence[str]) -> list[str]:
    known = {item.id for item in tool.items} | set(extra)
    return [
        f"{tool.short_name}: unknown item {key!r}"
        for key in answers
        if not isinstance(key, str) or key not in known
    ]


def _check_comments(tool: Tool, answers: Mapping[str, Any], allowed: set[str]) -> list[str]:
    comments = answers.get("comments", {})
    if comments is None:
        return []
    if not isinstance(comments, Mapping):
        return [f"{tool.short_name} comments: expected an object of item number to text"]
    messages = []
    for key, text in comments.items():
        if key not in allowed:
            messages.append(f"{tool.short_name} comments: unknown item {key!r}")
        elif not isinstance(text, str):
            messages.append(f"{tool.short_name} comment on {key}: expected text")
    return messages


def _comments(answers: Mapping[str, Any]) -> dict[str, str]:
    comments = answers.get("comments") or {}
    return {str(key): text for key, text in comments.items() if isinstance(text, str) and text}


def _given(tool: Tool, answers: Mapping[str, Any]) -> dict[str, str]:
    """The valid, non-blank answers, by item id."""
    given: dict[str, str] = {}
    for item in tool.items:
        value = answers.get(item.id)
        if isinstance(value, str) and value.strip() and _check_value(tool, item, value) is None:
            given[item.id] = value.strip() if item.free_text else value
    return given


# --------------------------------------------------------------------------------------------
# RoB 2: the guidance's algorithms
# --------------------------------------------------------------------------------------------


class _Missing(Exception):
    """Raised by an algorithm that needs answers it has not got (``ids``)."""

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(", ".join(ids))
        self.ids = tuple(ids)


_Ask = Callable[[str], str]


def _asker(given: Mapping[str, str]) -> tuple[_Ask, Callable[[str], str | None]]:
    """``ask(id)``: the answer, or :class:`_Missing` if blank or "NA" (the question is on the
    path, so it applies); ``peek(id)``: the answer or ``None`` without raising."""

    def peek(item_id: str) -> str | None:
        value = given.get(item_id)
        return None if value in (None, "NA") else value

    def ask(item_id: str) -> str:
        value = peek(item_id)
        if value is None:
            raise _Missing([item_id])
        return value

    return ask, peek


def _rob2_d1(ask: _Ask, peek: Callable[[str], str | None]) -> str:
    """Domain 1, randomization process (guidance figure for domain 1): concealment (1.2)
    decides first; with concealment, a non-random sequence (1.1) gives some concerns and
    otherwise baseline imbalance (1.3) separates low from some concerns; with no information
    on concealment, baseline imbalance separates some concerns from high."""
    concealed = ask("1.2")
    if concealed in _N:
        return HIGH
    if concealed in _Y:
        if ask("1.1") in _N:
            return SOME_CONCERNS
        return LOW if ask("1.3") in _N_NI else SOME_CONCERNS
    return SOME_CONCERNS if ask("1.3") in _N_NI else HIGH  # 1.2 is NI


def _rob2_d2_part1(ask: _Ask, peek: Callable[[str], str | None]) -> str:
    """Domain 2 part 1 (2.1-2.5): awareness of assignment and deviations arising from the
    trial context."""
    aware = [peek("2.1"), peek("2.2")]
    if not any(value in _Y_NI for value in aware):
        missing = [qid for qid, value in zip(("2.1", "2.2"), aware, strict=True) if value is None]
        if missing:
            raise _Missing(missing)
        return LOW  # both N/PN
    deviations = ask("2.3")
    if deviations in _N:
        return LOW
    if deviations == "NI":
        return SOME_CONCERNS
    if ask("2.4") in _N:
        return SOME_CONCERNS
    return SOME_CONCERNS if ask("2.5") in _Y else HIGH


def _rob2_d2_part2(ask: _Ask, peek: Callable[[str], str | None]) -> str:
    """Domain 2 part 2 (2.6-2.7): appropriateness of the analysis of the effect of
    assignment."""
    if ask("2.6") in _Y:
        return LOW
    return SOME_CONCERNS if ask("2.7") in _N else HIGH


def _rob2_d2(ask: _Ask, peek: Callable[[str], str | None]) -> str:
    """Domain 2, effect of assignment: the worse of the two parts (low only if both are
    low, high if either is high)."""
    results: list[str] = []
    missing: list[str] = []
    for part in (_rob2_d2_part1, _rob2_d2_part2):
        try:
            results.append(part(ask, peek))
        except _Missing as exc:
            missing.extend(exc.ids)
    if missing:
        raise _Missing(missing)
    return max(results, key=_RANK.__getitem__)


def _rob2_d3(ask: _Ask, peek: Callable[[str], str | None]) -> str:
    """Domain 3, missing outcome data: low if (nearly) all data (3.1), or evidence the result
    is not biased (3.2), or missingness could not depend on the true value (3.3); otherwise
    whether it is likely to (3.4) separates some concerns from high."""
    if ask("3.1") in _Y:
        return LOW
    if ask("3.2") in _Y:
        return LOW
    if ask("3.3") in _N:
        return LOW
    return SOME_CONCERNS if ask("3.4") in _N else HIGH


def _rob2_d4(ask: _Ask, peek: Callable[[str], str | None]) -> str:
    """Domain 4, measurement of the outcome: high if the method was inappropriate (4.1) or
    measurement could differ between groups (4.2); then assessor awareness (4.3) and its
    possible (4.4) and likely (4.5) influence. When 4.2 is NI, the paths that would be low
    are some concerns."""
    if ask("4.1") in _Y:
        return HIGH
    differed = ask("4.2")
    if differed in _Y:
        return HIGH
    best = SOME_CONCERNS if differed == "NI" else LOW
    if ask("4.3") in _N:
        return best
    if ask("4.4") in _N:
        return best
    return SOME_CONCERNS if ask("4.5") in _N else HIGH


def _rob2_d5(ask: _Ask, peek: Callable[[str], str | None]) -> str:
    """Domain 5, selection of the reported result: high if the result was likely selected
    from multiple outcome measurements (5.2) or analyses (5.3); some concerns if there is no
    information on either; otherwise a pre-specified analysis plan (5.1) gives low."""
    selected = [peek("5.2"), peek("5.3")]
    if any(value in _Y for value in selected):
        return HIGH
    missing = [qid for qid, value in zip(("5.2", "5.3"), selected, strict=True) if value is None]
    if missing:
        raise _Missing(missing)
    if "NI" in selected:
        return SOME_CONCERNS
    return LOW if ask("5.1") in _Y else SOME_CONCERNS


_ROB2_ALGORITHMS: dict[str, Callable[[_Ask, Callable[[str], str | None]], str]] = {
    "D1": _rob2_d1,
    "D2": _rob2_d2,
    "D3": _rob2_d3,
    "D4": _rob2_d4,
    "D5": _rob2_d5,
}


def rob2_domain(domain_id: str, answers: Mapping[str, str]) -> str:
    """The judgement the RoB 2 algorithm proposes for one domain from its signalling answers
    (e.g. ``rob2_domain("D1", {"1.1": "Y", "1.2": "Y", "1.3": "N"}) == "low"``). Raises
    :class:`AppraisalError` naming the questions on the path that are unanswered."""
    tool = _ROB2_TOOL
    domain = tool.domain(domain_id)
    ask, peek = _asker(_given(tool, answers))
    try:
        return _ROB2_ALGORITHMS[domain.id](ask, peek)
    except _Missing as exc:
        raise AppraisalError(
            [
                f"RoB 2 question {qid}: no answer, but the {domain_id} algorithm needs one"
                for qid in exc.ids
            ]
        ) from None


def _rob2_proposals(
    given: Mapping[str, str],
) -> tuple[dict[str, str | None], dict[str, tuple[str, ...]]]:
    ask, peek = _asker(given)
    proposed: dict[str, str | None] = {}
    missing: dict[str, tuple[str, ...]] = {}
    for domain_id, algorithm in _ROB2_ALGORITHMS.items():
        try:
            proposed[domain_id] = algorithm(ask, peek)
        except _Missing as exc:
            proposed[domain_id] = None
            missing[domain_id] = exc.ids
    return proposed, missing


def _worst(judgements: Sequence[str], order: Sequence[str]) -> str:
    return max(judgements, key=order.index)


def _rob2_overall(finals: Mapping[str, str | None]) -> str | None:
    """RoB 2 overall rule: low only if every domain is low, high if any domain is high, and
    otherwise some concerns. (The guidance also allows high when several domains have some
    concerns that together substantially lower confidence; that is the reviewer's call, made
    by an overall override.)"""
    values = list(finals.values())
    if any(value is None for value in values):
        return None
    return _worst([v for v in values if v is not None], (LOW, SOME_CONCERNS, HIGH))


def _check_rob2(answers: Mapping[str, Any], partial: bool) -> list[str]:
    tool = _ROB2_TOOL
    messages = _check_keys(tool, answers, ("overrides", "comments"))
    for item in tool.items:
        problem = _check_value(tool, item, answers.get(item.id))
        if problem:
            messages.append(problem)
    domain_ids = [domain.id for domain in tool.domains]
    messages += _check_comments(
        tool, answers, {item.id for item in tool.items} | set(domain_ids) | {"overall"}
    )
    given = _given(tool, answers)
    invalid = {
        item.id for item in tool.items if not _blank(answers.get(item.id)) and item.id not in given
    }
    proposed, missing = _rob2_proposals(given)
    if not partial:
        reported: set[str] = set()
        for item in tool.items:
            if not item.condition and item.id not in given and item.id not in invalid:
                messages.append(f"{_name(tool, item)}: no answer")
                reported.add(item.id)
        for domain_id, ids in missing.items():
            for qid in ids:
                if qid in reported or qid in invalid:
                    continue
                item = tool.item(qid)
                if given.get(qid) == "NA":
                    messages.append(
                        f"{_name(tool, item)}: 'NA' (not applicable) is not possible here, the "
                        f"question applies ({item.condition[0].lower()}{item.condition[1:]})"
                    )
                else:
                    messages.append(
                        f"{_name(tool, item)}: no answer, but the {domain_id} algorithm needs "
                        f"one ({item.condition[0].lower()}{item.condition[1:]})"
                        if item.condition
                        else f"{_name(tool, item)}: no answer"
                    )
    messages += _check_rob2_overrides(answers, proposed)
    return messages


def _override(value: object) -> tuple[str | None, str | None]:
    if not isinstance(value, Mapping):
        return None, None
    judgement, reason = value.get("judgement"), value.get("reason")
    return (
        judgement if isinstance(judgement, str) else None,
        reason.strip() if isinstance(reason, str) and reason.strip() else None,
    )


def _check_rob2_overrides(
    answers: Mapping[str, Any], proposed: Mapping[str, str | None]
) -> list[str]:
    tool = _ROB2_TOOL
    overrides = answers.get("overrides") or {}
    if not isinstance(overrides, Mapping):
        return ["RoB 2 overrides: expected an object of domain to {judgement, reason}"]
    scale = [option.code for option in tool.judgements]
    messages: list[str] = []
    finals = dict(proposed)
    for key, value in overrides.items():
        if key == "overall":
            continue
        if key not in proposed:
            messages.append(f"RoB 2 overrides: unknown domain {key!r} (D1-D5 or overall)")
            continue
        judgement, reason = _override(value)
        if judgement not in scale:
            messages.append(
                f"RoB 2 override of {key}: {judgement or value!r} is not one of "
                f"{_options_text(scale)}"
            )
        if reason is None:
            messages.append(f"RoB 2 override of {key}: a reason is required")
        if proposed[key] is None:
            messages.append(
                f"RoB 2 override of {key}: answer the signalling questions first, so that the "
                "algorithm's proposal is recorded beside the override"
            )
        if judgement in scale and reason is not None:
            finals[key] = judgement
    if "overall" in overrides:
        judgement, reason = _override(overrides["overall"])
        if judgement != HIGH:
            messages.append(
                f"RoB 2 override of overall: {judgement or overrides['overall']!r} is not "
                "allowed; the overall judgement can only be raised to 'high'"
            )
        if reason is None:
            messages.append("RoB 2 override of overall: a reason is required")
        overall = _rob2_overall(finals)
        concerns = [key for key, value in finals.items() if value == SOME_CONCERNS]
        if overall is None:
            messages.append(
                "RoB 2 override of overall: every domain must be judged before the overall "
                "judgement can be overridden"
            )
        elif overall != SOME_CONCERNS or len(concerns) < 2:
            messages.append(
                "RoB 2 override of overall: raising the overall judgement to high is allowed "
                "only when several domains have some concerns and none is high (here the "
                f"overall judgement is {tool.label(overall).lower()} with "
                f"{len(concerns)} domain(s) of some concerns)"
            )
    return messages


def _judge_rob2(answers: Mapping[str, Any]) -> Judgement:
    tool = _ROB2_TOOL
    given = _given(tool, answers)
    proposed, missing = _rob2_proposals(given)
    overrides = answers.get("overrides") or {}
    finals = dict(proposed)
    reasons: dict[str, str] = {}
    notes: list[str] = []
    for key, value in overrides.items():
        if key == "overall":
            continue
        judgement, reason = _override(value)
        if judgement is not None and reason is not None:
            finals[key] = judgement
            reasons[key] = reason
            notes.append(
                f"{key}: the algorithm proposed {tool.label(proposed[key]).lower()}; the "
                f"reviewer judged {tool.label(judgement).lower()} ({reason})"
            )
    for domain_id, ids in missing.items():
        notes.append(f"{domain_id} not judged: answer {', '.join(ids)}")
    overall_proposed = _rob2_overall(finals)
    overall = overall_proposed
    concerns = [key for key, value in finals.items() if value == SOME_CONCERNS]
    if "overall" in overrides:
        judgement, reason = _override(overrides["overall"])
        if judgement is not None and reason is not None:
            overall = judgement
            reasons["overall"] = reason
            notes.append(
                f"Overall raised to high by the reviewer: some concerns in "
                f"{', '.join(concerns)} ({reason})"
            )
    elif overall_proposed == SOME_CONCERNS and len(concerns) >= 2:
        notes.append(
            f"Some concerns in several domains ({', '.join(concerns)}): RoB 2 allows judging "
            "the result at high risk overall if together they substantially lower confidence "
            "in it; record an overall override with a reason if so."
        )
    return Judgement(
        tool=ROB2,
        proposed=proposed,
        final=finals,
        overall_proposed=overall_proposed,
        overall=overall,
        reasons=reasons,
        items=given,
        comments=_comments(answers),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# ROBINS-I
# --------------------------------------------------------------------------------------------


def robins_i_overall(domains: Mapping[str, str], key_domains: Sequence[str] | None = None) -> str:
    """ROBINS-I overall judgement (Sterne et al. 2016, table of overall judgements):

    * critical if any domain is critical; serious if any is serious (and none critical);
    * no information if there is no serious or critical domain but a key domain has no
      information (every domain is key unless ``key_domains`` says otherwise);
    * otherwise moderate if any domain is moderate, and low only if every domain is low.

    A non-key domain with no information keeps the overall from being low (the tool's low
    needs low in all domains) but does not make it "no information"; it is then moderate.
    """
    values = dict(domains)
    keys = set(values if key_domains is None else key_domains)
    if CRITICAL in values.values():
        return CRITICAL
    if SERIOUS in values.values():
        return SERIOUS
    if any(value == NO_INFORMATION and key in keys for key, value in values.items()):
        return NO_INFORMATION
    if MODERATE in values.values() or NO_INFORMATION in values.values():
        return MODERATE
    return LOW


def _check_robins(answers: Mapping[str, Any], partial: bool) -> list[str]:
    tool = _ROBINS_TOOL
    domain_ids = [domain.id for domain in tool.domains]
    messages = _check_keys(tool, answers, ("comments", "key_domains"))
    for item in tool.items:
        value = answers.get(item.id)
        problem = _check_value(tool, item, value)
        if problem:
            messages.append(problem)
        elif _blank(value) and not partial:
            messages.append(f"{_name(tool, item)}: no judgement")
    messages += _check_comments(tool, answers, set(domain_ids) | {"overall"})
    if "key_domains" in answers:
        keys = answers["key_domains"]
        if not isinstance(keys, Sequence) or isinstance(keys, str) or not keys:
            messages.append("ROBINS-I key_domains: expected a non-empty list of D1-D7")
        else:
            messages += [
                f"ROBINS-I key_domains: {key!r} is not one of {', '.join(domain_ids)}"
                for key in keys
                if key not in domain_ids
            ]
    return messages


def _judge_robins(answers: Mapping[str, Any]) -> Judgement:
    tool = _ROBINS_TOOL
    given = _given(tool, answers)
    domain_ids = [domain.id for domain in tool.domains]
    entered: dict[str, str | None] = {key: given.get(key) for key in domain_ids}
    key_domains = answers.get("key_domains")
    comments = _comments(answers)
    notes: list[str] = []
    missing = [key for key, value in entered.items() if value is None]
    overall: str | None = None
    if missing:
        notes.append(f"Not judged: {', '.join(missing)}")
    else:
        judged = {key: value for key, value in entered.items() if value is not None}
        overall = robins_i_overall(judged, key_domains)
        keys = set(domain_ids if key_domains is None else key_domains)
        side = [k for k, v in judged.items() if v == NO_INFORMATION and k not in keys]
        if side and overall == MODERATE:
            notes.append(
                f"No information in {', '.join(side)}, not a key domain: the overall judgement "
                "cannot be low; check moderate is right."
            )
    unsupported = [key for key, value in entered.items() if value and key not in comments]
    if unsupported:
        notes.append(f"No support for judgement recorded for {', '.join(unsupported)}")
    return Judgement(
        tool=ROBINS_I,
        proposed=entered,
        final=dict(entered),
        overall_proposed=overall,
        overall=overall,
        items={key: value for key, value in entered.items() if value},
        comments=comments,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# MMAT and CASP (checklists without an overall score)
# --------------------------------------------------------------------------------------------

MMAT_NO_SCORE = (
    "MMAT 2018 discourages calculating an overall score from the ratings of each criterion; "
    "the ratings of each criterion are reported instead."
)
CASP_NO_SCORE = (
    "The CASP checklist has no scoring system; the number of 'Yes' answers is descriptive only."
)


def _mmat_categories(answers: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The categories chosen, and messages about them."""
    tool = _MMAT_TOOL
    known = [domain.id for domain in tool.domains]
    raw = answers.get("categories")
    if raw is None:
        return [], ["MMAT categories: choose the study's category (1-5)"]
    if isinstance(raw, str) or not isinstance(raw, Sequence) or not raw:
        return [], ['MMAT categories: expected a non-empty list such as ["1"]']
    messages = [
        f"MMAT categories: {value!r} is not one of {', '.join(known)}"
        for value in raw
        if value not in known
    ]
    chosen = [value for value in known if value in raw]
    if not messages and len(chosen) != len(raw):
        messages.append("MMAT categories: a category is listed twice")
    if messages:
        return chosen, messages
    if "5" in chosen:
        if "1" not in chosen or not {"2", "3", "4"} & set(chosen):
            messages.append(
                "MMAT categories: a mixed methods study (5) is also appraised with the "
                "qualitative criteria (1) and those of its quantitative component (2, 3 or 4)"
            )
    elif len(chosen) > 1:
        messages.append(
            "MMAT categories: a study that is not mixed methods is appraised in one category "
            "only; use 5 with 1 and 2, 3 or 4 for a mixed methods study"
        )
    return chosen, messages


def _check_checklist(
    tool: Tool, answers: Mapping[str, Any], partial: bool, screening: Sequence[Item]
) -> list[str]:
    """Shared checks for MMAT and CASP: known keys, allowed answers, and (unless partial) an
    answer to every screening question and, when screening passes, every criterion."""
    is_mmat = tool.key == MMAT
    messages = _check_keys(tool, answers, ("categories", "comments") if is_mmat else ("comments",))
    chosen: list[str] = [domain.id for domain in tool.domains]
    if is_mmat:
        chosen, category_messages = _mmat_categories(answers)
        messages += category_messages
    for item in tool.items:
        problem = _check_value(tool, item, answers.get(item.id))
        if problem:
            messages.append(problem)
    in_scope = [item for domain in tool.domains if domain.id in chosen for item in domain.items]
    if is_mmat:
        scope_ids = {item.id for item in in_scope}
        for domain in tool.domains:
            for item in domain.items:
                if item.id not in scope_ids and not _blank(answers.get(item.id)):
                    messages.append(
                        f"{_name(tool, item)}: category {domain.id} ({domain.name}) is not "
                        f"among this study's categories ({', '.join(chosen) or 'none'})"
                    )
    messages += _check_comments(tool, answers, {item.id for item in tool.items})
    if partial:
        return messages
    screened = True
    for item in screening:
        value = answers.get(item.id)
        if _blank(value):
            messages.append(f"{_name(tool, item)}: no answer")
        if value != YES:
            screened = False
    if screened:
        for item in in_scope:
            if item in screening or item.free_text:
                continue
            if _blank(answers.get(item.id)):
                messages.append(f"{_name(tool, item)}: no answer")
    return messages


def _screening_notes(tool: Tool, given: Mapping[str, str], screening: Sequence[Item]) -> list[str]:
    notes = []
    for item in screening:
        value = given.get(item.id)
        if value != YES:
            answer = "not answered" if value is None else f"'{tool.label(value)}'"
            if tool.key == MMAT:
                consequence = "further appraisal may not be feasible or appropriate"
            else:
                consequence = "it may not be worth continuing"
            notes.append(f"{_name(tool, item)} is {answer}: {consequence}.")
    return notes


def _judge_checklist(
    tool: Tool, answers: Mapping[str, Any], screening: Sequence[Item]
) -> Judgement:
    given = _given(tool, answers)
    if tool.key == MMAT:
        chosen, _ = _mmat_categories(answers)
        groups = [domain for domain in tool.domains if domain.id in chosen]
    else:
        chosen = []
        groups = [domain for domain in tool.domains if not domain.items[0].free_text]
    met: dict[str, tuple[int, int]] = {}
    summary: dict[str, str] = {}
    for domain in groups:
        scored = [item for item in domain.items if not item.free_text]
        yes = sum(given.get(item.id) == YES for item in scored)
        unanswered = sum(item.id not in given for item in scored)
        met[domain.id] = (yes, len(scored))
        noun = "criteria met" if tool.key == MMAT else "answered yes"
        text = f"{yes}/{len(scored)} {noun}"
        if unanswered:
            text += f" ({unanswered} not answered)"
        summary[domain.id] = text
    notes = _screening_notes(tool, given, screening)
    if tool.key == MMAT:
        notes.append(MMAT_NO_SCORE)
        if "5" in chosen:
            notes.append(
                "Mixed methods study: appraised with the mixed methods criteria (5) and those of "
                f"its qualitative and quantitative components ({', '.join(chosen[:-1])})."
            )
    else:
        notes.append(CASP_NO_SCORE)
    return Judgement(
        tool=tool.key,
        items=given,
        comments=_comments(answers),
        categories=tuple(chosen),
        met=met,
        summary=summary,
        notes=tuple(notes),
    )


def _casp_screening() -> tuple[Item, ...]:
    return (_CASP_TOOL.item("1"), _CASP_TOOL.item("2"))


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def validate(tool_key: str, answers: Mapping[str, Any], *, partial: bool = False) -> list[str]:
    """Problems with ``answers`` for the tool ``tool_key``, as messages naming the item
    (``[]`` if none). ``partial=True`` checks a draft: values must be allowed but unanswered
    items are not reported. Unknown ``tool_key`` raises :class:`KeyError`.

    Answer shapes (plain JSON; blank strings and ``null`` count as unanswered):

    ``"mmat-2018"``::

        {"categories": ["1"],                  # "1".."5"; mixed methods: ["5", "1", "3"]
         "S1": "yes", "S2": "yes",            # "yes" | "no" | "cant_tell"
         "1.1": "yes", ..., "1.5": "cant_tell",
         "comments": {"1.1": "Interpretive description, fits the question"}}

      A study not of mixed methods has one category; one of mixed methods has 5 together with
      1 and 2, 3 or 4. Every criterion of the chosen categories needs an answer unless a
      screening question is not "yes" (then further appraisal may not be feasible).

    ``"casp-qualitative-2018"``::

        {"1": "yes", ..., "9": "cant_tell",   # "yes" | "no" | "cant_tell"
         "10": "free text on how valuable the research is",
         "comments": {"4": "..."}}

    ``"rob2"``::

        {"1.1": "Y", "1.2": "PY", "1.3": "NI", ..., "5.3": "N",   # Y | PY | PN | N | NI (| NA)
         "comments": {"1.2": "central web randomisation", "D1": "support for judgement"},
         "overrides": {"D3": {"judgement": "high", "reason": "..."},
                       "overall": {"judgement": "high", "reason": "..."}}}

      Questions asked unconditionally always need an answer; conditional ones ("If ... to
      ...") when the algorithm's path reaches them, where "NA" is then not possible. An
      override needs a judgement (``"low"``, ``"some_concerns"``, ``"high"``) and a reason;
      the overall override may only raise some concerns in several domains to ``"high"``.

    ``"robins-i"``::

        {"D1": "serious", ..., "D7": "low",   # low | moderate | serious | critical
                                              # | no_information
         "comments": {"D1": "support for judgement"},
         "key_domains": ["D1", "D2", "D5"]}    # optional; default: every domain is key
    """
    tool = get_tool(tool_key)
    if not isinstance(answers, Mapping):
        return [f"{tool.short_name}: answers must be an object keyed by item number"]
    if tool.key == ROB2:
        return _check_rob2(answers, partial)
    if tool.key == ROBINS_I:
        return _check_robins(answers, partial)
    screening = tool.screening if tool.key == MMAT else _casp_screening()
    return _check_checklist(tool, answers, partial, screening)


def judge(tool_key: str, answers: Mapping[str, Any]) -> Judgement:
    """Judge one appraisal (answers shaped as in :func:`validate`).

    Unanswered items are allowed -- the domains they leave open stay ``None`` and are listed
    in ``notes`` -- but disallowed values or overrides raise :class:`AppraisalError` with the
    messages of ``validate(tool_key, answers, partial=True)``.
    """
    messages = validate(tool_key, answers, partial=True)
    if messages:
        raise AppraisalError(messages)
    tool = get_tool(tool_key)
    if tool.key == ROB2:
        return _judge_rob2(answers)
    if tool.key == ROBINS_I:
        return _judge_robins(answers)
    screening = tool.screening if tool.key == MMAT else _casp_screening()
    return _judge_checklist(tool, answers, screening)


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------

BACKGROUND = "#ffffff"
TEXT = "#1a1a1a"
MUTED = "#595959"
OUTLINE = "#767676"
FONT = "system-ui, sans-serif"
CHAR_WIDTH = 7.2  # rough advance of a 13px sans-serif character, for laying out text

#: Per judgement or answer code: (fill, symbol colour, symbol). Every fill is at least 4.5:1
#: against the white background and the white symbol, and each code has its own symbol, so
#: neither colour nor position alone carries the meaning.
PALETTE: dict[str, tuple[str, str, str]] = {
    LOW: ("#1e7b34", "#ffffff", "+"),
    SOME_CONCERNS: ("#915c00", "#ffffff", "\u2212"),
    HIGH: ("#b01c1c", "#ffffff", "\u00d7"),
    MODERATE: ("#915c00", "#ffffff", "\u2212"),
    SERIOUS: ("#b01c1c", "#ffffff", "\u00d7"),
    CRITICAL: ("#4b1248", "#ffffff", "!"),
    NO_INFORMATION: ("#5f5f5f", "#ffffff", "?"),
    YES: ("#1e7b34", "#ffffff", "+"),
    NO: ("#b01c1c", "#ffffff", "\u00d7"),
    CANT_TELL: ("#5f5f5f", "#ffffff", "?"),
}
#: Cells with no judgement: white with a grey outline and grey text.
NOT_APPLICABLE = ("n/a", "Not applicable")
NOT_JUDGED = ("\u2026", "Not judged")

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: object) -> str:
    """Text safe inside SVG: characters XML cannot hold removed, markup escaped."""
    return escape(_XML_INVALID.sub("", str(value)))


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: max(limit - 1, 1)] + "\u2026"


@dataclass(frozen=True)
class _Column:
    id: str
    header: str
    name: str


def _scale(tool: Tool) -> tuple[Option, ...]:
    return tool.judgements or tuple(o for o in tool.answers if o.code in _YES_NO_CT)


def _check_rows(tool: Tool, rows: Sequence[tuple[str, Judgement]]) -> None:
    for study, judgement in rows:
        if judgement.tool != tool.key:
            raise ValueError(
                f"{study}: judgement is from tool {judgement.tool!r}, not {tool.key!r}"
            )


def _columns(tool: Tool, rows: Sequence[tuple[str, Judgement]]) -> list[_Column]:
    """Domains for the risk-of-bias tools; for the checklists the screening questions and
    the criteria in use by at least one study (all of CASP 1-9)."""
    if tool.judgements:
        return [_Column(d.id, d.id, d.name) for d in tool.domains]
    if tool.key == MMAT:
        used = {category for _, judgement in rows for category in judgement.categories}
        items = list(tool.screening) + [
            item for domain in tool.domains if domain.id in used for item in domain.items
        ]
    else:
        items = [item for item in tool.items if not item.free_text]
    return [_Column(item.id, item.id, item.text) for item in items]


def _cell(tool: Tool, column: _Column, judgement: Judgement) -> str | None:
    """The code shown in a cell; ``""`` when the item does not apply to the study."""
    if tool.judgements:
        return judgement.final.get(column.id)
    if (
        tool.key == MMAT
        and "." in column.id
        and column.id.split(".")[0] not in judgement.categories
    ):
        return ""
    return judgement.items.get(column.id)


def _tally(tool: Tool, judgement: Judgement) -> str:
    """The "Yes" count of a checklist row: per MMAT category (the MMAT gives no total), or
    over CASP questions 1-9."""
    if tool.judgements:
        return ""
    if tool.key != MMAT:
        yes = sum(count for count, _ in judgement.met.values())
        total = sum(size for _, size in judgement.met.values())
        return f"{yes}/{total}"
    if len(judgement.met) == 1:
        yes, total = next(iter(judgement.met.values()))
        return f"{yes}/{total}"
    return ", ".join(f"{key}: {yes}/{total}" for key, (yes, total) in judgement.met.items())


def _not_judged(tool: Tool) -> str:
    return NOT_JUDGED[1] if tool.judgements else "Not answered"


def _describe(tool: Tool, code: str | None) -> str:
    if code == "":
        return NOT_APPLICABLE[1]
    return tool.label(code) if code is not None else _not_judged(tool)


def _chart_id(kind: str, payload: str) -> str:
    return f"{kind}-{hashlib.blake2s(payload.encode(), digest_size=5).hexdigest()}"


def _svg_open(kind: str, width: float, height: float, title: str, desc: str) -> list[str]:
    chart_id = _chart_id(kind, f"{title}\n{desc}")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="{FONT}" font-size="13" fill="{TEXT}">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{_text(desc)}</desc>',
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="{BACKGROUND}"/>',
    ]


def _mark(x: float, y: float, size: float, code: str | None, tip: str) -> str:
    """One square cell with its symbol as text and a tooltip naming study, item and value."""
    cx, cy = x + size / 2, y + size / 2
    if code in PALETTE:
        fill, ink, symbol = PALETTE[code]
        shape = (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{size}" height="{size}" rx="4" fill="{fill}"/>'
        )
        weight = ' font-weight="bold" font-size="18"'
    else:
        symbol = NOT_APPLICABLE[0] if code == "" else NOT_JUDGED[0]
        ink = MUTED
        shape = (
            f'<rect x="{x + 0.5:.1f}" y="{y + 0.5:.1f}" width="{size - 1}" height="{size - 1}" '
            f'rx="4" fill="{BACKGROUND}" stroke="{OUTLINE}"/>'
        )
        weight = ' font-size="11"'
    return (
        f'<g class="cell"><title>{_text(tip)}</title>{shape}'
        f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" dominant-baseline="central" '
        f'fill="{ink}"{weight}>{_text(symbol)}</text></g>'
    )


def _legend_entries(tool: Tool, blanks: Sequence[str | None]) -> list[tuple[str | None, str]]:
    entries: list[tuple[str | None, str]] = [(o.code, o.label) for o in _scale(tool)]
    if "" in blanks:
        entries.append(("", NOT_APPLICABLE[1]))
    if None in blanks:
        entries.append((None, _not_judged(tool)))
    return entries


def _legend_width(entries: Sequence[tuple[str | None, str]]) -> float:
    return 48 + sum(26 + len(label) * CHAR_WIDTH + 18 for _, label in entries)


def _legend(
    tool: Tool, x: float, y: float, blanks: Sequence[str | None]
) -> tuple[list[str], float]:
    """The judgement scale (and any blank cells used) as symbol cells with their labels, on
    one line; returns the parts and the height used."""
    parts = [f'<text x="{x}" y="{y + 14}" font-weight="bold">Key</text>']
    entries = _legend_entries(tool, blanks)
    cursor = x + 48
    for code, label in entries:
        parts.append(_mark(cursor, y, 20, code, label).replace('font-size="18"', 'font-size="14"'))
        parts.append(f'<text x="{cursor + 26:.1f}" y="{y + 14}">{_text(label)}</text>')
        cursor += 26 + len(label) * CHAR_WIDTH + 18
    return parts, 28


def _key_lines(columns: Sequence[_Column], x: float, y: float) -> tuple[list[str], float]:
    parts = [
        f'<text x="{x}" y="{y + 14 + 18 * i}">{_text(column.header)}: {_text(column.name)}</text>'
        for i, column in enumerate(columns)
        if column.header != column.name
    ]
    return parts, 18 * len(parts)


def traffic_light_svg(tool_key: str, rows: Sequence[tuple[str, Judgement]]) -> str:
    """A study-by-domain grid ("traffic-light plot") as accessible SVG.

    ``rows`` are ``(study label, judgement)`` pairs, all from ``tool_key``. RoB 2 and
    ROBINS-I show each domain's final judgement and an overall column; MMAT shows the
    screening questions and the criteria of the categories in use (yes / no / can't tell,
    "n/a" where a criterion is outside a study's category) with the number of criteria met;
    CASP shows questions 1-9 and the number answered yes. Each cell carries its symbol as
    text and a ``<title>`` naming study, item and value; the ``<desc>`` gives every row in
    words.
    """
    tool = get_tool(tool_key)
    _check_rows(tool, rows)
    columns = _columns(tool, rows)
    tally_header = "" if tool.judgements else ("Met" if tool.key == MMAT else "Yes")
    tally_words = "criteria met" if tool.key == MMAT else "answered yes"
    tallies = [_tally(tool, judgement) for _, judgement in rows]

    labels = [_clip(study, 40) for study, _ in rows]
    label_w = max([len(label) for label in labels] + [5]) * CHAR_WIDTH + 24
    cell, pitch, top = 30, 36, 48
    last_w = 72 if tool.judgements else max([len(t) for t in tallies] + [3]) * CHAR_WIDTH + 24
    grid_w = label_w + pitch * len(columns) + last_w
    grid_bottom = top + pitch * max(len(rows), 1)

    lines: list[str] = []
    for (study, judgement), tally in zip(rows, tallies, strict=True):
        values = [
            f"{column.header} {_describe(tool, code)}"
            for column in columns
            if (code := _cell(tool, column, judgement)) != ""
        ]
        if tool.judgements:
            values.append(f"overall {_describe(tool, judgement.overall)}")
        else:
            values.append(f"{tally_words} {tally}")
        categories = (
            f" (MMAT category {', '.join(judgement.categories)})" if tool.key == MMAT else ""
        )
        lines.append(f"{study}{categories}: {', '.join(values)}.")
    title = (
        f"{tool.short_name} appraisal of {len(rows)} {'study' if len(rows) == 1 else 'studies'}"
        f" by {'domain' if tool.judgements else 'item'}"
    )
    desc = " ".join(lines) if lines else "No studies appraised."
    shown = [_cell(tool, column, judgement) for column in columns for _, judgement in rows]
    if tool.judgements:
        shown += [judgement.overall for _, judgement in rows]
    blanks = [code for code in ("", None) if code in shown]

    body: list[str] = [f'<text x="8" y="{top - 16}" font-weight="bold">Study</text>']
    for j, column in enumerate(columns):
        cx = label_w + pitch * j + cell / 2
        body.append(
            f'<text x="{cx:.1f}" y="{top - 16}" text-anchor="middle" font-weight="bold">'
            f"{_text(column.header)}</text>"
        )
    last_x = label_w + pitch * len(columns)
    body.append(
        f'<text x="{last_x + last_w / 2 - 12:.1f}" y="{top - 16}" text-anchor="middle" '
        f'font-weight="bold">{_text("Overall" if tool.judgements else tally_header)}</text>'
    )
    if not rows:
        body.append(f'<text x="8" y="{top + 20}">No studies appraised.</text>')
    for i, ((study, judgement), label, tally) in enumerate(zip(rows, labels, tallies, strict=True)):
        y = top + pitch * i
        body.append(
            f'<text x="8" y="{y + cell / 2:.1f}" dominant-baseline="central">'
            f"<title>{_text(study)}</title>{_text(label)}</text>"
        )
        for j, column in enumerate(columns):
            code = _cell(tool, column, judgement)
            tip = f"{study}, {column.header} ({column.name}): {_describe(tool, code)}"
            body.append(_mark(label_w + pitch * j, y, cell, code, tip))
        if tool.judgements:
            tip = f"{study}, overall: {_describe(tool, judgement.overall)}"
            body.append(_mark(last_x + (last_w - 24 - cell) / 2, y, cell, judgement.overall, tip))
        else:
            body.append(
                f'<text x="{last_x + last_w / 2 - 12:.1f}" y="{y + cell / 2:.1f}" '
                f'text-anchor="middle" dominant-baseline="central">'
                f"<title>{_text(study)}: {_text(tally_words)} {_text(tally)}</title>"
                f"{_text(tally)}</text>"
            )
    legend, legend_h = _legend(tool, 8, grid_bottom + 12, blanks)
    keys, keys_h = _key_lines(columns, 8, grid_bottom + 12 + legend_h + 8)
    note = []
    note_y = grid_bottom + 12 + legend_h + 8 + keys_h + 8
    if tool.key == MMAT:
        note.append(f'<text x="8" y="{note_y + 14}" fill="{MUTED}">{_text(MMAT_NO_SCORE)}</text>')
    height = note_y + (24 if note else 0) + 8
    text_w = max(
        [len(f"{c.header}: {c.name}") * CHAR_WIDTH for c in columns if c.header != c.name]
        + [len(MMAT_NO_SCORE) * CHAR_WIDTH if note else 0]
        + [_legend_width(_legend_entries(tool, blanks))]
    )
    width = max(grid_w, text_w + 16)
    return "\n".join(
        [
            *_svg_open("appraisal-traffic-light", width, height, title, desc),
            *body,
            *legend,
            *keys,
            *note,
            "</svg>",
        ]
    )


def _bar_rows(
    tool: Tool, rows: Sequence[tuple[str, Judgement]]
) -> list[tuple[_Column, dict[str, int], int]]:
    """Per domain / item (and overall for the risk-of-bias tools): counts per scale code,
    and the number of studies with a judgement there."""
    scale = [option.code for option in _scale(tool)]
    columns = _columns(tool, rows)
    if tool.judgements:
        columns.append(_Column("overall", "Overall", "Overall risk of bias"))
    result = []
    for column in columns:
        counts = dict.fromkeys(scale, 0)
        for _, judgement in rows:
            code = judgement.overall if column.id == "overall" else _cell(tool, column, judgement)
            if code in counts:
                counts[code] += 1
        result.append((column, counts, sum(counts.values())))
    return result


def summary_bars_svg(tool_key: str, rows: Sequence[tuple[str, Judgement]]) -> str:
    """Per domain (RoB 2, ROBINS-I, with overall) or per criterion / question (MMAT, CASP), a
    100% stacked horizontal bar of the share of studies in each judgement or answer, as
    accessible SVG with a legend.

    Shares are of the studies with a judgement there (``n`` printed beside each bar; for
    MMAT, the studies in that criterion's category). Segments wide enough carry their symbol
    and percentage as text, each has a ``<title>`` with the count, and the ``<desc>`` gives
    every bar's counts in words.
    """
    tool = get_tool(tool_key)
    _check_rows(tool, rows)
    scale = _scale(tool)
    bars = _bar_rows(tool, rows)
    label_of = {d.id: f"{d.id} {d.short}" for d in tool.domains} if tool.judgements else {}
    labels = [label_of.get(column.id, column.header) for column, _, _ in bars]
    label_w = max([len(label) for label in labels] + [6]) * CHAR_WIDTH + 24
    bar_w, bar_h, pitch, top = 400.0, 24, 34, 16
    described = []
    for column, counts, total in bars:
        shares = ", ".join(
            f"{option.label} {counts[option.code]} of {total}"
            f" ({_percent(counts[option.code], total)})"
            for option in scale
        )
        described.append(
            f"{column.header} ({column.name}): " + (shares if total else "no studies judged") + "."
        )
    title = (
        f"{tool.short_name}: share of {len(rows)} {'study' if len(rows) == 1 else 'studies'} "
        f"in each {'judgement' if tool.judgements else 'answer'} by "
        f"{'domain' if tool.judgements else 'item'}"
    )
    body: list[str] = []
    for i, ((column, counts, total), label) in enumerate(zip(bars, labels, strict=True)):
        y = top + pitch * i
        body.append(
            f'<text x="8" y="{y + bar_h / 2}" dominant-baseline="central">'
            f"<title>{_text(column.name)}</title>{_text(label)}</text>"
        )
        x = label_w
        if not total:
            body.append(
                f'<rect x="{x + 0.5}" y="{y + 0.5}" width="{bar_w - 1}" height="{bar_h - 1}" '
                f'fill="{BACKGROUND}" stroke="{OUTLINE}"/>'
                f'<text x="{x + bar_w / 2}" y="{y + bar_h / 2}" text-anchor="middle" '
                f'dominant-baseline="central" fill="{MUTED}">no studies judged</text>'
            )
        for option in scale:
            count = counts[option.code]
            if not count:
                continue
            width = bar_w * count / total
            fill, ink, symbol = PALETTE[option.code]
            percent = _percent(count, total)
            text = f"{symbol} {percent}" if width >= 60 else symbol if width >= 16 else ""
            tip = f"{column.header}: {option.label}, {count} of {total} ({percent})"
            body.append(
                f'<g class="segment"><title>{_text(tip)}</title>'
                f'<rect x="{x:.2f}" y="{y}" width="{width:.2f}" height="{bar_h}" fill="{fill}"/>'
                + (
                    f'<text x="{x + width / 2:.2f}" y="{y + bar_h / 2}" text-anchor="middle" '
                    f'dominant-baseline="central" fill="{ink}" font-weight="bold">'
                    f"{_text(text)}</text>"
                    if text
                    else ""
                )
                + "</g>"
            )
            x += width
        body.append(
            f'<text x="{label_w + bar_w + 8}" y="{y + bar_h / 2}" dominant-baseline="central">'
            f"n = {total}</text>"
        )
    bottom = top + pitch * max(len(bars), 1)
    legend, legend_h = _legend(tool, 8, bottom + 4, ())
    keys, keys_h = (
        _key_lines([c for c, _, _ in bars], 8, bottom + 4 + legend_h + 8)
        if not tool.judgements
        else ([], 0.0)
    )
    height = bottom + 4 + legend_h + 8 + keys_h + 12
    text_w = max(
        [len(f"{c.header}: {c.name}") * CHAR_WIDTH for c, _, _ in bars if keys]
        + [_legend_width(_legend_entries(tool, ()))]
    )
    width = max(label_w + bar_w + 72, text_w + 16)
    return "\n".join(
        [
            *_svg_open("appraisal-bars", width, height, title, " ".join(described)),
            *body,
            *legend,
            *keys,
            "</svg>",
        ]
    )


def _percent(count: int, total: int) -> str:
    return f"{round(100 * count / total)}%" if total else "0%"

"""Qualitative evidence synthesis: thematic synthesis and GRADE-CERQual assessments.

Plain data in, plain data out (no Django), so the same rules serve the web views, the
command line and the tests.

Thematic synthesis (Thomas J, Harden A. Methods for the thematic synthesis of qualitative
research in systematic reviews. BMC Med Res Methodol 2008;8:45) runs in three stages:
line-by-line coding of the findings of the primary studies, grouping the codes into
*descriptive* themes that stay close to the studies, and generating *analytical* themes that
go beyond them to answer the review question. :class:`Finding`, :class:`Theme` and
:func:`theme_tree` hold that hierarchy: analytical themes above descriptive themes above the
extracted findings (each traceable to its study and to the quotes and pages it rests on).

GRADE-CERQual (Lewin S, Booth A, Glenton C, et al. Applying GRADE-CERQual to qualitative
evidence synthesis findings: introduction to the series. Implement Sci 2018;13(Suppl 1):2)
assesses how much confidence to place in each *review finding* from four components, each
judged as "no or very minor", "minor", "moderate" or "serious" concerns:

* methodological limitations (Munthe-Kaas H et al., paper 3, Implement Sci 2018;13(Suppl 1):9),
* coherence (Colvin CJ et al., paper 4, Implement Sci 2018;13(Suppl 1):13),
* adequacy of data (Glenton C et al., paper 5, Implement Sci 2018;13(Suppl 1):14),
* relevance (Noyes J et al., paper 6, Implement Sci 2018;13(Suppl 1):4).

The overall assessment (Lewin S et al., paper 2, Implement Sci 2018;13(Suppl 1):10) starts
from "high confidence" that the finding is a reasonable representation of the phenomenon of
interest and is downgraded by the reviewers' judgement of the four components *together*.
CERQual deliberately gives no algorithm for this, and asks for an explanation of every
component judgement and of the overall judgement; findings and their assessments are
presented in a Summary of Qualitative Findings (SoQF) table, backed by a fuller CERQual
Evidence Profile. :func:`suggest_overall` is only an aid, never the judgement itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from steppingstones.core.exports import spreadsheet_safe, write_csv

#: Concern levels for each component, least to most concern (CERQual's wording, lower case).
CONCERN_LEVELS: tuple[str, ...] = ("no or very minor", "minor", "moderate", "serious")
#: Overall confidence levels, most to least confident.
CONFIDENCE_LEVELS: tuple[str, ...] = ("high", "moderate", "low", "very low")
THEME_KINDS: tuple[str, ...] = ("descriptive", "analytical")

#: The four CERQual components, as attribute names of :class:`Assessment` and display labels.
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("methodological_limitations", "Methodological limitations"),
    ("coherence", "Coherence"),
    ("adequacy", "Adequacy of data"),
    ("relevance", "Relevance"),
)
COMPONENT_LABELS: dict[str, str] = dict(COMPONENTS)

#: Items of :func:`validate_assessment` that ask for a justification rather than a fix.
WARNING_PREFIX = "Warning: "

#: Columns of the Summary of Qualitative Findings table (CERQual paper 2).
SOQF_COLUMNS: tuple[str, ...] = (
    "#",
    "Summarised review finding",
    "Studies contributing to the review finding",
    "CERQual assessment of confidence",
    "Explanation of CERQual assessment",
)


def _concern_label(level: str) -> str:
    """``"moderate"`` -> ``"Moderate concerns"``, as CERQual tables print it."""
    return level[0].upper() + level[1:] + " concerns"


def _confidence_label(level: str) -> str:
    """``"very low"`` -> ``"Very low confidence"``."""
    return level[0].upper() + level[1:] + " confidence"


def _normalise(value: str, allowed: tuple[str, ...], suffix: str, what: str) -> str:
    """Accept CERQual's printed wording ("Moderate concerns", "High confidence") as well as
    the bare level, so that values copied from a published table are not rejected."""
    text = " ".join(str(value).split()).lower()
    if text.endswith(suffix):
        text = text[: -len(suffix)].strip()
    if text not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")
    return text


@dataclass
class Finding:
    """A finding extracted from one primary study: the unit coded line by line in stage one
    of thematic synthesis. ``quotes`` keeps the participants' words (or authors'
    interpretations) with the page they appear on, so every theme stays traceable."""

    id: str
    study: str
    text: str
    quotes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Theme:
    """A descriptive theme (close to the primary studies) or an analytical theme (going
    beyond them), with an optional parent theme and the findings coded to it."""

    id: str
    title: str
    kind: str = "descriptive"
    parent: str | None = None
    finding_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.kind = _normalise(self.kind, THEME_KINDS, " theme", f"Theme {self.id!r}: kind")


@dataclass
class ReviewFinding:
    """A synthesised review finding: the statement CERQual assesses, the studies that
    contribute data to it and the theme it summarises."""

    id: str
    summary: str
    studies: Sequence[str] = field(default_factory=list)
    theme_id: str | None = None


@dataclass
class Component:
    """The reviewers' judgement of one CERQual component for one review finding."""

    concern: str = "no or very minor"
    explanation: str = ""

    def __post_init__(self) -> None:
        self.concern = _normalise(self.concern, CONCERN_LEVELS, " concerns", "Concern")

    @property
    def rank(self) -> int:
        """0 for no or very minor concerns up to 3 for serious concerns."""
        return CONCERN_LEVELS.index(self.concern)


@dataclass
class Assessment:
    """A full CERQual assessment of one review finding: the four components, the overall
    confidence the *reviewers* chose and their explanation of it."""

    methodological_limitations: Component
    coherence: Component
    adequacy: Component
    relevance: Component
    overall: str = "high"
    explanation: str = ""

    def __post_init__(self) -> None:
        self.overall = _normalise(
            self.overall, CONFIDENCE_LEVELS, " confidence", "Overall confidence"
        )

    def components(self) -> dict[str, Component]:
        """The four components by attribute name, in CERQual's order."""
        return {name: getattr(self, name) for name, _ in COMPONENTS}


ComponentsLike = Assessment | Mapping[str, Component] | Iterable[Component]


def components_of(assessment: Assessment) -> dict[str, Component]:
    """The four components of an assessment by attribute name, in CERQual's order (the
    mapping :func:`suggest_overall` accepts)."""
    return assessment.components()


def _component_list(components: ComponentsLike) -> list[Component]:
    if isinstance(components, Assessment):
        return list(components.components().values())
    if isinstance(components, Mapping):
        unknown = sorted(set(components) - set(COMPONENT_LABELS))
        if unknown:
            raise ValueError(f"Unknown CERQual component(s): {', '.join(unknown)}")
        return list(components.values())
    return list(components)


def suggest_overall(components: ComponentsLike) -> str:
    """A conservative *suggestion* for the overall CERQual confidence; never the judgement.

    CERQual has no algorithm for the overall assessment: each finding starts at "high
    confidence" and reviewers downgrade it by weighing the four components together (paper
    2). This aid applies a fixed, documented rule so that reviewers see a consistent starting
    point to depart from (with reasons). Counting the components at each concern level, the
    first rule that matches gives the suggestion:

    1. **very low** -- two or more serious concerns, or one serious and at least one moderate;
    2. **low** -- one serious concern, or two or more moderate concerns;
    3. **moderate** -- one moderate concern, or two or more minor concerns;
    4. **high** -- otherwise: every component "no or very minor", or a single minor concern.

    Accepts an :class:`Assessment`, a mapping of component name to :class:`Component` or any
    iterable of components; raises ``ValueError`` when given none.
    """
    items = _component_list(components)
    if not items:
        raise ValueError("suggest_overall needs at least one CERQual component")
    serious = sum(c.concern == "serious" for c in items)
    moderate = sum(c.concern == "moderate" for c in items)
    minor = sum(c.concern == "minor" for c in items)
    if serious >= 2 or (serious == 1 and moderate >= 1):
        return "very low"
    if serious == 1 or moderate >= 2:
        return "low"
    if moderate == 1 or minor >= 2:
        return "moderate"
    return "high"


def validate_assessment(assessment: Assessment) -> list[str]:
    """Problems with one CERQual assessment, as messages for the reviewers (empty if none).

    CERQual asks for the reasons behind every judgement to be made explicit (paper 2), so a
    component with concerns above "no or very minor" needs an explanation, and the overall
    judgement always needs one. An overall judgement of "high" despite moderate or serious
    concerns is allowed -- the judgement is the reviewers' -- but is returned as an item
    starting with :data:`WARNING_PREFIX` asking them to justify not downgrading.
    """
    problems: list[str] = []
    for name, component in assessment.components().items():
        label = COMPONENT_LABELS[name]
        if component.rank > 0 and not component.explanation.strip():
            problems.append(
                f"{label}: explain the {_concern_label(component.concern).lower()} "
                "(CERQual asks for the reasons behind every concern)."
            )
    if not assessment.explanation.strip():
        problems.append(
            "Overall: explain the overall judgement of "
            f"{_confidence_label(assessment.overall).lower()} "
            "(CERQual asks for an explanation of every overall assessment)."
        )
    if assessment.overall == "high":
        flagged = [
            f"{COMPONENT_LABELS[name].lower()} ({component.concern})"
            for name, component in assessment.components().items()
            if component.rank >= CONCERN_LEVELS.index("moderate")
        ]
        if flagged:
            problems.append(
                f"{WARNING_PREFIX}overall confidence is high although there are moderate or "
                f"serious concerns about {', '.join(flagged)}; justify in the explanation why "
                "the finding was not downgraded."
            )
    return problems


def _assessment_for(
    finding: ReviewFinding, assessments: Mapping[str, Assessment], allow_unassessed: bool
) -> Assessment | None:
    assessment = assessments.get(finding.id)
    if assessment is None and not allow_unassessed:
        raise ValueError(f"Review finding {finding.id!r} has no CERQual assessment")
    return assessment


def _studies(finding: ReviewFinding) -> str:
    return "; ".join(dict.fromkeys(s.strip() for s in finding.studies if s.strip()))


def summary_of_qualitative_findings(
    findings: Sequence[ReviewFinding],
    assessments: Mapping[str, Assessment],
    *,
    allow_unassessed: bool = False,
) -> list[dict[str, Any]]:
    """Rows of a CERQual Summary of Qualitative Findings table, keyed by
    :data:`SOQF_COLUMNS`, one per review finding in the order given.

    ``assessments`` maps a review finding's id to its assessment. A finding without one
    raises ``ValueError`` (a published table must not hide a gap) unless
    ``allow_unassessed`` is set, when it is shown as "Not yet assessed" -- for drafts.
    """
    rows: list[dict[str, Any]] = []
    for number, finding in enumerate(findings, start=1):
        assessment = _assessment_for(finding, assessments, allow_unassessed)
        rows.append(
            {
                "#": number,
                "Summarised review finding": finding.summary,
                "Studies contributing to the review finding": _studies(finding),
                "CERQual assessment of confidence": (
                    _confidence_label(assessment.overall) if assessment else "Not yet assessed"
                ),
                "Explanation of CERQual assessment": assessment.explanation if assessment else "",
            }
        )
    return rows


def evidence_profile(
    findings: Sequence[ReviewFinding],
    assessments: Mapping[str, Assessment],
    *,
    allow_unassessed: bool = False,
) -> list[dict[str, Any]]:
    """Rows of the CERQual Evidence Profile: the SoQF columns plus, for each of the four
    components, the level of concern and its explanation (paper 2), so readers can follow
    how the overall assessment was reached."""
    rows = summary_of_qualitative_findings(findings, assessments, allow_unassessed=allow_unassessed)
    for row, finding in zip(rows, findings, strict=True):
        assessment = assessments.get(finding.id)
        for name, label in COMPONENTS:
            component: Component | None = getattr(assessment, name) if assessment else None
            row[f"{label}: concern"] = (
                _concern_label(component.concern) if component else "Not yet assessed"
            )
            row[f"{label}: explanation"] = component.explanation if component else ""
    return rows


def write_soqf_csv(handle: IO[str], rows: Sequence[Mapping[str, Any]]) -> int:
    """Write SoQF (or Evidence Profile) rows as CSV; returns the number of rows written.

    Every cell, header included, goes through the project's ``spreadsheet_safe``: text
    starting ``=``, ``+``, ``-``, ``@``, tab or carriage return (among others) gets a leading
    apostrophe so a spreadsheet shows it rather than running it as a formula -- findings and
    quotes are free text typed by people. The header is taken from the first row, or is
    :data:`SOQF_COLUMNS` when there are no rows.
    """
    header = list(rows[0].keys()) if rows else list(SOQF_COLUMNS)
    for row in rows:
        if list(row.keys()) != header:
            raise ValueError("All rows must have the same columns in the same order")
    return write_csv(
        handle,
        [spreadsheet_safe(name) for name in header],
        ([row[name] for name in header] for row in rows),
    )


def theme_tree(
    themes: Sequence[Theme], findings: Sequence[Finding] | None = None
) -> list[dict[str, Any]]:
    """Nest themes as thematic synthesis builds them: analytical themes above descriptive
    themes above the findings coded to them (Thomas & Harden 2008).

    Each node is ``{"id", "title", "kind", "findings", "children"}``; top-level nodes are the
    themes without a parent, in the order given. ``findings`` lists finding ids, or, when
    ``findings`` is passed, ``{"id", "study", "text", "quotes"}`` dicts. Raises
    ``ValueError`` naming the theme for a duplicate id, an unknown parent, a cycle of
    parents, an analytical theme placed under a descriptive one, or (when ``findings`` is
    passed) a finding id that does not exist.
    """
    by_id: dict[str, Theme] = {}
    for theme in themes:
        if theme.id in by_id:
            raise ValueError(f"Theme {theme.id!r} ({theme.title}) appears more than once")
        by_id[theme.id] = theme
    for theme in themes:
        if theme.parent is not None and theme.parent not in by_id:
            raise ValueError(
                f"Theme {theme.id!r} ({theme.title}) has unknown parent {theme.parent!r}"
            )
    for theme in themes:
        path = [theme.id]
        current = theme
        while current.parent is not None:
            if current.parent in path:
                cycle = [*path[path.index(current.parent) :], current.parent]
                raise ValueError(
                    f"Theme {theme.id!r} ({theme.title}) is in a cycle of parents: "
                    + " -> ".join(cycle)
                )
            path.append(current.parent)
            current = by_id[current.parent]
    for theme in themes:
        parent = by_id[theme.parent] if theme.parent is not None else None
        if parent is not None and theme.kind == "analytical" and parent.kind == "descriptive":
            raise ValueError(
                f"Analytical theme {theme.id!r} ({theme.title}) cannot sit under descriptive "
                f"theme {parent.id!r} ({parent.title}): analytical themes go beyond "
                "descriptive ones"
            )
    known: dict[str, Finding] | None = None
    if findings is not None:
        known = {finding.id: finding for finding in findings}
        for theme in themes:
            missing = [fid for fid in theme.finding_ids if fid not in known]
            if missing:
                raise ValueError(
                    f"Theme {theme.id!r} ({theme.title}) refers to unknown finding(s): "
                    + ", ".join(missing)
                )
    children: dict[str | None, list[Theme]] = {}
    for theme in themes:
        children.setdefault(theme.parent, []).append(theme)

    def finding_node(fid: str) -> Any:
        if known is None:
            return fid
        finding = known[fid]
        return {
            "id": finding.id,
            "study": finding.study,
            "text": finding.text,
            "quotes": list(finding.quotes),
        }

    def node(theme: Theme) -> dict[str, Any]:
        return {
            "id": theme.id,
            "title": theme.title,
            "kind": theme.kind,
            "findings": [finding_node(fid) for fid in theme.finding_ids],
            "children": [node(child) for child in children.get(theme.id, [])],
        }

    return [node(theme) for theme in children.get(None, [])]

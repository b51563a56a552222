"""PRISMA 2020 flow diagram from counts: arithmetic checks, accessible SVG and CSV (no Django).

The boxes and their wording follow the PRISMA 2020 flow diagram templates for new and updated
systematic reviews (Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an
updated guideline for reporting systematic reviews. BMJ 2021;372:n71. doi:10.1136/bmj.n71;
the templates are CC BY 4.0): identification via databases and registers, optionally via other
methods (websites, organisations, citation searching) and optionally a "previous studies"
column for an updated review. The PRISMA-ScR variant (Tricco AC, Lillie E, Zarin W, et al.
PRISMA Extension for Scoping Reviews (PRISMA-ScR): checklist and explanation. Ann Intern Med
2018;169:467-473. doi:10.7326/M18-0850) counts "sources of evidence" instead of studies and
reports.

:class:`PrismaCounts` holds what the platform counted. Boxes left as ``None`` that follow from
the others are derived (records screened = identified - removed before screening, and so on).
A box may be *overridden* with a hand-entered value only together with a note saying why; the
override is kept beside the counted value, marked "manual" in the diagram, its description and
the CSV, and :func:`check` still tests it against the arithmetic.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from html import escape
from typing import Literal

from steppingstones.core.exports import write_csv

__all__ = [
    "Box",
    "Override",
    "PrismaCounts",
    "box_labels",
    "boxes",
    "check",
    "counts_csv",
    "flow_svg",
]

Variant = Literal["prisma2020", "prisma-scr"]
VARIANTS: tuple[str, ...] = ("prisma2020", "prisma-scr")

#: Box keys that hold one number (the per-name entries of the dict fields are keyed
#: "databases:MEDLINE", "reports_excluded:Wrong population" and so on).
SCALAR_BOXES: tuple[str, ...] = (
    "databases",
    "registers",
    "identified",
    "duplicates_removed",
    "automation_removed",
    "other_removed",
    "records_screened",
    "records_excluded",
    "reports_sought",
    "reports_not_retrieved",
    "reports_assessed",
    "reports_excluded",
    "other_identified",
    "other_reports_sought",
    "other_reports_not_retrieved",
    "other_reports_assessed",
    "other_reports_excluded",
    "studies_included",
    "reports_included",
    "previous_studies",
    "previous_reports",
    "total_studies",
    "total_reports",
)
DICT_FIELDS: tuple[str, ...] = (
    "databases",
    "registers",
    "other_sources",
    "reports_excluded",
    "other_reports_excluded",
)

_LABELS_2020: dict[str, str] = {
    "databases": "Databases",
    "registers": "Registers",
    "identified": "Records identified from databases and registers",
    "duplicates_removed": "Duplicate records removed",
    "automation_removed": "Records marked as ineligible by automation tools",
    "other_removed": "Records removed for other reasons",
    "records_screened": "Records screened",
    "records_excluded": "Records excluded",
    "reports_sought": "Reports sought for retrieval",
    "reports_not_retrieved": "Reports not retrieved",
    "reports_assessed": "Reports assessed for eligibility",
    "reports_excluded": "Reports excluded",
    "other_identified": "Records identified from other methods",
    "other_sources": "Other methods",
    "other_reports_sought": "Reports sought for retrieval (other methods)",
    "other_reports_not_retrieved": "Reports not retrieved (other methods)",
    "other_reports_assessed": "Reports assessed for eligibility (other methods)",
    "other_reports_excluded": "Reports excluded (other methods)",
    "studies_included": "Studies included in review",
    "reports_included": "Reports of included studies",
    "new_studies_included": "New studies included in review",
    "new_reports_included": "Reports of new included studies",
    "previous_studies": "Studies included in previous version of review",
    "previous_reports": "Reports of studies included in previous version of review",
    "total_studies": "Total studies included in review",
    "total_reports": "Reports of total included studies",
    "header_databases": "Identification of new studies via databases and registers",
    "header_other": "Identification of new studies via other methods",
    "header_previous": "Previous studies",
    "identified_from": "Records identified from*:",
    "other_identified_from": "Records identified from:",
    "removed_before": "Records removed before screening:",
    "excluded_reasons": "Reports excluded:",
    "records_excluded_box": "Records excluded**",
}
_LABELS_SCR: dict[str, str] = {
    **_LABELS_2020,
    "reports_sought": "Sources of evidence sought for retrieval",
    "reports_not_retrieved": "Sources of evidence not retrieved",
    "reports_assessed": "Sources of evidence assessed for eligibility",
    "reports_excluded": "Sources of evidence excluded",
    "other_reports_sought": "Sources of evidence sought for retrieval (other methods)",
    "other_reports_not_retrieved": "Sources of evidence not retrieved (other methods)",
    "other_reports_assessed": "Sources of evidence assessed for eligibility (other methods)",
    "other_reports_excluded": "Sources of evidence excluded (other methods)",
    "reports_included": "Sources of evidence included in review",
    "new_reports_included": "New sources of evidence included in review",
    "previous_reports": "Sources of evidence included in previous version of review",
    "total_reports": "Total sources of evidence included in review",
    "header_databases": "Identification of new sources of evidence via databases and registers",
    "header_other": "Identification of new sources of evidence via other methods",
    "header_previous": "Previous sources of evidence",
    "excluded_reasons": "Sources of evidence excluded:",
}
# In the scoping-review variant the unit is the source of evidence: the "studies" boxes are
# not shown (their "reports" counterparts carry the counts).
_SCR_HIDDEN = frozenset({"studies_included", "previous_studies", "total_studies"})

_FOOTNOTES_2020 = (
    "*Consider, if feasible to do so, reporting the number of records identified from each "
    "database or register searched (rather than the total number across all "
    "databases/registers).",
    "**If automation tools were used, indicate how many records were excluded by a human and "
    "how many were excluded by automation tools.",
)
_CREDIT = {
    "prisma2020": "From: Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an "
    "updated guideline for reporting systematic reviews. BMJ 2021;372:n71. "
    "doi: 10.1136/bmj.n71. CC BY 4.0.",
    "prisma-scr": "Adapted for scoping reviews (PRISMA-ScR: Tricco AC, et al. Ann Intern Med "
    "2018;169:467-473. doi: 10.7326/M18-0850) from the PRISMA 2020 flow diagram (Page MJ, et "
    "al. BMJ 2021;372:n71. doi: 10.1136/bmj.n71. CC BY 4.0).",
}


def _labels(variant: str) -> dict[str, str]:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}")
    return _LABELS_SCR if variant == "prisma-scr" else _LABELS_2020


def box_labels(variant: Variant = "prisma2020") -> dict[str, str]:
    """The wording of each box key (and of headings) in the given variant."""
    return dict(_labels(variant))


@dataclass(frozen=True, slots=True)
class Override:
    """A hand-entered box value; the note (why it differs from the count) is required."""

    value: int
    note: str

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise ValueError("an override's value must be a whole number, 0 or more")
        if not isinstance(self.note, str) or not self.note.strip():
            raise ValueError("an override needs a note saying why the count was changed")


def _count(name: str, value: object, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number, 0 or more (got {value!r})")


@dataclass(frozen=True)
class PrismaCounts:
    """The numbers behind a PRISMA 2020 flow diagram.

    Identification: ``databases`` and ``registers`` (name -> records), and for the "other
    methods" column ``other_sources`` (e.g. {"Websites": 12, "Organisations": 3,
    "Citation searching": 40}). Removed before screening: duplicates, marked ineligible by
    automation tools, other reasons. ``records_screened``, ``reports_sought``,
    ``reports_assessed``, the other-methods ``other_reports_sought`` and
    ``other_reports_assessed`` and ``reports_included`` are derived when left ``None``.
    ``reports_excluded`` and ``other_reports_excluded`` map reasons to counts.
    ``previous_studies`` / ``previous_reports`` give an updated review's "previous studies"
    column. ``overrides`` maps box keys (see ``SCALAR_BOXES``, or "databases:NAME" and the
    like) to :class:`Override`.
    """

    databases: Mapping[str, int] = field(default_factory=dict)
    registers: Mapping[str, int] = field(default_factory=dict)
    duplicates_removed: int = 0
    automation_removed: int = 0
    other_removed: int = 0
    records_screened: int | None = None
    records_excluded: int = 0
    reports_sought: int | None = None
    reports_not_retrieved: int = 0
    reports_assessed: int | None = None
    reports_excluded: Mapping[str, int] = field(default_factory=dict)
    studies_included: int | None = None
    reports_included: int | None = None
    other_sources: Mapping[str, int] = field(default_factory=dict)
    other_reports_sought: int | None = None
    other_reports_not_retrieved: int = 0
    other_reports_assessed: int | None = None
    other_reports_excluded: Mapping[str, int] = field(default_factory=dict)
    previous_studies: int | None = None
    previous_reports: int | None = None
    overrides: Mapping[str, Override] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (
            "duplicates_removed",
            "automation_removed",
            "other_removed",
            "records_excluded",
            "reports_not_retrieved",
            "other_reports_not_retrieved",
        ):
            _count(name, getattr(self, name))
        for name in (
            "records_screened",
            "reports_sought",
            "reports_assessed",
            "studies_included",
            "reports_included",
            "other_reports_sought",
            "other_reports_assessed",
            "previous_studies",
            "previous_reports",
        ):
            _count(name, getattr(self, name), optional=True)
        for name in DICT_FIELDS:
            for key, value in getattr(self, name).items():
                if not str(key).strip():
                    raise ValueError(f"{name} has an empty name")
                _count(f"{name}[{key}]", value)
        for key, override in self.overrides.items():
            if not isinstance(override, Override):
                raise ValueError(
                    f"override of {key!r} must be an Override(value, note): a note is required"
                )
            self._check_key(key)

    def _check_key(self, key: str) -> None:
        if key in SCALAR_BOXES:
            return
        prefix, _, name = key.partition(":")
        if prefix in DICT_FIELDS and name in getattr(self, prefix):
            return
        raise ValueError(f"no box {key!r} to override")

    @property
    def has_other_methods(self) -> bool:
        return bool(self.other_sources)

    @property
    def is_update(self) -> bool:
        return self.previous_studies is not None or self.previous_reports is not None

    def with_override(self, box: str, value: int, note: str) -> PrismaCounts:
        """A copy with ``box`` set by hand to ``value``, explained by ``note`` (required)."""
        self._check_key(box)
        return replace(self, overrides={**self.overrides, box: Override(value, note)})


@dataclass(frozen=True, slots=True)
class Box:
    """One number in the diagram: ``counted`` is the platform's (or derived) value, ``value``
    the one shown (the override's when ``manual``)."""

    key: str
    label: str
    value: int | None
    counted: int | None
    derived: bool = False
    manual: bool = False
    note: str = ""


def _sub(*values: int | None) -> int | None:
    if any(v is None for v in values):
        return None
    first, *rest = values
    assert first is not None
    return first - sum(v for v in rest if v is not None)


class _Resolver:
    """Box values in flow order, overrides applied as each is computed."""

    def __init__(self, counts: PrismaCounts, labels: Mapping[str, str]) -> None:
        self.counts = counts
        self.labels = labels
        self.boxes: dict[str, Box] = {}

    def put(
        self, key: str, counted: int | None, *, derived: bool = False, label: str = ""
    ) -> int | None:
        override = self.counts.overrides.get(key)
        shown = override.value if override else counted
        if not label:
            prefix, _, name = key.partition(":")
            label = f"{self.labels.get(prefix, prefix)}: {name}" if name else self.labels[key]
        self.boxes[key] = Box(
            key=key,
            label=label,
            value=shown,
            counted=counted,
            derived=derived and override is None,
            manual=override is not None,
            note=override.note if override else "",
        )
        return shown

    def mapping(self, name: str, total_key: str) -> int:
        entries = getattr(self.counts, name)
        added = sum(self.put(f"{name}:{entry}", value) or 0 for entry, value in entries.items())
        total = self.put(total_key, added, derived=bool(entries))
        return total or 0

    def derive(self, key: str, given: int | None, formula: int | None) -> int | None:
        if given is not None:
            return self.put(key, given)
        return self.put(key, formula, derived=True)


def boxes(counts: PrismaCounts, *, variant: Variant = "prisma2020") -> dict[str, Box]:
    """Every box's value in flow order, derived where not given, overrides applied."""
    labels = _labels(variant)
    r = _Resolver(counts, labels)
    c = counts
    databases = r.mapping("databases", "databases")
    registers = r.mapping("registers", "registers")
    identified = r.put("identified", databases + registers, derived=True)
    dups = r.put("duplicates_removed", c.duplicates_removed)
    auto = r.put("automation_removed", c.automation_removed)
    other = r.put("other_removed", c.other_removed)
    screened = r.derive("records_screened", c.records_screened, _sub(identified, dups, auto, other))
    excluded = r.put("records_excluded", c.records_excluded)
    sought = r.derive("reports_sought", c.reports_sought, _sub(screened, excluded))
    not_retrieved = r.put("reports_not_retrieved", c.reports_not_retrieved)
    assessed = r.derive("reports_assessed", c.reports_assessed, _sub(sought, not_retrieved))
    reports_excluded = r.mapping("reports_excluded", "reports_excluded")
    included_main = _sub(assessed, reports_excluded)
    included_other: int | None = 0
    if c.has_other_methods:
        other_identified = r.mapping("other_sources", "other_identified")
        other_sought = r.derive("other_reports_sought", c.other_reports_sought, other_identified)
        other_not = r.put("other_reports_not_retrieved", c.other_reports_not_retrieved)
        other_assessed = r.derive(
            "other_reports_assessed", c.other_reports_assessed, _sub(other_sought, other_not)
        )
        other_excluded = r.mapping("other_reports_excluded", "other_reports_excluded")
        included_other = _sub(other_assessed, other_excluded)
    new = labels["new_studies_included"] if c.is_update else ""
    new_reports = labels["new_reports_included"] if c.is_update else ""
    studies = r.put("studies_included", c.studies_included, label=new)
    reports = r.derive(
        "reports_included",
        c.reports_included,
        None if included_main is None or included_other is None else included_main + included_other,
    )
    if new_reports:
        r.boxes["reports_included"] = replace(r.boxes["reports_included"], label=new_reports)
    if c.is_update:
        previous_studies = r.put("previous_studies", c.previous_studies)
        previous_reports = r.put("previous_reports", c.previous_reports)
        r.put("total_studies", _add(studies, previous_studies), derived=True)
        r.put("total_reports", _add(reports, previous_reports), derived=True)
    if variant == "prisma-scr":
        return {k: b for k, b in r.boxes.items() if k not in _SCR_HIDDEN}
    return r.boxes


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def _n(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def check(counts: PrismaCounts, *, variant: Variant = "prisma2020") -> list[str]:
    """Messages for boxes that do not add up (empty when the diagram is consistent). Each
    names the box by its label; a manual box's note is quoted."""
    shown = boxes(counts, variant=variant)
    messages: list[str] = []

    def value(key: str) -> int | None:
        box = shown.get(key)
        return box.value if box else None

    def name(key: str) -> str:
        box = shown[key]
        text = f"{box.label} (n = {_n(box.value)}"
        if box.manual:
            text += f", manual: {box.note}"
        return text + ")"

    def expect(key: str, parts: list[tuple[str, int]], formula: int | None) -> None:
        box = shown.get(key)
        if box is None or box.value is None or formula is None:
            return
        if box.value != formula:
            steps = " - ".join(f"{label} ({_n(n)})" for label, n in parts)
            messages.append(f"{name(key)} should be {steps} = {_n(formula)}.")

    def parts(*keys: str) -> list[tuple[str, int]]:
        return [(shown[k].label, shown[k].value or 0) for k in keys]

    for total, prefix in (
        ("databases", "databases"),
        ("registers", "registers"),
        ("reports_excluded", "reports_excluded"),
        ("other_identified", "other_sources"),
        ("other_reports_excluded", "other_reports_excluded"),
    ):
        entries = [b for k, b in shown.items() if k.startswith(prefix + ":")]
        if total in shown and entries and shown[total].manual:
            added = sum(b.value or 0 for b in entries)
            if added != shown[total].value:
                messages.append(f"{name(total)} should be the sum of its entries = {added:,}.")
    ids = ("identified", "duplicates_removed", "automation_removed", "other_removed")
    if all(value(k) is not None for k in ids):
        identified = value("identified") or 0
        if shown["identified"].manual and identified != (value("databases") or 0) + (
            value("registers") or 0
        ):
            messages.append(f"{name('identified')} should be databases + registers.")
        expect(
            "records_screened",
            parts(*ids),
            identified - sum(value(k) or 0 for k in ids[1:]),
        )
    screened, excluded = value("records_screened"), value("records_excluded")
    if screened is not None and excluded is not None:
        if excluded > screened:
            messages.append(f"{name('records_excluded')} exceeds {name('records_screened')}.")
        expect(
            "reports_sought",
            parts("records_screened", "records_excluded"),
            screened - excluded,
        )
    for prefix in ("", "other_") if counts.has_other_methods else ("",):
        sought = value(prefix + "reports_sought")
        missing = value(prefix + "reports_not_retrieved")
        assessed = value(prefix + "reports_assessed")
        excluded_reports = value(prefix + "reports_excluded") or 0
        if sought is not None and missing is not None:
            if missing > sought:
                messages.append(
                    f"{name(prefix + 'reports_not_retrieved')} exceeds "
                    f"{name(prefix + 'reports_sought')}."
                )
            expect(
                prefix + "reports_assessed",
                parts(prefix + "reports_sought", prefix + "reports_not_retrieved"),
                sought - missing,
            )
        if assessed is not None and excluded_reports > assessed:
            messages.append(
                f"{name(prefix + 'reports_excluded')} exceeds {name(prefix + 'reports_assessed')}."
            )
    if counts.has_other_methods:
        identified_other = value("other_identified")
        sought_other = value("other_reports_sought")
        if (
            identified_other is not None
            and sought_other is not None
            and sought_other > identified_other
        ):
            messages.append(f"{name('other_reports_sought')} exceeds {name('other_identified')}.")
    terms = [("", "reports_assessed"), ("-", "reports_excluded")]
    if counts.has_other_methods:
        terms += [("+", "other_reports_assessed"), ("-", "other_reports_excluded")]
    if all(value(k) is not None for _sign, k in terms) and value("reports_included") is not None:
        expected = sum(-(value(k) or 0) if sign == "-" else value(k) or 0 for sign, k in terms)
        if value("reports_included") != expected:
            steps = " ".join(
                f"{sign} {shown[k].label} ({_n(value(k))})".strip() for sign, k in terms
            )
            messages.append(f"{name('reports_included')} should be {steps} = {_n(expected)}.")
    for key, box in shown.items():
        if box.value is not None and box.value < 0:
            messages.append(f"{name(key)} is negative: the boxes above it do not add up.")
    if variant != "prisma-scr":
        studies, reports = value("studies_included"), value("reports_included")
        if studies is None:
            messages.append(f"{shown['studies_included'].label}: not given.")
        elif reports is not None and studies > reports:
            messages.append(
                f"{name('studies_included')} exceeds {name('reports_included')}: "
                "every study has at least one report."
            )
        if counts.is_update:
            ps, pr = value("previous_studies"), value("previous_reports")
            if ps is not None and pr is not None and ps > pr:
                messages.append(f"{name('previous_studies')} exceeds {name('previous_reports')}.")
    for total, a, b in (
        ("total_studies", "studies_included", "previous_studies"),
        ("total_reports", "reports_included", "previous_reports"),
    ):
        if total in shown and shown[total].manual:
            both = _add(value(a), value(b))
            if both is not None and both != value(total):
                messages.append(
                    f"{name(total)} should be {shown[a].label} ({_n(value(a))}) + "
                    f"{shown[b].label} ({_n(value(b))}) = {_n(both)}."
                )
    return messages


def counts_csv(counts: PrismaCounts, *, variant: Variant = "prisma2020") -> str:
    """CSV text, one row per box: box, count, manual ("yes"/""), note. Cells that a
    spreadsheet would run as a formula are prefixed with an apostrophe."""
    out = io.StringIO()
    rows = [
        (box.label, "" if box.value is None else box.value, "yes" if box.manual else "", box.note)
        for box in boxes(counts, variant=variant).values()
    ]
    write_csv(out, ("box", "count", "manual", "note"), rows)
    return out.getvalue()


# --- the SVG ---------------------------------------------------------------------------------

_FONT = 12
_LINE = 16
_PAD = 8
_CHAR = 6.4  # average width of a 12px sans-serif character, for wrapping
_TEXT = "#1a1a1a"
_STROKE = "#1a1a1a"
_BOX_FILL = "#ffffff"
_HEADER_FILL = "#ffd966"  # the template's yellow
_OTHER_FILL = "#d9d9d9"  # the template's grey
_SIDE_FILL = "#bdd7ee"  # the template's light blue
_BACKGROUND = "#ffffff"
#: Every fill text is drawn on, for the contrast check in the tests.
TEXT_COLOUR = _TEXT
TEXT_BACKGROUNDS = (_BOX_FILL, _HEADER_FILL, _OTHER_FILL, _SIDE_FILL, _BACKGROUND)


@dataclass
class _Shape:
    key: str
    x: float
    width: float
    lines: list[tuple[str, str]]  # (text, "bold" | "indent" | "")
    y: float = 0.0
    height: float = 0.0


def _wrap(text: str, width: float, indent: float = 0) -> list[str]:
    """Lines of ``text`` fitting ``width`` pixels; "(n = 12" is never broken (no-break spaces
    are put in before wrapping and taken out after)."""
    chars = max(12, int((width - 2 * _PAD - indent) / _CHAR))
    kept = re.sub(r"\(n = ", "(n\u00a0=\u00a0", text)
    return [line.replace("\u00a0", " ") for line in textwrap.wrap(kept, chars)] or [""]


def _line(box: Box, notes: dict[str, int], label: str | None = None) -> str:
    text = f"{label or box.label} (n = {_n(box.value)}"
    if box.manual:
        notes.setdefault(box.key, len(notes) + 1)
        text += f", manual, note {notes[box.key]}"
    return text + ")"


_INDENT = 12


def flow_svg(
    counts: PrismaCounts,
    *,
    variant: Variant = "prisma2020",
    title: str = "",
    id_prefix: str = "prisma",
) -> str:
    """The flow diagram as an accessible SVG document (``role="img"``, labelled by a
    ``<title>`` and a ``<desc>`` that gives every box's text). Laid out as the PRISMA 2020
    template: the databases and registers column, the "other methods" column when
    ``other_sources`` are given, and the "previous studies" column for an updated review;
    "Identification", "Screening" and "Included" run down the left side. ``id_prefix`` keeps
    the ids unique when several diagrams share a page."""
    labels = _labels(variant)
    shown = boxes(counts, variant=variant)
    scr = variant == "prisma-scr"
    notes: dict[str, int] = {}
    other = counts.has_other_methods
    update = counts.is_update

    side_w, gap, col_gap, box_w, arrow_gap = 34, 14, 36, 250, 44
    x = side_w + gap + 8
    previous_x = x
    if update:
        x += box_w + col_gap
    main_left, main_right = x, x + box_w + arrow_gap
    x = main_right + box_w + col_gap
    other_left, other_right = x, x + box_w + arrow_gap
    width = (other_right + box_w if other else main_right + box_w) + gap

    def entries(prefix: str) -> list[tuple[str, str]]:
        return [
            (t, "indent")
            for key, box in shown.items()
            if key.startswith(prefix + ":")
            for t in _wrap(_line(box, notes, key.partition(":")[2]), box_w, _INDENT)
        ]

    def total_heading(key: str, text: str) -> list[tuple[str, str]]:
        """A heading carrying its box's total: "Reports excluded (n = 93):"."""
        line = _line(shown[key], notes, text.rstrip(":")) + ":"
        return [(t, "bold") for t in _wrap(line, box_w)]

    def mapping_lines(prefix: str, total: str, heading: str) -> list[tuple[str, str]]:
        lines = [(t, "") for t in _wrap(_line(shown[total], notes, heading), box_w)]
        return lines + entries(prefix)

    def simple(key: str, label: str | None = None) -> list[tuple[str, str]]:
        return [(t, "") for t in _wrap(_line(shown[key], notes, label), box_w)]

    def heading(text: str) -> list[tuple[str, str]]:
        return [(t, "bold") for t in _wrap(text, box_w)]

    shapes: dict[str, _Shape] = {}
    rows: list[list[str]] = []

    def add(key: str, x_at: float, lines: list[tuple[str, str]]) -> str:
        shapes[key] = _Shape(key, x_at, box_w, lines)
        return key

    # Identification
    ident = [
        add(
            "identified",
            main_left,
            total_heading("identified", labels["identified_from"])
            + mapping_lines("databases", "databases", labels["databases"])
            + mapping_lines("registers", "registers", labels["registers"]),
        ),
        add(
            "removed",
            main_right,
            heading(labels["removed_before"])
            + simple("duplicates_removed")
            + simple("automation_removed")
            + simple("other_removed"),
        ),
    ]
    if update:
        prev_lines: list[tuple[str, str]] = []
        if not scr:
            prev_lines += simple("previous_studies")
        prev_lines += simple("previous_reports")
        ident.append(add("previous", previous_x, prev_lines))
    if other:
        ident.append(
            add(
                "other_identified",
                other_left,
                total_heading("other_identified", labels["other_identified_from"])
                + entries("other_sources"),
            )
        )
    rows.append(ident)
    # Screening
    rows.append(
        [
            add("screened", main_left, simple("records_screened")),
            add("excluded", main_right, simple("records_excluded", labels["records_excluded_box"])),
        ]
    )
    sought_row = [
        add("sought", main_left, simple("reports_sought")),
        add("not_retrieved", main_right, simple("reports_not_retrieved")),
    ]
    assessed_row = [
        add("assessed", main_left, simple("reports_assessed")),
        add(
            "reasons",
            main_right,
            total_heading("reports_excluded", labels["excluded_reasons"])
            + entries("reports_excluded"),
        ),
    ]
    if other:
        base = _LABELS_SCR if scr else _LABELS_2020
        sought_row += [
            add("other_sought", other_left, simple("other_reports_sought", base["reports_sought"])),
            add(
                "other_not_retrieved",
                other_right,
                simple("other_reports_not_retrieved", base["reports_not_retrieved"]),
            ),
        ]
        assessed_row += [
            add(
                "other_assessed",
                other_left,
                simple("other_reports_assessed", base["reports_assessed"]),
            ),
            add(
                "other_reasons",
                other_right,
                total_heading("other_reports_excluded", labels["excluded_reasons"])
                + entries("other_reports_excluded"),
            ),
        ]
    rows += [sought_row, assessed_row]
    # Included
    included_lines: list[tuple[str, str]] = []
    if not scr:
        included_lines += simple("studies_included")
    included_lines += simple("reports_included")
    rows.append([add("included", main_left, included_lines)])
    if update:
        total_lines: list[tuple[str, str]] = []
        if not scr:
            total_lines += simple("total_studies")
        total_lines += simple("total_reports")
        rows.append([add("total", main_left, total_lines)])

    # vertical layout
    header_h = 40
    top: float = 12 + (len(title) > 0) * 26
    y = top + header_h + 16
    row_gap = 34
    row_tops: list[float] = []
    for row in rows:
        height = max(len(shapes[k].lines) * _LINE + 2 * _PAD for k in row)
        for key in row:
            shapes[key].y = y
            shapes[key].height = height
        row_tops.append(y)
        y += height + row_gap
    bottom = y - row_gap
    short = 84 - (bottom - row_tops[4])  # room for the rotated "Included"
    if short > 0:
        shapes[rows[-1][0]].height += short
        bottom += short

    # footnotes
    footer: list[str] = list(_FOOTNOTES_2020)
    for key, number in notes.items():
        footer.append(f"Note {number}: {shown[key].label} entered by hand: {shown[key].note}")
    footer.append(_CREDIT[variant])
    footer_lines = [line for text in footer for line in _wrap(text, width - 2 * gap)]
    total_height = bottom + 20 + len(footer_lines) * _LINE + 12

    parts: list[str] = []
    a = escape
    title_text = title or ("PRISMA-ScR flow diagram" if scr else "PRISMA 2020 flow diagram")
    desc = _description(rows, shapes, footer)
    parts.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart prisma" role="img" '
        f'aria-labelledby="{a(id_prefix)}-title {a(id_prefix)}-desc" '
        f'viewBox="0 0 {width:.0f} {total_height:.0f}" '
        f'width="{width:.0f}" height="{total_height:.0f}" '
        f'font-family="Arial, Helvetica, sans-serif" font-size="{_FONT}">'
    )
    parts.append(f'<title id="{a(id_prefix)}-title">{a(title_text)}</title>')
    parts.append(f'<desc id="{a(id_prefix)}-desc">{a(desc)}</desc>')
    parts.append(
        f'<rect x="0" y="0" width="{width:.0f}" height="{total_height:.0f}" fill="{_BACKGROUND}"/>'
    )
    if title:
        parts.append(
            f'<text x="{gap}" y="{12 + 16}" font-size="15" font-weight="bold" fill="{_TEXT}">'
            f"{a(title)}</text>"
        )
    # headers
    header_y = top

    def header(x0: float, x1: float, text: str, fill: str) -> None:
        parts.append(
            f'<rect x="{x0:.0f}" y="{header_y:.0f}" width="{x1 - x0:.0f}" height="{header_h}" '
            f'rx="6" fill="{fill}" stroke="{_STROKE}"/>'
        )
        wrapped = _wrap(text, x1 - x0)
        first = header_y + header_h / 2 - (len(wrapped) - 1) * _LINE / 2 + 4
        for i, line in enumerate(wrapped):
            parts.append(
                f'<text x="{(x0 + x1) / 2:.0f}" y="{first + i * _LINE:.0f}" text-anchor="middle" '
                f'font-weight="bold" fill="{_TEXT}">{a(line)}</text>'
            )

    if update:
        header(previous_x, previous_x + box_w, labels["header_previous"], _OTHER_FILL)
    header(main_left, main_right + box_w, labels["header_databases"], _HEADER_FILL)
    if other:
        header(other_left, other_right + box_w, labels["header_other"], _OTHER_FILL)
    # side labels
    sections = [
        ("Identification", row_tops[0], row_tops[0] + shapes[rows[0][0]].height),
        ("Screening", row_tops[1], row_tops[3] + shapes[rows[3][0]].height),
        ("Included", row_tops[4], bottom),
    ]
    for text, y0, y1 in sections:
        cx, cy = gap + side_w / 2, (y0 + y1) / 2
        parts.append(
            f'<rect x="{gap}" y="{y0:.0f}" width="{side_w}" height="{y1 - y0:.0f}" rx="6" '
            f'fill="{_SIDE_FILL}" stroke="{_STROKE}"/>'
            f'<text x="{cx:.0f}" y="{cy + 4:.0f}" text-anchor="middle" font-weight="bold" '
            f'fill="{_TEXT}" transform="rotate(-90 {cx:.0f} {cy:.0f})">{a(text)}</text>'
        )
    # boxes
    for shape in shapes.values():
        parts.append(
            f'<rect x="{shape.x:.0f}" y="{shape.y:.0f}" width="{shape.width:.0f}" '
            f'height="{shape.height:.0f}" fill="{_BOX_FILL}" stroke="{_STROKE}"/>'
        )
        for i, (line, style) in enumerate(shape.lines):
            weight = ' font-weight="bold"' if style == "bold" else ""
            left = shape.x + _PAD + (_INDENT if style == "indent" else 0)
            parts.append(
                f'<text x="{left:.0f}" y="{shape.y + _PAD + 12 + i * _LINE:.0f}"'
                f'{weight} fill="{_TEXT}">{a(line)}</text>'
            )

    # arrows
    def arrow(points: list[tuple[float, float]]) -> None:
        path = " ".join(f"{px:.0f},{py:.0f}" for px, py in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{_STROKE}" stroke-width="1.5"/>'
        )
        (x0, y0), (x1, y1) = points[-2], points[-1]
        if x1 == x0:
            d = 1 if y1 > y0 else -1
            head = [(x1, y1), (x1 - 5, y1 - 9 * d), (x1 + 5, y1 - 9 * d)]
        else:
            d = 1 if x1 > x0 else -1
            head = [(x1, y1), (x1 - 9 * d, y1 - 5), (x1 - 9 * d, y1 + 5)]
        corners = " ".join(f"{px:.0f},{py:.0f}" for px, py in head)
        parts.append(f'<polygon points="{corners}" fill="{_STROKE}"/>')

    def down(upper: str, lower: str) -> None:
        s, t = shapes[upper], shapes[lower]
        cx = s.x + s.width / 2
        arrow([(cx, s.y + s.height), (cx, t.y - 1)])

    def right(left: str, right_key: str) -> None:
        s, t = shapes[left], shapes[right_key]
        cy = s.y + min(s.height, t.height) / 2
        arrow([(s.x + s.width, cy), (t.x - 1, cy)])

    for upper, lower in (
        ("identified", "screened"),
        ("screened", "sought"),
        ("sought", "assessed"),
        ("assessed", "included"),
    ):
        down(upper, lower)
    for pair in (
        ("identified", "removed"),
        ("screened", "excluded"),
        ("sought", "not_retrieved"),
        ("assessed", "reasons"),
    ):
        right(*pair)
    if other:
        down("other_identified", "other_sought")
        down("other_sought", "other_assessed")
        right("other_sought", "other_not_retrieved")
        right("other_assessed", "other_reasons")
        s, t = shapes["other_assessed"], shapes["included"]
        cx, cy = s.x + s.width / 2, t.y + t.height / 2
        arrow([(cx, s.y + s.height), (cx, cy), (t.x + t.width + 1, cy)])
    if update:
        down("included", "total")
        s, t = shapes["previous"], shapes["total"]
        cx, cy = s.x + s.width / 2, t.y + t.height / 2
        arrow([(cx, s.y + s.height), (cx, cy), (t.x - 1, cy)])
    # footer
    for i, line in enumerate(footer_lines):
        parts.append(
            f'<text x="{gap}" y="{bottom + 28 + i * _LINE:.0f}" font-size="11" fill="{_TEXT}">'
            f"{a(line)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _description(rows: list[list[str]], shapes: Mapping[str, _Shape], footer: list[str]) -> str:
    """Every box's text in reading order (row by row, left to right), then the notes."""
    sentences = []
    for row in rows:
        for key in sorted(row, key=lambda k: shapes[k].x):
            text = " ".join(line.strip() for line, _style in shapes[key].lines)
            sentences.append(text.rstrip(":") + ".")
    return " ".join([*sentences, *footer])

"""REFI-QDA project exchange for a study's Voices data: ``.qdpx`` out and in.

Export (:func:`build_project`, :func:`export_qdpx`) turns the study's analysis into the plain
REFI-QDA model of :mod:`steppingstones.voices.refiqda` and writes it:

* users: one per coder or memo author name (the format knows people only as names here);
* the codebook with its hierarchy, colours and descriptions; a code's inclusion and exclusion
  criteria and example travel inside its description under the headings ``Inclusion
  criteria:``, ``Exclusion criteria:`` and ``Example:``, and are read back into their fields;
* text sources: only the de-identified text (``Source.text``) of sources whose status is
  "ready"; never the raw text, never a source awaiting review; each with the variables
  ``Wave`` and ``Source kind``;
* selections grouping the codings of one range (``Coding.selection_guid``), each coding with
  its coder and time;
* memos as notes, referenced from their coding, source or code (or the project);
* cases with variables: the participant's site and cohort characteristics, plus the case's
  own variables; sets of sources and codes.

Import (:func:`import_qdpx`, :func:`import_project`) stores a project made by any REFI-QDA
tool in one transaction: all of it or, with :class:`ExchangeError` or
:class:`~steppingstones.voices.refiqda.RefiQdaError` naming the file, element and line, none
of it. An imported project is taken to be de-identified already by the team that exported
it: its sources arrive "ready" with their text as given, at the site the importer chose.
GUIDs are kept. Importing a project whose sources, codings, memos, cases or sets are already
in the study (the same file twice) is refused; codes already in the study under the same GUID
are reused, so a project built on a codebook exported from here codes with the same codes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from steppingstones.cohort.models import Wave, Woman
from steppingstones.core import audit
from steppingstones.core.models import Participant, Site, Study
from steppingstones.core.progress import Progress, SilentProgress
from steppingstones.voices import refiqda as rq
from steppingstones.voices.coding_service import blind_source_ids
from steppingstones.voices.documents import find_label_turns
from steppingstones.voices.models import Case, Code, Coding, Memo, Source, SourceSet

NAMESPACE = uuid.UUID("6f1c3c53-3b8e-4d53-9a59-2f3f0c1b7a41")
"""Names the GUIDs derived here (users, variables): the same name gives the same GUID."""

WAVE_VARIABLE = "Wave"
KIND_VARIABLE = "Source kind"
SOURCE_VARIABLES = (WAVE_VARIABLE, KIND_VARIABLE)
CRITERIA = (
    ("inclusion", "Inclusion criteria"),
    ("exclusion", "Exclusion criteria"),
    ("example", "Example"),
)
_CRITERIA_HEADING = re.compile(
    r"(?:^|\n\n)(" + "|".join(re.escape(label) for _, label in CRITERIA) + r"): "
)
INTERVIEWER_LABELS = ("interviewer", "facilitator", "moderator", "researcher", "int", "i")
UNKNOWN_CODER = "unknown coder"


class ExchangeError(ValueError):
    """A project that cannot be stored in this study, with a message naming what is at fault."""


@dataclass
class ExportSummary:
    sources: int = 0
    codes: int = 0
    codings: int = 0
    notes: int = 0
    cases: int = 0
    sets: int = 0
    skipped_codings: int = 0

    def describe(self) -> str:
        text = (
            f"{self.sources} sources, {self.codes} codes, {self.codings} codings, "
            f"{self.notes} memos, {self.cases} cases, {self.sets} sets"
        )
        if self.skipped_codings:
            text += f"; {self.skipped_codings} codings outside their text left out"
        return text


@dataclass
class ImportSummary:
    sources: int = 0
    codes: int = 0
    codes_reused: int = 0
    codings: int = 0
    memos: int = 0
    cases: int = 0
    cases_matched: int = 0
    sets: int = 0
    not_kept: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = (
            f"{self.sources} sources, {self.codes} new codes ({self.codes_reused} already "
            f"here), {self.codings} codings, {self.memos} memos, {self.cases} cases "
            f"({self.cases_matched} matched to participants), {self.sets} sets"
        )
        if self.not_kept:
            text += ". Not kept: " + "; ".join(self.not_kept)
        return text


def derived_guid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}")).upper()


def user_guid(name: str) -> str:
    return derived_guid("user", name)


def variable_guid(name: str) -> str:
    return derived_guid("variable", name)


# -- code descriptions ----------------------------------------------------------------------


def code_description(code: Code) -> str | None:
    """The code's description with its criteria and example under headings, or None."""
    parts = [code.description] if code.description else []
    for attr, label in CRITERIA:
        value = getattr(code, attr)
        if value:
            parts.append(f"{label}: {value}")
    return "\n\n".join(parts) or None


def split_description(text: str | None) -> dict[str, str]:
    """``description``, ``inclusion``, ``exclusion`` and ``example`` from a description
    written by :func:`code_description` (any other description is all ``description``)."""
    fields = {"description": "", "inclusion": "", "exclusion": "", "example": ""}
    if not text:
        return fields
    labels = {label: attr for attr, label in CRITERIA}
    order = [label for _, label in CRITERIA]
    found: list[re.Match[str]] = []
    for match in _CRITERIA_HEADING.finditer(text):
        label = match.group(1)
        if found and order.index(label) <= order.index(found[-1].group(1)):
            continue  # only headings in order, each once, count
        found.append(match)
    fields["description"] = text[: found[0].start()] if found else text
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        fields[labels[match.group(1)]] = text[match.end() : end]
    return fields


# -- export ---------------------------------------------------------------------------------


def _variable_kind(value: object) -> rq.model.VariableKind:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float | Decimal):
        return "Float"
    if isinstance(value, dt.datetime):
        return "DateTime"
    if isinstance(value, dt.date):
        return "Date"
    return "Text"


def _format_value(value: object) -> rq.Value:
    if value is None or isinstance(value, bool | int | Decimal | dt.date | str):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return str(value)


def participant_variables(participant: Participant) -> dict[str, Any]:
    """The case variables the cohort gives a participant (pseudonymised characteristics)."""
    values: dict[str, Any] = {"Site": participant.site.code, "Participant kind": participant.kind}
    woman = Woman.objects.filter(participant=participant).select_related("pregnancy").first()
    if woman is None:
        return values
    values.update(
        {
            "Cohort status": woman.status,
            "Recruitment route": woman.recruitment_route or None,
            "Parity": woman.parity,
            "Earlier children": woman.earlier_children,
            "Earlier children removed": woman.earlier_children_removed,
        }
    )
    pregnancy = getattr(woman, "pregnancy", None)
    if pregnancy is not None:
        values["Pregnancy outcome"] = pregnancy.outcome
    waves = (
        woman.interviews.filter(status="done")
        .order_by("wave__number")
        .values_list("wave__number", flat=True)
    )
    values["Waves interviewed"] = ", ".join(str(n) for n in waves)
    return {k: v for k, v in values.items() if v is not None and v != ""}


class _Variables:
    """Variables met while exporting, typed by their values (mixed types become Text)."""

    def __init__(self) -> None:
        self.kinds: dict[str, rq.model.VariableKind] = {}

    def note(self, name: str, value: object) -> None:
        if value is None:
            return
        kind = _variable_kind(value)
        if self.kinds.setdefault(name, kind) != kind:
            self.kinds[name] = "Text"

    def values(self, values: Mapping[str, object]) -> tuple[rq.VariableValue, ...]:
        out = []
        for name in sorted(values):
            value = values[name]
            if value is not None and self.kinds.get(name) == "Text":
                value = value if isinstance(value, str) else str(value)
            out.append(rq.VariableValue(variable_guid(name), _format_value(value)))
        return tuple(out)

    def definitions(self) -> tuple[rq.Variable, ...]:
        return tuple(
            rq.Variable(guid=variable_guid(name), name=name, type_of_variable=kind)
            for name, kind in sorted(self.kinds.items())
        )


def _selection_groups(
    codings: Iterable[Coding], text_length: int, summary: ExportSummary
) -> list[tuple[str, int, int, list[Coding]]]:
    """Codings grouped into selections: one per (selection GUID, range)."""
    groups: dict[tuple[str, int, int], list[Coding]] = defaultdict(list)
    for coding in codings:
        if coding.start is None or coding.end is None:
            continue
        if not 0 <= coding.start <= coding.end <= text_length:
            summary.skipped_codings += 1
            continue
        groups[(coding.selection_guid.upper(), coding.start, coding.end)].append(coding)
    used: set[str] = set()
    out = []
    for (guid, start, end), members in sorted(
        groups.items(), key=lambda g: (g[0][1], g[0][2], g[0][0])
    ):
        selection = guid if rq.canonical_guid(guid) and guid not in used else None
        if selection is None:  # the same GUID on two ranges, or not a GUID: derive one
            selection = derived_guid("selection", f"{guid}:{start}:{end}")
        used.add(selection)
        members.sort(key=lambda c: (c.created_at, c.guid))
        out.append((selection, start, end, members))
    return out


def build_project(
    study: Study,
    *,
    site_ids: Iterable[int] | None = None,
    progress: Progress | None = None,
    user: Any = None,
) -> tuple[rq.Project, ExportSummary]:
    """The study's Voices analysis as a REFI-QDA project. ``site_ids`` limits sources,
    cases and memos on sources to those sites (a site-limited member's export). For a ``user``
    who is coding blind in an agreement round, the other coders' codings of the round's sources
    (and memos on them) are left out, as on every page."""
    progress = progress or SilentProgress()
    summary = ExportSummary()
    sites = set(site_ids) if site_ids is not None else None
    sources = Source.objects.filter(
        study=study, status=Source.Status.READY, media=Source.Media.TEXT
    ).select_related("wave")
    if sites is not None:
        sources = sources.filter(site_id__in=sites)
    source_list = list(sources.order_by("name", "guid"))
    exported_ids = {s.pk for s in source_list}
    progress.start(len(source_list) + 3, "Exporting")

    memos = list(
        Memo.objects.filter(study=study)
        .select_related("author", "coding")
        .order_by("created_at", "guid")
    )
    blind = blind_source_ids(user, exported_ids) if user is not None else set()

    def hidden(coding: Coding) -> bool:
        return coding.source_id in blind and coding.coder_id != user.pk

    memos = [
        m
        for m in memos
        if (m.source_id is None or m.source_id in exported_ids)
        and (m.coding is None or (m.coding.source_id in exported_ids and not hidden(m.coding)))
    ]
    coding_notes: dict[int, list[str]] = defaultdict(list)
    source_notes: dict[int, list[str]] = defaultdict(list)
    code_notes: dict[int, list[str]] = defaultdict(list)
    project_notes: list[str] = []
    users: set[str] = set()
    notes = []
    for memo in memos:
        author = memo.author_name or (memo.author.get_username() if memo.author else "")
        if author:
            users.add(author)
        if memo.coding_id is not None:
            coding_notes[memo.coding_id].append(memo.guid)
        elif memo.source_id is not None:
            source_notes[memo.source_id].append(memo.guid)
        if memo.code_id is not None:
            code_notes[memo.code_id].append(memo.guid)
        if memo.coding_id is None and memo.source_id is None and memo.code_id is None:
            project_notes.append(memo.guid)
        notes.append(
            rq.Note(
                guid=memo.guid,
                text=memo.text,
                name=memo.title or None,
                creating_user=user_guid(author) if author else None,
                created=memo.created_at,
            )
        )
    summary.notes = len(notes)

    codes = list(Code.objects.filter(study=study).order_by("position", "name", "guid"))
    children: dict[int | None, list[Code]] = defaultdict(list)
    for code in codes:
        children[code.parent_id].append(code)

    def tree(code: Code) -> rq.Code:
        return rq.Code(
            guid=code.guid,
            name=code.name,
            is_codable=code.is_codable,
            color=code.colour or None,
            description=code_description(code),
            note_refs=tuple(code_notes.get(code.pk, ())),
            children=tuple(tree(child) for child in children.get(code.pk, ())),
        )

    code_tree = tuple(tree(code) for code in children.get(None, ()))
    code_guids = {code.pk: code.guid for code in codes}
    summary.codes = len(codes)
    progress.advance()

    variables = _Variables()
    text_sources = []
    codings_by_source: dict[int, list[Coding]] = defaultdict(list)
    for coding in Coding.objects.filter(source_id__in=exported_ids).order_by("pk"):
        if not hidden(coding):
            codings_by_source[coding.source_id].append(coding)
    for source in source_list:
        source_values: dict[str, object] = {KIND_VARIABLE: source.kind}
        if source.wave is not None:
            source_values[WAVE_VARIABLE] = source.wave.number
        for name, value in source_values.items():
            variables.note(name, value)
        selections = []
        for guid, start, end, members in _selection_groups(
            codings_by_source.get(source.pk, ()), len(source.text), summary
        ):
            first = members[0]
            for coding in members:
                users.add(coding.coder_name or UNKNOWN_CODER)
            selections.append(
                rq.PlainTextSelection(
                    guid=guid,
                    start=start,
                    end=end,
                    creating_user=user_guid(first.coder_name or UNKNOWN_CODER),
                    created=first.created_at,
                    codings=tuple(
                        rq.Coding(
                            guid=coding.guid,
                            code_guid=code_guids[coding.code_id],
                            creating_user=user_guid(coding.coder_name or UNKNOWN_CODER),
                            created=coding.created_at,
                            note_refs=tuple(coding_notes.get(coding.pk, ())),
                        )
                        for coding in members
                    ),
                )
            )
            summary.codings += len(members)
        text_sources.append((source, source_values, tuple(selections)))
        progress.advance()

    cases = []
    case_rows = Case.objects.filter(study=study).select_related("participant__site")
    for case in case_rows.prefetch_related("sources").order_by("name", "guid"):
        participant = case.participant
        case_sources = [s for s in case.sources.all() if s.pk in exported_ids]
        if sites is not None:
            if participant is not None and participant.site_id not in sites:
                continue
            if participant is None and not case_sources:
                continue
        values = dict(case.variables or {})
        if participant is not None:
            values.update(participant_variables(participant))
        for name, value in values.items():
            variables.note(name, value)
        cases.append((case, values, case_sources))
    progress.advance()

    sets = []
    for item in (
        SourceSet.objects.filter(study=study)
        .prefetch_related("sources", "codes")
        .order_by("name", "guid")
    ):
        sets.append(
            rq.Set(
                guid=item.guid,
                name=item.name,
                description=item.description or None,
                member_code_guids=tuple(sorted(c.guid for c in item.codes.all())),
                member_source_guids=tuple(
                    sorted(s.guid for s in item.sources.all() if s.pk in exported_ids)
                ),
            )
        )
    summary.sets = len(sets)

    project = rq.Project(
        name=study.name,
        users=tuple(rq.User(guid=user_guid(name), name=name) for name in sorted(users)),
        codes=code_tree,
        variables=variables.definitions(),
        cases=tuple(
            rq.Case(
                guid=case.guid,
                name=case.name,
                description=case.description or None,
                values=variables.values(values),
                source_refs=tuple(sorted(s.guid for s in case_sources)),
            )
            for case, values, case_sources in cases
        ),
        sources=tuple(
            rq.TextSource(
                guid=source.guid,
                text=source.text,
                name=source.name,
                plain_text_path=f"internal://{source.guid}.txt",
                description=source.description or None,
                selections=selections,
                note_refs=tuple(source_notes.get(source.pk, ())),
                values=variables.values(values),
                created=source.created_at,
            )
            for source, values, selections in text_sources
        ),
        notes=tuple(notes),
        sets=tuple(sets),
        note_refs=tuple(project_notes),
    )
    summary.sources = len(text_sources)
    summary.cases = len(cases)
    progress.advance()
    progress.finish()
    return project, summary


def export_qdpx(
    study: Study,
    *,
    site_ids: Iterable[int] | None = None,
    progress: Progress | None = None,
    user: Any = None,
) -> tuple[bytes, ExportSummary]:
    """The study's Voices analysis as ``.qdpx`` bytes (see :func:`build_project`)."""
    project, summary = build_project(study, site_ids=site_ids, progress=progress, user=user)
    try:
        data = rq.write_qdpx(project)
    except rq.RefiQdaError as error:
        raise ExchangeError(str(error)) from error
    audit.record(
        "voices.export-qdpx",
        study=study,
        object_type="voices.project",
        object_repr=study.name,
        changes={"summary": summary.describe(), "sites": sorted(site_ids or []) or "all"},
    )
    return data, summary


# -- import ---------------------------------------------------------------------------------


def _fit(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


def _json_value(value: rq.Value) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _turns(text: str) -> list[dict[str, Any]]:
    turns = []
    for turn in find_label_turns(text):
        interviewer = turn.speaker.strip().casefold() in INTERVIEWER_LABELS
        turns.append(
            {
                "speaker": turn.speaker,
                "role": "interviewer" if interviewer else "participant",
                "participant": None,
                "start_char": turn.start_char,
                "end_char": turn.end_char,
                "start_seconds": turn.start_seconds,
                "end_seconds": turn.end_seconds,
            }
        )
    return turns


def _check_clashes(study: Study, project: rq.Project, label: str) -> None:
    """Refuse a project whose records are already in the study (the same file twice)."""
    text_sources = project.text_sources
    checks: list[tuple[str, QuerySet[Any], dict[str, str]]] = [
        (
            "source",
            Source.objects.filter(study=study),
            {s.guid: s.name or s.guid for s in text_sources},
        ),
        (
            "coding",
            Coding.objects.filter(source__study=study),
            {c.guid: c.guid for _, _, c in project.codings()},
        ),
        (
            "memo",
            Memo.objects.filter(study=study),
            {n.guid: n.name or n.guid for n in project.notes},
        ),
        (
            "case",
            Case.objects.filter(study=study),
            {c.guid: c.name or c.guid for c in project.cases},
        ),
        ("set", SourceSet.objects.filter(study=study), {s.guid: s.name for s in project.sets}),
    ]
    for kind, rows, wanted in checks:
        if not wanted:
            continue
        clash = rows.filter(guid__in=list(wanted)).values_list("guid", flat=True).first()
        if clash is not None:
            raise ExchangeError(
                f"{label}: {kind} {wanted[clash]!r} (GUID {clash}) is already in this study. "
                "A project is imported once: this file, or one it was made from, has been "
                "imported before. Import it into another study, or remove the earlier import "
                "first."
            )


def _not_kept(project: rq.Project, skipped_note_links: int) -> list[str]:
    """What the file carries that a Voices study does not keep."""
    lost: list[str] = []
    media = [s for s in project.sources if isinstance(s, rq.OtherSource)]
    if media:
        kinds = ", ".join(sorted({s.kind for s in media}))
        lost.append(f"{len(media)} non-text sources ({kinds})")
    rich = sum(1 for s in project.text_sources if s.rich_text is not None)
    if rich:
        lost.append(f"the rich-text originals of {rich} sources (their plain text is kept)")
    whole = sum(len(s.codings) for s in project.text_sources)
    if whole:
        lost.append(f"{whole} codings of whole sources were stored as codings of their full text")
    other_values = sum(
        1
        for s in project.text_sources
        for v in s.values
        if _variable_name(project, v.variable_guid) not in SOURCE_VARIABLES
    )
    if other_values:
        lost.append(f"{other_values} source variable values (cases keep their variables)")
    if project.links or project.graphs:
        lost.append(f"{len(project.links)} links and {len(project.graphs)} graphs")
    case_refs = sum(len(c.code_refs) + len(c.selection_refs) for c in project.cases)
    if case_refs:
        lost.append(f"{case_refs} case references to codes or selections")
    set_notes = sum(len(s.member_note_guids) for s in project.sets)
    if set_notes:
        lost.append(f"{set_notes} set memberships of notes")
    if skipped_note_links:
        lost.append(f"{skipped_note_links} further links of notes already linked elsewhere")
    return lost


def _variable_name(project: rq.Project, guid: str) -> str:
    for variable in project.variables:
        if variable.guid == guid:
            return variable.name
    return guid


@transaction.atomic
def import_project(
    study: Study,
    project: rq.Project,
    *,
    site: Site,
    label: str = "project.qdpx",
    participants: QuerySet[Participant] | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Store ``project`` in ``study``, all of it or nothing.

    Sources go to ``site``; cases named as one of ``participants`` (default: every
    participant of the study) are linked to that participant, and so are the sources of
    exactly one such case. Raises :class:`ExchangeError` naming what is at fault.
    """
    progress = progress or SilentProgress()
    if site.study_id != study.pk:
        raise ExchangeError(f"site {site.code} is not a site of {study.name}")
    _check_clashes(study, project, label)
    summary = ImportSummary()
    text_sources = project.text_sources
    progress.start(len(text_sources) + 4, f"Importing {label}")
    users = {u.guid: _fit(u.name or u.id or u.guid, 150) for u in project.users}
    variable_names = {v.guid: v.name for v in project.variables}

    def user_name(guid: str | None) -> str:
        return users.get(guid, guid) if guid is not None else UNKNOWN_CODER

    # Codes: reuse the study's codes with the same GUID, create the others.
    existing = {c.guid: c for c in Code.objects.filter(study=study)}
    codes: dict[str, Code] = {}

    def store_code(node: rq.Code, parent: Code | None, position: int) -> None:
        found = existing.get(node.guid)
        if found is not None:
            codes[node.guid] = found
            summary.codes_reused += 1
        else:
            parts = split_description(node.description)
            codes[node.guid] = Code.objects.create(
                study=study,
                guid=node.guid,
                parent=parent,
                name=_fit(node.name or node.guid, 200),
                description=parts["description"],
                inclusion=parts["inclusion"],
                exclusion=parts["exclusion"],
                example=parts["example"],
                colour=node.color if node.color and len(node.color) <= 7 else "#1f77b4",
                is_codable=node.is_codable,
                position=position,
            )
            summary.codes += 1
        for index, child in enumerate(node.children):
            store_code(child, codes[node.guid], index)

    for index, node in enumerate(project.codes):
        store_code(node, None, index)
    progress.advance()

    # Cases matched to participants by pseudonym; a source in exactly one matched case
    # belongs to that participant.
    pool = participants if participants is not None else Participant.objects.filter(study=study)
    names = {c.name for c in project.cases if c.name}
    by_pseudonym = {p.pseudonym: p for p in pool.filter(study=study, pseudonym__in=names)}
    owners: dict[str, set[int]] = defaultdict(set)
    for case in project.cases:
        person = by_pseudonym.get(case.name or "")
        if person is not None:
            for ref in case.source_refs:
                owners[ref].add(person.pk)
    people = {p.pk: p for p in by_pseudonym.values()}
    waves = {w.number: w for w in Wave.objects.filter(study=study)}

    sources: dict[str, Source] = {}
    created_at: dict[str, dt.datetime] = {}
    for text_source in text_sources:
        where = f"{label}: source {text_source.name or text_source.guid!r}"
        if "\x00" in text_source.text:
            raise ExchangeError(f"{where}: its plain text holds a NUL character")
        values = {
            variable_names.get(v.variable_guid, v.variable_guid): v.value
            for v in text_source.values
        }
        kind = values.get(KIND_VARIABLE)
        wave = values.get(WAVE_VARIABLE)
        owner = owners.get(text_source.guid, set())
        source = Source.objects.create(
            study=study,
            site=site,
            guid=text_source.guid,
            name=_fit(text_source.name or text_source.guid, 200),
            kind=kind if isinstance(kind, str) and kind in Source.Kind.values else "interview",
            participant=people[next(iter(owner))] if len(owner) == 1 else None,
            wave=waves.get(wave) if isinstance(wave, int) and not isinstance(wave, bool) else None,
            status=Source.Status.READY,
            format="txt",
            original_name=_fit(os.path.basename(label), 255),
            encoding="utf-8",
            text=text_source.text,
            turns=_turns(text_source.text),
            description=text_source.description or "",
        )
        sources[text_source.guid] = source
        if text_source.created is not None:
            created_at[text_source.guid] = text_source.created
        progress.advance()
    summary.sources = len(sources)
    _restore_created(Source, [(sources[g], t) for g, t in created_at.items()])

    # Codings, selection by selection; a coding of a whole source covers its whole text.
    rows: list[tuple[Coding, dt.datetime | None]] = []
    coding_of_note: dict[str, str] = {}
    note_of_selection: dict[str, str] = {}
    for text_source in text_sources:
        source = sources[text_source.guid]
        spans = [
            (sel.guid, sel.start, sel.end, sel.codings, sel.creating_user, sel.note_refs)
            for sel in text_source.selections
        ]
        if text_source.codings:
            whole = derived_guid("selection", f"{text_source.guid}:whole")
            spans.append((whole, 0, len(text_source.text), text_source.codings, None, ()))
        for selection_guid, start, end, codings, selection_user, selection_notes in spans:
            for coding in codings:
                code = codes.get(coding.code_guid)
                if code is None:
                    raise ExchangeError(
                        f"{label}: coding {coding.guid} refers to code {coding.code_guid}, "
                        "which is not in the codebook"
                    )
                rows.append(
                    (
                        Coding(
                            source=source,
                            code=code,
                            guid=coding.guid,
                            selection_guid=selection_guid,
                            coder_name=user_name(coding.creating_user or selection_user),
                            start=start,
                            end=end,
                        ),
                        coding.created,
                    )
                )
                for note in coding.note_refs:
                    coding_of_note.setdefault(note, coding.guid)
            if codings:
                for note in selection_notes:
                    note_of_selection.setdefault(note, codings[0].guid)
    stored = Coding.objects.bulk_create([row for row, _ in rows], batch_size=2000)
    _restore_created(
        Coding, [(row, when) for row, (_, when) in zip(stored, rows, strict=True) if when]
    )
    summary.codings = len(stored)
    coding_by_guid = {row.guid: row for row in stored}
    progress.advance()

    # Memos: each note linked to its coding (or a coding of its selection), source and code.
    skipped_links = 0
    source_of_note: dict[str, str] = {}
    for text_source in text_sources:
        for note in text_source.note_refs:
            if note in source_of_note:
                skipped_links += 1
            source_of_note.setdefault(note, text_source.guid)
    code_of_note: dict[str, str] = {}
    for node in project.all_codes():
        for note in node.note_refs:
            if note in code_of_note:
                skipped_links += 1
            code_of_note.setdefault(note, node.guid)
    for item in project.notes:
        linked = coding_by_guid.get(
            coding_of_note.get(item.guid) or note_of_selection.get(item.guid, "")
        )
        memo_source = (
            linked.source if linked is not None else sources.get(source_of_note.get(item.guid, ""))
        )
        memo = Memo.objects.create(
            study=study,
            guid=item.guid,
            title=_fit(item.name or "", 200),
            text=item.text,
            source=memo_source,
            code=codes.get(code_of_note.get(item.guid, "")),
            coding=linked,
            author_name=user_name(item.creating_user) if item.creating_user else "",
        )
        if item.created is not None:
            _restore_created(Memo, [(memo, item.created)])
        summary.memos += 1
    progress.advance()

    for case in project.cases:
        person = by_pseudonym.get(case.name or "")
        stored_case = Case.objects.create(
            study=study,
            guid=case.guid,
            name=_fit(case.name or case.guid, 200),
            description=case.description or "",
            participant=person,
            variables={
                variable_names.get(v.variable_guid, v.variable_guid): _json_value(v.value)
                for v in case.values
            },
        )
        stored_case.sources.set([sources[g] for g in case.source_refs if g in sources])
        summary.cases += 1
        summary.cases_matched += person is not None
    for group in project.sets:
        stored_set = SourceSet.objects.create(
            study=study,
            guid=group.guid,
            name=_fit(group.name or group.guid, 200),
            description=group.description or "",
        )
        stored_set.sources.set([sources[g] for g in group.member_source_guids if g in sources])
        stored_set.codes.set([codes[g] for g in group.member_code_guids if g in codes])
        summary.sets += 1
    progress.advance()
    summary.not_kept = _not_kept(project, skipped_links)
    audit.record(
        "voices.import-qdpx",
        study=study,
        object_type="voices.project",
        object_repr=_fit(project.name or label, 200),
        changes={"file": label, "origin": project.origin or "", "summary": summary.describe()},
    )
    progress.finish()
    return summary


def _restore_created(model: Any, rows: list[tuple[Any, dt.datetime]]) -> None:
    """Give imported rows the creation times their file states (``auto_now_add`` set now)."""
    if not rows:
        return
    for row, when in rows:
        row.created_at = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    model.objects.bulk_update([row for row, _ in rows], ["created_at"], batch_size=2000)


def import_qdpx(
    study: Study,
    data: bytes | str | os.PathLike[str],
    *,
    site: Site,
    label: str | None = None,
    participants: QuerySet[Participant] | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Read a ``.qdpx`` file (bytes or a path) and store it (see :func:`import_project`).

    Raises :class:`~steppingstones.voices.refiqda.RefiQdaError` for a file that cannot be read
    (hostile archive, entity declarations, broken XML: the message names the file, entry
    and line) and :class:`ExchangeError` for one that cannot be stored here.
    """
    if label is None:
        label = os.path.basename(os.fspath(data)) if not isinstance(data, bytes) else "project.qdpx"
    project = rq.read_qdpx(data, label=label)
    return import_project(
        study, project, site=site, label=label, participants=participants, progress=progress
    )

"""The bridge between stored qualitative data and the plain analysis modules.

``retrieval``, ``framework`` and ``agreement`` take and return plain values; this module loads
what one user may see from the database into those values and writes the results that are kept
(framework summaries, reconciliation decisions and the consensus coding) back.

What a user may see
-------------------
Only sources with status "ready" (de-identified) are analysed; a site-limited member sees only the
sources, cases and rounds of their sites. Cohort attributes (recruitment route, parity, current
circumstances, staff role) come from the cohort record and are given only to members who may list
participants; case variables come from the voices cases of a source or of its participant.

Blind coding
------------
While an agreement round is in status "coding", the codings its coders made in its sources are
left out of every analysis here (``Corpus.hidden`` counts them), so nobody, a coder included, can
read another coder's work through retrieval, counts or the framework matrix. The round's own pages
show only how many codings each coder has made until a study manager or researcher moves it to
"comparing".
"""

from __future__ import annotations

import io
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from html import escape
from typing import IO, Any, Literal

from django.db import transaction
from django.db.models import Q, QuerySet

from steppingstones.cohort.models import Circumstance, StaffMember, Wave, Woman
from steppingstones.core.exports import spreadsheet_safe
from steppingstones.core.models import Participant
from steppingstones.core.policy import Access, Role
from steppingstones.voices import access as access_policy
from steppingstones.voices import agreement as agreement_module
from steppingstones.voices import framework as framework_module
from steppingstones.voices.agreement import CodeAgreement, Coding, Disagreement, Resolution
from steppingstones.voices.framework import FrameworkMatrix, PassageRef
from steppingstones.voices.models import (
    AgreementResolution,
    AgreementRound,
    Case,
    Code,
    Framework,
    FrameworkCell,
    FrameworkTheme,
    Source,
)
from steppingstones.voices.models import Coding as StoredCoding
from steppingstones.voices.retrieval import UNKNOWN, DocumentInfo, PassageFilter, SpeakerTurn

ALL_WAVES = "All waves"
UNSPECIFIED_ROLE = "unspecified"
# Roles that may set up agreement rounds and move them between coding, comparing and closed.
ROUND_MANAGERS = frozenset({Role.STUDY_MANAGER, Role.RESEARCHER})
# Roles whose members can code, and so can be coders in an agreement round.
CODER_ROLES = frozenset(
    {Role.STUDY_MANAGER, Role.RESEARCHER, Role.SITE_RESEARCHER, Role.PEER_RESEARCHER}
)
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --------------------------------------------------------------------------- sources and codes


@dataclass(frozen=True, slots=True)
class SourceRow:
    """What pages show of a source: never more than its name, place, time and pseudonym."""

    id: int
    name: str
    kind: str
    site: str
    wave: str | None
    participant: str | None
    participant_id: int | None


@dataclass
class Corpus:
    """The ready sources one member may see, as retrieval's plain values."""

    documents: dict[str, DocumentInfo]
    texts: dict[str, str]
    sources: dict[str, SourceRow]
    codings: list[Coding]
    query_names: dict[str, str]  # name a query may use -> code id
    code_labels: dict[str, str]  # code id -> label (its path in the codebook when needed)
    code_order: list[str]  # code ids in codebook order
    wave_order: list[str]
    site_order: list[str]
    hidden: int = 0  # codings left out while their agreement round is blind

    def label(self, code_id: str) -> str:
        return self.code_labels.get(code_id, code_id)

    def code_sort_key(self, code_id: str) -> tuple[int, str]:
        order = {code: i for i, code in enumerate(self.code_order)}
        return (order.get(code_id, len(order)), self.label(code_id))

    def attribute_values(self) -> dict[str, list[str]]:
        values: dict[str, set[str]] = defaultdict(set)
        for info in self.documents.values():
            for name, value in info.attributes.items():
                values[name].add(value)
        return {name: sorted(values[name]) for name in sorted(values)}

    def speaker_roles(self) -> list[str]:
        return sorted({t.role for info in self.documents.values() for t in info.turns})

    def coders(self) -> list[str]:
        return sorted({c.coder for c in self.codings})

    def narrowed(self, filters: PassageFilter) -> Corpus:
        """Only the documents the filters admit (site, wave, participant, attributes) and, with
        ``filters.coders``, only those coders' codings."""
        keep = {doc for doc, info in self.documents.items() if filters.admits(info)}
        codings = [
            c
            for c in self.codings
            if c.document_id in keep and (filters.coders is None or c.coder in filters.coders)
        ]
        return replace(
            self,
            documents={d: i for d, i in self.documents.items() if d in keep},
            texts={d: t for d, t in self.texts.items() if d in keep},
            sources={d: s for d, s in self.sources.items() if d in keep},
            codings=codings,
        )


def visible_sources(access: Access) -> QuerySet[Source]:
    """Ready (de-identified) sources of the study, limited to the member's sites."""
    return access_policy.visible_sources(access, analysable=True)


def wave_labels(study_waves: Iterable[Wave]) -> dict[int, str]:
    """Wave pk -> the label analyses use: its name, or "Wave n: name" where names repeat."""
    waves = list(study_waves)
    counts: dict[str, int] = defaultdict(int)
    for wave in waves:
        counts[wave.name] += 1
    return {w.pk: w.name if counts[w.name] == 1 else str(w) for w in waves}


def code_labels(codes: Sequence[Code]) -> tuple[dict[str, str], dict[str, str]]:
    """(code id -> label, query name -> code id). A code's label is its name when that is unique
    in the codebook, else its path ("Parent/Child"); queries accept both."""
    by_id = {code.pk: code for code in codes}

    def path(code: Code) -> str:
        parts, seen = [code.name], {code.pk}
        parent = by_id.get(code.parent_id) if code.parent_id else None
        while parent is not None and parent.pk not in seen:
            parts.append(parent.name)
            seen.add(parent.pk)
            parent = by_id.get(parent.parent_id) if parent.parent_id else None
        return "/".join(reversed(parts))

    counts: dict[str, int] = defaultdict(int)
    for code in codes:
        counts[code.name] += 1
    labels: dict[str, str] = {}
    names: dict[str, str] = {}
    for code in codes:
        key = str(code.pk)
        full = path(code)
        labels[key] = code.name if counts[code.name] == 1 else full
        names[full] = key
        if counts[code.name] == 1:
            names[code.name] = key
    return labels, names


def codebook_order(codes: Sequence[Code]) -> list[str]:
    """Code ids depth-first through the tree, siblings by position and name."""
    children: dict[int | None, list[Code]] = defaultdict(list)
    ids = {code.pk for code in codes}
    for code in codes:
        children[code.parent_id if code.parent_id in ids else None].append(code)
    order: list[str] = []

    def walk(parent: int | None) -> None:
        for code in sorted(children.get(parent, ()), key=lambda c: (c.position, c.name, c.pk)):
            order.append(str(code.pk))
            walk(code.pk)

    walk(None)
    return order


def blind_filter(study_id: int) -> Q | None:
    """A filter matching the codings hidden by rounds still in blind coding, or None."""
    condition: Q | None = None
    rounds = AgreementRound.objects.filter(
        study_id=study_id, status=AgreementRound.Status.CODING
    ).prefetch_related("coders", "sources")
    for found in rounds:
        source_ids = [s.pk for s in found.sources.all()]
        coders = list(found.coders.all())
        if not source_ids or not coders:
            continue
        here = Q(source_id__in=source_ids) & (
            Q(coder_name__in=[c.get_username() for c in coders])
            | Q(coder_id__in=[c.pk for c in coders])
        )
        condition = here if condition is None else condition | here
    return condition


def _turns(raw: Any) -> tuple[SpeakerTurn, ...]:
    turns = []
    for turn in raw if isinstance(raw, list) else []:
        if not isinstance(turn, dict):
            continue
        start = turn.get("start_char", turn.get("start"))
        end = turn.get("end_char", turn.get("end"))
        if not isinstance(start, int) or not isinstance(end, int) or end <= start:
            continue
        role = str(turn.get("role") or UNSPECIFIED_ROLE)
        turns.append(SpeakerTurn(start, end, role))
    return tuple(turns)


def _parity(value: int | None) -> str | None:
    if value is None:
        return None
    return "0" if value == 0 else "1" if value == 1 else "2 or more"


def _current(circumstances: Iterable[Circumstance], on: date) -> dict[str, str]:
    """Circumstance kind label -> the values current on a date ("; "-joined, sorted)."""
    values: dict[str, set[str]] = defaultdict(set)
    for item in circumstances:
        if item.starts_on is not None and item.starts_on > on:
            continue
        if item.ends_on is not None and item.ends_on < on:
            continue
        values[str(item.get_kind_display())].add(item.value)
    return {kind: "; ".join(sorted(found)) for kind, found in values.items()}


def _cohort_attributes(sources: Sequence[Source]) -> dict[int, dict[str, str]]:
    """Source pk -> attributes from the cohort record of its participant."""
    participant_ids = {s.participant_id for s in sources if s.participant_id}
    women = {
        w.participant_id: w
        for w in Woman.objects.filter(participant_id__in=participant_ids).prefetch_related(
            "circumstances"
        )
    }
    staff = {
        s.participant_id: s for s in StaffMember.objects.filter(participant_id__in=participant_ids)
    }
    result: dict[int, dict[str, str]] = {}
    for source in sources:
        attributes: dict[str, str] = {}
        woman = women.get(source.participant_id) if source.participant_id else None
        member = staff.get(source.participant_id) if source.participant_id else None
        if woman is not None:
            if woman.recruitment_route:
                attributes["Recruitment route"] = str(woman.get_recruitment_route_display())
            parity = _parity(woman.parity)
            if parity is not None:
                attributes["Parity"] = parity
            on = source.interview.date if source.interview else source.created_at.date()
            attributes.update(_current(woman.circumstances.all(), on))
        if member is not None:
            attributes["Staff role"] = str(member.get_role_display())
            if member.service:
                attributes["Service"] = member.service
        result[source.pk] = attributes
    return result


def _case_variables(study_id: int, sources: Sequence[Source]) -> dict[int, dict[str, str]]:
    """Source pk -> variables of the voices cases holding it or its participant."""
    source_ids = [s.pk for s in sources]
    by_participant: dict[int, list[dict[str, Any]]] = defaultdict(list)
    by_source: dict[int, list[dict[str, Any]]] = defaultdict(list)
    cases = Case.objects.filter(study_id=study_id).filter(
        Q(sources__in=source_ids) | Q(participant__isnull=False)
    )
    for case in cases.distinct().prefetch_related("sources"):
        variables = case.variables if isinstance(case.variables, dict) else {}
        if case.participant_id:
            by_participant[case.participant_id].append(variables)
        for source in case.sources.all():
            by_source[source.pk].append(variables)
    result: dict[int, dict[str, str]] = {}
    for source in sources:
        merged: dict[str, str] = {}
        found = by_participant.get(source.participant_id or 0, []) + by_source.get(source.pk, [])
        for variables in found:
            for name, value in variables.items():
                if value is not None and str(value) != "":
                    merged[str(name)] = str(value)
        result[source.pk] = merged
    return result


def load_corpus(access: Access, sources: QuerySet[Source] | None = None) -> Corpus:
    """The member's ready text sources as DocumentInfo, their text, and their codings."""
    study = access.study
    chosen = visible_sources(access) if sources is None else sources
    rows = list(
        chosen.select_related("site", "participant", "wave", "interview").order_by("name", "pk")
    )
    labels_of_waves = wave_labels(Wave.objects.filter(study=study))
    attributes = _cohort_attributes(rows) if access.can("participants") else {}
    # Case variables carry the same characteristics (parity, earlier removals): same rule.
    variables = _case_variables(study.pk, rows) if access.can("participants") else {}
    documents: dict[str, DocumentInfo] = {}
    texts: dict[str, str] = {}
    described: dict[str, SourceRow] = {}
    for source in rows:
        key = str(source.pk)
        wave = labels_of_waves.get(source.wave_id) if source.wave_id else None
        pseudonym = source.participant.pseudonym if source.participant else None
        merged = {"Source type": str(source.get_kind_display())}
        merged.update(attributes.get(source.pk, {}))
        merged.update(variables.get(source.pk, {}))
        documents[key] = DocumentInfo(
            document_id=key,
            site=source.site.code,
            wave=wave,
            participant=pseudonym,
            attributes=merged,
            length=len(source.text),
            turns=_turns(source.turns),
        )
        texts[key] = source.text
        described[key] = SourceRow(
            source.pk,
            source.name,
            str(source.get_kind_display()),
            source.site.code,
            wave,
            pseudonym,
            source.participant_id,
        )
    stored = StoredCoding.objects.filter(
        source_id__in=[s.pk for s in rows], start__isnull=False, end__isnull=False
    )
    hidden = 0
    blind = blind_filter(study.pk)
    if blind is not None:
        hidden = stored.filter(blind).count()
        stored = stored.exclude(blind)
    codings = []
    for source_id, code_id, coder, start, end in stored.values_list(
        "source_id", "code_id", "coder_name", "start", "end"
    ).order_by("source_id", "start", "pk"):
        if start is None or end is None:
            continue
        if start <= end <= len(texts[str(source_id)]):
            codings.append(Coding(str(source_id), str(code_id), coder, start, end))
    codes = list(Code.objects.filter(study=study))
    labels, names = code_labels(codes)
    used_sites = {info.site for info in documents.values() if info.site}
    return Corpus(
        documents=documents,
        texts=texts,
        sources=described,
        codings=codings,
        query_names=names,
        code_labels=labels,
        code_order=codebook_order(codes),
        wave_order=[
            labels_of_waves[w.pk]
            for w in Wave.objects.filter(study=study).order_by("number")
            if labels_of_waves[w.pk] in {i.wave for i in documents.values()}
        ],
        site_order=sorted(used_sites),
        hidden=hidden,
    )


def group_order(values: Iterable[str], known: Sequence[str]) -> list[str]:
    """Groups in their natural order (known ones first, as given), "(unknown)" last."""
    present = set(values)
    ordered = [value for value in known if value in present]
    ordered += sorted(present - set(ordered) - {UNKNOWN})
    if UNKNOWN in present:
        ordered.append(UNKNOWN)
    return ordered


# --------------------------------------------------------------------------- counts


Measure = Literal["references", "documents", "participants", "percent"]
MEASURES: dict[str, str] = {
    "references": "Coded references",
    "documents": "Documents coded",
    "participants": "Participants coded",
    "percent": "Share of the group's documents coded (%)",
}


def documents_per_group(corpus: Corpus, by: Literal["wave", "site"]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for info in corpus.documents.values():
        group = getattr(info, by)
        counts[group if group is not None else UNKNOWN] += 1
    return dict(counts)


def frequency_table(
    corpus: Corpus, by: Literal["wave", "site"], measure: Measure
) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    """(groups, [(code id, value per group)]) of one measure; codes in codebook order."""
    from steppingstones.voices.retrieval import frequencies

    found = frequencies(corpus.codings, corpus.documents, by=by)
    per_group = documents_per_group(corpus, by)
    known = corpus.wave_order if by == "wave" else corpus.site_order
    groups = group_order(list(per_group) + [g for row in found.values() for g in row], known)
    rows = []
    for code in sorted(found, key=corpus.code_sort_key):
        values: list[float | None] = []
        for group in groups:
            counts = found[code].get(group)
            if measure == "percent":
                total = per_group.get(group, 0)
                coded = counts.documents if counts else 0
                values.append(round(100.0 * coded / total, 1) if total else None)
            else:
                values.append(float(getattr(counts, measure)) if counts else 0.0)
        rows.append((code, values))
    return groups, rows


# --------------------------------------------------------------------------- charts


def _number(value: float | None) -> str:
    if value is None:
        return "no documents"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def small_multiples_svg(
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    measure: str,
    columns: int = 3,
) -> str:
    """One small line chart per code across the groups (waves), all on the same scale.

    The root has role="img" and a <title> naming every value, so a screen reader hears the data;
    pages show the same numbers as a table.
    """
    panel_w, panel_h, pad = 240, 150, 12
    plot_left, plot_right, plot_top, plot_bottom = 34, 10, 28, 34
    columns = max(1, min(columns, len(series) or 1))
    rows = math.ceil(len(series) / columns) if series else 1
    width, height = columns * (panel_w + pad) + pad, rows * (panel_h + pad) + pad
    largest = max((v for _, values in series for v in values if v is not None), default=0.0)
    top = largest if largest > 0 else 1.0
    summary = "; ".join(
        f"{name}: " + ", ".join(f"{g} {_number(v)}" for g, v in zip(groups, values, strict=True))
        for name, values in series
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart small-multiples" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="11">',
        f"<title>{escape(title)} ({escape(measure)}) — {escape(summary)}</title>",
    ]
    inner_w = panel_w - plot_left - plot_right
    inner_h = panel_h - plot_top - plot_bottom
    for index, (name, values) in enumerate(series):
        x0 = pad + (index % columns) * (panel_w + pad)
        y0 = pad + (index // columns) * (panel_h + pad)
        parts.append(
            f'<g transform="translate({x0},{y0})">'
            f'<rect x="0" y="0" width="{panel_w}" height="{panel_h}" fill="#ffffff" '
            f'stroke="#767676"/>'
            f'<text x="8" y="17" font-weight="bold" fill="#1a1a1a">{escape(name[:34])}</text>'
            f'<line x1="{plot_left}" y1="{plot_top + inner_h}" x2="{plot_left + inner_w}" '
            f'y2="{plot_top + inner_h}" stroke="#595959"/>'
            f'<line x1="{plot_left}" y1="{plot_top}" x2="{plot_left}" y2="{plot_top + inner_h}" '
            f'stroke="#595959"/>'
            f'<text x="{plot_left - 4}" y="{plot_top + 4}" text-anchor="end" '
            f'fill="#1a1a1a">{_number(top)}</text>'
            f'<text x="{plot_left - 4}" y="{plot_top + inner_h}" text-anchor="end" '
            f'fill="#1a1a1a">0</text>'
        )
        step = inner_w / (len(groups) - 1) if len(groups) > 1 else 0.0
        points: list[tuple[float, float]] = []
        for position, (group, value) in enumerate(zip(groups, values, strict=True)):
            x = plot_left + (position * step if len(groups) > 1 else inner_w / 2)
            parts.append(
                f'<text x="{x:.1f}" y="{plot_top + inner_h + 14}" text-anchor="middle" '
                f'fill="#1a1a1a">{escape(_short(group))}</text>'
            )
            if value is None:
                continue
            y = plot_top + inner_h - inner_h * value / top
            points.append((x, y))
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#005ea5"/>')
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="#005ea5" stroke-width="2"/>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, size: int = 10) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def heatmap_svg(labels: Sequence[str], values: Sequence[Sequence[int]], *, title: str) -> str:
    """A code x code matrix as shaded squares, each with its number (dark text on light squares,
    light text on dark ones, so the numbers keep a 4.5:1 contrast)."""
    size = len(labels)
    cell, left, top = 44, 190, 150
    width, height = left + size * cell + 10, top + size * cell + 10
    off_diagonal = [values[i][j] for i in range(size) for j in range(size) if i != j]
    largest = max(off_diagonal, default=0) or 1
    summary = "; ".join(
        f"{labels[i]} with {labels[j]}: {values[i][j]}"
        for i in range(size)
        for j in range(i + 1, size)
        if values[i][j]
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="11">',
        f"<title>{escape(title)} — {escape(summary or 'no codes overlap')}</title>",
    ]
    for i, label in enumerate(labels):
        y = top + i * cell + cell / 2
        parts.append(
            f'<text x="{left - 6}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle" '
            f'fill="#1a1a1a">{escape(_short(label, 28))}</text>'
        )
        x = left + i * cell + cell / 2
        parts.append(
            f'<text x="{x:.1f}" y="{top - 6}" transform="rotate(-45 {x:.1f} {top - 6})" '
            f'fill="#1a1a1a">{escape(_short(label, 22))}</text>'
        )
    for i in range(size):
        for j in range(size):
            value = values[i][j]
            x, y = left + j * cell, top + i * cell
            if i == j:
                fill, ink = "#e6e6e6", "#1a1a1a"
            else:
                share = value / largest
                fill = _blend(share)
                ink = "#ffffff" if share > 0.5 else "#1a1a1a"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" '
                f'stroke="#ffffff"/><text x="{x + cell / 2}" y="{y + cell / 2}" '
                f'text-anchor="middle" dominant-baseline="middle" fill="{ink}">{value}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _blend(share: float) -> str:
    """White to dark blue (#08306b) by share in [0, 1]."""
    low, high = (255, 255, 255), (8, 48, 107)
    mix = [round(a + (b - a) * max(0.0, min(1.0, share))) for a, b in zip(low, high, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in mix)


# --------------------------------------------------------------------------- spreadsheets


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return spreadsheet_safe(value)
    if isinstance(value, int | float):
        return value
    return spreadsheet_safe(_ILLEGAL_XML.sub("", str(value)))


def write_xlsx(
    handle: IO[bytes], sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence[Any]]]]
) -> None:
    """A workbook with one sheet per (header, rows): numbers stay numbers, text is formula-safe
    through ``core.exports.spreadsheet_safe``; the header row is bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    bold = Font(bold=True)
    taken: set[str] = set()
    for name, (header, rows) in sheets.items():
        title = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "Sheet"
        while title.casefold() in taken:
            title = title[:28] + f" {len(taken)}"
        taken.add(title.casefold())
        sheet = book.create_sheet(title)
        sheet.append([_xlsx_value(h) for h in header])
        for item in sheet[1]:
            item.font = bold
        sheet.freeze_panes = "A2"
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
    book.save(handle)


def xlsx_bytes(sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, sheets)
    return buffer.getvalue()


# --------------------------------------------------------------------------- framework matrix


@dataclass
class FrameworkData:
    """A framework charted for one member: the matrix and what links it back to the database."""

    framework: Framework
    matrix: FrameworkMatrix
    case_ids: dict[str, int]  # pseudonym -> participant pk
    case_sites: dict[str, str]
    theme_ids: dict[str, int]  # theme name -> theme pk
    wave_ids: dict[str, int | None]  # wave label -> wave pk (None: the single "All waves")
    corpus: Corpus
    coder: str | None = None
    theme_codes: dict[str, list[str]] = field(default_factory=dict)

    def wave_label(self, wave_id: int | None) -> str | None:
        for label, pk in self.wave_ids.items():
            if pk == wave_id:
                return label
        return None

    def passage_text(self, ref: PassageRef) -> str:
        return self.corpus.texts.get(ref.document_id, "")[ref.start : ref.end]

    def source(self, ref: PassageRef) -> SourceRow | None:
        return self.corpus.sources.get(ref.document_id)

    def labelled(self) -> FrameworkMatrix:
        """The matrix with passages named by source name (for exports)."""
        names: dict[str, str] = {}
        counts: dict[str, int] = defaultdict(int)
        for row in self.corpus.sources.values():
            counts[row.name] += 1
        for key, row in self.corpus.sources.items():
            names[key] = row.name if counts[row.name] == 1 else f"{row.name} (#{row.id})"
        cells = {
            key: replace(
                cell,
                passages=tuple(
                    PassageRef(names.get(p.document_id, p.document_id), p.start, p.end)
                    for p in cell.passages
                ),
            )
            for key, cell in self.matrix.cells.items()
        }
        return replace(self.matrix, cells=cells)


def theme_code_ids(theme: FrameworkTheme, children: Mapping[int, list[int]]) -> list[str]:
    """The theme's codes and every code beneath them in the codebook."""
    found: list[int] = []
    stack = [code.pk for code in theme.codes.all()]
    while stack:
        code = stack.pop()
        if code in found:
            continue
        found.append(code)
        stack.extend(children.get(code, ()))
    return [str(code) for code in sorted(found)]


def framework_participants(access: Access, framework: Framework) -> QuerySet[Participant]:
    people = Participant.objects.filter(study=access.study, kind=framework.case_kind)
    if access.site_ids is not None:
        people = people.filter(site_id__in=access.site_ids)
    return people.select_related("site")


def load_framework(access: Access, framework: Framework, coder: str | None = None) -> FrameworkData:
    """Chart a framework for one member: rows are the cases of their sites that have a ready
    source or a summary; passages come from the coded passages of the theme's codes."""
    corpus = load_corpus(access)
    people = {p.pk: p for p in framework_participants(access, framework)}
    stored = list(
        FrameworkCell.objects.filter(framework=framework, participant_id__in=people).select_related(
            "theme"
        )
    )
    with_sources = {row.participant_id for row in corpus.sources.values() if row.participant_id}
    rows = sorted(
        (
            p
            for pk, p in people.items()
            if pk in with_sources or any(c.participant_id == pk for c in stored)
        ),
        key=lambda p: p.pseudonym,
    )
    themes = list(framework.themes.prefetch_related("codes").order_by("position", "name", "pk"))
    children: dict[int, list[int]] = defaultdict(list)
    for code_id, parent_id in Code.objects.filter(study=access.study).values_list(
        "pk", "parent_id"
    ):
        if parent_id:
            children[parent_id].append(code_id)
    theme_codes = {theme.name: theme_code_ids(theme, children) for theme in themes}
    labels = wave_labels(Wave.objects.filter(study=access.study))
    if framework.by_wave:
        waves = list(Wave.objects.filter(study=access.study).order_by("number"))
        wave_ids: dict[str, int | None] = {labels[w.pk]: w.pk for w in waves}
    else:
        wave_ids = {ALL_WAVES: None}
    by_pk = {pk: label for label, pk in wave_ids.items()}
    documents: dict[str, tuple[str, str]] = {}
    for key, row in corpus.sources.items():
        person = people.get(row.participant_id) if row.participant_id else None
        if person is None:
            continue
        if framework.by_wave:
            if row.wave is None:
                continue
            documents[key] = (person.pseudonym, row.wave)
        else:
            documents[key] = (person.pseudonym, ALL_WAVES)
    summaries = {}
    for cell in stored:
        wave = by_pk.get(cell.wave_id)
        if wave is None or not cell.summary:
            continue
        summaries[people[cell.participant_id].pseudonym, cell.theme.name, wave] = cell.summary
    matrix = framework_module.build_matrix(
        [p.pseudonym for p in rows],
        theme_codes,
        list(wave_ids),
        summaries,
        corpus.codings,
        documents,
        coder=coder,
    )
    return FrameworkData(
        framework=framework,
        matrix=matrix,
        case_ids={p.pseudonym: p.pk for p in rows},
        case_sites={p.pseudonym: p.site.code for p in rows},
        theme_ids={theme.name: theme.pk for theme in themes},
        wave_ids=wave_ids,
        corpus=corpus,
        coder=coder,
        theme_codes=theme_codes,
    )


def save_summary(
    framework: Framework,
    participant: Participant,
    theme: FrameworkTheme,
    wave: Wave | None,
    summary: str,
    user: Any,
) -> FrameworkCell | None:
    """Store a cell's summary (an empty one removes the cell)."""
    summary = summary.strip()
    with transaction.atomic():
        existing = FrameworkCell.objects.filter(
            framework=framework, participant=participant, theme=theme, wave=wave
        ).first()
        if not summary:
            if existing is not None:
                existing.delete()
            return None
        if existing is None:
            existing = FrameworkCell(
                framework=framework, participant=participant, theme=theme, wave=wave
            )
        existing.summary = summary
        existing.updated_by = user
        existing.save()
        return existing


@dataclass(frozen=True, slots=True)
class ThemeInput:
    theme_id: int | None
    name: str
    code_ids: tuple[int, ...]


def save_framework(
    study_id: int,
    name: str,
    case_kind: str,
    by_wave: bool,
    themes: Sequence[ThemeInput],
    framework: Framework | None = None,
) -> Framework:
    """Create or change a framework and its themes, all or nothing. An existing theme left
    without a name is removed with its cells."""
    names = [t.name.strip() for t in themes if t.name.strip()]
    if len(set(names)) != len(names):
        raise ValueError("each theme needs its own name")
    if not names:
        raise ValueError("a framework needs at least one theme")
    codes = set(Code.objects.filter(study_id=study_id).values_list("pk", flat=True))
    with transaction.atomic():
        if framework is None:
            framework = Framework.objects.create(
                study_id=study_id, name=name, case_kind=case_kind, by_wave=by_wave
            )
        else:
            if framework.by_wave != by_wave or framework.case_kind != case_kind:
                framework.cells.all().delete()
            framework.name, framework.case_kind, framework.by_wave = name, case_kind, by_wave
            framework.save()
        existing = {t.pk: t for t in framework.themes.all()}
        position = 0
        for item in themes:
            current = existing.get(item.theme_id) if item.theme_id else None
            if not item.name.strip():
                if current is not None:
                    current.delete()
                continue
            if current is None:
                current = FrameworkTheme(framework=framework)
            current.name, current.position = item.name.strip(), position
            current.save()
            current.codes.set([c for c in item.code_ids if c in codes])
            position += 1
    return framework


# --------------------------------------------------------------------------- agreement rounds


def visible_rounds(access: Access) -> QuerySet[AgreementRound]:
    """Rounds of the study; a site-limited member sees only rounds wholly within their sites."""
    rounds = AgreementRound.objects.filter(study=access.study)
    if access.site_ids is not None:
        rounds = rounds.exclude(sources__in=Source.objects.exclude(site_id__in=access.site_ids))
    return rounds.distinct()


def round_coders(found: AgreementRound) -> tuple[str, ...]:
    return tuple(sorted(user.get_username() for user in found.coders.all()))


@dataclass
class RoundSample:
    """One round's reliability sample: the ready sources and the coders' codings in them."""

    round: AgreementRound
    coders: tuple[str, ...]
    codings: list[Coding]
    lengths: dict[str, int]
    texts: dict[str, str]
    sources: dict[str, SourceRow]
    codes: list[str]  # code ids compared
    code_labels: dict[str, str]

    def label(self, code_id: str) -> str:
        return self.code_labels.get(code_id, code_id)


def _round_codings(found: AgreementRound, coders: Sequence[str]) -> QuerySet[StoredCoding]:
    users = list(found.coders.all())
    stored = StoredCoding.objects.filter(
        source__in=found.sources.filter(status=Source.Status.READY),
        start__isnull=False,
        end__isnull=False,
    ).filter(Q(coder_name__in=coders) | Q(coder__in=users))
    chosen = list(found.codes.values_list("pk", flat=True))
    if chosen:
        stored = stored.filter(code_id__in=chosen)
    return stored.exclude(coder_name=found.consensus_coder_name)


def coder_counts(found: AgreementRound) -> dict[str, int]:
    """Codings each coder has made in the round (all a blind round shows)."""
    coders = round_coders(found)
    counts = dict.fromkeys(coders, 0)
    names = {user.pk: user.get_username() for user in found.coders.all()}
    for coder_id, coder_name in _round_codings(found, coders).values_list("coder_id", "coder_name"):
        name = names.get(coder_id, coder_name) if coder_id else coder_name
        if name in counts:
            counts[name] += 1
    return counts


def round_sample(found: AgreementRound) -> RoundSample:
    coders = round_coders(found)
    names = {user.pk: user.get_username() for user in found.coders.all()}
    sources = list(
        found.sources.filter(status=Source.Status.READY)
        .select_related("site", "wave", "participant")
        .order_by("name", "pk")
    )
    labels_of_waves = wave_labels(Wave.objects.filter(study_id=found.study_id))
    texts = {str(s.pk): s.text for s in sources}
    rows = {
        str(s.pk): SourceRow(
            s.pk,
            s.name,
            str(s.get_kind_display()),
            s.site.code,
            labels_of_waves.get(s.wave_id) if s.wave_id else None,
            s.participant.pseudonym if s.participant else None,
            s.participant_id,
        )
        for s in sources
    }
    codings = []
    for source_id, code_id, coder_id, coder_name, start, end in _round_codings(
        found, coders
    ).values_list("source_id", "code_id", "coder_id", "coder_name", "start", "end"):
        name = names.get(coder_id, coder_name) if coder_id else coder_name
        text = texts.get(str(source_id))
        if start is None or end is None or text is None:
            continue
        if name in coders and start <= end <= len(text):
            codings.append(Coding(str(source_id), str(code_id), name, start, end))
    all_codes = list(Code.objects.filter(study_id=found.study_id))
    labels, _ = code_labels(all_codes)
    order = codebook_order(all_codes)
    chosen = [str(pk) for pk in found.codes.values_list("pk", flat=True)]
    used = chosen or sorted({c.code_id for c in codings})
    rank = {code: i for i, code in enumerate(order)}
    return RoundSample(
        round=found,
        coders=coders,
        codings=codings,
        lengths={key: len(text) for key, text in texts.items()},
        texts=texts,
        sources=rows,
        codes=sorted(used, key=lambda c: (rank.get(c, len(rank)), c)),
        code_labels=labels,
    )


def round_results(
    sample: RoundSample, method: agreement_module.Method = "character"
) -> list[CodeAgreement]:
    """Per-code agreement on character units (with unitized alpha) or on coded segments."""
    if len(sample.coders) < 2:
        return []
    if method == "segment":
        results = agreement_module.segment_agreement(sample.codings, sample.coders, sample.codes)
    else:
        results = agreement_module.per_code_agreement(
            sample.codings, sample.lengths, sample.coders, sample.codes
        )
    rank = {code: i for i, code in enumerate(sample.codes)}
    return sorted(results, key=lambda r: rank.get(r.code_id, len(rank)))


def stored_resolutions(found: AgreementRound) -> list[Resolution]:
    """The round's recorded decisions, oldest first (later ones override earlier ones)."""
    return [
        Resolution(
            str(r.source_id),
            str(r.code_id),
            r.start,
            r.end,
            r.apply,
            r.decided_by.get_username() if r.decided_by else "",
            r.note,
        )
        for r in found.resolutions.select_related("decided_by").order_by("decided_at", "pk")
    ]


@dataclass(frozen=True, slots=True)
class DisagreementRow:
    disagreement: Disagreement
    resolution: AgreementResolution | None

    @property
    def key(self) -> str:
        d = self.disagreement
        return f"{d.document_id}:{d.code_id}:{d.start}:{d.end}"


def disagreement_rows(sample: RoundSample, a: str, b: str) -> list[DisagreementRow]:
    """Each range one coder coded and the other did not, with the latest decision covering it."""
    found = agreement_module.disagreements(sample.codings, a, b, texts=sample.texts)
    decisions = list(
        sample.round.resolutions.select_related("decided_by").order_by("decided_at", "pk")
    )
    rows = []
    for item in found:
        covering = None
        for decision in decisions:
            if (
                str(decision.source_id) == item.document_id
                and str(decision.code_id) == item.code_id
                and decision.start <= item.start
                and item.end <= decision.end
            ):
                covering = decision
        rows.append(DisagreementRow(item, covering))
    return rows


@dataclass(frozen=True, slots=True)
class Decision:
    source_id: int
    code_id: int
    start: int
    end: int
    apply: bool
    note: str = ""


def record_decisions(
    found: AgreementRound, decisions: Sequence[Decision], user: Any, a: str, b: str
) -> agreement_module.Reconciliation:
    """Record reconciliation decisions and rewrite the consensus coding, all or nothing.

    The consensus coding (coder name ``round.consensus_coder_name``) of the round's sources is
    replaced by ``agreement.reconcile`` of coders ``a`` and ``b`` under every recorded decision.
    """
    if found.status != AgreementRound.Status.COMPARING:
        raise ValueError("decisions are recorded only while the round is comparing")
    sample = round_sample(found)
    if a not in sample.coders or b not in sample.coders or a == b:
        raise ValueError("choose two different coders of this round")
    codes = set(sample.codes)
    for decision in decisions:
        text = sample.texts.get(str(decision.source_id))
        if text is None or str(decision.code_id) not in codes:
            raise ValueError("a decision names a source or code outside this round")
        if not 0 <= decision.start < decision.end <= len(text):
            raise ValueError("a decision's range lies outside its source")
    with transaction.atomic():
        for decision in decisions:
            AgreementResolution.objects.create(
                round=found,
                source_id=decision.source_id,
                code_id=decision.code_id,
                start=decision.start,
                end=decision.end,
                apply=decision.apply,
                decided_by=user,
                note=decision.note.strip(),
            )
        return write_consensus(found, sample, a, b)


def write_consensus(
    found: AgreementRound, sample: RoundSample, a: str, b: str
) -> agreement_module.Reconciliation:
    """Replace the round's consensus codings with the reconciliation of ``a`` and ``b``."""
    result = agreement_module.reconcile(
        sample.codings, a, b, stored_resolutions(found), found.consensus_coder_name
    )
    source_ids = [int(key) for key in sample.texts]
    code_ids = [int(code) for code in sample.codes]
    with transaction.atomic():
        StoredCoding.objects.filter(
            source_id__in=source_ids,
            code_id__in=code_ids,
            coder_name=found.consensus_coder_name,
        ).delete()
        StoredCoding.objects.bulk_create(
            StoredCoding(
                source_id=int(c.document_id),
                code_id=int(c.code_id),
                coder=None,
                coder_name=found.consensus_coder_name,
                start=c.start,
                end=c.end,
            )
            for c in result.codings
            if int(c.code_id) in code_ids
        )
    return result

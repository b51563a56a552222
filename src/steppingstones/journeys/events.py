"""Storing journey events: one at a time (a form or a coded passage), many at once (a CSV
file, all or nothing), the study's catalogue, and a woman's journey as plain data for the maps.

The checks themselves are :mod:`.timeline`'s; this module gathers what they need from the
database (her due date and birth date, her infants, the catalogue) and stores what passes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from steppingstones.cohort.models import Infant, Interview, Pregnancy, Woman
from steppingstones.core.models import Participant, Study
from steppingstones.journeys.catalogue import seed_catalogue
from steppingstones.journeys.mapsvg import Journey, MapEvent, WaveMark
from steppingstones.journeys.models import EventType, JourneyEvent, Service
from steppingstones.journeys.timeline import (
    CheckContext,
    EventCheck,
    PregnancyDates,
    Problem,
    position_label,
    read_when,
    timeline_days,
    validate,
)

CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("pseudonym", "The woman's pseudonym, e.g. EL-W03 (required)."),
    ("infant", "The infant's pseudonym, e.g. EL-W03-I1, for an event about the baby."),
    ("event_type", "A code from the study's catalogue, e.g. booking (required)."),
    (
        "date",
        "YYYY-MM-DD; a range 'YYYY-MM-DD to YYYY-MM-DD'; or as she put it, e.g. 'about 20 "
        "weeks', 'week 32', 'around 3 months old' (required).",
    ),
    ("ends_on", "For periods (treatment, placement, residential stay): YYYY-MM-DD it ended."),
    ("service", "A service code; blank takes the event type's own."),
    ("role", "The professional's role, e.g. specialist midwife."),
    ("certainty", "certain, probable or uncertain (blank: certain)."),
    ("source", "interview, timeline, record, diary or other (blank: interview)."),
    ("wave", "The interview wave number it was told in."),
    ("experience", "helpful, unhelpful, stigmatising, mixed, neutral or distressing."),
    ("quote", "Her words about it, from the de-identified transcript."),
    ("note", "A researcher's note."),
)
REQUIRED_COLUMNS = ("pseudonym", "event_type", "date")
_ALIASES = {
    "woman": "pseudonym",
    "case": "pseudonym",
    "case_id": "pseudonym",
    "type": "event_type",
    "event_type_code": "event_type",
    "event": "event_type",
    "when": "date",
    "end": "ends_on",
    "ended": "ends_on",
    "professional_role": "role",
    "source_kind": "source",
}
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000


class ImportRefused(ValueError):
    """An import that cannot be stored; ``problems`` names each fault with its row."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


# --- what the checks need ------------------------------------------------------------------


def pregnancy_dates(woman: Woman) -> PregnancyDates:
    pregnancy = Pregnancy.objects.filter(woman=woman).first()
    return PregnancyDates(woman.edd, pregnancy.birth_date if pregnancy else None)


def _women_of(participants: QuerySet[Participant]) -> dict[str, Woman]:
    return {
        woman.participant.pseudonym: woman
        for woman in Woman.objects.filter(participant__in=participants).select_related(
            "participant", "pregnancy"
        )
    }


def _dates_of(woman: Woman) -> PregnancyDates:
    pregnancy = getattr(woman, "pregnancy", None)
    return PregnancyDates(woman.edd, pregnancy.birth_date if pregnancy else None)


def _infants_of(women: Iterable[Woman]) -> dict[str, dict[str, Infant]]:
    found: dict[str, dict[str, Infant]] = {}
    for infant in Infant.objects.filter(pregnancy__woman__in=list(women)).select_related(
        "pregnancy__woman__participant"
    ):
        found.setdefault(infant.pregnancy.woman.participant.pseudonym, {})[infant.pseudonym] = (
            infant
        )
    return found


def _stored_checks(
    participants: Iterable[Participant], skip: int | None = None
) -> list[EventCheck]:
    events = JourneyEvent.objects.filter(participant__in=list(participants)).select_related(
        "event_type", "infant", "participant"
    )
    if skip is not None:
        events = events.exclude(pk=skip)
    return [
        EventCheck(
            row=None,
            case=event.participant.pseudonym,
            type_code=event.event_type.code,
            on=event.date,
            latest=event.date_latest,
            ends_on=event.ends_on,
            infant=event.infant.pseudonym if event.infant else "",
        )
        for event in events
    ]


def active_types(study: Study) -> QuerySet[EventType]:
    seed_catalogue(study)
    return EventType.objects.filter(study=study, is_active=True)


# --- one event -----------------------------------------------------------------------------


@dataclass
class EventData:
    """An event as a form or a coded passage gives it."""

    event_type: EventType
    when: str  # the date cell: ISO date, range or approximate text
    infant: Infant | None = None
    ends_on: date | None = None
    service: str = ""
    professional_role: str = ""
    certainty: str = JourneyEvent.Certainty.CERTAIN
    source_kind: str = JourneyEvent.SourceKind.INTERVIEW
    interview: Interview | None = None
    experience: str = ""
    quote: str = ""
    note: str = ""
    coding_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_event(
    woman: Woman, data: EventData, today: date, editing: int | None = None
) -> list[Problem]:
    """The faults of one event against her record and her other events (none: it can be
    stored). ``editing`` is the id of the event being changed, left out of the comparison."""
    dates = _dates_of(woman)
    try:
        when = read_when(data.when, dates)
    except ValueError as error:
        return [Problem(None, str(error)[:1].upper() + str(error)[1:])]
    infants = {i.pseudonym for i in Infant.objects.filter(pregnancy__woman=woman)}
    check = EventCheck(
        row=0,
        case=woman.participant.pseudonym,
        type_code=data.event_type.code,
        on=when.on,
        latest=when.latest,
        ends_on=data.ends_on,
        infant=data.infant.pseudonym if data.infant else "",
    )
    context = CheckContext(
        cases={woman.participant.pseudonym: dates},
        type_codes=frozenset([data.event_type.code]),
        today=today,
        infants={woman.participant.pseudonym: frozenset(infants)},
    )
    problems = validate([check, *_stored_checks([woman.participant], skip=editing)], context)
    return [Problem(None, p.message[:1].upper() + p.message[1:]) for p in problems if p.row == 0]


def save_event(
    woman: Woman,
    data: EventData,
    *,
    user: Any = None,
    instance: JourneyEvent | None = None,
) -> JourneyEvent:
    """Store (or change) one event that :func:`check_event` passed."""
    dates = _dates_of(woman)
    when = read_when(data.when, dates)
    event = instance or JourneyEvent(
        study_id=woman.participant.study_id, participant=woman.participant, created_by=user
    )
    event.infant = data.infant
    event.event_type = data.event_type
    event.service = data.service or data.event_type.service
    event.professional_role = data.professional_role
    event.precision = when.precision
    event.date = when.on
    event.date_latest = when.latest
    event.approximate_text = when.approximate_text
    event.ends_on = data.ends_on
    event.timeline_days = timeline_days(when.on, dates)
    event.certainty = data.certainty or JourneyEvent.Certainty.CERTAIN
    event.source_kind = data.source_kind or JourneyEvent.SourceKind.INTERVIEW
    event.interview = data.interview
    event.experience = data.experience
    event.quote = data.quote
    event.note = data.note
    if data.coding_id is not None:
        event.coding_id = data.coding_id
    event.save()
    return event


def when_text(event: JourneyEvent) -> str:
    """The date cell that gives ``event`` back: the approximate text, the range or the date."""
    if event.precision == JourneyEvent.DatePrecision.APPROXIMATE and event.approximate_text:
        return event.approximate_text
    if event.precision == JourneyEvent.DatePrecision.RANGE and event.date_latest:
        return f"{event.date.isoformat()} to {event.date_latest.isoformat()}"
    return event.date.isoformat()


def refresh_positions(woman: Woman) -> int:
    """Recompute her events' timeline positions (after her birth date is recorded or changed);
    returns how many changed."""
    dates = _dates_of(woman)
    changed = []
    for event in JourneyEvent.objects.filter(participant=woman.participant):
        day = timeline_days(event.date, dates)
        if event.timeline_days != day:
            event.timeline_days = day
            changed.append(event)
    JourneyEvent.objects.bulk_update(changed, ["timeline_days"])
    return len(changed)


# --- a coded passage -----------------------------------------------------------------------


def passages_of(woman: Woman, user: Any) -> QuerySet[Any]:
    """The coded text passages on her de-identified ("ready") sources that ``user`` may see:
    while ``user`` codes a source blind in an agreement round, only their own codings of it."""
    from steppingstones.voices.coding_service import visible_codings_in
    from steppingstones.voices.models import Source

    sources = Source.objects.filter(
        participant=woman.participant, status=Source.Status.READY, media=Source.Media.TEXT
    )
    return (
        visible_codings_in(sources, user)
        .filter(start__isnull=False, end__isnull=False)
        .select_related("source__wave", "source__interview", "code")
        .order_by("source__name", "start", "pk")
    )


def passage_text(coding: Any) -> str:
    return str(coding.source.text[coding.start : coding.end]).strip()


_SOURCE_KINDS = {
    "interview": JourneyEvent.SourceKind.INTERVIEW,
    "timeline": JourneyEvent.SourceKind.TIMELINE,
    "diary-audio": JourneyEvent.SourceKind.DIARY,
    "diary-video": JourneyEvent.SourceKind.DIARY,
    "diary-text": JourneyEvent.SourceKind.DIARY,
}


def from_passage(woman: Woman, coding: Any, data: EventData) -> EventData:
    """``data`` completed from a coded passage: its text as the quote, and the interview and
    kind of source it came from."""
    source = coding.source
    interview = source.interview
    if interview is None and source.wave_id is not None:
        interview = Interview.objects.filter(woman=woman, wave_id=source.wave_id).first()
    data.quote = passage_text(coding)
    data.interview = interview
    data.source_kind = _SOURCE_KINDS.get(source.kind, JourneyEvent.SourceKind.OTHER)
    data.coding_id = coding.pk
    return data


# --- many events: a CSV file ---------------------------------------------------------------


@dataclass(frozen=True)
class PlannedEvent:
    row: int
    pseudonym: str
    infant: str
    type_code: str
    type_name: str
    when: str
    position: str
    service: str
    experience: str


@dataclass
class ImportPlan:
    events: list[JourneyEvent]
    preview: list[PlannedEvent]
    problems: list[Problem]

    @property
    def women(self) -> int:
        return len({event.pseudonym for event in self.preview})

    @property
    def summary(self) -> str:
        count = len(self.events)
        return f"{count} event{'s' if count != 1 else ''} for {self.women} wom" + (
            "an" if self.women == 1 else "en"
        )


def _header(name: str) -> str:
    key = name.strip().lower().lstrip("\ufeff").replace(" ", "_").replace("-", "_")
    return _ALIASES.get(key, key)


def _choice(value: str, choices: Iterable[str], what: str, row: int) -> tuple[str, Problem | None]:
    cleaned = value.strip().lower()
    allowed = list(choices)
    if cleaned in allowed:
        return cleaned, None
    return "", Problem(
        row, f"{what} {value!r} is not one of: {', '.join(a for a in allowed if a)}."
    )


def plan_import(
    study: Study, text: str, participants: QuerySet[Participant], today: date, user: Any = None
) -> ImportPlan:
    """Read an events CSV and check every row against her record, the catalogue and her stored
    events. Nothing is stored: :func:`apply_import` stores a plan without problems."""
    problems: list[Problem] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None:
        return ImportPlan([], [], [Problem(None, "The file is empty.")])
    headers = {_header(name): name for name in reader.fieldnames if name}
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    known = {name for name, _ in CSV_COLUMNS}
    unknown = sorted(original for key, original in headers.items() if key not in known)
    if missing:
        problems.append(Problem(None, f"The file has no {', '.join(missing)} column."))
    if unknown:
        problems.append(Problem(None, f"Unknown column(s): {', '.join(unknown)}."))
    if problems:
        return ImportPlan([], [], problems)
    seed_catalogue(study)
    types = {t.code: t for t in EventType.objects.filter(study=study)}
    inactive = {code for code, t in types.items() if not t.is_active}
    women = _women_of(participants)
    infants = _infants_of(women.values())
    waves = {
        (i.woman.participant.pseudonym, i.wave.number): i
        for i in Interview.objects.filter(woman__in=list(women.values())).select_related(
            "wave", "woman__participant"
        )
    }
    checks: list[EventCheck] = []
    events: list[JourneyEvent] = []
    preview: list[PlannedEvent] = []
    touched: set[str] = set()
    unreadable: set[int] = set()
    for number, raw in enumerate(reader, start=1):
        if number > MAX_IMPORT_ROWS:
            problems.append(Problem(number, f"a file may hold at most {MAX_IMPORT_ROWS} rows."))
            break
        cell = {_header(k): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(cell.values()):
            continue
        pseudonym = cell.get("pseudonym", "")
        woman = women.get(pseudonym)
        code = cell.get("event_type", "").lower()
        kind = types.get(code)
        dates = _dates_of(woman) if woman is not None else None
        on: date | None = None
        when = None
        if cell.get("date"):
            try:
                when = read_when(cell["date"], dates)
                on = when.on
            except ValueError as error:
                problems.append(Problem(number, str(error)))
        ends_on = None
        if cell.get("ends_on"):
            try:
                ends_on = date.fromisoformat(cell["ends_on"])
            except ValueError:
                problems.append(Problem(number, f"ends_on {cell['ends_on']!r} is not YYYY-MM-DD."))
        if code in inactive:
            problems.append(Problem(number, f"the event type {code!r} is switched off."))
        infant_code = cell.get("infant", "")
        checks.append(
            EventCheck(
                row=number,
                case=pseudonym,
                type_code=code,
                on=on,
                latest=when.latest if when else None,
                ends_on=ends_on,
                infant=infant_code,
            )
        )
        if cell.get("date") and when is None:
            unreadable.add(number)  # reported above; validate would call it missing
        service = cell.get("service", "").lower()
        if service and service not in Service.values:
            problems.append(
                Problem(number, f"service {service!r} is not one of: {', '.join(Service.values)}.")
            )
        certainty, fault = _choice(
            cell.get("certainty") or "certain", JourneyEvent.Certainty.values, "certainty", number
        )
        if fault:
            problems.append(fault)
        source, fault = _choice(
            cell.get("source") or "interview", JourneyEvent.SourceKind.values, "source", number
        )
        if fault:
            problems.append(fault)
        experience, fault = _choice(
            cell.get("experience", ""), JourneyEvent.Experience.values, "experience", number
        )
        if fault:
            problems.append(fault)
        interview = None
        if cell.get("wave"):
            if not cell["wave"].isdigit():
                problems.append(Problem(number, f"wave {cell['wave']!r} is not a number."))
            else:
                interview = waves.get((pseudonym, int(cell["wave"])))
                if interview is None and woman is not None:
                    problems.append(
                        Problem(number, f"{pseudonym} has no interview in wave {cell['wave']}.")
                    )
        if woman is None or kind is None or when is None or dates is None:
            continue
        touched.add(pseudonym)
        infant = infants.get(pseudonym, {}).get(infant_code) if infant_code else None
        if infant is None and not infant_code and kind.subject == EventType.Subject.INFANT:
            hers = list(infants.get(pseudonym, {}).values())
            infant = hers[0] if len(hers) == 1 else None
        events.append(
            JourneyEvent(
                study=study,
                participant=woman.participant,
                infant=infant,
                event_type=kind,
                service=service or kind.service,
                professional_role=cell.get("role", "")[:120],
                precision=when.precision,
                date=when.on,
                date_latest=when.latest,
                approximate_text=when.approximate_text[:100],
                ends_on=ends_on,
                timeline_days=timeline_days(when.on, dates),
                certainty=certainty or JourneyEvent.Certainty.CERTAIN,
                source_kind=source or JourneyEvent.SourceKind.INTERVIEW,
                interview=interview,
                experience=experience,
                quote=cell.get("quote", ""),
                note=cell.get("note", ""),
                created_by=user,
            )
        )
        preview.append(
            PlannedEvent(
                number,
                pseudonym,
                infant.pseudonym if infant else "",
                code,
                kind.name,
                cell["date"],
                position_label(when.on, dates),
                service or kind.service,
                experience,
            )
        )
    if not checks and not problems:
        problems.append(Problem(None, "The file has no events."))
    context = CheckContext(
        cases={p: _dates_of(w) for p, w in women.items()},
        type_codes=frozenset(types),
        today=today,
        infants={p: frozenset(found) for p, found in infants.items()},
    )
    stored = _stored_checks([women[p].participant for p in touched])
    problems.extend(
        p
        for p in validate([*checks, *stored], context)
        if p.row is not None and not (p.row in unreadable and p.message == "no date is given.")
    )
    problems.sort(key=lambda p: p.row if p.row is not None else 0)
    return ImportPlan(events if not problems else [], preview, problems)


@transaction.atomic
def apply_import(plan: ImportPlan) -> int:
    """Store every event of a clean plan, or none (a plan with problems is refused)."""
    if plan.problems:
        raise ImportRefused(plan.problems)
    JourneyEvent.objects.bulk_create(plan.events, batch_size=500)
    return len(plan.events)


def template_csv() -> list[list[str]]:
    """The header and two example rows of an events file."""
    return [
        [name for name, _ in CSV_COLUMNS],
        [
            "EL-W01",
            "",
            "booking",
            "about 12 weeks",
            "",
            "",
            "community midwife",
            "probable",
            "interview",
            "1",
            "helpful",
            "She just asked what would help.",
            "",
        ],
        [
            "EL-W01",
            "EL-W01-I1",
            "neonatal-unit",
            "2024-06-25",
            "2024-07-09",
            "",
            "neonatal nurse",
            "certain",
            "record",
            "",
            "",
            "",
            "",
        ],
    ]


# --- the journey as plain data for the maps ------------------------------------------------


def _source_label(event: JourneyEvent) -> str:
    label = event.get_source_kind_display()
    if event.interview is not None:
        label += f", wave {event.interview.wave.number} ({event.interview.date.isoformat()})"
    return label


def _map_event(
    event: JourneyEvent, dates: PregnancyDates, *, passage_quotes_only: bool = False
) -> MapEvent:
    from steppingstones.journeys.timeline import parse_approximate

    day = timeline_days(event.date, dates)
    low = high = None
    if event.precision == JourneyEvent.DatePrecision.RANGE and event.date_latest:
        low, high = day, timeline_days(event.date_latest, dates)
        day = (low + high) // 2
    elif event.precision == JourneyEvent.DatePrecision.APPROXIMATE:
        try:
            approx = parse_approximate(event.approximate_text, dates)
            low, high = timeline_days(approx.earliest, dates), timeline_days(approx.latest, dates)
        except ValueError:
            low, high = day - 7, day + 7
        low, high = min(low, day), max(high, day)
    when = position_label(event.date, dates)
    if event.precision == JourneyEvent.DatePrecision.APPROXIMATE and event.approximate_text:
        when = f"{when} (she said “{event.approximate_text}”)"
    elif event.precision == JourneyEvent.DatePrecision.RANGE and event.date_latest:
        when = f"{when} to {position_label(event.date_latest, dates)}"
    date_text = event.date.isoformat()
    if event.date_latest:
        date_text += f" to {event.date_latest.isoformat()}"
    kind = event.event_type
    return MapEvent(
        key=f"ev-{event.pk}",
        code=kind.code,
        name=kind.name,
        service=event.service,
        service_name=Service(event.service).label if event.service in Service.values else "",
        shape=kind.shape,
        day=day,
        low=low,
        high=high,
        end=timeline_days(event.ends_on, dates) if event.ends_on else None,
        precision=event.precision,
        when=when,
        date_text=date_text,
        experience=event.experience,
        quote=event.quote if event.coding_id or not passage_quotes_only else "",
        role=event.professional_role,
        certainty=event.certainty,
        source=_source_label(event),
        infant=event.infant.pseudonym if event.infant else "",
        note=event.note,
    )


def journey_of(
    woman: Woman, infant: Infant | None = None, *, passage_quotes_only: bool = False
) -> Journey:
    """Her journey (or one infant's: the events about that baby, and the birth).

    ``passage_quotes_only`` keeps only quotes taken from coded passages of de-identified
    transcripts, for readers who may not see words typed straight into an event."""
    dates = _dates_of(woman)
    events = JourneyEvent.objects.filter(participant=woman.participant).select_related(
        "event_type", "infant", "interview__wave"
    )
    if infant is not None:
        events = events.filter(infant=infant) | events.filter(event_type__code="birth")
    pregnancy = getattr(woman, "pregnancy", None)
    born_at = pregnancy.gestation_at_birth_days if pregnancy else None
    if dates.birth_date is not None and born_at is None:
        born_at = 280 - (dates.edd - dates.birth_date).days
    waves = [
        WaveMark(
            label=f"W{i.wave.number}",
            day=timeline_days(i.date, dates),
            name=f"Wave {i.wave.number} interview ({i.wave.name}), {i.date.isoformat()}",
        )
        for i in Interview.objects.filter(woman=woman, status=Interview.Status.DONE)
        .select_related("wave")
        .order_by("date")
    ]
    title = infant.pseudonym if infant is not None else woman.participant.pseudonym
    return Journey(
        title=title,
        born=dates.birth_date is not None,
        gestation_at_birth=born_at if born_at is not None else 280,
        events=tuple(
            sorted(
                (
                    _map_event(e, dates, passage_quotes_only=passage_quotes_only)
                    for e in events.distinct()
                ),
                key=lambda e: (e.day, e.name),
            )
        ),
        waves=tuple(waves),
    )

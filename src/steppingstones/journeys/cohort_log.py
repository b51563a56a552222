"""The sources of pathway analytics as event logs: the cohort's journeys, or an imported log.

:func:`cohort_log` turns a study's journey events into the canonical event table (case = the
woman's pseudonym, activity = the event type's code, timestamp = the event's date at midnight
UTC, seq = the timeline order) plus a table of cases with what the analytics filter and
measure by: site and nation, parity, earlier removals, substances and opioid substitution,
the start of the pregnancy (due date less 280 days), due date, birth and the last day she was
observed. It keeps to the sites a member may see.

:func:`imported_log` reads a stored :class:`EventLog` (Parquet) and makes the same two tables;
its cases take their site from a ``site`` or ``case:site`` attribute and their birth from the
first event of the birth activity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from ibis import _
from ibis.backends import BaseBackend

from steppingstones.cohort.models import Circumstance, Interview, Pregnancy, Woman
from steppingstones.core.models import Participant, Study

from .analytics import connect
from .eventlog import ACTIVITY, CASE, CASE_PREFIX, SEQ, TIMESTAMP, TIMESTAMP_TYPE, make_table
from .models import EventLog, EventType, JourneyEvent

PREGNANCY_DAYS = 280


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class SourceLog:
    """An event log ready for analysis: ``events`` (canonical columns plus ``service``,
    ``timestamp_latest`` where known) and ``cases`` (one row per case), and the names to show
    for activity codes."""

    events: pa.Table
    cases: pa.Table
    names: dict[str, str] = field(default_factory=dict)
    birth_activity: str = "birth"
    is_cohort: bool = True

    def name(self, activity: str) -> str:
        return self.names.get(activity, activity)

    def ibis_tables(self) -> tuple[ir.Table, ir.Table]:
        return ibis.memtable(self.events), ibis.memtable(self.cases)

    def named_events(self, events: pa.Table | None = None) -> pa.Table:
        """The events with each activity code replaced by its name (for maps and exports)."""
        table = self.events if events is None else events
        if not self.names:
            return table
        codes = table[ACTIVITY].to_pylist()
        named = pa.array([self.names.get(c, c) for c in codes], pa.string())
        return table.set_column(table.column_names.index(ACTIVITY), ACTIVITY, named)


_CASE_SCHEMA = pa.schema(
    [
        (CASE, pa.string()),
        ("site", pa.string()),
        ("nation", pa.string()),
        ("parity", pa.int64()),
        ("earlier_removals", pa.int64()),
        ("ost", pa.bool_()),
        ("substances", pa.string()),
        ("pregnancy_start", TIMESTAMP_TYPE),
        ("edd", TIMESTAMP_TYPE),
        ("birth", TIMESTAMP_TYPE),
        ("day0", TIMESTAMP_TYPE),
        ("born", pa.bool_()),
        ("horizon", TIMESTAMP_TYPE),
    ]
)


def cohort_log(
    study: Study, site_ids: Collection[int] | None = None, *, today: date | None = None
) -> SourceLog:
    """The study's women and their journey events (women at ``site_ids`` only, when given)."""
    today = today or date.today()
    participants = Participant.objects.filter(study=study, kind=Participant.Kind.WOMAN)
    if site_ids is not None:
        participants = participants.filter(site_id__in=site_ids)
    women = list(
        Woman.objects.filter(participant__in=participants).select_related(
            "participant", "participant__site"
        )
    )
    ids = [w.pk for w in women]
    births = {
        p.woman_id: p
        for p in Pregnancy.objects.filter(woman_id__in=ids).only("woman_id", "birth_date")
    }
    substances: dict[int, set[str]] = defaultdict(set)
    on_ost: set[int] = set()
    for woman_id, kind, value in Circumstance.objects.filter(woman_id__in=ids).values_list(
        "woman_id", "kind", "value"
    ):
        if kind == Circumstance.Kind.SUBSTANCE:
            substances[woman_id].add(value.strip().lower())
        elif kind == Circumstance.Kind.OST:
            on_ost.add(woman_id)
    interviewed: dict[int, date] = {}
    for woman_id, when in Interview.objects.filter(woman_id__in=ids, status="done").values_list(
        "woman_id", "date"
    ):
        interviewed[woman_id] = max(when, interviewed.get(woman_id, when))

    events = list(
        JourneyEvent.objects.filter(study=study, participant__in=participants)
        .select_related("event_type", "participant")
        .order_by("participant__pseudonym", "timeline_days", "date", "pk")
    )
    last_event: dict[int, date] = {}
    for e in events:
        last_event[e.participant_id] = max(e.date, last_event.get(e.participant_id, e.date))

    rows: dict[str, list[object]] = {name: [] for name in _CASE_SCHEMA.names}
    for woman in women:
        person = woman.participant
        pregnancy = births.get(woman.pk)
        birth = pregnancy.birth_date if pregnancy else None
        seen = [d for d in (interviewed.get(woman.pk), last_event.get(person.pk)) if d]
        horizon = min(max(seen), today) if seen else None
        values: dict[str, object] = {
            CASE: person.pseudonym,
            "site": person.site.code,
            "nation": person.site.nation,
            "parity": woman.parity,
            "earlier_removals": woman.earlier_children_removed,
            "ost": woman.pk in on_ost,
            "substances": "; ".join(sorted(substances.get(woman.pk, set()))),
            "pregnancy_start": midnight(woman.edd - timedelta(days=PREGNANCY_DAYS)),
            "edd": midnight(woman.edd),
            "birth": midnight(birth) if birth else None,
            "day0": midnight(birth or woman.edd),
            "born": birth is not None,
            "horizon": midnight(horizon) if horizon else None,
        }
        for key, cell in values.items():
            rows[key].append(cell)
    cases = pa.table(rows, schema=_CASE_SCHEMA)

    event_table = make_table(
        pa.array([e.participant.pseudonym for e in events], pa.string()),
        pa.array([e.event_type.code for e in events], pa.string()),
        pa.array([midnight(e.date) for e in events], TIMESTAMP_TYPE),
        attributes={
            "timestamp_latest": pa.array(
                [midnight(e.date_latest) if e.date_latest else None for e in events],
                TIMESTAMP_TYPE,
            ),
            "service": pa.array([e.service for e in events], pa.string()),
            "shape": pa.array([e.event_type.shape for e in events], pa.string()),
            "timeline_days": pa.array([e.timeline_days for e in events], pa.int64()),
            "certainty": pa.array([e.certainty for e in events], pa.string()),
        },
    )
    names = dict(EventType.objects.filter(study=study).values_list("code", "name"))
    return SourceLog(event_table, cases, names, birth_activity="birth", is_cohort=True)


def export_table(log: SourceLog) -> pa.Table:
    """The cohort's event log for interchange: activity names, the event type code, service,
    and the case's site and nation as case attributes (no sensitive characteristics)."""
    events = log.named_events()
    sites = dict(zip(log.cases[CASE].to_pylist(), log.cases["site"].to_pylist(), strict=True))
    nations = dict(zip(log.cases[CASE].to_pylist(), log.cases["nation"].to_pylist(), strict=True))
    case_ids = events[CASE].to_pylist()
    return pa.table(
        {
            CASE: events[CASE],
            ACTIVITY: events[ACTIVITY],
            TIMESTAMP: events[TIMESTAMP],
            SEQ: events[SEQ],
            "event_type": log.events[ACTIVITY],
            "service": events["service"],
            "certainty": events["certainty"],
            f"{CASE_PREFIX}site": pa.array([sites.get(c) for c in case_ids], pa.string()),
            f"{CASE_PREFIX}nation": pa.array([nations.get(c) for c in case_ids], pa.string()),
        }
    )


# --------------------------------------------------------------------------------------------
# Imported logs


def site_column(table: pa.Table) -> str | None:
    for name in ("site", f"{CASE_PREFIX}site"):
        if name in table.column_names:
            return name
    return None


def read_log(log: EventLog) -> pa.Table:
    with log.file.open("rb") as handle:
        return pq.read_table(handle)


def log_cases(
    table: pa.Table, *, birth_activity: str = "Birth", backend: BaseBackend | None = None
) -> pa.Table:
    """One row per case of an imported log: its site (when the log has one), its birth (the
    first event of ``birth_activity``) and its horizon (the log's last timestamp: routine
    extracts are censored at their end)."""
    events = ibis.memtable(_plain(table, [CASE, ACTIVITY, TIMESTAMP, site_column(table)]))
    site = events[site_column(table)] if site_column(table) else ibis.literal("")
    per_case = events.group_by(CASE).aggregate(site=site.cast("string").max())
    births = (
        events.filter(events[ACTIVITY] == birth_activity)
        .group_by(CASE)
        .aggregate(birth=_[TIMESTAMP].min())
    )
    joined = per_case.left_join(births, CASE).select(CASE, site=_.site.fill_null(""), birth=_.birth)
    end = events[TIMESTAMP].max().as_scalar()
    cases = joined.mutate(day0=_.birth, born=_.birth.notnull(), horizon=end).order_by(CASE)
    return (backend or connect()).to_pyarrow(cases)


def _plain(table: pa.Table, columns: list[str | None]) -> pa.Table:
    """The named columns, dictionary encoding undone (for any engine)."""
    out = {}
    for name in columns:
        if name is None:
            continue
        column = table[name]
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        out[name] = column
    return pa.table(out)


def imported_log(
    log: EventLog, *, birth_activity: str = "Birth", backend: BaseBackend | None = None
) -> SourceLog:
    table = read_log(log)
    keep = [CASE, ACTIVITY, TIMESTAMP, SEQ]
    for name in ("service", site_column(table)):
        if name and name in table.column_names:
            keep.append(name)
    events = _plain(table, list(keep))
    return SourceLog(
        events,
        log_cases(events, birth_activity=birth_activity, backend=backend),
        {},
        birth_activity=birth_activity,
        is_cohort=False,
    )


def activities(log: SourceLog) -> list[tuple[str, str]]:
    """``(value, name)`` of every activity in the log, by name."""
    values = sorted(set(log.events[ACTIVITY].to_pylist()))
    return sorted(((v, log.name(v)) for v in values), key=lambda item: item[1].lower())

"""Pathway measures over an event log: milestone intervals, guideline timings, conformance to a
reference pathway and the drop-off in contacts after birth.

Every measure is an Ibis expression over two relations, so the same code runs on DuckDB (the
default) or any other Ibis backend:

*events*  the canonical event columns ``case_id``, ``activity``, ``timestamp``, ``seq`` (see
          :mod:`.eventlog`), optionally ``timestamp_latest`` (the latest an event with an
          uncertain date could have been) and ``service``;
*cases*   one row per case: ``case_id`` and ``site``, and where known ``nation``,
          ``pregnancy_start`` (the due date less 280 days), ``edd``, ``birth``, ``day0`` (the birth,
          or the due date while the baby is unborn), ``born`` and ``horizon`` (the last day the
          case was observed), plus any characteristics used by :class:`CaseFilter`.

Durations are measured in days (floats; dates are midnight timestamps, so whole days stay
whole). Quantiles interpolate linearly between order statistics, as pandas and R's type 7 do.
The results are plain dataclasses; each measure also returns its per-case rows as an Arrow
table so that they can be exported.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis import _
from ibis.backends import BaseBackend

from .eventlog import ACTIVITY, CASE, SEQ, TIMESTAMP

DAY_US = 86_400 * 1_000_000
MONTH_DAYS = 30.4375  # the mean Gregorian month: 365.25 / 12
PREGNANCY = "pregnancy"  # a milestone measured from the start of pregnancy (gestation)
BIRTH = "birth"  # a milestone measured from the birth

MET, NOT_MET, NOT_APPLICABLE, UNKNOWN = "met", "not met", "not applicable", "unknown"
STATUSES = (MET, NOT_MET, NOT_APPLICABLE, UNKNOWN)


def days_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    """Days (a float) from ``earlier`` to ``later``."""
    return later.delta(earlier, unit="microsecond") / DAY_US


def _with_latest(events: ir.Table) -> ir.Table:
    if "timestamp_latest" in events.columns:
        return events.mutate(
            timestamp_latest=events["timestamp_latest"].fill_null(events[TIMESTAMP])
        )
    return events.mutate(timestamp_latest=events[TIMESTAMP])


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


# --------------------------------------------------------------------------------------------
# Filtering cases


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to keep: by site and by women's characteristics (empty means any).

    ``parity`` is "first" (no earlier births) or "later"; ``removals`` "yes" (an earlier child
    removed) or "no"; ``ost`` "yes" or "no" (opioid substitution recorded); ``substance`` a word
    that one of her recorded substances contains.
    """

    sites: tuple[str, ...] = ()
    parity: str = ""
    removals: str = ""
    ost: str = ""
    substance: str = ""

    def is_empty(self) -> bool:
        return not (self.sites or self.parity or self.removals or self.ost or self.substance)


def filter_cases(cases: ir.Table, case_filter: CaseFilter) -> ir.Table:
    """The cases that pass ``case_filter``; a characteristic the log lacks filters nothing out
    only when it is not asked for (asking for it on a log without it keeps no case)."""
    kept = cases
    columns = set(cases.columns)

    def need(column: str) -> bool:
        return column in columns

    if case_filter.sites:
        kept = kept.filter(kept["site"].isin(list(case_filter.sites)))
    if case_filter.parity:
        if not need("parity"):
            return kept.filter(ibis.literal(False))
        kept = kept.filter(
            kept["parity"] == 0 if case_filter.parity == "first" else kept["parity"] > 0
        )
    if case_filter.removals:
        if not need("earlier_removals"):
            return kept.filter(ibis.literal(False))
        removed = kept["earlier_removals"] > 0
        kept = kept.filter(removed if case_filter.removals == "yes" else ~removed)
    if case_filter.ost:
        if not need("ost"):
            return kept.filter(ibis.literal(False))
        kept = kept.filter(kept["ost"] if case_filter.ost == "yes" else ~kept["ost"])
    if case_filter.substance:
        if not need("substances"):
            return kept.filter(ibis.literal(False))
        kept = kept.filter(kept["substances"].lower().contains(case_filter.substance.lower()))
    return kept


def events_of(events: ir.Table, cases: ir.Table) -> ir.Table:
    """The events of the given cases only."""
    return events.semi_join(cases.select(CASE), CASE)


# --------------------------------------------------------------------------------------------
# Distributions


@dataclass(frozen=True)
class Distribution:
    """Summary of a set of values (days): count, quartiles, extremes and mean."""

    group: str
    n: int
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    mean: float | None


def _summaries(per_case: ir.Table, group: str, backend: BaseBackend) -> list[Distribution]:
    v = per_case["value"]
    metrics = {
        "n": _.count(),
        "median": v.median(),
        "q1": v.quantile(0.25),
        "q3": v.quantile(0.75),
        "minimum": v.min(),
        "maximum": v.max(),
        "mean": v.mean(),
    }
    rows = backend.to_pyarrow(per_case.group_by(group).aggregate(**metrics)).to_pylist()
    everyone = backend.to_pyarrow(per_case.aggregate(**metrics)).to_pylist()[0]
    out = [_distribution(str(row[group]), row) for row in rows]
    out.sort(key=lambda d: d.group)
    if int(everyone["n"] or 0):
        out.append(_distribution("All", everyone))
    return out


def _distribution(name: str, row: dict[str, Any]) -> Distribution:
    return Distribution(
        group=name,
        n=int(row["n"] or 0),
        median=_number(row["median"]),
        q1=_number(row["q1"]),
        q3=_number(row["q3"]),
        minimum=_number(row["minimum"]),
        maximum=_number(row["maximum"]),
        mean=_number(row["mean"]),
    )


# --------------------------------------------------------------------------------------------
# Milestone intervals


@dataclass(frozen=True)
class Milestone:
    """An interval from ``start`` to the first ``end`` event after it.

    ``start`` is :data:`PREGNANCY` (gestation at the end event), :data:`BIRTH` (age of the baby
    at the end event; only events on or after the birth count) or an activity (its first event
    in the case); ``unit`` is how results are shown, "weeks" or "days".
    """

    key: str
    label: str
    start: str
    end: str
    unit: str = "days"

    @property
    def divisor(self) -> float:
        return 7.0 if self.unit == "weeks" else 1.0


@dataclass(frozen=True)
class MilestoneResult:
    milestone: Milestone
    cases: int  # cases in the selection
    reached: int  # cases with a value
    by_group: list[Distribution]  # per site (and "All" last), in days
    per_case: pa.Table = field(repr=False)  # case_id, group, value (days)


def milestone_intervals(
    events: ir.Table, cases: ir.Table, milestone: Milestone, *, group: str = "site"
) -> ir.Table:
    """Per case: ``case_id``, ``group`` and ``value``, the days of ``milestone``."""
    targets = events.filter(events[ACTIVITY] == milestone.end)
    if milestone.start in (PREGNANCY, BIRTH):
        column = "pregnancy_start" if milestone.start == PREGNANCY else "birth"
        anchors = cases.filter(cases[column].notnull()).select(
            CASE, t0=cases[column], grp=cases[group].cast("string")
        )
        joined = targets.inner_join(anchors, CASE)
        if milestone.start == BIRTH:
            joined = joined.filter(joined[TIMESTAMP] >= joined["t0"])
    else:
        starts = events.filter(events[ACTIVITY] == milestone.start)
        first = starts.group_by(CASE).aggregate(t0=starts[TIMESTAMP].min())
        first_seq = (
            starts.inner_join(first, CASE)
            .filter(lambda t: t[TIMESTAMP] == t["t0"])
            .group_by(CASE)
            .aggregate(t0=_["t0"].min(), s0=_[SEQ].min())
        )
        anchors = first_seq.inner_join(cases.select(CASE, grp=cases[group].cast("string")), CASE)
        joined = targets.inner_join(anchors, CASE)
        later = (joined[TIMESTAMP] > joined["t0"]) | (
            (joined[TIMESTAMP] == joined["t0"]) & (joined[SEQ] > joined["s0"])
        )
        joined = joined.filter(later)
    reached = joined.group_by([CASE, "grp"]).aggregate(t0=_["t0"].min(), t1=_[TIMESTAMP].min())
    return reached.select(
        CASE, group=reached["grp"], value=days_between(reached["t1"], reached["t0"])
    )


def milestone(
    events: ir.Table,
    cases: ir.Table,
    spec: Milestone,
    backend: BaseBackend,
    *,
    group: str = "site",
) -> MilestoneResult:
    """A milestone's distribution by ``group`` (site by default) and its per-case values."""
    per_case = milestone_intervals(events, cases, spec, group=group)
    table = backend.to_pyarrow(per_case.order_by(["group", CASE]))
    n_cases = int(backend.to_pyarrow(cases.aggregate(n=_.count()))["n"][0].as_py())
    return MilestoneResult(
        milestone=spec,
        cases=n_cases,
        reached=table.num_rows,
        by_group=_summaries(per_case.rename(grp="group"), "grp", backend) if table.num_rows else [],
        per_case=table,
    )


# --------------------------------------------------------------------------------------------
# Guideline timings


@dataclass(frozen=True)
class RuleSpec:
    """A timing rule as plain data (see ``TimingRule``): the first ``event`` of a case measured
    from its ``anchor`` and compared with ``limit`` (weeks for "gestation" and "before-edd",
    days for "birth" and "after-event"); met when at most the limit, or at least it when
    ``at_least``. Scoped to a ``site`` code, a ``nation``, or (both empty) every case."""

    key: str
    name: str
    event: str
    anchor: str
    limit: float
    at_least: bool = False
    after_event: str = ""
    site: str = ""
    nation: str = ""
    citation: str = ""

    @property
    def limit_days(self) -> float:
        return self.limit * 7 if self.anchor in ("gestation", "before-edd") else self.limit

    @property
    def unit(self) -> str:
        return "weeks" if self.anchor in ("gestation", "before-edd") else "days"


@dataclass(frozen=True)
class RuleSummary:
    rule: RuleSpec
    group: str
    counts: dict[str, int]  # every status in STATUSES

    @property
    def decided(self) -> int:
        return self.counts[MET] + self.counts[NOT_MET]

    @property
    def share_met(self) -> float | None:
        return self.counts[MET] / self.decided if self.decided else None


@dataclass(frozen=True)
class ComplianceResult:
    rules: list[RuleSpec]
    summaries: list[RuleSummary]  # per rule, per site, then "All" for each rule
    per_case: pa.Table = field(repr=False)  # case_id, site, rule, status, value_days


def _rules_table(rules: Sequence[RuleSpec]) -> ir.Table:
    return ibis.memtable(
        pa.table(
            {
                "rule": pa.array([r.key for r in rules], pa.string()),
                "r_event": pa.array([r.event for r in rules], pa.string()),
                "r_anchor": pa.array([r.anchor for r in rules], pa.string()),
                "r_after": pa.array([r.after_event for r in rules], pa.string()),
                "r_limit": pa.array([r.limit_days for r in rules], pa.float64()),
                "r_at_least": pa.array([r.at_least for r in rules], pa.bool_()),
                "r_site": pa.array([r.site for r in rules], pa.string()),
                "r_nation": pa.array([r.nation for r in rules], pa.string()),
            }
        )
    )


def compliance_expr(events: ir.Table, cases: ir.Table, rules: Sequence[RuleSpec]) -> ir.Table:
    """Per case and rule: ``case_id``, ``site``, ``rule``, ``status`` and ``value_days`` (the
    interval from the anchor to the event's earliest date; null when there is none).

    Statuses: *not applicable* when the rule's site or nation is not the case's, when a
    rule measured from the birth meets a baby not yet born, or when the event it is measured
    after never happened; *unknown* when the event is not recorded, the anchor date is missing,
    or the event's date is a range that straddles the limit; otherwise *met* or *not met*.
    """
    events = _with_latest(events)
    columns = set(cases.columns)
    case_cols = cases.select(
        CASE,
        site=cases["site"].cast("string"),
        nation=(cases["nation"] if "nation" in columns else ibis.literal("")).cast("string"),
        pregnancy_start=cases["pregnancy_start"]
        if "pregnancy_start" in columns
        else ibis.null("timestamp"),
        edd=cases["edd"] if "edd" in columns else ibis.null("timestamp"),
        birth=cases["birth"] if "birth" in columns else ibis.null("timestamp"),
    )
    pairs = case_cols.cross_join(_rules_table(rules))
    applies = ((pairs["r_site"] == "") | (pairs["r_site"] == pairs["site"])) & (
        (pairs["r_nation"] == "") | (pairs["r_nation"] == pairs["nation"].fill_null(""))
    )
    pairs = pairs.mutate(applies=applies)
    firsts = events.group_by([CASE, ACTIVITY]).aggregate(ref_t=events[TIMESTAMP].min())
    refs = firsts.rename(ref_case=CASE, ref_activity=ACTIVITY)
    pairs = pairs.left_join(
        refs, [pairs[CASE] == refs["ref_case"], pairs["r_after"] == refs["ref_activity"]]
    ).drop("ref_case", "ref_activity")
    lower = ibis.cases(
        (pairs["r_anchor"] == "birth", pairs["birth"]),
        (pairs["r_anchor"] == "after-event", pairs["ref_t"]),
        else_=ibis.null("timestamp"),
    )
    pairs = pairs.mutate(lower=lower)
    ev = events.select(
        e_case=events[CASE],
        e_activity=events[ACTIVITY],
        e_t=events[TIMESTAMP],
        e_latest=events["timestamp_latest"],
    )
    joined = pairs.left_join(
        ev,
        [
            pairs[CASE] == ev["e_case"],
            pairs["r_event"] == ev["e_activity"],
            pairs["lower"].isnull() | (ev["e_t"] >= pairs["lower"]),
        ],
    )
    found = joined.group_by([CASE, "rule"]).aggregate(
        site=_["site"].first(),
        applies=_["applies"].first(),
        anchor=_["r_anchor"].first(),
        limit=_["r_limit"].first(),
        at_least=_["r_at_least"].first(),
        after=_["r_after"].first(),
        pregnancy_start=_["pregnancy_start"].min(),
        edd=_["edd"].min(),
        birth=_["birth"].min(),
        ref_t=_["ref_t"].min(),
        t_early=_["e_t"].min(),
        t_late=_["e_latest"].min(),
    )
    anchor = found["anchor"]

    def measure(t: ir.TimestampValue) -> ir.FloatingValue:
        return ibis.cases(
            (anchor == "gestation", days_between(t, found["pregnancy_start"])),
            (anchor == "before-edd", days_between(found["edd"], t)),
            (anchor == "birth", days_between(t, found["birth"])),
            (anchor == "after-event", days_between(t, found["ref_t"])),
            else_=ibis.null("float64"),
        )

    early, late = measure(found["t_early"]), measure(found["t_late"])

    def ok(value: ir.FloatingValue) -> ir.BooleanValue:
        return ibis.ifelse(found["at_least"], value >= found["limit"], value <= found["limit"])

    anchor_missing = ibis.cases(
        (anchor == "gestation", found["pregnancy_start"].isnull()),
        (anchor == "before-edd", found["edd"].isnull()),
        else_=ibis.literal(False),
    )
    no_reference = ((anchor == "birth") & found["birth"].isnull()) | (
        (anchor == "after-event") & found["ref_t"].isnull()
    )
    status = ibis.cases(
        (~found["applies"], ibis.literal(NOT_APPLICABLE)),
        (no_reference, ibis.literal(NOT_APPLICABLE)),
        (anchor_missing, ibis.literal(UNKNOWN)),
        (found["t_early"].isnull(), ibis.literal(UNKNOWN)),
        (ok(early) & ok(late), ibis.literal(MET)),
        (~ok(early) & ~ok(late), ibis.literal(NOT_MET)),
        else_=ibis.literal(UNKNOWN),
    )
    return found.select(CASE, "site", "rule", status=status, value_days=early)


def compliance(
    events: ir.Table, cases: ir.Table, rules: Sequence[RuleSpec], backend: BaseBackend
) -> ComplianceResult:
    """Each rule's statuses counted per site and over all sites, with the per-case rows."""
    if not rules:
        empty = pa.table(
            {
                CASE: pa.array([], pa.string()),
                "site": pa.array([], pa.string()),
                "rule": pa.array([], pa.string()),
                "status": pa.array([], pa.string()),
                "value_days": pa.array([], pa.float64()),
            }
        )
        return ComplianceResult([], [], empty)
    per_case = compliance_expr(events, cases, rules)
    counts = backend.to_pyarrow(
        per_case.group_by(["rule", "site", "status"]).aggregate(n=_.count())
    )
    tally: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    for row in counts.to_pylist():
        n = int(row["n"])
        tally[(row["rule"], row["site"])][row["status"]] += n
        tally[(row["rule"], "All")][row["status"]] += n
    summaries = []
    for rule in rules:
        sites = sorted(s for (r, s) in tally if r == rule.key and s != "All")
        for site in [*sites, "All"]:
            if (rule.key, site) in tally:
                summaries.append(RuleSummary(rule, site, tally[(rule.key, site)]))
    table = backend.to_pyarrow(per_case.order_by(["rule", "site", CASE]))
    return ComplianceResult(list(rules), summaries, table)


# --------------------------------------------------------------------------------------------
# Conformance to a reference pathway


@dataclass(frozen=True)
class StepSpec:
    """A step of a reference pathway: ``activity`` expected at ``position`` (1, 2, …), by
    ``latest_day`` (days from the birth; negative before it) when given."""

    position: int
    activity: str
    label: str
    latest_day: int | None = None
    required: bool = True


@dataclass(frozen=True)
class CaseConformance:
    case_id: str
    site: str
    missing: list[str]
    late: list[tuple[str, float, int]]  # (label, day it happened, latest expected day)
    out_of_order: list[str]
    not_yet_due: list[str]
    checked: int  # steps judged: required ones plus optional ones that happened
    fitness: float | None  # share of judged steps with no deviation

    @property
    def conforms(self) -> bool:
        return not (self.missing or self.late or self.out_of_order)


@dataclass(frozen=True)
class StepSummary:
    step: StepSpec
    present: int
    missing: int
    late: int
    out_of_order: int
    not_yet_due: int
    conforming: int  # present, on time and in order


@dataclass(frozen=True)
class ConformanceResult:
    steps: list[StepSpec]
    cases: list[CaseConformance]
    by_step: list[StepSummary]
    by_site: list[tuple[str, int, int, float | None]]  # site, cases, conforming, mean fitness

    @property
    def mean_fitness(self) -> float | None:
        values = [c.fitness for c in self.cases if c.fitness is not None]
        return sum(values) / len(values) if values else None

    def table(self) -> pa.Table:
        return pa.table(
            {
                CASE: [c.case_id for c in self.cases],
                "site": [c.site for c in self.cases],
                "missing": ["; ".join(c.missing) for c in self.cases],
                "late": [
                    "; ".join(f"{s} (day {d:g}, due by {lim})" for s, d, lim in c.late)
                    for c in self.cases
                ],
                "out_of_order": ["; ".join(c.out_of_order) for c in self.cases],
                "not_yet_due": ["; ".join(c.not_yet_due) for c in self.cases],
                "steps_checked": pa.array([c.checked for c in self.cases], pa.int64()),
                "fitness": pa.array([c.fitness for c in self.cases], pa.float64()),
            }
        )


def first_step_times(events: ir.Table, cases: ir.Table, activities: Iterable[str]) -> ir.Table:
    """Per case and pathway activity: the first time it happened, its day from ``day0`` (the
    birth) and from the due date (``edd``, where the log has one)."""
    wanted = events.filter(events[ACTIVITY].isin(sorted(set(activities))))
    firsts = wanted.group_by([CASE, ACTIVITY]).aggregate(t=wanted[TIMESTAMP].min())
    columns = set(cases.columns)
    day0 = cases["day0"] if "day0" in columns else ibis.null("timestamp")
    edd = cases["edd"] if "edd" in columns else day0
    joined = firsts.inner_join(cases.select(CASE, day0=day0, edd=edd), CASE)
    return joined.select(
        CASE,
        ACTIVITY,
        "t",
        day=days_between(joined["t"], joined["day0"]),
        day_edd=days_between(joined["t"], joined["edd"].fill_null(joined["day0"])),
    )


def _in_order(positions: list[int]) -> set[int]:
    """Indices of a longest non-decreasing subsequence of ``positions`` (the steps that are in
    order; the others are the fewest that must move to restore the pathway's order)."""
    if not positions:
        return set()
    tails: list[int] = []  # positions
    tail_index: list[int] = []
    parent = [-1] * len(positions)
    for i, p in enumerate(positions):
        j = bisect.bisect_right(tails, p)
        if j == len(tails):
            tails.append(p)
            tail_index.append(i)
        else:
            tails[j] = p
            tail_index[j] = i
        parent[i] = tail_index[j - 1] if j else -1
    keep, i = set(), tail_index[-1]
    while i != -1:
        keep.add(i)
        i = parent[i]
    return keep


def conformance(
    events: ir.Table, cases: ir.Table, steps: Sequence[StepSpec], backend: BaseBackend
) -> ConformanceResult:
    """Each case against the reference pathway ``steps``.

    A required step with no event is *missing* (or *not yet due* when the case's ``horizon``,
    the last day it was observed, comes before the step's latest day); a step whose first event
    falls after its latest day is *late* (a latest day before the birth is a gestational
    deadline, so it is counted from the due date: day -210 is 10+0 weeks; later ones from the
    birth); steps that happened are put in the order of their
    first events (ties in the pathway's order) and those outside a longest run that follows the
    pathway's order are *out of order*, the fewest steps that explain the disorder. Fitness is
    the share of judged steps (required ones, and optional ones that happened) with none of
    these deviations.
    """
    steps = sorted(steps, key=lambda s: s.position)
    times = backend.to_pyarrow(first_step_times(events, cases, [s.activity for s in steps]))
    columns = set(cases.columns)
    horizon_expr = (
        days_between(cases["horizon"], cases["day0"])
        if {"horizon", "day0"} <= columns
        else ibis.null("float64")
    )
    case_rows = backend.to_pyarrow(
        cases.select(CASE, site=cases["site"].cast("string"), horizon_day=horizon_expr).order_by(
            CASE
        )
    ).to_pylist()
    seen: dict[str, dict[str, tuple[Any, float | None, float | None]]] = defaultdict(dict)
    for row in times.to_pylist():
        seen[row[CASE]][row[ACTIVITY]] = (row["t"], _number(row["day"]), _number(row["day_edd"]))
    results: list[CaseConformance] = []
    for row in case_rows:
        results.append(
            _conform(
                row[CASE],
                row["site"] or "",
                _number(row["horizon_day"]),
                steps,
                seen.get(row[CASE], {}),
            )
        )
    by_step = []
    for step in steps:
        by_step.append(
            StepSummary(
                step,
                present=sum(1 for c in case_rows if step.activity in seen.get(c[CASE], {})),
                missing=sum(1 for r in results if step.label in r.missing),
                late=sum(1 for r in results if any(s == step.label for s, _d, _l in r.late)),
                out_of_order=sum(1 for r in results if step.label in r.out_of_order),
                not_yet_due=sum(1 for r in results if step.label in r.not_yet_due),
                conforming=sum(
                    1
                    for c, r in zip(case_rows, results, strict=True)
                    if step.activity in seen.get(c[CASE], {})
                    and step.label not in r.out_of_order
                    and all(s != step.label for s, _d, _l in r.late)
                ),
            )
        )
    sites: dict[str, list[CaseConformance]] = defaultdict(list)
    for r in results:
        sites[r.site].append(r)
    by_site = [
        (site, len(items), sum(1 for r in items if r.conforms), _mean(r.fitness for r in items))
        for site, items in sorted(sites.items())
    ]
    if results:
        by_site.append(
            (
                "All",
                len(results),
                sum(1 for r in results if r.conforms),
                _mean(r.fitness for r in results),
            )
        )
    return ConformanceResult(list(steps), results, by_step, by_site)


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def _conform(
    case_id: str,
    site: str,
    horizon_day: float | None,
    steps: Sequence[StepSpec],
    seen: dict[str, tuple[Any, float | None, float | None]],
) -> CaseConformance:
    missing, not_yet_due, late = [], [], []
    happened: list[tuple[Any, int, StepSpec]] = []
    for step in steps:
        if step.activity in seen:
            t, day_from_birth, day_from_edd = seen[step.activity]
            happened.append((t, step.position, step))
            antenatal = step.latest_day is not None and step.latest_day < 0
            day = day_from_edd if antenatal else day_from_birth
            if step.latest_day is not None and day is not None and day > step.latest_day:
                late.append((step.label, day, step.latest_day))
        elif step.required:
            due = step.latest_day
            if horizon_day is not None and due is not None and horizon_day < due:
                not_yet_due.append(step.label)
            else:
                missing.append(step.label)
    happened.sort(key=lambda item: (item[0], item[1]))
    keep = _in_order([position for _t, position, _s in happened])
    out_of_order = [s.label for i, (_t, _p, s) in enumerate(happened) if i not in keep]
    checked_steps = [
        s for s in steps if s.activity in seen or (s.required and s.label not in not_yet_due)
    ]
    deviant = set(missing) | {s for s, _d, _l in late} | set(out_of_order)
    fitness = (
        sum(1 for s in checked_steps if s.label not in deviant) / len(checked_steps)
        if checked_steps
        else None
    )
    return CaseConformance(
        case_id, site, missing, late, out_of_order, not_yet_due, len(checked_steps), fitness
    )


# --------------------------------------------------------------------------------------------
# Drop-off: contacts per service per month around the birth


@dataclass(frozen=True)
class DropoffCell:
    group: str
    month: int  # months from the birth: -1 is the month before it, 0 the month after
    contacts: int
    women: int  # cases observed for the whole month

    @property
    def rate(self) -> float | None:
        return self.contacts / self.women if self.women else None


@dataclass(frozen=True)
class DropoffSummary:
    group: str
    before: float | None  # contacts per woman per month in the months before the birth
    after: float | None

    @property
    def change(self) -> float | None:
        """Relative change after the birth (-0.6 is a 60% drop)."""
        if self.before is None or self.after is None or self.before == 0:
            return None
        return self.after / self.before - 1


@dataclass(frozen=True)
class DropoffResult:
    months: list[int]
    groups: list[str]
    cells: list[DropoffCell]
    summaries: list[DropoffSummary]
    window: int
    births: int

    def cell(self, group: str, month: int) -> DropoffCell | None:
        for c in self.cells:
            if c.group == group and c.month == month:
                return c
        return None

    def table(self) -> pa.Table:
        return pa.table(
            {
                "group": [c.group for c in self.cells],
                "month": pa.array([c.month for c in self.cells], pa.int64()),
                "contacts": pa.array([c.contacts for c in self.cells], pa.int64()),
                "women": pa.array([c.women for c in self.cells], pa.int64()),
                "rate": pa.array([c.rate for c in self.cells], pa.float64()),
            }
        )


def month_from_birth(t: ir.TimestampValue, birth: ir.TimestampValue) -> ir.IntegerValue:
    """Month number relative to the birth: days / 30.4375, rounded down."""
    return (days_between(t, birth) / MONTH_DAYS).floor().cast("int64")


def dropoff(
    events: ir.Table,
    cases: ir.Table,
    backend: BaseBackend,
    *,
    group: str = "service",
    months_before: int = 9,
    months_after: int = 12,
    window: int = 3,
    birth_activity: str = BIRTH,
) -> DropoffResult:
    """Contacts per ``group`` (service, or activity) per month around the birth, and per woman.

    Only cases with a birth count. Months are 30.4375 days, numbered from the birth (month 0
    begins on the day of the birth). A case is observed for a month after the birth when its
    ``horizon`` (the last day it was observed) reaches the month's end, and for every month of
    the pregnancy shown; the rate is contacts over women observed. The summary compares the
    ``window`` months before the birth with the ``window`` months from it.
    """
    born = cases.filter(cases["birth"].notnull())
    columns = set(born.columns)
    horizon = born["horizon"] if "horizon" in columns else ibis.null("timestamp")
    born = born.select(CASE, birth=born["birth"], horizon=horizon)
    joined = events.inner_join(born, CASE)
    joined = joined.filter(joined[ACTIVITY] != birth_activity)
    grp = joined[group] if group in joined.columns else joined[ACTIVITY]
    contacts = joined.select(
        grp=grp.cast("string"), month=month_from_birth(joined[TIMESTAMP], joined["birth"])
    )
    contacts = contacts.filter(
        (contacts["month"] >= -months_before) & (contacts["month"] < months_after)
    )
    counted = backend.to_pyarrow(contacts.group_by(["grp", "month"]).aggregate(n=_.count()))
    horizons = backend.to_pyarrow(
        born.select(
            CASE,
            observed=ibis.ifelse(
                born["horizon"].isnull(),
                ibis.literal(float(months_after)),
                days_between(born["horizon"], born["birth"]) / MONTH_DAYS,
            ),
        )
    )
    observed = [_number(v) for v in horizons["observed"].to_pylist()]
    months = list(range(-months_before, months_after))
    women = {
        m: len(observed) if m < 0 else sum(1 for o in observed if o is not None and o >= m + 1)
        for m in months
    }
    counts: dict[tuple[str, int], int] = {
        (row["grp"], int(row["month"])): int(row["n"]) for row in counted.to_pylist()
    }
    groups = sorted({g for g, _m in counts})
    cells = [DropoffCell(g, m, counts.get((g, m), 0), women[m]) for g in groups for m in months]
    summaries = []
    before_months = [m for m in months if -window <= m < 0]
    after_months = [m for m in months if 0 <= m < window]
    for g in groups:
        summaries.append(
            DropoffSummary(
                g,
                _rate(counts, women, g, before_months),
                _rate(counts, women, g, after_months),
            )
        )
    return DropoffResult(months, groups, cells, summaries, window, len(observed))


def _rate(
    counts: dict[tuple[str, int], int], women: dict[int, int], group: str, months: list[int]
) -> float | None:
    person_months = sum(women[m] for m in months)
    if not person_months:
        return None
    return sum(counts.get((group, m), 0) for m in months) / person_months

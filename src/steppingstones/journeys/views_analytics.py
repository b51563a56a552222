"""Pathway analytics pages: process map, variants, milestones, guideline timings, conformance
and drop-off over the cohort or an imported event log; exports; rules and pathways; imports.

Who sees what: every page needs the journeys area. Per-woman rows (a conformance table of
journeys, per-case exports, the cohort's event log) need "participants", so peer researchers
see aggregates only, and filters on women's characteristics need it too. Site-limited members
see their sites' women only, and imported logs (routine data not tied to the study's sites)
only when they see every site. Changing rules and pathways needs "write" and every site.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from ibis.backends import BaseBackend

from steppingstones.core import audit
from steppingstones.core.charts import horizontal_bars
from steppingstones.core.exports import write_csv
from steppingstones.core.jobs import start_job
from steppingstones.core.middleware import upload_limit
from steppingstones.core.policy import Access, study_view

from . import analytics, eventlog, jobs, pathways, rules
from .cohort_log import SourceLog, activities, cohort_log, export_table, imported_log
from .forms_analytics import LogImportForm, PathwayForm, RuleForm, step_formset
from .models import EventLog, PathwayStep, ReferencePathway, Service, TimingRule
from .pathway_charts import box_plot, dropoff_lines, share_bars
from .pathways import BIRTH, PREGNANCY, STATUSES, CaseFilter, Milestone
from .processmap_svg import edge_rows, process_map_svg

AREA = "journeys"
LARGE_LOG_EVENTS = 1_000_000  # larger imported logs are analysed as background jobs
MAX_UPLOAD_BYTES = 510 * 1024 * 1024  # the form refuses files over 500 MB
FILTER_KEYS = ("source", "site", "parity", "removals", "ost", "substance")
MILESTONES = (
    Milestone("booking", "Gestation at booking", PREGNANCY, "booking", "weeks"),
    Milestone(
        "specialist",
        "Gestation at the first specialist-midwife contact",
        PREGNANCY,
        "specialist-midwife-contact",
        "weeks",
    ),
    Milestone(
        "conference",
        "Gestation at the pre-birth conference",
        PREGNANCY,
        "pre-birth-conference",
        "weeks",
    ),
    Milestone(
        "stay", "Baby's length of stay (birth to discharge)", BIRTH, "discharge-infant", "days"
    ),
    Milestone("separation", "Baby's age at separation", BIRTH, "separation", "days"),
    Milestone("reunification", "Baby's age at reunification", BIRTH, "reunification", "days"),
)


# --------------------------------------------------------------------------------------------
# The selection every page works on


@dataclass
class Selection:
    source: str
    log: SourceLog
    event_log: EventLog | None
    case_filter: CaseFilter
    events: ir.Table
    cases: ir.Table
    backend: BaseBackend
    query: str  # the source and filters, to carry from page to page
    sites: list[tuple[str, str]]
    may_filter_women: bool
    n_cases: int
    n_events: int

    @property
    def is_cohort(self) -> bool:
        return self.log.is_cohort

    @property
    def too_large(self) -> bool:
        return self.event_log is not None and self.event_log.events > LARGE_LOG_EVENTS

    def arrow_events(self, *, named: bool = True) -> pa.Table:
        table = self.backend.to_pyarrow(self.events)
        return self.log.named_events(table) if named else table

    def title(self) -> str:
        if self.event_log is not None:
            return self.event_log.name
        return "The cohort's journeys"


def _selection(request: HttpRequest, access: Access) -> Selection:
    source = request.GET.get("source") or "cohort"
    event_log = None
    if source == "cohort":
        log = cohort_log(access.study, access.site_ids)
        sites = [(s.code, s.name) for s in access.sites()]
    elif source.startswith("log-") and source[4:].isdigit():
        if access.site_ids is not None:
            raise Http404
        event_log = get_object_or_404(EventLog, study=access.study, pk=int(source[4:]))
        log = _imported(event_log)
        values = sorted({s for s in log.cases["site"].to_pylist() if s})
        sites = [(s, s) for s in values]
    else:
        raise Http404
    may_filter_women = log.is_cohort and access.can("participants")
    known = {code for code, _name in sites}
    chosen = tuple(s for s in request.GET.getlist("site") if s in known)

    def choice(key: str, allowed: tuple[str, ...]) -> str:
        value = request.GET.get(key, "")
        return value if may_filter_women and value in allowed else ""

    case_filter = CaseFilter(
        sites=chosen,
        parity=choice("parity", ("first", "later")),
        removals=choice("removals", ("yes", "no")),
        ost=choice("ost", ("yes", "no")),
        substance=(request.GET.get("substance", "").strip()[:60] if may_filter_women else ""),
    )
    backend = analytics.connect()
    events, cases = log.ibis_tables()
    if not case_filter.is_empty():
        cases = pathways.filter_cases(cases, case_filter)
        events = pathways.events_of(events, cases)
    pairs: list[tuple[str, str]] = [("source", source)]
    pairs += [("site", s) for s in case_filter.sites]
    for key in ("parity", "removals", "ost", "substance"):
        if getattr(case_filter, key):
            pairs.append((key, getattr(case_filter, key)))
    if event_log is not None and event_log.events > LARGE_LOG_EVENTS:
        n_cases, n_events = event_log.cases, event_log.events
    else:
        counts = backend.to_pyarrow(events.aggregate(n=events.count())).to_pylist()[0]
        n_events = int(counts["n"])
        n_cases = int(backend.to_pyarrow(cases.aggregate(n=cases.count()))["n"][0].as_py())
    return Selection(
        source=source,
        log=log,
        event_log=event_log,
        case_filter=case_filter,
        events=events,
        cases=cases,
        backend=backend,
        query=urlencode(pairs),
        sites=sites,
        may_filter_women=may_filter_women,
        n_cases=n_cases,
        n_events=n_events,
    )


def _imported(event_log: EventLog) -> SourceLog:
    log = imported_log(event_log)
    names = set(log.events["activity"].unique().to_pylist())
    if "Birth" not in names:
        birth = next((n for n in sorted(names) if n.lower() == "birth"), "Birth")
        log = imported_log(event_log, birth_activity=birth)
    return log


def _page(
    request: HttpRequest, access: Access, sel: Selection, template: str, **context: Any
) -> HttpResponse:
    sources = [("cohort", "The cohort's journeys")]
    if access.site_ids is None:
        sources += [
            (f"log-{log.pk}", log.name)
            for log in EventLog.objects.filter(study=access.study).only("name")
        ]
    base = {
        "area": AREA,
        "sel": sel,
        "sources": sources,
        "can_see_women": access.can("participants"),
        "parity_choices": [("", "Any"), ("first", "First baby"), ("later", "Earlier births")],
        "yes_no": [("", "Any"), ("yes", "Yes"), ("no", "No")],
    }
    if sel.too_large and template != "journeys/analytics/home.html":
        template = "journeys/analytics/large.html"
    return render(request, template, {**base, **context})


# --------------------------------------------------------------------------------------------
# Results: each makes its page's context and an exportable table


def _process_map(request: HttpRequest, access: Access, sel: Selection) -> dict[str, Any]:
    min_count = _int(request.GET.get("min_count"), 1, 1, 10**9)
    keep = _int(request.GET.get("keep"), 100, 1, 100)
    if not sel.n_events:
        return {"empty": True, "min_count": min_count, "keep": keep, "table": _edges_table([])}
    full = analytics.dfg(sel.arrow_events(), backend=sel.backend)
    shown = analytics.filter_by_frequency(
        full, min_count=min_count, keep_share=keep / 100 if keep < 100 else None
    )
    rows = edge_rows(shown)
    return {
        "min_count": min_count,
        "keep": keep,
        "svg": process_map_svg(shown, title=f"Process map: {sel.title()}"),
        "rows": rows,
        "activities": sorted(shown.activities.items(), key=lambda item: (-item[1], item[0])),
        "shown_edges": len(shown.edges),
        "all_edges": len(full.edges),
        "table": _edges_table(
            [(e.source, e.target, e.frequency, e.median_seconds) for e in shown.edges]
        ),
    }


def _edges_table(edges: list[tuple[str, str, int, float]]) -> pa.Table:
    return pa.table(
        {
            "from": pa.array([e[0] for e in edges], pa.string()),
            "to": pa.array([e[1] for e in edges], pa.string()),
            "count": pa.array([e[2] for e in edges], pa.int64()),
            "median_days": pa.array([e[3] / 86_400 for e in edges], pa.float64()),
        }
    )


@dataclass(frozen=True)
class VariantRow:
    rank: int
    steps: tuple[str, ...]
    count: int
    share: float
    cumulative: float


def _variants(request: HttpRequest, access: Access, sel: Selection) -> dict[str, Any]:
    top = _int(request.GET.get("top"), 20, 1, 500)
    found = analytics.variants(sel.arrow_events(), backend=sel.backend) if sel.n_events else []
    total = sum(n for _v, n in found) or 1
    rows, running = [], 0
    for rank, (steps, count) in enumerate(found, start=1):
        running += count
        rows.append(VariantRow(rank, steps, count, count / total, running / total))
    chart = horizontal_bars(
        [(f"Variant {r.rank} ({len(r.steps)} steps)", r.count) for r in rows[:top]],
        title=f"Cases following each of the {min(top, len(rows))} most common variants",
    )
    table = pa.table(
        {
            "rank": pa.array([r.rank for r in rows], pa.int64()),
            "count": pa.array([r.count for r in rows], pa.int64()),
            "share": pa.array([r.share for r in rows], pa.float64()),
            "length": pa.array([len(r.steps) for r in rows], pa.int64()),
            "activities": pa.array([" > ".join(r.steps) for r in rows], pa.string()),
        }
    )
    return {"top": top, "rows": rows[:top], "n_variants": len(rows), "chart": chart, "table": table}


def _milestone_spec(request: HttpRequest, sel: Selection) -> tuple[Milestone, list[Any]]:
    choices = activities(sel.log)
    values = {v for v, _n in choices}
    start, end = request.GET.get("from", ""), request.GET.get("to", "")
    if start in (values | {PREGNANCY, BIRTH}) and end in values:
        label = f"{_activity_label(sel, start)} to {sel.log.name(end)}"
        unit = "weeks" if start == PREGNANCY else "days"
        return Milestone("custom", label, start, end, unit), choices
    if sel.is_cohort:
        key = request.GET.get("milestone") or MILESTONES[0].key
        for spec in MILESTONES:
            if spec.key == key:
                return spec, choices
        return MILESTONES[0], choices
    names = [v for v, _n in choices]
    first = next((n for n in names if n.lower().startswith("referral")), names[0] if names else "")
    last = next((n for n in names if n.lower() == "birth"), names[-1] if names else "")
    return Milestone("custom", f"{first} to {last}", first, last, "days"), choices


def _activity_label(sel: Selection, value: str) -> str:
    return {PREGNANCY: "Start of pregnancy", BIRTH: "Birth"}.get(value, sel.log.name(value))


def _milestones(request: HttpRequest, access: Access, sel: Selection) -> dict[str, Any]:
    spec, choices = _milestone_spec(request, sel)
    result = pathways.milestone(sel.events, sel.cases, spec, sel.backend)
    divisor = spec.divisor
    points: dict[str, list[float]] = {}
    for group, value in zip(
        result.per_case["group"].to_pylist(), result.per_case["value"].to_pylist(), strict=True
    ):
        points.setdefault(group or "", []).append(value)
    groups = [g for g in result.by_group if g.group != "All"]
    chart = (
        box_plot(groups, points, title=spec.label, unit=spec.unit, divisor=divisor, key="ms")
        if groups
        else ""
    )

    def fmt(value: float | None) -> str:
        return "—" if value is None else f"{value / divisor:.1f}"

    rows = [
        {
            "group": g.group or "No site",
            "n": g.n,
            "median": fmt(g.median),
            "q1": fmt(g.q1),
            "q3": fmt(g.q3),
            "min": fmt(g.minimum),
            "max": fmt(g.maximum),
            "mean": fmt(g.mean),
        }
        for g in result.by_group
    ]
    table = pa.table(
        {
            "site": [g.group for g in result.by_group],
            "n": pa.array([g.n for g in result.by_group], pa.int64()),
            **{
                f"{stat}_{spec.unit}": pa.array(
                    [
                        None if getattr(g, stat) is None else getattr(g, stat) / divisor
                        for g in result.by_group
                    ],
                    pa.float64(),
                )
                for stat in ("median", "q1", "q3", "minimum", "maximum", "mean")
            },
        }
    )
    cases = result.per_case.rename_columns(["case_id", "site", "days"])
    return {
        "spec": spec,
        "result": result,
        "rows": rows,
        "chart": chart,
        "presets": MILESTONES if sel.is_cohort else (),
        "choices": choices,
        "table": table,
        "cases_table": cases,
        "extra_query": urlencode(
            {"milestone": spec.key}
            if spec.key != "custom"
            else {"from": spec.start, "to": spec.end}
        ),
    }


def _timings(request: HttpRequest, access: Access, sel: Selection) -> dict[str, Any]:
    if not sel.is_cohort:
        return {"not_cohort": True, "table": pa.table({"rule": pa.array([], pa.string())})}
    codes = [code for code, _name in sel.sites]
    specs = rules.rule_specs(access.study, site_codes=codes)
    result = pathways.compliance(sel.events, sel.cases, specs, sel.backend)
    chart_rows = [
        (f"{s.rule.name} — {s.group}", s.share_met, s.decided)
        for s in result.summaries
        if s.counts[pathways.NOT_APPLICABLE] < sum(s.counts.values())
    ]
    chart = share_bars(chart_rows, title="Share of women whose event met each guideline timing")
    rows = [
        {
            "rule": s.rule,
            "describe": rules.describe(s.rule),
            "group": s.group,
            "counts": [s.counts[k] for k in STATUSES],
            "share": s.share_met,
        }
        for s in result.summaries
    ]
    table = pa.table(
        {
            "rule": [s.rule.name for s in result.summaries],
            "site": [s.group for s in result.summaries],
            **{
                status.replace(" ", "_"): pa.array(
                    [s.counts[status] for s in result.summaries], pa.int64()
                )
                for status in STATUSES
            },
            "share_met": pa.array([s.share_met for s in result.summaries], pa.float64()),
            "citation": [s.rule.citation for s in result.summaries],
        }
    )
    names = {r.key: r.name for r in specs}
    per_case = result.per_case
    cases = pa.table(
        {
            "case_id": per_case["case_id"],
            "site": per_case["site"],
            "rule": pa.array([names.get(k, k) for k in per_case["rule"].to_pylist()], pa.string()),
            "status": per_case["status"],
            "value_days": per_case["value_days"],
        }
    )
    return {
        "rules": specs,
        "rows": rows,
        "chart": chart if chart_rows else "",
        "statuses": STATUSES,
        "table": table,
        "cases_table": cases,
    }


def _pathway_for(request: HttpRequest, access: Access) -> ReferencePathway | None:
    chosen = request.GET.get("pathway", "")
    pathways_qs = ReferencePathway.objects.filter(study=access.study)
    if chosen.isdigit():
        found = pathways_qs.filter(pk=int(chosen)).first()
        if found is not None:
            return found
    return pathways_qs.first()


def _conformance(request: HttpRequest, access: Access, sel: Selection) -> dict[str, Any]:
    pathway = _pathway_for(request, access)
    all_pathways = list(ReferencePathway.objects.filter(study=access.study))
    if pathway is None:
        return {
            "no_pathway": True,
            "pathways": all_pathways,
            "table": pa.table({"step": pa.array([], pa.string())}),
        }
    steps = rules.step_specs(pathway)
    if not sel.is_cohort:
        present = {a.lower(): a for a in sel.log.events["activity"].unique().to_pylist()}
        steps = [
            pathways.StepSpec(
                s.position,
                present.get(s.activity.lower()) or present.get(s.label.lower()) or s.activity,
                s.label,
                s.latest_day,
                s.required,
            )
            for s in steps
        ]
    result = pathways.conformance(sel.events, sel.cases, steps, sel.backend)
    n = len(result.cases) or 1
    chart_rows = [
        (
            f"{s.step.position}. {s.step.label}",
            s.conforming / n if result.cases else None,
            len(result.cases),
        )
        for s in result.by_step
    ]
    chart = share_bars(
        chart_rows, title="Share of journeys with each step present, on time and in order"
    )
    table = pa.table(
        {
            "position": pa.array([s.step.position for s in result.by_step], pa.int64()),
            "step": [s.step.label for s in result.by_step],
            "required": [s.step.required for s in result.by_step],
            "latest_day": pa.array([s.step.latest_day for s in result.by_step], pa.int64()),
            "present": pa.array([s.present for s in result.by_step], pa.int64()),
            "missing": pa.array([s.missing for s in result.by_step], pa.int64()),
            "late": pa.array([s.late for s in result.by_step], pa.int64()),
            "out_of_order": pa.array([s.out_of_order for s in result.by_step], pa.int64()),
            "not_yet_due": pa.array([s.not_yet_due for s in result.by_step], pa.int64()),
            "conforming": pa.array([s.conforming for s in result.by_step], pa.int64()),
        }
    )
    return {
        "pathway": pathway,
        "pathways": all_pathways,
        "result": result,
        "chart": chart if result.cases else "",
        "table": table,
        "cases_table": result.table(),
        "extra_query": urlencode({"pathway": pathway.pk}),
    }


def _dropoff(request: HttpRequest, access: Access, sel: Selection) -> dict[str, Any]:
    window = _int(request.GET.get("window"), 3, 1, 6)
    events = sel.events
    group = "service" if "service" in events.columns else "activity"
    names: dict[str, str] = dict(Service.choices) if sel.is_cohort else {}
    if sel.is_cohort and request.GET.get("events") != "all":
        events = events.filter(events["shape"] == "contact")
    result = pathways.dropoff(
        events,
        sel.cases,
        sel.backend,
        group=group,
        window=window,
        birth_activity=sel.log.birth_activity,
    )
    chart = (
        dropoff_lines(result, title="Contacts per woman per month around the birth", name=names)
        if result.groups
        else ""
    )
    matrix = [
        {
            "group": names.get(g, g),
            "cells": [result.cell(g, m) for m in result.months],
        }
        for g in result.groups
    ]
    summary = [
        {
            "group": names.get(s.group, s.group),
            "before": s.before,
            "after": s.after,
            "change": s.change,
        }
        for s in result.summaries
    ]
    table = result.table()
    table = table.set_column(
        0, "service", pa.array([names.get(g, g) for g in table["group"].to_pylist()], pa.string())
    )
    return {
        "result": result,
        "chart": chart,
        "matrix": matrix,
        "summary": summary,
        "window": window,
        "all_events": request.GET.get("events") == "all",
        "women_by_month": [(c.month, c.women) for c in result.cells[: len(result.months)]],
        "table": table,
        "extra_query": urlencode(
            {"window": window, "events": request.GET.get("events") or "contacts"}
        ),
    }


RESULTS: dict[str, tuple[str, Callable[[HttpRequest, Access, Selection], dict[str, Any]], str]] = {
    "map": ("journeys/analytics/map.html", _process_map, "table"),
    "variants": ("journeys/analytics/variants.html", _variants, "table"),
    "milestones": ("journeys/analytics/milestones.html", _milestones, "table"),
    "milestones-cases": ("", _milestones, "cases_table"),
    "timings": ("journeys/analytics/timings.html", _timings, "table"),
    "timings-cases": ("", _timings, "cases_table"),
    "conformance": ("journeys/analytics/conformance.html", _conformance, "table"),
    "conformance-cases": ("", _conformance, "cases_table"),
    "dropoff": ("journeys/analytics/dropoff.html", _dropoff, "table"),
}
PER_WOMAN = {"milestones-cases", "timings-cases", "conformance-cases"}


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value not in (None, "") else default
    except ValueError:
        number = default
    return max(low, min(high, number))


def _export_urls(access: Access, name: str, query: str) -> dict[str, str]:
    return {
        fmt: reverse("journeys_analytics_export", args=[access.study.slug, name, fmt]) + "?" + query
        for fmt in ("csv", "parquet")
    }


def _result_page(name: str) -> Callable[..., HttpResponse]:
    template, compute, _key = RESULTS[name]

    @study_view("area:journeys")
    def view(request: HttpRequest, access: Access) -> HttpResponse:
        sel = _selection(request, access)
        if sel.too_large:
            return _page(request, access, sel, template)
        context = compute(request, access, sel)
        extra = context.get("extra_query", "")
        query = f"{sel.query}&{extra}" if extra else sel.query
        links = _export_urls(access, name, query)
        case_links = {}
        if access.can("participants") and f"{name}-cases" in RESULTS:
            case_links = _export_urls(access, f"{name}-cases", query)
        return _page(
            request, access, sel, template, exports=links, case_exports=case_links, **context
        )

    view.__name__ = f"analytics_{name}"
    return view


process_map = _result_page("map")
variants = _result_page("variants")
milestones = _result_page("milestones")
timings = _result_page("timings")
conformance = _result_page("conformance")
dropoff = _result_page("dropoff")


@study_view("area:journeys")
def home(request: HttpRequest, access: Access) -> HttpResponse:
    sel = _selection(request, access)
    span = None
    if sel.n_events and not sel.too_large:
        bounds = sel.backend.to_pyarrow(
            sel.events.aggregate(
                first=sel.events["timestamp"].min(), last=sel.events["timestamp"].max()
            )
        ).to_pylist()[0]
        span = (bounds["first"], bounds["last"])
    n_activities = len(activities(sel.log))
    return _page(
        request,
        access,
        sel,
        "journeys/analytics/home.html",
        span=span,
        n_activities=n_activities,
    )


@study_view("area:journeys")
def export_result(request: HttpRequest, access: Access, result: str, fmt: str) -> HttpResponse:
    if result not in RESULTS or fmt not in ("csv", "parquet"):
        raise Http404
    if result in PER_WOMAN:
        access.require("participants")
    sel = _selection(request, access)
    if sel.too_large:
        raise Http404
    _template, compute, key = RESULTS[result]
    table = compute(request, access, sel)[key]
    audit.record(
        "export.journeys",
        study=access.study,
        changes={"result": result, "format": fmt, "rows": table.num_rows, "source": sel.source},
    )
    return _table_response(table, f"{access.study.slug}-{result}", fmt)


def _table_response(table: pa.Table, stem: str, fmt: str) -> HttpResponse:
    if fmt == "parquet":
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        response = HttpResponse(buffer.getvalue(), content_type="application/vnd.apache.parquet")
    else:
        text = io.StringIO()
        columns = table.column_names
        rows = table.to_pylist()
        write_csv(text, columns, ([row[c] for c in columns] for row in rows))
        response = HttpResponse(text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


# --------------------------------------------------------------------------------------------
# Event logs: the cohort's for interchange; imported ones


LOG_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv", eventlog.write_csv),
    "parquet": ("application/vnd.apache.parquet", "parquet", eventlog.write_parquet),
    "xes": ("application/xml", "xes", eventlog.write_xes),
    "ocel": ("application/json", "jsonocel", eventlog.write_ocel_json),
}


def _log_response(table: pa.Table, stem: str, fmt: str) -> HttpResponse:
    if fmt not in LOG_FORMATS:
        raise Http404
    content_type, suffix, writer = LOG_FORMATS[fmt]
    buffer = io.BytesIO()
    if fmt == "csv":
        table = _guard_formulas(table)
    writer(table, buffer)
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{suffix}"'
    return response


def _guard_formulas(table: pa.Table) -> pa.Table:
    """Text cells that a spreadsheet would run as formulas, made inert (core.exports' rule)."""
    from steppingstones.core.exports import spreadsheet_safe

    columns = {}
    for name in table.column_names:
        column = table[name]
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pa.array(
                [None if v is None else spreadsheet_safe(v) for v in column.to_pylist()],
                pa.string(),
            )
        columns[name] = column
    return pa.table(columns)


@study_view("participants")
def cohort_log_export(request: HttpRequest, access: Access, fmt: str) -> HttpResponse:
    access.require("area:journeys")
    if fmt not in LOG_FORMATS:
        raise Http404
    table = export_table(cohort_log(access.study, access.site_ids))
    audit.record(
        "export.journeys",
        study=access.study,
        changes={"result": "cohort-event-log", "format": fmt, "rows": table.num_rows},
    )
    return _log_response(table, f"{access.study.slug}-journeys", fmt)


def _logs_for(access: Access) -> Any:
    if access.site_ids is not None:
        raise Http404
    return EventLog.objects.filter(study=access.study)


@upload_limit(MAX_UPLOAD_BYTES)
@study_view("area:journeys")
def logs(request: HttpRequest, access: Access) -> HttpResponse:
    event_logs = _logs_for(access)
    form = LogImportForm()
    if request.method == "POST":
        form = LogImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            token = jobs.save_upload(upload)
            job = start_job(
                study=access.study,
                user=request.user,
                kind="journeys-log-import",
                label=f"Importing the event log {upload.name}",
                params={
                    "token": token,
                    "filename": upload.name,
                    "format": form.cleaned_data["format"],
                    "name": form.cleaned_data["name"],
                    "options": form.options(),
                },
            )
            return redirect("job", access.study.slug, job.pk)
    return render(
        request,
        "journeys/analytics/logs.html",
        {
            "area": AREA,
            "logs": event_logs,
            "form": form,
            "analyses": jobs.ANALYSES,
            "formats": LOG_FORMATS,
        },
    )


@study_view("area:journeys")
def log_analyse(request: HttpRequest, access: Access, log_id: int) -> HttpResponse:
    event_log = get_object_or_404(_logs_for(access), pk=log_id)
    if request.method != "POST":
        raise Http404
    analysis = request.POST.get("analysis", "")
    if analysis not in jobs.ANALYSES:
        raise Http404
    job = start_job(
        study=access.study,
        user=request.user,
        kind="journeys-log-analysis",
        label=f"{jobs.ANALYSES[analysis]}: {event_log.name}",
        params={"log": event_log.pk, "analysis": analysis},
    )
    return redirect("job", access.study.slug, job.pk)


@study_view("area:journeys")
def log_export(request: HttpRequest, access: Access, log_id: int, fmt: str) -> HttpResponse:
    access.require("participants")  # a whole log is case-level data, like a woman's rows
    event_log = get_object_or_404(_logs_for(access), pk=log_id)
    if fmt not in LOG_FORMATS:
        raise Http404
    from .cohort_log import read_log

    table = read_log(event_log)
    audit.record(
        "export.journeys",
        study=access.study,
        obj=event_log,
        changes={"result": "event-log", "format": fmt, "rows": table.num_rows},
    )
    return _log_response(table, f"event-log-{event_log.pk}", fmt)


@study_view("area:journeys")
def log_delete(request: HttpRequest, access: Access, log_id: int) -> HttpResponse:
    event_log = get_object_or_404(_logs_for(access), pk=log_id)
    if request.method != "POST":
        raise Http404
    name = event_log.name
    event_log.file.delete(save=False)
    event_log.delete()
    messages.success(request, f"The event log “{name}” was deleted.")
    return redirect("journeys_logs", access.study.slug)


# --------------------------------------------------------------------------------------------
# Timing rules and reference pathways


def _editor(access: Access) -> None:
    access.require("write")
    if access.site_ids is not None:
        raise Http404


@study_view("area:journeys")
def rule_list(request: HttpRequest, access: Access) -> HttpResponse:
    if request.method == "POST":
        _editor(access)
        added = rules.seed_rules(access.study)
        messages.success(request, f"{added} default timing rules added.")
        return redirect("journeys_rules", access.study.slug)
    found = TimingRule.objects.filter(study=access.study).select_related(
        "site", "event_type", "after_event_type"
    )
    specs = {spec.key: spec for spec in rules.rule_specs(access.study, rules=found)}
    rows = [(rule, rules.describe(specs[str(rule.pk)])) for rule in found]
    return render(
        request,
        "journeys/analytics/rules.html",
        {"area": AREA, "rows": rows, "may_edit": access.can("write") and access.site_ids is None},
    )


def _form_page(
    request: HttpRequest, title: str, form: Any, back: str, **extra: Any
) -> HttpResponse:
    return render(
        request,
        "journeys/analytics/form.html",
        {"area": AREA, "title": title, "form": form, "back": back, **extra},
    )


@study_view("area:journeys")
def rule_edit(request: HttpRequest, access: Access, rule_id: int | None = None) -> HttpResponse:
    _editor(access)
    rule = get_object_or_404(TimingRule, study=access.study, pk=rule_id) if rule_id else None
    back = reverse("journeys_rules", args=[access.study.slug])
    if request.method == "POST" and rule is not None and "delete" in request.POST:
        rule.delete()
        messages.success(request, f"The rule “{rule.name}” was deleted.")
        return redirect(back)
    form = RuleForm(request.POST or None, instance=rule, study=access.study)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.study = access.study
        saved.save()
        messages.success(request, f"The rule “{saved.name}” was saved.")
        return redirect(back)
    title = f"Edit the rule “{rule.name}”" if rule else "Add a timing rule"
    return _form_page(request, title, form, back, deletable=rule is not None)


@study_view("area:journeys")
def pathway_list(request: HttpRequest, access: Access) -> HttpResponse:
    if request.method == "POST":
        _editor(access)
        added = rules.seed_pathways(access.study)
        messages.success(request, f"{added} default reference pathways added.")
        return redirect("journeys_pathways", access.study.slug)
    found = ReferencePathway.objects.filter(study=access.study).prefetch_related(
        Prefetch("steps", queryset=PathwayStep.objects.select_related("event_type"))
    )
    return render(
        request,
        "journeys/analytics/pathways.html",
        {
            "area": AREA,
            "pathways": found,
            "may_edit": access.can("write") and access.site_ids is None,
        },
    )


@study_view("area:journeys")
def pathway_edit(
    request: HttpRequest, access: Access, pathway_id: int | None = None
) -> HttpResponse:
    _editor(access)
    pathway = (
        get_object_or_404(ReferencePathway, study=access.study, pk=pathway_id)
        if pathway_id
        else None
    )
    back = reverse("journeys_pathways", args=[access.study.slug])
    if request.method == "POST" and pathway is not None and "delete" in request.POST:
        pathway.delete()
        messages.success(request, f"The pathway “{pathway.name}” was deleted.")
        return redirect(back)
    instance = pathway or ReferencePathway(study=access.study)
    form = PathwayForm(request.POST or None, instance=instance)
    steps = step_formset(access.study, data=request.POST or None, instance=instance, prefix="steps")
    if request.method == "POST" and form.is_valid() and steps.is_valid():
        saved = form.save()
        steps.instance = saved
        steps.save()
        messages.success(request, f"The pathway “{saved.name}” was saved.")
        return redirect(back)
    title = f"Edit the pathway “{pathway.name}”" if pathway else "Add a reference pathway"
    return render(
        request,
        "journeys/analytics/pathway_form.html",
        {
            "area": AREA,
            "title": title,
            "form": form,
            "steps": steps,
            "back": back,
            "pathway": pathway,
        },
    )

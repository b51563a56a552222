"""Journey-map pages: the women and their journeys, event entry (form, coded passage, CSV
import), maps and their files, side-by-side and composite journeys, and the event catalogue."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from steppingstones.cohort.models import CarePeriod, Infant, Woman
from steppingstones.core import audit
from steppingstones.core.exports import write_csv
from steppingstones.core.middleware import upload_limit
from steppingstones.core.policy import Access, study_view
from steppingstones.evidence.figures import FigureError, svg_to
from steppingstones.journeys import events as services
from steppingstones.journeys import mapsvg
from steppingstones.journeys.forms_maps import (
    CompareForm,
    CompositeForm,
    EventForm,
    EventTypeForm,
    ImportForm,
    PassageEventForm,
)
from steppingstones.journeys.models import EventType, JourneyEvent

AREA = "area:journeys"
FORM_PAGE = "journeys/maps/form.html"
FIGURE_TYPES = {"svg": "image/svg+xml", "pdf": "application/pdf"}


def _women(access: Access) -> QuerySet[Woman]:
    return Woman.objects.filter(participant__in=access.participants()).select_related(
        "participant__site", "pregnancy"
    )


def _woman(access: Access, pseudonym: str) -> Woman:
    participant = access.participant(pseudonym)
    woman = (
        Woman.objects.filter(participant=participant)
        .select_related("participant__site", "pregnancy")
        .first()
    )
    if woman is None:
        raise Http404
    return woman


def _infant(woman: Woman, pseudonym: str) -> Infant:
    return get_object_or_404(Infant, pregnancy__woman=woman, pseudonym=pseudonym)


def _event(woman: Woman, event_id: int) -> JourneyEvent:
    return get_object_or_404(
        JourneyEvent.objects.select_related("event_type"),
        pk=event_id,
        participant=woman.participant,
    )


def _map_url(access: Access, woman: Woman) -> str:
    return reverse("journeys_map", args=[access.study.slug, woman.pseudonym])


def _figure(svg: str, fmt: str, filename: str) -> HttpResponse:
    if fmt not in FIGURE_TYPES:
        raise Http404
    try:
        body = svg_to(svg, fmt)
    except FigureError as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(body, content_type=FIGURE_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


# --- the women and their maps ----------------------------------------------------------------


@require_GET
@study_view(AREA)
def women_list(request: HttpRequest, access: Access) -> HttpResponse:
    women = _women(access).annotate(
        events=Count("participant__journey_events", distinct=True),
        experiences=Count(
            "participant__journey_events",
            filter=~Q(participant__journey_events__experience=""),
            distinct=True,
        ),
    )
    site = request.GET.get("site", "")
    if site:
        women = women.filter(participant__site=access.site(site))
    infants: dict[int, list[str]] = {}
    for infant in Infant.objects.filter(pregnancy__woman__in=women).select_related("pregnancy"):
        infants.setdefault(infant.pregnancy.woman_id, []).append(infant.pseudonym)
    rows = [{"woman": woman, "infants": infants.get(woman.pk, [])} for woman in women]
    return render(
        request,
        "journeys/maps/women.html",
        {"area": "journeys", "rows": rows, "selected_site": site},
    )


def _map_page(request: HttpRequest, access: Access, woman: Woman, infant: Infant | None) -> Any:
    journey = services.journey_of(woman, infant)
    query = f"?infant={infant.pseudonym}" if infant is not None else ""
    return render(
        request,
        "journeys/maps/map.html",
        {
            "area": "journeys",
            "woman": woman,
            "infant": infant,
            "infants": Infant.objects.filter(pregnancy__woman=woman),
            "journey": journey,
            "svg": mapsvg.journey_svg(journey, prefix="journey", interactive=True),
            "items": [
                {"item": item, "pk": int(item.key.removeprefix("ev-"))}
                for item in mapsvg.text_items(journey)
            ],
            "query": query,
            "can_write": access.can("write"),
        },
    )


@require_GET
@study_view(AREA)
def woman_map(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    woman = _woman(access, pseudonym)
    return _map_page(request, access, woman, None)  # type: ignore[no-any-return]


@require_GET
@study_view(AREA)
def infant_map(request: HttpRequest, access: Access, pseudonym: str, infant: str) -> HttpResponse:
    woman = _woman(access, pseudonym)
    return _map_page(request, access, woman, _infant(woman, infant))  # type: ignore[no-any-return]


@require_GET
@study_view(AREA)
def map_download(request: HttpRequest, access: Access, pseudonym: str, fmt: str) -> HttpResponse:
    woman = _woman(access, pseudonym)
    infant_code = request.GET.get("infant", "")
    infant = _infant(woman, infant_code) if infant_code else None
    journey = services.journey_of(woman, infant)
    name = infant.pseudonym if infant is not None else woman.pseudonym
    audit.record(
        "export.journey-map",
        study=access.study,
        obj=woman.participant,
        changes={"format": fmt, "infant": infant_code},
    )
    return _figure(mapsvg.journey_svg(journey, prefix="journey"), fmt, f"journey-{name}")


# --- entering events -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def event_add(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    access.require("write")
    woman = _woman(access, pseudonym)
    form = EventForm(request.POST or None, woman=woman)
    if request.method == "POST" and form.is_valid():
        event = services.save_event(woman, form.event_data(), user=request.user)
        messages.success(request, f"{event.event_type.name} added.")
        return redirect(_map_url(access, woman))
    return render(
        request,
        FORM_PAGE,
        {"title": f"Add an event to {woman.pseudonym}'s journey", "form": form, "woman": woman},
    )


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def event_edit(request: HttpRequest, access: Access, pseudonym: str, event_id: int) -> HttpResponse:
    access.require("write")
    woman = _woman(access, pseudonym)
    event = _event(woman, event_id)
    form = EventForm(request.POST or None, woman=woman, editing=event)
    if request.method == "POST" and form.is_valid():
        services.save_event(woman, form.event_data(), user=request.user, instance=event)
        messages.success(request, f"{event.event_type.name} changed.")
        return redirect(_map_url(access, woman))
    return render(
        request,
        FORM_PAGE,
        {"title": f"Change {event.event_type.name}", "form": form, "woman": woman, "event": event},
    )


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def event_delete(
    request: HttpRequest, access: Access, pseudonym: str, event_id: int
) -> HttpResponse:
    access.require("write")
    woman = _woman(access, pseudonym)
    event = _event(woman, event_id)
    if request.method == "POST":
        name = event.event_type.name
        event.delete()
        messages.success(request, f"{name} removed from the journey.")
        return redirect(_map_url(access, woman))
    return render(
        request,
        "journeys/maps/delete.html",
        {"woman": woman, "event": event, "when": services.when_text(event)},
    )


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def from_passage(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    access.require("write")
    woman = _woman(access, pseudonym)
    form = PassageEventForm(request.POST or None, woman=woman, user=request.user)
    if request.method == "POST" and form.is_valid():
        event = services.save_event(woman, form.event_data(), user=request.user)
        messages.success(request, f"{event.event_type.name} added from the coded passage.")
        return redirect(_map_url(access, woman))
    return render(
        request,
        FORM_PAGE,
        {
            "title": f"Add an event to {woman.pseudonym}'s journey from a coded passage",
            "form": form,
            "woman": woman,
            "no_passages": not services.passages_of(woman, request.user).exists(),
        },
    )


# --- importing ---------------------------------------------------------------------------------


def _import_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return render(
        request,
        "journeys/maps/import.html",
        {"area": "journeys", "columns": services.CSV_COLUMNS, **context},
    )


@require_http_methods(["GET", "POST"])
@upload_limit(services.MAX_IMPORT_BYTES + 64 * 1024)
@study_view(AREA)
def import_events(request: HttpRequest, access: Access) -> HttpResponse:
    access.require("participants")
    access.require("write")
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > services.MAX_IMPORT_BYTES:
            form.add_error("file", f"{upload.name}: give a CSV file under 2 MB.")
            return _import_page(request, context)
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.add_error("file", f"{upload.name} is not UTF-8 text: save it as CSV (UTF-8).")
            return _import_page(request, context)
        plan = services.plan_import(
            access.study, text, access.participants(), timezone.localdate(), request.user
        )
        context.update({"plan": plan, "text": text, "filename": upload.name})
        if plan.problems:
            context["errors"] = [str(p) for p in plan.problems]
    return _import_page(request, context)


@require_POST
@upload_limit(services.MAX_IMPORT_BYTES * 2)
@study_view(AREA)
def import_confirm(request: HttpRequest, access: Access) -> HttpResponse:
    access.require("participants")
    access.require("write")
    text = request.POST.get("text", "")
    plan = services.plan_import(
        access.study, text, access.participants(), timezone.localdate(), request.user
    )
    try:
        count = services.apply_import(plan)
    except services.ImportRefused as refused:
        return _import_page(
            request, {"form": ImportForm(), "errors": [str(p) for p in refused.problems]}
        )
    messages.success(request, f"Imported {count} event{'s' if count != 1 else ''}.")
    return redirect("journeys_women", study_slug=access.study.slug)


@require_GET
@study_view(AREA)
def import_template(request: HttpRequest, access: Access) -> HttpResponse:
    access.require("participants")
    rows = services.template_csv()
    handle = io.StringIO()
    write_csv(handle, rows[0], rows[1:])
    response = HttpResponse(handle.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="journey-events-template.csv"'
    return response


# --- side by side and composite journeys ----------------------------------------------------


def _chosen_journeys(access: Access, pseudonyms: list[str]) -> list[mapsvg.Journey]:
    return [services.journey_of(_woman(access, p)) for p in pseudonyms]


@require_GET
@study_view(AREA)
def compare(request: HttpRequest, access: Access) -> HttpResponse:
    choices = [(w.pseudonym, w.pseudonym) for w in _women(access)]
    form = CompareForm(request.GET or None, choices=choices)
    context: dict[str, Any] = {"area": "journeys", "form": form}
    if request.GET and form.is_valid():
        chosen = form.cleaned_data["women"]
        journeys = _chosen_journeys(access, chosen)
        context["maps"] = [
            {
                "journey": journey,
                "svg": mapsvg.journey_svg(journey, prefix=f"cmp-{n}"),
                "items": mapsvg.text_items(journey),
            }
            for n, journey in enumerate(journeys)
        ]
        context["query"] = request.GET.urlencode()
    return render(request, "journeys/maps/compare.html", context)


@require_GET
@study_view(AREA)
def compare_download(request: HttpRequest, access: Access, fmt: str) -> HttpResponse:
    choices = [(w.pseudonym, w.pseudonym) for w in _women(access)]
    form = CompareForm(request.GET, choices=choices)
    if not form.is_valid():
        raise Http404
    chosen = form.cleaned_data["women"]
    audit.record(
        "export.journey-compare", study=access.study, changes={"format": fmt, "women": chosen}
    )
    svg = mapsvg.compare_svg(_chosen_journeys(access, chosen))
    return _figure(svg, fmt, "journeys-side-by-side")


def _composite_women(access: Access, site: str, group: str) -> QuerySet[Woman]:
    women = Woman.objects.filter(participant__study=access.study).select_related(
        "participant__site", "pregnancy"
    )
    if access.site_ids is not None:
        women = women.filter(participant__site_id__in=access.site_ids)
    if site:
        women = women.filter(participant__site=access.site(site))
    away = (CarePeriod.Status.FOSTER, CarePeriod.Status.KINSHIP, CarePeriod.Status.ADOPTION)
    if group == "separated":
        women = women.filter(pregnancy__infants__care_periods__status__in=away)
    elif group == "home":
        women = women.exclude(pregnancy__infants__care_periods__status__in=away)
    elif group == "conference":
        women = women.filter(participant__journey_events__event_type__code="pre-birth-conference")
    return women.distinct().order_by("participant__pseudonym")


def _composite(access: Access, data: dict[str, Any]) -> tuple[list[mapsvg.Journey], str]:
    women = _composite_women(access, data.get("site", ""), data["group"])
    # Quotes typed into an event never went through de-identification review: only members who
    # may see participants' records get them; others only quotes from coded passages.
    typed_quotes = access.can("participants")
    journeys = [
        mapsvg.anonymised(services.journey_of(w, passage_quotes_only=not typed_quotes), n)
        for n, w in enumerate(women, start=1)
    ]
    label = dict(CompositeForm.GROUPS)[data["group"]].lower()
    if data.get("site"):
        label += f", {access.site(data['site']).name}"
    return journeys, label


@require_GET
@study_view(AREA)
def composite(request: HttpRequest, access: Access) -> HttpResponse:
    sites = [(s.code, s.name) for s in access.sites()]
    form = CompositeForm(request.GET or None, sites=sites)
    context: dict[str, Any] = {"area": "journeys", "form": form}
    if request.GET and form.is_valid():
        journeys, label = _composite(access, form.cleaned_data)
        try:
            journey = mapsvg.composite(journeys, quotes=form.cleaned_data["quotes"], label=label)
        except ValueError as error:
            context["error"] = str(error)[:1].upper() + str(error)[1:] + "."
        else:
            context.update(
                {
                    "journey": journey,
                    "svg": mapsvg.journey_svg(journey, prefix="composite"),
                    "items": mapsvg.text_items(journey),
                    "women": len(journeys),
                    "query": request.GET.urlencode(),
                }
            )
    return render(request, "journeys/maps/composite.html", context)


@require_GET
@study_view(AREA)
def composite_download(request: HttpRequest, access: Access, fmt: str) -> HttpResponse:
    sites = [(s.code, s.name) for s in access.sites()]
    form = CompositeForm(request.GET, sites=sites)
    if fmt not in ("svg", "pdf", "csv") or not form.is_valid():
        raise Http404
    journeys, label = _composite(access, form.cleaned_data)
    quotes = form.cleaned_data["quotes"]
    try:
        journey = mapsvg.composite(journeys, quotes=quotes, label=label)
    except ValueError:
        raise Http404 from None
    audit.record(
        "export.journey-composite",
        study=access.study,
        changes={"format": fmt, "women": len(journeys), "quotes": quotes, "group": label},
    )
    if fmt == "csv":
        handle = io.StringIO()
        write_csv(
            handle, mapsvg.COMPOSITE_CSV_HEADER, mapsvg.composite_rows(journeys, quotes=quotes)
        )
        response = HttpResponse(handle.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="composite-journey.csv"'
        return response
    return _figure(mapsvg.journey_svg(journey, prefix="composite"), fmt, "composite-journey")


# --- the catalogue -----------------------------------------------------------------------------


@require_GET
@study_view(AREA)
def catalogue(request: HttpRequest, access: Access) -> HttpResponse:
    services.active_types(access.study)
    types = EventType.objects.filter(study=access.study).annotate(used=Count("events"))
    return render(
        request,
        "journeys/maps/catalogue.html",
        {"area": "journeys", "types": types, "can_write": access.can("write")},
    )


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def event_type_edit(request: HttpRequest, access: Access, type_id: int | None = None) -> Any:
    access.require("write")
    instance = (
        get_object_or_404(EventType, pk=type_id, study=access.study)
        if type_id is not None
        else EventType(study=access.study)
    )
    form = EventTypeForm(request.POST or None, instance=instance, study=access.study)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"{saved.name} saved.")
        return redirect("journeys_catalogue", study_slug=access.study.slug)
    title = f"Change {instance.name}" if type_id is not None else "Add an event type"
    return render(
        request,
        FORM_PAGE,
        {
            "title": title,
            "form": form,
            "back": reverse("journeys_catalogue", args=[access.study.slug]),
        },
    )

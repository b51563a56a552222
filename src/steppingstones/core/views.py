"""Study pages: home, dashboard, sites, participants and the identity store."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from steppingstones.core import identity_store
from steppingstones.core.charts import horizontal_bars
from steppingstones.core.forms import IdentityForm
from steppingstones.core.models import Participant
from steppingstones.core.policy import Access, memberships_of, study_access, study_view


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(memberships_of(request.user))
    if len(memberships) == 1:
        return redirect("dashboard", study_slug=memberships[0].study.slug)
    return render(request, "core/studies.html", {"memberships": memberships})


@login_required
def switch_study(request: HttpRequest) -> HttpResponse:
    slug = request.GET.get("study", "")
    access = study_access(request.user, slug)
    return redirect("dashboard", study_slug=access.study.slug)


def _site_figures(access: Access) -> list[dict[str, object]]:
    counts = access.sites().annotate(
        women=Count("participants", filter=Q(participants__kind=Participant.Kind.WOMAN)),
        staff=Count("participants", filter=Q(participants__kind=Participant.Kind.STAFF)),
    )
    return [
        {"site": site, "women": site.women, "staff": site.staff}  # type: ignore[attr-defined]
        for site in counts
    ]


@study_view()
def dashboard(request: HttpRequest, access: Access) -> HttpResponse:
    context: dict[str, object] = {"sites": access.sites()}
    if access.can("participants"):
        figures = _site_figures(access)
        context["site_figures"] = figures
        context["site_chart"] = horizontal_bars(
            [(str(row["site"].name), int(row["women"])) for row in figures],  # type: ignore[attr-defined,call-overload]
            title="Women recruited per site",
        )
        context["total_women"] = sum(int(row["women"]) for row in figures)  # type: ignore[call-overload]
        context["total_staff"] = sum(int(row["staff"]) for row in figures)  # type: ignore[call-overload]
    context["member_count"] = access.study.memberships.count()
    return render(request, "core/dashboard.html", context)


@study_view("participants")
def site_detail(request: HttpRequest, access: Access, site_code: str) -> HttpResponse:
    site = access.site(site_code)
    participants = access.participants().filter(site=site)
    return render(request, "core/site.html", {"site": site, "participants": participants})


@study_view("participants")
def participant_list(request: HttpRequest, access: Access) -> HttpResponse:
    participants = access.participants()
    site_code = request.GET.get("site", "")
    if site_code:
        participants = participants.filter(site=access.site(site_code))
    kind = request.GET.get("kind", "")
    if kind in Participant.Kind.values:
        participants = participants.filter(kind=kind)
    return render(
        request,
        "core/participants.html",
        {
            "participants": participants,
            "selected_site": site_code,
            "selected_kind": kind,
            "kinds": Participant.Kind.choices,
        },
    )


@study_view("identity:view")
def identity_detail(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    participant = access.participant(pseudonym)
    identifiers = identity_store.read_identity(participant)
    return render(
        request,
        "core/identity.html",
        {
            "participant": participant,
            "identifiers": identifiers.as_dict() if identifiers else None,
        },
    )


@require_http_methods(["GET", "POST"])
@study_view("identity:change")
def identity_edit(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    participant = access.participant(pseudonym)
    if request.method == "POST":
        form = IdentityForm(request.POST)
        if form.is_valid():
            identity_store.write_identity(participant, form.identifiers())
            return redirect("identity", study_slug=access.study.slug, pseudonym=pseudonym)
    else:
        current = identity_store.read_identity(participant)
        form = IdentityForm(initial=current.as_dict() if current else {})
    return render(request, "core/identity_edit.html", {"participant": participant, "form": form})

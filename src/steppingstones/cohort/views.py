"""Cohort pages: the register, schedule and diary, interviews, staff, consent, import/export."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from steppingstones.cohort import calendar, exchange, services
from steppingstones.cohort.dates import format_gestation, gestation_days
from steppingstones.cohort.forms import (
    ArtefactForm,
    BirthForm,
    CarePeriodForm,
    CircumstanceForm,
    ConsentFormForm,
    FocusGroupForm,
    ImportForm,
    InfantForm,
    InterviewForm,
    NewWomanForm,
    StaffForm,
    StaffInterviewForm,
    WaveForm,
    WithdrawalForm,
    WomanForm,
)
from steppingstones.cohort.models import (
    Artefact,
    CalendarToken,
    Circumstance,
    Consent,
    ConsentForm,
    ConsentItem,
    FocusGroup,
    Infant,
    Interview,
    Pregnancy,
    StaffMember,
    Wave,
    Woman,
)
from steppingstones.cohort.retention import (
    flow_svg,
    interviews_done,
    retention_table,
    stacked_bars_svg,
)
from steppingstones.cohort.tabular import TableError, data_dictionary, write_csv, write_xlsx
from steppingstones.core import audit
from steppingstones.core.models import Membership, Participant
from steppingstones.core.policy import Access, study_view

FORM_PAGE = "cohort/form.html"


def _women(access: Access) -> QuerySet[Woman]:
    return Woman.objects.filter(participant__in=access.participants())


def _woman(access: Access, pseudonym: str) -> Woman:
    participant = access.participant(pseudonym)
    woman = Woman.objects.filter(participant=participant).select_related("participant").first()
    if woman is None:
        raise Http404
    return woman


INTERVIEWER_ROLES = ("study-manager", "researcher", "site-researcher")


def _members(access: Access, *current: int | None) -> Any:
    """The people who may interview or facilitate: cohort researchers of the study (for a site
    researcher, those who share a site or cover all sites), plus whoever is recorded already so
    that editing never blanks it."""
    memberships = Membership.objects.filter(study=access.study, role__in=INTERVIEWER_ROLES)
    if access.site_ids is not None:
        memberships = memberships.filter(Q(sites__in=access.site_ids) | ~Q(role="site-researcher"))
    ids = set(memberships.values_list("user_id", flat=True)) | {pk for pk in current if pk}
    return get_user_model().objects.filter(pk__in=ids).order_by("username")


def _form_page(
    request: HttpRequest, title: str, form: Any, back: str, **extra: Any
) -> HttpResponse:
    return render(request, FORM_PAGE, {"title": title, "form": form, "back": back, **extra})


@study_view("area:cohort")
def index(request: HttpRequest, access: Access) -> HttpResponse:
    waves = services.ensure_waves(access.study)
    records = services.retention_records(access.study, _women(access))
    sites = [site.code for site in access.sites()]
    rows = retention_table(records, [w.number for w in waves], sites)
    names = {w.number: w.name for w in waves}
    return render(
        request,
        "cohort/index.html",
        {
            "area": "cohort",
            "rows": rows,
            "waves": waves,
            "site_names": {site.code: site.name for site in access.sites()},
            "women_count": len(records),
            "interviews_done": interviews_done(records),
            "bars_svg": stacked_bars_svg(rows, names),
            "flow_svg": flow_svg(rows, names),
        },
    )


@study_view("area:cohort")
def women_list(request: HttpRequest, access: Access) -> HttpResponse:
    women = _women(access).select_related("participant__site", "pregnancy")
    site = request.GET.get("site", "")
    if site:
        women = women.filter(participant__site=access.site(site))
    status = request.GET.get("status", "")
    if status in Woman.Status.values:
        women = women.filter(status=status)
    today = timezone.localdate()
    rows = []
    for woman in women:
        pregnancy = getattr(woman, "pregnancy", None)
        born = pregnancy.birth_date if pregnancy else None
        position = (
            f"{(today - born).days // 7} weeks old"
            if born
            else f"{format_gestation(max(gestation_days(woman.edd, today), 0))} weeks pregnant"
        )
        rows.append({"woman": woman, "position": position})
    return render(
        request,
        "cohort/women.html",
        {
            "rows": rows,
            "selected_site": site,
            "selected_status": status,
            "statuses": Woman.Status.choices,
        },
    )


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def woman_add(request: HttpRequest, access: Access) -> HttpResponse:
    form = NewWomanForm(request.POST or None, sites=access.sites(), interviewers=_members(access))
    if request.method == "POST" and form.is_valid():
        site = form.cleaned_data["site"]
        with transaction.atomic():
            participant = Participant.objects.create(
                study=access.study,
                site=site,
                kind=Participant.Kind.WOMAN,
                pseudonym=services.next_pseudonym(access.study, site, Participant.Kind.WOMAN),
            )
            form.instance.participant = participant
            woman = form.save()
            Pregnancy.objects.create(woman=woman)
        messages.success(request, f"{participant.pseudonym} added.")
        return redirect(
            "cohort_woman", study_slug=access.study.slug, pseudonym=participant.pseudonym
        )
    return _form_page(
        request, "Add a woman", form, reverse("cohort_women", args=[access.study.slug])
    )


@study_view("area:cohort")
def woman_detail(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    woman = _woman(access, pseudonym)
    pregnancy, _ = Pregnancy.objects.get_or_create(woman=woman)
    interviews = {i.wave_id: i for i in woman.interviews.select_related("interviewer")}
    schedule = services.woman_schedule(woman)
    from steppingstones.cohort.schedule import windows_for

    waves = {w.number: w for w in services.ensure_waves(access.study)}
    windows = [
        {
            "wave": waves[rule.number],
            "window": window,
            "interview": interviews.get(waves[rule.number].pk),
        }
        for rule, window in windows_for(schedule, services.wave_rules(access.study))
    ]
    consents = Consent.objects.filter(participant=woman.participant).select_related("form")
    return render(
        request,
        "cohort/woman.html",
        {
            "woman": woman,
            "can_write": access.can("write"),
            "pregnancy": pregnancy,
            "infants": pregnancy.infants.prefetch_related("care_periods"),
            "circumstances": woman.circumstances.all(),
            "windows": windows,
            "consents": consents,
            "current_form": _current_form(access, "woman"),
            "withdrawal": getattr(woman.participant, "withdrawal", None),
            "gestation_at_recruitment": format_gestation(woman.gestation_at_recruitment_days)
            if woman.gestation_at_recruitment_days is not None
            else "",
            "gestation_at_birth": format_gestation(pregnancy.gestation_at_birth_days)
            if pregnancy.gestation_at_birth_days is not None
            else "",
        },
    )


def _back_to(access: Access, woman: Woman) -> str:
    return reverse("cohort_woman", args=[access.study.slug, woman.pseudonym])


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def woman_edit(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    woman = _woman(access, pseudonym)
    form = WomanForm(
        request.POST or None, instance=woman, interviewers=_members(access, woman.interviewer_id)
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect(_back_to(access, woman))
    return _form_page(request, f"Change {woman}", form, _back_to(access, woman))


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def circumstance_add(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    woman = _woman(access, pseudonym)
    form = CircumstanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.woman = woman
        form.instance.sensitivity = Circumstance.DEFAULT_SENSITIVITY[form.instance.kind]
        form.save()
        return redirect(_back_to(access, woman))
    return _form_page(request, f"Add a circumstance for {woman}", form, _back_to(access, woman))


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def birth_record(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    woman = _woman(access, pseudonym)
    pregnancy, _ = Pregnancy.objects.get_or_create(woman=woman)
    initial = {
        "birth_date": pregnancy.birth_date,
        "outcome": pregnancy.outcome,
        "infants": pregnancy.infants.count() or 1,
    }
    if pregnancy.gestation_at_birth_days is not None:
        initial["gestation_at_birth"] = format_gestation(pregnancy.gestation_at_birth_days)
    form = BirthForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        existing = pregnancy.infants.count()
        if data["birth_date"] < woman.recruited_on:
            form.add_error("birth_date", "The birth is before she was recruited in pregnancy.")
        elif data["infants"] < existing:
            form.add_error(
                "infants",
                f"{existing} infant record(s) exist already; a correction cannot remove them here.",
            )
        else:
            with transaction.atomic():
                pregnancy.birth_date = data["birth_date"]
                pregnancy.gestation_at_birth_days = data["gestation_at_birth"]
                pregnancy.outcome = data["outcome"]
                pregnancy.save()
                for index in range(existing + 1, data["infants"] + 1):
                    Infant.objects.create(
                        pregnancy=pregnancy, pseudonym=services.infant_pseudonym(woman, index)
                    )
            messages.success(request, "Birth recorded; the schedule now counts from the birth.")
            return redirect(_back_to(access, woman))
    return _form_page(request, f"Record the birth for {woman}", form, _back_to(access, woman))


def _infant(access: Access, pseudonym: str, infant: str) -> Infant:
    woman = _woman(access, pseudonym)
    found = Infant.objects.filter(pregnancy__woman=woman, pseudonym=infant).first()
    if found is None:
        raise Http404
    return found


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def infant_edit(request: HttpRequest, access: Access, pseudonym: str, infant: str) -> HttpResponse:
    found = _infant(access, pseudonym, infant)
    form = InfantForm(request.POST or None, instance=found)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect(_back_to(access, found.pregnancy.woman))
    return _form_page(request, f"Infant {found}", form, _back_to(access, found.pregnancy.woman))


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def care_period_add(
    request: HttpRequest, access: Access, pseudonym: str, infant: str
) -> HttpResponse:
    found = _infant(access, pseudonym, infant)
    form = CarePeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.infant = found
        form.save()
        return redirect(_back_to(access, found.pregnancy.woman))
    return _form_page(request, f"Care of {found}", form, _back_to(access, found.pregnancy.woman))


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def interview_edit(request: HttpRequest, access: Access, pseudonym: str, wave: int) -> HttpResponse:
    woman = _woman(access, pseudonym)
    wave_obj = Wave.objects.filter(study=access.study, number=wave).first()
    if wave_obj is None:
        raise Http404
    interview = Interview.objects.filter(woman=woman, wave=wave_obj).first()
    if interview is None and woman.status != Woman.Status.ACTIVE:
        messages.error(request, f"{woman} is no longer taking part: no interview can be booked.")
        return redirect(_back_to(access, woman))
    initial = {"wave": wave_obj, "interviewer": woman.interviewer, "date": timezone.localdate()}
    form = InterviewForm(
        request.POST or None,
        instance=interview,
        initial=initial,
        waves=Wave.objects.filter(pk=wave_obj.pk),
        interviewers=_members(access, interview.interviewer_id if interview else None),
    )
    if request.method == "POST" and form.is_valid():
        form.instance.woman = woman
        form.save()
        messages.success(request, f"Wave {wave} for {woman}: {form.instance.get_status_display()}.")
        return redirect(_back_to(access, woman))
    artefacts = interview.artefacts.all() if interview else []
    return _form_page(
        request,
        f"Wave {wave} interview with {woman}",
        form,
        _back_to(access, woman),
        interview=interview,
        artefacts=artefacts,
    )


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def artefact_upload(
    request: HttpRequest, access: Access, pseudonym: str, wave: int
) -> HttpResponse:
    woman = _woman(access, pseudonym)
    interview = Interview.objects.filter(woman=woman, wave__number=wave).first()
    if interview is None:
        raise Http404
    form = ArtefactForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        original = Path(str(upload.name)).name[:255]
        # Stored under a random name: the original may hold a person's or a place's name.
        upload.name = f"{uuid.uuid4().hex}{Path(original).suffix.lower()}"
        Artefact.objects.create(
            interview=interview,
            kind=form.cleaned_data["kind"],
            file=upload,
            original_name=original,
            size_bytes=upload.size,
            uploaded_by_id=access.membership.user_id,
        )
        messages.success(request, "File attached.")
        return redirect(
            "cohort_interview", study_slug=access.study.slug, pseudonym=pseudonym, wave=wave
        )
    return _form_page(
        request,
        f"Attach a file to wave {wave} with {woman}",
        form,
        _back_to(access, woman),
        multipart=True,
    )


@study_view("area:cohort")
def artefact_download(
    request: HttpRequest, access: Access, pseudonym: str, artefact_id: int
) -> HttpResponseBase:
    woman = _woman(access, pseudonym)
    artefact = Artefact.objects.filter(pk=artefact_id, interview__woman=woman).first()
    if artefact is None:
        raise Http404
    audit.record("artefact.download", study=access.study, obj=artefact)
    return FileResponse(
        artefact.file.open("rb"), as_attachment=True, filename=artefact.original_name
    )


def _within(request: HttpRequest, default: int = 14) -> int:
    text = request.GET.get("within", "")
    return int(text) if text.isdigit() and 0 < int(text) <= 365 else default


@study_view("area:cohort")
def schedule_view(request: HttpRequest, access: Access) -> HttpResponse:
    women = _women(access)
    site = request.GET.get("site", "")
    if site:
        women = women.filter(participant__site=access.site(site))
    researcher = request.GET.get("researcher", "")
    if researcher.isdigit() and len(researcher) < 10:
        women = women.filter(interviewer_id=int(researcher))
    within = _within(request)
    items = services.due_list(access.study, women, timezone.localdate(), within)
    users = {u.pk: u.get_username() for u in _members(access)}
    return render(
        request,
        "cohort/schedule.html",
        {
            "items": items,
            "within": within,
            "selected_site": site,
            "selected_researcher": researcher,
            "researchers": users.items(),
            "user_names": users,
        },
    )


@study_view("area:cohort")
def diary(request: HttpRequest, access: Access) -> HttpResponse:
    view = "month" if request.GET.get("view") == "month" else "week"
    try:
        start = date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        start = timezone.localdate()
    if not date(1990, 1, 1) <= start <= date(2200, 1, 1):
        raise Http404
    days = calendar.diary_days(start, view)
    interviews = (
        Interview.objects.filter(
            woman__participant__in=access.participants(), date__gte=days[0], date__lte=days[-1]
        )
        .select_related("woman__participant", "wave", "interviewer")
        .order_by("date", "time")
    )
    by_day: dict[date, list[Interview]] = {day: [] for day in days}
    for interview in interviews:
        by_day[interview.date].append(interview)
    step = timedelta(days=7 if view == "week" else 31)
    return render(
        request,
        "cohort/diary.html",
        {
            "view": view,
            "days": by_day.items(),
            "first": days[0],
            "last": days[-1],
            "previous": (days[0] - step).isoformat(),
            "next": (days[0] + step).isoformat(),
        },
    )


@study_view("area:cohort")
def calendar_link(request: HttpRequest, access: Access) -> HttpResponse:
    token = CalendarToken.objects.filter(
        user_id=access.membership.user_id, study=access.study
    ).first()
    if request.method == "POST":
        CalendarToken.objects.filter(user_id=access.membership.user_id, study=access.study).delete()
        token = CalendarToken.objects.create(
            user_id=access.membership.user_id, study=access.study, token=secrets.token_urlsafe(32)
        )
        messages.success(request, "A new calendar address was made; the old one stops working.")
    url = (
        request.build_absolute_uri(reverse("cohort_calendar_feed", args=[token.token]))
        if token
        else ""
    )
    return render(request, "cohort/calendar_link.html", {"feed_url": url})


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The interviews booked for one researcher, for a calendar app. Pseudonyms only."""
    found = CalendarToken.objects.filter(token=token).select_related("study", "user").first()
    if found is None or not found.user.is_active:
        raise Http404
    from steppingstones.core.policy import study_access

    access = study_access(found.user, found.study.slug)
    access.require("area:cohort")
    interviews = Interview.objects.filter(
        woman__participant__in=access.participants(),
        interviewer=found.user,
        status=Interview.Status.BOOKED,
    ).select_related("woman__participant", "wave")
    body = calendar.ical_feed(
        found.study.name,
        [
            calendar.CalendarEntry(
                uid=f"interview-{i.pk}@steppingstones",
                pseudonym=i.woman.pseudonym,
                wave=i.wave.number,
                wave_name=i.wave.name,
                day=i.date,
                time=i.time,
                duration_minutes=i.duration_minutes or 60,
                mode=i.get_mode_display(),
                location_type=i.location_type,
            )
            for i in interviews
        ],
    )
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@study_view("area:cohort")
def staff_list(request: HttpRequest, access: Access) -> HttpResponse:
    staff = (
        StaffMember.objects.filter(participant__in=access.participants())
        .select_related("participant__site")
        .prefetch_related("focus_groups", "interviews")
    )
    groups = (
        FocusGroup.objects.filter(site__in=access.sites())
        .select_related("site", "facilitator")
        .prefetch_related("attendees")
    )
    return render(request, "cohort/staff.html", {"staff": staff, "groups": groups})


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def staff_add(request: HttpRequest, access: Access) -> HttpResponse:
    form = StaffForm(request.POST or None, sites=access.sites())
    if request.method == "POST" and form.is_valid():
        site = form.cleaned_data["site"]
        with transaction.atomic():
            form.instance.participant = Participant.objects.create(
                study=access.study,
                site=site,
                kind=Participant.Kind.STAFF,
                pseudonym=services.next_pseudonym(access.study, site, Participant.Kind.STAFF),
            )
            form.save()
        return redirect("cohort_staff", study_slug=access.study.slug)
    return _form_page(
        request, "Add a staff participant", form, reverse("cohort_staff", args=[access.study.slug])
    )


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def focus_group_edit(
    request: HttpRequest, access: Access, group_id: int | None = None
) -> HttpResponse:
    group = None
    if group_id is not None:
        group = FocusGroup.objects.filter(pk=group_id, site__in=access.sites()).first()
        if group is None:
            raise Http404
    staff = StaffMember.objects.filter(participant__in=access.participants()).select_related(
        "participant"
    )
    form = FocusGroupForm(
        request.POST or None,
        instance=group,
        sites=access.sites(),
        staff=staff,
        users=_members(access, group.facilitator_id if group else None),
    )
    if request.method == "POST" and form.is_valid():
        form.instance.study = access.study
        form.save()
        return redirect("cohort_staff", study_slug=access.study.slug)
    return _form_page(
        request, "Focus group", form, reverse("cohort_staff", args=[access.study.slug])
    )


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def staff_interview_add(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    participant = access.participant(pseudonym)
    member = StaffMember.objects.filter(participant=participant).first()
    if member is None:
        raise Http404
    form = StaffInterviewForm(request.POST or None, users=_members(access))
    if request.method == "POST" and form.is_valid():
        form.instance.staff_member = member
        form.save()
        return redirect("cohort_staff", study_slug=access.study.slug)
    return _form_page(
        request, f"Interview with {member}", form, reverse("cohort_staff", args=[access.study.slug])
    )


def _current_form(access: Access, audience: str) -> ConsentForm | None:
    return (
        ConsentForm.objects.filter(
            study=access.study, audience=audience, effective_from__lte=timezone.localdate()
        )
        .order_by("-effective_from", "-pk")
        .first()
    )


@study_view("area:cohort")
def consent_forms(request: HttpRequest, access: Access) -> HttpResponse:
    forms_ = ConsentForm.objects.filter(study=access.study).prefetch_related("items")
    due = []
    for audience in ("woman", "staff"):
        current = _current_form(access, audience)
        if current is None:
            continue
        people = access.participants().filter(kind=audience).exclude(withdrawal__isnull=False)
        for participant in people.prefetch_related("consents__form"):
            consents = participant.consents.all()  # type: ignore[attr-defined]
            latest = max(consents, key=lambda c: c.given_on, default=None)
            if latest is None or latest.form_id != current.pk:
                due.append((participant, latest, current))
    return render(request, "cohort/consent_forms.html", {"forms": forms_, "reconsent": due})


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def consent_form_add(request: HttpRequest, access: Access) -> HttpResponse:
    form = ConsentFormForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if ConsentForm.objects.filter(
            study=access.study, audience=data["audience"], version=data["version"]
        ).exists():
            form.add_error("version", "This version exists already.")
        else:
            with transaction.atomic():
                consent_form = ConsentForm.objects.create(
                    study=access.study,
                    audience=data["audience"],
                    version=data["version"],
                    title=data["title"],
                    effective_from=data["effective_from"],
                )
                for position, (code, text, required) in enumerate(data["items"]):
                    ConsentItem.objects.create(
                        form=consent_form,
                        code=code,
                        text=text,
                        required=required,
                        position=position,
                    )
            return redirect("cohort_consent_forms", study_slug=access.study.slug)
    return _form_page(
        request,
        "New consent form version",
        form,
        reverse("cohort_consent_forms", args=[access.study.slug]),
    )


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def consent_record(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    participant = access.participant(pseudonym)
    current = _current_form(access, participant.kind)
    if current is None:
        messages.error(request, "Add a consent form for this kind of participant first.")
        return redirect("cohort_consent_forms", study_slug=access.study.slug)
    items = list(current.items.all())
    errors = []
    if request.method == "POST":
        try:
            given_on = date.fromisoformat(request.POST.get("given_on", ""))
        except ValueError:
            errors.append("Give the date consent was taken.")
            given_on = None
        answers = {item.code: request.POST.get(f"item-{item.code}") == "on" for item in items}
        missing = [item.text for item in items if item.required and not answers[item.code]]
        if missing:
            errors.append("Taking part needs: " + "; ".join(missing))
        if given_on and given_on > timezone.localdate():
            errors.append("Consent cannot be dated in the future.")
        if not errors and given_on:
            Consent.objects.create(
                participant=participant,
                form=current,
                given_on=given_on,
                taken_by_id=access.membership.user_id,
                answers=answers,
            )
            messages.success(request, f"Consent v{current.version} recorded for {participant}.")
            if participant.kind == Participant.Kind.WOMAN:
                return redirect("cohort_woman", study_slug=access.study.slug, pseudonym=pseudonym)
            return redirect("cohort_staff", study_slug=access.study.slug)
    return render(
        request,
        "cohort/consent_record.html",
        {
            "participant": participant,
            "consent_form": current,
            "items": items,
            "errors": errors,
            "today": timezone.localdate().isoformat(),
        },
    )


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def withdraw(request: HttpRequest, access: Access, pseudonym: str) -> HttpResponse:
    participant = access.participant(pseudonym)
    if hasattr(participant, "withdrawal"):
        return render(
            request,
            "cohort/withdrawn.html",
            {"withdrawal": participant.withdrawal, "participant": participant},
        )
    form = WithdrawalForm(request.POST or None, initial={"withdrawn_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        withdrawal = services.record_withdrawal(
            participant,
            on=form.cleaned_data["withdrawn_on"],
            option=form.cleaned_data["option"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
        return render(
            request, "cohort/withdrawn.html", {"withdrawal": withdrawal, "participant": participant}
        )
    return _form_page(
        request,
        f"Record the withdrawal of {participant}",
        form,
        reverse("cohort_women", args=[access.study.slug]),
        warning="Withdrawal stops all further contact and scheduling. The removal "
        "options erase data at once and cannot be undone.",
    )


def _site_codes(access: Access) -> set[str] | None:
    return None if access.site_ids is None else {site.code for site in access.sites()}


PREVIEW_SECONDS = 24 * 3600


def _forget_stale_previews(folder: Path) -> None:
    """Previews never confirmed are deleted after a day: they hold a whole cohort."""
    cutoff = time.time() - PREVIEW_SECONDS
    for old in folder.glob("*"):
        if old.is_file() and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def _import_path(token: str) -> Path:
    if not token.replace("-", "").isalnum():
        raise Http404
    matches = list((Path(settings.MEDIA_ROOT) / "imports").glob(f"{token}.*"))
    if not matches:
        raise Http404
    return matches[0]


@require_http_methods(["GET", "POST"])
@study_view("area:cohort")
def import_upload(request: HttpRequest, access: Access) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in (".csv", ".xlsx") or upload.size > exchange.MAX_UPLOAD_BYTES:
            form.add_error("file", f"{upload.name}: give a CSV or XLSX file under 50 MB.")
        else:
            data = upload.read()
            try:
                plan = exchange.plan_import(access.study, data, upload.name, _site_codes(access))
            except TableError as error:
                context["errors"] = [str(e) for e in error.errors] or [str(error)]
            else:
                token = f"{access.study.pk}-{request.user.pk}-{uuid.uuid4().hex}"
                folder = Path(settings.MEDIA_ROOT) / "imports"
                folder.mkdir(parents=True, exist_ok=True)
                _forget_stale_previews(folder)
                (folder / f"{token}{suffix}").write_bytes(data)
                # The file's own name decides a CSV's sheet: keep it for the confirm step.
                request.session[f"cohort-import-{token}"] = Path(upload.name).name
                context.update({"plan": plan, "token": token, "filename": upload.name})
    return render(request, "cohort/import.html", context)


@require_http_methods(["POST"])
@study_view("area:cohort")
def import_confirm(request: HttpRequest, access: Access) -> HttpResponse:
    token = request.POST.get("token", "")
    filename = request.session.pop(f"cohort-import-{token}", None)
    if filename is None or not token.startswith(f"{access.study.pk}-{request.user.pk}-"):
        raise Http404
    path = _import_path(token)
    try:
        plan = exchange.plan_import(access.study, path.read_bytes(), filename, _site_codes(access))
        summary = exchange.apply_import(access.study, plan)
    except TableError as error:
        return render(
            request,
            "cohort/import.html",
            {"form": ImportForm(), "errors": [str(e) for e in error.errors]},
        )
    finally:
        path.unlink(missing_ok=True)
    messages.success(request, f"Imported {summary}.")
    return redirect("cohort_index", study_slug=access.study.slug)


@study_view("area:cohort")
def export(request: HttpRequest, access: Access) -> HttpResponse:
    records = exchange.export_records(access.study, _women(access))
    kind = request.GET.get("format", "xlsx")
    audit.record(
        "export.cohort",
        study=access.study,
        changes={"format": kind, "women": len(records["women"])},
    )
    stamp = timezone.localdate().isoformat()
    if kind == "csv":
        sheet = request.GET.get("sheet", "women")
        if sheet not in exchange.SHEETS:
            raise Http404
        response = HttpResponse(
            write_csv(exchange.SHEETS[sheet], records[sheet]),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{access.study.slug}-{sheet}-{stamp}.csv"'
        )
        return response
    body = write_xlsx({name: (columns, records[name]) for name, columns in exchange.SHEETS.items()})
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{access.study.slug}-cohort-{stamp}.xlsx"'
    )
    return response


@study_view("area:cohort")
def dictionary(request: HttpRequest, access: Access) -> HttpResponse:
    return render(request, "cohort/dictionary.html", {"rows": data_dictionary(exchange.SHEETS)})


@study_view("members:manage")
def waves_settings(request: HttpRequest, access: Access) -> HttpResponse:
    waves = services.ensure_waves(access.study)
    return render(request, "cohort/waves.html", {"waves": waves})


@require_http_methods(["GET", "POST"])
@study_view("members:manage")
def wave_edit(request: HttpRequest, access: Access, wave: int) -> HttpResponse:
    found = Wave.objects.filter(study=access.study, number=wave).first()
    if found is None:
        raise Http404
    form = WaveForm(request.POST or None, instance=found)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("cohort_waves", study_slug=access.study.slug)
    return _form_page(
        request, f"Wave {wave}", form, reverse("cohort_waves", args=[access.study.slug])
    )

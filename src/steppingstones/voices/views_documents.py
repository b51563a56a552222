"""Voices pages for documents: sources, upload, de-identification review, media, settings."""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from steppingstones.cohort.models import FocusGroup, Wave
from steppingstones.core import audit
from steppingstones.core.middleware import upload_limit
from steppingstones.core.policy import Access, study_view
from steppingstones.voices import deidentify, documents, sources
from steppingstones.voices.models import Redaction, Source, VoicesSettings
from steppingstones.voices.sources import SourceError

ONE_MB = 2**20
PAGE_SIZE = 50
CHUNK = 256 * 1024
KIND_CHOICES = [(k, deidentify.DEFAULT_LABELS[k]) for k in deidentify.KINDS]


# --------------------------------------------------------------------------- forms


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=Source.Kind.choices, label="What it is")
    participant = forms.ChoiceField(
        required=False,
        label="Participant",
        help_text="A woman (or a staff member for a staff interview). Leave empty for a focus "
        "group.",
    )
    focus_group = forms.ModelChoiceField(
        queryset=FocusGroup.objects.none(), required=False, label="Focus group"
    )
    wave = forms.ModelChoiceField(queryset=Wave.objects.none(), required=False, label="Wave")
    name = forms.CharField(
        required=False,
        max_length=200,
        help_text="Optional. Without one the source is named by pseudonym, wave and kind. "
        "Never a person's name.",
    )
    file = forms.FileField(
        help_text="Transcripts: TXT, DOCX, ODT, PDF (with a text layer), VTT, SRT. Audio "
        "diaries: MP3, WAV, OGG, FLAC, M4A, WebM. Video diaries: MP4, MOV, WebM. Drawings and "
        "timelines: PNG, JPEG, WebP, SVG (drawn to PNG)."
    )
    transcript = forms.FileField(
        required=False,
        label="Transcript of the recording",
        help_text="Optional, for an audio or video diary: VTT or SRT (or text with [00:01:23] "
        "times) so that the transcript follows the recording.",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Description of the image",
        help_text="For a drawing or timeline: what it shows, for anyone who cannot see it. "
        "No names.",
    )

    def __init__(self, *args: Any, access: Access, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = access.participants().order_by("pseudonym")
        self.fields["participant"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (p.pseudonym, f"{p.pseudonym} ({p.get_kind_display().lower()})") for p in people
        ]
        groups = FocusGroup.objects.filter(
            study=access.study, site__in=access.sites()
        ).select_related("site")
        self.fields["focus_group"].queryset = groups  # type: ignore[attr-defined]
        self.fields["wave"].queryset = Wave.objects.filter(  # type: ignore[attr-defined]
            study=access.study
        ).order_by("number")


class TranscriptForm(forms.Form):
    transcript = forms.FileField(
        label="Transcript",
        help_text="VTT or SRT (or text with [00:01:23] times), aligned to the recording.",
    )


class SettingsForm(forms.ModelForm):
    class Meta:
        model = VoicesSettings
        fields = ["raw_text", "max_upload_megabytes"]
        labels = {
            "raw_text": "Raw text once de-identification is finished",
            "max_upload_megabytes": "Largest upload (MB)",
        }
        widgets = {"raw_text": forms.RadioSelect}

    def clean_max_upload_megabytes(self) -> int:
        value = int(self.cleaned_data["max_upload_megabytes"])
        if not 1 <= value <= sources.MAX_UPLOAD_MEGABYTES:
            raise forms.ValidationError(f"Give a size from 1 to {sources.MAX_UPLOAD_MEGABYTES} MB.")
        return value


# --------------------------------------------------------------------------- helpers


def _source(access: Access, source_id: int) -> Source:
    source = (
        sources.visible_sources(access)
        .select_related("participant", "focus_group__site", "wave", "site", "transcript_of")
        .filter(pk=source_id)
        .first()
    )
    if source is None:
        raise Http404
    return source


def _raw_source(access: Access, source_id: int) -> Source:
    access.require("voices:raw")
    return _source(access, source_id)


def _back(access: Access, source: Source) -> str:
    return reverse("voices_source", args=[access.study.slug, source.pk])


# --------------------------------------------------------------------------- list + upload


@require_GET
@study_view("area:voices")
def source_list(request: HttpRequest, access: Access) -> HttpResponse:
    found = sources.visible_sources(access).select_related(
        "participant", "focus_group", "wave", "site"
    )
    site = request.GET.get("site", "")
    if site:
        found = found.filter(site=access.site(site))
    wave = request.GET.get("wave", "")
    if wave.isdigit():
        found = found.filter(wave__number=int(wave))
    kind = request.GET.get("kind", "")
    if kind in Source.Kind.values:
        found = found.filter(kind=kind)
    status = request.GET.get("status", "")
    if status in Source.Status.values:
        found = found.filter(status=status)
    pseudonym = request.GET.get("participant", "").strip()
    if pseudonym:
        found = found.filter(participant__pseudonym__iexact=pseudonym)
    page = Paginator(found.order_by("-created_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "voices/documents/sources.html",
        {
            "area": "voices",
            "page": page,
            "query": query.urlencode(),
            "sites": access.sites(),
            "waves": Wave.objects.filter(study=access.study).order_by("number"),
            "kinds": Source.Kind.choices,
            "statuses": Source.Status.choices
            if access.can("voices:raw")
            else [(Source.Status.READY, Source.Status.READY.label)],
            "chosen": {
                "site": site,
                "wave": wave,
                "kind": kind,
                "status": status,
                "participant": pseudonym,
            },
            "can_upload": access.can("voices:raw") and access.can("write"),
            "can_manage": access.can("members:manage"),
        },
    )


def _upload_target(access: Access, form: UploadForm) -> sources.Target:
    data = form.cleaned_data
    participant = access.participant(data["participant"]) if data.get("participant") else None
    return sources.resolve_target(
        access.study,
        data["kind"],
        participant=participant,
        focus_group=data.get("focus_group"),
        wave=data.get("wave"),
    )


@upload_limit(sources.MAX_UPLOAD_MEGABYTES * ONE_MB + ONE_MB)
@require_http_methods(["GET", "POST"])
@study_view("area:voices")
def source_upload(request: HttpRequest, access: Access) -> HttpResponse:
    access.require("voices:raw")
    access.require("write")
    limit = sources.settings_for(access.study).max_upload_megabytes
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if request.method == "POST" and declared.isdigit() and int(declared) > (limit + 1) * ONE_MB:
        # Refused before the body is read: nothing reaches memory or disk.
        form = UploadForm(access=access)
        error = (
            f"The upload is {int(declared) / ONE_MB:,.0f} MB; this study accepts files of at "
            f"most {limit} MB. Nothing was stored."
        )
        return _upload_page(request, access, form, limit, [error], status=413)
    form = UploadForm(request.POST or None, request.FILES or None, access=access)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            source = sources.ingest(
                access.study,
                form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                target=_upload_target(access, form),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                transcript=form.cleaned_data.get("transcript"),
                user=request.user,
            )
        except SourceError as exc:
            errors.append(f"{exc}. Nothing was stored.")
        else:
            messages.success(request, f"{source.name} stored.")
            if source.status == Source.Status.REVIEW:
                return redirect("voices_source_review", access.study.slug, source.pk)
            return redirect("voices_source", access.study.slug, source.pk)
    return _upload_page(request, access, form, limit, errors, status=400 if errors else 200)


def _upload_page(
    request: HttpRequest,
    access: Access,
    form: UploadForm,
    limit: int,
    errors: list[str],
    *,
    status: int,
) -> HttpResponse:
    return render(
        request,
        "voices/documents/upload.html",
        {"area": "voices", "form": form, "limit": limit, "errors": errors},
        status=status,
    )


# --------------------------------------------------------------------------- a source


@require_GET
@study_view("area:voices")
def source_detail(request: HttpRequest, access: Access, source_id: int) -> HttpResponse:
    source = _source(access, source_id)
    transcripts = sources.visible_sources(access).filter(transcript_of=source)
    aligned = transcripts.filter(status=Source.Status.READY).first()
    recording = source.transcript_of if source.transcript_of_id else None
    if recording is not None and not sources.can_see_file(access, recording):
        recording = None
    player = source if source.media in ("audio", "video") else recording
    if player is not None and not sources.can_see_file(access, player):
        player = None
    text_source = source if source.media == Source.Media.TEXT else aligned
    shown = (
        sources.blocks(text_source.text, text_source.turns)
        if text_source is not None and text_source.status == Source.Status.READY
        else []
    )
    if source.file and sources.can_see_file(access, source):
        audit.record("voices.source.view", study=access.study, obj=source)
    return render(
        request,
        "voices/documents/source.html",
        {
            "area": "voices",
            "source": source,
            "blocks": shown,
            "player": player,
            "captioned": player is not None
            and (aligned is not None if player == source else source.status == Source.Status.READY),
            "recording": recording,
            "transcripts": transcripts,
            "aligned": aligned,
            "image": source.media == Source.Media.IMAGE and sources.can_see_file(access, source),
            "can_raw": access.can("voices:raw"),
            "can_write": access.can("write"),
            "progress": sources.review_progress(source)
            if source.status == Source.Status.REVIEW
            else None,
        },
    )


@require_GET
@study_view("area:voices")
def source_raw(request: HttpRequest, access: Access, source_id: int) -> HttpResponseBase:
    source = _raw_source(access, source_id)
    values = sources.open_raw(source)
    if request.GET.get("download") == "original" and values:
        audit.record(
            "voices.raw.download", study=access.study, obj=source, changes={"original": True}
        )
        extension = source.format or "bin"
        response = HttpResponse(
            base64.b64decode(values.get("original", "")),
            content_type=mimetypes.types_map.get(f".{extension}", "application/octet-stream"),
        )
        response["Content-Disposition"] = f'attachment; filename="source-{source.pk}.{extension}"'
        response["Cache-Control"] = "private, no-store"
        return response
    if values:
        audit.record("voices.raw.view", study=access.study, obj=source)
    response = render(
        request,
        "voices/documents/raw.html",
        {
            "area": "voices",
            "source": source,
            "raw": values.get("text", ""),
            "filename": values.get("filename", ""),
            "has_raw": bool(values),
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- review


def _review_action(request: HttpRequest, source: Source) -> str:
    """Do one review action from the POST; returns the fragment to return to."""
    action = request.POST.get("action", "")
    post = request.POST
    if action in ("accepted", "rejected"):
        redaction_id = int(post.get("redaction") or 0)
        count = sources.decide(
            source,
            redaction_id,
            action,
            label=post.get(f"label-{redaction_id}", ""),
            kind=post.get(f"kind-{redaction_id}", ""),
            everywhere=post.get("everywhere") == "1",
            user=request.user,
        )
        verb = "replaced" if action == "accepted" else "kept"
        messages.success(request, f"{count} detection(s) will be {verb}.")
        following = (
            source.redactions.filter(decision=Redaction.Decision.PENDING).order_by("start").first()
        )
        return f"#r-{following.pk}" if following else "#finish"
    if action == "add":
        start, end = post.get("start", "").strip(), post.get("end", "").strip()
        count = sources.add_redactions(
            source,
            kind=post.get("kind", ""),
            label=post.get("label", ""),
            start=int(start) if start.isdigit() else None,
            end=int(end) if end.isdigit() else None,
            words=post.get("words", ""),
            everywhere=post.get("everywhere") == "1",
            user=request.user,
        )
        messages.success(request, f"{count} identifier(s) added.")
        return "#add"
    if action == "people":
        sources.set_people(source, sources.parse_people(post.get("people", "")))
        messages.success(request, "List of people saved; the text was checked again.")
        return "#people"
    raise SourceError(f"unknown action {action!r}")


@require_http_methods(["GET", "POST"])
@study_view("area:voices")
def source_review(request: HttpRequest, access: Access, source_id: int) -> HttpResponse:
    source = _raw_source(access, source_id)
    if source.status != Source.Status.REVIEW:
        messages.info(request, "De-identification of this source is finished.")
        return redirect("voices_source", access.study.slug, source.pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.POST.get("action") == "finish":
                sources.finish_review(
                    source,
                    user=request.user,
                    confirm_image=request.POST.get("confirm") == "1",
                )
                messages.success(request, "De-identification finished: the source is ready.")
                return redirect("voices_source", access.study.slug, source.pk)
            fragment = _review_action(request, source)
        except (SourceError, ValueError) as exc:
            errors.append(str(exc))
        else:
            url = reverse("voices_source_review", args=[access.study.slug, source.pk])
            return redirect(url + fragment)
    values = sources.open_raw(source) if source.media == Source.Media.TEXT else {}
    raw = values.get("text", "")
    if values:
        audit.record("voices.raw.view", study=access.study, obj=source, changes={"review": True})
    redactions = list(source.redactions.all().order_by("start", "end"))
    people = sources.people_of(source) if source.media == Source.Media.TEXT else {}
    response = render(
        request,
        "voices/documents/review.html",
        {
            "area": "voices",
            "source": source,
            "detections": sources.detections(source, raw),
            "segments": sources.segments(raw, redactions),
            "progress": sources.review_progress(source),
            "people": "\n".join(f"{name} = {role}" for name, role in people.items()),
            "kinds": KIND_CHOICES,
            "errors": errors,
            "image": source.media == Source.Media.IMAGE,
            "speakers": source.focus_group_id is not None,
        },
        status=400 if errors else 200,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@study_view("area:voices")
def source_speakers(request: HttpRequest, access: Access, source_id: int) -> HttpResponse:
    source = _raw_source(access, source_id)
    if source.status != Source.Status.REVIEW or source.media != Source.Media.TEXT:
        raise Http404
    labels = sources.raw_speakers(source)
    audit.record("voices.raw.view", study=access.study, obj=source, changes={"speakers": True})
    staff = access.participants().filter(kind="staff").order_by("pseudonym")
    if source.focus_group_id is not None:
        attendees = staff.filter(staff_member__focus_groups=source.focus_group_id)
        staff = attendees if attendees.exists() else staff
    choices = [p.pseudonym for p in staff]
    errors: list[str] = []
    if request.method == "POST":
        mapping = {}
        for n in range(len(labels)):
            chosen = request.POST.get(f"speaker-{n}", "")
            if chosen and chosen not in choices:
                errors.append(f"speaker {n + 1}: {chosen} is not a staff participant you can see")
            mapping[n] = chosen
        if not errors:
            try:
                sources.map_speakers(source, mapping)
            except SourceError as exc:
                errors.append(str(exc))
            else:
                messages.success(request, "Speakers mapped to staff participants.")
                return redirect("voices_source_review", access.study.slug, source.pk)
    current = {int(n): p for n, p in source.speaker_map.items() if str(n).isdigit()}
    rows = [
        {"index": n, "label": label, "chosen": current.get(n, "")} for n, label in enumerate(labels)
    ]
    return render(
        request,
        "voices/documents/speakers.html",
        {"area": "voices", "source": source, "rows": rows, "choices": choices, "errors": errors},
        status=400 if errors else 200,
    )


@upload_limit(60 * ONE_MB)
@require_http_methods(["GET", "POST"])
@study_view("area:voices")
def source_transcript(request: HttpRequest, access: Access, source_id: int) -> HttpResponse:
    source = _raw_source(access, source_id)
    access.require("write")
    if source.media not in (Source.Media.AUDIO, Source.Media.VIDEO):
        raise Http404
    form = TranscriptForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            child = sources.attach_transcript(
                source, form.cleaned_data["transcript"], user=request.user
            )
        except SourceError as exc:
            errors.append(f"{exc}. Nothing was stored.")
        else:
            messages.success(request, "Transcript attached; review its de-identification.")
            return redirect("voices_source_review", access.study.slug, child.pk)
    return render(
        request,
        "voices/documents/transcript.html",
        {"area": "voices", "source": source, "form": form, "errors": errors},
        status=400 if errors else 200,
    )


# --------------------------------------------------------------------------- files


def _chunks(handle: Any, first: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(first)
        left = length
        while left > 0:
            data = handle.read(min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            yield data
    finally:
        handle.close()


@require_GET
@study_view("area:voices")
def source_file(request: HttpRequest, access: Access, source_id: int) -> HttpResponseBase:
    source = _source(access, source_id)
    if not sources.can_see_file(access, source):
        raise Http404
    handle = source.file.open("rb")
    size = source.file.size
    try:
        wanted = sources.parse_range(request.headers.get("Range", ""), size)
    except ValueError:
        handle.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    first, last = wanted if wanted is not None else (0, size - 1)
    if first == 0:
        audit.record("voices.media.view", study=access.study, obj=source)
    response = StreamingHttpResponse(
        _chunks(handle, first, last - first + 1),
        status=206 if wanted is not None else 200,
        content_type=source.content_type or "application/octet-stream",
    )
    response["Content-Length"] = str(last - first + 1)
    if wanted is not None:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'inline; filename="source-{source.pk}.{source.format}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- settings


@require_http_methods(["GET", "POST"])
@study_view("members:manage")
def voices_settings(request: HttpRequest, access: Access) -> HttpResponse:
    access.require("write")
    current = sources.settings_for(access.study)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Voices settings saved.")
        return redirect("voices_settings", access.study.slug)
    return render(
        request,
        "voices/documents/settings.html",
        {"area": "voices", "form": form, "maximum": sources.MAX_UPLOAD_MEGABYTES},
    )


@require_GET
@study_view("area:voices")
def source_captions(request: HttpRequest, access: Access, source_id: int) -> HttpResponse:
    """Captions for a recording, from its de-identified, timed transcript (WebVTT)."""
    recording = _source(access, source_id)
    if not sources.can_see_file(access, recording):
        raise Http404
    transcript = (
        sources.visible_sources(access)
        .filter(transcript_of=recording, status=Source.Status.READY)
        .first()
    )
    if transcript is None:
        raise Http404
    response = HttpResponse(
        documents.captions_vtt(transcript.text, transcript.turns), content_type="text/vtt"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response

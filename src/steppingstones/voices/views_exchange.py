"""The REFI-QDA exchange page: import a ``.qdpx`` project, export the study's analysis.

Import and export need the "participants" and "write" capabilities together, which study
managers, researchers and site researchers have and peer researchers, advisory group members
and auditors do not: an export is the whole analysed dataset. A site researcher imports into
and exports from their own sites only.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from steppingstones.core import audit
from steppingstones.core.jobs import start_job
from steppingstones.core.middleware import upload_limit
from steppingstones.core.models import Job, Site
from steppingstones.core.policy import Access, study_view
from steppingstones.voices import jobs
from steppingstones.voices.models import Source, VoicesSettings
from steppingstones.voices.refiqda import RefiQdaError, read_qdpx

MAX_QDPX_BYTES = 200 * 1024 * 1024
"""The largest upload any study accepts; a study's own setting may be lower."""
CHECK_NOW_BYTES = 20 * 1024 * 1024
"""Files up to this size are read while the page waits, so a broken file is reported at
once; larger ones are read by the background job, which reports the same errors."""
RECENT_JOBS = 20


class ImportForm(forms.Form):
    file = forms.FileField(
        label="REFI-QDA project file (.qdpx)",
        help_text="Exported by NVivo, ATLAS.ti, MAXQDA, QualCoder or this platform.",
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(),
        label="Site the sources belong to",
        empty_label=None,
        help_text="Every source in the file is stored at this site.",
    )
    deidentified = forms.BooleanField(
        label="The texts in this file are already de-identified",
        help_text="Imported texts are stored as given, ready for analysis, without review.",
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ModelChoiceField)
        site_field.queryset = sites
        if sites.count() == 1:
            site_field.initial = sites.first()


def _require_exchange(access: Access) -> None:
    access.require("participants")
    access.require("write")


def _max_bytes(access: Access) -> int:
    config = VoicesSettings.objects.filter(study=access.study).first()
    if config is None:
        return MAX_QDPX_BYTES
    return min(MAX_QDPX_BYTES, config.max_upload_megabytes * 1024 * 1024)


def _site_ids(access: Access) -> list[int] | None:
    return sorted(access.site_ids) if access.site_ids is not None else None


def _context(access: Access, form: ImportForm) -> dict[str, Any]:
    sources = Source.objects.filter(study=access.study, status=Source.Status.READY)
    if access.site_ids is not None:
        sources = sources.filter(site_id__in=access.site_ids)
    recent = Job.objects.filter(
        study=access.study, user_id=access.membership.user_id, kind__in=jobs.EXCHANGE_KINDS
    ).order_by("-created_at")[:RECENT_JOBS]
    return {
        "area": "voices",
        "form": form,
        "jobs": recent,
        "ready_sources": sources.count(),
        "max_megabytes": _max_bytes(access) // (1024 * 1024),
        "export_kind": jobs.EXPORT_KIND,
        "site_limited": access.site_ids is not None,
        "sites": access.sites(),
    }


@upload_limit(MAX_QDPX_BYTES + 1024 * 1024)
@study_view("area:voices")
@require_http_methods(["GET", "POST"])
def exchange(request: HttpRequest, access: Access) -> HttpResponse:
    """The page, and the import upload (a POST starts the import job)."""
    _require_exchange(access)
    form = ImportForm(request.POST or None, request.FILES or None, sites=access.sites())
    context = _context(access, form)
    if request.method != "POST" or not form.is_valid():
        return render(request, "voices/exchange/exchange.html", context)
    upload = form.cleaned_data["file"]
    name = Path(upload.name).name
    if not name.casefold().endswith(".qdpx"):
        form.add_error("file", f"{name} is not a .qdpx file (a REFI-QDA project).")
    elif upload.size > _max_bytes(access):
        form.add_error("file", f"{name} is larger than the {context['max_megabytes']} MB allowed.")
    if form.errors:
        return render(request, "voices/exchange/exchange.html", context)
    data = upload.read()
    if len(data) <= CHECK_NOW_BYTES:
        try:
            read_qdpx(data, label=name)
        except RefiQdaError as error:
            context["error"] = str(error)
            return render(request, "voices/exchange/exchange.html", context)
    token = f"{access.study.pk}-{request.user.pk}-{uuid.uuid4().hex}"
    path = jobs.upload_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    site = form.cleaned_data["site"]
    job = start_job(
        study=access.study,
        user=request.user,
        kind=jobs.IMPORT_KIND,
        label=f"Import {name} into {site.name}",
        params={
            "token": token,
            "filename": name,
            "site": site.pk,
            "site_ids": _site_ids(access),
        },
    )
    return redirect("job", access.study.slug, job.pk)


@study_view("area:voices")
@require_POST
def export(request: HttpRequest, access: Access) -> HttpResponse:
    _require_exchange(access)
    sites = (
        "" if access.site_ids is None else " (" + ", ".join(s.code for s in access.sites()) + ")"
    )
    job = start_job(
        study=access.study,
        user=request.user,
        kind=jobs.EXPORT_KIND,
        label=f"Export {access.study.name}{sites} as REFI-QDA",
        params={"site_ids": _site_ids(access)},
    )
    messages.success(request, "The export has started.")
    return redirect("job", access.study.slug, job.pk)


@study_view("area:voices")
def download(request: HttpRequest, access: Access, job_id: str) -> HttpResponseBase:
    """An export's ``.qdpx`` file, for the member who made it while they may still export."""
    _require_exchange(access)
    job = Job.objects.filter(
        pk=job_id,
        study=access.study,
        user_id=access.membership.user_id,
        kind=jobs.EXPORT_KIND,
        status=Job.Status.DONE,
    ).first()
    if job is None or not job.result_file:
        raise Http404
    path = Path(settings.MEDIA_ROOT) / job.result_file
    if not path.is_file():
        raise Http404
    audit.record("export.download", study=access.study, obj=job, changes={"file": path.name})
    filename = f"{access.study.slug}-voices-{job.created_at:%Y%m%d-%H%M}.qdpx"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename)

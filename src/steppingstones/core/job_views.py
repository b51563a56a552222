"""Following a background job and fetching what it produced."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from steppingstones.core import audit
from steppingstones.core.jobs import capability_for
from steppingstones.core.models import Job
from steppingstones.core.policy import Access, study_view


def _job(access: Access, request: HttpRequest, job_id: str) -> Job:
    job = Job.objects.filter(
        pk=job_id, study=access.study, user_id=access.membership.user_id
    ).first()
    needed = capability_for(job.kind) if job is not None else None
    if job is None or needed is None or not access.can(needed):
        raise Http404
    return job


@study_view()
def job_detail(request: HttpRequest, access: Access, job_id: str) -> HttpResponse:
    job = _job(access, request, job_id)
    template = "core/_job_progress.html" if request.htmx else "core/job.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job})


@study_view()
def job_download(request: HttpRequest, access: Access, job_id: str) -> HttpResponseBase:
    job = _job(access, request, job_id)
    if job.status != Job.Status.DONE or not job.result_file:
        raise Http404
    path = Path(settings.MEDIA_ROOT) / job.result_file
    if not path.is_file():
        raise Http404
    audit.record("export.download", study=access.study, obj=job, changes={"file": path.name})
    name = f"{job.kind}-{job.created_at:%Y%m%d-%H%M}{path.suffix or '.csv'}"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)

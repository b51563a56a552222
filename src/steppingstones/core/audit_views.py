"""The audit trail page, its CSV export (a background job) and job progress."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from steppingstones.core import audit
from steppingstones.core.audit_export import filtered_events
from steppingstones.core.forms import AuditFilterForm
from steppingstones.core.jobs import start_job
from steppingstones.core.models import Job
from steppingstones.core.policy import Access, study_view


@study_view("audit:view")
def audit_list(request: HttpRequest, access: Access) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(filtered_events(access.study.pk, filters), 50).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@require_POST
@study_view("audit:view")
def audit_export(request: HttpRequest, access: Access) -> HttpResponse:
    form = AuditFilterForm(request.POST)
    filters = form.cleaned_data if form.is_valid() else {}
    params = {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in filters.items()
        if value
    }
    job = start_job(
        study=access.study,
        user=request.user,
        kind="audit-export",
        label="Audit trail export (CSV)",
        params=params,
    )
    return redirect("job", study_slug=access.study.slug, job_id=job.pk)


def _job(access: Access, request: HttpRequest, job_id: str) -> Job:
    job = Job.objects.filter(
        pk=job_id, study=access.study, user_id=access.membership.user_id
    ).first()
    if job is None:
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
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=f"{job.kind}-{job.created_at:%Y%m%d-%H%M}.csv"
    )

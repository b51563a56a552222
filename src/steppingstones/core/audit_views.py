"""The audit trail page, its CSV export (a background job) and job progress."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from steppingstones.core import audit
from steppingstones.core.exports import write_csv
from steppingstones.core.forms import AuditFilterForm
from steppingstones.core.jobs import JobProgress, job_kind, start_job
from steppingstones.core.models import AuditEvent, Job
from steppingstones.core.policy import Access, study_view

AUDIT_COLUMNS = [
    "id", "at", "actor", "action", "object_type", "object_id", "object", "changes",
    "ip_address", "user_agent",
]


def filtered_events(study_id: int, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(study_id=study_id)
    if filters.get("actor"):
        events = events.filter(actor_name__icontains=filters["actor"])
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    zone = timezone.get_current_timezone()
    if filters.get("since"):
        events = events.filter(at__gte=datetime.combine(filters["since"], time.min, zone))
    if filters.get("until"):
        events = events.filter(at__lte=datetime.combine(filters["until"], time.max, zone))
    return events


@study_view("audit:view")
def audit_list(request: HttpRequest, access: Access) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(filtered_events(access.study.pk, filters), 50).get_page(request.GET.get("page"))
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
    params = {key: value.isoformat() if hasattr(value, "isoformat") else value
              for key, value in filters.items() if value}
    job = start_job(
        study=access.study, user=request.user, kind="audit-export",
        label="Audit trail export (CSV)", params=params,
    )
    return redirect("job", study_slug=access.study.slug, job_id=job.pk)


@job_kind("audit-export")
def export_audit_trail(job: Job, progress: JobProgress) -> str:
    filters: dict[str, Any] = dict(job.params)
    for key in ("since", "until"):
        if filters.get(key):
            filters[key] = datetime.fromisoformat(filters[key]).date()
    events = filtered_events(job.study_id, filters).order_by("at", "id")
    progress.start(events.count(), "Writing audit trail")
    target = Path(settings.MEDIA_ROOT) / "exports" / f"{job.pk}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)

    def rows() -> Any:
        for event in events.iterator(chunk_size=2000):
            progress.advance()
            yield [
                event.pk, event.at.isoformat(), event.actor_name, event.action,
                event.object_type, event.object_id, event.object_repr, event.changes,
                event.ip_address, event.user_agent,
            ]

    with target.open("w", encoding="utf-8", newline="") as handle:
        written = write_csv(handle, AUDIT_COLUMNS, rows())
    job.result_file = str(target.relative_to(settings.MEDIA_ROOT))
    audit.record("export.audit", study=job.study_id, obj=job, changes={"rows": written})
    return f"{written} events written."


def _job(access: Access, request: HttpRequest, job_id: str) -> Job:
    job = Job.objects.filter(pk=job_id, study=access.study, user=request.user).first()
    if job is None:
        raise Http404
    return job


@study_view()
def job_detail(request: HttpRequest, access: Access, job_id: str) -> HttpResponse:
    job = _job(access, request, job_id)
    template = "core/_job_progress.html" if request.htmx else "core/job.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job})


@study_view()
def job_download(request: HttpRequest, access: Access, job_id: str) -> HttpResponse:
    job = _job(access, request, job_id)
    if job.status != Job.Status.DONE or not job.result_file:
        raise Http404
    path = Path(settings.MEDIA_ROOT) / job.result_file
    if not path.is_file():
        raise Http404
    audit.record("export.download", study=access.study, obj=job, changes={"file": path.name})
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"{job.kind}-{job.created_at:%Y%m%d-%H%M}.csv")



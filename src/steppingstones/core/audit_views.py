"""The audit trail page, its CSV export (a background job) and job progress."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from steppingstones.core.audit_export import filtered_events
from steppingstones.core.forms import AuditFilterForm
from steppingstones.core.jobs import start_job
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

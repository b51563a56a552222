"""Exporting the audit trail as CSV: a background job, since a trail can run to millions of rows."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from steppingstones.core import audit
from steppingstones.core.exports import write_csv
from steppingstones.core.jobs import JobProgress, job_kind
from steppingstones.core.models import AuditEvent, Job

AUDIT_COLUMNS = [
    "id",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "changes",
    "ip_address",
    "user_agent",
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


@job_kind("audit-export", capability="audit:view")
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
                event.pk,
                event.at.isoformat(),
                event.actor_name,
                event.action,
                event.object_type,
                event.object_id,
                event.object_repr,
                event.changes,
                event.ip_address,
                event.user_agent,
            ]

    with target.open("w", encoding="utf-8", newline="") as handle:
        written = write_csv(handle, AUDIT_COLUMNS, rows())
    job.result_file = str(target.relative_to(settings.MEDIA_ROOT))
    audit.record("export.audit", study=job.study_id, obj=job, changes={"rows": written})
    return f"{written} events written."

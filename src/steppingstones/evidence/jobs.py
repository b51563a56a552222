"""Background work for reviews: importing a search file, finding duplicates, re-ranking."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from steppingstones.core.jobs import JobProgress, job_kind
from steppingstones.core.models import Job
from steppingstones.evidence import references, services
from steppingstones.evidence.models import Review, Source


def _review(job: Job) -> Review:
    return Review.objects.get(study=job.study, pk=job.params["review"])


@job_kind("reference-import", capability="area:evidence")
def import_references(job: Job, progress: JobProgress) -> str:
    review = _review(job)
    source = Source.objects.get(review=review, pk=job.params["source"])
    path = Path(settings.MEDIA_ROOT) / "reference-imports" / job.params["token"]
    try:
        data = path.read_bytes()
        progress.start(0, f"Reading {job.params['filename']}")

        def parsed(done: int, total: int | None) -> None:
            progress.job.total = total or done
            progress.job.done = done
            progress.job.message = f"Read {done:,} records"
            progress.advance(0)

        result = references.parse(
            data,
            format=job.params["format"],
            filename=job.params["filename"],
            mapping=job.params.get("mapping"),
            progress=parsed,
        )
        batch = services.store_references(
            review,
            source,
            result.records,
            filename=job.params["filename"],
            file_format=result.format,
            encoding=result.encoding,
            warnings=result.warnings,
            user=job.user,
            progress=progress,
        )
    finally:
        path.unlink(missing_ok=True)
    return f"Imported {batch.record_count:,} records from {batch.filename} ({source.name})."


@job_kind("reference-dedup", capability="area:evidence")
def find_duplicates(job: Job, progress: JobProgress) -> str:
    review = _review(job)
    progress.start(1, "Comparing records")
    found, merged = services.find_and_store_duplicates(
        review, automatic=bool(job.params.get("automatic"))
    )
    progress.advance()
    return f"{found} duplicate groups found; {merged} merged automatically."


@job_kind("screening-rank", capability="area:evidence")
def rank_records(job: Job, progress: JobProgress) -> str:
    review = _review(job)
    if services.rank(review, progress=progress):
        return "The screening queue was re-ranked."
    return "Not yet ranked: the model needs one relevant and one irrelevant record."

"""Background work for Voices: importing and exporting REFI-QDA projects (``.qdpx``)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from steppingstones.core.jobs import JobProgress, job_kind
from steppingstones.core.models import Job, Participant, Site
from steppingstones.voices import exchange
from steppingstones.voices.refiqda import RefiQdaError

IMPORT_KIND = "voices-import-qdpx"
EXPORT_KIND = "voices-export-qdpx"
EXCHANGE_KINDS = (IMPORT_KIND, EXPORT_KIND)
EXCHANGE_CAPABILITY = "participants"
"""Following an exchange job or fetching its file needs what starting one needs besides
"write": exports carry participants' pseudonymised characteristics as case variables."""
IMPORT_FOLDER = "voices-imports"
EXPORT_FOLDER = "exports"


class Refused(Exception):
    """A project file that was not imported; the message names the file, element and line."""


def upload_path(token: str) -> Path:
    return Path(settings.MEDIA_ROOT) / IMPORT_FOLDER / token


def _site_ids(job: Job) -> list[int] | None:
    ids = job.params.get("site_ids")
    return [int(i) for i in ids] if ids is not None else None


@job_kind(IMPORT_KIND, capability=EXCHANGE_CAPABILITY)
def import_project(job: Job, progress: JobProgress) -> str:
    path = upload_path(job.params["token"])
    filename = job.params["filename"]
    try:
        site = Site.objects.get(study=job.study, pk=job.params["site"])
        participants = Participant.objects.filter(study=job.study)
        site_ids = _site_ids(job)
        if site_ids is not None:
            participants = participants.filter(site_id__in=site_ids)
        progress.start(0, f"Reading {filename}")
        summary = exchange.import_qdpx(
            job.study, path, site=site, label=filename, participants=participants, progress=progress
        )
    except (RefiQdaError, exchange.ExchangeError) as error:
        raise Refused(f"nothing was imported. {error}") from None
    finally:
        path.unlink(missing_ok=True)
    return f"Imported {filename}: {summary.describe()}."


@job_kind(EXPORT_KIND, capability=EXCHANGE_CAPABILITY)
def export_project(job: Job, progress: JobProgress) -> str:
    data, summary = exchange.export_qdpx(
        job.study, site_ids=_site_ids(job), progress=progress, user=job.user
    )
    target = Path(settings.MEDIA_ROOT) / EXPORT_FOLDER / f"{job.pk}.qdpx"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    job.result_file = str(target.relative_to(settings.MEDIA_ROOT))
    return f"Exported {summary.describe()}."

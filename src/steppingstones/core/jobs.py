"""Background jobs: long work that runs outside the request and reports progress.

A job kind is a function ``handler(job, progress) -> message`` registered with
:func:`job_kind`. :func:`start_job` stores a Job and queues it on Django's task framework (the
database backend: no broker needed); the worker (``steppingstones worker``, started by
``serve``) runs it and the job's page shows a progress bar that updates itself.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django_tasks import task

from steppingstones.core import audit
from steppingstones.core.models import Job

JobHandler = Callable[[Job, "JobProgress"], str]
_HANDLERS: dict[str, JobHandler] = {}
_CAPABILITIES: dict[str, str] = {}


def job_kind(kind: str, *, capability: str) -> Callable[[JobHandler], JobHandler]:
    """Register a job kind; ``capability`` is what a member needs to follow it or fetch its file
    (checked again at every look, so a member whose role changes loses access to old results)."""

    def register(handler: JobHandler) -> JobHandler:
        _HANDLERS[kind] = handler
        _CAPABILITIES[kind] = capability
        return handler

    return register


def capability_for(kind: str) -> str | None:
    """The capability a job kind needs; None for a kind no longer registered."""
    return _CAPABILITIES.get(kind)


class JobProgress:
    """Writes progress to the Job row, at most a few times a second."""

    def __init__(self, job: Job, min_interval: float = 0.25) -> None:
        self.job = job
        self.min_interval = min_interval
        self._last_write = 0.0

    def _write(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_write >= self.min_interval:
            Job.objects.filter(pk=self.job.pk).update(
                total=self.job.total, done=self.job.done, message=self.job.message
            )
            self._last_write = now

    def start(self, total: int, label: str = "") -> None:
        self.job.total, self.job.done = total, 0
        if label:
            self.job.message = label
        self._write(force=True)

    def advance(self, amount: int = 1) -> None:
        self.job.done = min(self.job.done + amount, self.job.total or self.job.done + amount)
        self._write()

    def finish(self) -> None:
        self._write(force=True)


def start_job(
    *, study: Any, user: Any, kind: str, label: str, params: dict[str, Any] | None = None
) -> Job:
    if kind not in _HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job.objects.create(study=study, user=user, kind=kind, label=label, params=params or {})
    run_job.enqueue(str(job.pk))
    return job


@task()
def run_job(job_id: str) -> None:
    job = Job.objects.select_related("study", "user").get(pk=job_id)
    actor = audit.Actor(user_id=job.user_id, name=job.user.get_username() if job.user else "system")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    progress = JobProgress(job)
    try:
        with audit.acting_as(actor):
            message = _HANDLERS[job.kind](job, progress)
    except Exception as error:
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            message=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        traceback.print_exc()
        return
    progress.finish()
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.DONE,
        message=message,
        finished_at=timezone.now(),
        result_file=job.result_file,
    )

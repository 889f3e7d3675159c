"""The lease every job lives by, written once for every job type.

queued ──acquire──► running ──finish──► succeeded | failed | cancelled
   ▲                   │ heartbeat (every stall/4)
   └── redispatch ◄────┘ stale heartbeat: the worker died; after ``max attempts`` deaths: failed

Exactly-once completion: a worker may only execute a job it *acquired* with one conditional
UPDATE — the job is queued, or running with a heartbeat older than the stall window (its worker
died) and attempts left. A duplicate delivery finds the job taken or finished and does nothing;
a job finishes exactly once, by ``job_finish``'s conditional update. Settings are read when
used (``FLYWHEEL_STALL_SECONDS``, ``FLYWHEEL_MAX_ATTEMPTS``,
``FLYWHEEL_REDISPATCH_QUEUED_SECONDS``), so tests and operators can change them.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from flywheel.errors import ApplicationError
from training.models import FINISHED, Job, JobStatus
from training.signals import send_job_finished

from .jobs import JobType, job_type_of, job_types

logger = logging.getLogger(__name__)

LOG_TAIL_CHARS = 20_000
EXECUTE_TASK = "training.tasks.execute_job"


def stall_seconds() -> int:
    return settings.FLYWHEEL_STALL_SECONDS


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def job_dispatch(job_type: JobType, job_id: int) -> None:
    """Send the job to its queue. A broker outage is logged, not raised: the job stays queued
    and the recovery sweep sends it again. ``ignore_result``: nothing reads Celery's result
    backend, and subscribing to it would wait ~20 s on a Redis outage (training/tasks.py)."""
    try:
        job = job_type.model.objects.get(pk=job_id)
        current_app.send_task(
            EXECUTE_TASK, (job_type.name, job_id), queue=job_type.queue(job), ignore_result=True
        )
    except Exception:  # noqa: BLE001 — any broker error; the recovery sweep retries
        logger.exception("Could not dispatch %s %s; it stays queued", job_type.name, job_id)


def job_dispatch_on_commit(job: Job) -> None:
    job_type = job_type_of(job)
    transaction.on_commit(lambda: job_dispatch(job_type, job.pk))


def job_acquire(job_type: JobType, job_id: int) -> bool:
    """Take the job for this worker, or return False if it is finished or alive elsewhere."""
    now = timezone.now()
    stale = now - timedelta(seconds=stall_seconds())
    jobs = job_type.model.objects
    taken = jobs.filter(
        Q(status=JobStatus.QUEUED)
        | Q(
            status=JobStatus.RUNNING,
            heartbeat_at__lt=stale,
            attempts__lt=settings.FLYWHEEL_MAX_ATTEMPTS,
        ),
        pk=job_id,
        cancel_requested=False,
    ).update(
        status=JobStatus.RUNNING,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        worker=worker_name(),
        started_at=now,
    )
    if not taken:
        # A cancelled-while-queued job is already final; one cancelled while its worker was
        # dead is finished here.
        job_finish(job_type, job_id, JobStatus.CANCELLED, only_if_stale=True, cancelled=True)
    return bool(taken)


def job_cancel_requested(job_type: JobType, job_id: int) -> bool:
    return job_type.model.objects.filter(pk=job_id, cancel_requested=True).exists()


def job_heartbeat(job_type: JobType, job_id: int) -> bool:
    """Keep the job alive; returns whether cancellation was requested."""
    job_type.model.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        heartbeat_at=timezone.now()
    )
    return job_cancel_requested(job_type, job_id)


def job_update(job_type: JobType, job_id: int, **fields) -> None:
    """Progress fields of a running job, written with a heartbeat."""
    job_type.model.objects.filter(pk=job_id).update(heartbeat_at=timezone.now(), **fields)


def job_append_log(job_type: JobType, job_id: int, text: str) -> None:
    tail = job_type.model.objects.only("log_tail").get(pk=job_id).log_tail
    job_type.model.objects.filter(pk=job_id).update(log_tail=(tail + text)[-LOG_TAIL_CHARS:])


def job_finish(
    job_type: JobType,
    job_id: int,
    status: JobStatus,
    *,
    error: str = "",
    only_if_stale: bool = False,
    cancelled: bool = False,
    **fields,
) -> bool:
    """Final state, once: only a running job can finish (``only_if_stale``: one whose worker
    is dead; ``cancelled``: one whose cancel was requested)."""
    now = timezone.now()
    running = job_type.model.objects.filter(pk=job_id, status=JobStatus.RUNNING)
    if only_if_stale:
        running = running.filter(heartbeat_at__lt=now - timedelta(seconds=stall_seconds()))
    if cancelled:
        running = running.filter(cancel_requested=True)
    finished = bool(
        running.update(status=status, error=error[-LOG_TAIL_CHARS:], finished_at=now, **fields)
    )
    if finished:
        send_job_finished(kind=job_type.name, job_id=job_id)
    return finished


@transaction.atomic
def job_cancel(job: Job) -> Job:
    """Cooperative: a queued job is cancelled at once; a running one stops at its next step
    (its reporter sees ``cancel_requested``). Cancelling a finished job is a conflict."""
    job_type = job_type_of(job)
    locked = job_type.model.objects.select_for_update().get(pk=job.pk)
    if locked.status in FINISHED:
        raise ApplicationError(f"It already {locked.status}.", code="job_finished", status=409)
    locked.cancel_requested = True
    fields = ["cancel_requested"]
    if locked.status == JobStatus.QUEUED:
        locked.status, locked.finished_at = JobStatus.CANCELLED, timezone.now()
        fields += ["status", "finished_at"]
        send_job_finished(kind=job_type.name, job_id=locked.pk)
    locked.save(update_fields=fields)
    return locked


def worker_lost_message(attempts: int, worker: str = "") -> str:
    last = f", the last on {worker}" if worker else ""
    return (
        f"Its worker stopped (no heartbeat for {stall_seconds()} s) on each of its {attempts} "
        f"attempts{last}, so it is not sent again. A job that kills its worker, e.g. by running "
        "out of memory, ends this way: see the worker's log and the log tail."
    )


def jobs_to_redispatch(job_type: JobType) -> list[int]:
    """Jobs whose worker died (stale heartbeat) with attempts left, or whose dispatch was lost
    (queued for a while with no worker)."""
    now = timezone.now()
    queued_after = timedelta(seconds=settings.FLYWHEEL_REDISPATCH_QUEUED_SECONDS)
    return list(
        job_type.model.objects.filter(
            Q(
                status=JobStatus.RUNNING,
                heartbeat_at__lt=now - timedelta(seconds=stall_seconds()),
                attempts__lt=settings.FLYWHEEL_MAX_ATTEMPTS,
            )
            | Q(status=JobStatus.QUEUED, created_at__lt=now - queued_after),
        ).values_list("id", flat=True)
    )


def jobs_fail_abandoned(job_type: JobType) -> list[int]:
    """Fail the jobs whose worker died on every one of their attempts."""
    stale = timezone.now() - timedelta(seconds=stall_seconds())
    abandoned = job_type.model.objects.filter(
        status=JobStatus.RUNNING,
        heartbeat_at__lt=stale,
        attempts__gte=settings.FLYWHEEL_MAX_ATTEMPTS,
    ).values_list("id", "attempts", "worker")
    return [
        job_id
        for job_id, attempts, worker in abandoned
        if job_finish(
            job_type,
            job_id,
            JobStatus.FAILED,
            error=worker_lost_message(attempts, worker),
            only_if_stale=True,
        )
    ]


def redispatch_stalled_work() -> int:
    """Send again what a dead worker or a broker outage left behind; fail what died on each of
    its attempts."""
    for job_type in job_types():
        for job_id in jobs_fail_abandoned(job_type):
            logger.error("%s %s failed: its worker died on each attempt", job_type.name, job_id)
    sent = 0
    for job_type in job_types():
        for job_id in jobs_to_redispatch(job_type):
            logger.warning("re-dispatching %s %s", job_type.name, job_id)
            job_dispatch(job_type, job_id)
            sent += 1
    return sent

"""The worker side of any job: acquire the lease, prepare, run the job's process with its
executor, and record a process that died without recording its own outcome."""

from __future__ import annotations

import collections
import logging

from training.models import JobStatus

from .executors import Launch, executor
from .jobs import job_type
from .lifecycle import job_acquire, job_append_log, job_finish
from .storage import storage_failure

logger = logging.getLogger(__name__)
LOG_FLUSH_LINES = 20


def job_execute(*, job_type_name: str, job_id: int) -> str:
    """Execute a job once (idempotent by id); returns its status, or why it was skipped."""
    kind = job_type(job_type_name)
    if not job_acquire(kind, job_id):
        return "skipped: finished, cancelled or running elsewhere"
    job = kind.model.objects.get(pk=job_id)
    try:
        if kind.prepare is not None:
            kind.prepare(job)
    except OSError as exc:
        job_finish(
            kind,
            job_id,
            JobStatus.FAILED,
            error=storage_failure(exc) + f"{type(exc).__name__}: {exc}",
        )
        return "failed: preparing the job's storage"
    tail: collections.deque[str] = collections.deque(maxlen=400)
    pending: list[str] = []

    def on_output(line: str) -> None:
        tail.append(line)
        pending.append(line)
        if len(pending) >= LOG_FLUSH_LINES:
            job_append_log(kind, job_id, "".join(pending))
            pending.clear()

    place = job.executor or kind.default_executor()
    try:
        code = executor(place).run(Launch(kind.name, job_id), on_output)
    finally:  # an attempt lost (the executor raised) keeps its last lines, and why
        if pending:
            job_append_log(kind, job_id, "".join(pending))
    if code != 0 and job_finish(
        kind,
        job_id,
        JobStatus.FAILED,
        error=f"The job's process exited with code {code}.\n\n" + "".join(tail)[-4000:],
    ):
        return f"failed: exit code {code}"
    return kind.model.objects.values_list("status", flat=True).get(pk=job_id)

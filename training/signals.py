"""Signals other apps listen to, so that training knows nothing about them.

``job_finished`` is sent once a job of the engine reaches a final state (after the state change
commits), with ``kind``, the job type's name ("training_run", "generation_job", "merge_job",
the loop's "round_step": ``training.engine.lifecycle`` sends it for every registered type), and
``job_id``. Receivers must be cheap and must not raise, and ignore the kinds they do not wait on:
the feedback loop uses it to advance a round at once instead of waiting for its periodic sweep
(no round waits on a merge job)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

job_finished = Signal()


def send_job_finished(*, kind: str, job_id: int) -> None:
    def send() -> None:
        for receiver, result in job_finished.send_robust(sender=None, kind=kind, job_id=job_id):
            if isinstance(result, Exception):
                logger.error("job_finished receiver %s failed: %r", receiver, result)

    transaction.on_commit(send)

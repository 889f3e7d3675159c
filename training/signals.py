"""Signals other apps listen to, so that training knows nothing about them.

``job_finished`` is sent once a training run or a generation job reaches a final state (after
the state change commits), with ``kind`` ("training_run" | "generation_job") and ``job_id``.
Receivers must be cheap and must not raise: the feedback loop uses it to advance a round at
once instead of waiting for its periodic sweep."""

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

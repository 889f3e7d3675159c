"""Celery adapters for training: each task takes an id and calls one service or process."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from .services.generation import generation_job_execute
from .services.jobs import execute_run_process, redispatch_stalled_work

logger = logging.getLogger(__name__)

# ignore_result: a job's state lives in its row, and nothing reads Celery's result backend.
# Without it every dispatch first subscribes to the task's result in Redis, which, with Redis
# down, retries for about 20 s before the dispatch fails (tests/faults/test_redis_outage.py).


@shared_task(name="training.tasks.execute_training_run", acks_late=True, ignore_result=True)
def execute_training_run(run_id: int) -> str:
    """Run a training run in a child process (queue ``gpu``); idempotent by run id."""
    return execute_run_process(run_id=run_id)


@shared_task(name="training.tasks.run_generation_job", acks_late=True, ignore_result=True)
def run_generation_job(job_id: int) -> str:
    """Generate candidate sets (queue ``generation``, or ``gpu`` for large models)."""
    return generation_job_execute(job_id=job_id)


@shared_task(name="training.tasks.recover_stalled_work", ignore_result=True)
def recover_stalled_work() -> int:
    """Re-send runs and generation jobs whose worker died or whose dispatch was lost."""
    return redispatch_stalled_work()


@worker_ready.connect
def recover_on_worker_start(sender=None, **kwargs) -> None:
    # A worker that starts after another died picks the dead worker's jobs up at once.
    try:
        redispatch_stalled_work()
    except Exception:  # noqa: BLE001 — start-up must not fail on a sweep
        logger.exception("recovery sweep at worker start failed")

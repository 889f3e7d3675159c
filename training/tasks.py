"""Celery adapters for training: each task takes an id and calls one engine entry point."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_init, worker_process_init, worker_ready

from .engine.execution import job_execute
from .engine.executors.local import warm_up
from .engine.lifecycle import redispatch_stalled_work
from .workers import start_reporting

logger = logging.getLogger(__name__)

# ignore_result: a job's state lives in its row, and nothing reads Celery's result backend.
# Without it every dispatch first subscribes to the task's result in Redis, which, with Redis
# down, retries for about 20 s before the dispatch fails (tests/faults/test_redis_outage.py).


@shared_task(name="training.tasks.execute_job", acks_late=True, ignore_result=True)
def execute_job(job_type: str, job_id: int) -> str:
    """Execute a training run or generation job (idempotent by id); the engine picks its
    queue (``gpu`` for training, ``generation`` or ``gpu`` for generation)."""
    return job_execute(job_type_name=job_type, job_id=job_id)


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


@worker_ready.connect
def report_capabilities(sender=None, **kwargs) -> None:
    # What this worker can run (GPUs, bitsandbytes, vLLM), for run creation's checks.
    queues = list(sender.app.amqp.queues.consume_from) if sender is not None else []
    start_reporting(getattr(sender, "hostname", "") or "worker", queues)


@worker_process_init.connect
def warm_up_pool_process(**kwargs) -> None:
    # prefork: each pool process runs jobs, so each gets its warm process.
    warm_up()


@worker_init.connect
def warm_up_solo_worker(sender=None, **kwargs) -> None:
    # --pool solo runs jobs in the main process, which no worker_process_init announces.
    if sender is not None and "solo" in getattr(
        sender.pool_cls, "__module__", str(sender.pool_cls)
    ):
        warm_up()

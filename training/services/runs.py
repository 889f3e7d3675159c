"""Training runs: create (validated, dispatched on commit), cancel, and the worker-side life
cycle (acquire → heartbeat → finish), which makes a redelivered or re-dispatched job safe.

Exactly-once completion: a worker may only execute a run it *acquired* with one conditional
UPDATE — the run is queued, or running with a heartbeat older than ``STALL_SECONDS`` (its
worker died). A duplicate delivery finds the run taken or finished and does nothing; a run is
finished (succeeded / failed / cancelled) exactly once, by ``run_finish``'s conditional update.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from annotation.models import DatasetSnapshot
from flywheel.errors import ApplicationError

from ..models import FINISHED, JobStatus, ModelKind, ModelVersion, RunKind, RunMetric, TrainingRun
from ..signals import send_job_finished

logger = logging.getLogger(__name__)

STALL_SECONDS = int(os.environ.get("FLYWHEEL_STALL_SECONDS", "120"))
# A run or generation job still queued after this was probably never sent (the broker was down
# when it was requested): the recovery sweep sends it again.
REDISPATCH_QUEUED_AFTER = timedelta(
    seconds=int(os.environ.get("FLYWHEEL_REDISPATCH_QUEUED_SECONDS", "60"))
)
# A job whose worker died this many times is failed rather than sent again: a job that kills
# its worker (out of memory, say) would otherwise go round for ever, "running" in between.
MAX_ATTEMPTS = int(os.environ.get("FLYWHEEL_MAX_ATTEMPTS", "3"))
LOG_TAIL_CHARS = 20_000
RL_KINDS = {RunKind.PPO, RunKind.GRPO, RunKind.RLOO}
POLICY_BASES = {ModelKind.BASE, ModelKind.SFT, ModelKind.POLICY}


def _check_models(kind: str, base_model: ModelVersion, reward_model: ModelVersion | None):
    if base_model.kind not in POLICY_BASES:
        raise ApplicationError(
            f"A {kind} run starts from a base, SFT or policy model; this one is a "
            f"{base_model.kind} model.",
            field="base_model",
        )
    if kind in RL_KINDS:
        if reward_model is None:
            raise ApplicationError(f"A {kind} run needs a reward model.", field="reward_model")
        if reward_model.kind != ModelKind.REWARD:
            raise ApplicationError("Must be a reward model.", field="reward_model")
    elif reward_model is not None:
        raise ApplicationError(f"A {kind} run takes no reward model.", field="reward_model")


def training_run_create(
    *,
    kind: str,
    dataset: DatasetSnapshot,
    base_model: ModelVersion,
    reward_model: ModelVersion | None = None,
    config: dict[str, Any] | None = None,
    created_by: AbstractUser | None = None,
) -> TrainingRun:
    """Validate and queue a run; the job is sent to the ``gpu`` queue once the row commits."""
    from training.algorithms.configs import parse_run_config  # no torch: plain dataclasses

    if kind not in RunKind.values:
        raise ApplicationError(f"Must be one of {', '.join(RunKind.values)}.", field="kind")
    _check_models(kind, base_model, reward_model)
    try:
        parsed = parse_run_config(kind, config or {})
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise ApplicationError(reason or str(exc), field=f"config.{field}") from exc
    with transaction.atomic():
        run = TrainingRun.objects.create(
            kind=kind,
            dataset=dataset,
            base_model=base_model,
            reward_model=reward_model,
            config=parsed,
            created_by=created_by,
        )
        transaction.on_commit(lambda: dispatch_run(run.pk))
    return run


def dispatch_run(run_id: int) -> None:
    """Send the run to the gpu queue. A broker outage is logged, not raised: the run stays
    queued and ``recover_stalled_work`` sends it again."""
    from ..tasks import execute_training_run

    try:
        execute_training_run.apply_async((run_id,), queue="gpu")
    except Exception:  # noqa: BLE001 — any broker error; the recovery sweep retries
        logger.exception("Could not dispatch training run %s; it stays queued", run_id)


@transaction.atomic
def training_run_cancel(*, run: TrainingRun) -> TrainingRun:
    """Cooperative: a queued run is cancelled at once; a running one stops at its next step
    (the algorithm's hooks see ``cancel_requested``). Cancelling a finished run is a conflict."""
    locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if locked.status in FINISHED:
        raise ApplicationError(f"The run already {locked.status}.", code="run_finished", status=409)
    locked.cancel_requested = True
    fields = ["cancel_requested"]
    if locked.status == JobStatus.QUEUED:
        locked.status, locked.finished_at = JobStatus.CANCELLED, timezone.now()
        fields += ["status", "finished_at"]
        send_job_finished(kind="training_run", job_id=locked.pk)
    locked.save(update_fields=fields)
    return locked


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_acquire(*, run_id: int) -> bool:
    """Take the run for this worker, or return False if it is finished or alive elsewhere."""
    now = timezone.now()
    stale = now - timedelta(seconds=STALL_SECONDS)
    taken = TrainingRun.objects.filter(
        Q(status=JobStatus.QUEUED)
        | Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale, attempts__lt=MAX_ATTEMPTS),
        pk=run_id,
        cancel_requested=False,
    ).update(
        status=JobStatus.RUNNING,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        worker=worker_name(),
        started_at=now,
    )
    if not taken:
        # A cancelled-while-queued run is already final; one cancelled while its worker was
        # dead is finished here.
        TrainingRun.objects.filter(
            pk=run_id, cancel_requested=True, status=JobStatus.RUNNING, heartbeat_at__lt=stale
        ).update(status=JobStatus.CANCELLED, finished_at=now)
    return bool(taken)


def run_heartbeat(*, run_id: int) -> bool:
    """Keep the run alive; returns whether cancellation was requested."""
    TrainingRun.objects.filter(pk=run_id, status=JobStatus.RUNNING).update(
        heartbeat_at=timezone.now()
    )
    return TrainingRun.objects.filter(pk=run_id, cancel_requested=True).exists()


def run_record_progress(*, run_id: int, step: int, total_steps: int) -> None:
    TrainingRun.objects.filter(pk=run_id).update(
        step=step, total_steps=total_steps, heartbeat_at=timezone.now()
    )


def run_record_metrics(*, run_id: int, step: int, values: dict[str, float]) -> None:
    RunMetric.objects.create(run_id=run_id, step=step, values=values)


def run_append_log(*, run_id: int, text: str) -> None:
    run = TrainingRun.objects.only("log_tail").get(pk=run_id)
    tail = (run.log_tail + text)[-LOG_TAIL_CHARS:]
    TrainingRun.objects.filter(pk=run_id).update(log_tail=tail)


def run_finish(
    *,
    run_id: int,
    status: JobStatus,
    error: str = "",
    metrics: dict | None = None,
) -> bool:
    """Final state, once: only a running run can finish."""
    finished = bool(
        TrainingRun.objects.filter(pk=run_id, status=JobStatus.RUNNING).update(
            status=status,
            error=error[-LOG_TAIL_CHARS:],
            final_metrics=metrics or {},
            finished_at=timezone.now(),
        )
    )
    if finished:
        send_job_finished(kind="training_run", job_id=run_id)
    return finished


def runs_to_redispatch() -> list[int]:
    """Runs whose worker died (stale heartbeat) with attempts left, or whose dispatch was lost
    (queued for a while with no worker)."""
    now = timezone.now()
    return list(
        TrainingRun.objects.filter(
            Q(
                status=JobStatus.RUNNING,
                heartbeat_at__lt=now - timedelta(seconds=STALL_SECONDS),
                attempts__lt=MAX_ATTEMPTS,
            )
            | Q(status=JobStatus.QUEUED, created_at__lt=now - REDISPATCH_QUEUED_AFTER),
        ).values_list("id", flat=True)
    )


def worker_lost_message(attempts: int, worker: str = "") -> str:
    last = f", the last on {worker}" if worker else ""
    return (
        f"Its worker stopped (no heartbeat for {STALL_SECONDS} s) on each of its {attempts} "
        f"attempts{last}, so it is not sent again. A job that kills its worker, e.g. by running "
        "out of memory, ends this way: see the worker's log and the log tail."
    )


def runs_fail_abandoned() -> list[int]:
    """Fail the runs whose worker died on every one of their ``MAX_ATTEMPTS`` attempts."""
    stale = timezone.now() - timedelta(seconds=STALL_SECONDS)
    abandoned = TrainingRun.objects.filter(
        status=JobStatus.RUNNING, heartbeat_at__lt=stale, attempts__gte=MAX_ATTEMPTS
    ).values_list("id", "attempts", "worker")
    return [
        run_id
        for run_id, attempts, worker in abandoned
        if run_finish(
            run_id=run_id, status=JobStatus.FAILED, error=worker_lost_message(attempts, worker)
        )
    ]

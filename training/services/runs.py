"""Training runs: create (validated against the algorithm registry, dispatched on commit) and
cancel. The run's lease and life cycle are the job engine's (``training.engine``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction

from annotation.models import DatasetSnapshot
from flywheel.errors import ApplicationError
from training.algorithms.registry import algorithm, kinds
from training.engine.executors import executor_names
from training.engine.jobs import job_type
from training.engine.lifecycle import job_cancel, job_dispatch_on_commit
from training.workers import check_quantization

from ..models import ModelKind, ModelVersion, TrainingRun
from .endpoints import check_trainable

POLICY_BASES = {ModelKind.BASE, ModelKind.SFT, ModelKind.POLICY}


def _check_models(spec, base_model: ModelVersion, reward_model: ModelVersion | None) -> None:
    kind = spec.kind
    if base_model.kind not in POLICY_BASES:
        raise ApplicationError(
            f"A {kind} run starts from a base, SFT or policy model; this one is a "
            f"{base_model.kind} model.",
            field="base_model",
        )
    if spec.needs_reward_model:
        if reward_model is None:
            raise ApplicationError(f"A {kind} run needs a reward model.", field="reward_model")
        if reward_model.kind != ModelKind.REWARD:
            raise ApplicationError("Must be a reward model.", field="reward_model")
    elif reward_model is not None:
        raise ApplicationError(f"A {kind} run takes no reward model.", field="reward_model")


def check_executor(executor: str) -> None:
    if executor and executor not in executor_names():
        raise ApplicationError(f"Must be one of {', '.join(executor_names())}.", field="executor")


def check_adapter_runnable(adapter: dict | None, *, executor: str, field: str) -> None:
    """A 4-bit adapter needs a live GPU worker with bitsandbytes on the training queue. On Ray
    the run lands on the cluster's nodes, which report no capabilities here: a QLoRA run
    without a GPU there fails at its start with the reason."""
    if (executor or job_type("training_run").default_executor()) != "ray":
        check_quantization(adapter, queue="gpu", field=f"{field}.quantization")


def training_run_create(
    *,
    kind: str,
    dataset: DatasetSnapshot,
    base_model: ModelVersion,
    reward_model: ModelVersion | None = None,
    config: dict[str, Any] | None = None,
    executor: str = "",
    created_by: AbstractUser | None = None,
) -> TrainingRun:
    """Validate and queue a run; the job is sent to the ``gpu`` queue once the row commits."""
    try:
        spec = algorithm(kind)
    except KeyError:
        raise ApplicationError(f"Must be one of {', '.join(kinds())}.", field="kind") from None
    _check_models(spec, base_model, reward_model)
    check_trainable(base_model, field="base_model")
    check_executor(executor)
    try:
        parsed = spec.parse_config(config or {})
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise ApplicationError(reason or str(exc), field=f"config.{field}") from exc
    check_adapter_runnable(parsed.get("adapter"), executor=executor, field="config.adapter")
    with transaction.atomic():
        run = TrainingRun.objects.create(
            kind=kind,
            dataset=dataset,
            base_model=base_model,
            reward_model=reward_model,
            requires_reward_model=spec.needs_reward_model,
            config=parsed,
            executor=executor,
            created_by=created_by,
        )
        job_dispatch_on_commit(run)
    return run


def training_run_cancel(*, run: TrainingRun) -> TrainingRun:
    """Cooperative: a queued run is cancelled at once; a running one stops at its next step
    (the algorithm's hooks see ``cancel_requested``). Cancelling a finished run is a conflict."""
    return job_cancel(run)

"""Merging a PEFT adapter version into a full model version.

A leased job (``MergeJob``, job type ``merge_job``) on the ``gpu`` queue, in a child process of
the worker: loading and merging an 8 B model takes minutes and the model's memory, which dies
with the process. The process merges with ``training.weights`` (the adapter's base, itself
perhaps an adapter, resolved to full weights first) into the job's own directory under
``FLYWHEEL_MODELS_DIR/merges/``, written atomically, then registers the version and links it to
the job in one transaction.

Idempotent: a job redelivered after its worker died redoes what is missing. A complete
directory is reused, and a job that already registered its version only finishes, so one job
never registers two versions.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, transaction

from flywheel.errors import ApplicationError
from training.engine.lifecycle import job_dispatch_on_commit
from training.engine.reporting import JobReporter
from training.engine.storage import storage_failure
from training.weights import merged_into

from ..models import JobStatus, MergeJob, ModelVersion
from .registry import model_version_from_merge

logger = logging.getLogger(__name__)


def merge_dir(job: MergeJob) -> Path:
    """The job's directory, keyed by its id and creation time: ids repeat when a database is
    recreated beside a kept models directory, and an earlier life's merge must not be taken
    for this one's."""
    return (
        Path(settings.FLYWHEEL_MODELS_DIR) / "merges" / f"{job.pk}-{job.created_at:%Y%m%dT%H%M%S%f}"
    )


def merge_job_create(
    *, adapter: ModelVersion, name: str, created_by: AbstractUser | None = None
) -> MergeJob:
    """Queue the merge of ``adapter`` into a new full model version called ``name``."""
    if not adapter.is_adapter:
        raise ApplicationError(
            "Not an adapter: only a PEFT adapter version (one with adapter_base) can be merged.",
            field="model",
        )
    if ModelVersion.objects.filter(name=name).exists():
        raise ApplicationError("A model with this name exists.", field="name", code="conflict")
    pending = MergeJob.objects.filter(
        name=name, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).first()
    if pending is not None:
        raise ApplicationError(
            f"Merge job {pending.pk} is already making a model with this name.",
            field="name",
            code="conflict",
        )
    try:
        with transaction.atomic():
            job = MergeJob.objects.create(adapter=adapter, name=name, created_by=created_by)
            job_dispatch_on_commit(job)
    except IntegrityError:  # the same name queued by a concurrent request
        raise ApplicationError(
            "A merge into this name is already queued.", field="name", code="conflict"
        ) from None
    return job


def merged_weights(job: MergeJob) -> Path:
    """The adapter merged into its base's full weights, in the job's directory."""
    return merged_into(job.adapter, merge_dir(job))


@transaction.atomic
def merge_job_register(*, job_id: int, path: Path) -> ModelVersion:
    """Register the merged weights once: the job's row is locked, and a job that already
    registered its version gets that version back."""
    job = MergeJob.objects.select_for_update().select_related("adapter").get(pk=job_id)
    if job.merged_model_id is not None:
        return job.merged_model
    version = model_version_from_merge(adapter=job.adapter, name=job.name, path=path, job_id=job.pk)
    MergeJob.objects.filter(pk=job_id).update(merged_model=version)
    return version


def merge_process(job_id: int, reporter: JobReporter) -> int:
    """The job's work, in its process: merge (unless done), register (unless done), finish."""
    job = MergeJob.objects.select_related("adapter__adapter_base").get(pk=job_id)
    try:
        if job.merged_model_id is None:
            reporter.log(f"merging adapter {job.adapter.name} (#{job.adapter_id})\n")
            version = merge_job_register(job_id=job_id, path=merged_weights(job))
            reporter.log(f"registered model version {version.name} (#{version.pk})\n")
    except Exception as exc:  # noqa: BLE001 — recorded on the job
        logger.exception("merge job %s failed", job_id)
        reporter.fail(exc, reason=storage_failure(exc))
        return 0
    reporter.finish(JobStatus.SUCCEEDED)
    return 0

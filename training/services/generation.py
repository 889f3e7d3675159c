"""Generation jobs: K candidates per prompt from a model version, written as candidate sets
ready for annotation.

Resumable and idempotent: each prompt's set is written in its own transaction, and a prompt
that already has a set from this job is skipped, so a redelivered job continues where the dead
worker stopped and never writes a prompt twice.
"""

from __future__ import annotations

import logging
import os
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from annotation.models import Candidate, CandidateSet, CandidateSetMember, Project, Prompt
from flywheel.errors import ApplicationError

from ..models import GenerationJob, JobStatus, ModelKind, ModelVersion
from ..signals import send_job_finished
from .runs import MAX_ATTEMPTS, REDISPATCH_QUEUED_AFTER, STALL_SECONDS, worker_lost_message

logger = logging.getLogger(__name__)

SAMPLING_DEFAULTS: dict[str, Any] = {
    "temperature": 1.0,
    "top_p": 1.0,
    "max_new_tokens": 128,
    "batch_size": 8,
}
SAMPLING_BOUNDS = {
    "temperature": (0.01, 5.0),
    "top_p": (0.01, 1.0),
    "max_new_tokens": (1, 8192),
    "batch_size": (1, 1024),
}


def _check_sampling(sampling: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(sampling) - set(SAMPLING_DEFAULTS))
    if unknown:
        raise ApplicationError("Unknown sampling parameter.", field=f"sampling.{unknown[0]}")
    clean = SAMPLING_DEFAULTS | sampling
    for name, (low, high) in SAMPLING_BOUNDS.items():
        value = clean[name]
        integer = isinstance(SAMPLING_DEFAULTS[name], int)
        if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
            raise ApplicationError("Must be a number.", field=f"sampling.{name}")
        if not low <= value <= high:
            raise ApplicationError(f"Must be from {low} to {high}.", field=f"sampling.{name}")
    return clean


def generation_job_create(
    *,
    project: Project,
    model_version: ModelVersion | None = None,
    prompts: str | list[int] = "pending",
    sampling: dict[str, Any] | None = None,
    seed: int = 0,
    round: int | None = None,
    mix_model_version: ModelVersion | None = None,
    mix_count: int = 0,
    created_by: AbstractUser | None = None,
) -> GenerationJob:
    """Queue a job for the project's prompts: ``"pending"`` (no candidate set yet), ``"all"``
    or a list of prompt ids; the model defaults to the project's current policy. With
    ``mix_model_version``, ``mix_count`` of each set's K candidates come from that model (a
    human comparison of the two: see the loop's leaderboard)."""
    model_version = model_version or project.current_policy
    if model_version is None:
        raise ApplicationError(
            "The project has no current policy; name a model.", field="model_version"
        )
    if model_version.kind == ModelKind.REWARD:
        raise ApplicationError("A reward model cannot generate text.", field="model_version")
    if mix_model_version is not None:
        if mix_model_version.kind == ModelKind.REWARD:
            raise ApplicationError(
                "A reward model cannot generate text.", field="mix_model_version"
            )
        if mix_model_version.pk == model_version.pk:
            raise ApplicationError("Must differ from model_version.", field="mix_model_version")
        if not 1 <= mix_count < project.k:
            raise ApplicationError(f"Must be from 1 to {project.k - 1}.", field="mix_count")
    elif mix_count:
        raise ApplicationError("Needs mix_model_version.", field="mix_count")
    project_prompts = Prompt.objects.filter(project=project)
    if prompts == "pending":
        ids = list(project_prompts.filter(candidate_sets__isnull=True).values_list("id", flat=True))
    elif prompts == "all":
        ids = list(project_prompts.values_list("id", flat=True))
    elif isinstance(prompts, list) and all(isinstance(i, int) for i in prompts) and prompts:
        found = set(project_prompts.filter(pk__in=prompts).values_list("id", flat=True))
        missing = [i for i in prompts if i not in found]
        if missing:
            raise ApplicationError(f"Not prompts of this project: {missing[:10]}.", field="prompts")
        ids = list(dict.fromkeys(prompts))
    else:
        raise ApplicationError(
            'Must be "pending", "all" or a non-empty list of prompt ids.', field="prompts"
        )
    if not ids:
        raise ApplicationError("No prompts to generate for.", field="prompts")
    if round is None:
        latest = CandidateSet.objects.filter(project=project).aggregate(r=Max("round"))["r"]
        round = 0 if latest is None else latest + 1
    with transaction.atomic():
        job = GenerationJob.objects.create(
            project=project,
            model_version=model_version,
            prompt_ids=sorted(ids),
            k=project.k,
            mix_model_version=mix_model_version,
            mix_count=mix_count,
            round=round,
            sampling=_check_sampling(sampling or {}),
            seed=seed,
            created_by=created_by,
        )
        transaction.on_commit(lambda: dispatch_generation_job(job.pk))
    return job


GPU_GENERATION_BYTES = int(os.environ.get("FLYWHEEL_GPU_GENERATION_BYTES", str(2 * 1024**3)))


def generation_queue(model_version: ModelVersion) -> str:
    """``gpu`` for models whose weights exceed ``FLYWHEEL_GPU_GENERATION_BYTES`` (2 GiB, about
    a 1B-parameter model in bf16), ``generation`` (CPU workers) otherwise."""
    weights = Path(model_version.storage_path)
    size = sum(f.stat().st_size for f in weights.glob("*.safetensors")) if weights.is_dir() else 0
    return "gpu" if size > GPU_GENERATION_BYTES else "generation"


def dispatch_generation_job(job_id: int) -> None:
    from ..tasks import run_generation_job

    job = GenerationJob.objects.select_related("model_version").get(pk=job_id)
    try:
        run_generation_job.apply_async((job_id,), queue=generation_queue(job.model_version))
    except Exception:  # noqa: BLE001 — the recovery sweep retries
        logger.exception("Could not dispatch generation job %s; it stays queued", job_id)


def generation_jobs_to_redispatch() -> list[int]:
    now = timezone.now()
    return list(
        GenerationJob.objects.filter(
            Q(
                status=JobStatus.RUNNING,
                heartbeat_at__lt=now - timedelta(seconds=STALL_SECONDS),
                attempts__lt=MAX_ATTEMPTS,
            )
            | Q(status=JobStatus.QUEUED, created_at__lt=now - REDISPATCH_QUEUED_AFTER)
        ).values_list("id", flat=True)
    )


def generation_jobs_fail_abandoned() -> list[int]:
    """Fail the jobs whose worker died on every one of their ``MAX_ATTEMPTS`` attempts."""
    now = timezone.now()
    abandoned = GenerationJob.objects.filter(
        status=JobStatus.RUNNING,
        heartbeat_at__lt=now - timedelta(seconds=STALL_SECONDS),
        attempts__gte=MAX_ATTEMPTS,
    )
    failed = []
    for job_id, attempts in abandoned.values_list("id", "attempts"):
        if abandoned.filter(pk=job_id).update(
            status=JobStatus.FAILED, error=worker_lost_message(attempts), finished_at=now
        ):
            send_job_finished(kind="generation_job", job_id=job_id)
            failed.append(job_id)
    return failed


def _acquire(job_id: int) -> bool:
    now = timezone.now()
    stale = now - timedelta(seconds=STALL_SECONDS)
    return bool(
        GenerationJob.objects.filter(
            Q(status=JobStatus.QUEUED)
            | Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale, attempts__lt=MAX_ATTEMPTS),
            pk=job_id,
        ).update(
            status=JobStatus.RUNNING,
            heartbeat_at=now,
            started_at=now,
            attempts=F("attempts") + 1,
        )
    )


@transaction.atomic
def candidate_set_from_generation(
    *, job: GenerationJob, prompt_id: int, texts: list[str] | list[tuple[str, bool]], seed: int
) -> CandidateSet | None:
    """Write one prompt's K candidates and their set; None if this job already wrote it.
    ``texts`` of a mixed job are ``(text, from_mix_model)`` pairs."""
    if CandidateSet.objects.filter(
        prompt_id=prompt_id, members__candidate__generation_job=job
    ).exists():
        return None
    sources = [t if isinstance(t, tuple) else (t, False) for t in texts]
    candidates = Candidate.objects.bulk_create(
        Candidate(
            prompt_id=prompt_id,
            text=text,
            model_version=job.mix_model_version if mixed else job.model_version,
            model_name=(job.mix_model_version if mixed else job.model_version).name,
            sampling_params={k: v for k, v in job.sampling.items() if k != "batch_size"},
            seed=seed,
            generation_job=job,
        )
        for text, mixed in sources
    )
    candidate_set = CandidateSet.objects.create(
        project_id=job.project_id, prompt_id=prompt_id, round=job.round
    )
    CandidateSetMember.objects.bulk_create(
        CandidateSetMember(candidate_set=candidate_set, candidate=c, position=i)
        for i, c in enumerate(candidates)
    )
    GenerationJob.objects.filter(pk=job.pk).update(sets_created=F("sets_created") + 1)
    return candidate_set


def generation_job_execute(*, job_id: int) -> str:
    """Worker side: generate for every prompt of the job not yet written, batch by batch."""
    if not _acquire(job_id):
        return "skipped: finished or running elsewhere"
    job = GenerationJob.objects.select_related("model_version", "mix_model_version").get(pk=job_id)
    try:
        from training.generation import generate_mixed_sets, generate_sets, load_backend

        written = set(
            CandidateSet.objects.filter(members__candidate__generation_job=job).values_list(
                "prompt_id", flat=True
            )
        )
        todo = [pid for pid in job.prompt_ids if pid not in written]
        messages = dict(Prompt.objects.filter(pk__in=todo).values_list("id", "messages"))
        backend = load_backend(job.model_version.storage_path)
        GenerationJob.objects.filter(pk=job_id).update(backend=backend.name, done=len(written))
        todo_prompts = [(pid, messages[pid]) for pid in todo]
        if job.mix_model_version is not None:
            batches = generate_mixed_sets(
                backend,
                load_backend(job.mix_model_version.storage_path),
                todo_prompts,
                k=job.k,
                mix=job.mix_count,
                sampling=job.sampling,
                seed=job.seed,
            )
        else:
            batches = generate_sets(
                backend, todo_prompts, k=job.k, sampling=job.sampling, seed=job.seed
            )
        for batch in batches:
            skipped = 0
            for prompt_id, texts, seed in batch:
                if texts is None:
                    skipped += 1
                    continue
                candidate_set_from_generation(job=job, prompt_id=prompt_id, texts=texts, seed=seed)
            GenerationJob.objects.filter(pk=job_id).update(
                done=F("done") + len(batch),
                prompts_skipped=F("prompts_skipped") + skipped,
                heartbeat_at=timezone.now(),
            )
    except Exception as exc:  # noqa: BLE001 — recorded on the job
        logger.exception("generation job %s failed", job_id)
        GenerationJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"[-20_000:],
            finished_at=timezone.now(),
        )
        send_job_finished(kind="generation_job", job_id=job_id)
        return "failed"
    if GenerationJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        status=JobStatus.SUCCEEDED, finished_at=timezone.now()
    ):
        send_job_finished(kind="generation_job", job_id=job_id)
    return "succeeded"

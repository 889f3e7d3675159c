"""Generation jobs: K candidates per prompt from a model version, written as candidate sets
ready for annotation.

A job writes ``sets_per_prompt`` (N) sets per prompt, each an independent draw: draw d of
every prompt is sampled with the seeds ``seed + d × DRAW_SEED_STRIDE`` (+ the batch's first
prompt id, ``training.generation.generate_sets``), so draw 0 is what a one-set job draws.

Resumable and idempotent: a batch's sets are written in one transaction with the job's
progress, and a prompt with c < N sets from this job gets draws c..N-1 only, so a redelivered
job continues where the dead worker stopped with the samples it would have drawn. A set is
written under a lock on its prompt's row after counting the job's sets of that prompt, so even
two racing attempts never write more than N per prompt.
"""

from __future__ import annotations

import collections
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import F, Max

from annotation.enums import SetPurpose
from annotation.models import Candidate, CandidateSet, CandidateSetMember, Project, Prompt
from flywheel.errors import ApplicationError
from training.engine.execution import job_execute
from training.engine.lifecycle import job_cancel, job_dispatch_on_commit
from training.engine.reporting import JobReporter

from ..models import MAX_SETS_PER_PROMPT, GenerationJob, JobStatus, ModelKind, ModelVersion
from .runs import check_executor

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
# Seeds of draw d are offset by d × this (a prime above any batch's prompt-id offset in
# practice), so the draws of one prompt are independent samples.
DRAW_SEED_STRIDE = 2_147_483_647


def sampling_check(sampling: dict[str, Any]) -> dict[str, Any]:
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
    sets_per_prompt: int = 1,
    purpose: str = SetPurpose.PREFERENCE,
    executor: str = "",
    created_by: AbstractUser | None = None,
) -> GenerationJob:
    """Queue a job for the project's prompts: ``"pending"`` (no candidate set yet), ``"all"``
    or a list of prompt ids; the model defaults to the project's current policy. With
    ``mix_model_version``, ``mix_count`` of each set's K candidates come from that model (a
    human comparison of the two: see the loop's leaderboard). ``sets_per_prompt`` independent
    sets of K are written per prompt (1 to ``MAX_SETS_PER_PROMPT``). ``purpose`` evaluation: the
    sets are a blind A/B of the two models (a loop round's human evaluation), never trained on;
    "pending" prompts are those without a preference set."""
    if (
        isinstance(sets_per_prompt, bool)
        or not isinstance(sets_per_prompt, int)
        or not 1 <= sets_per_prompt <= MAX_SETS_PER_PROMPT
    ):
        raise ApplicationError(f"Must be from 1 to {MAX_SETS_PER_PROMPT}.", field="sets_per_prompt")
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
    if purpose not in SetPurpose.values:
        raise ApplicationError(f"Must be one of {', '.join(SetPurpose.values)}.", field="purpose")
    if purpose == SetPurpose.EVALUATION and mix_model_version is None:
        raise ApplicationError(
            "An evaluation compares two models: name the second one (mix_model).", field="purpose"
        )
    project_prompts = Prompt.objects.filter(project=project)
    if prompts == "pending":
        ids = list(
            project_prompts.exclude(candidate_sets__purpose=SetPurpose.PREFERENCE).values_list(
                "id", flat=True
            )
        )
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
    check_executor(executor)
    if not executor and generation_queue(model_version) == "gpu":
        # A big model generates in a child process, so its CUDA memory dies with the job
        # instead of staying with the worker (the next job may be a training run).
        executor = "local"
    if round is None:
        latest = CandidateSet.objects.filter(project=project).aggregate(r=Max("round"))["r"]
        round = 0 if latest is None else latest + 1
    with transaction.atomic():
        job = GenerationJob.objects.create(
            project=project,
            model_version=model_version,
            prompt_ids=sorted(ids),
            k=project.k,
            sets_per_prompt=sets_per_prompt,
            mix_model_version=mix_model_version,
            mix_count=mix_count,
            purpose=purpose,
            round=round,
            sampling=sampling_check(sampling or {}),
            seed=seed,
            executor=executor,
            created_by=created_by,
        )
        job_dispatch_on_commit(job)
    return job


def generation_queue(model_version: ModelVersion) -> str:
    """``gpu`` for models whose weights exceed ``FLYWHEEL_GPU_GENERATION_BYTES`` (2 GiB, about
    a 1B-parameter model in bf16), ``generation`` (CPU workers) otherwise: a model served by an
    endpoint loads nothing on the worker."""
    if model_version.endpoint:
        return "generation"
    weights = Path(model_version.storage_path)
    size = sum(f.stat().st_size for f in weights.glob("*.safetensors")) if weights.is_dir() else 0
    return "gpu" if size > settings.FLYWHEEL_GPU_GENERATION_BYTES else "generation"


@transaction.atomic
def candidate_set_from_generation(
    *, job: GenerationJob, prompt_id: int, texts: list[str] | list[tuple[str, bool]], seed: int
) -> CandidateSet | None:
    """Write one of a prompt's sets (K candidates); None if this job already wrote its
    ``sets_per_prompt`` sets of the prompt. ``texts`` of a mixed job are
    ``(text, from_mix_model)`` pairs."""
    # The prompt's row lock serialises the count and the write across racing attempts.
    list(Prompt.objects.select_for_update().filter(pk=prompt_id).values_list("pk", flat=True))
    if job_sets_of_prompt(job=job, prompt_id=prompt_id) >= job.sets_per_prompt:
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
        project_id=job.project_id, prompt_id=prompt_id, round=job.round, purpose=job.purpose
    )
    CandidateSetMember.objects.bulk_create(
        CandidateSetMember(candidate_set=candidate_set, candidate=c, position=i)
        for i, c in enumerate(candidates)
    )
    GenerationJob.objects.filter(pk=job.pk).update(sets_created=F("sets_created") + 1)
    return candidate_set


def job_sets_of_prompt(*, job: GenerationJob, prompt_id: int) -> int:
    return (
        CandidateSet.objects.filter(prompt_id=prompt_id, members__candidate__generation_job=job)
        .distinct()
        .count()
    )


def generation_job_execute(*, job_id: int) -> str:
    """Worker side: execute the job with its executor (``inline`` by default: this process)."""
    return job_execute(job_type_name="generation_job", job_id=job_id)


def generation_job_cancel(*, job: GenerationJob) -> GenerationJob:
    """A queued job is cancelled at once; a running one after its current batch (the sets
    already written stay). Cancelling a finished job is a conflict."""
    return job_cancel(job)


def generation_process(job_id: int, reporter: JobReporter) -> int:
    """The job's work: draw by draw, generate for every prompt of the job that lacks that draw
    (a prompt with c sets from this job lacks draws c..N-1), batch by batch."""
    job = GenerationJob.objects.select_related("model_version", "mix_model_version").get(pk=job_id)
    try:
        from training.generation import generate_mixed_sets, generate_sets, load_backend

        written = collections.Counter(
            prompt_id
            for _, prompt_id in CandidateSet.objects.filter(members__candidate__generation_job=job)
            .values_list("id", "prompt_id")
            .distinct()
        )
        n = job.sets_per_prompt
        done = sum(min(written[pid], n) for pid in job.prompt_ids)
        todo = [pid for pid in job.prompt_ids if written[pid] < n]
        messages = dict(Prompt.objects.filter(pk__in=todo).values_list("id", "messages"))
        backend = load_backend(job.model_version)
        mix_backend = load_backend(job.mix_model_version) if job.mix_model_version else None
        reporter.progress(backend=backend.name, done=done)
        per_prompt = "" if n == 1 else f" ({len(job.prompt_ids) * n - done} sets, {n} each)"
        reporter.log(
            f"{backend.name}: {len(todo)} prompts to generate{per_prompt}, "
            f"{len(job.prompt_ids) - len(todo)} already written\n"
        )
        for draw in range(n):
            prompts = [(pid, messages[pid]) for pid in todo if written[pid] <= draw]
            if not prompts:
                continue
            seed = job.seed + draw * DRAW_SEED_STRIDE
            if mix_backend is not None:
                batches = generate_mixed_sets(
                    backend,
                    mix_backend,
                    prompts,
                    k=job.k,
                    mix=job.mix_count,
                    sampling=job.sampling,
                    seed=seed,
                )
            else:
                batches = generate_sets(backend, prompts, k=job.k, sampling=job.sampling, seed=seed)
            for batch in batches:
                skipped = 0
                with transaction.atomic():  # a batch's sets and its progress land together
                    for prompt_id, texts, batch_seed in batch:
                        if texts is None:
                            skipped += 1
                            continue
                        candidate_set_from_generation(
                            job=job, prompt_id=prompt_id, texts=texts, seed=batch_seed
                        )
                    reporter.progress(
                        done=F("done") + len(batch),
                        prompts_skipped=F("prompts_skipped") + skipped,
                    )
                if reporter.should_stop():
                    reporter.finish(JobStatus.CANCELLED)
                    return 0
    except Exception as exc:  # noqa: BLE001 — recorded on the job
        logger.exception("generation job %s failed", job_id)
        reporter.fail(exc)
        return 0
    reporter.finish(JobStatus.SUCCEEDED)
    return 0

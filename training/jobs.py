"""The platform's job types (``training.engine.jobs``): training runs, generation jobs and
adapter merges. Imported from ``TrainingConfig.ready``, so every process that set Django up
knows them."""

from __future__ import annotations

from training.engine.jobs import JobType, register_job_type
from training.engine.storage import claim_run_dir
from training.models import GenerationJob, MergeJob, TrainingRun
from training.services.generation import generation_queue

TRAINING_RUN = register_job_type(
    JobType(
        name="training_run",
        model=TrainingRun,
        process="training.runner:run_process",
        queue=lambda run: "gpu",
        prepare=claim_run_dir,
    )
)

GENERATION_JOB = register_job_type(
    JobType(
        name="generation_job",
        model=GenerationJob,
        process="training.services.generation:generation_process",
        queue=lambda job: generation_queue(job.model_version),
    )
)

MERGE_JOB = register_job_type(
    JobType(
        name="merge_job",
        model=MergeJob,
        process="training.services.merge:merge_process",
        queue=lambda job: "gpu",  # it loads the whole model
    )
)

"""The loop's job type (``training.engine.jobs``): a round's worker step. Imported from
``LoopConfig.ready``."""

from __future__ import annotations

from training.engine.jobs import JobType, register_job_type

from .models import RoundStepJob

ROUND_STEP = register_job_type(
    JobType(
        name="round_step",
        model=RoundStepJob,
        process="loop.services.rounds:round_step_process",
        queue=lambda job: "generation",  # it loads models
    )
)

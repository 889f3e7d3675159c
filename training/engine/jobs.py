"""Job types: what the engine needs to know of a kind of leased job.

``training.jobs`` declares the platform's two (training runs and generation jobs); a module that
adds another registers it the same way and is imported from its app's ``ready()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from training.models import Job


@dataclass(frozen=True)
class JobType:
    name: str  # the ``kind`` of the job_finished signal, e.g. "training_run"
    model: type[Job]
    # "module:function" run in the job's process: function(job_id, reporter) -> exit code.
    process: str
    queue: Callable[[Job], str]
    # Worker side, before the job's process starts (e.g. claim its directory); may raise
    # OSError, which fails the job with the storage's reason.
    prepare: Callable[[Job], None] | None = None

    def process_function(self) -> Callable:
        module, _, name = self.process.partition(":")
        return getattr(importlib.import_module(module), name)

    def default_executor(self) -> str:
        return settings.FLYWHEEL_DEFAULT_EXECUTORS.get(self.name, "local")


_JOB_TYPES: dict[str, JobType] = {}


def register_job_type(job_type: JobType) -> JobType:
    _JOB_TYPES[job_type.name] = job_type
    return job_type


def job_type(name: str) -> JobType:
    return _JOB_TYPES[name]


def job_types() -> list[JobType]:
    return list(_JOB_TYPES.values())


def job_type_of(job: Job) -> JobType:
    return next(t for t in _JOB_TYPES.values() if isinstance(job, t.model))

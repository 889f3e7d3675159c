"""Fixtures of the fault tests: the tiny world's SFT model as a registered policy, rankings to
train on, and a private Redis that a test may stop under real Celery workers."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from annotation.enums import Role
from annotation.models import Candidate, CandidateSet, DatasetSnapshot, Project
from annotation.services.imports import prompts_import
from tests.annotation.ranking_helpers import good_over_bad_snapshot
from tests.conftest import CeleryWorkers, _hostname, _point_celery_at
from training.models import GenerationJob, JobStatus, ModelKind, ModelVersion
from training.services.generation import generation_job_create
from training.services.registry import model_version_register

from .private_servers import PrivateRedis

# A training run that takes seconds on two CPU cores (tests/training/test_runs.py's QUICK).
QUICK = {
    "max_steps": 2,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "learning_rate": 1e-3,
    "warmup_steps": 0,
    "logging_steps": 1,
    "save_steps": 1,
}


@pytest.fixture
def sft_policy(db, tinyworld) -> ModelVersion:
    return model_version_register(
        name="tw-sft", path=str(tinyworld.sft_model_dir), kind=ModelKind.SFT
    )


@dataclass
class RankedProject:
    project: Project
    snapshot: DatasetSnapshot


@pytest.fixture
def ranked_project(make_project, make_user, sft_policy) -> RankedProject:
    """A K = 2 project of 30 sets, 12 of them ranked (GOOD over BAD) and snapshotted; its
    current policy is the tiny world's SFT model."""
    project = make_project(k=2)
    snapshot = good_over_bad_snapshot(project, make_user(Role.ANNOTATOR), sets=30, ranked=12)
    Project.objects.filter(pk=project.pk).update(current_policy=sft_policy)
    project.refresh_from_db()
    return RankedProject(project, snapshot)


def kill(process) -> None:
    """SIGKILL a worker (its training process dies with it: PR_SET_PDEATHSIG)."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)


def wait_for(predicate, what: str, timeout: float = 120, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(poll)
    return value


def worker_answers(workers: CeleryWorkers, process, timeout: float = 60) -> float:
    """Seconds until the worker answers a ping (after the broker came back, say)."""
    from flywheel.celery import app

    name = f"test-{workers.index}-{workers.processes.index(process)}@{_hostname()}"
    started = time.monotonic()
    wait_for(
        lambda: app.control.ping(destination=[name], timeout=0.5),
        f"worker {name} to answer",
        timeout=timeout,
        poll=0,
    )
    return time.monotonic() - started


@dataclass
class BrokerOutage:
    redis: PrivateRedis
    workers: CeleryWorkers


@pytest.fixture
def broker_outage(transactional_db, settings, tmp_path) -> Iterator[BrokerOutage]:
    """A private Redis (no persistence) as Celery's broker and result backend and as the
    cache, with real workers on it (start them with ``.workers.start()``). The test may stop
    and start it; the shared Redis other tests use is never touched."""
    from flywheel.celery import app

    (tmp_path / "redis").mkdir()
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    settings.REDIS_URL = f"{server.url}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{server.url}/0",
        }
    }
    settings.FLYWHEEL_MODELS_DIR = tmp_path / "models"
    # The sweep re-sends what is still queued after this (60 s in production).
    workers = CeleryWorkers(env_overrides={"FLYWHEEL_REDISPATCH_QUEUED_SECONDS": "1"})
    saved = app.conf.broker_url, app.conf.result_backend
    _point_celery_at(app, workers.broker, workers.broker)
    try:
        yield BrokerOutage(server, workers)
    finally:
        for process in workers.processes:
            kill(process)  # a worker may be in a training run the test no longer waits for
        _point_celery_at(app, *saved)
        server.stop()


GENERATION_PROMPTS = 48


def generation_under_way(celery_workers, project: Project, sft_policy, tinyworld):
    """A generation job for the first ``GENERATION_PROMPTS`` tiny-world prompts of ``project``
    on a new worker, 8 prompts in: (worker process, job)."""
    prompts = tinyworld.train_prompts()[:GENERATION_PROMPTS]
    prompts_import(
        project=project, rows=[(n, {"messages": p}) for n, p in enumerate(prompts, start=1)]
    )
    worker = celery_workers.start()
    job = generation_job_create(
        project=project,
        model_version=sft_policy,
        sampling={"batch_size": 4, "max_new_tokens": 48},
        seed=5,
    )
    wait_for(lambda: GenerationJob.objects.get(pk=job.pk).done >= 8, "8 prompts generated")
    return worker, job


def sets_written(job: GenerationJob) -> set[CandidateSet]:
    return set(CandidateSet.objects.filter(members__candidate__generation_job=job))


def assert_resumed_once(job: GenerationJob, written: set[CandidateSet], k: int) -> None:
    """The job succeeded on its second attempt with one set per prompt, keeping the sets in
    ``written`` (the first attempt's), not writing them again."""
    assert (job.status, job.attempts, job.done) == (
        JobStatus.SUCCEEDED,
        2,
        GENERATION_PROMPTS,
    ), job.error
    sets = CandidateSet.objects.filter(members__candidate__generation_job=job).distinct()
    assert job.sets_created + job.prompts_skipped == GENERATION_PROMPTS
    assert sets.count() == job.sets_created
    assert set(Counter(sets.values_list("prompt_id", flat=True)).values()) == {1}
    assert written <= set(sets)  # what the first attempt wrote was kept, not redone
    assert Candidate.objects.filter(generation_job=job).count() == k * job.sets_created

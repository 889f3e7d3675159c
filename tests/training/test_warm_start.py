"""The local executor's warm process (training/engine/warm.py): it imports torch, transformers
and TRL once per worker, and each job's process is forked from it, not a fresh interpreter. The
suite's own workers start it lazily (the Makefile sets FLYWHEEL_WARM_AT_BOOT=0, so that the
many short-lived test workers do not each pay the imports); these tests turn it back on."""

from __future__ import annotations

import threading
import time

import psutil
import pytest
from django.db import connection

from annotation.services.imports import prompts_import
from training.engine.warm import WarmProcess
from training.models import GenerationJob, JobStatus, ModelKind
from training.services.generation import generation_job_create
from training.services.registry import model_version_register

pytestmark = pytest.mark.django_db(transaction=True)


def warm_children(worker: psutil.Process) -> list[psutil.Process]:
    return [
        p
        for p in worker.children(recursive=True)
        if "training.engine.warm" in " ".join(p.cmdline())
    ]


@pytest.fixture
def project_and_model(make_project, tiny_model_dir):
    project = make_project(k=2)
    prompts_import(project=project, rows=[(i + 1, {"prompt": f"Say {i}."}) for i in range(3)])
    model = model_version_register(
        name="warm-policy", path=str(tiny_model_dir), kind=ModelKind.POLICY
    )
    return project, model


def test_a_booting_worker_starts_its_warm_process_and_its_first_job_uses_it(
    celery_workers, project_and_model
):
    """The warm process is there before any job, and it is still the same process (alive, the
    worker's child) after a job ran on the local executor: it was not killed when whatever
    started it returned."""
    celery_workers.env["FLYWHEEL_WARM_AT_BOOT"] = "1"
    worker = psutil.Process(celery_workers.start().pid)
    deadline = time.monotonic() + 60
    while not warm_children(worker):
        assert time.monotonic() < deadline, "no warm process 60 s after the worker booted"
        time.sleep(0.2)
    (warm,) = warm_children(worker)
    assert warm.ppid() == worker.pid  # solo pool: a child of the worker's main process
    project, model = project_and_model
    job = generation_job_create(
        project=project,
        model_version=model,
        sampling={"max_new_tokens": 6, "batch_size": 3},
        executor="local",
    )
    deadline = time.monotonic() + 120
    while GenerationJob.objects.get(pk=job.pk).status in (JobStatus.QUEUED, JobStatus.RUNNING):
        assert time.monotonic() < deadline, "the job did not finish in 120 s"
        time.sleep(0.3)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error + job.log_tail
    assert warm.is_running() and warm.status() != psutil.STATUS_ZOMBIE
    assert [p.pid for p in warm_children(worker)] == [warm.pid]


@pytest.mark.slow
def test_each_job_is_forked_from_one_warm_process(project_and_model, monkeypatch):
    """Two generation jobs through one ``WarmProcess``: both write their sets, the warm process
    is the same one, and while a job runs its process is the warm process's child with the warm
    process's command line (a fork, not a new interpreter)."""
    db = connection.settings_dict
    monkeypatch.setenv(  # the job processes read this test's database
        "DATABASE_URL", f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    project, model = project_and_model
    warm = WarmProcess()
    forks: list[tuple[int, list[str]]] = []
    running = threading.Event()

    def watch() -> None:  # a short job can end before its first line is read: poll instead
        while running.is_set() and not forks:
            try:
                child = next(iter(psutil.Process(warm.process.pid).children()), None)
                if child is not None:
                    forks.append((child.ppid(), child.cmdline()))
            except (psutil.NoSuchProcess, AttributeError):
                pass
            time.sleep(0.005)

    running.set()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        pids = []
        for seed in (1, 2):
            job = generation_job_create(
                project=project,
                model_version=model,
                prompts="all",
                sampling={"max_new_tokens": 6, "batch_size": 3},
                seed=seed,
            )
            GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
            assert warm.run("generation_job", job.pk, lambda line: None) == 0
            job.refresh_from_db()
            assert job.status == JobStatus.SUCCEEDED, job.error
            assert job.done == 3
            pids.append(warm.process.pid)
        assert pids[0] == pids[1]
        running.clear()
        watcher.join()
        assert forks, "no job process was seen under the warm process"
        parent, cmdline = forks[0]
        assert parent == warm.process.pid
        assert cmdline == psutil.Process(warm.process.pid).cmdline()
    finally:
        warm.close()

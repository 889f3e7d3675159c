"""PostgreSQL unreachable from a worker in the middle of a job, with a real Celery worker on a
real Redis broker: the worker's connections (and the training process's) are cut and new ones
refused for a few seconds, then the database comes back. The job must neither be lost nor stay
"running": the periodic sweep (``training.tasks.recover_stalled_work``, sent by name as celery
beat sends it) finds its heartbeat stale and sends it again, and the same worker process resumes
it on fresh connections: a generation job ends with exactly one candidate set per prompt, a
training run resumes from its last checkpoint and registers one model.

The outage is made in PostgreSQL itself, for the test's database only: ``ALTER DATABASE …
ALLOW_CONNECTIONS false`` refuses new connections and ``pg_terminate_backend`` cuts the open
ones (the worker sees "terminating connection", then "database … is not currently accepting
connections", as in a restart). The shared server keeps serving every other test process, and
this test's own connection, opened before, stays up to watch. Nothing is mocked.

Two smaller tests pin what the recovery rests on: an attempt that loses the database stops its
training process (else it would train beside the resumed attempt), and the training process's
heartbeat thread replaces a connection that was cut (else a run still training would look dead
to the sweep)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from flywheel.celery import app
from training.models import GenerationJob, JobStatus, ModelVersion, RunMetric, TrainingRun
from training.services.runs import training_run_create

from .conftest import (
    GENERATION_PROMPTS,
    QUICK,
    assert_resumed_once,
    generation_under_way,
    sets_written,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

STALL_SECONDS = 3
PROMPTS = GENERATION_PROMPTS
OUTAGE_SECONDS = 4


def _admin_connection():
    """A connection to the server's maintenance database (a database cannot refuse connections
    while the session altering it is connected to it)."""
    settings = connection.settings_dict
    admin = psycopg2.connect(
        dbname="postgres",
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"],
        password=settings["PASSWORD"] or None,
    )
    admin.autocommit = True
    return admin


def own_backend_pid() -> int:
    """The PostgreSQL backend of this test's own connection (kept through an outage)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def terminate_others(cursor, database: str, keep_pid: int) -> int:
    """Terminate every connection to ``database`` but ``keep_pid``; how many."""
    cursor.execute(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> %s",
        [database, keep_pid],
    )
    return cursor.fetchone()[0]


def cut_off(admin, database: str, keep_pid: int) -> int:
    """Refuse new connections to ``database`` and terminate its open ones but ``keep_pid``;
    how many were terminated."""
    with admin.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
        return terminate_others(cur, database, keep_pid)


def reopen(admin, database: str) -> None:
    with admin.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')


def outage(seconds: float, watch):
    """Cut the test database off from everyone but this test for ``seconds``; what ``watch()``
    returned at the end of the outage (read on this test's own connection)."""
    database = connection.settings_dict["NAME"]
    own_pid = own_backend_pid()
    admin = _admin_connection()
    try:
        assert cut_off(admin, database, own_pid) >= 1  # at least the worker's connection
        time.sleep(seconds)
        return watch()
    finally:
        reopen(admin, database)
        admin.close()


def swept_until_finished(model, pk: int, timeout: float = 180):
    """Send the recovery sweep every second, as celery beat does every 30 s, until the job
    finishes; the finished row."""

    def finished():
        app.send_task("training.tasks.recover_stalled_work")
        time.sleep(1)
        row = model.objects.get(pk=pk)
        return row if row.status not in (JobStatus.QUEUED, JobStatus.RUNNING) else None

    return wait_for(finished, f"{model.__name__} {pk} to finish", timeout=timeout)


def time_ago(seconds: float) -> datetime:
    return timezone.now() - timedelta(seconds=seconds)


def stalled(model, pk: int):
    """Wait until the job is still "running" with a stale heartbeat: its attempt died."""
    return wait_for(
        lambda: model.objects.filter(
            pk=pk, status=JobStatus.RUNNING, heartbeat_at__lt=time_ago(STALL_SECONDS + 1)
        ).first(),
        "the cut-off attempt's heartbeat to go stale",
        timeout=60,
    )


@pytest.mark.slow
def test_a_generation_job_cut_off_from_postgres_is_resumed_once_it_is_back(
    celery_workers, make_project, sft_policy, tinyworld
):
    celery_workers.env["FLYWHEEL_STALL_SECONDS"] = str(STALL_SECONDS)
    worker, job = generation_under_way(celery_workers, make_project(k=3), sft_policy, tinyworld)

    during = outage(OUTAGE_SECONDS, lambda: GenerationJob.objects.get(pk=job.pk))
    assert during.status == JobStatus.RUNNING and during.done < PROMPTS, "cut off too late"
    written = sets_written(job)

    # The attempt died on its next write: the job stays "running" and its heartbeat goes stale
    # (its failure could not be recorded either: the database was gone).
    died = stalled(GenerationJob, job.pk)
    assert died.attempts == 1 and died.done == during.done

    job = swept_until_finished(GenerationJob, job.pk)
    assert worker.poll() is None, "the worker process died with its connection"
    assert_resumed_once(job, written, k=3)
    print(
        f"generation: cut off from PostgreSQL after {during.done}/{PROMPTS} prompts "
        f"({len(written)} sets written); resumed on attempt 2, {job.sets_created} sets in all"
    )


@pytest.mark.slow
def test_a_training_run_cut_off_from_postgres_resumes_from_its_checkpoint(
    celery_workers, ranked_project, sft_policy
):
    celery_workers.env["FLYWHEEL_STALL_SECONDS"] = str(STALL_SECONDS)
    worker = celery_workers.start()
    steps = 200
    run = training_run_create(
        kind="sft",
        dataset=ranked_project.snapshot,
        base_model=sft_policy,
        config=QUICK | {"max_steps": steps, "save_steps": 5},
    )
    wait_for(lambda: TrainingRun.objects.get(pk=run.pk).step >= 10, "10 training steps")

    during = outage(OUTAGE_SECONDS, lambda: TrainingRun.objects.get(pk=run.pk))
    assert during.status == JobStatus.RUNNING and during.step < steps, "cut off too late"
    died = stalled(TrainingRun, run.pk)
    assert died.attempts == 1

    run = swept_until_finished(TrainingRun, run.pk, timeout=300)
    assert worker.poll() is None, "the worker process died with its connection"
    assert (run.status, run.attempts) == (JobStatus.SUCCEEDED, 2), run.error
    assert run.resumed_from_step is not None and 5 <= run.resumed_from_step <= died.step
    assert ModelVersion.objects.filter(produced_by=run).count() == 1
    assert max(RunMetric.objects.filter(run=run).values_list("step", flat=True)) == steps
    print(
        f"training: cut off from PostgreSQL at step {during.step}/{steps}; resumed on attempt "
        f"2 from step {run.resumed_from_step}, one model registered"
    )


@pytest.mark.slow
@pytest.mark.parametrize("warm", [True, False], ids=["warm-fork", "fresh-process"])
def test_an_attempt_that_loses_postgres_stops_its_training_process(
    ranked_project, sft_policy, settings, tmp_path, monkeypatch, warm
):
    """The worker side of a run (``job_execute``, called here in-process) fails to write the
    log tail once training has begun, as it does when PostgreSQL goes away; the training
    process must not outlive the attempt, or it would train beside the attempt that resumes
    the run. The failing write is the one thing faked (the training process itself keeps a
    working database, so without the kill it would go on to the end). Both ways the local
    executor starts a process: forked from the warm process, and a fresh interpreter."""
    import psutil
    from django.db.utils import OperationalError

    from training.engine import execution
    from training.engine import warm as warm_process
    from training.engine.executors import local

    settings.FLYWHEEL_MODELS_DIR = tmp_path / "models"
    settings.FLYWHEEL_WARM_START = warm
    db = connection.settings_dict
    # The training process (a child of this test process) reads this test's database and
    # models directory, so it really trains: without the kill it would go on to the end.
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    monkeypatch.setenv("FLYWHEEL_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setattr(local, "_warm", warm_process.WarmProcess())  # started with that env
    run = training_run_create(
        kind="sft",
        dataset=ranked_project.snapshot,
        base_model=sft_policy,
        config=QUICK | {"max_steps": 400, "save_steps": 1000},
    )

    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(execution, "job_append_log", lost)
    monkeypatch.setattr(execution, "LOG_FLUSH_LINES", 1)  # the first line it prints is written
    started, processes = [], []
    popen, kill = local.subprocess.Popen, warm_process._kill

    def record_popen(*args, **kwargs):
        processes.append(popen(*args, **kwargs))
        started.append(processes[-1].pid)
        return processes[-1]

    def record_kill(pid):
        started.append(pid)
        kill(pid)

    monkeypatch.setattr(local, "gpu_count", lambda: 0)
    if warm:
        monkeypatch.setattr(warm_process, "_kill", record_kill)
    else:
        monkeypatch.setattr(local.subprocess, "Popen", record_popen)
    try:
        with pytest.raises(OperationalError):
            execution.job_execute(job_type_name="training_run", job_id=run.pk)
    finally:
        local._warm.close()
    (pid,) = started
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        if psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            break
        time.sleep(0.1)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() in (
        psutil.STATUS_ZOMBIE,
        psutil.STATUS_DEAD,
    ), "the training process outlived its attempt"
    row = TrainingRun.objects.get(pk=run.pk)
    assert row.status == JobStatus.RUNNING and row.step < 400  # left for the sweep


def test_a_training_heartbeat_whose_connection_is_cut_reconnects(
    ranked_project, sft_policy, settings
):
    """The training process's heartbeat thread, its PostgreSQL connection terminated: the next
    beats must open a new one. (Django never replaces a broken connection by itself; a thread
    that kept failing on it would let a run that is still training look dead to the sweep, which
    would then start a second attempt beside it.)"""
    from training.engine.jobs import job_type
    from training.engine.reporting import JobReporter

    settings.FLYWHEEL_STALL_SECONDS = 2  # a beat every 0.5 s
    run = training_run_create(
        kind="sft", dataset=ranked_project.snapshot, base_model=sft_policy, config=QUICK
    )
    TrainingRun.objects.filter(pk=run.pk).update(status=JobStatus.RUNNING, heartbeat_at=None)
    reporter = JobReporter(job_type("training_run"), run.pk)
    with reporter:
        wait_for(lambda: TrainingRun.objects.get(pk=run.pk).heartbeat_at, "a first beat", 10)
        database, own_pid = connection.settings_dict["NAME"], own_backend_pid()
        with connection.cursor() as cur:
            assert terminate_others(cur, database, own_pid) == 1  # the heartbeat thread's
        cut = timezone.now()
        wait_for(
            lambda: TrainingRun.objects.filter(pk=run.pk, heartbeat_at__gt=cut).exists(),
            "a beat after the connection was cut",
            timeout=10,
        )

"""PostgreSQL unreachable from a worker in the middle of a generation job, with a real Celery
worker on a real Redis broker: the worker's connection is cut and new connections refused for a
few seconds, then the database comes back. The job must neither be lost nor stay "running": the
periodic sweep (``training.tasks.recover_stalled_work``, sent by name as celery beat sends it)
finds its heartbeat stale and sends it again, the same worker process resumes it on a fresh
connection, and every prompt ends with exactly one candidate set.

The outage is made in PostgreSQL itself, for the test's database only: ``ALTER DATABASE …
ALLOW_CONNECTIONS false`` refuses new connections and ``pg_terminate_backend`` cuts the open
ones (the worker sees "terminating connection", then "database … is not currently accepting
connections", as in a restart). The shared server keeps serving every other test process, and
this test's own connection, opened before, stays up to watch. Nothing is mocked."""

from __future__ import annotations

import time
from collections import Counter

import psycopg2
import pytest
from django.db import connection

from annotation.models import Candidate, CandidateSet
from annotation.services.imports import prompts_import
from flywheel.celery import app
from training.models import GenerationJob, JobStatus
from training.services.generation import generation_job_create

from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

STALL_SECONDS = 3
PROMPTS = 48
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


def cut_off(admin, database: str, keep_pid: int) -> int:
    """Refuse new connections to ``database`` and terminate its open ones but ``keep_pid``;
    how many were terminated."""
    with admin.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
        cur.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> %s",
            [database, keep_pid],
        )
        return cur.fetchone()[0]


def reopen(admin, database: str) -> None:
    with admin.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')


@pytest.mark.slow
def test_a_generation_job_cut_off_from_postgres_is_resumed_once_it_is_back(
    celery_workers, make_project, sft_policy, tinyworld
):
    celery_workers.env["FLYWHEEL_STALL_SECONDS"] = str(STALL_SECONDS)
    project = make_project(k=3)
    prompts = tinyworld.train_prompts()[:PROMPTS]
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

    database = connection.settings_dict["NAME"]
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        (own_pid,) = cur.fetchone()
    admin = _admin_connection()
    try:
        assert cut_off(admin, database, own_pid) >= 1  # the worker's connection
        time.sleep(OUTAGE_SECONDS)
        during = GenerationJob.objects.get(pk=job.pk)
    finally:
        reopen(admin, database)
        admin.close()
    assert during.status == JobStatus.RUNNING and during.done < PROMPTS, "cut off too late"
    written = set(CandidateSet.objects.filter(members__candidate__generation_job=job))

    # The attempt died on its next write: the job stays "running" and its heartbeat goes stale
    # (its failure could not be recorded either: the database was gone).
    stalled = wait_for(
        lambda: GenerationJob.objects.filter(
            pk=job.pk,
            status=JobStatus.RUNNING,
            heartbeat_at__lt=time_ago(STALL_SECONDS + 1),
        ).first(),
        "the cut-off attempt's heartbeat to go stale",
        timeout=60,
    )
    assert stalled.attempts == 1 and stalled.done == during.done

    def resumed():
        app.send_task("training.tasks.recover_stalled_work")  # what celery beat sends
        time.sleep(1)
        row = GenerationJob.objects.get(pk=job.pk)
        return row if row.status not in (JobStatus.QUEUED, JobStatus.RUNNING) else None

    job = wait_for(resumed, "the resumed job", timeout=180)
    assert worker.poll() is None, "the worker process died with its connection"
    assert (job.status, job.attempts, job.done) == (JobStatus.SUCCEEDED, 2, PROMPTS), job.error
    sets = CandidateSet.objects.filter(members__candidate__generation_job=job).distinct()
    assert job.sets_created + job.prompts_skipped == PROMPTS
    assert sets.count() == job.sets_created
    assert set(Counter(sets.values_list("prompt_id", flat=True)).values()) == {1}
    assert written <= set(sets)  # what the first attempt wrote was kept, not redone
    assert Candidate.objects.filter(generation_job=job).count() == 3 * job.sets_created
    print(
        f"generation: cut off from PostgreSQL after {during.done}/{PROMPTS} prompts "
        f"({len(written)} sets written); resumed on attempt 2, {job.sets_created} sets in all"
    )


def time_ago(seconds: float):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() - timedelta(seconds=seconds)

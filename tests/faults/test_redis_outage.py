"""Redis stopped while annotators work: a private Redis (no persistence, so a restart also
loses whatever was queued) is Celery's broker and the cache, with a real worker on it, and the
live server (pytest-django's, in this process) is the web process.

While it is down, annotators sign in (django-axes on the path), take and submit tasks, and an
admin requests a training run, a generation job and a loop round: every request must succeed
promptly, since nothing on the request path needs Redis and a failed dispatch is logged, not
raised (training/services/runs.py ``dispatch_run``). Once Redis is back, the beat's two periodic
tasks (sent here by name, as celery beat sends them) make the worker pick up each job requested
during the outage, exactly once.

Nothing is mocked; celery beat itself is not run (its schedule is 15 to 30 s, and the sweep it
triggers is what is under test)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from annotation.enums import Role
from annotation.models import Assignment, Ranking
from annotation.services.imports import prompts_import
from annotation.services.users import token_for
from loop.models import LoopRound, RoundStep
from loop.services.settings import loop_for
from tests.conftest import PASSWORD, _point_celery_at
from training.models import GenerationJob, JobStatus, ModelVersion, TrainingRun

from .conftest import QUICK, wait_for, worker_answers
from .private_servers import SilentBroker

# Measured: a failed dispatch costs 0.6 s (3 publish retries); it cost ~20 s while each
# dispatch also subscribed to its result in Redis (training/tasks.py, ignore_result).
DISPATCH_BOUND_SECONDS = 5.0


def annotate(base_url: str, username: str, project_id: int) -> list[tuple[int, float]]:
    """Sign in, then take and submit tasks until none is left: ``(status, seconds)`` of
    every request."""
    seen = []
    with httpx.Client(base_url=base_url, timeout=30) as client:

        def post(url: str, **kwargs) -> httpx.Response:
            started = time.monotonic()
            response = client.post(url, **kwargs)
            seen.append((response.status_code, time.monotonic() - started))
            return response

        token = post("/api/v1/auth/token/", json={"username": username, "password": PASSWORD})
        client.headers["Authorization"] = f"Token {token.json()['token']}"
        while (task := post(f"/api/v1/projects/{project_id}/next-task/")).status_code == 200:
            body = task.json()
            post(
                f"/api/v1/assignments/{body['assignment']}/submit/",
                json={"ranking": [[c["id"]] for c in body["candidates"]], "interaction": {}},
            )
    return seen


@pytest.mark.slow
def test_a_redis_outage_loses_no_ranking_and_jobs_requested_meanwhile_run_once_it_is_back(
    broker_outage, live_server, make_user, ranked_project, sft_policy
):
    project, snapshot = ranked_project.project, ranked_project.snapshot
    prompts_import(project=project, rows=[(n, {"prompt": f"New question {n}?"}) for n in (1, 2)])
    loop = loop_for(project)
    loop.reward_config = QUICK
    loop.save()
    annotators = [make_user(Role.ANNOTATOR).username for _ in range(3)]
    admin = httpx.Client(
        base_url=live_server.url,
        headers={"Authorization": f"Token {token_for(user=make_user(Role.ADMIN))}"},
        timeout=30,
    )
    worker = broker_outage.workers.start()

    broker_outage.redis.stop()
    down_at = time.monotonic()
    requests = {}

    def request(what: str, url: str, body: dict | None = None) -> dict:
        started = time.monotonic()
        response = admin.post(url, json=body)
        requests[what] = (response.status_code, time.monotonic() - started)
        return response.json()

    with ThreadPoolExecutor(len(annotators)) as pool:
        work = [pool.submit(annotate, live_server.url, u, project.pk) for u in annotators]
        run = request(
            "training run",
            "/api/v1/training-runs/",
            {"kind": "sft", "dataset": snapshot.pk, "base_model": sft_policy.pk, "config": QUICK},
        )
        job = request(
            "generation job",
            f"/api/v1/projects/{project.pk}/generate/",
            {"model": sft_policy.pk, "sampling": {"max_new_tokens": 8, "batch_size": 2}},
        )
        loop_round = request("loop round", f"/api/v1/projects/{project.pk}/rounds/")
        annotated = [status for future in work for status in future.result()]
    assert admin.get(f"/api/v1/training-runs/{run['id']}/").json()["status"] == "queued"
    broker_outage.redis.start()
    outage = time.monotonic() - down_at

    # During the outage: every ranking stored, every request answered at once.
    assert {status for status, _ in annotated} <= {200, 201, 204}, annotated
    submitted = sum(status == 201 for status, _ in annotated)
    assert submitted == 18
    assert Ranking.objects.filter(candidate_set__project=project).count() == 30
    assert not Assignment.objects.filter(candidate_set__project=project, state="leased").exists()
    assert max(seconds for _, seconds in annotated) < DISPATCH_BOUND_SECONDS
    assert {what: status for what, (status, _) in requests.items()} == {
        "training run": 201,
        "generation job": 202,
        "loop round": 201,
    }
    assert max(seconds for _, seconds in requests.values()) < DISPATCH_BOUND_SECONDS, requests

    # Redis back (empty): the worker reconnects, and the beat's sweeps send what was lost.
    reconnect = worker_answers(broker_outage.workers, worker)
    from flywheel.celery import app

    back_at = time.monotonic()
    app.send_task("training.tasks.recover_stalled_work")
    app.send_task("loop.tasks.tick")

    def finished(model, pk):
        row = model.objects.get(pk=pk)
        return row if row.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None

    run = wait_for(lambda: finished(TrainingRun, run["id"]), "the training run")
    job = wait_for(lambda: finished(GenerationJob, job["id"]), "the generation job")
    reward_run = wait_for(
        lambda: TrainingRun.objects.filter(
            pk=LoopRound.objects.get(pk=loop_round["id"]).reward_run_id, attempts__gte=1
        ).first(),
        "the round's reward run to start",
    )
    caught_up = time.monotonic() - back_at
    assert (run.status, run.attempts) == (JobStatus.SUCCEEDED, 1), run.error
    assert ModelVersion.objects.filter(produced_by=run).count() == 1
    assert (job.status, job.attempts, job.sets_created + job.prompts_skipped) == (
        JobStatus.SUCCEEDED,
        1,
        2,
    )
    assert reward_run.attempts == 1
    assert LoopRound.objects.get(pk=loop_round["id"]).step in (RoundStep.REWARD, RoundStep.POLICY)
    admin.close()
    requested = ", ".join(f"{what} {seconds:.2f} s" for what, (_, seconds) in requests.items())
    print(
        f"Redis down {outage:.1f} s: {submitted} rankings stored (slowest request "
        f"{max(s for _, s in annotated):.2f} s); requested meanwhile: {requested}; worker "
        f"reconnected {reconnect:.1f} s after Redis was back; all three jobs picked up within "
        f"{caught_up:.1f} s of the sweep, each attempted once"
    )


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_stops_answering_delays_a_request_by_seconds_not_for_ever(
    admin_client, ranked_project, sft_policy
):
    """A Redis host that is down or cut off drops packets rather than refusing the connection:
    without socket timeouts (settings: CELERY_BROKER_TRANSPORT_OPTIONS) the dispatch, and with
    it the request, waited for ever (measured: still waiting after 120 s)."""
    from django.db import connections

    from flywheel.celery import app

    answered = {}

    def post() -> None:
        started = time.monotonic()
        response = admin_client.post(
            "/api/v1/training-runs/",
            {"kind": "sft", "dataset": ranked_project.snapshot.pk, "base_model": sft_policy.pk},
            format="json",
        )
        answered.update(status=response.status_code, seconds=time.monotonic() - started)
        connections.close_all()

    broker = SilentBroker()
    saved = app.conf.broker_url, app.conf.result_backend
    _point_celery_at(app, broker.url, broker.url)
    try:
        request = threading.Thread(target=post, daemon=True)
        request.start()
        request.join(timeout=60)
    finally:
        _point_celery_at(app, *saved)
        broker.close()
    assert answered, "the request was still waiting for the broker after 60 s"
    assert answered["status"] == 201
    assert answered["seconds"] < 10, answered  # measured: 4.2 s (2 connects of 2 s)
    assert TrainingRun.objects.get().status == JobStatus.QUEUED  # the sweep sends it later
    print(
        f"silent broker: the request answered {answered['status']} in {answered['seconds']:.1f} s"
    )

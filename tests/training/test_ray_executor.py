"""The ``ray`` executor on a real two-node Ray cluster on loopback (tests/training/
ray_cluster.py): a run across two Ray Train workers ends with a registered model, a generation
job stores its candidate sets, cancel stops a run on Ray, and a worker node lost mid-run loses
the attempt with Ray's reason in the log, so the run is sent again and resumes from its
checkpoint instead of staying running.

The engine's worker side runs in this process (``job_execute``, as a Celery worker calls it);
the job's process runs on the cluster and reaches the test database through the DATABASE_URL
the executor sends with it.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from django.db import connection

from annotation.enums import Role
from training.engine.execution import job_execute
from training.engine.executors import Launch, executor
from training.engine.executors.ray import RayAttemptLost
from training.engine.lifecycle import job_acquire, jobs_to_redispatch
from training.jobs import TRAINING_RUN
from training.models import GenerationJob, JobStatus, ModelVersion, RunMetric, TrainingRun

from .ray_cluster import WORKER_IP, RayCluster, start_cluster
from .test_generation import SAMPLING, policy, project_with_prompts  # noqa: F401 — fixtures
from .test_runs import QUICK, wait_for

RAY = "training.engine.executors.ray"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def ray_cluster():
    import ray

    cluster = start_cluster(dict(os.environ, PYTHONPATH=str(os.getcwd())))
    yield cluster
    ray.shutdown()
    cluster.stop()


@pytest.fixture
def on_ray(ray_cluster: RayCluster, settings):
    """The ray executor listed and pointed at the test cluster; one CPU per job process."""
    settings.FLYWHEEL_RAY_ADDRESS = ray_cluster.address
    settings.FLYWHEEL_EXECUTORS = [RAY]
    settings.FLYWHEEL_RAY_RESOURCES = {"CPU": 1.0}
    return settings


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def start_ray_run(client, world, kind: str, **config) -> int:
    snapshot, sft, _ = world
    body = {"kind": kind, "dataset": snapshot.pk, "base_model": sft.pk, "config": QUICK | config}
    response = client.post("/api/v1/training-runs/", body | {"executor": "ray"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def execute_in_thread(job_type: str, job_id: int) -> tuple[threading.Thread, dict]:
    """The worker side (``job_execute``) in a thread, as a Celery worker would run it."""
    outcome: dict[str, object] = {}

    def execute() -> None:
        try:
            outcome["status"] = job_execute(job_type_name=job_type, job_id=job_id)
        except Exception as exc:  # noqa: BLE001 — what the Celery task would see
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=execute, daemon=True)
    thread.start()
    return thread, outcome


def test_a_dpo_run_across_two_ray_train_workers_registers_its_model(on_ray, client_for, world):
    admin = client_for(Role.ADMIN)
    run_id = start_ray_run(admin, world, "dpo", processes=2)
    assert TrainingRun.objects.get(pk=run_id).executor == "ray"

    status = job_execute(job_type_name="training_run", job_id=run_id)

    run = TrainingRun.objects.get(pk=run_id)
    assert status == JobStatus.SUCCEEDED, run.error + run.log_tail
    assert "TorchTrainer with 2 workers" in run.log_tail
    assert "[rank 1] " in run.log_tail  # the second worker's output reached the log tail
    output = ModelVersion.objects.get(produced_by=run)
    assert output.parent == world[1]
    points = [
        (step, tuple(sorted(values)))
        for step, values in RunMetric.objects.filter(run=run).values_list("step", "values")
    ]
    assert points and len(points) == len(set(points))  # only RANK 0 wrote metrics
    assert (run.step, run.total_steps) == (2, 2)


def test_a_generation_job_on_ray_stores_its_candidate_sets(
    on_ray,
    client_for,
    policy,  # noqa: F811
    project_with_prompts,  # noqa: F811
):
    from annotation.models import CandidateSet

    admin = client_for(Role.ADMIN)
    response = admin.post(
        f"/api/v1/projects/{project_with_prompts.pk}/generate/",
        {"model": policy.pk, "sampling": SAMPLING, "seed": 11, "executor": "ray"},
        format="json",
    )
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]

    status = job_execute(job_type_name="generation_job", job_id=job_id)

    job = GenerationJob.objects.get(pk=job_id)
    assert status == JobStatus.SUCCEEDED, job.error + job.log_tail
    assert "6 prompts to generate, 0 already written" in job.log_tail
    assert job.done == 6 and job.sets_created >= 5
    assert CandidateSet.objects.filter(project=project_with_prompts).count() == job.sets_created


def test_cancelling_a_run_on_ray_stops_it(on_ray, client_for, world):
    admin = client_for(Role.ADMIN)
    run_id = start_ray_run(admin, world, "dpo", max_steps=500, save_steps=1000)
    thread, outcome = execute_in_thread("training_run", run_id)
    wait_for(run_id, {JobStatus.RUNNING}, condition=lambda r: r.step >= 1)

    assert admin.post(f"/api/v1/training-runs/{run_id}/cancel/").status_code == 200
    thread.join(120)

    assert not thread.is_alive()
    run = TrainingRun.objects.get(pk=run_id)
    assert run.status == JobStatus.CANCELLED and outcome["status"] == JobStatus.CANCELLED, (
        run.error + run.log_tail
    )
    assert run.step < 500
    assert not ModelVersion.objects.filter(produced_by=run).exists()


def test_a_run_the_cluster_cannot_hold_fails_at_once_with_the_reason(on_ray, client_for, world):
    on_ray.FLYWHEEL_RAY_RESOURCES = {"CPU": 1.0, "GPU": 1.0}  # the loopback nodes have none
    run_id = start_ray_run(client_for(Role.ADMIN), world, "sft")

    assert job_execute(job_type_name="training_run", job_id=run_id) == "failed: exit code 2"

    run = TrainingRun.objects.get(pk=run_id)
    assert "room for 0 job process(es)" in run.error and run.status == JobStatus.FAILED


class Interrupted(Exception):
    pass


def test_an_interrupted_ray_executor_stops_the_job_on_the_cluster(on_ray, client_for, world):
    """The worker side raising mid-job (here ``on_output``) must not leave the job's process
    working on the cluster beside the next attempt."""
    admin = client_for(Role.ADMIN)
    run_id = start_ray_run(admin, world, "dpo", max_steps=5000, save_steps=10_000)
    assert job_acquire(TRAINING_RUN, run_id)

    def on_output(line: str) -> None:
        # The job prints little while it trains: at its first line, wait here (the Ray task
        # goes on) until it is mid-training, then interrupt.
        deadline = time.monotonic() + 120
        while TrainingRun.objects.get(pk=run_id).step < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        raise Interrupted

    with pytest.raises(Interrupted):
        executor("ray").run(Launch("training_run", run_id), on_output)

    time.sleep(2)  # a flush already under way may land
    step = TrainingRun.objects.get(pk=run_id).step
    time.sleep(5)
    run = TrainingRun.objects.get(pk=run_id)
    assert 2 <= run.step == step < 5000 and run.status == JobStatus.RUNNING  # no one works on it


def test_a_worker_node_lost_mid_run_is_sent_again_and_resumes_from_its_checkpoint(
    on_ray, ray_cluster: RayCluster, client_for, world
):
    on_ray.FLYWHEEL_RAY_RESOURCES = {"CPU": 1.0, "worker": 1.0}  # on the node to be killed
    on_ray.FLYWHEEL_STALL_SECONDS = 3
    admin = client_for(Role.ADMIN)
    run_id = start_ray_run(admin, world, "dpo", max_steps=60, save_steps=2)
    thread, outcome = execute_in_thread("training_run", run_id)
    wait_for(run_id, {JobStatus.RUNNING}, condition=lambda r: r.step >= 3)

    (worker,) = [node for node in ray_cluster.nodes if node.ip == WORKER_IP]
    worker.kill()
    thread.join(120)

    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), RayAttemptLost), outcome
    run = TrainingRun.objects.get(pk=run_id)
    assert run.status == JobStatus.RUNNING and run.attempts == 1  # lost, not failed
    assert "The job's Ray worker or node was lost" in run.log_tail
    ray_cluster.nodes.remove(worker)
    ray_cluster.start_node(WORKER_IP, head=False, resources='{"worker": 1}')
    ray_cluster.wait_for_nodes(2)
    wait_until(lambda: run_id in jobs_to_redispatch(TRAINING_RUN), timeout=30)  # the sweep's view

    assert job_execute(job_type_name="training_run", job_id=run_id) == JobStatus.SUCCEEDED

    run = TrainingRun.objects.get(pk=run_id)
    assert run.attempts == 2 and run.resumed_from_step and run.resumed_from_step >= 2, run.log_tail
    assert (run.step, run.total_steps) == (60, 60)
    assert ModelVersion.objects.filter(produced_by=run).count() == 1


def test_a_ray_train_worker_lost_mid_run_fails_the_run_with_the_reason(
    on_ray, ray_cluster: RayCluster, client_for, world
):
    """processes: 2, one Ray Train worker per node; the worker node dies mid-run. Rank 0's
    collective fails at once and it records the failure (the reporter cannot tell a lost Ray
    peer from an error of the run), and Ray Train's reason names the lost rank: the run ends,
    failed, never left running."""
    admin = client_for(Role.ADMIN)
    run_id = start_ray_run(admin, world, "dpo", processes=2, max_steps=500, save_steps=2)
    thread, outcome = execute_in_thread("training_run", run_id)
    wait_for(run_id, {JobStatus.RUNNING}, condition=lambda r: r.step >= 2)

    (worker,) = [node for node in ray_cluster.nodes if node.ip == WORKER_IP]
    worker.kill()
    thread.join(180)
    try:
        assert not thread.is_alive()
        run = TrainingRun.objects.get(pk=run_id)
        # Rank 0 records it ("failed"), or the engine does after the launch ended ("failed:
        # exit code 1"), whichever comes first.
        assert run.status == JobStatus.FAILED and outcome["status"].startswith("failed")
        assert "ray: the TorchTrainer failed" in run.log_tail
        assert "[Rank 1 Error Snippet]" in run.log_tail, run.log_tail[-3000:]
        assert run.step < 500 and not ModelVersion.objects.filter(produced_by=run).exists()
    finally:
        ray_cluster.nodes.remove(worker)
        ray_cluster.start_node(WORKER_IP, head=False, resources='{"worker": 1}')
        ray_cluster.wait_for_nodes(2)

"""Training runs through the platform: REST → PostgreSQL → Redis → a real Celery worker → the
runner process → the algorithm → a registered model version with lineage and metrics.
Cancellation, bad configs, and a worker killed mid-run (the run resumes from its checkpoint on a
new worker and finishes once, with one output model)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from annotation.enums import Role
from training.models import JobStatus, ModelVersion, RunMetric, TrainingRun

QUICK = {
    "max_steps": 2,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "learning_rate": 1e-3,
    "warmup_steps": 0,
    "logging_steps": 1,
    "save_steps": 1,
}
EXTRA = {
    "grpo": {"num_generations": 2, "max_completion_length": 6},
    "rloo": {"num_generations": 2, "max_completion_length": 6},
}
PPO_QUICK = {
    "max_steps": 2,
    "rollout_batch_size": 4,
    "minibatch_size": 2,
    "max_new_tokens": 6,
    "learning_rate": 1e-3,
    "save_steps": 1,
}


def start_run(client, world, kind, **config):
    snapshot, sft, rm = world
    base = PPO_QUICK if kind == "ppo" else QUICK | EXTRA.get(kind, {})
    body = {"kind": kind, "dataset": snapshot.pk, "base_model": sft.pk, "config": base | config}
    if kind in ("ppo", "grpo", "rloo"):
        body["reward_model"] = rm.pk
    response = client.post("/api/v1/training-runs/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def wait_for(run_id, statuses, timeout=240, condition=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = TrainingRun.objects.get(pk=run_id)
        if run.status in statuses and (condition is None or condition(run)):
            return run
        time.sleep(0.5)
    run = TrainingRun.objects.get(pk=run_id)
    raise AssertionError(
        f"run {run_id} is {run.status} (step {run.step}): {run.error[-2000:]}"
        f"\n{run.log_tail[-3000:]}"
    )


def weights(path: str) -> dict[str, torch.Tensor]:
    return load_file(str(Path(path) / "model.safetensors"))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["sft", "reward", "dpo", "kto", "ppo", "grpo", "rloo"])
def test_each_algorithm_runs_end_to_end_through_a_worker(celery_worker, client_for, world, kind):
    snapshot, sft, rm = world
    admin = client_for(Role.ADMIN)
    run_id = start_run(admin, world, kind)
    run = wait_for(run_id, {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert run.status == JobStatus.SUCCEEDED, run.error
    detail = admin.get(f"/api/v1/training-runs/{run_id}/").json()
    assert detail["step"] == detail["total_steps"] == 2 and detail["progress"] == 1.0
    assert detail["metrics"] and any(
        key.startswith("loss") for m in detail["metrics"] for key in m["values"]
    )
    output = ModelVersion.objects.get(produced_by=run)
    assert detail["output_model"] == output.pk
    assert output.parent == sft and output.metadata["dataset"] == snapshot.pk
    assert output.kind == {"sft": "sft", "reward": "reward"}.get(kind, "policy")
    before = weights(rm.storage_path if kind == "reward" else sft.storage_path)
    after = weights(output.storage_path)
    shared = [name for name in after if name in before and after[name].shape == before[name].shape]
    assert any(not torch.equal(before[n], after[n]) for n in shared)
    lineage = {m["id"]: m for m in admin.get("/api/v1/models/").json()["results"]}
    assert lineage[output.pk]["produced_by"] == run_id
    assert lineage[output.pk]["dataset"] == snapshot.pk
    assert run_id in lineage[sft.pk]["used_by_runs"]


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_a_running_run_without_an_output_model(celery_worker, client_for, world):
    admin = client_for(Role.ADMIN)
    run_id = start_run(admin, world, "dpo", max_steps=500, save_steps=1000)
    wait_for(run_id, {JobStatus.RUNNING}, condition=lambda r: r.step >= 1)
    response = admin.post(f"/api/v1/training-runs/{run_id}/cancel/")
    assert response.status_code == 200 and response.json()["cancel_requested"] is True
    run = wait_for(run_id, {JobStatus.CANCELLED, JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert run.status == JobStatus.CANCELLED, run.error
    assert run.step < 500
    assert not ModelVersion.objects.filter(produced_by=run).exists()
    again = admin.post(f"/api/v1/training-runs/{run_id}/cancel/")
    assert again.status_code == 409


@pytest.mark.django_db
def test_cancelling_a_queued_run_finishes_it_at_once(client_for, world):
    admin = client_for(Role.ADMIN)
    run_id = start_run(admin, world, "sft")  # no worker runs in this test
    response = admin.post(f"/api/v1/training-runs/{run_id}/cancel/")
    assert response.json()["status"] == "cancelled"
    from training.engine.execution import job_execute

    assert job_execute(job_type_name="training_run", job_id=run_id).startswith("skipped")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "dpo", "config": {"beta": "high"}}, "config.beta"),
        ({"kind": "dpo", "config": {"betta": 0.1}}, "config.betta"),
        ({"kind": "dpo", "config": {"loss_type": "magic"}}, "config.loss_type"),
        ({"kind": "dpo", "config": {"learning_rate": -1.0}}, "config.learning_rate"),
        ({"kind": "dpo", "config": {"adapter": {"r": 0}}}, "config.adapter.r"),
        ({"kind": "sft", "config": {"adapter": {"rank": 8}}}, "config.adapter.rank"),
        ({"kind": "reward", "config": {"adapter": "lora"}}, "config.adapter"),
        ({"kind": "dpo", "config": {"processes": 0}}, "config.processes"),
        ({"kind": "dpo", "config": {"fsdp": "full_shard"}}, "config.fsdp"),
        ({"kind": "dpo", "config": {"processes": 2, "fsdp": "shard_everything"}}, "config.fsdp"),
        (
            {"kind": "kto", "config": {"per_device_train_batch_size": 1}},
            "config.per_device_train_batch_size",
        ),
        ({"kind": "ppo"}, "reward_model"),
        ({"kind": "dpo", "reward_model": "rm"}, "reward_model"),
        ({"kind": "dpo", "base_model": "rm"}, "base_model"),
        ({"kind": "dpo", "dataset": 999999}, "dataset"),
        ({"kind": "telepathy"}, "kind"),
    ],
)
def test_bad_run_request_is_400_and_nothing_is_queued(client_for, world, body, field):
    snapshot, sft, rm = world
    ids = {"rm": rm.pk}
    payload = {"dataset": snapshot.pk, "base_model": sft.pk, "config": {}} | body
    for key in ("reward_model", "base_model"):
        if payload.get(key) in ids:
            payload[key] = ids[payload[key]]
    response = client_for(Role.ADMIN).post("/api/v1/training-runs/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert TrainingRun.objects.count() == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_run_resumes_from_its_checkpoint_on_a_new_worker(
    celery_workers, client_for, world, settings
):
    """SIGKILL the worker mid-run (its training process dies with it); a new worker's
    start-up sweep finds the stale heartbeat and resumes from the latest checkpoint; the run
    finishes once, with one output model."""
    stall = 4
    celery_workers.env["FLYWHEEL_STALL_SECONDS"] = str(stall)
    settings.FLYWHEEL_STALL_SECONDS = stall
    first = celery_workers.start()
    admin = client_for(Role.ADMIN)
    run_id = start_run(admin, world, "dpo", max_steps=200, save_steps=5)
    wait_for(run_id, {JobStatus.RUNNING}, condition=lambda r: r.step >= 10)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(30)
    killed_at = TrainingRun.objects.get(pk=run_id).step
    time.sleep(stall + 2)  # the heartbeat goes stale
    celery_workers.start()
    run = wait_for(run_id, {JobStatus.SUCCEEDED, JobStatus.FAILED}, timeout=300)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.attempts == 2
    assert run.resumed_from_step is not None and 5 <= run.resumed_from_step <= killed_at
    assert ModelVersion.objects.filter(produced_by=run).count() == 1
    steps = list(RunMetric.objects.filter(run=run).values_list("step", flat=True))
    assert max(steps) == 200

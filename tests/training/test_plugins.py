"""A new algorithm and a new executor are each one file (issue 15): tests/training/
toy_algorithm.py and toy_executor.py register themselves, and runs go through the API, a real
Celery worker and the job engine to a registered model without any other file changed — only
the settings that list extra modules (FLYWHEEL_ALGORITHMS, FLYWHEEL_EXECUTORS) name them."""

from __future__ import annotations

import importlib
import sys

import pytest

from annotation.enums import Role
from training.engine.storage import run_dir
from training.models import JobStatus, ModelKind, ModelVersion, RunMetric

from .test_runs import QUICK, start_run, wait_for

TOY_ALGORITHM = "tests.training.toy_algorithm"
TOY_EXECUTOR = "tests.training.toy_executor"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registered(monkeypatch):
    """Registries that forget, after the test, what it registered (registration happens once,
    at import: the module is reloaded to register into the test's copy)."""
    from training.algorithms import registry
    from training.engine import executors

    # Load the built-ins first: loaded into the copy, they would be gone with it, and their
    # modules, already imported, would never register again in this process.
    registry.algorithms()
    executors.executor_names()
    monkeypatch.setattr(registry, "_ALGORITHMS", dict(registry._ALGORITHMS))
    monkeypatch.setattr(executors, "_EXECUTORS", dict(executors._EXECUTORS))

    def register(module_name: str) -> None:
        if module_name in sys.modules:
            importlib.reload(sys.modules[module_name])
        else:
            importlib.import_module(module_name)

    return register


def test_a_toy_algorithm_in_one_file_runs_through_the_api_to_a_registered_model(
    celery_workers, client_for, world, settings, registered
):
    settings.FLYWHEEL_ALGORITHMS = [TOY_ALGORITHM]
    registered(TOY_ALGORITHM)  # the web process's registry
    celery_workers.env["FLYWHEEL_ALGORITHMS"] = TOY_ALGORITHM
    celery_workers.start()
    admin = client_for(Role.ADMIN)
    listed = {k["kind"]: k for k in admin.get("/api/v1/run-kinds/").json()}
    assert listed["copy"]["view"] == "preference" and listed["copy"]["output_kind"] == "policy"
    assert [f["name"] for f in listed["copy"]["config_fields"]] == ["note"]
    bad = admin.post(
        "/api/v1/training-runs/",
        {"kind": "copy", "dataset": world[0].pk, "base_model": world[1].pk, "config": {"x": 1}},
        format="json",
    )
    assert bad.status_code == 400 and "config.x" in bad.json()["errors"]

    snapshot, sft, _ = world
    response = admin.post(
        "/api/v1/training-runs/",
        {"kind": "copy", "dataset": snapshot.pk, "base_model": sft.pk, "config": {"note": "hi"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    run = wait_for(response.json()["id"], {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert run.status == JobStatus.SUCCEEDED, run.error + run.log_tail
    output = ModelVersion.objects.get(produced_by=run)
    assert (output.kind, output.parent) == (ModelKind.POLICY, sft)
    exported = run_dir(run.pk) / "data" / "train.jsonl"  # the train split's preference pairs
    pairs = float(len(exported.read_text().splitlines()))
    (metric,) = RunMetric.objects.filter(run=run)
    assert metric.values == {"note_length": 2.0, "pairs": pairs} and pairs > 0
    assert run.final_metrics == {"pairs": pairs} and (run.step, run.total_steps) == (1, 1)


def test_a_toy_executor_in_one_file_runs_a_training_run(
    celery_workers, client_for, world, settings, registered
):
    settings.FLYWHEEL_EXECUTORS = [TOY_EXECUTOR]
    registered(TOY_EXECUTOR)
    celery_workers.env["FLYWHEEL_EXECUTORS"] = TOY_EXECUTOR
    celery_workers.start()
    admin = client_for(Role.ADMIN)
    snapshot, sft, _ = world
    unknown = admin.post(
        "/api/v1/training-runs/",
        {"kind": "sft", "dataset": snapshot.pk, "base_model": sft.pk, "executor": "nowhere"},
        format="json",
    )
    assert unknown.status_code == 400 and "executor" in unknown.json()["errors"]
    response = admin.post(
        "/api/v1/training-runs/",
        {
            "kind": "sft",
            "dataset": snapshot.pk,
            "base_model": sft.pk,
            "config": QUICK,
            "executor": "announcing",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["executor"] == "announcing"
    run = wait_for(response.json()["id"], {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert run.status == JobStatus.SUCCEEDED, run.error + run.log_tail
    assert run.log_tail.startswith(f"announcing executor: training_run {run.pk}\n")
    assert ModelVersion.objects.filter(produced_by=run, kind=ModelKind.SFT).exists()


def test_a_run_on_the_default_executor_keeps_the_field_empty(client_for, world):
    run_id = start_run(client_for(Role.ADMIN), world, "sft")
    assert client_for(Role.ADMIN).get(f"/api/v1/training-runs/{run_id}/").json()["executor"] == ""

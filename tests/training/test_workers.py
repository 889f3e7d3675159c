"""Workers report what they can run (training/workers.py), and run creation refuses a QLoRA run
that no live worker could run with a 400 that says why, writing nothing."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from training.models import TrainingRun
from training.workers import WorkerNode

from .test_runs import QUICK

pytestmark = pytest.mark.django_db(transaction=True)

QLORA = {"r": 8, "alpha": 16, "quantization": "4bit"}


def post_run(client, world, adapter):
    snapshot, sft, _ = world
    body = {
        "kind": "dpo",
        "dataset": snapshot.pk,
        "base_model": sft.pk,
        "config": QUICK | {"adapter": adapter},
    }
    return client.post("/api/v1/training-runs/", body, format="json")


def test_a_booting_worker_reports_its_queues_and_that_it_has_no_gpu_and_a_qlora_run_is_refused(
    celery_workers, admin_client, world
):
    """A real worker records itself at start; with it the only worker on the ``gpu`` queue, a
    QLoRA run is a 400 on config.adapter.quantization naming the worker and what it lacks,
    and no run is written. The same adapter without quantization is accepted."""
    celery_workers.start()
    deadline = time.monotonic() + 30
    while not WorkerNode.objects.exists():
        assert time.monotonic() < deadline, "the worker did not report in 30 s"
        time.sleep(0.2)
    (node,) = WorkerNode.objects.all()
    assert node.name.startswith("test-") and node.queues == ["default", "generation", "gpu"]
    assert node.gpus == 0 and node.vllm is False

    response = post_run(admin_client, world, QLORA)
    assert response.status_code == 400
    error = response.json()["errors"]["config.adapter.quantization"][0]
    assert "CUDA GPU and bitsandbytes" in error and f"{node.name}: no GPU" in error
    assert not TrainingRun.objects.exists()

    response = post_run(admin_client, world, QLORA | {"quantization": "none"})
    assert response.status_code == 201, response.json()


def test_a_qlora_run_needs_a_gpu_worker_that_reported_lately(admin_client, world, settings):
    """No GPU can exist here, so the GPU worker is a row as a GPU worker would write it: seen
    three report intervals ago it no longer counts (refused); seen now, the run is accepted.
    With no worker at all, the error says none reported."""
    response = post_run(admin_client, world, QLORA)
    assert response.status_code == 400
    assert "no worker there reported" in response.json()["errors"]["config.adapter.quantization"][0]

    stale = timezone.now() - timedelta(seconds=3 * settings.FLYWHEEL_WORKER_REPORT_SECONDS + 5)
    node = WorkerNode.objects.create(
        name="gpu-1@node", queues=["gpu"], gpus=8, bitsandbytes=True, seen_at=stale
    )
    assert post_run(admin_client, world, QLORA).status_code == 400
    assert not TrainingRun.objects.exists()

    WorkerNode.objects.filter(pk=node.pk).update(seen_at=timezone.now())
    response = post_run(admin_client, world, QLORA)
    assert response.status_code == 201, response.json()
    assert TrainingRun.objects.get().config["adapter"]["quantization"] == "4bit"


def test_a_gpu_worker_without_bitsandbytes_is_named_with_what_it_lacks(admin_client, world):
    WorkerNode.objects.create(name="gpu-2@node", queues=["gpu"], gpus=1, seen_at=timezone.now())
    WorkerNode.objects.create(  # a GPU worker on another queue does not run training
        name="gen@node", queues=["generation"], gpus=1, bitsandbytes=True, seen_at=timezone.now()
    )
    response = post_run(admin_client, world, QLORA)
    assert response.status_code == 400
    error = response.json()["errors"]["config.adapter.quantization"][0]
    assert "gpu-2@node: no bitsandbytes" in error and "gen@node" not in error


def test_a_loop_with_a_qlora_adapter_is_refused_without_a_gpu_worker(admin_client, make_project):
    project = make_project(k=2)
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/loop/", {"adapter": QLORA}, format="json"
    )
    assert response.status_code == 400
    assert "CUDA GPU" in response.json()["errors"]["adapter.quantization"][0]
    response = admin_client.get(f"/api/v1/projects/{project.pk}/loop/")
    assert response.json()["adapter"] is None

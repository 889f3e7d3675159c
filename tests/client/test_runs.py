"""Training runs through the client: start one on a snapshot the client made, follow it to the
end with a progress bar (a real Celery worker runs a two-step reward run of the tiny model),
read its output model's lineage and copy the model's directory; a bad config and a cancelled
run are errors that say what happened."""

from __future__ import annotations

import pytest
from flywheel_client import ApiError, RunFailed

from annotation.enums import Role
from annotation.models import Project
from tests.annotation.ranking_helpers import BAD, GOOD, rank_next
from tests.training.conftest import tiny_model_dir  # noqa: F401 (a fixture)
from training.models import ModelKind
from training.services.registry import model_version_register

pytestmark = pytest.mark.django_db(transaction=True)

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
def snapshot_and_model(flywheel, make_user, tiny_model_dir):  # noqa: F811
    """A snapshot of 12 K = 2 sets ranked GOOD over BAD (made through the client) and the tiny
    model registered as an SFT model."""
    project = flywheel.create_project("Runs", k=2)
    flywheel.import_candidate_sets(
        project["id"],
        [
            {"prompt": f"Question {n}?", "candidates": [{"text": GOOD}, {"text": BAD}]}
            for n in range(12)
        ],
    )
    annotator = make_user(Role.ANNOTATOR)
    for _ in range(12):
        rank_next(Project.objects.get(pk=project["id"]), annotator, [[0], [1]])
    snapshot = flywheel.create_snapshot(project["id"], test_fraction=0.25)
    sft = model_version_register(
        name=f"client-sft-{project['id']}", path=str(tiny_model_dir), kind=ModelKind.SFT
    )
    return snapshot, sft


@pytest.mark.slow
def test_a_reward_run_is_followed_to_its_model_and_the_model_copied(
    celery_worker, flywheel, snapshot_and_model, tmp_path, capsys
):
    snapshot, sft = snapshot_and_model
    started = flywheel.start_run("reward", dataset=snapshot["id"], base_model=sft.pk, config=QUICK)
    assert started["status"] == "queued"

    run = flywheel.follow_run(started["id"], poll_seconds=0.5, timeout=300)

    assert run["status"] == "succeeded" and run["step"] == run["total_steps"] == 2
    assert any("loss" in metric["values"] for metric in run["metrics"])
    bar = capsys.readouterr().err
    assert f"run {started['id']}" in bar and "2/2" in bar
    model = flywheel.model(run["output_model"])
    assert model["kind"] == "reward" and model["parent"] == sft.pk
    assert model["produced_by"] == started["id"] and model["dataset"] == snapshot["id"]
    assert [m["id"] for m in flywheel.models(adapter=False)].count(model["id"]) == 1
    copied = flywheel.download_model(model["id"], tmp_path / "reward-model")
    assert (copied / "config.json").is_file()
    assert any(copied.glob("*.safetensors"))


def test_a_bad_config_is_refused_with_the_key_named(flywheel, snapshot_and_model):
    snapshot, sft = snapshot_and_model
    with pytest.raises(ApiError) as refused:
        flywheel.start_run("dpo", dataset=snapshot["id"], base_model=sft.pk, config={"betta": 1})
    assert refused.value.status == 400 and "config.betta" in refused.value.errors


def test_following_a_cancelled_run_raises_run_failed(flywheel, snapshot_and_model):
    snapshot, sft = snapshot_and_model
    run = flywheel.start_run("dpo", dataset=snapshot["id"], base_model=sft.pk, config=QUICK)
    assert flywheel.cancel_run(run["id"])["status"] == "cancelled"  # queued: at once
    with pytest.raises(RunFailed, match="cancelled") as failed:
        flywheel.follow_run(run["id"], progress=False)
    assert failed.value.run["id"] == run["id"]
    assert flywheel.follow_run(run["id"], raise_on_failure=False)["status"] == "cancelled"

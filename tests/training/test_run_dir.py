"""A run's directory is keyed by its id; one left by an earlier run with the same id (a
recreated database beside a kept models directory) is moved aside, never resumed from."""

from __future__ import annotations

import json

import pytest

from annotation.models import DatasetSnapshot
from training.engine.storage import RUN_MARKER, claim_run_dir
from training.models import ModelVersion, TrainingRun


@pytest.fixture
def run(db, make_project, settings, tmp_path):
    settings.FLYWHEEL_MODELS_DIR = tmp_path / "models"
    snapshot = DatasetSnapshot.objects.create(
        project=make_project(), name="s", filters={}, content_hash="", counts={}, card=""
    )
    base = ModelVersion.objects.create(name="base", kind="base")
    return TrainingRun.objects.create(kind="dpo", dataset=snapshot, base_model=base)


def test_a_run_keeps_its_own_directory_and_checkpoints(run):
    directory = claim_run_dir(run)
    (directory / "checkpoints" / "checkpoint-40").mkdir(parents=True)
    assert claim_run_dir(run) == directory  # a resumed attempt
    assert (directory / "checkpoints" / "checkpoint-40").is_dir()
    assert json.loads((directory / RUN_MARKER).read_text())["run_id"] == run.pk


@pytest.mark.parametrize(
    "marker", ['{"run_id": 1, "created_at": "2020-01-01T00:00:00+00:00"}', None]
)
def test_an_earlier_runs_directory_is_moved_aside(run, marker):
    directory = claim_run_dir(run)
    (directory / "checkpoints" / "checkpoint-93").mkdir(parents=True)
    if marker is None:
        (directory / RUN_MARKER).unlink()
    else:
        (directory / RUN_MARKER).write_text(marker)

    again = claim_run_dir(run)

    assert again == directory and not (directory / "checkpoints").exists()
    (stale,) = directory.parent.glob(f"{run.pk}.stale-*")
    assert (stale / "checkpoints" / "checkpoint-93").is_dir()
    assert (
        json.loads((directory / RUN_MARKER).read_text())["created_at"] == run.created_at.isoformat()
    )

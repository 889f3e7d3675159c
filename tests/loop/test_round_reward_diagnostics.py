"""A round's detail carries its reward run's diagnostics (issue 17: "shown on the run and the Loop
page"): the same object the run's own detail returns, null until the reward run has them."""

from __future__ import annotations

import pytest

from annotation.enums import Role
from annotation.models import DatasetSnapshot
from loop.models import Loop, LoopRound
from training.models import ModelVersion, TrainingRun

DIAGNOSTICS = {
    "length_unit": "characters",
    "heldout": {"pairs": 400, "accuracy": 0.71, "length_baseline": 0.49},
    "train": {"pairs": 2000, "of_pairs": 1700, "accuracy": 0.93, "length_baseline": 0.5},
    "gap": 0.22,
    "calibration": None,
    "groups": [
        {
            "key": "topic",
            "values": 2,
            "groups": [
                {"value": "owls", "pairs": 40, "accuracy": 0.8, "length_baseline": 0.5},
                {"value": "bees", "pairs": 30, "accuracy": 0.55, "length_baseline": 0.5},
            ],
        }
    ],
    "groups_skipped": [],
    "ceiling": {
        "accuracy": None,
        "agreement": None,
        "agreement_with_ties": None,
        "sets": 0,
        "comparisons": 0,
        "reason": "No set in the snapshot was ranked by two annotators.",
        "gold_accuracy": None,
        "gold_rankings": 0,
    },
}


@pytest.mark.django_db
def test_a_rounds_detail_shows_its_reward_runs_diagnostics(make_project, client_for):
    project = make_project()
    base = ModelVersion.objects.create(name="base", kind="sft", storage_path="/models/base")
    snapshot = DatasetSnapshot.objects.create(
        project=project, name="round 1", content_hash="0" * 64, counts={}, card="# round 1"
    )
    run = TrainingRun.objects.create(
        kind="reward", dataset=snapshot, base_model=base, config={}, status="running"
    )
    loop_round = LoopRound.objects.create(
        loop=Loop.objects.create(project=project),
        number=1,
        base_policy=base,
        snapshot=snapshot,
        reward_run=run,
    )
    reviewer = client_for(Role.REVIEWER)

    detail = reviewer.get(f"/api/v1/rounds/{loop_round.pk}/")
    assert detail.status_code == 200, detail.json()
    assert detail.json()["reward_diagnostics"] is None  # the run has not finished

    TrainingRun.objects.filter(pk=run.pk).update(status="succeeded", diagnostics=DIAGNOSTICS)
    detail = reviewer.get(f"/api/v1/rounds/{loop_round.pk}/").json()
    run_detail = client_for(Role.ADMIN).get(f"/api/v1/training-runs/{run.pk}/").json()
    assert detail["reward_diagnostics"] == run_detail["diagnostics"] == DIAGNOSTICS

    LoopRound.objects.filter(pk=loop_round.pk).update(reward_run=None)
    assert reviewer.get(f"/api/v1/rounds/{loop_round.pk}/").json()["reward_diagnostics"] is None
    assert client_for(Role.ANNOTATOR).get(f"/api/v1/rounds/{loop_round.pk}/").status_code == 403

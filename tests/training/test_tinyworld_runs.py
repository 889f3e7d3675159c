"""The tiny world through the platform: simulated annotators rank on-topic candidates by the
hidden rule (so the preferences are separable by the trait), a snapshot freezes them, and a
reward run on a real worker separates the held-out preferences (issue #4: accuracy ≥ 0.9).

With off-topic candidates mixed in, the same run reaches 0.85: telling whether a response
names the prompt's topic is a relation between prompt and response that this tiny model
learns more slowly than the trait."""

from __future__ import annotations

import random
import time
from io import StringIO

import pytest
from django.core.management import call_command

from annotation.enums import Role
from annotation.exports.stream import ExportFilters
from annotation.services.imports import candidate_sets_import
from annotation.services.rankings import Submission, ranking_submit
from annotation.services.snapshots import snapshot_create
from tests.annotation.ranking_helpers import assignment_next
from tinyworld.scorer import simulated_ranking
from tinyworld.world import candidate_responses
from training.models import JobStatus, ModelVersion, TrainingRun


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_reward_run_separates_the_tiny_worlds_held_out_preferences(
    celery_worker, client_for, make_project, make_user, tinyworld
):
    rng = random.Random(0)
    project = make_project(k=4)
    rows = []
    for n, prompt in enumerate(tinyworld.train_prompts(), start=1):
        texts = candidate_responses(prompt, 4, rng, off_topic_probability=0.0)
        while len(set(texts)) < 4:  # a set must show four different responses
            texts = candidate_responses(prompt, 4, rng, off_topic_probability=0.0)
        rows.append((n, {"messages": prompt, "candidates": [{"text": t} for t in texts]}))
    candidate_sets_import(project=project, rows=rows)
    annotator = make_user(Role.ANNOTATOR)
    while (assignment := assignment_next(project=project, annotator=annotator)) is not None:
        candidate_set = assignment.candidate_set
        ids = list(
            candidate_set.members.order_by("position").values_list("candidate_id", flat=True)
        )
        texts = list(
            candidate_set.candidates.order_by("memberships__position").values_list(
                "text", flat=True
            )
        )
        tiers = simulated_ranking(candidate_set.prompt.messages, texts, noise=0.0, rng=rng)
        ranking_submit(
            assignment_id=assignment.pk,
            annotator=annotator,
            submission=Submission(
                ranking=[[ids[i] for i in tier] for tier in tiers],
                time_spent_seconds=30.0,
                interaction={"moves": 3},
            ),
        )
    snapshot = snapshot_create(
        project=project, name="tiny", filters=ExportFilters(), test_fraction=0.2
    )
    out = StringIO()
    call_command("build_tinyworld", root=tinyworld.root, register=True, stdout=out)
    assert "registered" in out.getvalue()
    sft = ModelVersion.objects.get(name="tinyworld-sft-seed0")
    assert sft.parent.name == "tinyworld-base-seed0"

    response = client_for(Role.ADMIN).post(
        "/api/v1/training-runs/",
        {
            "kind": "reward",
            "dataset": snapshot.pk,
            "base_model": sft.pk,
            "config": {
                "learning_rate": 1e-3,
                "num_train_epochs": 2.0,
                "per_device_train_batch_size": 16,
                "gradient_accumulation_steps": 1,
                "warmup_steps": 0,
                "logging_steps": 5,
                "save_steps": 10_000,
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    deadline = time.monotonic() + 600
    while (run := TrainingRun.objects.get(pk=response.json()["id"])).status not in (
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
    ):
        assert time.monotonic() < deadline, run.log_tail[-2000:]
        time.sleep(1)
    assert run.status == JobStatus.SUCCEEDED, run.error
    metrics = run.final_metrics
    assert metrics["rows_dropped_for_length"] == 0
    assert metrics["eval_accuracy"] >= 0.9, metrics
    assert ModelVersion.objects.get(produced_by=run).kind == "reward"

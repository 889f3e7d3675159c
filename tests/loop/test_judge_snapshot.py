"""The judge's training data (issue 17): the round's snapshot with its splits swapped
(annotation.services.snapshots.snapshot_swap_splits)."""

from __future__ import annotations

import pytest

from annotation.enums import Role
from annotation.exports.stream import ExportFilters
from annotation.models import DatasetSnapshotItem
from annotation.services.snapshots import snapshot_create, snapshot_swap_splits
from flywheel.errors import ApplicationError
from loop.models import Loop, LoopRound, RoundStep
from loop.services import evaluation
from loop.services.rounds import round_advance, round_start
from loop.services.verdict import round_verdict
from training.models import TrainingRun

from .conftest import templated_sets
from .test_loop_api import rank_all

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_judges_snapshot_swaps_every_rankings_split_and_keeps_the_rest(
    client_for, tinyworld_project, tinyworld
):
    project = tinyworld_project(n=0)
    templated_sets(project, tinyworld, 12)
    rank_all(client_for(Role.ANNOTATOR), project)
    source = snapshot_create(
        project=project, name="round 1", filters=ExportFilters(), test_fraction=0.4, seed=3
    )
    judge = snapshot_swap_splits(snapshot=source, name="round 1 (judge)")

    def splits(snapshot):
        return dict(
            DatasetSnapshotItem.objects.filter(snapshot=snapshot).values_list("ranking", "split")
        )

    before, after = splits(source), splits(judge)
    assert set(before) == set(after) and {"train", "test"} <= set(before.values())
    assert all(after[r] == {"train": "test", "test": "train"}[s] for r, s in before.items())
    for key in ("rankings", "sets", "prompts"):
        assert judge.counts[key] == {
            "train": source.counts[key]["test"],
            "test": source.counts[key]["train"],
        }
    assert judge.counts["annotators"] == source.counts["annotators"]
    assert (judge.test_fraction, judge.seed) == (pytest.approx(0.6), 3)
    assert judge.filters["splits_swapped_from"] == source.pk
    # the same rankings: the ranked export, and so its hash, does not depend on the split
    assert judge.content_hash == source.content_hash
    assert f"Derived from snapshot {source.pk}" in judge.card
    assert f"| rankings | {source.counts['rankings']['test']} |" in judge.card


def test_a_round_without_a_test_split_trains_no_judge_and_its_verdict_says_so(
    client_for, tinyworld_project, tinyworld
):
    project = tinyworld_project(n=0)
    templated_sets(project, tinyworld, 4)
    rank_all(client_for(Role.ANNOTATOR), project)
    # below what the settings API accepts: no prompt's hash falls under it
    Loop.objects.update_or_create(project=project, defaults={"test_fraction": 1e-12})
    loop_round = round_start(project=project)
    assert round_advance(round_id=loop_round.pk) == RoundStep.REWARD
    loop_round = LoopRound.objects.get(pk=loop_round.pk)
    assert loop_round.snapshot.counts["rankings"]["test"] == 0
    assert loop_round.reward_run is not None and loop_round.judge_run is None
    assert TrainingRun.objects.filter(kind="reward").count() == 1
    with pytest.raises(ApplicationError) as refused:
        snapshot_swap_splits(snapshot=loop_round.snapshot, name="judge")
    assert "snapshot" in refused.value.errors

    judge_dir, judge, margins = evaluation._judge(loop_round)
    assert judge_dir is None and judge["model_version"] is None and margins == []
    verdict, reasons = round_verdict({"reward": {"pairs": 0}, "judge": judge})
    assert verdict == "unconfirmed"
    assert "No independent judge: the snapshot's test split is empty" in reasons[1]

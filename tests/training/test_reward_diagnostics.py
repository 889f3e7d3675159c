"""Reward-model diagnostics (issue 17): the formulas on hand-made numbers with known answers,
the annotators' ceiling and the prompts' metadata read from a snapshot, and a reward run through
a real worker whose diagnostics the run detail API returns, with per-topic groups."""

from __future__ import annotations

import math

import pytest

from annotation.enums import Role
from annotation.exports.stream import ExportFilters
from annotation.models import CandidateSet
from annotation.services.gold import gold_sets_import
from annotation.services.imports import candidate_sets_import
from annotation.services.rankings import Submission, ranking_submit
from annotation.services.snapshots import prompt_split, snapshot_create
from tests.annotation.ranking_helpers import assignment_next, canonical_ids
from tests.training.test_runs import QUICK, wait_for
from training.algorithms.diagnostics import (
    MAX_GROUP_VALUES,
    ScoredPair,
    accuracy_by_group,
    calibration,
    ceiling_from_agreement,
    length_baseline,
    pair_accuracy,
    response_length,
    reward_diagnostics,
    strict_agreement_counts,
    train_sample,
)
from training.models import JobStatus, ModelKind
from training.services.diagnostics import annotator_ceiling, snapshot_prompt_metadata
from training.services.registry import model_version_register


def pair(p: float, *, chosen_length: int = 1, rejected_length: int = 1, prompt_id=None):
    """A pair whose Bradley–Terry probability σ(r_c − r_r) is ``p``."""
    return ScoredPair(math.log(p / (1 - p)), 0.0, chosen_length, rejected_length, prompt_id)


# --- the formulas ---------------------------------------------------------------------------


def test_length_baseline_counts_the_longer_chosen_and_a_tie_as_half() -> None:
    pairs = [
        pair(0.9, chosen_length=10, rejected_length=5),
        pair(0.9, chosen_length=5, rejected_length=10),
        pair(0.9, chosen_length=7, rejected_length=7),
        pair(0.9, chosen_length=8, rejected_length=3),
    ]
    assert length_baseline(pairs) == pytest.approx(2.5 / 4)
    assert length_baseline([]) is None


def test_response_length_counts_the_characters_of_the_messages() -> None:
    assert response_length("abc") == 3
    assert response_length([{"role": "assistant", "content": "four"}, {"content": "56"}]) == 6
    assert response_length(None) == 0


def test_pair_accuracy_needs_the_chosen_reward_strictly_above() -> None:
    pairs = [ScoredPair(1.0, 0.0, 1, 1), ScoredPair(0.0, 0.0, 1, 1), ScoredPair(0.0, 2.0, 1, 1)]
    assert pair_accuracy(pairs) == pytest.approx(1 / 3)
    assert pair_accuracy([]) is None


def test_calibration_bins_the_symmetrised_confidence_and_sums_the_gaps() -> None:
    # Two confident right pairs (p = 0.975), one p = 0.775 right, one p = 0.225 wrong: the wrong
    # one is 0.775 confident in the rejected response and shares its bin with the right one.
    pairs = [pair(0.975), pair(0.975), pair(0.775), pair(0.225)]
    result = calibration(pairs)
    by_bin = {round(b["lower"], 2): b for b in result["bins"]}
    assert len(result["bins"]) == 10 and result["pairs"] == 4
    assert by_bin[0.95]["count"] == 2 and by_bin[0.95]["accuracy"] == 1.0
    assert by_bin[0.95]["confidence"] == pytest.approx(0.975)
    assert by_bin[0.75]["count"] == 2 and by_bin[0.75]["accuracy"] == 0.5
    assert by_bin[0.75]["confidence"] == pytest.approx(0.775)
    assert sum(b["count"] for b in result["bins"]) == 4
    assert by_bin[0.5]["count"] == 0 and by_bin[0.5]["accuracy"] is None
    assert result["ece"] == pytest.approx(0.5 * 0.025 + 0.5 * 0.275)
    assert result["brier"] == pytest.approx((2 * 0.025**2 + 0.775**2 + 0.225**2) / 4)
    expected_log_loss = -(2 * math.log(0.975) + math.log(0.775) + math.log(0.225)) / 4
    assert result["log_loss"] == pytest.approx(expected_log_loss)
    assert calibration([]) is None


def test_a_perfectly_calibrated_model_has_no_calibration_error() -> None:
    # 8 pairs 0.875 confident, 7 of them right: accuracy 0.875 in the bin.
    pairs = [pair(0.875)] * 7 + [pair(0.125)]
    assert calibration(pairs)["ece"] == pytest.approx(0.0, abs=1e-12)


def test_accuracy_per_group_shows_keys_with_two_to_fifty_values() -> None:
    metadata = {
        "1": {"topic": "cats", "lang": "en", "tags": ["a"], "id": 1},
        "2": {"topic": "dogs", "lang": "en", "id": 2},
        "3": {"topic": "cats", "lang": "en", "id": 3},
    } | {str(n): {"id": n} for n in range(4, 4 + MAX_GROUP_VALUES)}
    pairs = [
        pair(0.9, prompt_id=1, chosen_length=9),
        pair(0.1, prompt_id=1),
        pair(0.9, prompt_id=3),
        pair(0.1, prompt_id=2, chosen_length=9),
        pair(0.9, prompt_id=99),  # a prompt without metadata: in no group
    ] + [pair(0.9, prompt_id=n) for n in range(4, 4 + MAX_GROUP_VALUES)]
    shown, skipped = accuracy_by_group(pairs, metadata)
    assert [k["key"] for k in shown] == ["topic"]
    topic = shown[0]
    assert topic["values"] == 2
    assert topic["groups"] == [
        {"value": "cats", "pairs": 3, "accuracy": pytest.approx(2 / 3), "length_baseline": 2 / 3},
        {"value": "dogs", "pairs": 1, "accuracy": 0.0, "length_baseline": 1.0},
    ]
    assert skipped == [
        {"key": "id", "values": MAX_GROUP_VALUES + 3, "reason": "more than 50 values"},
        {"key": "lang", "values": 1, "reason": "one value only"},
    ]


def test_numbers_and_booleans_group_by_their_json_text() -> None:
    metadata = {"1": {"hard": True, "level": 2}, "2": {"hard": False, "level": 2.5}}
    shown, _ = accuracy_by_group([pair(0.9, prompt_id=1), pair(0.9, prompt_id=2)], metadata)
    values = {k["key"]: sorted(g["value"] for g in k["groups"]) for k in shown}
    assert values == {"hard": ["false", "true"], "level": ["2", "2.5"]}


@pytest.mark.parametrize(
    ("agreement", "ceiling"),
    [(1.0, 1.0), (0.82, 0.9), (0.5, 0.5), (0.3, 0.5), (2 / 3, (1 + math.sqrt(1 / 3)) / 2)],
)
def test_ceiling_inverts_the_agreement_of_two_independent_annotators(agreement, ceiling) -> None:
    assert ceiling_from_agreement(agreement) == pytest.approx(ceiling)
    if agreement >= 0.5:  # and it is the q whose q² + (1 − q)² gives the agreement back
        assert ceiling**2 + (1 - ceiling) ** 2 == pytest.approx(agreement)


def test_strict_agreement_leaves_ties_out() -> None:
    assert strict_agreement_counts([[[1], [2], [3]], [[1], [3], [2]]]) == (2, 3)
    assert strict_agreement_counts([[[1, 2], [3]], [[1], [2], [3]]]) == (2, 2)
    assert strict_agreement_counts([[[1], [2], [3]], [[3], [2], [1]], [[1], [2], [3]]]) == (3, 9)
    assert strict_agreement_counts([[[1], [2]]]) == (0, 0)


def test_train_sample_is_seeded_capped_and_sorted() -> None:
    assert train_sample(5, seed=0, cap=10) == [0, 1, 2, 3, 4]
    sample = train_sample(100, seed=3, cap=10)
    assert len(sample) == 10 == len(set(sample)) and sample == sorted(sample)
    assert sample == train_sample(100, seed=3, cap=10) != train_sample(100, seed=4, cap=10)


def test_diagnostics_put_train_beside_held_out_with_the_gap() -> None:
    heldout = [pair(0.9, chosen_length=2), pair(0.2)]
    train = [pair(0.9)] * 3 + [pair(0.4)]
    result = reward_diagnostics(heldout=heldout, train=train, train_pairs=40, metadata={})
    assert result["heldout"] == {"pairs": 2, "accuracy": 0.5, "length_baseline": 0.75}
    assert result["train"] == {"pairs": 4, "accuracy": 0.75, "length_baseline": 0.5, "of_pairs": 40}
    assert result["gap"] == pytest.approx(0.25)
    assert result["length_unit"] == "characters" and result["calibration"]["pairs"] == 2
    empty = reward_diagnostics(heldout=[], train=train, train_pairs=4, metadata={})
    assert empty["heldout"] is None and empty["gap"] is None and empty["calibration"] is None


# --- what the database knows ------------------------------------------------------------------


def rank_all(project, annotator, tiers_for) -> None:
    """Rank every task the annotator is handed, ``tiers_for(candidate_set)`` giving positions."""
    while (assignment := assignment_next(project=project, annotator=annotator)) is not None:
        ids = canonical_ids(assignment.candidate_set_id)
        positions = tiers_for(assignment.candidate_set)
        ranking_submit(
            assignment_id=assignment.pk,
            annotator=annotator,
            submission=Submission(
                ranking=[[ids[p] for p in tier] for tier in positions],
                time_spent_seconds=20.0,
                interaction={"moves": 2},
            ),
        )


def set_rows(n: int, topic=lambda i: "cats") -> list[tuple[int, dict]]:
    """K = 3 sets whose first response is the longest and last the shortest."""
    return [
        (
            i + 1,
            {
                "prompt": f"Question {i} about {topic(i)}?",
                "metadata": {"topic": topic(i), "lang": "en", "tags": ["x"]},
                "candidates": [
                    {"text": f"Answer {i}: the whole story, told clearly and politely."},
                    {"text": f"Answer {i}: briefly."},
                    {"text": f"No {i}."},
                ],
            },
        )
        for i in range(n)
    ]


@pytest.mark.django_db
def test_ceiling_from_two_annotators_who_agree_on_two_of_three_pairs(
    make_project, make_user, monkeypatch
):
    monkeypatch.setattr("annotation.services.assignments._random", lambda: 0.0)  # gold first
    project = make_project(k=3, annotations_per_set=2, gold_rate=0.5)
    candidate_sets_import(project=project, rows=set_rows(4))
    gold_sets_import(
        project=project,
        rows=[(1, set_rows(1)[0][1] | {"prompt": "Gold?", "gold_ranking": [[0], [1], [2]]})],
    )
    first, second = make_user(Role.ANNOTATOR), make_user(Role.ANNOTATOR)
    # On the gold set the first is right on all 3 pairs, the second on none.
    rank_all(project, first, lambda s: [[0], [1], [2]])
    rank_all(project, second, lambda s: [[2], [1], [0]] if s.gold_tiers else [[0], [2], [1]])
    assert CandidateSet.objects.filter(project=project, gold_tiers__isnull=False).count() == 1
    snapshot = snapshot_create(project=project, name="s", filters=ExportFilters())

    ceiling = annotator_ceiling(snapshot=snapshot)

    assert ceiling["sets"] == 4 and ceiling["comparisons"] == 12
    assert ceiling["agreement"] == pytest.approx(2 / 3)
    assert ceiling["accuracy"] == pytest.approx((1 + math.sqrt(1 / 3)) / 2)
    assert ceiling["agreement_with_ties"] == pytest.approx(2 / 3)
    assert ceiling["reason"] == ""
    assert ceiling["gold_rankings"] == 2 and ceiling["gold_accuracy"] == pytest.approx(0.5)


@pytest.mark.django_db
def test_no_ceiling_when_no_set_was_ranked_twice(make_project, make_user):
    project = make_project(k=3)
    candidate_sets_import(project=project, rows=set_rows(3))
    rank_all(project, make_user(Role.ANNOTATOR), lambda s: [[0], [1], [2]])
    snapshot = snapshot_create(project=project, name="s", filters=ExportFilters())

    ceiling = annotator_ceiling(snapshot=snapshot)

    assert ceiling["accuracy"] is None and ceiling["agreement"] is None
    assert ceiling["sets"] == 0 and "two or more annotators" in ceiling["reason"]
    assert ceiling["gold_accuracy"] is None and ceiling["gold_rankings"] == 0


@pytest.mark.django_db
def test_prompt_metadata_of_a_snapshot_keeps_scalar_values(make_project, make_user):
    project = make_project(k=3)
    sets = candidate_sets_import(project=project, rows=set_rows(2))
    rank_all(project, make_user(Role.ANNOTATOR), lambda s: [[0], [1], [2]])
    unranked = candidate_sets_import(project=project, rows=set_rows(1, lambda i: "dogs"))
    snapshot = snapshot_create(project=project, name="s", filters=ExportFilters())

    metadata = snapshot_prompt_metadata(snapshot=snapshot)

    assert metadata[str(sets[0].prompt_id)] == {"topic": "cats", "lang": "en"}
    assert set(metadata) == {str(s.prompt_id) for s in sets}
    assert str(unranked[0].prompt_id) not in metadata


# --- a reward run, through a worker and the API -----------------------------------------------


def seed_with_both_topics_held_out(sets, topic_of) -> int:
    """A split seed whose test split holds at least two prompts of each topic."""
    for seed in range(200):
        held_out = [
            topic_of[s.prompt_id]
            for s in sets
            if prompt_split(s.prompt_id, seed=seed, test_fraction=0.25) == "test"
        ]
        if min(held_out.count("cats"), held_out.count("dogs")) >= 2:
            return seed
    raise AssertionError("no seed holds out both topics")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_reward_run_reports_its_diagnostics_in_the_api(
    celery_worker, client_for, make_project, make_user, tiny_model_dir
):
    project = make_project(k=3, annotations_per_set=2)
    topic = lambda i: "cats" if i % 2 else "dogs"  # noqa: E731
    sets = candidate_sets_import(project=project, rows=set_rows(16, topic))
    # The first annotator always prefers the longer response, the second puts the shortest
    # second: they agree on 2 of each set's 3 pairs, and 5 of a set's 6 pairs favour length.
    rank_all(project, make_user(Role.ANNOTATOR), lambda s: [[0], [1], [2]])
    rank_all(project, make_user(Role.ANNOTATOR), lambda s: [[0], [2], [1]])
    topic_of = {s.prompt_id: s.prompt.metadata["topic"] for s in sets}
    seed = seed_with_both_topics_held_out(sets, topic_of)
    snapshot = snapshot_create(
        project=project, name="s", filters=ExportFilters(), test_fraction=0.25, seed=seed
    )
    held_out = [
        s for s in sets if prompt_split(s.prompt_id, seed=seed, test_fraction=0.25) == "test"
    ]
    sft = model_version_register(name="tiny-sft", path=str(tiny_model_dir), kind=ModelKind.SFT)
    admin = client_for(Role.ADMIN)
    body = {"kind": "reward", "dataset": snapshot.pk, "base_model": sft.pk, "config": QUICK}
    response = admin.post("/api/v1/training-runs/", body, format="json")
    assert response.status_code == 201, response.json()
    assert (
        admin.get(f"/api/v1/training-runs/{response.json()['id']}/").json()["diagnostics"] is None
    )

    run = wait_for(response.json()["id"], {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert run.status == JobStatus.SUCCEEDED, run.error
    diagnostics = admin.get(f"/api/v1/training-runs/{run.pk}/").json()["diagnostics"]

    heldout_pairs = 6 * len(held_out)
    assert diagnostics["heldout"]["pairs"] == heldout_pairs
    assert diagnostics["heldout"]["accuracy"] == pytest.approx(run.final_metrics["eval_accuracy"])
    assert diagnostics["heldout"]["length_baseline"] == pytest.approx(5 / 6)
    assert diagnostics["length_unit"] == "characters"
    assert (
        diagnostics["train"]["pairs"]
        == diagnostics["train"]["of_pairs"]
        == 6 * (16 - len(held_out))
    )
    assert diagnostics["train"]["length_baseline"] == pytest.approx(5 / 6)
    gap = diagnostics["train"]["accuracy"] - diagnostics["heldout"]["accuracy"]
    assert diagnostics["gap"] == pytest.approx(gap)
    calibration_rows = diagnostics["calibration"]["bins"]
    assert len(calibration_rows) == 10
    assert sum(b["count"] for b in calibration_rows) == heldout_pairs
    assert 0 <= diagnostics["calibration"]["ece"] <= 0.5
    groups = {k["key"]: k for k in diagnostics["groups"]}
    assert set(groups) == {"topic"}
    expected = {t: 6 * [topic_of[s.prompt_id] for s in held_out].count(t) for t in ("cats", "dogs")}
    assert {g["value"]: g["pairs"] for g in groups["topic"]["groups"]} == expected
    assert all(g["length_baseline"] == pytest.approx(5 / 6) for g in groups["topic"]["groups"])
    assert diagnostics["groups_skipped"] == [
        {"key": "lang", "values": 1, "reason": "one value only"}
    ]
    ceiling = diagnostics["ceiling"]
    assert ceiling["sets"] == 16 and ceiling["agreement"] == pytest.approx(2 / 3)
    assert ceiling["accuracy"] == pytest.approx((1 + math.sqrt(1 / 3)) / 2)
    assert run.diagnostics == diagnostics

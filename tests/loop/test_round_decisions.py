"""What a round does after its evaluation (issue 17), without a worker: a confirmed round
promotes its policy and generates from it; an unconfirmed one waits for a person and stops the
loop; the decision API promotes or rejects it. The evaluation itself is replaced by the verdict
it would reach (the real one runs on a worker in test_round_verdict.py); everything after it is
the real state machine."""

from __future__ import annotations

import pytest

from annotation.enums import Role
from annotation.models import DatasetSnapshotItem, Project
from loop.models import Loop, LoopRound
from loop.services.rounds import round_advance
from loop.services.triggers import loop_tick
from training.models import GenerationJob

from .conftest import templated_sets
from .test_loop_api import rank_all

pytestmark = pytest.mark.django_db(transaction=True)

CONFIRMED = {
    "reward": {"pairs": 60, "accuracy": 0.9, "length_baseline": 0.5},
    "judge": {"model_version": 1, "pairs": 200, "accuracy": 0.85, "length_baseline": 0.5},
    "win_rate": {"win_rate": 0.8, "ci_low": 0.72, "ci_high": 0.87},
    "independent_win_rate": {"win_rate": 0.78, "ci_low": 0.7, "ci_high": 0.85},
    "length_controlled_win_rate": {"win_rate": 0.75},
}
# Issue 17's round: its own reward model says 0.67, the judge says 0.5.
UNCONFIRMED = CONFIRMED | {
    "reward": {"pairs": 60, "accuracy": 0.52, "length_baseline": 0.5},
    "win_rate": {"win_rate": 0.67, "ci_low": 0.6, "ci_high": 0.74},
    "independent_win_rate": {"win_rate": 0.5, "ci_low": 0.41, "ci_high": 0.59},
}


def test_a_confirmed_round_promotes_its_policy_and_generates_from_it(evaluated_round):
    loop_round = evaluated_round(CONFIRMED)
    assert (loop_round.verdict, loop_round.verdict_reasons) == ("confirmed", [])
    assert (loop_round.status, loop_round.step) == ("running", "generate")
    assert loop_round.decision == "promoted" and loop_round.decided_by is None
    assert loop_round.decided_at is not None
    project = Project.objects.get(pk=loop_round.loop.project_id)
    assert project.current_policy_id == loop_round.policy_model_id
    job = loop_round.generation_job
    assert job.model_version_id == loop_round.policy_model_id and len(job.prompt_ids) == 2


def test_an_unconfirmed_round_waits_for_a_decision_and_the_loop_stops(
    evaluated_round, admin_client, client_for, tinyworld
):
    loop_round = evaluated_round(UNCONFIRMED, auto=True, trigger="new_rankings")
    base = loop_round.base_policy_id
    assert (loop_round.status, loop_round.step, loop_round.verdict) == (
        "awaiting_decision",
        "decide",
        "unconfirmed",
    )
    assert len(loop_round.verdict_reasons) == 2, loop_round.verdict_reasons
    assert loop_round.decision == "" and loop_round.generation_job is None
    project = Project.objects.get(pk=loop_round.loop.project_id)
    assert project.current_policy_id == base
    assert not GenerationJob.objects.filter(project=project).exists()
    assert round_advance(round_id=loop_round.pk) == "not running"  # the sweep leaves it be
    # the trigger would fire on new rankings, but the loop waits for the decision
    Loop.objects.filter(pk=loop_round.loop_id).update(min_new_rankings=1)
    templated_sets(project, tinyworld, 2, seed=3)
    rank_all(client_for(Role.ANNOTATOR), project)
    assert loop_tick() == []
    response = admin_client.post(f"/api/v1/projects/{project.pk}/rounds/")
    assert response.status_code == 409 and response.json()["code"] == "round_awaits_decision"
    assert "Round 1 is unconfirmed" in response.json()["detail"]


def test_a_loop_that_does_not_require_confirmation_promotes_an_unconfirmed_round(
    evaluated_round, admin_client
):
    loop_round = evaluated_round(UNCONFIRMED, require_confirmation=False)
    assert loop_round.verdict == "unconfirmed" and loop_round.decision == "promoted"
    assert (loop_round.status, loop_round.step) == ("running", "generate")
    project = Project.objects.get(pk=loop_round.loop.project_id)
    assert project.current_policy_id == loop_round.policy_model_id
    body = admin_client.get(f"/api/v1/projects/{project.pk}/loop/").json()
    assert body["require_confirmation"] is False


def test_a_person_promotes_an_unconfirmed_round_and_it_goes_on_to_generate(
    evaluated_round, admin_client
):
    loop_round = evaluated_round(UNCONFIRMED)
    url = f"/api/v1/rounds/{loop_round.pk}/decision/"
    response = admin_client.post(url, {"promote": True}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["step"], body["decision"]) == ("running", "generate", "promoted")
    assert body["decided_by"] == admin_client.user.pk and body["decided_at"]
    assert body["verdict"] == "unconfirmed"  # the verdict stays what the evaluation found
    loop_round.refresh_from_db()
    project = Project.objects.get(pk=loop_round.loop.project_id)
    assert project.current_policy_id == loop_round.policy_model_id
    assert loop_round.generation_job.model_version_id == loop_round.policy_model_id
    assert "decide" in loop_round.step_seconds
    again = admin_client.post(url, {"promote": False}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_decide"


def test_a_person_rejects_an_unconfirmed_round_and_the_loop_may_start_again(
    evaluated_round, admin_client, client_for, tinyworld
):
    loop_round = evaluated_round(UNCONFIRMED, auto=True, trigger="new_rankings")
    project = Project.objects.get(pk=loop_round.loop.project_id)
    response = admin_client.post(
        f"/api/v1/rounds/{loop_round.pk}/decision/", {"promote": False}, format="json"
    )
    assert response.status_code == 200, response.json()
    loop_round.refresh_from_db()
    assert (loop_round.status, loop_round.step, loop_round.decision) == (
        "succeeded",
        "done",
        "rejected",
    )
    assert loop_round.decided_by_id == admin_client.user.pk
    project.refresh_from_db()
    assert project.current_policy_id == loop_round.base_policy_id
    assert loop_round.generation_job is None
    # new rankings start the next round, which trains on the rejected round's rankings too
    Loop.objects.filter(pk=loop_round.loop_id).update(min_new_rankings=1)
    templated_sets(project, tinyworld, 2, seed=3)
    rank_all(client_for(Role.ANNOTATOR), project)
    (started,) = loop_tick()
    round_advance(round_id=started)
    following = LoopRound.objects.get(pk=started)
    assert following.base_policy_id == loop_round.base_policy_id
    rejected_rankings = set(
        DatasetSnapshotItem.objects.filter(snapshot=loop_round.snapshot).values_list(
            "ranking", flat=True
        )
    )
    now_rankings = set(
        DatasetSnapshotItem.objects.filter(snapshot=following.snapshot).values_list(
            "ranking", flat=True
        )
    )
    assert rejected_rankings < now_rankings


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "promote"),
        ({"promote": "perhaps"}, "promote"),
        ({"promote": None}, "promote"),
        ({"promote": True, "force": True}, "force"),
    ],
)
def test_a_decision_refuses_bad_input_and_changes_nothing(
    evaluated_round, admin_client, body, field
):
    loop_round = evaluated_round(UNCONFIRMED)
    response = admin_client.post(f"/api/v1/rounds/{loop_round.pk}/decision/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    loop_round.refresh_from_db()
    assert (loop_round.status, loop_round.decision) == ("awaiting_decision", "")


def test_only_an_admin_decides_and_only_a_round_that_waits(
    evaluated_round, admin_client, client_for
):
    loop_round = evaluated_round(UNCONFIRMED)
    url = f"/api/v1/rounds/{loop_round.pk}/decision/"
    for role in (Role.REVIEWER, Role.ANNOTATOR):
        assert client_for(role).post(url, {"promote": True}, format="json").status_code == 403
    assert client_for(None).post(url, {"promote": True}, format="json").status_code in (401, 403)
    missing = admin_client.post("/api/v1/rounds/999999/decision/", {"promote": True})
    assert missing.status_code == 404
    loop_round.refresh_from_db()
    assert loop_round.status == "awaiting_decision"
    LoopRound.objects.filter(pk=loop_round.pk).update(
        status="running", step="generate", verdict="confirmed"
    )
    response = admin_client.post(url, {"promote": True}, format="json")
    assert (
        response.status_code == 409
        and "does not wait for a decision" in (response.json()["detail"])
    )

"""The loop's REST surface and its state machine, without a worker: settings validation and
roles, starting / failing / retrying a round, the automatic trigger, the leaderboard and the
AI suggestion shown to annotators. `round_advance` is called directly where the worker's task
would (it is the task's whole body); the full loop on a real worker is in test_loop_rounds.py."""

from __future__ import annotations

import pytest

from annotation.enums import CandidateSetState, Role
from annotation.models import Candidate, CandidateSet, Ranking
from annotation.services.snapshots import prompt_split
from loop.models import Loop, LoopRound, RoundStatus, RoundStep
from loop.services.rounds import JUDGE_EPOCH_SCALE, round_advance
from loop.services.triggers import loop_tick
from training.models import JobStatus, TrainingRun
from training.services.runs import training_run_cancel

from .conftest import templated_sets

pytestmark = pytest.mark.django_db(transaction=True)


def rank_all(client, project, *, reverse: bool = False) -> int:
    """Rank every set the annotator is given, in display order (or reversed)."""
    done = 0
    while (response := client.post(f"/api/v1/projects/{project.pk}/next-task/")).status_code == 200:
        task = response.json()
        ids = [c["id"] for c in task["candidates"]]
        ranking = [[i] for i in (ids[::-1] if reverse else ids)]
        submitted = client.post(
            f"/api/v1/assignments/{task['assignment']}/submit/",
            {"ranking": ranking, "time_spent_seconds": 60, "interaction": {"moves": 2}},
            format="json",
        )
        assert submitted.status_code == 201, submitted.json()
        done += 1
    assert response.status_code == 204
    return done


def test_loop_settings_defaults_and_roles(client_for, tinyworld_project):
    project = tinyworld_project(n=3)
    response = client_for(Role.REVIEWER).get(f"/api/v1/projects/{project.pk}/loop/")
    assert response.status_code == 200
    body = response.json()
    assert body["policy_kind"] == "dpo" and body["auto"] is False
    assert body["prompt_selection"] == "random" and body["current_policy"] is not None
    assert client_for(Role.ANNOTATOR).get(f"/api/v1/projects/{project.pk}/loop/").status_code == 403
    patch = client_for(Role.REVIEWER).patch(
        f"/api/v1/projects/{project.pk}/loop/", {"auto": True}, format="json"
    )
    assert patch.status_code == 403
    assert client_for(Role.ADMIN).get("/api/v1/projects/999999/loop/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"policy_kind": "sft"}, "policy_kind"),
        ({"policy_config": {"no_such_knob": 1}}, "policy_config.no_such_knob"),
        ({"policy_kind": "ppo", "policy_config": {"beta": 0.1}}, "policy_config.beta"),
        ({"reward_config": {"learning_rate": "fast"}}, "reward_config.learning_rate"),
        ({"sampling": {"temperature": 99}}, "sampling.temperature"),
        ({"eval_prompts": [[{"role": "robot", "content": "hi"}]]}, "eval_prompts[0][0].role"),
        ({"eval_prompts": "owls"}, "eval_prompts"),
        ({"test_fraction": 1.5}, "test_fraction"),
        ({"prompts_per_round": 0}, "prompts_per_round"),
        ({"sets_per_prompt": 0}, "sets_per_prompt"),
        ({"sets_per_prompt": 9}, "sets_per_prompt"),
        ({"sets_per_prompt": "many"}, "sets_per_prompt"),
        ({"telepathy": True}, "telepathy"),
        ({"adapter": {"r": 0}}, "adapter.r"),
        ({"adapter": {"rank": 8}}, "adapter.rank"),
        ({"adapter": "lora"}, "adapter"),
    ],
)
def test_loop_settings_refuse_bad_input_and_write_nothing(
    admin_client, tinyworld_project, body, field
):
    project = tinyworld_project(n=2)
    before = admin_client.get(f"/api/v1/projects/{project.pk}/loop/").json()
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/loop/", body | {"auto": True}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert admin_client.get(f"/api/v1/projects/{project.pk}/loop/").json() == before


def test_loop_settings_update(admin_client, tinyworld_project, tinyworld):
    project = tinyworld_project(n=2)
    heldout = tinyworld.heldout_prompts()[:3]
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/loop/",
        {
            "auto": True,
            "policy_kind": "grpo",
            "policy_config": {"num_generations": 4},
            "prompt_selection": "uncertainty",
            "prompts_per_round": 10,
            "eval_prompts": heldout,
            "oracle": "tinyworld",
            "ai_feedback": True,
            "sets_per_prompt": 3,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    loop = Loop.objects.get(project=project)
    assert (loop.auto, loop.policy_kind, loop.prompts_per_round) == (True, "grpo", 10)
    assert loop.eval_prompts == heldout and loop.ai_feedback
    assert loop.sets_per_prompt == 3
    assert admin_client.get(f"/api/v1/projects/{project.pk}/loop/").json()["sets_per_prompt"] == 3


def test_a_rounds_generation_job_draws_the_loops_sets_per_prompt(admin_client, tinyworld_project):
    from loop.services.transitions import next_generation_job

    project = tinyworld_project(n=3)
    default = admin_client.get(f"/api/v1/projects/{project.pk}/loop/").json()
    assert default["sets_per_prompt"] == 1
    admin_client.patch(
        f"/api/v1/projects/{project.pk}/loop/", {"sets_per_prompt": 3}, format="json"
    )
    loop = Loop.objects.get(project=project)
    loop_round = LoopRound.objects.create(
        loop=loop,
        number=1,
        policy_kind="dpo",
        base_policy=project.current_policy,
        policy_model=project.current_policy,
        selected_prompts="all",
    )
    job = next_generation_job(loop_round)
    assert (job.sets_per_prompt, len(job.prompt_ids), job.round) == (3, 3, 1)


def test_round_start_needs_a_policy_and_rankings(admin_client, client_for, tinyworld_project):
    project = tinyworld_project(n=0)
    url = f"/api/v1/projects/{project.pk}/rounds/"
    assert client_for(Role.REVIEWER).post(url).status_code == 403
    response = admin_client.post(url)
    assert response.status_code == 400 and response.json()["code"] == "no_rankings"
    project.current_policy = None
    project.save()
    response = admin_client.post(url)
    assert response.status_code == 400
    assert "current_policy" in response.json()["errors"]
    assert not LoopRound.objects.exists()


def test_a_round_takes_a_snapshot_then_queues_the_reward_run(
    admin_client, client_for, tinyworld_project, tinyworld
):
    project = tinyworld_project(n=0)
    templated_sets(project, tinyworld, 6)
    rank_all(client_for(Role.ANNOTATOR), project)
    # The split is by a hash of the prompt's id and the seed: pick a seed that holds one or two of
    # the six prompts out, whatever ids this database gave them.
    ids = list(project.prompts.values_list("id", flat=True))
    seed = next(
        seed
        for seed in range(1000)
        if 1 <= [prompt_split(i, seed=seed, test_fraction=0.2) for i in ids].count("test") <= 2
    )
    patch = admin_client.patch(
        f"/api/v1/projects/{project.pk}/loop/", {"seed": seed}, format="json"
    )
    assert patch.status_code == 200, patch.json()
    response = admin_client.post(f"/api/v1/projects/{project.pk}/rounds/")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["number"], body["status"], body["step"]) == (1, "running", "snapshot")
    assert admin_client.post(f"/api/v1/projects/{project.pk}/rounds/").status_code == 409

    assert round_advance(round_id=body["id"]) == RoundStep.REWARD
    loop_round = LoopRound.objects.get(pk=body["id"])
    assert (
        loop_round.snapshot.counts["rankings"]["train"]
        + loop_round.snapshot.counts["rankings"]["test"]
        == Ranking.objects.filter(candidate_set__project=project).count()
    )
    run = loop_round.reward_run
    assert (run.kind, run.status, run.dataset_id) == ("reward", "queued", loop_round.snapshot_id)
    assert run.base_model_id == project.current_policy_id
    assert run.config["adapter"] is None  # full fine-tuning unless the loop says otherwise
    # the judge: a reward run like it on the snapshot with its splits swapped, trained for as
    # many more epochs as its split is smaller (at most JUDGE_EPOCH_SCALE times)
    judge = loop_round.judge_run
    counts = loop_round.snapshot.counts["rankings"]
    scale = min(JUDGE_EPOCH_SCALE, counts["train"] / counts["test"])
    assert scale > 1
    assert (judge.kind, judge.status) == ("reward", "queued")
    assert judge.config == run.config | {
        "num_train_epochs": pytest.approx(run.config["num_train_epochs"] * scale)
    }
    assert judge.base_model_id == run.base_model_id
    assert judge.dataset.filters["splits_swapped_from"] == loop_round.snapshot_id
    counts, judge_counts = loop_round.snapshot.counts, judge.dataset.counts
    assert judge_counts["rankings"] == {
        "train": counts["rankings"]["test"],
        "test": counts["rankings"]["train"],
    }
    # advancing again while the runs are queued changes nothing and creates no second run
    assert round_advance(round_id=body["id"]) == RoundStep.REWARD
    assert TrainingRun.objects.count() == 2

    detail = client_for(Role.REVIEWER).get(f"/api/v1/rounds/{body['id']}/").json()
    assert detail["reward_run"] == run.pk and detail["reward_run_status"] == "queued"
    assert detail["lineage"]["snapshot"] == loop_round.snapshot_id
    listed = admin_client.get(f"/api/v1/projects/{project.pk}/rounds/").json()
    assert [r["id"] for r in listed] == [body["id"]]


def test_a_failed_step_stops_the_round_with_the_error_and_retry_resumes_it(
    admin_client, client_for, tinyworld_project, tinyworld
):
    project = tinyworld_project(n=0)
    templated_sets(project, tinyworld, 4)
    rank_all(client_for(Role.ANNOTATOR), project)
    round_id = admin_client.post(f"/api/v1/projects/{project.pk}/rounds/").json()["id"]
    round_advance(round_id=round_id)
    first_run = LoopRound.objects.get(pk=round_id).reward_run
    training_run_cancel(run=first_run)  # the reward run never ran: the round cannot go on

    round_advance(round_id=round_id)
    failed = admin_client.get(f"/api/v1/rounds/{round_id}/").json()
    assert failed["status"] == "failed" and failed["step"] == "reward"
    assert f"reward run {first_run.pk} cancelled" in failed["error"]
    # a failed round blocks the automatic trigger until a human acts
    Loop.objects.filter(project=project).update(auto=True)
    assert loop_tick() == []

    assert client_for(Role.REVIEWER).post(f"/api/v1/rounds/{round_id}/retry/").status_code == 403
    retried = admin_client.post(f"/api/v1/rounds/{round_id}/retry/")
    assert retried.status_code == 200, retried.json()
    assert retried.json()["status"] == "running" and retried.json()["error"] == ""
    round_advance(round_id=round_id)
    second_run = LoopRound.objects.get(pk=round_id).reward_run
    assert second_run.pk != first_run.pk and second_run.status == JobStatus.QUEUED
    assert admin_client.post(f"/api/v1/rounds/{round_id}/retry/").status_code == 409


def test_the_automatic_trigger_waits_for_the_newest_round_to_be_complete(
    admin_client, client_for, tinyworld_project, tinyworld
):
    project = tinyworld_project(n=0, annotations_per_set=2)
    sets = templated_sets(project, tinyworld, 3)
    Loop.objects.update_or_create(project=project, defaults={"auto": True})
    assert loop_tick() == []  # nothing ranked
    rank_all(client_for(Role.ANNOTATOR), project)
    assert CandidateSet.objects.filter(state=CandidateSetState.COMPLETE).count() == 0
    assert loop_tick() == []  # each set still needs a second ranking
    rank_all(client_for(Role.ANNOTATOR), project)
    assert CandidateSet.objects.filter(state=CandidateSetState.COMPLETE).count() == len(sets)
    started = loop_tick()
    assert len(started) == 1
    assert loop_tick() == []  # one round at a time
    loop_round = LoopRound.objects.get(pk=started[0])
    assert loop_round.status == RoundStatus.RUNNING and loop_round.number == 1


def test_the_new_rankings_trigger_counts_rankings_since_the_last_snapshot(
    client_for, tinyworld_project, tinyworld
):
    project = tinyworld_project(n=0)
    templated_sets(project, tinyworld, 5)
    Loop.objects.update_or_create(
        project=project,
        defaults={"auto": True, "trigger": "new_rankings", "min_new_rankings": 6},
    )
    rank_all(client_for(Role.ANNOTATOR), project)
    assert loop_tick() == []  # 5 < 6
    templated_sets(project, tinyworld, 1, seed=1)
    rank_all(client_for(Role.ANNOTATOR), project)
    assert len(loop_tick()) == 1


def test_leaderboard_refuses_bad_source_and_is_empty_without_comparisons(
    admin_client, client_for, tinyworld_project
):
    project = tinyworld_project(n=0)
    url = f"/api/v1/projects/{project.pk}/leaderboard/"
    assert admin_client.get(url).json() == {"source": "rm", "comparisons": 0, "entries": []}
    response = admin_client.get(url, {"source": "vibes"})
    assert response.status_code == 400 and "source" in response.json()["errors"]
    assert admin_client.get(url, {"limit": 3}).status_code == 400
    assert client_for(Role.ANNOTATOR).get(url).status_code == 403


def test_human_leaderboard_from_sets_that_mix_model_versions(
    admin_client, client_for, tinyworld_project, tinyworld, sft_policy
):
    """Two versions' candidates in each set; the annotator always prefers the SFT model's."""
    project = tinyworld_project(n=0)
    sets = templated_sets(project, tinyworld, 8)
    base = sft_policy.parent
    for candidate_set in sets:
        ids = list(candidate_set.members.order_by("position").values_list("candidate", flat=True))
        Candidate.objects.filter(pk__in=ids[:2]).update(model_version=sft_policy)
        Candidate.objects.filter(pk__in=ids[2:]).update(model_version=base)
    sft_ids = set(Candidate.objects.filter(model_version=sft_policy).values_list("id", flat=True))
    client = client_for(Role.ANNOTATOR)
    while (response := client.post(f"/api/v1/projects/{project.pk}/next-task/")).status_code == 200:
        task = response.json()
        ids = sorted((c["id"] for c in task["candidates"]), key=lambda i: i not in sft_ids)
        client.post(
            f"/api/v1/assignments/{task['assignment']}/submit/",
            {"ranking": [[i] for i in ids], "time_spent_seconds": 60, "interaction": {"moves": 2}},
            format="json",
        )
    board = admin_client.get(f"/api/v1/projects/{project.pk}/leaderboard/?source=human").json()
    assert board["comparisons"] == 8 * 4  # per set: 2 × 2 cross-version pairs
    names = [e["name"] for e in board["entries"]]
    assert names == ["tw-sft", "tw-base"]
    top, bottom = board["entries"]
    assert top["wins"] == 32 and bottom["losses"] == 32
    assert top["ci_low"] > bottom["ci_high"] or top["rating"] > bottom["rating"]


def test_ai_suggestion_is_shown_only_where_the_project_shows_it(
    admin_client, client_for, tinyworld_project, tinyworld, sft_policy
):
    project = tinyworld_project(n=0)
    (candidate_set,) = templated_sets(project, tinyworld, 1)
    ids = list(candidate_set.members.order_by("position").values_list("candidate", flat=True))
    suggestion = {"model_version": sft_policy.pk, "tiers": [[i] for i in ids[::-1]], "scores": {}}
    CandidateSet.objects.filter(pk=candidate_set.pk).update(ai_suggestion=suggestion)
    annotator = client_for(Role.ANNOTATOR)
    task = annotator.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    assert task["suggestion"] is None

    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/", {"show_ai_suggestion": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["show_ai_suggestion"] is True
    task = annotator.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    assert task["suggestion"] == {"ranking": [[i] for i in ids[::-1]]}


def test_a_loop_with_an_adapter_gives_its_rounds_runs_the_adapter_block(
    admin_client, client_for, tinyworld_project, tinyworld
):
    project = tinyworld_project(n=0)
    templated_sets(project, tinyworld, 6)
    rank_all(client_for(Role.ANNOTATOR), project)
    adapter = {"r": 8, "alpha": 16}
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/loop/", {"adapter": adapter}, format="json"
    )
    assert response.status_code == 200 and response.json()["adapter"] == adapter
    round_id = admin_client.post(f"/api/v1/projects/{project.pk}/rounds/").json()["id"]
    round_advance(round_id=round_id)
    stored = LoopRound.objects.get(pk=round_id).reward_run.config["adapter"]
    assert stored == stored | adapter and stored["target_modules"] == "all-linear"
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/loop/", {"adapter": None}, format="json"
    )
    assert response.json()["adapter"] is None

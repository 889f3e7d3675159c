"""Authorization beyond the role matrix (tests/annotation/test_authorization.py): what one
annotator can reach of another's work, what a reviewer cannot start, and that a revoked or
deactivated account's token stops working at once."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annotation.enums import AssignmentState
from annotation.models import Assignment, Ranking
from annotation.services.users import token_for
from loop.models import LoopRound
from training.models import GenerationJob, MergeJob, TrainingRun

pytestmark = pytest.mark.django_db


def as_user(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user)}")
    return client


def test_annotator_cannot_submit_or_skip_another_annotators_assignment(world):
    intruder = as_user(world.users["other_annotator"])
    leased = world.leased
    ranking = [[c] for c in leased.display_order]
    submit = intruder.post(
        f"/api/v1/assignments/{leased.pk}/submit/", {"ranking": ranking}, format="json"
    )
    skip = intruder.post(f"/api/v1/assignments/{leased.pk}/skip/")
    # 404, not 403: another annotator's assignment is not even shown to exist.
    assert (submit.status_code, skip.status_code) == (404, 404)
    leased.refresh_from_db()
    assert leased.state == AssignmentState.LEASED
    assert not Ranking.objects.filter(assignment=leased).exists()


def test_idempotency_key_replay_never_returns_another_annotators_ranking(world):
    """The same Idempotency-Key from two annotators is two submissions, not a replay."""
    first = as_user(world.users["annotator"])
    second = as_user(world.users["other_annotator"])
    key = {"HTTP_IDEMPOTENCY_KEY": "shared-key"}
    mine = first.post(
        f"/api/v1/assignments/{world.leased.pk}/submit/",
        {"ranking": [[c] for c in world.leased.display_order]},
        format="json",
        **key,
    )
    assert mine.status_code == 201
    task = second.post(f"/api/v1/projects/{world.project.pk}/next-task/").json()
    theirs = second.post(
        f"/api/v1/assignments/{task['assignment']}/submit/",
        {"ranking": [[c["id"]] for c in task["candidates"]]},
        format="json",
        **key,
    )
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["assignment"] == task["assignment"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/candidate-sets/{set}/",  # every annotator's ranking of a set, with usernames
        "/api/v1/projects/{project}/export/",
        "/api/v1/projects/{project}/export/?view=ranked",
        "/api/v1/projects/{project}/annotators/",
        "/api/v1/projects/{project}/progress/",
        "/api/v1/projects/{project}/prompts/",
        "/api/v1/projects/{project}/candidate-sets/",
        "/api/v1/datasets/",
        "/api/v1/datasets/{snapshot}/",
        "/api/v1/datasets/{snapshot}/export/",
        "/api/v1/users/",
        "/api/v1/training-runs/",
        "/api/v1/training-runs/{run}/",
        "/api/v1/generation-jobs/",
        "/api/v1/generation-jobs/{job}/",
        "/api/v1/merge-jobs/{job}/",
        "/api/v1/models/",
        "/api/v1/projects/{project}/loop/",
        "/api/v1/projects/{project}/rounds/",
        "/api/v1/projects/{project}/leaderboard/",
        "/api/v1/rounds/{round}/",
    ],
)
def test_annotator_sees_no_rankings_exports_runs_or_users(world, path):
    url = path.format(
        set=world.ranked["other_annotator"].candidate_set_id,
        project=world.project.pk,
        snapshot=world.snapshot.pk,
        run=world.run.pk,
        job=world.job.pk,
        round=world.loop_round.pk,
    )
    response = as_user(world.users["annotator"]).get(url)
    assert response.status_code == 403, (url, response.content[:200])
    assert set(response.json()) == {"detail", "code", "errors"}
    assert world.users["other_annotator"].username not in response.content.decode()


def test_annotator_views_of_a_project_show_only_their_own_work(world):
    client = as_user(world.users["annotator"])
    listed = client.get("/api/v1/projects/").json()["results"]
    detail = client.get(f"/api/v1/projects/{world.project.pk}/").json()
    for project in (*listed, detail):
        assert project["my_ranking_count"] == 1  # theirs, not the other annotator's
        assert "gold_rate" not in project  # gold sets stay hidden among their tasks
    me = client.get("/api/v1/me/").json()
    assert me["username"] == world.users["annotator"].username


def test_next_task_shows_no_other_annotators_ranking(world):
    """The task holds the prompt and the responses; nothing of anyone's ranking, and no
    usernames, even when another annotator has ranked the same set."""
    project = world.project
    task = as_user(world.users["annotator"]).post(f"/api/v1/projects/{project.pk}/next-task/")
    body = task.content.decode()
    assert task.status_code == 200
    assert set(task.json()) == {
        "assignment",
        "lease_expires_at",
        "project",
        "candidate_set",
        "prompt",
        "candidates",
        "suggestion",
        "review_comment",  # a reviewer's comment on this annotator's own sent-back ranking
    }
    for user in world.users.values():
        assert user.username not in body


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/training-runs/", "run"),
        ("post", "/api/v1/training-runs/{run}/cancel/", None),
        ("post", "/api/v1/projects/{project}/generate/", "generate"),
        ("post", "/api/v1/projects/{project}/rounds/", None),
        ("post", "/api/v1/rounds/{round}/retry/", None),
        ("patch", "/api/v1/projects/{project}/loop/", "loop"),
        ("post", "/api/v1/models/", "model"),
        ("post", "/api/v1/models/{model}/merge/", "merge"),
        ("post", "/api/v1/datasets/", "snapshot"),
    ],
)
def test_reviewer_cannot_start_training_generation_or_rounds(world, method, path, body):
    bodies = {
        "run": {"kind": "dpo", "dataset": world.snapshot.pk, "base_model": world.model.pk},
        "generate": {"model": world.model.pk, "prompts": "all"},
        "loop": {"auto": True},
        "model": {"name": "m", "path": "/tmp"},
        "merge": {"name": "merged"},
        "snapshot": {"project": world.project.pk},
    }
    counts = (
        TrainingRun.objects.count(),
        GenerationJob.objects.count(),
        MergeJob.objects.count(),
        LoopRound.objects.count(),
    )
    url = path.format(
        project=world.project.pk,
        run=world.run.pk,
        round=world.loop_round.pk,
        model=world.model.pk,
    )
    client = as_user(world.users["reviewer"])
    response = getattr(client, method)(url, bodies.get(body), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert counts == (
        TrainingRun.objects.count(),
        GenerationJob.objects.count(),
        MergeJob.objects.count(),
        LoopRound.objects.count(),
    )
    world.run.refresh_from_db()
    world.loop_round.refresh_from_db()
    assert not world.run.cancel_requested and world.loop_round.status == "failed"


def test_revoked_token_is_refused_everywhere_and_a_new_one_works(world):
    user = world.users["admin"]
    old = token_for(user=user)
    client = as_user(user)
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    for method, path in [
        ("get", "/api/v1/me/"),
        ("get", "/api/v1/training-runs/"),
        ("post", "/api/v1/projects/"),
    ]:
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"
    new = token_for(user=user)
    assert new != old
    assert as_user(user).get("/api/v1/me/").status_code == 200


def test_deactivated_users_token_stops_working(world):
    annotator = world.users["annotator"]
    client = as_user(annotator)
    assert client.get("/api/v1/me/").status_code == 200
    annotator.is_active = False
    annotator.save(update_fields=["is_active"])
    response = client.post(f"/api/v1/projects/{world.project.pk}/next-task/")
    assert response.status_code == 401
    assert (
        not Assignment.objects.filter(annotator=annotator, state=AssignmentState.LEASED)
        .exclude(pk=world.leased.pk)
        .exists()
    )


def test_token_of_one_user_is_not_accepted_with_a_changed_case_or_suffix(world):
    token = token_for(user=world.users["admin"])
    for forged in (token.upper(), token + "0", token[:-1], f"Bearer {token}"):
        client = APIClient()
        header = forged if forged.startswith("Bearer") else f"Token {forged}"
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get("/api/v1/users/").status_code == 401, forged

"""next-task, submit and skip: the annotator's loop and every validation rule of a submit.
Each refusal asserts the status, the message and that nothing was written."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.enums import AssignmentState, CandidateSetState, Role
from annotation.models import Assignment, CandidateSet, Ranking
from annotation.services.assignments import assignment_release_expired

pytestmark = pytest.mark.django_db


def take(client, project):
    response = client.post(f"/api/v1/projects/{project.pk}/next-task/")
    assert response.status_code == 200, response.content
    return response.json()


def submit(client, task, body, **headers):
    return client.post(
        f"/api/v1/assignments/{task['assignment']}/submit/", body, format="json", **headers
    )


def ids(task):
    return [c["id"] for c in task["candidates"]]


def assert_nothing_written(assignment_id):
    assert Ranking.objects.count() == 0
    assert Assignment.objects.get(pk=assignment_id).state == AssignmentState.LEASED


@pytest.fixture
def project(make_project, make_sets):
    project = make_project(
        k=4,
        annotations_per_set=2,
        criteria={
            "flags": ["unsafe", "factual_error"],
            "ratings": [{"name": "helpfulness", "min": 1, "max": 7}],
        },
    )
    make_sets(project, 3)
    return project


def test_next_task_returns_prompt_and_candidates_in_stored_display_order(client_for, project):
    client = client_for(Role.ANNOTATOR)
    task = take(client, project)
    assignment = Assignment.objects.get(pk=task["assignment"])
    assert ids(task) == assignment.display_order
    candidate_set = CandidateSet.objects.get(pk=task["candidate_set"])
    assert sorted(ids(task)) == sorted(candidate_set.candidates.values_list("id", flat=True))
    assert task["prompt"] == candidate_set.prompt.messages
    assert {c["text"] for c in task["candidates"]} == set(
        candidate_set.candidates.values_list("text", flat=True)
    )
    assert task["lease_expires_at"]


def test_display_order_is_randomised_per_assignment(client_for, make_project, make_sets):
    project = make_project(k=9, annotations_per_set=12)
    make_sets(project, 1)
    orders = {tuple(ids(take(client_for(Role.ANNOTATOR), project))) for _ in range(12)}
    # 12 draws from 9! orders: all equal has probability ~(1/362880)^11.
    assert len(orders) > 1


def test_next_task_resumes_the_callers_live_lease(client_for, project):
    client = client_for(Role.ANNOTATOR)
    first = take(client, project)
    again = take(client, project)
    assert again["assignment"] == first["assignment"]
    assert ids(again) == ids(first)
    assert Assignment.objects.count() == 1


def test_next_task_204_when_nothing_left(client_for, make_project, make_sets):
    project = make_project(k=2, annotations_per_set=1)
    make_sets(project, 1)
    first = client_for(Role.ANNOTATOR)
    task = take(first, project)
    assert submit(first, task, {"ranking": [[i] for i in ids(task)]}).status_code == 201
    assert first.post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 204
    other = client_for(Role.ANNOTATOR)
    assert other.post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 204


def test_annotator_never_gets_a_set_twice(client_for, make_project, make_sets):
    project = make_project(k=2, annotations_per_set=3)
    make_sets(project, 2)
    client = client_for(Role.ANNOTATOR)
    seen = []
    for _ in range(2):
        task = take(client, project)
        seen.append(task["candidate_set"])
        assert submit(client, task, {"ranking": [ids(task)]}).status_code == 201
    assert len(set(seen)) == 2
    assert client.post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 204


def test_overlap_limits_live_leases_per_set(client_for, make_project, make_sets):
    project = make_project(k=2, annotations_per_set=2)
    (only,) = make_sets(project, 1)
    take(client_for(Role.ANNOTATOR), project)
    take(client_for(Role.ANNOTATOR), project)
    third = client_for(Role.ANNOTATOR)
    assert third.post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 204
    assert Assignment.objects.filter(candidate_set=only).count() == 2


def test_expired_lease_frees_the_slot(client_for, make_project, make_sets):
    project = make_project(k=2, annotations_per_set=1)
    make_sets(project, 1)
    first = client_for(Role.ANNOTATOR)
    task = take(first, project)
    second = client_for(Role.ANNOTATOR)
    assert second.post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 204
    Assignment.objects.filter(pk=task["assignment"]).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert take(second, project)["candidate_set"] == task["candidate_set"]


def test_own_expired_lease_is_renewed_with_the_same_order(client_for, project):
    client = client_for(Role.ANNOTATOR)
    task = take(client, project)
    Assignment.objects.filter(pk=task["assignment"]).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert assignment_release_expired() == 1
    renewed = take(client, project)
    assert renewed["assignment"] == task["assignment"]
    assert ids(renewed) == ids(task)
    assert Assignment.objects.get(pk=task["assignment"]).state == AssignmentState.LEASED


def test_sets_started_by_others_are_filled_first(client_for, make_project, make_sets):
    project = make_project(k=2, annotations_per_set=2)
    sets = make_sets(project, 3)
    first = client_for(Role.ANNOTATOR)
    task = take(first, project)
    assert task["candidate_set"] == sets[0].pk
    submit(first, task, {"ranking": [ids(task)]})
    # Set 0 has one of its two rankings: it goes before untouched sets.
    assert take(client_for(Role.ANNOTATOR), project)["candidate_set"] == sets[0].pk


def test_submit_stores_tiers_flags_ratings_and_extras(client_for, project):
    client = client_for(Role.ANNOTATOR)
    task = take(client, project)
    a, b, c, d = ids(task)
    body = {
        "ranking": [[c], [a, d], [b]],
        "flags": {str(b): ["unsafe"], str(a): []},
        "ratings": {str(c): {"helpfulness": 7}, str(b): {"helpfulness": 1}},
        "rationale": "c answers the question.",
        "time_spent_seconds": 42.5,
        "interaction": {"moves": 3, "keys": 7, "expanded": [a]},
    }
    response = submit(client, task, body)
    assert response.status_code == 201, response.json()
    ranking = Ranking.objects.get()
    assert ranking.tiers == [[c], [a, d], [b]]
    assert ranking.flags == {str(b): ["unsafe"]}
    assert ranking.ratings == {str(c): {"helpfulness": 7}, str(b): {"helpfulness": 1}}
    assert (ranking.rationale, ranking.time_spent_seconds) == (body["rationale"], 42.5)
    assert ranking.interaction == body["interaction"]
    assert ranking.annotator == client.user
    assert response.json()["ranking"] == [[c], [a, d], [b]]
    assert Assignment.objects.get(pk=task["assignment"]).state == AssignmentState.SUBMITTED


def test_not_rankable_with_no_tiers_is_accepted(client_for, project):
    client = client_for(Role.ANNOTATOR)
    task = take(client, project)
    response = submit(client, task, {"not_rankable": True, "rationale": "All off-topic."})
    assert response.status_code == 201
    ranking = Ranking.objects.get()
    assert ranking.not_rankable and ranking.tiers == []


def test_set_completes_after_overlap_submissions(client_for, project):
    set_ids = set()
    for _ in range(2):
        client = client_for(Role.ANNOTATOR)
        task = take(client, project)
        set_ids.add(task["candidate_set"])
        assert submit(client, task, {"ranking": [ids(task)]}).status_code == 201
    (set_id,) = set_ids
    candidate_set = CandidateSet.objects.get(pk=set_id)
    assert candidate_set.state == CandidateSetState.COMPLETE
    assert candidate_set.completed_at is not None


@pytest.mark.parametrize(
    ("make_body", "field", "message"),
    [
        (lambda a, b, c, d: {"ranking": [[a], [b], [c]]}, "ranking", "missing"),
        (lambda a, b, c, d: {"ranking": [[a], [b], [c], [d], [a]]}, "ranking", "more than once"),
        (
            lambda a, b, c, d: {"ranking": [[a], [b], [c], [d, 987654321]]},
            "ranking",
            "not in this set",
        ),
        (lambda a, b, c, d: {"ranking": [[a], [], [b, c, d]]}, "ranking[1]", "must not be empty"),
        (lambda a, b, c, d: {"ranking": [a, b, c, d]}, "ranking", "list of tiers"),
        (
            lambda a, b, c, d: {"ranking": [[a], ["b"], [c], [d]]},
            "ranking[1]",
            "not a candidate id",
        ),
        (lambda a, b, c, d: {}, "ranking", "missing"),
        (
            lambda a, b, c, d: {"not_rankable": True, "ranking": [[a, b, c, d]]},
            "ranking",
            "no tiers",
        ),
        (
            lambda a, b, c, d: {"ranking": [[a, b, c, d]], "flags": {str(a): ["rude"]}},
            "flags.{a}",
            "Unknown flag",
        ),
        (
            lambda a, b, c, d: {"ranking": [[a, b, c, d]], "flags": {"987654321": ["unsafe"]}},
            "flags.987654321",
            "Not a candidate",
        ),
        (
            lambda a, b, c, d: {"ranking": [[a, b, c, d]], "ratings": {str(a): {"helpfulness": 9}}},
            "ratings.{a}.helpfulness",
            "from 1 to 7",
        ),
        (
            lambda a, b, c, d: {"ranking": [[a, b, c, d]], "ratings": {str(a): {"style": 2}}},
            "ratings.{a}.style",
            "Not a rating dimension",
        ),
        (
            lambda a, b, c, d: {"ranking": [[a, b, c, d]], "time_spent_seconds": -1},
            "time_spent_seconds",
            "between",
        ),
        (
            lambda a, b, c, d: {"ranking": [[a, b, c, d]], "interaction": [1, 2]},
            "interaction",
            "object",
        ),
        (
            lambda a, b, c, d: {"ranking": [[a, b, c, d]], "rationale": "x" * 20_001},
            "rationale",
            "Longer than",
        ),
        (
            lambda a, b, c, d: {"ranking": [[a, b, c, d]], "not_rankable": "maybe"},
            "not_rankable",
            "valid boolean",
        ),
    ],
)
def test_invalid_submit_is_rejected_and_nothing_is_written(
    client_for, project, make_body, field, message
):
    client = client_for(Role.ANNOTATOR)
    task = take(client, project)
    a, b, c, d = ids(task)
    response = submit(client, task, make_body(a, b, c, d))
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    field = field.format(a=a)
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert_nothing_written(task["assignment"])


def test_ties_are_refused_when_the_project_disallows_them(client_for, make_project, make_sets):
    project = make_project(k=3, allow_ties=False)
    make_sets(project, 1)
    client = client_for(Role.ANNOTATOR)
    task = take(client, project)
    a, b, c = ids(task)
    response = submit(client, task, {"ranking": [[a, b], [c]]})
    assert response.status_code == 400
    assert "does not allow ties" in response.json()["errors"]["ranking[0]"][0]
    assert_nothing_written(task["assignment"])


def test_submit_after_lease_expiry_is_409(client_for, project):
    client = client_for(Role.ANNOTATOR)
    task = take(client, project)
    Assignment.objects.filter(pk=task["assignment"]).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = submit(client, task, {"ranking": [ids(task)]})
    assert response.status_code == 409
    assert response.json()["code"] == "lease_expired"
    assert "expired" in response.json()["detail"]
    assert Ranking.objects.count() == 0


def test_submit_to_someone_elses_assignment_is_404(client_for, project):
    owner = client_for(Role.ANNOTATOR)
    task = take(owner, project)
    intruder = client_for(Role.ANNOTATOR)
    response = submit(intruder, task, {"ranking": [ids(task)]})
    assert response.status_code == 404
    assert response.json()["detail"] == "No such assignment."
    assert_nothing_written(task["assignment"])


def test_submit_twice_without_key_is_409(client_for, project):
    client = client_for(Role.ANNOTATOR)
    task = take(client, project)
    assert submit(client, task, {"ranking": [ids(task)]}).status_code == 201
    again = submit(client, task, {"ranking": [ids(task)]})
    assert again.status_code == 409
    assert again.json()["code"] == "already_submitted"
    assert Ranking.objects.count() == 1


def test_skip_frees_the_set_for_others_and_never_returns_it(client_for, make_project, make_sets):
    project = make_project(k=2, annotations_per_set=1)
    make_sets(project, 1)
    skipper = client_for(Role.ANNOTATOR)
    task = take(skipper, project)
    response = skipper.post(f"/api/v1/assignments/{task['assignment']}/skip/")
    assert response.status_code == 200
    assert response.json()["state"] == "skipped"
    assert skipper.post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 204
    other = client_for(Role.ANNOTATOR)
    assert take(other, project)["candidate_set"] == task["candidate_set"]


def test_skip_after_submit_is_409_and_submit_after_skip_is_409(client_for, project):
    client = client_for(Role.ANNOTATOR)
    task = take(client, project)
    assert submit(client, task, {"ranking": [ids(task)]}).status_code == 201
    response = client.post(f"/api/v1/assignments/{task['assignment']}/skip/")
    assert response.status_code == 409
    other = client_for(Role.ANNOTATOR)
    task2 = take(other, project)
    assert other.post(f"/api/v1/assignments/{task2['assignment']}/skip/").status_code == 200
    late = submit(other, task2, {"ranking": [ids(task2)]})
    assert late.status_code == 409
    assert late.json()["code"] == "skipped"
    assert Ranking.objects.count() == 1


def test_skip_someone_elses_assignment_is_404(client_for, project):
    task = take(client_for(Role.ANNOTATOR), project)
    response = client_for(Role.ANNOTATOR).post(f"/api/v1/assignments/{task['assignment']}/skip/")
    assert response.status_code == 404
    assert Assignment.objects.get(pk=task["assignment"]).state == AssignmentState.LEASED


def test_multi_turn_prompt_round_trips_from_import_to_next_task(
    admin_client, client_for, make_project
):
    project = make_project(k=2)
    messages = [
        {"role": "system", "content": "You are a careful tutor. Use *markdown*."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4.\n\n```python\nprint(2 + 2)\n```"},
        {"role": "user", "content": "And in base 3? Ünïcödé ✓ <b>not html</b>"},
    ]
    rows = [{"messages": messages, "candidates": [{"text": "11"}, {"text": "12"}]}]
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/candidate-sets/", rows, format="json"
    )
    assert response.status_code == 201
    task = take(client_for(Role.ANNOTATOR), project)
    assert task["prompt"] == messages

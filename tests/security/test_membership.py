"""Project membership (issue 18): annotators see and are given tasks only in their projects,
reviewers review only theirs, admins manage members over REST (a bulk add by id or username).
The per-endpoint 404s are in tests/annotation/test_authorization.py; these follow a team's
day: adding people, changing a role, removing someone who held a lease."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from annotation.enums import AssignmentState, Role
from annotation.models import Assignment, ProjectMembership

pytestmark = [pytest.mark.django_db, pytest.mark.members_only]


@pytest.fixture
def team(make_project, make_sets, make_user):
    """Projects A and B (3 sets each, overlap 1) and nobody a member of either yet."""
    a, b = make_project(k=2), make_project(k=2)
    make_sets(a, 3)
    make_sets(b, 3)
    return a, b


def test_a_new_annotator_sees_no_project_until_added(team, client_for, admin_client):
    a, b = team
    annotator = client_for(Role.ANNOTATOR)
    assert annotator.get("/api/v1/projects/").json()["results"] == []
    refused = annotator.post(f"/api/v1/projects/{a.pk}/next-task/")
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert not Assignment.objects.exists()

    added = admin_client.post(
        f"/api/v1/projects/{a.pk}/members/",
        {"users": [annotator.user.username.upper()], "role": "annotator"},  # any case
        format="json",
    )
    assert added.status_code == 201, added.json()
    assert [(m["username"], m["role"], m["account_role"]) for m in added.json()["members"]] == [
        (annotator.user.username, "annotator", "annotator")
    ]
    listed = annotator.get("/api/v1/projects/").json()["results"]
    assert [(p["id"], p["my_role"], p["my_ranking_count"]) for p in listed] == [
        (a.pk, "annotator", 0)
    ]
    assert "gold_rate" not in listed[0]
    assert annotator.post(f"/api/v1/projects/{a.pk}/next-task/").status_code == 200
    assert annotator.post(f"/api/v1/projects/{b.pk}/next-task/").status_code == 404
    assert annotator.get(f"/api/v1/projects/{b.pk}/").status_code == 404


def test_bulk_add_is_all_or_nothing_and_names_each_refusal(team, make_user, admin_client):
    a, _ = team
    annotators = [make_user(Role.ANNOTATOR) for _ in range(3)]
    admin = make_user(Role.ADMIN)
    response = admin_client.post(
        f"/api/v1/projects/{a.pk}/members/",
        {"users": [annotators[0].pk, "nobody-by-that-name", 987654321], "role": "annotator"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["users"] == ["No such user: nobody-by-that-name, 987654321."]
    response = admin_client.post(
        f"/api/v1/projects/{a.pk}/members/",
        {"users": [annotators[1].username, admin.username], "role": "reviewer"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["users"] == [
        f"{annotators[1].username}'s account is an annotator: they can only be a project's "
        "annotator.",
        f"{admin.username} is an admin: admins see every project without a membership.",
    ]
    for bad in ({"users": []}, {"users": [True]}, {"users": ["x"], "role": "owner"}, {}):
        response = admin_client.post(f"/api/v1/projects/{a.pk}/members/", bad, format="json")
        assert response.status_code == 400, bad
    assert not ProjectMembership.objects.exists()

    response = admin_client.post(
        f"/api/v1/projects/{a.pk}/members/",
        {"users": [u.username for u in annotators] + [annotators[0].pk]},  # a repeat is one
        format="json",
    )
    assert response.status_code == 201
    assert sorted(m["user"] for m in response.json()["members"]) == sorted(u.pk for u in annotators)
    assert ProjectMembership.objects.filter(project=a, role="annotator").count() == 3


def test_a_reviewer_reviews_only_the_projects_they_review(team, client_for, admin_client):
    a, b = team
    reviewer = client_for(Role.REVIEWER)
    admin_client.post(
        f"/api/v1/projects/{a.pk}/members/",
        {"users": [reviewer.user.pk], "role": "reviewer"},
        format="json",
    )
    admin_client.post(
        f"/api/v1/projects/{b.pk}/members/",
        {"users": [reviewer.user.pk], "role": "annotator"},
        format="json",
    )
    roles = {p["id"]: p["my_role"] for p in reviewer.get("/api/v1/projects/").json()["results"]}
    assert roles == {a.pk: "reviewer", b.pk: "annotator"}
    assert reviewer.get(f"/api/v1/projects/{a.pk}/export/").status_code == 200
    assert reviewer.get(f"/api/v1/projects/{a.pk}/members/").status_code == 200
    # in B they annotate: they take tasks there and see none of B's data
    assert reviewer.get(f"/api/v1/projects/{b.pk}/export/").status_code == 403
    assert reviewer.post(f"/api/v1/projects/{b.pk}/next-task/").status_code == 200
    assert reviewer.post(f"/api/v1/projects/{a.pk}/next-task/").status_code == 403
    b_set = b.candidate_sets.first().pk
    assert reviewer.get(f"/api/v1/candidate-sets/{b_set}/").status_code == 404
    a_set = a.candidate_sets.first().pk
    assert reviewer.get(f"/api/v1/candidate-sets/{a_set}/").status_code == 200
    jobs = reviewer.get("/api/v1/generation-jobs/").json()["results"]
    assert all(job["project"] == a.pk for job in jobs)


def test_removing_a_member_gives_their_lease_back_at_once(team, client_for, admin_client):
    a, _ = team
    leaving, staying = client_for(Role.ANNOTATOR), client_for(Role.ANNOTATOR)
    admin_client.post(
        f"/api/v1/projects/{a.pk}/members/",
        {"users": [leaving.user.pk, staying.user.pk]},
        format="json",
    )
    held = [leaving.post(f"/api/v1/projects/{a.pk}/next-task/").json()["candidate_set"]]
    removed = admin_client.delete(f"/api/v1/projects/{a.pk}/members/{leaving.user.pk}/")
    assert removed.status_code == 204
    lease = Assignment.objects.get(annotator=leaving.user)
    assert lease.state == AssignmentState.EXPIRED
    assert leaving.post(f"/api/v1/projects/{a.pk}/next-task/").status_code == 404
    # the set they held is free for the others now (3 sets, overlap 1: all three reachable)
    taken = []
    for _ in range(3):
        task = staying.post(f"/api/v1/projects/{a.pk}/next-task/").json()
        taken.append(task["candidate_set"])
        order = [[c["id"]] for c in task["candidates"]]
        submitted = staying.post(
            f"/api/v1/assignments/{task['assignment']}/submit/", {"ranking": order}, format="json"
        )
        assert submitted.status_code == 201
    assert held[0] in taken
    again = admin_client.delete(f"/api/v1/projects/{a.pk}/members/{leaving.user.pk}/")
    assert again.status_code == 404


def test_an_annotator_made_reviewer_gives_back_their_lease(
    team, make_user, client_for, admin_client
):
    a, _ = team
    user = make_user(Role.REVIEWER)
    client = client_for(user=user)
    admin_client.post(f"/api/v1/projects/{a.pk}/members/", {"users": [user.pk]}, format="json")
    assert client.post(f"/api/v1/projects/{a.pk}/next-task/").status_code == 200
    changed = admin_client.patch(
        f"/api/v1/projects/{a.pk}/members/{user.pk}/", {"role": "reviewer"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["role"] == "reviewer"
    assert Assignment.objects.get(annotator=user).state == AssignmentState.EXPIRED
    assert client.post(f"/api/v1/projects/{a.pk}/next-task/").status_code == 403
    assert client.get(f"/api/v1/projects/{a.pk}/progress/").status_code == 200
    bad = admin_client.patch(
        f"/api/v1/projects/{a.pk}/members/{user.pk}/", {"role": "admin"}, format="json"
    )
    assert bad.status_code == 400 and "role" in bad.json()["errors"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_everyones_access(make_user, make_project):
    """Before memberships every annotator and reviewer reached every project; migrating makes
    each a member of every existing project with their account's role (admins need none)."""
    executor = MigrationExecutor(connection)
    executor.migrate([("annotation", "0006_evaluation_sets")])
    try:
        projects = [make_project(), make_project()]
        annotator, reviewer, admin = (
            make_user(Role.ANNOTATOR),
            make_user(Role.REVIEWER),
            make_user(Role.ADMIN),
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    got = set(ProjectMembership.objects.values_list("project_id", "user_id", "role"))
    assert got == {
        (p.pk, user.pk, role)
        for p in projects
        for user, role in ((annotator, "annotator"), (reviewer, "reviewer"))
    }
    assert not ProjectMembership.objects.filter(user=admin).exists()

"""Projects and users over REST: creation, validation (400 with field and reason, nothing
written), updates, progress counts."""

import pytest
from django.contrib.auth import get_user_model

from annotation.enums import Role
from annotation.models import Project

pytestmark = pytest.mark.django_db


def test_admin_creates_project_with_criteria(admin_client):
    body = {
        "name": "Helpfulness round 1",
        "k": 4,
        "annotations_per_set": 3,
        "guidelines": "# Rank by helpfulness",
        "criteria": {"flags": ["unsafe"], "ratings": [{"name": "clarity", "min": 1, "max": 5}]},
        "allow_ties": False,
        "lease_seconds": 600,
    }
    response = admin_client.post("/api/v1/projects/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    project = Project.objects.get(pk=data["id"])
    assert (project.k, project.annotations_per_set, project.allow_ties) == (4, 3, False)
    assert project.criteria == body["criteria"]
    assert data["slug"] == "helpfulness-round-1"
    assert (data["set_count"], data["complete_set_count"], data["prompt_count"]) == (0, 0, 0)
    assert project.created_by == admin_client.user


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "P", "k": 1}, "k", "greater than or equal to 2"),
        ({"name": "P", "k": 10}, "k", "less than or equal to 9"),
        ({"name": "P"}, "k", "required"),
        ({"k": 3}, "name", "required"),
        ({"name": "P", "k": 3, "annotations_per_set": 0}, "annotations_per_set", "greater"),
        ({"name": "P", "k": 3, "lease_seconds": 5}, "lease_seconds", "greater"),
        ({"name": "P", "k": 3, "criteria": {"flags": "unsafe"}}, "criteria.flags", "list"),
        ({"name": "P", "k": 3, "criteria": {"colours": []}}, "criteria", "Unknown"),
        (
            {"name": "P", "k": 3, "criteria": {"ratings": [{"name": "x", "min": 5, "max": 1}]}},
            "criteria.ratings[0]",
            "less than",
        ),
        ({"name": "P", "k": 3, "criteria": {"flags": ["a", "a"]}}, "criteria.flags", "unique"),
        ({"name": "P", "k": 3, "slug": "not a slug!"}, "slug", "slug"),
    ],
)
def test_invalid_project_is_400_and_nothing_is_written(admin_client, body, field, message):
    response = admin_client.post("/api/v1/projects/", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert Project.objects.count() == 0


def test_duplicate_slug_is_400(admin_client, make_project):
    make_project(slug="taken")
    response = admin_client.post(
        "/api/v1/projects/", {"name": "P", "k": 3, "slug": "taken"}, format="json"
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["errors"]["slug"][0]


def test_patch_changes_guidelines_but_k_is_fixed(admin_client, make_project):
    project = make_project(k=3)
    url = f"/api/v1/projects/{project.pk}/"
    response = admin_client.patch(
        url, {"guidelines": "New", "annotations_per_set": 2}, format="json"
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.guidelines, project.annotations_per_set) == ("New", 2)
    response = admin_client.patch(url, {"k": 5, "guidelines": "Other"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"k": ["Cannot be changed."]}
    project.refresh_from_db()
    assert (project.k, project.guidelines) == (3, "New")


def test_project_progress_counts_and_my_rankings(client_for, make_project, make_sets):
    project = make_project(k=2, annotations_per_set=1)
    make_sets(project, 3)
    annotator = client_for(Role.ANNOTATOR)
    task = annotator.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    annotator.post(
        f"/api/v1/assignments/{task['assignment']}/submit/",
        {"ranking": [[c["id"] for c in task["candidates"]]]},
        format="json",
    )
    listing = annotator.get("/api/v1/projects/").json()
    (row,) = [p for p in listing["results"] if p["id"] == project.pk]
    assert (row["set_count"], row["complete_set_count"], row["my_ranking_count"]) == (3, 1, 1)
    other = client_for(Role.ANNOTATOR).get(f"/api/v1/projects/{project.pk}/").json()
    assert other["my_ranking_count"] == 0
    reviewer_view = client_for(Role.REVIEWER).get(f"/api/v1/projects/{project.pk}/").json()
    assert "my_ranking_count" not in reviewer_view


def test_missing_project_is_404(client_for):
    response = client_for(Role.ANNOTATOR).get("/api/v1/projects/999999/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_admin_creates_users_with_roles_and_they_can_get_tokens(admin_client):
    response = admin_client.post(
        "/api/v1/users/",
        {"username": "rita", "password": "rank-all-the-things", "role": "reviewer"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["role"] == "reviewer"
    user = get_user_model().objects.get(username="rita")
    assert list(user.groups.values_list("name", flat=True)) == ["reviewer"]
    token = admin_client.post(
        "/api/v1/auth/token/",
        {"username": "rita", "password": "rank-all-the-things"},
        format="json",
    )
    assert token.status_code == 200 and token.json()["token"].startswith("fw_")
    listing = admin_client.get("/api/v1/users/").json()
    assert {"rita", admin_client.user.username} <= {u["username"] for u in listing["results"]}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"username": "u1", "password": "short", "role": "annotator"}, "password", "too short"),
        ({"username": "u1", "password": "password", "role": "annotator"}, "password", "too common"),
        (
            {"username": "u1", "password": "a-fine-passphrase", "role": "boss"},
            "role",
            "not a valid choice",
        ),
        (
            {"username": "bad name", "password": "a-fine-passphrase", "role": "annotator"},
            "username",
            "Letters",
        ),
        ({"password": "a-fine-passphrase", "role": "annotator"}, "username", "required"),
    ],
)
def test_invalid_user_is_400_and_nothing_is_written(admin_client, body, field, message):
    before = get_user_model().objects.count()
    response = admin_client.post("/api/v1/users/", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert get_user_model().objects.count() == before


def test_duplicate_username_is_400(admin_client, make_user):
    make_user(Role.ANNOTATOR, username="ann")
    response = admin_client.post(
        "/api/v1/users/",
        {"username": "ANN", "password": "a-fine-passphrase", "role": "annotator"},
        format="json",
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["errors"]["username"][0]


def test_annotators_are_not_told_the_gold_rate(client_for, make_project):
    project = make_project(gold_rate=0.2)
    assert (
        "gold_rate" not in client_for(Role.ANNOTATOR).get(f"/api/v1/projects/{project.pk}/").json()
    )
    listing = client_for(Role.ANNOTATOR).get("/api/v1/projects/").json()["results"]
    assert all("gold_rate" not in p for p in listing)
    assert (
        client_for(Role.REVIEWER).get(f"/api/v1/projects/{project.pk}/").json()["gold_rate"] == 0.2
    )

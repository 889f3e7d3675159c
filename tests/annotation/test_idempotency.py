"""Idempotency-Key on submit: a retried submit returns the first result and writes one row,
also when the retries arrive at the same time."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from annotation.enums import Role
from annotation.models import Ranking
from annotation.services.users import token_for


def _task(client, project):
    response = client.post(f"/api/v1/projects/{project.pk}/next-task/")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_retried_submit_returns_first_result_and_writes_one_row(
    client_for, make_project, make_sets
):
    project = make_project(k=3)
    make_sets(project, 2)
    client = client_for(Role.ANNOTATOR)
    task = _task(client, project)
    body = {"ranking": [[c["id"]] for c in task["candidates"]], "rationale": "ok"}
    url = f"/api/v1/assignments/{task['assignment']}/submit/"
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    second = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Ranking.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_different_body_is_409(client_for, make_project, make_sets):
    project = make_project(k=3)
    make_sets(project, 2)
    client = client_for(Role.ANNOTATOR)
    task = _task(client, project)
    order = [[c["id"]] for c in task["candidates"]]
    url = f"/api/v1/assignments/{task['assignment']}/submit/"
    assert (
        client.post(url, {"ranking": order}, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code
        == 201
    )
    changed = client.post(url, {"ranking": order[::-1]}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_key_reused"
    # The same key on another assignment is a different request too.
    task2 = _task(client, project)
    other = client.post(
        f"/api/v1/assignments/{task2['assignment']}/submit/",
        {"ranking": [[c["id"]] for c in task2["candidates"]]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert other.status_code == 409
    assert list(Ranking.objects.values_list("tiers", flat=True)) == [order]


@pytest.mark.django_db
def test_overlong_idempotency_key_is_400(client_for, make_project, make_sets):
    project = make_project(k=2)
    make_sets(project, 1)
    client = client_for(Role.ANNOTATOR)
    task = _task(client, project)
    response = client.post(
        f"/api/v1/assignments/{task['assignment']}/submit/",
        {"ranking": [[c["id"] for c in task["candidates"]]]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 201,
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert Ranking.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_submits_write_one_ranking(
    live_server, make_user, make_project, make_sets
):
    project = make_project(k=4)
    make_sets(project, 1)
    user = make_user(Role.ANNOTATOR)
    headers = {"Authorization": f"Token {token_for(user=user)}"}
    with httpx.Client(base_url=live_server.url, headers=headers) as client:
        task = client.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    body = {"ranking": [[c["id"]] for c in task["candidates"]]}
    copies = 12
    barrier = threading.Barrier(copies)

    def send(_):
        with httpx.Client(base_url=live_server.url, headers=headers, timeout=60) as client:
            barrier.wait()
            return client.post(
                f"/api/v1/assignments/{task['assignment']}/submit/",
                json=body,
                headers={"Idempotency-Key": "same-click"},
            )

    with ThreadPoolExecutor(copies) as pool:
        responses = list(pool.map(send, range(copies)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == copies - 1
    assert Ranking.objects.count() == 1

"""Oversize input: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` gets a 413 in the API's error shape
before a byte of it is read; texts and batches over their limits get a 400 naming the field."""

from __future__ import annotations

import io
import json

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import Client

from annotation.enums import Role
from annotation.models import Prompt
from annotation.services.users import token_for
from annotation.validation import MAX_RATIONALE_CHARS, MAX_TEXT_CHARS

pytestmark = pytest.mark.django_db

LIMIT = 64 * 1024


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = LIMIT // 4
    return LIMIT


def prompt_rows(n_bytes: int) -> list[dict]:
    row = {"prompt": "x" * 1000}
    return [row] * (n_bytes // 1000 + 1)


def assert_too_large(response) -> None:
    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "request_too_large" and body["errors"] == {}
    assert str(LIMIT) in body["detail"]


@pytest.mark.parametrize("shape", ["json", "jsonl", "file"])
def test_import_over_the_body_limit_is_413_and_imports_nothing(
    admin_client, make_project, small_limit, shape
):
    project = make_project(k=2)
    rows = prompt_rows(2 * LIMIT)
    url = f"/api/v1/projects/{project.pk}/prompts/"
    if shape == "json":
        response = admin_client.post(url, rows, format="json")
    elif shape == "jsonl":
        body = "\n".join(json.dumps(r) for r in rows)
        response = admin_client.post(url, body, content_type="application/x-ndjson")
    else:
        upload = io.BytesIO(json.dumps(rows).encode())
        upload.name = "prompts.json"
        response = admin_client.post(url, {"file": upload}, format="multipart")
    assert_too_large(response)
    assert not Prompt.objects.filter(project=project).exists()


def test_import_just_under_the_body_limit_is_accepted(admin_client, make_project, small_limit):
    project = make_project(k=2)
    rows = prompt_rows(LIMIT // 2)
    response = admin_client.post(f"/api/v1/projects/{project.pk}/prompts/", rows, format="json")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["created"] == len(rows)


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, size=-1):
        raise AssertionError("the oversize body was read")

    readinto = readline = read


def test_body_over_the_default_limit_is_refused_without_reading_it(
    make_user, make_project, settings, in_process_wsgi
):
    """At the production default (50 MiB) a 4 GiB Content-Length is refused on the header alone:
    the body stream is never touched, so no memory is spent on it."""
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 50 * 1024 * 1024
    project = make_project(k=2)
    token = token_for(user=make_user(Role.ADMIN))
    statuses = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/api/v1/projects/{project.pk}/prompts/",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": UnreadableBody(),
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(4 * 1024**3),
        "HTTP_AUTHORIZATION": f"Token {token}",
    }
    body = b"".join(get_wsgi_application()(environ, lambda s, h: statuses.append(s)))
    assert [s.split()[0] for s in statuses] == ["413"]
    assert json.loads(body)["code"] == "request_too_large"


def test_oversize_body_outside_the_api_is_a_plain_413(client, small_limit):
    response = client.post("/admin/login/", {"username": "a", "password": "x" * (2 * LIMIT)})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")


def test_too_many_form_fields_is_a_400_in_the_api_shape(admin_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    response = admin_client.post(
        "/api/v1/users/", {f"field{i}": "x" for i in range(200)}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_fields"


def long_text_cases():
    too_long = "y" * (MAX_TEXT_CHARS + 1)
    return [
        (
            "prompt content",
            "prompts/",
            [{"messages": [{"role": "user", "content": too_long}]}],
            "rows[1].messages[0].content",
        ),
        (
            "candidate text",
            "candidate-sets/",
            [{"prompt": "Q", "candidates": [{"text": too_long}, {"text": "b"}]}],
            "rows[1].candidates[0].text",
        ),
    ]


@pytest.mark.parametrize(
    ("what", "endpoint", "rows", "field"), long_text_cases(), ids=lambda v: str(v)[:20]
)
def test_import_of_an_oversize_text_is_400_naming_the_row(
    admin_client, make_project, what, endpoint, rows, field
):
    project = make_project(k=2)
    response = admin_client.post(f"/api/v1/projects/{project.pk}/{endpoint}", rows, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["errors"], response.json()


def test_import_of_too_many_rows_is_400(admin_client, make_project, settings):
    settings.FLYWHEEL_MAX_IMPORT_ROWS = 10
    project = make_project(k=2)
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/prompts/",
        [{"prompt": f"p{i}"} for i in range(11)],
        format="json",
    )
    assert response.status_code == 400
    assert "At most 10 rows" in response.json()["detail"]
    assert not Prompt.objects.filter(project=project).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "n" * 201, "k": 2}, "name"),
        ({"name": "ok", "k": 2, "guidelines": "g" * 100_001}, "guidelines"),
    ],
    ids=["name", "guidelines"],
)
def test_project_with_oversize_text_is_400(admin_client, body, field):
    response = admin_client.post("/api/v1/projects/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_submit_with_oversize_rationale_is_400(client_for, make_project, make_sets):
    project = make_project(k=2)
    make_sets(project, 1)
    annotator = client_for(Role.ANNOTATOR)
    task = annotator.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    response = annotator.post(
        f"/api/v1/assignments/{task['assignment']}/submit/",
        {
            "ranking": [[c["id"]] for c in task["candidates"]],
            "rationale": "r" * (MAX_RATIONALE_CHARS + 1),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "rationale" in response.json()["errors"]


def test_user_with_oversize_username_is_400(admin_client):
    response = admin_client.post(
        "/api/v1/users/",
        {"username": "u" * 151, "password": "a-long-passphrase-1", "role": "annotator"},
        format="json",
    )
    assert response.status_code == 400
    assert "username" in response.json()["errors"]


def test_plain_django_client_sees_the_same_413(make_user, make_project, small_limit):
    """The browser app's session client: same 413, same shape."""
    project = make_project(k=2)
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    response = client.post(
        f"/api/v1/projects/{project.pk}/prompts/",
        json.dumps(prompt_rows(2 * LIMIT)),
        content_type="application/json",
    )
    assert_too_large(response)

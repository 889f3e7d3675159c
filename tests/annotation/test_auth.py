"""Token auth and session auth; CSRF is enforced for session-authenticated writes."""

import pytest
from rest_framework.test import APIClient

from annotation.enums import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_token_is_issued_and_authenticates(make_user):
    user = make_user(Role.REVIEWER)
    client = APIClient()
    token = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json() == {"id": user.pk, "username": user.username, "role": "reviewer"}


def test_wrong_password_is_400_without_a_token(make_user):
    user = make_user(Role.ANNOTATOR)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert "token" not in response.json()


def test_revoked_token_stops_working(client_for):
    client = client_for(Role.ANNOTATOR)
    assert client.get("/api/v1/me/").status_code == 200
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_session_login_requires_csrf_and_session_writes_require_csrf(
    make_user, make_project, make_sets
):
    user = make_user(Role.ANNOTATOR)
    project = make_project(k=2)
    make_sets(project, 1)
    client = APIClient(enforce_csrf_checks=True)
    credentials = {"username": user.username, "password": PASSWORD}

    refused = client.post("/api/v1/auth/login/", credentials, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"

    assert client.get("/api/v1/auth/csrf/").status_code == 204
    csrf = client.cookies["csrftoken"].value
    login = client.post("/api/v1/auth/login/", credentials, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert login.status_code == 200
    assert login.json()["role"] == "annotator"
    assert client.get("/api/v1/me/").json()["username"] == user.username

    csrf = client.cookies["csrftoken"].value  # rotated at login
    no_token = client.post(f"/api/v1/projects/{project.pk}/next-task/")
    assert no_token.status_code == 403
    assert "CSRF" in no_token.json()["detail"]
    with_token = client.post(f"/api/v1/projects/{project.pk}/next-task/", HTTP_X_CSRFTOKEN=csrf)
    assert with_token.status_code == 200

    assert client.post("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=csrf).status_code == 204
    assert client.get("/api/v1/me/").status_code == 401


def test_user_without_role_is_refused_everywhere(db):
    from django.contrib.auth import get_user_model

    from annotation.services.users import token_for

    user = get_user_model().objects.create_user("nobody", password=PASSWORD)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user)}")
    assert client.get("/api/v1/projects/").status_code == 403
    assert client.get("/api/v1/me/").json()["role"] is None

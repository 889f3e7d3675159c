"""Sign-in rate limiting (django-axes): after ``AXES_FAILURE_LIMIT`` failed attempts for one
username from one address, that pair gets 429 with Retry-After, even with the right password,
on the token endpoint, the session login and the admin login alike; other users and other
addresses are unaffected, and the lock lifts after the cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.enums import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = django_settings.AXES_FAILURE_LIMIT


def token_attempt(
    username: str, password: str, address: str = "10.0.0.1", forwarded_for: str | None = None
):
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **headers,
    )


def session_attempt(username: str, password: str, address: str = "10.0.0.1"):
    client = APIClient(enforce_csrf_checks=True)
    client.get("/api/v1/auth/csrf/", REMOTE_ADDR=address)
    return client.post(
        "/api/v1/auth/login/",
        {"username": username, "password": password},
        format="json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        REMOTE_ADDR=address,
    )


def assert_locked_out(response) -> None:
    assert response.status_code == 429, response.content[:300]
    body = response.json()
    assert body["code"] == "locked_out" and body["errors"] == {}
    assert "Too many failed sign-in attempts" in body["detail"]
    cool_off = django_settings.AXES_COOLOFF_TIME.total_seconds()
    assert int(response["Retry-After"]) == cool_off
    assert "token" not in body


@pytest.mark.parametrize("attempt", [token_attempt, session_attempt], ids=["token", "session"])
def test_repeated_failures_lock_out_the_username_from_that_address(make_user, attempt):
    user = make_user(Role.ANNOTATOR)
    for _ in range(LIMIT - 1):
        response = attempt(user.username, "wrong")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_credentials"
    assert_locked_out(attempt(user.username, "wrong"))
    assert_locked_out(attempt(user.username, PASSWORD))  # even the right password now


def test_lockout_is_per_username_and_address(make_user):
    victim, colleague = make_user(Role.ANNOTATOR), make_user(Role.ANNOTATOR)
    for _ in range(LIMIT):
        token_attempt(victim.username, "wrong")
    assert_locked_out(token_attempt(victim.username, PASSWORD))
    # A colleague behind the same address, and the same user from elsewhere, still sign in.
    assert token_attempt(colleague.username, PASSWORD).status_code == 200
    assert token_attempt(victim.username, PASSWORD, address="10.0.0.2").status_code == 200


PROXY = "10.0.0.9"  # every request reaches Flywheel from the reverse proxy's address


def test_behind_a_trusted_proxy_the_lockout_is_per_forwarded_client_address(make_user, settings):
    """With FLYWHEEL_TRUSTED_PROXIES=1 the client is the address the proxy appended: an
    attacker failing as the victim locks out only their own address, not the victim's."""
    settings.FLYWHEEL_TRUSTED_PROXIES = 1
    victim = make_user(Role.ANNOTATOR)
    for _ in range(LIMIT):
        token_attempt(victim.username, "wrong", PROXY, forwarded_for="203.0.113.66")
    assert_locked_out(token_attempt(victim.username, PASSWORD, PROXY, "203.0.113.66"))
    # what the attacker writes left of the proxy's entry changes nothing
    assert_locked_out(token_attempt(victim.username, PASSWORD, PROXY, "1.2.3.4, 203.0.113.66"))
    assert token_attempt(victim.username, PASSWORD, PROXY, "198.51.100.7").status_code == 200
    attempt = AccessAttempt.objects.get(username=victim.username)
    assert attempt.ip_address == "203.0.113.66"


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(make_user):
    """By default the header is the client's own claim: rotating it does not escape the lock."""
    user = make_user(Role.ANNOTATOR)
    for i in range(LIMIT):
        token_attempt(user.username, "wrong", forwarded_for=f"203.0.113.{i}")
    assert_locked_out(token_attempt(user.username, PASSWORD, forwarded_for="198.51.100.7"))
    assert AccessAttempt.objects.get(username=user.username).ip_address == "10.0.0.1"


def test_lockout_lifts_after_the_cool_off(make_user):
    user = make_user(Role.ANNOTATOR)
    for _ in range(LIMIT):
        token_attempt(user.username, "wrong")
    assert_locked_out(token_attempt(user.username, PASSWORD))
    past = timezone.now() - django_settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert token_attempt(user.username, PASSWORD).status_code == 200


def test_a_successful_sign_in_clears_earlier_failures(make_user):
    user = make_user(Role.ANNOTATOR)
    for _ in range(LIMIT - 1):
        token_attempt(user.username, "wrong")
    assert token_attempt(user.username, PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert token_attempt(user.username, "wrong").status_code == 400
    assert token_attempt(user.username, PASSWORD).status_code == 200


def test_unknown_usernames_are_counted_too(db):
    for _ in range(LIMIT):
        token_attempt("nobody-here", "guess")
    assert_locked_out(token_attempt("nobody-here", "guess"))


def test_admin_login_is_rate_limited_too(make_user):
    admin = make_user(Role.ADMIN)
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(LIMIT - 1):
        page = client.post("/admin/login/", {"username": admin.username, "password": "wrong"})
        assert page.status_code == 200  # the form again, with its error
    last = client.post("/admin/login/", {"username": admin.username, "password": "wrong"})
    assert last.status_code == 429
    locked = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("text/plain")
    assert "Retry-After" in locked


def test_lockout_is_documented_in_the_schema(admin_client):
    schema = admin_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = schema.json()["paths"]
    for path in ("/api/v1/auth/token/", "/api/v1/auth/login/"):
        assert "429" in paths[path]["post"]["responses"], path

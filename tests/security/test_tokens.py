"""Account security (issue 18, item 5): API tokens hashed at rest, several per user with a name,
an expiry and a last-used time; a user's tokens and sessions revoked when the password changes or
the account is deactivated; key-bearing responses not cached; the Django admin refuses a staff
account's escalation."""

from __future__ import annotations

import hashlib
import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token as LegacyToken
from rest_framework.test import APIClient

from annotation.enums import Role
from annotation.services.users import token_for
from flywheel.accounts.models import ApiToken
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-horse-battery"


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def session_client(user) -> APIClient:
    """A browser-like client signed in through the session login (CSRF enforced)."""
    client = APIClient(enforce_csrf_checks=True)
    client.get("/api/v1/auth/csrf/")
    response = client.post(
        "/api/v1/auth/login/",
        {"username": user.username, "password": PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200, response.content
    return client


def csrf(client: APIClient) -> str:
    return client.cookies["csrftoken"].value


def test_the_database_holds_the_keys_digest_not_the_key(make_user):
    user = make_user(Role.ANNOTATOR)
    response = token_client(token_for(user=user)).post(
        "/api/v1/auth/tokens/", {"name": "nightly export"}, format="json"
    )
    assert response.status_code == 201, response.content
    key = response.json()["key"]
    assert key.startswith("fw_") and len(key) >= 40
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        dump = repr(cursor.fetchall())
    assert key not in dump
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:10] and token.name == "nightly export"
    assert token_client(key).get("/api/v1/me/").json()["username"] == user.username
    # Shown once: the list never carries a key.
    listed = token_client(key).get("/api/v1/auth/tokens/").json()["results"]
    assert {t["name"] for t in listed} == {"nightly export", "password sign-in"}
    assert all("key" not in t and "digest" not in t for t in listed)


def test_password_sign_in_still_returns_a_token_that_authenticates_and_expires_by_setting(
    make_user, settings
):
    settings.FLYWHEEL_SIGN_IN_TOKEN_DAYS = 7
    user = make_user(Role.REVIEWER)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    token = ApiToken.objects.get(user=user)
    assert token.name == "password sign-in"
    lifetime = token.expires_at - token.created_at
    assert timedelta(days=7) - timedelta(seconds=5) < lifetime <= timedelta(days=7)
    assert token_client(response.json()["token"]).get("/api/v1/me/").status_code == 200


def test_a_user_holds_several_named_tokens_each_working(make_user):
    user = make_user(Role.ANNOTATOR)
    client = token_client(token_for(user=user))
    keys = [
        client.post("/api/v1/auth/tokens/", {"name": f"script {i}"}, format="json").json()["key"]
        for i in range(3)
    ]
    assert len(set(keys)) == 3
    assert all(token_client(k).get("/api/v1/me/").status_code == 200 for k in keys)
    assert ApiToken.objects.filter(user=user).count() == 4


def test_expiry_is_bounded_and_defaults_from_the_setting(make_user, settings):
    settings.FLYWHEEL_API_TOKEN_DAYS = 10
    settings.FLYWHEEL_API_TOKEN_MAX_DAYS = 30
    client = token_client(token_for(user=make_user(Role.ANNOTATOR)))
    default = client.post("/api/v1/auth/tokens/", {"name": "a"}, format="json").json()
    lifetime = ApiToken.objects.get(pk=default["id"])
    assert (lifetime.expires_at - lifetime.created_at).days == 10
    too_long = client.post(
        "/api/v1/auth/tokens/", {"name": "b", "expires_in_days": 31}, format="json"
    )
    assert too_long.status_code == 400
    assert "expires_in_days" in too_long.json()["errors"]
    for bad in (0, -1, "x", 10**30):
        response = client.post(
            "/api/v1/auth/tokens/", {"name": "c", "expires_in_days": bad}, format="json"
        )
        assert response.status_code == 400, (bad, response.content)


def test_an_expired_token_is_refused_with_401(make_user):
    user = make_user(Role.ANNOTATOR)
    key, other = token_for(user=user), token_for(user=user)
    client = token_client(key)
    assert client.get("/api/v1/me/").status_code == 200
    past = timezone.now() - timedelta(seconds=1)
    ApiToken.objects.filter(digest=hashlib.sha256(key.encode()).hexdigest()).update(
        created_at=past - timedelta(days=1), expires_at=past
    )
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    listed = token_client(other).get("/api/v1/auth/tokens/").json()["results"]
    assert [t["prefix"] for t in listed] == [other[:10]]  # nor is it listed


def test_last_used_is_stamped_at_most_once_a_minute(make_user):
    key = token_for(user=make_user(Role.ANNOTATOR))
    token = ApiToken.objects.get(digest=hashlib.sha256(key.encode()).hexdigest())
    assert token.last_used_at is None
    client = token_client(key)
    client.get("/api/v1/me/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=30)
    client.get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at == first  # within the minute: not written again
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=2)
    assert timezone.now() - token.last_used_at < timedelta(seconds=30)


def test_revoking_a_token_by_id_stops_it_and_only_it(make_user):
    user = make_user(Role.ANNOTATOR)
    keep = token_client(token_for(user=user))
    made = keep.post("/api/v1/auth/tokens/", {"name": "ci"}, format="json").json()
    assert keep.delete(f"/api/v1/auth/tokens/{made['id']}/").status_code == 204
    assert token_client(made["key"]).get("/api/v1/me/").status_code == 401
    assert keep.get("/api/v1/me/").status_code == 200
    assert not ApiToken.objects.filter(pk=made["id"]).exists()


def test_a_user_cannot_list_or_revoke_anothers_token_but_an_admin_can(make_user):
    alice, bob = make_user(Role.ANNOTATOR), make_user(Role.ANNOTATOR)
    alice_client = token_client(token_for(user=alice))
    bob_token = ApiToken.objects.get(
        pk=token_client(token_for(user=bob))
        .post("/api/v1/auth/tokens/", {"name": "bob's"}, format="json")
        .json()["id"]
    )
    assert alice_client.delete(f"/api/v1/auth/tokens/{bob_token.pk}/").status_code == 404
    assert alice_client.get(f"/api/v1/auth/tokens/?user={bob.pk}").status_code == 403
    assert alice_client.get("/api/v1/auth/tokens/?all=true").status_code == 403
    assert ApiToken.objects.filter(pk=bob_token.pk).exists()

    admin = token_client(token_for(user=make_user(Role.ADMIN)))
    listed = admin.get(f"/api/v1/auth/tokens/?user={bob.pk}").json()["results"]
    assert {t["name"] for t in listed} == {"bob's", "password sign-in"}
    assert {
        t["username"] for t in admin.get("/api/v1/auth/tokens/?all=true").json()["results"]
    } >= {
        alice.username,
        bob.username,
    }
    assert admin.delete(f"/api/v1/auth/tokens/{bob_token.pk}/").status_code == 204
    assert not ApiToken.objects.filter(pk=bob_token.pk).exists()


def test_token_responses_are_sent_with_no_store(make_user):
    user = make_user(Role.ANNOTATOR)
    signed_in = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    created = token_client(signed_in.json()["token"]).post(
        "/api/v1/auth/tokens/", {"name": "x"}, format="json"
    )
    for response in (signed_in, created):
        assert "no-store" in response["Cache-Control"], response["Cache-Control"]


def test_a_password_change_revokes_every_token_and_every_other_session(make_user):
    user = make_user(Role.ANNOTATOR)
    keys = [token_for(user=user) for _ in range(2)]
    browser, other_browser = session_client(user), session_client(user)
    response = browser.post(
        "/api/v1/auth/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=csrf(browser),
    )
    assert response.status_code == 204, response.content
    assert all(token_client(k).get("/api/v1/me/").status_code == 401 for k in keys)
    assert not ApiToken.objects.filter(user=user).exists()
    assert other_browser.get("/api/v1/me/").status_code == 401
    assert browser.get("/api/v1/me/").status_code == 200  # the session that changed it stays
    signed_in = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": NEW_PASSWORD}, format="json"
    )
    assert signed_in.status_code == 200


def test_a_password_change_needs_the_current_password_and_a_valid_new_one(make_user):
    user = make_user(Role.ANNOTATOR)
    key = token_for(user=user)
    client = token_client(key)
    wrong = client.post(
        "/api/v1/auth/password/",
        {"old_password": "nope", "new_password": NEW_PASSWORD},
        format="json",
    )
    assert wrong.status_code == 400 and "old_password" in wrong.json()["errors"]
    weak = client.post(
        "/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": "123"}, format="json"
    )
    assert weak.status_code == 400 and "new_password" in weak.json()["errors"]
    assert client.get("/api/v1/me/").status_code == 200  # nothing changed, nothing revoked


def test_a_password_set_anywhere_revokes_tokens_and_sessions(make_user):
    """The admin's form, ``manage.py changepassword`` and a shell all end in ``set_password`` and
    a save: the revocation does not depend on the REST view."""
    user = make_user(Role.ANNOTATOR)
    key = token_for(user=user)
    browser = session_client(user)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert token_client(key).get("/api/v1/me/").status_code == 401
    assert browser.get("/api/v1/me/").status_code == 401


def test_deactivation_revokes_tokens_and_sessions_and_reactivation_revives_none(make_user):
    user = make_user(Role.ANNOTATOR)
    admin = token_client(token_for(user=make_user(Role.ADMIN)))
    key = token_for(user=user)
    browser = session_client(user)
    response = admin.patch(f"/api/v1/users/{user.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert token_client(key).get("/api/v1/me/").status_code == 401
    assert browser.get("/api/v1/me/").status_code == 401
    assert not ApiToken.objects.filter(user=user).exists()
    refused = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert refused.status_code == 400

    assert admin.patch(f"/api/v1/users/{user.pk}/", {"is_active": True}, format="json").json()[
        "is_active"
    ]
    assert token_client(key).get("/api/v1/me/").status_code == 401
    assert browser.get("/api/v1/me/").status_code == 401


def test_an_admin_setting_a_password_revokes_and_nobody_deactivates_themselves(make_user):
    user = make_user(Role.REVIEWER)
    admin_user = make_user(Role.ADMIN)
    admin = token_client(token_for(user=admin_user))
    key = token_for(user=user)
    reset = admin.patch(f"/api/v1/users/{user.pk}/", {"password": NEW_PASSWORD}, format="json")
    assert reset.status_code == 200
    assert token_client(key).get("/api/v1/me/").status_code == 401
    itself = admin.patch(f"/api/v1/users/{admin_user.pk}/", {"is_active": False}, format="json")
    assert itself.status_code == 400
    reviewer = token_client(token_for(user=user))
    assert (
        reviewer.patch(f"/api/v1/users/{admin_user.pk}/", {"is_active": False}).status_code == 403
    )


def test_revoke_endpoint_revokes_the_token_the_request_is_made_with(make_user):
    user = make_user(Role.ANNOTATOR)
    key, other = token_for(user=user), token_for(user=user)
    assert token_client(key).post("/api/v1/auth/token/revoke/").status_code == 204
    assert token_client(key).get("/api/v1/me/").status_code == 401
    assert token_client(other).get("/api/v1/me/").status_code == 200


def test_sign_in_tokens_are_capped_oldest_first(make_user, settings):
    settings.FLYWHEEL_SIGN_IN_TOKENS_KEPT = 3
    user = make_user(Role.ANNOTATOR)
    keys = [token_for(user=user) for _ in range(5)]
    assert [token_client(k).get("/api/v1/me/").status_code for k in keys] == [
        401,
        401,
        200,
        200,
        200,
    ]


def test_legacy_plain_text_tokens_are_hashed_and_keep_working(make_user):
    user = make_user(Role.ANNOTATOR)
    legacy = LegacyToken.objects.create(user=user)
    migration = importlib.import_module("flywheel.accounts.migrations.0002_hash_legacy_tokens")
    migration.hash_legacy_tokens(apps, None)
    assert not LegacyToken.objects.exists()
    token = ApiToken.objects.get(user=user)
    assert token.name == "legacy token" and token.digest != legacy.key
    assert token.expires_at > timezone.now() + timedelta(days=300)
    assert token_client(legacy.key).get("/api/v1/me/").status_code == 200


# --- The Django admin: a staff account cannot escalate -------------------------------------


@pytest.fixture
def staff(make_user):
    """An app admin (staff) who may view, add and change users in the Django admin: the
    permissions that let the stock UserAdmin grant superuser."""
    user = make_user(Role.ADMIN)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="auth", codename__in=["view_user", "change_user", "add_user"]
        )
    )
    return get_user_model().objects.get(pk=user.pk)


def admin_browser(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": user.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302, response.content[:500]
    return client


def change_form(client: Client, user) -> dict:
    """The change form's current values, as the browser would post them back."""
    page = client.get(f"/admin/auth/user/{user.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None and not isinstance(value, list)
    }
    data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    data["last_login_0"] = data["last_login_1"] = ""
    data["date_joined_0"], data["date_joined_1"] = "2024-01-01", "00:00:00"
    return data


def test_a_staff_account_cannot_make_itself_superuser_or_grant_staff(staff, make_user):
    client = admin_browser(staff)
    page = client.get(f"/admin/auth/user/{staff.pk}/change/")
    form = page.context["adminform"].form
    assert not {"is_superuser", "is_staff", "groups", "user_permissions"} & set(form.fields)

    data = change_form(client, staff)
    data |= {"is_superuser": "on", "is_staff": "on", "first_name": "Eve"}
    data["user_permissions"] = [str(p.pk) for p in Permission.objects.all()[:5]]
    response = client.post(f"/admin/auth/user/{staff.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    staff.refresh_from_db()
    assert staff.first_name == "Eve"  # the form was saved ...
    assert not staff.is_superuser  # ... without the privileges
    assert staff.user_permissions.count() == 3

    annotator = make_user(Role.ANNOTATOR)
    data = change_form(client, annotator) | {"is_staff": "on", "is_superuser": "on"}
    assert client.post(f"/admin/auth/user/{annotator.pk}/change/", data).status_code == 302
    annotator.refresh_from_db()
    assert not annotator.is_staff and not annotator.is_superuser


def test_a_staff_account_cannot_edit_or_delete_a_superuser(staff):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client = admin_browser(staff)
    page = client.get(f"/admin/auth/user/{root.pk}/change/")
    assert page.status_code == 200  # view only
    assert b'name="_save"' not in page.content
    token = client.cookies["csrftoken"].value
    forged = client.post(
        f"/admin/auth/user/{root.pk}/change/",
        {"username": "owned", "csrfmiddlewaretoken": token},
    )
    assert forged.status_code == 403
    password = client.post(
        f"/admin/auth/user/{root.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert password.status_code == 403
    root.refresh_from_db()
    assert root.username == "root" and root.check_password(PASSWORD)


def test_a_superuser_still_grants_privileges_in_the_admin(make_user):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    target = make_user(Role.ANNOTATOR)
    client = admin_browser(root)
    data = change_form(client, target) | {"is_staff": "on"}
    assert client.post(f"/admin/auth/user/{target.pk}/change/", data).status_code == 302
    target.refresh_from_db()
    assert target.is_staff


def test_the_admins_password_form_revokes_the_users_tokens(make_user):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    target = make_user(Role.ANNOTATOR)
    key = token_for(user=target)
    client = admin_browser(root)
    response = client.post(
        f"/admin/auth/user/{target.pk}/password/",
        {
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert token_client(key).get("/api/v1/me/").status_code == 401

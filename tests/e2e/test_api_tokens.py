"""The API tokens page (issue 18, item 5): a signed-in user creates a named token, sees its key
once, uses it from a script, and revokes it in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient

from annotation.services.users import user_create
from flywheel.accounts.models import ApiToken

from .test_sign_in import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_user_creates_a_token_sees_its_key_once_and_revokes_it(live_server, page: Page):
    user = user_create(username="tokenuser", password=PASSWORD, role="annotator")
    page.goto(live_server.url + "/")
    sign_in(page, "tokenuser", PASSWORD)
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
    expect(page.get_by_text("No tokens.")).to_be_visible()

    page.get_by_label("Name").fill("nightly export")
    page.get_by_label("Expires after (days)").fill("7")
    page.get_by_role("button", name="Create token").click()
    key = page.get_by_test_id("new-token-key").inner_text()
    assert key.startswith("fw_")
    token = ApiToken.objects.get(user=user)
    assert token.name == "nightly export" and key not in token.digest

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").json()["username"] == "tokenuser"

    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("new-token-key")).to_have_count(0)  # shown once
    row = page.locator(f"tr[data-token-id='{token.pk}']")
    expect(row).to_contain_text("nightly export")
    expect(row).to_contain_text(key[:10])
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke nightly export").click()
    expect(page.get_by_text("Revoked “nightly export”.")).to_be_visible()
    expect(page.get_by_text("No tokens.")).to_be_visible()
    assert client.get("/api/v1/me/").status_code == 401

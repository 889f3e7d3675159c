"""Signing in from the home page: annotators are not staff, so /admin/login/ is no use to them."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.rankings import Submission, ranking_submit
from annotation.services.users import user_create
from tests.annotation.ranking_helpers import assignment_next

# transaction=True: the live server answers from its own thread and connection, so the rows the
# test sets up must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-staple"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "signed-in.png"


def api_status(page: Page, path: str, *, method: str = "GET", json: dict | None = None) -> int:
    """Status of a same-origin fetch from the page: its cookies, no CSRF header."""
    return page.evaluate(
        """async ([path, method, json]) => {
            const init = { method, credentials: "same-origin", headers: {} };
            if (json !== null) {
                init.headers["Content-Type"] = "application/json";
                init.body = JSON.stringify(json);
            }
            return (await fetch(path, init)).status;
        }""",
        [path, method, json],
    )


def sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def rows(k: int, n: int) -> list[tuple[int, dict]]:
    """``n`` candidate-set import rows of ``k`` responses, numbered like lines of a file."""
    return [
        (i, {"prompt": f"Prompt {i}", "candidates": [{"text": f"r{i}.{j}"} for j in range(k)]})
        for i in range(1, n + 1)
    ]


def rank_one_set(project, annotator) -> None:
    assignment = assignment_next(project=project, annotator=annotator)
    assert assignment is not None
    members = assignment.candidate_set.members.all()
    ranking = [[member.candidate_id] for member in members]
    ranking_submit(
        assignment_id=assignment.pk, annotator=annotator, submission=Submission(ranking=ranking)
    )


def test_annotator_signs_in_sees_projects_stays_signed_in_and_signs_out(live_server, page: Page):
    annotator = user_create(username="ann", password=PASSWORD, role="annotator")
    haiku = project_create(name="Haiku quality", k=4)
    candidate_sets_import(project=haiku, rows=rows(4, 2))
    rank_one_set(haiku, annotator)
    # A name with markup: it must show as text, never become an element.
    project_create(name="Safety <img src=x onerror=alert(1)>", k=2)

    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    sign_in(page, "ann", "wrong password")
    expect(page.get_by_role("alert")).to_have_text("Unable to sign in with these credentials.")
    expect(page.get_by_label("Password")).to_be_focused()  # to type it again
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    assert api_status(page, "/api/v1/me/") == 401

    # The page now holds a csrftoken cookie, but a login POST without the header is refused,
    # right password or not: session sign-in is CSRF-protected.
    credentials = {"username": "ann", "password": PASSWORD}
    assert api_status(page, "/api/v1/auth/login/", method="POST", json=credentials) == 403
    assert api_status(page, "/api/v1/me/") == 401

    sign_in(page, "ann", PASSWORD)
    expect(page.get_by_text("Signed in as ann (annotator)")).to_be_visible()
    expect(page.locator("#signed-in-as")).to_be_focused()
    projects = page.locator(".project-list li .project-summary")
    expect(projects).to_have_text(
        [
            "Haiku quality K = 4 · 1 / 2 sets complete · you ranked 1",
            "Safety <img src=x onerror=alert(1)> K = 2 · 0 / 0 sets complete · you ranked 0",
        ]
    )
    expect(page.locator("main img")).to_have_count(0)
    # Annotators can start ranking each project; the link names it.
    expect(page.get_by_role("link", name=re.compile("^Start ranking"))).to_have_count(2)
    expect(page.get_by_role("link", name="API docs")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_be_hidden()  # annotators have no admin
    if os.environ.get("FLYWHEEL_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT)

    page.reload()
    expect(page.get_by_text("Signed in as ann (annotator)")).to_be_visible()
    expect(projects).to_have_count(2)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.get_by_text(re.compile("Signed in as"))).to_have_count(0)
    expect(page.get_by_role("heading", name="Projects")).to_be_hidden()
    assert api_status(page, "/api/v1/me/") == 401


def test_admin_sees_the_admin_link_and_no_personal_ranking_count(live_server, page: Page):
    user_create(username="ada", password=PASSWORD, role="admin")
    project_create(name="Haiku quality", k=4)

    page.goto(live_server.url + "/")
    sign_in(page, "ada", PASSWORD)

    expect(page.get_by_text("Signed in as ada (admin)")).to_be_visible()
    expect(page.locator(".project-list li .project-summary")).to_have_text(
        ["Haiku quality K = 4 · 0 / 0 sets complete"]
    )
    expect(page.get_by_role("link", name="Admin")).to_have_attribute("href", "/admin/")

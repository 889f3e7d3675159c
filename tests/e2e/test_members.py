"""Project membership in a real browser (issue 18, item 1): an admin adds people to a project on
its settings page (a refused name is shown at the field and adds no one), changes a role and
removes a member; the annotator sees only the projects they are a member of."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from annotation.models import ProjectMembership
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create
from tests.conftest import set_rows

from .support import PASSWORD, sign_in
from .test_accessibility import AXE, SCREENSHOTS, axe_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.members_only]


def test_an_admin_adds_and_removes_members_and_the_annotator_sees_only_theirs(
    live_server, page: Page
):
    assert PASSWORD
    user_create(username="root", password=PASSWORD, role="admin")
    for name in ("ann1", "ann2"):
        user_create(username=name, password=PASSWORD, role="annotator")
    user_create(username="rev", password=PASSWORD, role="reviewer")
    mine = project_create(name="Helpfulness", k=2)
    candidate_sets_import(project=mine, rows=set_rows(2, 2))
    project_create(name="Someone else's", k=2)

    sign_in(page, live_server.url, "root")
    page.goto(f"{live_server.url}/#/projects/{mine.pk}/settings")
    members = page.get_by_role("region", name="Members")
    expect(members).to_contain_text("No members yet")
    users = members.get_by_label("Usernames (separated by commas or new lines)")
    users.fill("ann1, nobody")
    members.get_by_role("button", name="Add members").click()
    expect(users).to_have_accessible_description("No such user: nobody.")
    assert not ProjectMembership.objects.exists()

    users.fill("ann1\nann2, rev")
    members.get_by_role("button", name="Add members").click()
    expect(members.get_by_test_id("members-status")).to_have_text(
        "Added ann1, ann2, rev as annotator."
    )
    table = members.get_by_role("table", name="Members")
    expect(table.locator("tbody tr")).to_have_count(3)
    members.get_by_label("Role of rev in this project").select_option("reviewer")
    expect(members.get_by_test_id("members-status")).to_have_text(
        "rev is now a reviewer in this project."
    )
    expect(members.get_by_label("Role of ann1 in this project")).to_be_disabled()
    members.get_by_role("button", name="Remove ann2").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    assert dict(ProjectMembership.objects.values_list("user__username", "role")) == {
        "ann1": "annotator",
        "rev": "reviewer",
    }
    if AXE.exists():
        assert axe_violations(page) == []
    if os.environ.get("FLYWHEEL_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        members.screenshot(path=str(SCREENSHOTS / "members.png"))
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server.url, "ann1")
    expect(page.get_by_role("link", name="Start ranking: Helpfulness")).to_be_visible()
    expect(page.get_by_text("Someone else's")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server.url, "rev")
    expect(page.get_by_role("link", name="Dashboard: Helpfulness")).to_be_visible()
    expect(page.get_by_role("link", name="Start ranking: Helpfulness")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server.url, "ann2")
    expect(page.get_by_text("No projects yet.")).to_be_visible()

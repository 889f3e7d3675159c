"""The admin's set-up in a real browser (issue 18, item 4): create and edit a project with a
guidelines preview and the server's refusals at their fields; upload prompts and candidate sets
with each bad row named next to the upload; create an account; register a model directory.
Each page passes axe. (Snapshots and their export links: test_dashboards.py.)"""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from annotation.models import CandidateSet, Project, Prompt
from annotation.services.projects import project_create
from annotation.services.users import user_create
from training.models import ModelVersion
from training.services.registry import model_version_register

from .support import PASSWORD, sign_in
from .test_accessibility import AXE, axe_violations

pytestmark = pytest.mark.django_db(transaction=True)


def jsonl(*rows: object) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def test_an_admin_creates_and_edits_a_project_with_server_errors_at_their_fields(
    live_server, page: Page
):
    user_create(username="root", password=PASSWORD, role="admin")
    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="New project").click()
    expect(page.get_by_role("heading", name="Create a project", level=1)).to_be_visible()

    page.get_by_label("Name").fill("Helpfulness")
    k = page.get_by_label("Responses per set (K)")
    k.fill("12")
    page.get_by_role("button", name="Create project").click()
    expect(k).to_have_accessible_description(re.compile("less than or equal to 9"))
    assert not Project.objects.exists()

    k.fill("3")
    page.get_by_label("Annotators per set (overlap)").fill("2")
    guidelines = page.get_by_label("Guidelines (markdown)")
    guidelines.fill(
        "Rank the **best** first.\n\n<script>window.pwned = 1</script>\n\n- Correct beats fluent"
    )
    preview = page.get_by_role("region", name="Preview")
    expect(preview.locator("strong")).to_have_text("best")
    expect(preview.locator("li")).to_have_text("Correct beats fluent")
    expect(preview).to_contain_text("<script>")  # shown as text, never run
    assert page.evaluate("() => window.pwned") is None
    page.get_by_label("Flags").fill("unsafe, off-topic")
    page.get_by_role("button", name="Add a rating dimension").click()
    dimension = page.get_by_role("group", name="Dimension 1")
    dimension.get_by_label("Name").fill("clarity")
    dimension.get_by_label("Max").fill("7")
    page.get_by_label("Allow ties").uncheck()
    page.get_by_label("Lease length (minutes)").fill("10")
    page.get_by_label("Gold rate").fill("0.1")
    page.get_by_role("button", name="Create project").click()

    expect(page.get_by_role("heading", name="Helpfulness", level=1)).to_be_visible()
    project = Project.objects.get()
    assert page.url.endswith(f"#/projects/{project.pk}/settings")
    assert (project.k, project.annotations_per_set, project.allow_ties) == (3, 2, False)
    assert (project.lease_seconds, project.gold_rate) == (600, 0.1)
    assert project.criteria == {
        "flags": ["unsafe", "off-topic"],
        "ratings": [{"name": "clarity", "min": 1, "max": 7}],
    }
    assert project.guidelines.startswith("Rank the **best** first.")

    # Edit: K is fixed; a gold rate over the server's bound is refused at its field.
    expect(page.get_by_label("Responses per set (K)")).to_be_disabled()
    gold = page.get_by_label("Gold rate")
    gold.fill("0.9")
    page.get_by_role("button", name="Save settings").click()
    expect(gold).to_have_accessible_description(re.compile("less than or equal to 0.5"))
    if AXE.exists():
        assert axe_violations(page) == []
    gold.fill("0.2")
    page.get_by_label("Guidelines (markdown)").fill("Be *kind*.")
    page.get_by_role("button", name="Remove dimension 1").click()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    project.refresh_from_db()
    assert (project.gold_rate, project.guidelines) == (0.2, "Be *kind*.")
    assert project.criteria["ratings"] == []

    page.get_by_role("link", name="Projects").first.click()
    page.get_by_role("link", name="Settings and import: Helpfulness").click()
    expect(page.get_by_label("Gold rate")).to_have_value("0.2")


def test_an_admin_uploads_prompts_and_candidate_sets_and_sees_each_bad_row(live_server, page: Page):
    user_create(username="root", password=PASSWORD, role="admin")
    project = project_create(name="Imports", k=2)
    sign_in(page, live_server.url, "root")
    page.goto(f"{live_server.url}/#/projects/{project.pk}/settings")
    expect(page.get_by_test_id("project-counts")).to_contain_text("0 prompts")

    upload = page.get_by_label("File (JSON list or JSON Lines)")
    bad = jsonl({"prompt": "Name a prime."}, {"prompt": ""}, {"prompt": "x", "colour": "red"})
    upload.set_input_files({"name": "p.jsonl", "mimeType": "application/x-ndjson", "buffer": bad})
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").filter(has_text="row(s) are invalid")).to_contain_text(
        "2 of 3"
    )
    expect(page.locator("li[data-row='2']")).to_contain_text("Row 2, prompt: Must be a non-empty")
    expect(page.locator("li[data-row='3']")).to_contain_text("colour")
    assert not Prompt.objects.exists()
    if AXE.exists():
        assert axe_violations(page) == []

    good = jsonl({"prompt": "Name a prime."}, {"prompt": "Name a colour."}, {"prompt": "Why?"})
    upload.set_input_files({"name": "p.jsonl", "mimeType": "application/x-ndjson", "buffer": good})
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").filter(has_text="Imported 3 prompts.")).to_be_visible()
    expect(page.locator(".import-errors")).to_have_count(0)
    expect(page.get_by_test_id("project-counts")).to_contain_text("3 prompts")

    page.get_by_label("Candidate sets (a prompt with exactly 2 responses)").check()
    rows = [
        {"prompt": "Pick one.", "candidates": [{"text": "A"}, {"text": "B"}]},
        {"prompt": "Pick again.", "candidates": [{"text": "only one"}]},
    ]
    upload.set_input_files(
        {"name": "sets.json", "mimeType": "application/json", "buffer": json.dumps(rows).encode()}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("li[data-row='2']")).to_contain_text("Row 2, candidates")
    assert not CandidateSet.objects.exists()

    rows[1]["candidates"].append({"text": "another", "model": "m2"})
    upload.set_input_files(
        {"name": "sets.json", "mimeType": "application/json", "buffer": json.dumps(rows).encode()}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").filter(has_text="Imported 2 candidate sets.")).to_be_visible()
    expect(page.get_by_test_id("project-counts")).to_contain_text("2 candidate sets")
    assert CandidateSet.objects.filter(prompt__project=project).count() == 2


def test_an_admin_creates_an_account_that_can_sign_in(live_server, page: Page, browser):
    user_create(username="root", password=PASSWORD, role="admin")
    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    expect(page.locator("tr", has_text="root")).to_contain_text("admin")

    page.get_by_label("Username").fill("newbie")
    password = page.get_by_label("Password", exact=True)
    password.fill("12345")
    page.get_by_label("Role").select_option("reviewer")
    page.get_by_role("button", name="Create account").click()
    expect(password).to_have_accessible_description(re.compile("too short|entirely numeric"))
    assert not User.objects.filter(username="newbie").exists()
    if AXE.exists():
        assert axe_violations(page) == []

    password.fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status").filter(has_text="Created newbie (reviewer).")).to_be_visible()
    expect(page.locator("tr", has_text="newbie")).to_contain_text("reviewer")

    other = browser.new_context(viewport={"width": 1000, "height": 720})
    try:
        newbie = other.new_page()
        sign_in(newbie, live_server.url, "newbie")
        expect(newbie.get_by_role("link", name="Datasets")).to_be_visible()
        expect(newbie.get_by_role("link", name="Users")).to_have_count(0)
    finally:
        other.close()


def test_an_admin_deactivates_an_account_and_sets_a_new_password(live_server, page: Page, browser):
    """Deactivating signs the user out everywhere (their session is revoked); a new password
    is validated at its field, and once set the user signs in with it, not the old one."""
    user_create(username="root", password=PASSWORD, role="admin")
    user_create(username="leaver", password=PASSWORD, role="annotator")
    other = browser.new_context(viewport={"width": 1000, "height": 720})
    try:
        leaver = other.new_page()
        sign_in(leaver, live_server.url, "leaver")
        sign_in(page, live_server.url, "root")
        page.get_by_role("link", name="Users").click()
        row = page.locator("tr", has_text="leaver")
        row.get_by_role("button", name="Deactivate leaver").click()
        expect(page.get_by_test_id("users-status")).to_have_text(
            "Deactivated leaver: their tokens and sessions are revoked."
        )
        expect(row.locator("td").nth(3)).to_have_text("no")
        assert not User.objects.get(username="leaver").is_active
        leaver.reload()
        expect(leaver.get_by_role("button", name="Sign in")).to_be_visible()

        row.get_by_role("button", name="Reactivate leaver").click()
        expect(row.locator("td").nth(3)).to_have_text("yes")
        row.get_by_role("button", name="Set password for leaver").click()
        new_password = row.get_by_label("New password for leaver")
        new_password.fill("123")
        row.get_by_role("button", name="Save password").click()
        expect(new_password).to_have_accessible_description(re.compile("too short|numeric"))
        assert User.objects.get(username="leaver").check_password(PASSWORD)
        if AXE.exists():
            assert axe_violations(page) == []
        new_password.fill("a-brand-new-passphrase")
        row.get_by_role("button", name="Save password").click()
        expect(page.get_by_test_id("users-status")).to_have_text(
            "Set a new password for leaver: their tokens and sessions are revoked."
        )
        assert User.objects.get(username="leaver").check_password("a-brand-new-passphrase")
    finally:
        other.close()


def test_an_admin_registers_a_model_directory_with_refusals_at_their_fields(
    live_server, page: Page, tiny_model_dir, tmp_path, settings
):
    settings.FLYWHEEL_MODEL_ROOTS = [tiny_model_dir]
    user_create(username="root", password=PASSWORD, role="admin")
    base = model_version_register(name="tiny-base", path=str(tiny_model_dir), kind="base")
    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="Models").click()
    page.get_by_text("Register a model", exact=True).click()
    form = page.get_by_role("form", name="Register a model")

    name, path = form.get_by_label("Name"), form.get_by_label("Directory on the server")
    name.fill("tiny-sft")
    path.fill(str(tmp_path / "elsewhere"))
    form.get_by_role("button", name="Register model").click()
    expect(path).to_have_accessible_description(re.compile("outside the model roots"))

    path.fill(str(tiny_model_dir))
    name.fill("tiny-base")
    form.get_by_role("button", name="Register model").click()
    expect(name).to_have_accessible_description("A model with this name exists.")
    if AXE.exists():
        assert axe_violations(page) == []

    name.fill("tiny-sft")
    form.get_by_label("Kind").select_option("sft")
    form.get_by_label("Parent (optional)").select_option(str(base.pk))
    form.get_by_role("button", name="Register model").click()
    expect(form.get_by_role("status")).to_contain_text("Registered tiny-sft as model #")
    registered = ModelVersion.objects.get(name="tiny-sft")
    expect(form.get_by_role("status")).to_have_text(
        f"Registered tiny-sft as model #{registered.pk}."
    )
    assert (registered.kind, registered.parent_id) == ("sft", base.pk)
    expect(page.locator(f"#model-{registered.pk}")).to_contain_text("tiny-sft")

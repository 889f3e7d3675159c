"""Management commands mirror the admin actions and use the same validation."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from annotation.models import CandidateSet, Project, Prompt
from annotation.roles import user_role

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> str:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue() + err.getvalue()


def test_create_project_import_prompts_and_sets(tmp_path):
    output = run(
        "create_project",
        "Night shift",
        "--k",
        "2",
        "--overlap",
        "2",
        "--criteria",
        '{"flags": ["unsafe"]}',
    )
    project = Project.objects.get(name="Night shift")
    assert f"id {project.pk}" in output
    assert (project.k, project.annotations_per_set, project.criteria["flags"]) == (2, 2, ["unsafe"])

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join(json.dumps({"prompt": f"q{i}"}) for i in range(25)))
    output = run("import_prompts", project.slug, str(prompts))
    assert "Imported 25 prompt(s)" in output
    assert "Importing" in output  # the progress bar
    assert Prompt.objects.filter(project=project).count() == 25

    sets = tmp_path / "sets.json"
    sets.write_text(json.dumps([{"prompt": "q", "candidates": [{"text": "a"}, {"text": "b"}]}] * 3))
    assert "Imported 3 candidate set(s)" in run("import_candidate_sets", str(project.pk), str(sets))
    assert CandidateSet.objects.filter(project=project).count() == 3


def test_import_command_reports_bad_rows_and_writes_nothing(tmp_path, make_project):
    project = make_project()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"prompt": ""}\n')
    with pytest.raises(CommandError, match=r"rows\[2\]\.prompt: Must be a non-empty string"):
        run("import_prompts", str(project.pk), str(bad))
    assert Prompt.objects.count() == 0


def test_import_command_unknown_project_and_missing_file(tmp_path, make_project):
    with pytest.raises(CommandError, match="No project"):
        run("import_prompts", "nope", str(tmp_path / "x.jsonl"))
    with pytest.raises(CommandError, match="No such file"):
        run("import_prompts", str(make_project().pk), str(tmp_path / "missing.jsonl"))


def test_create_project_refuses_bad_k():
    with pytest.raises(CommandError, match="k: Must be an integer from 2 to 9"):
        run("create_project", "P", "--k", "12")
    assert Project.objects.count() == 0


def test_create_user_from_env_password(monkeypatch):
    monkeypatch.setenv("FLYWHEEL_PASSWORD", "a-strong-passphrase")
    assert "Created reviewer rev" in run("create_user", "rev", "--role", "reviewer")
    user = get_user_model().objects.get(username="rev")
    assert user_role(user) == "reviewer" and user.check_password("a-strong-passphrase")
    monkeypatch.setenv("FLYWHEEL_PASSWORD", "123")
    with pytest.raises(CommandError, match="password"):
        run("create_user", "weak", "--role", "annotator")
    assert not get_user_model().objects.filter(username="weak").exists()


@pytest.mark.members_only
def test_seed_demo_is_idempotent():
    first = run("seed_demo", "--no-tinyworld")
    counts = (
        get_user_model().objects.count(),
        Project.objects.count(),
        CandidateSet.objects.count(),
    )
    second = run("seed_demo", "--no-tinyworld")
    assert counts == (
        get_user_model().objects.count(),
        Project.objects.count(),
        CandidateSet.objects.count(),
    )
    assert counts[0] == 4 and counts[1] == 1 and counts[2] >= 8
    assert "annotator1" in first and first == second
    showcase = Project.objects.get(slug="showcase")
    assert showcase.k == 4 and showcase.guidelines
    # the demo's annotators and reviewer are members of the showcase (the admin needs none)
    members = dict(showcase.memberships.values_list("user__username", "role"))
    assert members == {
        "annotator1": "annotator",
        "annotator2": "annotator",
        "reviewer": "reviewer",
    }

"""Bulk import of prompts and candidate sets: JSON list, JSON Lines, file upload; row-by-row
validation where one bad row refuses the batch and nothing is written."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import Candidate, CandidateSet, CandidateSetMember, Prompt
from training.models import ModelKind, ModelVersion

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Prompt.objects.count(),
        Candidate.objects.count(),
        CandidateSet.objects.count(),
        CandidateSetMember.objects.count(),
    )


def test_prompts_import_from_json_list(admin_client, make_project):
    project = make_project()
    rows = [
        {"prompt": "Say hi."},
        {
            "messages": [
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": "Name a prime."},
            ],
            "external_id": "q-1",
            "source": "seed",
            "metadata": {"topic": "math"},
        },
    ]
    response = admin_client.post(f"/api/v1/projects/{project.pk}/prompts/", rows, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 2
    first, second = Prompt.objects.filter(project=project).order_by("id")
    assert first.messages == [{"role": "user", "content": "Say hi."}]
    assert second.messages == rows[1]["messages"]
    assert (second.external_id, second.source, second.metadata) == (
        "q-1",
        "seed",
        {"topic": "math"},
    )


def test_prompts_import_from_jsonl_body(admin_client, make_project):
    project = make_project()
    body = "\n".join(json.dumps({"prompt": f"q{i}"}) for i in range(5)) + "\n\n"
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/prompts/", body, content_type="application/x-ndjson"
    )
    assert response.status_code == 201, response.json()
    assert Prompt.objects.filter(project=project).count() == 5


@pytest.mark.parametrize("as_list", [True, False])
def test_prompts_import_from_uploaded_file(admin_client, make_project, as_list):
    project = make_project()
    rows = [{"prompt": f"q{i}"} for i in range(3)]
    content = json.dumps(rows) if as_list else "\n".join(json.dumps(r) for r in rows)
    upload = SimpleUploadedFile("prompts.jsonl", content.encode(), "application/octet-stream")
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/prompts/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert Prompt.objects.filter(project=project).count() == 3


@pytest.mark.parametrize(
    ("row", "path", "message"),
    [
        ({}, "rows[2].prompt", "exactly one of"),
        (
            {"prompt": "a", "messages": [{"role": "user", "content": "b"}]},
            "rows[2].prompt",
            "exactly one of",
        ),
        ({"prompt": "   "}, "rows[2].prompt", "non-empty string"),
        ({"prompt": "x", "colour": "red"}, "rows[2].colour", "Unknown field"),
        ({"messages": []}, "rows[2].messages", "non-empty list"),
        (
            {"messages": [{"role": "robot", "content": "x"}]},
            "rows[2].messages[0].role",
            "Must be one of",
        ),
        (
            {"messages": [{"role": "user", "content": ""}]},
            "rows[2].messages[0].content",
            "non-empty string",
        ),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
            "rows[2].messages",
            "end with a user message",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "system", "content": "s"},
                    {"role": "user", "content": "q2"},
                ]
            },
            "rows[2].messages[1].role",
            "only be the first",
        ),
        ({"prompt": "x", "metadata": [1]}, "rows[2].metadata", "Must be an object"),
        ({"prompt": "x", "external_id": 7}, "rows[2].external_id", "Must be a string"),
        ("just a string", "rows[2]", "JSON object"),
    ],
)
def test_bad_prompt_row_is_named_and_nothing_is_written(
    admin_client, make_project, row, path, message
):
    project = make_project()
    rows = [{"prompt": "fine"}, row, {"prompt": "also fine"}]
    response = admin_client.post(f"/api/v1/projects/{project.pk}/prompts/", rows, format="json")
    assert response.status_code == 400
    body = response.json()
    assert path in body["errors"], body
    assert message in " ".join(body["errors"][path])
    assert "nothing was imported" in body["detail"]
    assert Prompt.objects.count() == 0


def test_jsonl_error_names_the_line_number(admin_client, make_project):
    project = make_project()
    body = '{"prompt": "a"}\n\n{"prompt": ""}\n'
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/prompts/", body, content_type="application/x-ndjson"
    )
    assert response.status_code == 400
    assert "rows[3].prompt" in response.json()["errors"]
    assert Prompt.objects.count() == 0


def test_malformed_jsonl_line_is_a_400_naming_the_line(admin_client, make_project):
    project = make_project()
    body = '{"prompt": "a"}\n{"prompt": \n'
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/prompts/", body, content_type="application/x-ndjson"
    )
    assert response.status_code == 400
    assert "Line 2" in response.json()["detail"]
    assert Prompt.objects.count() == 0


def test_empty_import_is_rejected(admin_client, make_project):
    project = make_project()
    response = admin_client.post(f"/api/v1/projects/{project.pk}/prompts/", [], format="json")
    assert response.status_code == 400
    assert "no rows" in response.json()["detail"]


def test_import_body_must_be_a_list(admin_client, make_project):
    project = make_project()
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/prompts/", {"prompt": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "JSON list" in response.json()["detail"]


def test_duplicate_external_id_in_batch_and_in_project_is_rejected(admin_client, make_project):
    project = make_project()
    url = f"/api/v1/projects/{project.pk}/prompts/"
    rows = [{"prompt": "a", "external_id": "x"}, {"prompt": "b", "external_id": "x"}]
    response = admin_client.post(url, rows, format="json")
    assert response.status_code == 400
    assert "rows[2].external_id" in response.json()["errors"]
    assert admin_client.post(url, rows[:1], format="json").status_code == 201
    again = admin_client.post(url, [{"prompt": "c", "external_id": "x"}], format="json")
    assert again.status_code == 400
    assert "exists" in again.json()["errors"]["rows[1].external_id"][0]
    assert Prompt.objects.count() == 1


def test_candidate_sets_import_writes_prompts_candidates_and_sets(admin_client, make_project):
    project = make_project(k=3)
    ModelVersion.objects.create(name="policy-v1", kind=ModelKind.POLICY)
    rows = [
        {
            "prompt": "Explain gravity.",
            "candidates": [
                {"text": "Mass attracts mass.", "model": "policy-v1"},
                {"text": "Things fall.", "model": "gpt-x"},
                {"text": "Spacetime curves."},
            ],
            "round": 2,
        }
    ]
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/candidate-sets/", rows, format="json"
    )
    assert response.status_code == 201, response.json()
    candidate_set = CandidateSet.objects.get(pk=response.json()["ids"][0])
    assert candidate_set.round == 2
    members = list(candidate_set.members.select_related("candidate", "candidate__model_version"))
    assert [m.candidate.text for m in members] == [c["text"] for c in rows[0]["candidates"]]
    assert members[0].candidate.model_version.name == "policy-v1"
    assert members[1].candidate.model_version is None
    assert members[1].candidate.model_name == "gpt-x"
    assert candidate_set.prompt.messages == [{"role": "user", "content": "Explain gravity."}]


def test_candidate_set_rows_reuse_a_prompt_by_external_id(admin_client, make_project):
    project = make_project(k=2)
    url = f"/api/v1/projects/{project.pk}/candidate-sets/"
    row = {"prompt": "Q", "external_id": "q", "candidates": [{"text": "a"}, {"text": "b"}]}
    second = row | {"candidates": [{"text": "c"}, {"text": "d"}]}
    assert admin_client.post(url, [row, second], format="json").status_code == 201
    assert admin_client.post(url, [row], format="json").status_code == 201
    assert Prompt.objects.filter(project=project).count() == 1
    assert CandidateSet.objects.filter(project=project).count() == 3
    changed = row | {"prompt": "A different question"}
    response = admin_client.post(url, [changed], format="json")
    assert response.status_code == 400
    assert "different conversation" in response.json()["errors"]["rows[1].external_id"][0]


@pytest.mark.parametrize(
    ("candidates", "path", "message"),
    [
        ([{"text": "a"}, {"text": "b"}], "rows[1].candidates", "K=3"),
        ([{"text": "a"}, {"text": "a"}, {"text": "b"}], "rows[1].candidates", "distinct"),
        ([{"text": "a"}, {"text": ""}, {"text": "b"}], "rows[1].candidates[1].text", "non-empty"),
        (
            [{"text": "a"}, {"text": "b"}, {"text": "c", "score": 1}],
            "rows[1].candidates[2].score",
            "Unknown",
        ),
        ([{"text": "a"}, {"text": "b"}, "c"], "rows[1].candidates[2]", "object"),
        ("abc", "rows[1].candidates", "Must be a list"),
    ],
)
def test_bad_candidate_set_row_is_rejected_and_nothing_is_written(
    admin_client, make_project, candidates, path, message
):
    project = make_project(k=3)
    rows = [{"prompt": "Q", "candidates": candidates}]
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/candidate-sets/", rows, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert path in errors, errors
    assert message in " ".join(errors[path])
    assert _counts() == (0, 0, 0, 0)


def test_candidate_set_row_with_bad_round_is_rejected(admin_client, make_project):
    project = make_project(k=2)
    rows = [{"prompt": "Q", "candidates": [{"text": "a"}, {"text": "b"}], "round": -1}]
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/candidate-sets/", rows, format="json"
    )
    assert response.status_code == 400
    assert "rows[1].round" in response.json()["errors"]
    assert _counts() == (0, 0, 0, 0)


def test_import_into_missing_project_is_404(admin_client):
    response = admin_client.post(
        "/api/v1/projects/999999/prompts/", [{"prompt": "x"}], format="json"
    )
    assert response.status_code == 404


def test_import_row_limit(admin_client, make_project, settings):
    settings.FLYWHEEL_MAX_IMPORT_ROWS = 3
    project = make_project()
    rows = [{"prompt": f"q{i}"} for i in range(4)]
    response = admin_client.post(f"/api/v1/projects/{project.pk}/prompts/", rows, format="json")
    assert response.status_code == 400
    assert "At most 3 rows" in response.json()["detail"]
    assert Prompt.objects.count() == 0


@pytest.mark.parametrize("content_type", ["json", "jsonl"])
def test_nul_characters_are_refused_with_their_place(admin_client, make_project, content_type):
    """PostgreSQL cannot store U+0000 in text or jsonb: refused as a 400, never a 500."""
    project = make_project()
    url = f"/api/v1/projects/{project.pk}/prompts/"
    rows = [{"prompt": "fine"}, {"prompt": "bad\u0000byte"}]
    if content_type == "json":
        response = admin_client.post(url, rows, format="json")
    else:
        body = "\n".join(json.dumps(r) for r in rows)
        response = admin_client.post(url, body, content_type="application/x-ndjson")
    assert response.status_code == 400
    assert "NUL" in response.json()["errors"]["rows[2].prompt"][0]
    assert Prompt.objects.count() == 0

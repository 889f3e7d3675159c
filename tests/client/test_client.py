"""The client against a live server (pytest-django's ``live_server``: Django's WSGI stack on a
real port, PostgreSQL underneath): signing in, projects, imports, snapshots as
``datasets.Dataset``, and the errors a refused request raises."""

from __future__ import annotations

import json

import httpx
import pytest
from flywheel_client import ApiError, Client, DownloadUnavailable

from annotation.enums import Role
from flywheel.pagination import CappedLimitOffsetPagination
from tests.annotation.ranking_helpers import BAD, GOOD, rank_next
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_trades_a_password_for_a_token_that_signs_the_client_in(live_server, make_user):
    user = make_user(Role.REVIEWER)
    with Client.sign_in(live_server.url, user.username, PASSWORD) as client:
        assert client.token
        assert client.me() == {"id": user.pk, "username": user.username, "role": "reviewer"}


def test_a_wrong_password_is_an_api_error_with_the_servers_detail(live_server, make_user):
    user = make_user(Role.ADMIN)
    with pytest.raises(ApiError) as refused:
        Client.sign_in(live_server.url, user.username, "not-the-password")
    assert refused.value.status == 400
    assert refused.value.code == "invalid_credentials"
    assert "Unable to sign in" in refused.value.detail


def test_a_bad_token_is_a_401_and_a_missing_role_a_403(live_server, flywheel_for):
    with Client(live_server.url, "0" * 40) as stranger, pytest.raises(ApiError) as refused:
        stranger.projects()
    assert refused.value.status == 401 and refused.value.code == "not_authenticated"
    annotator = flywheel_for(Role.ANNOTATOR)
    with pytest.raises(ApiError) as forbidden:
        annotator.create_project("Mine", k=2)
    assert forbidden.value.status == 403


def test_projects_lists_every_page(flywheel, monkeypatch):
    monkeypatch.setattr(CappedLimitOffsetPagination, "default_limit", 2)
    created = [flywheel.create_project(f"Listed {i}", k=3)["id"] for i in range(5)]
    listed = flywheel.projects()
    assert sorted(p["id"] for p in listed) == sorted(created)
    assert flywheel.project(created[0])["k"] == 3


def test_import_prompts_from_rows_and_from_a_jsonl_file(flywheel, tmp_path):
    project = flywheel.create_project("Prompts", k=2)
    result = flywheel.import_prompts(
        project["id"],
        [
            {"prompt": "Name a prime."},
            {"messages": [{"role": "user", "content": "Hi"}], "external_id": "q-1"},
        ],
    )
    assert result["created"] == 2 and len(result["ids"]) == 2
    path = tmp_path / "more.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": f"Q {i}?"}) for i in range(3)) + "\n")
    assert flywheel.import_prompts(project["id"], path)["created"] == 3
    assert flywheel.project(project["id"])["prompt_count"] == 5


def test_a_bad_row_refuses_the_batch_with_the_rows_field_in_errors(flywheel):
    project = flywheel.create_project("Refused", k=2)
    rows = [
        {"prompt": "Fine.", "candidates": [{"text": "a"}, {"text": "b"}]},
        {"prompt": "Short.", "candidates": [{"text": "only one"}]},
    ]
    with pytest.raises(ApiError) as refused:
        flywheel.import_candidate_sets(project["id"], rows)
    error = refused.value
    assert error.status == 400
    assert any(field.startswith("rows[2]") for field in error.errors), error.errors
    assert "rows[2]" in str(error)
    assert flywheel.project(project["id"])["set_count"] == 0


def test_a_snapshot_loads_as_a_dataset_in_trls_preference_format(flywheel, make_user, tmp_path):
    project = flywheel.create_project("Snapshot", k=2)
    imported = flywheel.import_candidate_sets(
        project["id"],
        [
            {"prompt": f"Question {n}?", "candidates": [{"text": GOOD}, {"text": BAD}]}
            for n in range(8)
        ],
    )
    assert imported["created"] == 8
    annotator = make_user(Role.ANNOTATOR)
    from annotation.models import Project

    for _ in range(8):
        rank_next(Project.objects.get(pk=project["id"]), annotator, [[0], [1]])

    snapshot = flywheel.create_snapshot(project["id"], name="eight", test_fraction=0.25)
    assert flywheel.snapshot(snapshot["id"])["content_hash"] == snapshot["content_hash"]

    everything = flywheel.load_dataset(snapshot["id"])
    assert everything.num_rows == 8
    assert {"prompt", "chosen", "rejected", "margin"} <= set(everything.column_names)
    row = everything[0]
    assert row["chosen"] == [{"role": "assistant", "content": GOOD}]
    assert row["rejected"] == [{"role": "assistant", "content": BAD}]
    assert row["prompt"][-1]["role"] == "user"

    splits = flywheel.load_dataset_dict(snapshot["id"])
    assert splits["train"].num_rows + splits["test"].num_rows == 8
    assert splits["test"].num_rows >= 1

    text = flywheel.load_dataset(snapshot["id"], view="preference-text", split="train")
    assert text.num_rows == splits["train"].num_rows and text[0]["chosen"].strip() == GOOD

    path = flywheel.download_export(snapshot["id"], tmp_path / "export.jsonl", split="test")
    lines = path.read_text().splitlines()
    assert len(lines) == splits["test"].num_rows
    assert json.loads(lines[0])["chosen"][0]["content"] == GOOD

    with pytest.raises(ApiError) as refused:
        flywheel.load_dataset(snapshot["id"], view="no-such-view")
    assert refused.value.status == 400 and "view" in refused.value.errors


def test_a_non_json_error_body_still_gives_its_status_and_text():
    def proxy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    client = Client("http://flywheel.test", "t", transport=httpx.MockTransport(proxy))
    with client, pytest.raises(ApiError) as refused:
        client.projects()
    assert refused.value.status == 502 and "Bad Gateway" in refused.value.detail
    assert refused.value.errors == {}


def test_download_model_says_why_when_the_server_holds_no_weights(tmp_path):
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/models/7/download/":
            return httpx.Response(
                409,
                json={
                    "detail": "m7 is served by an endpoint; its weights are not held here.",
                    "code": "no_weights",
                    "errors": {},
                },
            )
        return httpx.Response(200, json={"count": 0, "next": None, "results": []})

    with Client("http://flywheel.test", "t", transport=httpx.MockTransport(server)) as client:
        with pytest.raises(DownloadUnavailable, match="its weights are not held here"):
            client.download_model(7, tmp_path / "m7")
        assert not (tmp_path / "m7").exists()  # nothing left behind
        with pytest.raises(ApiError) as missing:
            client.model(8)
    assert missing.value.status == 404

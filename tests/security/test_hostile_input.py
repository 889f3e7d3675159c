"""Hostile input (issue 18, scope item 6): each case below answered 500 or was accepted; each now
answers 4xx, names the field to blame in ``errors`` and writes nothing.

Cases: JSON nested thousands of levels deep; lone UTF-16 surrogates (``"\\ud800"``) in texts,
metadata and the interaction summary; ids at or above 2^63 in the path and in bodies; a seed of
2^70; a non-ASCII digit as a query id; an oversized interaction summary; a model directory whose
config.json is not JSON, or that lies outside the model roots (``..``, symlinks); run-config
numbers beyond their bounds; a reward run whose every pair is longer than ``max_length``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from annotation.models import (
    Assignment,
    CandidateSet,
    DatasetSnapshot,
    Project,
    Prompt,
    Ranking,
)
from annotation.parsers import MAX_JSON_DEPTH
from annotation.validation import MAX_INTERACTION_BYTES
from loop.models import LoopRound
from training.models import GenerationJob, ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db

BIG_ID = 2**63  # one past PostgreSQL's bigint
WRITTEN = [Project, Prompt, CandidateSet, Assignment, Ranking, DatasetSnapshot]
WRITTEN += [ModelVersion, TrainingRun, GenerationJob, LoopRound]


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN}


def refused(response, field: str, status: int = 400) -> dict:
    """The response is a ``status`` in the API's error shape whose ``errors`` name ``field``."""
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert field in body["errors"], body
    assert body["errors"][field] and all(isinstance(m, str) for m in body["errors"][field])
    return body


@pytest.fixture
def nothing_written():
    """Asserts, after the test, that no row of any table the API writes was added."""
    before = row_counts()
    yield
    assert row_counts() == before


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def as_client(client_for, user):
    return client_for(user=user)


# --- JSON nested thousands of levels deep (RecursionError) ---------------------------------


DEEP = 5000


@pytest.mark.parametrize(
    ("shape", "field"),
    [
        ("project", "body"),
        ("prompts-json", "body"),
        ("prompts-jsonl", "rows[1]"),
        ("prompts-file", "file"),
        ("metadata", "rows[1].metadata"),
        ("submit", "body"),
        ("interaction", "interaction"),
    ],
)
def test_deeply_nested_json_is_a_400_naming_where(
    module_world, client_for, nothing_written, shape, field
):
    world = module_world
    admin = as_client(client_for, world.users["admin"])
    prompts = f"/api/v1/projects/{world.project.pk}/prompts/"
    submit = f"/api/v1/assignments/{world.leased.pk}/submit/"
    annotator = as_client(client_for, world.users["annotator"])
    if shape == "project":
        body = '{"name": "deep", "k": 2, "criteria": ' + nested(DEEP) + "}"
        response = admin.post("/api/v1/projects/", body, content_type="application/json")
    elif shape == "prompts-json":
        body = '[{"prompt": "p", "metadata": ' + nested(DEEP) + "}]"
        response = admin.post(prompts, body, content_type="application/json")
    elif shape == "prompts-jsonl":
        body = '{"prompt": "p", "metadata": {"a": ' + nested(DEEP) + "}}"
        response = admin.post(prompts, body, content_type="application/x-ndjson")
    elif shape == "prompts-file":
        upload = io.BytesIO(("[" + nested(DEEP) + "]").encode())
        upload.name = "prompts.json"
        response = admin.post(prompts, {"file": upload}, format="multipart")
    elif shape == "metadata":  # parses, but deeper than anything stored needs
        body = json.dumps([{"prompt": "p", "metadata": {"a": json.loads(nested(100))}}])
        response = admin.post(prompts, body, content_type="application/json")
    elif shape == "submit":
        body = '{"not_rankable": true, "interaction": ' + nested(DEEP) + "}"
        response = annotator.post(submit, body, content_type="application/json")
    else:
        deep = json.loads(nested(MAX_JSON_DEPTH + 1))
        body = {"not_rankable": True, "interaction": {"moves": deep}}
        response = annotator.post(submit, body, format="json")
    body = refused(response, field)
    assert str(MAX_JSON_DEPTH) in body["errors"][field][0]


# --- Lone surrogates, which PostgreSQL text and jsonb cannot store ---------------------------

SURROGATE = '"a \\ud800 b"'  # the JSON escape of a lone high surrogate


@pytest.mark.parametrize(
    ("shape", "template", "field"),
    [
        ("json", '[{"prompt": %s}]', "rows[1].prompt"),
        ("jsonl", '{"prompt": "ok"}\n{"prompt": %s}', "rows[2].prompt"),
        ("json", '[{"prompt": "p", "metadata": {"note": %s}}]', "rows[1].metadata.note"),
        ("json", '[{"prompt": "p", "metadata": {%s: 1}}]', "rows[1].metadata"),
        ("file", '[{"prompt": "p", "source": %s}]', "rows[1].source"),
    ],
    ids=["prompt", "jsonl", "metadata", "metadata-key", "file"],
)
def test_imported_lone_surrogate_is_a_400_naming_the_field(
    module_world, client_for, nothing_written, shape, template, field
):
    admin = as_client(client_for, module_world.users["admin"])
    url = f"/api/v1/projects/{module_world.project.pk}/prompts/"
    body = template % SURROGATE
    if shape == "file":
        upload = io.BytesIO(body.encode())
        upload.name = "prompts.json"
        response = admin.post(url, {"file": upload}, format="multipart")
    else:
        kind = "application/json" if shape == "json" else "application/x-ndjson"
        response = admin.post(url, body, content_type=kind)
    assert "surrogate" in refused(response, field)["errors"][field][0]


def test_candidate_text_with_a_lone_surrogate_is_a_400(module_world, client_for, nothing_written):
    admin = as_client(client_for, module_world.users["admin"])
    body = f'[{{"prompt": "q", "candidates": [{{"text": {SURROGATE}}}, {{"text": "b"}}]}}]'
    response = admin.post(
        f"/api/v1/projects/{module_world.project.pk}/candidate-sets/",
        body,
        content_type="application/json",
    )
    refused(response, "rows[1].candidates[0].text")


def test_interaction_summary_with_a_lone_surrogate_is_a_400(
    module_world, client_for, nothing_written
):
    annotator = as_client(client_for, module_world.users["annotator"])
    body = f'{{"not_rankable": true, "interaction": {{"note": {SURROGATE}}}}}'
    response = annotator.post(
        f"/api/v1/assignments/{module_world.leased.pk}/submit/",
        body,
        content_type="application/json",
    )
    refused(response, "interaction.note")


# --- The interaction summary's size ----------------------------------------------------------


def test_interaction_summary_over_its_size_bound_is_a_400(
    module_world, client_for, nothing_written
):
    annotator = as_client(client_for, module_world.users["annotator"])
    interaction = {"moves": 3, "log": "x" * MAX_INTERACTION_BYTES}
    response = annotator.post(
        f"/api/v1/assignments/{module_world.leased.pk}/submit/",
        {"not_rankable": True, "interaction": interaction},
        format="json",
    )
    body = refused(response, "interaction")
    assert str(MAX_INTERACTION_BYTES) in body["errors"]["interaction"][0]


# --- Ids at or above 2^63 (bigint overflow) ---------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("get", "/api/v1/projects/{id}/", "project_id"),
        ("patch", "/api/v1/projects/{id}/", "project_id"),
        ("post", "/api/v1/projects/{id}/prompts/", "project_id"),
        ("post", "/api/v1/assignments/{id}/submit/", "assignment_id"),
        ("get", "/api/v1/datasets/{id}/", "snapshot_id"),
        ("get", "/api/v1/training-runs/{id}/", "run_id"),
        ("post", "/api/v1/generation-jobs/{id}/cancel/", "job_id"),
        ("get", "/api/v1/rounds/{id}/", "round_id"),
    ],
)
@pytest.mark.parametrize("big", [BIG_ID, 10**30])
def test_path_id_beyond_bigint_is_a_404_naming_the_parameter(
    module_world, client_for, nothing_written, method, path, field, big
):
    admin = as_client(client_for, module_world.users["admin"])
    response = getattr(admin, method)(path.format(id=big), {}, format="json")
    body = refused(response, field, status=404)
    assert body["code"] == "not_found"


GENERATE = "/api/v1/projects/{project}/generate/"
RUNS = "/api/v1/training-runs/"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (GENERATE, {"model": BIG_ID}, "model"),
        (GENERATE, {"mix_model": BIG_ID, "mix_count": 1}, "mix_model"),
        (GENERATE, {"prompts": [BIG_ID]}, "prompts"),
        (RUNS, {"kind": "sft", "dataset": BIG_ID, "base_model": 1}, "dataset"),
        (RUNS, {"kind": "sft", "dataset": 1, "base_model": -BIG_ID}, "base_model"),
        ("/api/v1/datasets/", {"project": BIG_ID}, "project"),
        ("/api/v1/models/", {"name": "m", "path": "/x", "parent": BIG_ID}, "parent"),
    ],
    ids=["model", "mix_model", "prompts", "dataset", "base_model", "snapshot", "parent"],
)
def test_body_id_beyond_bigint_is_a_400_naming_the_field(
    module_world, client_for, nothing_written, url, body, field
):
    admin = as_client(client_for, module_world.users["admin"])
    response = admin.post(url.format(project=module_world.project.pk), body, format="json")
    refused(response, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"seed": 2**70}, "seed"),
        ({"round": 2**40}, "round"),
        ({"mix_count": 2**40}, "mix_count"),
    ],
    ids=["seed", "round", "mix_count"],
)
def test_generation_numbers_beyond_their_columns_are_a_400(
    module_world, client_for, nothing_written, body, field
):
    admin = as_client(client_for, module_world.users["admin"])
    response = admin.post(
        f"/api/v1/projects/{module_world.project.pk}/generate/", body, format="json"
    )
    refused(response, field)


# --- Query ids: a non-ASCII digit that int() accepts ------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/generation-jobs/", "/api/v1/datasets/"])
@pytest.mark.parametrize("value", ["²", "٣", str(BIG_ID), "-1", "1e3"])
def test_query_project_that_is_not_an_id_is_a_400(module_world, client_for, url, value):
    admin = as_client(client_for, module_world.users["admin"])
    response = admin.get(url, {"project": value})
    refused(response, "project")


def test_query_project_that_is_an_id_still_filters(module_world, client_for):
    admin = as_client(client_for, module_world.users["admin"])
    response = admin.get("/api/v1/datasets/", {"project": str(module_world.project.pk)})
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == [module_world.snapshot.pk]


# --- The model registry: unreadable config.json, paths outside the model roots ---------------


def fake_model_dir(path: Path, config: str = '{"model_type": "llama"}') -> Path:
    """What ``check_model_dir`` looks for; nothing here loads the weights."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(config)
    (path / "model.safetensors").write_bytes(b"")
    (path / "tokenizer.json").write_text("{}")
    return path


@pytest.fixture
def model_root(tmp_path, settings) -> Path:
    root = tmp_path / "models"
    root.mkdir()
    settings.FLYWHEEL_MODEL_ROOTS = [root]
    return root


def register(client, path) -> object:
    return client.post("/api/v1/models/", {"name": "hostile", "path": str(path)}, format="json")


@pytest.mark.parametrize("config", ["{not json", "[1, 2]", '"\\ud800"', "\xff\xfe"])
def test_registering_a_model_whose_config_is_not_a_json_object_is_a_400(
    admin_client, model_root, nothing_written, config
):
    directory = fake_model_dir(model_root / "broken", config="")
    (directory / "config.json").write_bytes(config.encode("latin-1", "replace"))
    body = refused(register(admin_client, directory), "path")
    assert "config.json" in body["errors"]["path"][0]


def test_registering_a_model_inside_the_model_roots_works(admin_client, model_root):
    directory = fake_model_dir(model_root / "good")
    response = register(admin_client, directory)
    assert response.status_code == 201, response.content
    assert response.json()["storage_path"] == str(directory)


@pytest.mark.parametrize("how", ["outside", "dotdot", "symlink", "relative"])
def test_registering_a_model_outside_the_model_roots_is_a_400(
    admin_client, model_root, tmp_path, nothing_written, how
):
    outside = fake_model_dir(tmp_path / "elsewhere")
    if how == "outside":
        path = str(outside)
    elif how == "dotdot":
        path = f"{model_root}/../elsewhere"
    elif how == "symlink":
        (model_root / "link").symlink_to(outside, target_is_directory=True)
        path = str(model_root / "link")
    else:
        path = "models/../elsewhere"
    body = refused(register(admin_client, path), "path")
    assert how == "relative" or "model roots" in body["errors"]["path"][0]


# --- Run-config numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        ("sft", {"max_steps": 10**12}, "config.max_steps"),
        ("sft", {"per_device_train_batch_size": 2**40}, "config.per_device_train_batch_size"),
        ("sft", {"warmup_steps": 10**12}, "config.warmup_steps"),
        ("sft", {"seed": 2**70}, "config.seed"),
        ("sft", {"num_train_epochs": 1e300}, "config.num_train_epochs"),
        ("reward", {"max_length": 2**40}, "config.max_length"),
        ("sft", {"adapter": {"alpha": 2**40}}, "config.adapter.alpha"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_run_config_numbers_beyond_their_bounds_are_a_400(
    module_world, client_for, nothing_written, kind, config, field
):
    admin = as_client(client_for, module_world.users["admin"])
    body = {
        "kind": kind,
        "dataset": module_world.snapshot.pk,
        "base_model": module_world.model.pk,
        "config": config,
        "executor": "inline",
    }
    response = admin.post("/api/v1/training-runs/", body, format="json")
    refused(response, field)


# --- A reward run whose every pair is longer than max_length ---------------------------------


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    from tests.training.conftest import tiny_corpus
    from tinyworld.model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), texts=tiny_corpus())


def test_reward_run_whose_pairs_all_exceed_max_length_says_so(tiny_model_dir, tmp_path):
    from tests.training.test_algorithms import (
        CASES,
        RecordingHooks,
        assistant,
        make_inputs,
        preference_rows,
        run,
    )

    rows = preference_rows(6)
    for row in rows:
        row["chosen"] = assistant("a very long answer " * 40)
    inputs = make_inputs(tiny_model_dir, tmp_path, rows)

    with pytest.raises(ValueError, match="max_length") as refusal:
        run(CASES["reward"], inputs, RecordingHooks(), max_steps=1, max_length=64)
    assert "all 6" in str(refusal.value)

"""The model registry over REST: registering a local Hugging Face model directory, validation,
and lineage both ways."""

from __future__ import annotations

import pytest

from annotation.enums import Role
from training.models import ModelKind, ModelVersion

pytestmark = pytest.mark.django_db


def test_register_a_local_model_directory_as_a_base_model(client_for, tiny_model_dir):
    admin = client_for(Role.ADMIN)
    response = admin.post(
        "/api/v1/models/", {"name": "tiny-base", "path": str(tiny_model_dir)}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "base" and body["storage_path"] == str(tiny_model_dir)
    model = ModelVersion.objects.get(name="tiny-base")
    assert model.metadata["architectures"] == ["LlamaForCausalLM"]
    assert "<|im_start|>" in model.chat_template
    child = admin.post(
        "/api/v1/models/",
        {"name": "tiny-sft", "path": str(tiny_model_dir), "kind": "sft", "parent": model.pk},
        format="json",
    ).json()
    listing = {m["id"]: m for m in admin.get("/api/v1/models/").json()["results"]}
    assert listing[model.pk]["children"] == [child["id"]]
    assert listing[child["id"]]["parent"] == model.pk


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("relative/dir", "absolute path"),
        ("{tmp}/nonexistent/model", "config.json is missing"),  # inside a model root
    ],
)
def test_registering_something_that_is_not_a_model_is_400(client_for, tmp_path, path, message):
    response = client_for(Role.ADMIN).post(
        "/api/v1/models/", {"name": "x", "path": path.format(tmp=tmp_path)}, format="json"
    )
    assert response.status_code == 400
    assert message in response.json()["errors"]["path"][0]
    assert ModelVersion.objects.count() == 0


def test_a_directory_without_weights_or_tokenizer_is_refused(client_for, tmp_path, tiny_model_dir):
    (tmp_path / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    response = client_for(Role.ADMIN).post(
        "/api/v1/models/", {"name": "x", "path": str(tmp_path)}, format="json"
    )
    assert response.status_code == 400
    assert "No weights" in response.json()["errors"]["path"][0]


def test_duplicate_name_is_400(client_for, tiny_model_dir):
    ModelVersion.objects.create(name="taken", kind=ModelKind.BASE)
    response = client_for(Role.ADMIN).post(
        "/api/v1/models/", {"name": "taken", "path": str(tiny_model_dir)}, format="json"
    )
    assert response.status_code == 400
    assert "exists" in response.json()["errors"]["name"][0]


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.REVIEWER])
def test_only_admins_see_and_register_models(client_for, role, tiny_model_dir):
    client = client_for(role)
    assert client.get("/api/v1/models/").status_code == 403
    assert (
        client.post(
            "/api/v1/models/", {"name": "x", "path": str(tiny_model_dir)}, format="json"
        ).status_code
        == 403
    )

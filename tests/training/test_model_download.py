"""``GET /models/{id}/download/`` (issue 18, item 7): a model version's directory as a streamed
tar archive with an exact length, the same bytes each time; only regular files inside the
directory; a 409 that says why when the server holds no weights."""

from __future__ import annotations

import io
import tarfile

import pytest

from annotation.enums import Role
from training.models import ModelKind, ModelVersion

pytestmark = pytest.mark.django_db


def download(client, model_id: int):
    response = client.get(f"/api/v1/models/{model_id}/download/")
    body = b"".join(response.streaming_content) if response.status_code == 200 else None
    return response, body


def test_the_archive_holds_every_file_of_the_directory_and_nothing_outside(
    world, admin_client, tmp_path
):
    _, sft, _ = world
    directory = tmp_path / "copy"
    import shutil

    shutil.copytree(sft.storage_path, directory)
    (directory / "sub").mkdir()
    (directory / "sub" / "notes.txt").write_text("kept")
    outside = tmp_path / "secret.txt"
    outside.write_text("never sent")
    (directory / "leak.txt").symlink_to(outside)
    (directory / "inside.json").symlink_to(directory / "config.json")
    model = ModelVersion.objects.create(
        name="copy", kind=ModelKind.POLICY, storage_path=str(directory)
    )

    response, body = download(admin_client, model.pk)
    assert response.status_code == 200 and response["Content-Type"] == "application/x-tar"
    assert int(response["Content-Length"]) == len(body)
    assert response["Content-Disposition"] == f'attachment; filename="model-{model.pk}.tar"'
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        names = archive.getnames()
        for name in names:
            assert archive.extractfile(name).read() == (directory / name).read_bytes()
    expected = sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.name != "leak.txt"
    )
    assert sorted(names) == expected and "leak.txt" not in names
    assert "sub/notes.txt" in names and "inside.json" in names
    assert b"never sent" not in body
    _, again = download(admin_client, model.pk)
    assert again == body  # the same bytes each time


def test_no_weights_here_is_a_409_that_says_why(world, admin_client, client_for, tmp_path):
    _, sft, _ = world
    served = ModelVersion.objects.create(
        name="served",
        kind=ModelKind.POLICY,
        endpoint={"base_url": "http://127.0.0.1:9/v1", "model": "m"},
    )
    gone = ModelVersion.objects.create(
        name="gone", kind=ModelKind.POLICY, storage_path=str(tmp_path / "deleted")
    )
    elsewhere = ModelVersion.objects.create(
        name="elsewhere", kind=ModelKind.POLICY, storage_path="/etc"
    )
    for model, says in (
        (served, "served by an endpoint"),
        (gone, "is not on this server's storage"),
        (elsewhere, "outside the model roots"),
    ):
        response, _ = download(admin_client, model.pk)
        assert response.status_code == 409 and response.json()["code"] == "no_weights"
        assert says in response.json()["detail"]
    assert download(admin_client, 987654321)[0].status_code == 404
    assert download(client_for(Role.REVIEWER), sft.pk)[0].status_code == 403

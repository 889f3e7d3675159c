"""The Models page in a real browser: an adapter version names its base, and its "Merge" action
asks the new name, shows the API's refusal next to the field, follows the merge job, and lists
the new version.

There is no Celery worker here: the test runs the queued job itself, inline, as a worker would
(the job through a real worker is tests/training/test_merge.py's)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotation.services.users import user_create
from tests.training.test_merge import adapter_version, make_adapter
from training.engine.execution import job_execute
from training.models import MergeJob, ModelVersion
from training.services.registry import model_version_register

from .support import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_merges_an_adapter_into_a_new_model(
    live_server, page: Page, tiny_model_dir, tmp_path, settings
):
    settings.FLYWHEEL_MODELS_DIR = tmp_path / "models"
    user_create(username="root", password=PASSWORD, role="admin")
    base = model_version_register(name="tiny-base", path=str(tiny_model_dir), kind="sft")
    adapter = adapter_version(
        base, make_adapter(tiny_model_dir, tmp_path / "lora", task_type="CAUSAL_LM")
    )

    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="Models").click()
    expect(page.locator(f"#model-{base.pk}")).to_contain_text("tiny-base")
    expect(page.locator(f"#model-{base.pk}").get_by_role("button", name="Merge")).to_have_count(0)
    row = page.locator(f"#model-{adapter.pk}")
    expect(row).to_contain_text("Adapter of tiny-base.")
    row.get_by_role("button", name="Merge").click()

    name = row.get_by_label("Name of the merged model")
    name.fill("tiny-base")
    row.get_by_role("button", name="Start merge").click()
    expect(name).to_have_accessible_description("A model with this name exists.")
    assert not MergeJob.objects.exists()

    name.fill("tiny-merged")
    row.get_by_role("button", name="Start merge").click()
    status = row.get_by_role("status")
    expect(status).to_contain_text("is queued for a worker")

    job = MergeJob.objects.get()
    MergeJob.objects.filter(pk=job.pk).update(executor="inline")
    assert job_execute(job_type_name="merge_job", job_id=job.pk) == "succeeded"

    merged = ModelVersion.objects.get(name="tiny-merged")
    expect(status).to_contain_text(f"Merged: tiny-merged is model #{merged.pk}.")
    listed = page.locator(f"#model-{merged.pk}")
    expect(listed).to_contain_text("tiny-merged")
    expect(listed.get_by_role("link", name=f"model #{adapter.pk}")).to_be_visible()  # its parent
    expect(listed.get_by_role("button", name="Merge")).to_have_count(0)  # full weights now

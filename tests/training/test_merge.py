"""Merging an adapter version into a full model version: ``POST /models/{id}/merge/`` queues a
merge job; a worker merges base + adapter into its own directory and registers a full version
(the adapter's kind, parent = the adapter, no adapter_base) whose weights give the logits of
base + adapter. A job redelivered after its worker died registers one version, never two."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import torch
from django.conf import settings
from django.utils import timezone
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

from annotation.enums import Role
from training import weights
from training.engine.execution import job_execute
from training.models import JobStatus, MergeJob, ModelKind, ModelVersion
from training.services.merge import merge_dir, merge_job_create, merged_weights
from training.services.registry import model_version_register

IDS = torch.tensor([[2, 10, 11, 12, 13, 14, 15]])
# Merged and unmerged forwards differ only in float32 rounding: x·(W + s·B·A) against
# x·W + s·(x·A)·B, a few ulps per layer of a 2-layer model; 1e-5 is ~100× that, and ~1000×
# below the adapter's own effect on the logits (asserted too).
TOLERANCE = {"atol": 1e-5, "rtol": 1e-5}


@pytest.fixture(autouse=True)
def models_dir(settings, tmp_path: Path) -> Path:
    """Merges are written under the test's own directory."""
    settings.FLYWHEEL_MODELS_DIR = tmp_path / "models"
    return settings.FLYWHEEL_MODELS_DIR


def make_adapter(base_dir: Path, out: Path, *, task_type: str) -> Path:
    """A LoRA adapter (and a fully trained head, PEFT's modules_to_save, as ``train_head``
    runs leave) moved well off its zero init, saved as a run saves one."""
    torch.manual_seed(0)
    if task_type == "SEQ_CLS":
        model = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=1)
        head = "score"
    else:
        model = AutoModelForCausalLM.from_pretrained(base_dir)
        head = "lm_head"
    config = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=["q_proj", "v_proj"],
        modules_to_save=[head],
        task_type=task_type,
    )
    peft = get_peft_model(model, config)
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_B" in name or "modules_to_save" in name:
                param.add_(torch.randn_like(param) * 0.2)
    peft.save_pretrained(out)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def lora_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_adapter(tiny_model_dir, tmp_path_factory.mktemp("lora"), task_type="CAUSAL_LM")


@pytest.fixture
def sft(db, tiny_model_dir: Path) -> ModelVersion:
    return model_version_register(name="tiny-sft", path=str(tiny_model_dir), kind=ModelKind.SFT)


def adapter_version(base: ModelVersion, path: Path, *, kind=ModelKind.POLICY, name="tiny-lora"):
    """An adapter version as ``model_version_from_run`` registers one (the run row aside)."""
    return ModelVersion.objects.create(
        name=name,
        kind=kind,
        storage_path=str(path),
        parent=base,
        adapter_base=base,
        chat_template="{{ messages }} (the adapter's template)",
        metadata={"adapter": {"peft_type": "LORA", "r": 4}},
    )


@pytest.fixture
def adapter(sft: ModelVersion, lora_dir: Path) -> ModelVersion:
    return adapter_version(sft, lora_dir)


def causal_logits(model) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(input_ids=IDS).logits


def wait_for_merge(job_id: int, timeout: float = 180) -> MergeJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = MergeJob.objects.get(pk=job_id)
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
            return job
        time.sleep(0.5)
    job = MergeJob.objects.get(pk=job_id)
    raise AssertionError(f"merge job {job_id} is {job.status}: {job.error}\n{job.log_tail}")


@pytest.mark.django_db(transaction=True)
def test_merge_through_a_worker_registers_a_full_version_with_the_adapters_logits(
    celery_worker, client_for, adapter, sft, tiny_model_dir, lora_dir
):
    admin = client_for(Role.ADMIN)
    response = admin.post(f"/api/v1/models/{adapter.pk}/merge/", {"name": "merged"}, format="json")
    assert response.status_code == 202, response.json()
    queued = response.json()
    assert queued["status"] == "queued" and queued["adapter"] == adapter.pk

    job = wait_for_merge(queued["id"])
    assert job.status == JobStatus.SUCCEEDED, job.error

    shown = admin.get(f"/api/v1/merge-jobs/{job.pk}/").json()
    assert shown["status"] == "succeeded" and shown["merged_model"] == job.merged_model_id
    merged = job.merged_model
    assert merged.name == "merged" and merged.kind == ModelKind.POLICY
    assert merged.parent_id == adapter.pk and merged.adapter_base_id is None  # loads alone
    assert merged.metadata["merged_from"] == adapter.pk
    assert merged.chat_template == adapter.chat_template
    path = Path(merged.storage_path)
    assert path.parent == Path(settings.FLYWHEEL_MODELS_DIR) / "merges"  # its own directory
    assert not (path / "adapter_config.json").exists()
    assert weights.weights_path(merged) == path
    listed = {m["id"]: m for m in admin.get("/api/v1/models/?limit=100").json()["results"]}
    assert merged.pk in listed[adapter.pk]["children"]

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    expected = causal_logits(PeftModel.from_pretrained(base, lora_dir))
    got = causal_logits(AutoModelForCausalLM.from_pretrained(path))
    torch.testing.assert_close(got, expected, **TOLERANCE)
    plain = causal_logits(AutoModelForCausalLM.from_pretrained(tiny_model_dir))
    assert (got - plain).abs().max() > 1e-2  # the adapter's effect is in the merged weights


@pytest.mark.django_db
def test_a_reward_adapter_merges_into_a_reward_model_with_its_scores(sft, tiny_model_dir, tmp_path):
    reward_lora = make_adapter(tiny_model_dir, tmp_path / "rm-lora", task_type="SEQ_CLS")
    rm_adapter = adapter_version(sft, reward_lora, kind=ModelKind.REWARD, name="rm-lora")
    job = merge_job_create(adapter=rm_adapter, name="rm-merged")
    MergeJob.objects.filter(pk=job.pk).update(executor="inline")

    assert job_execute(job_type_name="merge_job", job_id=job.pk) == "succeeded"

    merged = ModelVersion.objects.get(name="rm-merged")
    assert merged.kind == ModelKind.REWARD and merged.parent_id == rm_adapter.pk
    base = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    with torch.no_grad():
        expected = PeftModel.from_pretrained(base, reward_lora).eval()(input_ids=IDS).logits
        got = (
            AutoModelForSequenceClassification.from_pretrained(merged.storage_path)
            .eval()(input_ids=IDS)
            .logits
        )
    torch.testing.assert_close(got, expected, **TOLERANCE)


def redeliver(job: MergeJob) -> str:
    """As after the worker died mid-job: running, a stale heartbeat, an attempt spent."""
    MergeJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(hours=1),
        finished_at=None,
    )
    return job_execute(job_type_name="merge_job", job_id=job.pk)


@pytest.mark.django_db
def test_a_job_redelivered_after_its_merge_was_written_registers_it_without_merging_again(
    adapter, monkeypatch
):
    job = merge_job_create(adapter=adapter, name="merged")
    MergeJob.objects.filter(pk=job.pk).update(executor="inline")
    written = merged_weights(job)  # the first attempt merged, then its worker died
    assert written == merge_dir(job)

    def no_second_merge(*args, **kwargs):
        raise AssertionError("merged again")

    monkeypatch.setattr("training.weights.merge_adapter", no_second_merge)
    assert redeliver(job) == "succeeded"
    job.refresh_from_db()
    assert job.attempts == 2
    assert ModelVersion.objects.get(name="merged").storage_path == str(written)


@pytest.mark.django_db
def test_a_job_redelivered_after_it_registered_its_version_registers_no_second_one(adapter):
    job = merge_job_create(adapter=adapter, name="merged")
    MergeJob.objects.filter(pk=job.pk).update(executor="inline")
    assert job_execute(job_type_name="merge_job", job_id=job.pk) == "succeeded"
    first = MergeJob.objects.get(pk=job.pk).merged_model_id

    # The worker died after registering, before the job's state said so.
    assert redeliver(job) == "succeeded"
    assert MergeJob.objects.get(pk=job.pk).merged_model_id == first
    assert ModelVersion.objects.filter(parent=adapter).count() == 1
    assert job_execute(job_type_name="merge_job", job_id=job.pk).startswith("skipped")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "body", "field", "reason"),
    [
        ("sft", {"name": "x"}, "model", "Not an adapter"),
        ("adapter", {"name": "tiny-sft"}, "name", "A model with this name exists."),
        ("adapter", {"name": "  "}, "name", "may not be blank"),
        ("adapter", {}, "name", "required"),
    ],
)
def test_bad_merge_request_is_400_with_the_field_and_writes_nothing(
    client_for, sft, adapter, target, body, field, reason
):
    model = {"sft": sft, "adapter": adapter}[target]
    before = ModelVersion.objects.count()
    response = client_for(Role.ADMIN).post(f"/api/v1/models/{model.pk}/merge/", body, format="json")
    assert response.status_code == 400, response.json()
    assert reason in " ".join(response.json()["errors"][field])
    assert MergeJob.objects.count() == 0 and ModelVersion.objects.count() == before


@pytest.mark.django_db
def test_a_name_a_pending_merge_will_take_is_refused(client_for, adapter):
    admin = client_for(Role.ADMIN)
    first = admin.post(f"/api/v1/models/{adapter.pk}/merge/", {"name": "m"}, format="json")
    assert first.status_code == 202
    again = admin.post(f"/api/v1/models/{adapter.pk}/merge/", {"name": "m"}, format="json")
    assert again.status_code == 400
    assert f"Merge job {first.json()['id']}" in again.json()["errors"]["name"][0]
    assert MergeJob.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR])
def test_only_admins_merge_or_read_merge_jobs(client_for, adapter, role):
    job = merge_job_create(adapter=adapter, name="merged")
    client = client_for(role)
    merge = client.post(f"/api/v1/models/{adapter.pk}/merge/", {"name": "n"}, format="json")
    assert merge.status_code == 403
    assert client.get(f"/api/v1/merge-jobs/{job.pk}/").status_code == 403
    assert MergeJob.objects.count() == 1


@pytest.mark.django_db
def test_the_models_list_filters_adapters(client_for, sft, adapter):
    admin = client_for(Role.ADMIN)
    adapters = admin.get("/api/v1/models/?adapter=true").json()["results"]
    full = admin.get("/api/v1/models/?adapter=false").json()["results"]
    assert [m["id"] for m in adapters] == [adapter.pk]
    assert [m["id"] for m in full] == [sft.pk]

"""Flywheel's exported preference views train with TRL 1.16 as-is: rankings submitted through
the real services are downloaded from the export endpoint, the JSONL file (Flywheel's
bookkeeping columns included) goes through `datasets.load_dataset("json", ...)` straight into a
TRL trainer, with no conversion code in between. Each test trains a few steps on the tiny
world's model and checks what TRL's own smoke tests check: a finite loss was logged and the
trained parameters moved."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from datasets import Dataset, load_dataset
from transformers import AutoModelForSequenceClassification, Trainer
from trl import DPOConfig, DPOTrainer, KTOConfig, KTOTrainer, RewardConfig, RewardTrainer

from annotation.enums import Role
from annotation.services.imports import candidate_sets_import
from tests.annotation.ranking_helpers import assignment_next, rank_next

MAX_STEPS = 3
BATCH_SIZE = 4  # KTO needs > 1: its KL estimate pairs each prompt with a neighbour's completion

PROMPTS = [
    "Explain why the sky is blue.",
    "Write a short poem about rain.",
    "Give three facts about owls.",
    "Summarise the recipe step by step.",
    "Answer the question politely.",
    "Describe an old map.",
]
# Best to worst, as an annotator's tiers would order them.
RESPONSES = [
    "The fox explains it clearly and politely.",
    "A robot describes it in a few words.",
    "Nothing useful at all.",
]


def training_args(output_dir: Path) -> dict[str, Any]:
    """CPU-only settings shared by every trainer. TRL configs default to bf16 and gradient
    checkpointing, and to learning rates tuned for pretrained models; a random tiny model run
    for three steps wants neither."""
    return {
        "output_dir": str(output_dir),
        "max_steps": MAX_STEPS,
        "per_device_train_batch_size": BATCH_SIZE,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "use_cpu": True,
        "bf16": False,
        "activation_checkpointing": False,
        "report_to": [],
        "save_strategy": "no",
        "disable_tqdm": True,
        "seed": 0,
    }


@pytest.fixture
def export(db, make_project, make_user, admin_client):
    """Rankings made through the real services, exported through the real endpoint: returns a
    function ``view -> path of the downloaded JSONL file``. Six prompts, K=3, two annotators who
    both rank RESPONSES best to worst."""
    project = make_project(k=len(RESPONSES), annotations_per_set=2)

    def add_sets(prompts: list[str], responses: list[str]) -> None:
        candidate_sets_import(
            project=project,
            rows=[
                (n, {"prompt": p, "candidates": [{"text": r} for r in responses]})
                for n, p in enumerate(prompts, start=1)
            ],
        )

    add_sets(PROMPTS, RESPONSES)
    annotators = [make_user(Role.ANNOTATOR) for _ in range(2)]

    def rank_all() -> None:
        for annotator in annotators:
            while annotator_has_task(project, annotator):
                rank_next(project, annotator, [[i] for i in range(len(RESPONSES))])

    rank_all()

    def download(view: str, tmp_path: Path) -> Path:
        response = admin_client.get(f"/api/v1/projects/{project.pk}/export/", {"view": view})
        assert response.status_code == 200
        path = tmp_path / f"{view}.jsonl"
        path.write_bytes(b"".join(response.streaming_content))  # the file, byte for byte
        return path

    download.add_sets = add_sets  # type: ignore[attr-defined]
    download.rank_all = rank_all  # type: ignore[attr-defined]
    return download


def annotator_has_task(project, annotator) -> bool:
    """Leases the annotator's next set if there is one; `rank_next` then resumes that lease."""
    return assignment_next(project=project, annotator=annotator) is not None


def load_export(path: Path) -> Dataset:
    """Load an exported file the way an ML engineer would: no conversion code in between."""
    return load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(path.parent / "hf-cache")
    )


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: param.detach().clone() for name, param in model.named_parameters()}


def assert_trained(trainer: Trainer, before: dict[str, torch.Tensor]) -> None:
    """A finite loss was logged at every step and every parameter changed."""
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert len(losses) == MAX_STEPS
    assert all(math.isfinite(loss) for loss in losses), losses
    unchanged = [
        name
        for name, param in trainer.model.named_parameters()
        if torch.equal(param.detach(), before[name])
    ]
    assert not unchanged, f"parameters not updated: {unchanged}"


def test_preference_export_trains_a_reward_model(
    tiny_model_dir: Path, tmp_path: Path, export
) -> None:
    dataset = load_export(export("preference", tmp_path))
    assert set(dataset.column_names) >= {"prompt", "chosen", "rejected", "margin", "annotator"}
    assert dataset.num_rows == 2 * len(PROMPTS) * 3  # two annotators × C(3, 2) pairs a set
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    trainer = RewardTrainer(
        model=model,
        args=RewardConfig(**training_args(tmp_path / "out")),
        train_dataset=dataset,
    )
    # Flywheel's bookkeeping columns are dropped before collation; `margin` reaches the loss
    # (-log σ(r_chosen - r_rejected - margin), Touvron et al. 2023 §3.2.2).
    batch = next(iter(trainer.get_train_dataloader()))
    assert set(batch) == {"input_ids", "attention_mask", "margin"}
    assert batch["margin"].dtype == torch.float32
    before = snapshot(trainer.model)

    trainer.train()

    assert_trained(trainer, before)
    assert "accuracy" in trainer.state.log_history[0]


def test_reward_trainer_silently_drops_rows_longer_than_max_length(
    tiny_model_dir: Path, tmp_path: Path, export
) -> None:
    """RewardTrainer filters (does not truncate) over-long pairs and logs nothing about it, so
    Flywheel's reward run has to count the dropped rows itself (DESIGN.md, "Training notes")."""
    export.add_sets(["Tell me everything."], ["a very long answer " * 50, *RESPONSES[1:]])
    export.rank_all()
    dataset = load_export(export("preference", tmp_path))
    long_rows = sum(len(row["chosen"][0]["content"]) > 500 for row in dataset)
    assert long_rows == 2 * 2  # the long answer beats two others, for each annotator
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    trainer = RewardTrainer(
        model=model,
        args=RewardConfig(**training_args(tmp_path / "out"), max_length=128),
        train_dataset=dataset,
    )
    assert len(trainer.train_dataset) == len(dataset) - long_rows


def test_preference_export_trains_dpo(tiny_model_dir: Path, tmp_path: Path, export) -> None:
    dataset = load_export(export("preference", tmp_path))
    # Passed by path: with no `ref_model`, DPOTrainer loads the reference from the same path.
    trainer = DPOTrainer(
        model=str(tiny_model_dir),
        args=DPOConfig(**training_args(tmp_path / "out")),
        train_dataset=dataset,
    )
    assert trainer.ref_model is not None
    before = snapshot(trainer.model)
    reference_before = snapshot(trainer.ref_model)

    trainer.train()

    assert_trained(trainer, before)
    for name, param in trainer.ref_model.named_parameters():
        assert torch.equal(param, reference_before[name]), f"reference model moved: {name}"


def test_kto_export_trains_kto(tiny_model_dir: Path, tmp_path: Path, export) -> None:
    dataset = load_export(export("kto", tmp_path))
    assert sorted(set(dataset["label"])) == [False, True]
    trainer = KTOTrainer(
        model=str(tiny_model_dir),
        args=KTOConfig(**training_args(tmp_path / "out")),
        train_dataset=dataset,
    )
    before = snapshot(trainer.model)

    trainer.train()

    assert_trained(trainer, before)

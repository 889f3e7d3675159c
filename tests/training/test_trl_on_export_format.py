"""Flywheel's exported preference views train with TRL 1.16 as-is: a JSONL file written in the
export row format (DESIGN.md, "Export views"), Flywheel's bookkeeping columns included, goes
through `datasets.load_dataset("json", ...)` straight into a TRL trainer, with no conversion code
in between. Each test trains a few steps on the tiny world's model and checks what TRL's own
smoke tests check: a finite loss was logged and the trained parameters moved."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset, load_dataset
from transformers import AutoModelForSequenceClassification, Trainer
from trl import DPOConfig, DPOTrainer, KTOConfig, KTOTrainer, RewardConfig, RewardTrainer

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


def preference_rows() -> list[dict[str, Any]]:
    """The `preference` view, `pairs=all`: every (better, worse) pair of each ranking, with
    `margin = (j - i) / (T - 1)` for tiers i < j of T, as `annotation.exports.rows` writes it."""
    rows = []
    for set_id, prompt in enumerate(PROMPTS, start=1):
        for better in range(len(RESPONSES)):
            for worse in range(better + 1, len(RESPONSES)):
                rows.append(
                    {
                        "prompt": [{"role": "user", "content": prompt}],
                        "chosen": [{"role": "assistant", "content": RESPONSES[better]}],
                        "rejected": [{"role": "assistant", "content": RESPONSES[worse]}],
                        "margin": 0.5 * (worse - better),
                        "prompt_id": 100 + set_id,
                        "set_id": set_id,
                        "annotator": f"a{set_id:05x}",
                    }
                )
    return rows


def kto_rows() -> list[dict[str, Any]]:
    """The `kto` view: the best response of a ranking is desirable, the worst undesirable."""
    rows = []
    for set_id, prompt in enumerate(PROMPTS, start=1):
        for response, label in ((RESPONSES[0], True), (RESPONSES[-1], False)):
            rows.append(
                {
                    "prompt": [{"role": "user", "content": prompt}],
                    "completion": [{"role": "assistant", "content": response}],
                    "label": label,
                    "prompt_id": 100 + set_id,
                    "set_id": set_id,
                    "annotator": f"a{set_id:05x}",
                }
            )
    return rows


def load_export(tmp_path: Path, rows: list[dict[str, Any]]) -> Dataset:
    """Write `rows` as an export JSONL file and load it the way an ML engineer would."""
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache")
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


def test_preference_export_trains_a_reward_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    dataset = load_export(tmp_path, preference_rows())
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
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """RewardTrainer filters (does not truncate) over-long pairs and logs nothing about it, so
    Flywheel's reward run has to count the dropped rows itself (DESIGN.md, "Training notes")."""
    rows = preference_rows()
    rows[0]["chosen"][0]["content"] = "a very long answer " * 50
    dataset = load_export(tmp_path, rows)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    trainer = RewardTrainer(
        model=model,
        args=RewardConfig(**training_args(tmp_path / "out"), max_length=128),
        train_dataset=dataset,
    )
    assert len(trainer.train_dataset) == len(dataset) - 1


def test_preference_export_trains_dpo(tiny_model_dir: Path, tmp_path: Path) -> None:
    dataset = load_export(tmp_path, preference_rows())
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


def test_kto_export_trains_kto(tiny_model_dir: Path, tmp_path: Path) -> None:
    dataset = load_export(tmp_path, kto_rows())
    trainer = KTOTrainer(
        model=str(tiny_model_dir),
        args=KTOConfig(**training_args(tmp_path / "out")),
        train_dataset=dataset,
    )
    before = snapshot(trainer.model)

    trainer.train()

    assert_trained(trainer, before)

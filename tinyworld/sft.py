"""The tiny world's SFT bootstrap: teach the random tiny Llama the task's format with TRL's
`SFTTrainer`, so that the loop starts from a policy that answers in templated sentences and ends
politely only part of the time.

Loss on the assistant's tokens only (RLHF-NOTES, SFT: prompt tokens masked), through TRL's
`assistant_only_loss` and the `{% generation %}` markers in the tiny world's chat template.
InstructGPT trains SFT for 16 epochs at a tenth of the pretraining learning rate; a random-weight
model learning from scratch on ~700 rows wants a high rate instead (5e-3; 1e-2 diverged) and small
batches (16 learnt topic copying where 32 had not, at the same number of epochs). Measured with
the defaults, seeds 0–2, T = 1 on held-out prompts: well-formed ≥ 0.99, on-topic ≥ 0.93, trait
rate 0.26–0.34 (the data has 0.35); ~35 s of training on one CPU thread.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LOGGED_METRICS = ("loss", "mean_token_accuracy", "train_loss", "train_runtime")


@dataclass(frozen=True)
class SFTBootstrapConfig:
    trait_fraction: float = 0.35
    """Share of SFT responses that show the preferred trait; the SFT policy's trait rate lands
    near it, leaving room for a preference round to raise it."""
    responses_per_prompt: int = 4
    """SFT rows per train prompt (each a fresh templated response)."""
    epochs: float = 8.0
    learning_rate: float = 5e-3
    batch_size: int = 16
    warmup: float = 0.05
    """Linear warm-up, as a fraction of the steps; cosine decay after it."""
    max_length: int = 128
    """Tokens per row; the longest tiny-world conversation is about 55."""


def sft_bootstrap(
    *,
    base_model: Path,
    rows: list[dict[str, Any]],
    output_dir: Path,
    config: SFTBootstrapConfig,
    seed: int = 0,
) -> dict[str, float]:
    """Train `base_model` on conversational rows `{"messages": [...]}` and save the result (weights,
    tokenizer with its chat template, generation config) to `output_dir`, loadable by path with
    `AutoModelForCausalLM` and usable as the reference model that TRL's DPO/KTO reload from the
    path. Returns the final training metrics (`train_loss`, `mean_token_accuracy`, ...)."""
    # Imported here so that the config above, which a cached build reads, costs no torch import.
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    class LogToLogger(TrainerCallback):
        """Trainer logs go to `logging`, not stdout (PrinterCallback `print`s them)."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            shown = {k: f"{v:.4g}" for k, v in (logs or {}).items() if k in LOGGED_METRICS}
            if shown:
                logger.info("sft step %d/%d: %s", state.global_step, state.max_steps, shown)

    tokenizer = AutoTokenizer.from_pretrained(base_model)
    model = AutoModelForCausalLM.from_pretrained(base_model)
    with tempfile.TemporaryDirectory(prefix="sft-", dir=output_dir.parent) as scratch:
        args = SFTConfig(
            output_dir=scratch,
            num_train_epochs=config.epochs,
            per_device_train_batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            lr_scheduler_type="cosine",
            warmup_steps=config.warmup,
            weight_decay=0.0,
            max_length=config.max_length,
            assistant_only_loss=True,
            # CPU, fp32, no checkpointing: TRL's defaults (bf16, activation checkpointing) are
            # for GPUs and only slow a model this small down (DESIGN, Training notes).
            use_cpu=True,
            bf16=False,
            activation_checkpointing=False,
            report_to=[],
            save_strategy="no",
            logging_steps=50,
            disable_tqdm=True,
            seed=seed,
            data_seed=seed,
        )
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
        )
        trainer.remove_callback(PrinterCallback)
        trainer.add_callback(LogToLogger())
        trainer.train()

    metrics = {
        k: float(v)
        for entry in trainer.state.log_history
        for k, v in entry.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    if output_dir.exists():
        shutil.rmtree(output_dir)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return metrics

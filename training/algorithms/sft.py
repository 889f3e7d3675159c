"""Supervised fine-tuning on Flywheel's ``sft`` export (each set's consensus-best response).

The flywheel's SFT step is rejection-sampling fine-tuning (Llama 2, Touvron et al. 2023, §3.2.3):
train on the best of N responses as the annotators ranked them. The loss is next-token
cross-entropy on the assistant tokens only, prompt tokens masked (InstructGPT; Llama 2 §3.1):

    loss = −Σ_t m_t · log π(y_t | x, y_<t) / Σ_t m_t,   m_t = 1 on assistant tokens

TRL's ``SFTTrainer`` does the work; ``assistant_only_loss`` uses the ``{% generation %}``
markers of the model's chat template (the tiny world's template has them). Defaults follow
Llama 2's SFT (§3.1): lr 2e-5, cosine, weight decay 0.1, 64 sequences a step, 2 epochs.

Departures: sequences are truncated at ``max_length`` (Llama 2: 4096), not packed by default.
"""

from __future__ import annotations

from training.algorithms.base import (
    RunHooks,
    TrainInputs,
    TrainResult,
)
from training.algorithms.configs import SftRunConfig
from training.algorithms.trainer import fit, load_splits, trl_trainer


def train(config: SftRunConfig, inputs: TrainInputs, hooks: RunHooks) -> TrainResult:
    """Fine-tune ``inputs.base_model`` on the export's ``messages``."""
    from trl import SFTConfig, SFTTrainer

    if hooks.should_stop():
        return TrainResult(inputs.output_dir, cancelled=True)
    train_rows, eval_rows = splits = load_splits(inputs)
    args = SFTConfig(
        **config.trainer_arguments(inputs, has_eval=eval_rows is not None),
        max_length=config.max_length,
        assistant_only_loss=config.assistant_only_loss,
        packing=config.packing,
    )
    result = fit(
        *trl_trainer(SFTTrainer, args, inputs, hooks, splits, adapter=config.adapter), inputs
    )
    result.metrics["train_rows"] = float(len(train_rows))
    return result

"""Direct Preference Optimization on Flywheel's preference export.

DPO (Rafailov et al. 2023, arXiv:2305.18290, Eq. 7) fits the policy to the pairs directly, with
no reward model and no sampling; a frozen copy of the starting (SFT) model is the reference:

    h = (log π(y_w|x) − log π_ref(y_w|x)) − (log π(y_l|x) − log π_ref(y_l|x))
    sigmoid (DPO):   −log σ(β·h)
    hinge (SLiC, Zhao et al. 2023):   relu(1 − β·h)
    ipo (Azar et al. 2023, Eq. 17):   (h̄ − 1/(2β))²,  h̄: h with per-token mean log-ratios
    robust (Chowdhury et al. 2024):   ((1−ε)·(−log σ(β·h)) − ε·(−log σ(−β·h))) / (1 − 2ε)

TRL's ``DPOTrainer`` does the work (all of its ``loss_type`` values are accepted); the reference
is reloaded from ``inputs.base_model``'s path. ``dpo_loss`` restates the four losses above as a
pure function, pinned against TRL in ``tests/training/test_losses.py``. Logged "rewards" are
``β·(log π − log π_ref)`` per side; ``rewards/margins`` and ``rewards/accuracies`` end up in the
result's metrics.

Departures: prompt + response is truncated to ``max_length`` tokens (TRL ``keep_start``), not
dropped; the optimizer is AdamW, not the paper's RMSprop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from training.algorithms.base import (
    RunHooks,
    TrainInputs,
    TrainResult,
)
from training.algorithms.configs import DpoRunConfig
from training.algorithms.trainer import fit, load_splits, trl_trainer


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float,
    loss_type: str = "sigmoid",
    *,
    label_smoothing: float = 0.0,
    chosen_lengths: torch.Tensor | None = None,
    rejected_lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-pair losses ``(B,)`` from sequence log-probabilities ``(B,)`` (sums over the
    response tokens), as TRL 1.16 computes them for sigmoid, hinge, ipo and robust.

    ipo: TRL divides each side's log-ratio by its response length in tokens before the square
    (Azar et al.'s reported runs); pass ``chosen_lengths`` / ``rejected_lengths`` for that,
    leave them out for the paper's unnormalised Eq. 17."""
    chosen_logratios = policy_chosen_logps - ref_chosen_logps
    rejected_logratios = policy_rejected_logps - ref_rejected_logps
    h = chosen_logratios - rejected_logratios
    if loss_type == "sigmoid":
        return -F.logsigmoid(beta * h)
    if loss_type == "hinge":
        return torch.relu(1 - beta * h)
    if loss_type == "ipo":
        if chosen_lengths is not None and rejected_lengths is not None:
            h = chosen_logratios / chosen_lengths.clamp(min=1) - rejected_logratios / (
                rejected_lengths.clamp(min=1)
            )
        return (h - 1 / (2 * beta)) ** 2
    if loss_type == "robust":
        eps = label_smoothing
        clean = -(1 - eps) * F.logsigmoid(beta * h)
        flipped = -eps * F.logsigmoid(-beta * h)
        return (clean - flipped) / (1 - 2 * eps)
    raise ValueError(f"loss_type: {loss_type!r} is not restated here; TRL's DPOTrainer has it")


def train(config: DpoRunConfig, inputs: TrainInputs, hooks: RunHooks) -> TrainResult:
    """Fine-tune ``inputs.base_model`` with DPO against a frozen copy of itself."""
    from trl import DPOConfig, DPOTrainer

    if hooks.should_stop():
        return TrainResult(inputs.output_dir, cancelled=True)
    train_rows, eval_rows = splits = load_splits(inputs)
    args = DPOConfig(
        **config.trainer_arguments(inputs, has_eval=eval_rows is not None),
        max_length=config.max_length,
        beta=config.beta,
        # TRL sums the listed losses with these weights; "sft" is the NLL on chosen (RPO)
        loss_type=[config.loss_type] + (["sft"] if config.rpo_alpha else []),
        loss_weights=[1.0] + ([config.rpo_alpha] if config.rpo_alpha else []),
        label_smoothing=config.label_smoothing,
        discopop_tau=config.discopop_tau,
        precompute_ref_log_probs=config.precompute_ref_log_probs,
    )
    # By path, with no ref_model: TRL loads the frozen reference from the same directory.
    result = fit(
        *trl_trainer(DPOTrainer, args, inputs, hooks, splits, adapter=config.adapter), inputs
    )
    result.metrics["train_rows"] = float(len(train_rows))
    return result

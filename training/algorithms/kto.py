"""Kahneman–Tversky Optimization on Flywheel's ``kto`` export (unpaired good/bad labels).

KTO (Ethayarajh et al. 2024, arXiv:2402.01306, Eq. 7) needs only whether a response is
desirable: a ranking's top tier is desirable, its bottom tier and every response of an "all
bad" ranking undesirable. With r = log π(y|x) − log π_ref(y|x) and z₀ a batch estimate of
KL(π‖π_ref) (each prompt paired with a neighbouring row's completion):

    desirable:    λ_D · (1 − σ(β·(r − z₀)))
    undesirable:  λ_U · (1 − σ(β·(z₀ − r)))

TRL's ``KTOTrainer`` does the work; the reference is reloaded from ``inputs.base_model``'s path.
Because the KL estimate pairs neighbouring rows and sampling must be sequential, and exports
list a set's rows together, the rows are shuffled once with the seed before training: otherwise
z₀ would mostly pair a prompt with another completion *of the same prompt*.

Departures: prompt + response is truncated to ``max_length`` tokens (TRL), the optimizer is AdamW.
"""

from __future__ import annotations

from training.algorithms.base import (
    RunHooks,
    TrainInputs,
    TrainResult,
)
from training.algorithms.configs import KtoRunConfig
from training.algorithms.trainer import fit, load_splits, trl_trainer


def train(config: KtoRunConfig, inputs: TrainInputs, hooks: RunHooks) -> TrainResult:
    """Fine-tune ``inputs.base_model`` with KTO against a frozen copy of itself."""
    from trl import KTOConfig, KTOTrainer

    if hooks.should_stop():
        return TrainResult(inputs.output_dir, cancelled=True)
    seed = inputs.seed if config.seed is None else config.seed
    train_rows, eval_rows = load_splits(inputs)
    if config.shuffle_seeded:
        train_rows = train_rows.shuffle(seed=seed)
    args = KTOConfig(
        **config.trainer_arguments(inputs, has_eval=eval_rows is not None),
        max_length=config.max_length,
        beta=config.beta,
        desirable_weight=config.desirable_weight,
        undesirable_weight=config.undesirable_weight,
        loss_type=config.loss_type,
    )
    result = fit(
        *trl_trainer(
            KTOTrainer, args, inputs, hooks, (train_rows, eval_rows), adapter=config.adapter
        ),
        inputs,
    )
    desirable = sum(bool(label) for label in train_rows["label"])
    result.metrics |= {
        "train_rows": float(len(train_rows)),
        "desirable_rows": float(desirable),
        "undesirable_rows": float(len(train_rows) - desirable),
    }
    return result

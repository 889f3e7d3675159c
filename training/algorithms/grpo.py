"""Critic-free policy optimisation against a reward model: GRPO and RLOO.

Both sample a group of G responses per prompt from the policy, score them with the reward model
(``inputs.reward_model``, a sequence classifier read at the last token of prompt + response) and
use the group itself as the baseline instead of a learned critic:

    GRPO (Shao et al. 2024, DeepSeekMath, arXiv:2402.03300, Eq. 3):
        Â_i = (r_i − mean_j r_j) / std_j r_j
        L = −E[min(ρ_t Â_i, clip(ρ_t, 1 ± ε) Â_i)] + β·KL(π‖π_ref)   (k3 estimator, per token)
    RLOO (Ahmadian et al. 2024, "Back to Basics", arXiv:2402.14740; Kool et al. 2019):
        Â_i = r_i − 1/(G−1) Σ_{j≠i} r_j    (leave-one-out baseline; β·KL folded into r_i)

TRL's ``GRPOTrainer`` / ``RLOOTrainer`` do the work (``estimator`` picks one). The reward model
is passed to TRL as a path in ``reward_funcs``: TRL loads it with
``AutoModelForSequenceClassification(num_labels=1)``, loads its tokenizer from the same path as
the ``reward_processing_class`` and scores the chat-templated prompt + completion. A β > 0
reloads the frozen reference from ``inputs.base_model``'s path.

Departures: TRL aggregates token losses per ``loss_type`` (default "dapo", DAPO, Yu et al. 2025,
to avoid the paper's length bias, Liu et al. 2025); prompts are not truncated (TRL 1.16 has no
prompt limit), completions stop at ``max_completion_length``.
"""

from __future__ import annotations

import math

from training.algorithms.base import (
    RunHooks,
    TrainInputs,
    TrainResult,
)
from training.algorithms.configs import GrpoRunConfig
from training.algorithms.trainer import fit, load_splits, trl_trainer


def train(config: GrpoRunConfig, inputs: TrainInputs, hooks: RunHooks) -> TrainResult:
    """Optimise ``inputs.base_model`` on the export's prompts against ``inputs.reward_model``."""
    if inputs.reward_model is None:
        raise ValueError(f"{config.estimator} needs inputs.reward_model (a reward model dir)")
    if hooks.should_stop():
        return TrainResult(inputs.output_dir, cancelled=True)
    train_rows, eval_rows = splits = load_splits(inputs)
    group = config.group_size
    common = {
        **config.trainer_arguments(inputs, has_eval=eval_rows is not None),
        "num_generations": group,
        # TRL evaluates a prompt's whole group in one batch ("shape '[-1, G]' is invalid" else).
        "per_device_eval_batch_size": group * math.ceil(config.per_device_train_batch_size / group),
        "beta": config.kl_coef,
        "max_completion_length": config.max_completion_length,
        "temperature": config.temperature,
        "num_iterations": config.num_iterations,
        "epsilon": config.epsilon,
    }
    if config.estimator == "grpo":
        from trl import GRPOConfig as TrlConfig
        from trl import GRPOTrainer as TrlTrainer

        args = TrlConfig(**common, loss_type=config.loss_type, scale_rewards=config.scale_rewards)
    else:
        from trl import RLOOConfig as TrlConfig
        from trl import RLOOTrainer as TrlTrainer

        args = TrlConfig(**common, normalize_advantages=config.normalize_advantages)
    trainer = trl_trainer(
        TrlTrainer,
        args,
        inputs,
        hooks,
        splits,
        adapter=config.adapter,
        reward_funcs=str(inputs.reward_model),
    )
    result = fit(*trainer, inputs)
    result.metrics["train_prompts"] = float(len(train_rows))
    return result

"""The built-in algorithms that sample their own responses and score them with a reward model:
PPO, GRPO and RLOO. Each config, then its registry entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from training.algorithms.base import (
    ScaleConfig,
    TrainerRunConfig,
    config_field,
    require,
)
from training.algorithms.registry import register_built_in


def sampling_policy(kind: str, label: str, config: type, **fields):
    """An algorithm that samples from the policy and scores it with a reward model, against
    a frozen reference (the KL term), on the snapshot's prompts."""
    family = {"view": "prompts", "output_kind": "policy", "needs_reward_model": True}
    return register_built_in(kind, label, config, needs_reference=True, **family, **fields)


Estimator = Literal["grpo", "rloo"]

# Defaults that differ by estimator, used when the config leaves the field at None.
GROUP_SIZE = {"grpo": 64, "rloo": 4}  # Shao et al. 2024 §4.2: 64; Ahmadian et al. 2024: k = 4
KL_COEF = {"grpo": 0.04, "rloo": 0.05}  # Shao et al. 2024 §4.2: 0.04; TRL RLOOConfig: 0.05


@dataclass(frozen=True)
class PpoRunConfig(ScaleConfig):
    """A PPO run's settings; each default cites where it comes from. ``validate()`` checks
    ranges and raises ValueError("field: reason")."""

    max_steps: int = config_field(100, "Rollout → ppo_epochs update iterations.")
    rollout_batch_size: int = config_field(
        64, "Prompts per rollout (TRL examples: 64; Ziegler et al. 2019: 512)."
    )
    minibatch_size: int = config_field(
        8, "Rollouts per optimizer step; must divide rollout_batch_size."
    )
    ppo_epochs: int = config_field(4, "Passes over each rollout batch (Ziegler et al. 2019; TRL).")
    learning_rate: float = config_field(
        1e-5, "Ziegler et al. 2019: 1.41e-5; the tiny world wants ~1e-3."
    )
    max_grad_norm: float | None = config_field(
        1.0, "Gradient clipping norm (TRL / transformers default); None: no clipping."
    )
    kl_coef: float = config_field(
        0.05, "β, the KL penalty: TRL and Stiennon et al. 2020; InstructGPT used 0.02."
    )
    gamma: float = config_field(1.0, "Discount; 1: none within a response (Ziegler et al.; TRL).")
    lam: float = config_field(0.95, "GAE λ (Ziegler et al. 2019; TRL).")
    clip_range: float = config_field(0.2, "Policy ratio clip ε (Schulman et al. 2017; TRL).")
    clip_range_value: float | None = config_field(
        0.2, "Value clip ε_v; None: unclipped value loss (TRL: 0.2)."
    )
    vf_coef: float = config_field(
        0.1, "c_vf: loss = actor + 0.1 · critic (Ziegler et al. 2019; TRL)."
    )
    ptx_coef: float = config_field(
        0.0, "γ_ptx: 0 is plain PPO; InstructGPT's PPO-ptx used 27.8 (Ouyang et al. 2022)."
    )
    max_prompt_length: int = config_field(
        512, "Longer prompts are dropped (and counted), never truncated."
    )
    max_new_tokens: int = config_field(
        128, "Longest sampled response (TRL: 53 for TL;DR summaries; chat replies run longer)."
    )
    temperature: float = config_field(1.0, "Sample from π itself (TRL used 0.7).")
    top_p: float = config_field(1.0, "Nucleus sampling mass; 1: the whole distribution.")
    score_clip: float | None = config_field(
        None, 'Clip the reward R(x, y) to [−c, c] ("clipped RM score"); None: no clipping.'
    )
    whiten_scores: bool = config_field(False, "Standardise R(x, y) over each rollout batch.")
    missing_eos_penalty: float | None = config_field(
        None, "Subtracted from R when a response has no EOS (TRL); None: no penalty."
    )
    critic_init: Literal["reward_model", "base_model"] = config_field(
        "reward_model",
        "Initialise the value model from the reward model (InstructGPT) or the base.",
    )
    save_steps: int = config_field(50, "Checkpoint every this many iterations.")
    save_total_limit: int | None = config_field(
        2, "Keep only the newest checkpoints; None keeps all."
    )
    seed: int | None = config_field(None, "Training seed; None: the run's seed.")

    def validate(self) -> None:
        positive = ["max_steps", "rollout_batch_size", "minibatch_size", "ppo_epochs"]
        positive += ["learning_rate", "clip_range", "max_prompt_length", "max_new_tokens"]
        positive += ["temperature", "top_p", "save_steps"]
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be > 0")
        for name in ["kl_coef", "vf_coef", "ptx_coef"]:
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0")
        for name in ["max_grad_norm", "clip_range_value", "score_clip", "save_total_limit"]:
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be > 0 or null")
        if self.missing_eos_penalty is not None and self.missing_eos_penalty < 0:
            raise ValueError("missing_eos_penalty: must be >= 0 (it is subtracted)")
        for name in ["gamma", "lam", "top_p"]:
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name}: must be in [0, 1]")
        if self.rollout_batch_size % self.minibatch_size:
            raise ValueError("minibatch_size: must divide rollout_batch_size")
        self.validate_scale()
        # Flywheel's PPO loop (training.algorithms.ppo) is written for one process.
        require(self.processes == 1, "processes", "PPO runs in one process (use GRPO/RLOO)")


PPO = sampling_policy("ppo", "PPO", PpoRunConfig, loop_role="policy")


@dataclass(frozen=True)
class GrpoRunConfig(TrainerRunConfig):
    estimator: Estimator = config_field(
        "grpo", "grpo: group-normalised advantages; rloo: leave-one-out baseline."
    )
    learning_rate: float = config_field(1e-6, "Shao et al. 2024 (§4.2): 1e-6.")
    per_device_train_batch_size: int = config_field(
        8, "Completions (not prompts) per device per pass."
    )
    gradient_accumulation_steps: int = config_field(
        8,
        "Passes per optimizer step; one generation batch of per-device batch × this "
        "completions per step, which must be a multiple of num_generations.",
    )
    num_generations: int | None = config_field(
        None,
        "Group size G per prompt; None: 64 for grpo (Shao et al. 2024), 4 for rloo "
        "(Ahmadian et al. 2024).",
    )
    beta: float | None = config_field(
        None,
        "KL coefficient to the reference; 0 skips loading it. None: 0.04 for grpo (Shao et al. "
        "2024), 0.05 for rloo (TRL).",
    )
    max_completion_length: int = config_field(512, "Longest sampled response in tokens (TRL).")
    temperature: float = config_field(1.0, "Sampling temperature for the group (TRL).")
    num_iterations: int = config_field(
        1, "Policy updates per generation batch, μ (Shao et al. 2024: 1)."
    )
    epsilon: float = config_field(0.2, "Ratio clip ε (PPO, Schulman et al. 2017; TRL).")
    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo"] = config_field(
        "dapo",
        "grpo only. grpo: the paper's per-sequence mean (length-biased, Liu et al. 2025); "
        "dr_grpo: constant normaliser; dapo: per token over the batch (Yu et al. 2025; TRL); "
        "bnpo: per token over the local batch.",
    )
    scale_rewards: Literal["group", "batch", "none"] = config_field(
        "group",
        "grpo only. Divide advantages by the group's std (Shao et al. 2024), the batch's, or "
        "not at all (Dr. GRPO, Liu et al. 2025).",
    )
    normalize_advantages: bool = config_field(
        False, "rloo only. Whiten advantages over the generation batch (TRL default: off)."
    )

    @property
    def group_size(self) -> int:
        return GROUP_SIZE[self.estimator] if self.num_generations is None else self.num_generations

    @property
    def kl_coef(self) -> float:
        return KL_COEF[self.estimator] if self.beta is None else self.beta

    def validate(self) -> None:
        super().validate()
        require(self.group_size >= 2, "num_generations", "must be >= 2 (the group is the baseline)")
        completions = self.per_device_train_batch_size * self.gradient_accumulation_steps
        require(
            completions % self.group_size == 0,
            "num_generations",
            f"must divide per_device_train_batch_size × gradient_accumulation_steps "
            f"({completions}) so every prompt gets a full group",
        )
        require(self.kl_coef >= 0, "beta", "must be >= 0")
        require(self.max_completion_length >= 1, "max_completion_length", "must be >= 1")
        require(self.temperature > 0, "temperature", "must be > 0")
        require(self.num_iterations >= 1, "num_iterations", "must be >= 1")
        require(self.epsilon > 0, "epsilon", "must be > 0")


GRPO = sampling_policy("grpo", "GRPO", GrpoRunConfig, loop_role="policy")


@dataclass(frozen=True)
class RlooRunConfig(GrpoRunConfig):
    """The same fields with ``estimator="rloo"`` by default (the platform's ``rloo`` kind)."""

    estimator: Estimator = config_field(
        "rloo", "grpo: group-normalised advantages; rloo: leave-one-out baseline."
    )


RLOO = sampling_policy("rloo", "RLOO", RlooRunConfig, module="grpo")

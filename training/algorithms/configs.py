"""The built-in algorithms: each one's config (a frozen dataclass with literature defaults and
help per field) and, right below it, its registry entry (``registry.Algorithm``). Plain Python
(no torch), so the web process validates a run's config before queueing it; each algorithm
module imports its config from here and holds the ``train`` entry the registry names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from training.algorithms.base import (
    LrSchedule,
    TrainerRunConfig,
    config_field,
    require,
)
from training.algorithms.registry import Algorithm, algorithms, register

DpoLossType = Literal[
    "sigmoid",
    "hinge",
    "ipo",
    "exo_pair",
    "nca_pair",
    "robust",
    "bco_pair",
    "sppo_hard",
    "aot",
    "aot_unpaired",
    "apo_zero",
    "apo_down",
    "discopop",
    "sft",
    "sigmoid_norm",
]  # TRL 1.16 DPOConfig.loss_type

Estimator = Literal["grpo", "rloo"]

# Defaults that differ by estimator, used when the config leaves the field at None.
GROUP_SIZE = {"grpo": 64, "rloo": 4}  # Shao et al. 2024 §4.2: 64; Ahmadian et al. 2024: k = 4
KL_COEF = {"grpo": 0.04, "rloo": 0.05}  # Shao et al. 2024 §4.2: 0.04; TRL RLOOConfig: 0.05


@dataclass(frozen=True)
class SftRunConfig(TrainerRunConfig):
    learning_rate: float = config_field(2e-5, "Llama 2 SFT (Touvron et al. 2023, §3.1): 2e-5.")
    num_train_epochs: float = config_field(
        2.0,
        "Llama 2: 2 epochs. InstructGPT ran 16 and chose by RM score: slight overfitting of "
        "SFT helps the later RL (Ouyang et al. 2022, §3.5).",
    )
    lr_scheduler_type: LrSchedule = config_field("cosine", "Cosine decay (Llama 2; InstructGPT).")
    weight_decay: float = config_field(0.1, "Llama 2: 0.1.")
    gradient_accumulation_steps: int = config_field(
        8, "8 × 8 = 64 sequences per step (Llama 2: batch size 64)."
    )
    max_length: int | None = config_field(
        1024, "Truncate conversations to this many tokens (Llama 2: 4096)."
    )
    assistant_only_loss: bool = config_field(
        True,
        "Loss on assistant tokens only (prompt masked with −100); needs {% generation %} "
        "markers in the chat template. False: loss on every token.",
    )
    packing: bool = config_field(
        False, "Pack several conversations into one max_length sequence (TRL best-fit)."
    )

    def validate(self) -> None:
        super().validate()
        require(self.max_length is None or self.max_length >= 8, "max_length", "must be >= 8")


SFT = register(
    Algorithm(
        kind="sft",
        label="SFT",
        config=SftRunConfig,
        train="training.algorithms.sft:train",
        view="sft",
        output_kind="sft",
    )
)


@dataclass(frozen=True)
class RewardRunConfig(TrainerRunConfig):
    learning_rate: float = config_field(
        9e-6, "InstructGPT's 6B RM: 9e-6 with a cosine schedule (Ouyang et al. 2022, App. C.2)."
    )
    num_train_epochs: float = config_field(
        1.0, "One epoch: more overfits the RM (Ouyang et al. 2022, §3.5; Llama 2 §3.2.2)."
    )
    lr_scheduler_type: LrSchedule = config_field("cosine", "Cosine decay (Ouyang et al. 2022).")
    per_device_train_batch_size: int = config_field(8, "Comparison pairs per device per pass.")
    gradient_accumulation_steps: int = config_field(
        8, "8 × 8 = 64 pairs per step; InstructGPT used 64 prompts of C(K, 2) pairs each."
    )
    max_length: int | None = config_field(
        1024, "Longest prompt + response in tokens; longer pairs are dropped (TRL), not cut."
    )
    use_margin: bool = config_field(
        True,
        "Subtract the export's tier margin inside the sigmoid (Llama 2, Touvron et al. 2023, "
        "§3.2.2); False: InstructGPT's plain pairwise loss.",
    )
    center_rewards_coefficient: float | None = config_field(
        None,
        "Weight of the mean-zero penalty E[(r_w + r_l)²] (Eisenstein et al. 2023, Eq. 2; "
        "0.01 recommended); None: off.",
    )
    group_comparisons_by_set: bool = config_field(
        True,
        "Shuffle whole candidate sets and read them in order, so a set's comparisons share a "
        "batch (InstructGPT §3.5); False: shuffle pairs individually (TRL's default).",
    )

    def validate(self) -> None:
        super().validate()
        require(self.max_length is None or self.max_length >= 8, "max_length", "must be >= 8")
        require(
            self.center_rewards_coefficient is None or self.center_rewards_coefficient >= 0,
            "center_rewards_coefficient",
            "must be >= 0",
        )


REWARD = register(
    Algorithm(
        kind="reward",
        label="Reward model",
        config=RewardRunConfig,
        train="training.algorithms.reward:train",
        view="preference",
        output_kind="reward",
        loop_role="reward",
    )
)


@dataclass(frozen=True)
class DpoRunConfig(TrainerRunConfig):
    learning_rate: float = config_field(1e-6, "Rafailov et al. 2023, App. B: 1e-6.")
    lr_scheduler_type: LrSchedule = config_field(
        "constant_with_warmup", "Linear warmup, then constant (the DPO reference code)."
    )
    warmup_steps: int = config_field(150, "Rafailov et al. 2023, App. B: warmup over 150 steps.")
    gradient_accumulation_steps: int = config_field(
        8, "8 × 8 = 64 pairs per step (Rafailov et al. 2023: batch size 64)."
    )
    max_length: int | None = config_field(
        1024, "Prompt + response tokens; longer pairs are truncated (TRL keep_start)."
    )
    beta: float = config_field(
        0.1,
        "KL strength β; higher stays closer to the reference (Rafailov et al. 2023: 0.1). For "
        "ipo it is the regulariser τ (Azar et al. 2023).",
    )
    loss_type: DpoLossType = config_field(
        "sigmoid",
        "sigmoid: DPO; hinge: SLiC; ipo: IPO; robust: robust DPO for noisy labels "
        "(Chowdhury et al. 2024); others as TRL 1.16's DPOConfig documents them.",
    )
    label_smoothing: float = config_field(
        0.0,
        "robust: assumed probability that a label is flipped, in [0, 0.5) (paper: 0.1); "
        "exo_pair: ε > 0 (Ji et al. 2024: 1e-3). Ignored by other losses.",
    )
    discopop_tau: float = config_field(0.05, "discopop temperature (Chris Lu et al. 2024).")
    rpo_alpha: float = config_field(
        0.0,
        "Weight of a negative log-likelihood term on the chosen responses, added to the loss "
        "(RPO: Pang et al. 2024, 1.0). It keeps the policy's likelihood of good text up while "
        "the margin grows, so the format does not degrade; 0 is plain DPO.",
    )
    precompute_ref_log_probs: bool = config_field(
        False, "Score the reference once before training, then free it (saves memory)."
    )

    def validate(self) -> None:
        super().validate()
        require(self.max_length is None or self.max_length >= 8, "max_length", "must be >= 8")
        require(self.beta > 0, "beta", "must be > 0")
        require(0 <= self.label_smoothing < 0.5, "label_smoothing", "must be in [0, 0.5)")
        require(
            self.loss_type != "exo_pair" or self.label_smoothing > 0,
            "label_smoothing",
            "exo_pair needs label_smoothing > 0 (its loss has log ε)",
        )
        require(self.discopop_tau > 0, "discopop_tau", "must be > 0")
        require(self.rpo_alpha >= 0, "rpo_alpha", "must be >= 0")
        require(
            self.rpo_alpha == 0 or self.loss_type != "sft",
            "rpo_alpha",
            'loss_type "sft" is already the NLL term alone',
        )


DPO = register(
    Algorithm(
        kind="dpo",
        label="DPO",
        config=DpoRunConfig,
        train="training.algorithms.dpo:train",
        view="preference",
        output_kind="policy",
        needs_reference=True,
        loop_role="policy",
        # Round after round DPO can grow the margin by pushing both likelihoods down; the NLL
        # term on chosen keeps the policy's own text likely (RPO, Pang et al. 2024: 1.0).
        loop_preset={"rpo_alpha": 1.0},
    )
)


@dataclass(frozen=True)
class KtoRunConfig(TrainerRunConfig):
    learning_rate: float = config_field(1e-6, "TRL KTOConfig's default (DPO's 1e-6 regime).")
    per_device_train_batch_size: int = config_field(
        8, "Rows per device per pass; must be > 1: the KL estimate pairs rows within a batch."
    )
    gradient_accumulation_steps: int = config_field(8, "8 × 8 = 64 rows per step, as DPO's.")
    max_length: int | None = config_field(
        1024, "Prompt + response tokens; longer rows are truncated (TRL)."
    )
    beta: float = config_field(0.1, "KL strength β (Ethayarajh et al. 2024: 0.1, as DPO).")
    desirable_weight: float = config_field(
        1.0,
        "λ_D. Keep λ_D·n_D / (λ_U·n_U) in [1, 4/3] (Ethayarajh et al. 2024); raise it "
        "when desirable rows are scarcer. TRL warns when the ratio is outside.",
    )
    undesirable_weight: float = config_field(1.0, "λ_U (Ethayarajh et al. 2024: 1.0).")
    loss_type: Literal["kto", "apo_zero_unpaired"] = config_field(
        "kto",
        "kto: KTO; apo_zero_unpaired: APO-zero without a KL term (D'Oosterlinck et al. 2024).",
    )
    shuffle_seeded: bool = config_field(
        True,
        "Shuffle the rows with the seed before training (exports list a set's rows together; "
        "KTO reads rows in order).",
    )

    def validate(self) -> None:
        super().validate()
        require(self.max_length is None or self.max_length >= 8, "max_length", "must be >= 8")
        require(self.beta > 0, "beta", "must be > 0")
        require(self.desirable_weight > 0, "desirable_weight", "must be > 0")
        require(self.undesirable_weight > 0, "undesirable_weight", "must be > 0")
        require(
            self.loss_type != "kto" or self.per_device_train_batch_size > 1,
            "per_device_train_batch_size",
            "must be > 1 for loss_type 'kto' (its KL estimate pairs rows of a batch)",
        )


KTO = register(
    Algorithm(
        kind="kto",
        label="KTO",
        config=KtoRunConfig,
        train="training.algorithms.kto:train",
        view="kto",
        output_kind="policy",
        needs_reference=True,
    )
)


@dataclass(frozen=True)
class PpoRunConfig:
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


PPO = register(
    Algorithm(
        kind="ppo",
        label="PPO",
        config=PpoRunConfig,
        train="training.algorithms.ppo:train",
        view="prompts",
        output_kind="policy",
        needs_reward_model=True,
        needs_reference=True,
        loop_role="policy",
    )
)


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


GRPO = register(
    Algorithm(
        kind="grpo",
        label="GRPO",
        config=GrpoRunConfig,
        train="training.algorithms.grpo:train",
        view="prompts",
        output_kind="policy",
        needs_reward_model=True,
        needs_reference=True,
        loop_role="policy",
    )
)


@dataclass(frozen=True)
class RlooRunConfig(GrpoRunConfig):
    """The same fields with ``estimator="rloo"`` by default (the platform's ``rloo`` kind)."""

    estimator: Estimator = config_field(
        "rloo", "grpo: group-normalised advantages; rloo: leave-one-out baseline."
    )


RLOO = register(
    Algorithm(
        kind="rloo",
        label="RLOO",
        config=RlooRunConfig,
        train="training.algorithms.grpo:train",
        view="prompts",
        output_kind="policy",
        needs_reward_model=True,
        needs_reference=True,
    )
)


def __getattr__(name: str):
    # Derived from the registry when read, so that it also lists the algorithms of
    # settings.FLYWHEEL_ALGORITHMS (those import this module, so they load after it).
    if name == "RUN_CONFIGS":
        return {a.kind: a.config for a in algorithms()}
    raise AttributeError(name)


def parse_run_config(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Validate a run's config for its kind; returns it with defaults filled in (what the run
    records). Raises ValueError("field: reason")."""
    from training.algorithms.registry import algorithm

    return algorithm(kind).parse_config(values)

"""The built-in algorithms that learn from human preferences as exported: SFT, the reward
model, DPO and KTO. Each config, then its registry entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from training.algorithms.base import (
    LrSchedule,
    TrainerRunConfig,
    config_field,
    require,
)
from training.algorithms.registry import register_built_in

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


SFT = register_built_in("sft", "SFT", SftRunConfig, view="sft", output_kind="sft")


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


REWARD = register_built_in(
    "reward",
    "Reward model",
    RewardRunConfig,
    view="preference",
    output_kind="reward",
    loop_role="reward",
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


# Round after round DPO can grow the margin by pushing both likelihoods down; the NLL
# term on chosen keeps the policy's own text likely (RPO, Pang et al. 2024: 1.0).
DPO = register_built_in(
    "dpo",
    "DPO",
    DpoRunConfig,
    view="preference",
    output_kind="policy",
    needs_reference=True,
    loop_role="policy",
    loop_preset={"rpo_alpha": 1.0},
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


KTO = register_built_in(
    "kto", "KTO", KtoRunConfig, view="kto", output_kind="policy", needs_reference=True
)

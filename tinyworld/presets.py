"""Loop settings tuned for the tiny world (DESIGN.md): used by `make demo`, the end-to-end
loop tests and `bench/loop.py`, so the three show the same thing. Measured values are in
bench/RESULTS.md; the defaults of the run configs (literature values for real models) do not
move a 0.4 M-parameter model in a round, hence the higher learning rates here."""

from __future__ import annotations

from typing import Any

from .oracle import ORACLE_OF_RULE

# 3e-4, not 1e-3 × 2: the higher rate learns a preference shared by every prompt (the polite
# rule) and nothing that depends on the prompt; with three sets per prompt
# (``TINYWORLD_SETS_PER_PROMPT``) 3e-4 × 4 took the topic rule's held-out accuracy 0.56 → 0.79
# and the template rule's 0.55 → 0.93, and kept the polite rule (0.85 → 0.88; bench/RESULTS.md).
# Eight epochs, not four: on a round's own snapshot (the 80 % train split) four epochs learnt
# the topic rule for some training seeds and not others (held-out 0.70 / 0.51 / 0.72 for seeds
# 0 / 1 / 2 on one snapshot: the run stays on the "ignore the prompt" plateau until late);
# eight gave 0.77 / 0.68 / 0.80 (bench/reward_snapshot.py, bench/RESULTS.md). The reward and judge
# runs take twice as long.
TINYWORLD_REWARD_CONFIG: dict[str, Any] = {
    "learning_rate": 3e-4,
    "num_train_epochs": 8.0,
    "per_device_train_batch_size": 16,
    "gradient_accumulation_steps": 1,
    "warmup_steps": 0,
    "logging_steps": 5,
    "save_steps": 10_000,
}

TINYWORLD_POLICY_CONFIGS: dict[str, dict[str, Any]] = {
    # Six epochs, not three: a closing that depends on the prompt's topic is learned late (the
    # topic rule's held-out trait rate 0.41 → 0.48 after three epochs at 5e-4, 0.90 after six;
    # 2e-4 × 6 gave 0.48, 1e-3 × 3 0.81 with fewer well-formed replies; bench/policy_rules.py).
    "dpo": {
        "learning_rate": 5e-4,
        "num_train_epochs": 6.0,
        "per_device_train_batch_size": 16,
        "gradient_accumulation_steps": 1,
        "warmup_steps": 0,
        "beta": 0.1,
        "rpo_alpha": 1.0,
        "logging_steps": 5,
        "save_steps": 10_000,
    },
    # 1e-3 (the rate that teaches a random policy a toy rule in test_ppo) wrecks a trained
    # SFT policy in two iterations: KL ≈ 10 → 100 and the replies turn to RM-pleasing noise
    # (trait and format rates 0). With β = 0.1 and two epochs per rollout it moves smoothly:
    # 1e-4 × 40 iterations took the trait rate 0.34 → 0.95, 1.5e-4 × 20 → 0.94 in half the time.
    "ppo": {
        "learning_rate": 1.5e-4,
        "max_steps": 20,
        "rollout_batch_size": 32,
        "minibatch_size": 8,
        "ppo_epochs": 2,
        "kl_coef": 0.1,
        "max_new_tokens": 48,
        "missing_eos_penalty": 1.0,
        "save_steps": 10_000,
    },
    "grpo": {
        "learning_rate": 1e-3,
        "max_steps": 30,
        "num_generations": 4,
        "per_device_train_batch_size": 16,
        "gradient_accumulation_steps": 1,
        "max_completion_length": 48,
        "logging_steps": 5,
        "save_steps": 10_000,
    },
}

TINYWORLD_SAMPLING: dict[str, Any] = {"max_new_tokens": 64, "batch_size": 64}
# Independent sets of K per prompt each round: a topic has ~5 train prompts, and a preference
# that depends on the topic needs several comparisons per prompt (one set memorised prompts:
# train accuracy 0.84, held-out 0.56).
TINYWORLD_SETS_PER_PROMPT = 3


# LoRA on the tiny world: rank 16 of a 64-wide model with the output head trained in full (the
# trait is a choice of words: without the head a round reached 0.80, with it 0.95, as full
# fine-tuning), and learning rates × ADAPTER_LR_SCALE (an adapter's updates start from zero and
# are scaled by alpha / r; ×10 and ×20 overshoot the policy).
TINYWORLD_ADAPTER: dict[str, Any] = {"r": 16, "alpha": 32, "dropout": 0.0, "train_head": True}
ADAPTER_LR_SCALE = {"reward": 10.0, "policy": 4.0}


def tinyworld_loop_settings(
    *,
    policy_kind: str = "dpo",
    eval_prompts: list | None = None,
    adapter: bool = False,
    rule: str = "polite",
    sets_per_prompt: int = TINYWORLD_SETS_PER_PROMPT,
) -> dict[str, Any]:
    """`loop_update` changes for a tiny-world project (``adapter``: rounds train LoRA
    adapters; ``rule``: the hidden rule whose oracle scores the rounds' policies;
    ``sets_per_prompt``: independent sets of K per prompt each round, which a prompt-dependent
    rule needs: three took the topic rule's held-out accuracy 0.56 → 0.79, bench/RESULTS.md)."""
    reward, policy = TINYWORLD_REWARD_CONFIG, TINYWORLD_POLICY_CONFIGS[policy_kind]
    if adapter:
        reward, policy = (
            config | {"learning_rate": config["learning_rate"] * ADAPTER_LR_SCALE[role]}
            for role, config in (("reward", reward), ("policy", policy))
        )
    return {
        "policy_kind": policy_kind,
        "adapter": TINYWORLD_ADAPTER if adapter else None,
        "reward_config": reward,
        "policy_config": policy,
        "sampling": TINYWORLD_SAMPLING,
        "oracle": ORACLE_OF_RULE[rule],
        "eval_prompts": eval_prompts or [],
        "eval_samples_per_prompt": 4,
        "eval_max_new_tokens": 64,
        "sets_per_prompt": sets_per_prompt,
    }

"""Sample from a policy and score the samples by the hidden rule: the tiny world's "number no one
can fake". A preference round (DPO, PPO, ...) on tiny-world data must raise `trait_rate` on the
held-out prompts over the SFT policy's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.generation import sample_saved_model

from .oracle import trait_rates
from .scorer import DEFAULT_RULE, hidden_rule_score
from .world import Messages


@dataclass(frozen=True)
class PolicyEval:
    samples: int
    trait_rate: float  # share of samples with the closing the rule prefers for their prompt
    well_formed_rate: float  # share in the task's format (body sentences, then a closing)
    relevance_rate: float  # share that name the prompt's topic
    finished_rate: float  # share that ended their turn within max_new_tokens
    mean_score: float  # mean hidden-rule score


def evaluate_policy(
    model_path: str | Path,
    prompts: Sequence[Messages],
    *,
    samples_per_prompt: int = 4,
    max_new_tokens: int = 64,
    rule: str = DEFAULT_RULE,
    **options: Any,
) -> PolicyEval:
    """Sample from the model saved at `model_path` with the product's sampler
    (`training.generation.sample_saved_model`; `options`: sampling overriding its defaults,
    seed, batch_size, cpu_threads) and score every sample by the hidden rule `rule`."""
    texts, finished = sample_saved_model(
        str(model_path), prompts, n=samples_per_prompt, max_new_tokens=max_new_tokens, **options
    )
    pairs = [(p, t) for p, replies in zip(prompts, texts, strict=True) for t in replies]
    n = len(pairs)
    return PolicyEval(
        samples=n,
        **trait_rates(prompts, texts, rule=rule),
        finished_rate=sum(f for row in finished for f in row) / n,
        mean_score=sum(hidden_rule_score(p, t, rule=rule) for p, t in pairs) / n,
    )


def preferred_trait_rate(
    model_path: str | Path,
    prompts: Sequence[Messages],
    *,
    rule: str = DEFAULT_RULE,
    **options: Any,
) -> float:
    """Share of the policy's samples that show the trait `rule` prefers (`evaluate_policy`'s
    `options`)."""
    return evaluate_policy(model_path, prompts, rule=rule, **options).trait_rate

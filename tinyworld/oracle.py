"""The tiny world's hidden rules as loop oracles: the rates a round records for each policy's
evaluation samples beside the reward model's scores.

The loop names these functions in ``settings.FLYWHEEL_ORACLES`` (one oracle per hidden rule,
`ORACLE_OF_RULE`) and imports them by that path when a round is evaluated
(``loop.services.evaluation``), so the product never imports the tiny world. Imports no torch."""

from __future__ import annotations

from collections.abc import Sequence

from .scorer import DEFAULT_RULE, has_preferred_trait, is_relevant, is_well_formed, rule_named
from .world import Messages

# A hidden rule (scorer.RULES) → the name of the loop oracle that scores by it (`Loop.oracle`).
ORACLE_OF_RULE = {
    "polite": "tinyworld",
    "topic": "tinyworld-topic",
    "template": "tinyworld-template",
}


def trait_rates(
    prompts: Sequence[Messages], samples: Sequence[Sequence[str]], *, rule: str = DEFAULT_RULE
) -> dict[str, float]:
    """Shares of the samples (``samples[i]``: the replies to ``prompts[i]``) that end with a
    closing `rule` prefers for their prompt, are in the task's format, and name the prompt's
    topic; 0 for no samples."""
    rule_named(rule)
    pairs = [(p, t) for p, texts in zip(prompts, samples, strict=True) for t in texts]
    n = len(pairs) or 1
    return {
        "trait_rate": sum(has_preferred_trait(p, t, rule=rule) for p, t in pairs) / n,
        "well_formed_rate": sum(is_well_formed(t) for _, t in pairs) / n,
        "relevance_rate": sum(is_relevant(p, t) for p, t in pairs) / n,
    }


def topic_trait_rates(
    prompts: Sequence[Messages], samples: Sequence[Sequence[str]]
) -> dict[str, float]:
    """`trait_rates` under the ``topic`` rule (the ``tinyworld-topic`` oracle)."""
    return trait_rates(prompts, samples, rule="topic")


def template_trait_rates(
    prompts: Sequence[Messages], samples: Sequence[Sequence[str]]
) -> dict[str, float]:
    """`trait_rates` under the ``template`` rule (the ``tinyworld-template`` oracle)."""
    return trait_rates(prompts, samples, rule="template")

"""The tiny world's hidden rule and the simulated annotator who ranks by it.

The hidden rule scores a response to a prompt; higher is better:

    score = 1.0 · [ends with a polite closing]  +  0.25 · [mentions the prompt's topic]

The trait term dominates (any polite response beats any neutral one), and the relevance term
splits each side into tiers, so a ranking of K has more than two tiers and equal scores tie. Both
terms are exact checks on the text, so they score model samples as well as templated responses;
the preferred-trait rate of policy samples is the number a training round must move.

The simulated annotator ranks by the rule with noise: with probability `noise` a response's score
is replaced by a uniform guess over the rule's range (an annotator who skimmed that one). Noise 0
gives the exact tiers; noise 1 gives a random ranking.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any

from .world import (
    NEUTRAL_CLOSINGS,
    POLITE_CLOSINGS,
    Messages,
    candidate_responses,
    mentions_topic,
    prompt_topic,
    sentences,
)

TRAIT_WEIGHT = 1.0
RELEVANCE_WEIGHT = 0.25
MAX_SCORE = TRAIT_WEIGHT + RELEVANCE_WEIGHT

_POLITE = frozenset(POLITE_CLOSINGS)
_CLOSINGS = _POLITE | frozenset(NEUTRAL_CLOSINGS)


def has_preferred_trait(prompt: Messages | str, response: str) -> bool:
    """True when the response's last sentence is one of the polite closings, exactly. (`prompt`
    is unused: the trait is the same for every prompt. It is taken so that every rule in this
    module has the same signature.)"""
    parts = sentences(response)
    return bool(parts) and parts[-1] in _POLITE


def is_relevant(prompt: Messages | str, response: str) -> bool:
    """True when the response names the prompt's topic (always False for a prompt from outside
    the tiny world, which has no topic)."""
    topic = prompt_topic(prompt)
    return topic is not None and mentions_topic(response, topic)


def is_well_formed(response: str) -> bool:
    """The task's format, whatever the trait: at least one sentence before a closing (polite or
    neutral) that ends the response. Not part of the score; a check that a policy writes the
    format at all, so that its trait rate means something."""
    parts = sentences(response)
    return len(parts) >= 2 and parts[-1] in _CLOSINGS


def hidden_rule_score(prompt: Messages | str, response: str) -> float:
    return TRAIT_WEIGHT * has_preferred_trait(prompt, response) + RELEVANCE_WEIGHT * is_relevant(
        prompt, response
    )


def simulated_ranking(
    prompt: Messages | str, responses: Sequence[str], *, noise: float, rng: random.Random
) -> list[list[int]]:
    """Tiers of response indices, best to worst, by the hidden rule with noise (see the module
    docstring). Responses with equal (unperturbed) scores share a tier; indices within a tier
    are in ascending order."""
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise}")
    scores = []
    for response in responses:
        score = hidden_rule_score(prompt, response)
        if noise and rng.random() < noise:
            score = rng.uniform(0.0, MAX_SCORE)
        scores.append(score)
    order = sorted(range(len(responses)), key=lambda i: (-scores[i], i))
    return [list(group) for _, group in itertools.groupby(order, key=lambda i: scores[i])]


def pairs_from_tiers(tiers: list[list[int]]) -> list[tuple[int, int]]:
    """Every (better, worse) pair across tiers, none within one (InstructGPT's C(K, 2) with ties;
    Flywheel's `pairs=all`)."""
    return [
        (w, lo)
        for a, better in enumerate(tiers)
        for worse in tiers[a + 1 :]
        for w in better
        for lo in worse
    ]


def simulated_preference_pairs(
    prompts: Sequence[Messages],
    rng: random.Random,
    *,
    k: int = 4,
    noise: float = 0.0,
    trait_probability: float = 0.5,
    off_topic_probability: float = 0.2,
) -> list[dict[str, Any]]:
    """TRL-style conversational preference rows `{"prompt", "chosen", "rejected"}` from templated
    candidate sets of `k` ranked by the simulated annotator (no policy model needed)."""
    rows = []
    for prompt in prompts:
        responses = candidate_responses(
            prompt,
            k,
            rng,
            trait_probability=trait_probability,
            off_topic_probability=off_topic_probability,
        )
        tiers = simulated_ranking(prompt, responses, noise=noise, rng=rng)
        for w, lo in pairs_from_tiers(tiers):
            rows.append(
                {
                    "prompt": list(prompt),
                    "chosen": [{"role": "assistant", "content": responses[w]}],
                    "rejected": [{"role": "assistant", "content": responses[lo]}],
                }
            )
    return rows

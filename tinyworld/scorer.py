"""The tiny world's hidden rules and the simulated annotator who ranks by one.

A hidden rule scores a response to a prompt; higher is better:

    score = 1.0 · [ends with a closing the rule prefers for the prompt]
          + 0.25 · [mentions the prompt's topic]

The rules (`RULES`) differ only in which closings they prefer for a prompt (`Rule`):

- ``polite`` (the default, the rule the presets were tuned on): the polite closings for every
  prompt;
- ``topic``: prompts about a topic at an even position of `world.TOPICS` prefer the polite
  closings, those at an odd position the neutral ones;
- ``template``: prompts written from three of the six templates prefer the neutral closings,
  the other three the polite ones (`NEUTRAL_TEMPLATES`).

The last two are prompt-dependent preferences (issue 17): no single closing is right for every
prompt, so a reward model that ignores the prompt stays at chance on them. A prompt from outside
the tiny world (no topic, no template) gets the polite closings under every rule.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .world import (
    NEUTRAL_CLOSINGS,
    POLITE_CLOSINGS,
    TOPICS,
    Messages,
    candidate_responses,
    mentions_topic,
    prompt_template,
    prompt_topic,
    sentences,
)

TRAIT_WEIGHT = 1.0
RELEVANCE_WEIGHT = 0.25
MAX_SCORE = TRAIT_WEIGHT + RELEVANCE_WEIGHT

_POLITE = frozenset(POLITE_CLOSINGS)
_NEUTRAL = frozenset(NEUTRAL_CLOSINGS)
_CLOSINGS = _POLITE | _NEUTRAL

DEFAULT_RULE = "polite"
# The `template` rule's neutral half: three of world.PROMPT_TEMPLATES, matched whole.
NEUTRAL_TEMPLATES = frozenset(
    {"Write a few lines about {t}.", "Explain {t} to me.", "Say something about {t}."}
)


@dataclass(frozen=True)
class Rule:
    """A hidden rule's trait: the closings it prefers for a prompt (the relevance term is the
    same under every rule). `choose` maps a prompt to the preferred closings."""

    name: str
    description: str
    choose: Callable[[Messages | str], frozenset[str]]

    def preferred_closings(self, prompt: Messages | str) -> frozenset[str]:
        return self.choose(prompt)


def _polite_for_every_prompt(prompt: Messages | str) -> frozenset[str]:
    return _POLITE


def _by_topic_parity(prompt: Messages | str) -> frozenset[str]:
    topic = prompt_topic(prompt)
    return _NEUTRAL if topic is not None and TOPICS.index(topic) % 2 == 1 else _POLITE


def _by_template(prompt: Messages | str) -> frozenset[str]:
    return _NEUTRAL if prompt_template(prompt) in NEUTRAL_TEMPLATES else _POLITE


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "polite",
            "A polite closing (world.POLITE_CLOSINGS) is preferred for every prompt.",
            _polite_for_every_prompt,
        ),
        Rule(
            "topic",
            "Prompts about a topic at an even position of world.TOPICS prefer a polite closing, "
            "those at an odd position a neutral one (world.NEUTRAL_CLOSINGS).",
            _by_topic_parity,
        ),
        Rule(
            "template",
            "Prompts written as 'Write a few lines about …', 'Explain … to me.' or 'Say "
            "something about …' prefer a neutral closing, the other templates a polite one.",
            _by_template,
        ),
    )
}


def rule_named(name: str) -> Rule:
    """The rule registered as `name`; ValueError naming the known ones otherwise."""
    try:
        return RULES[name]
    except KeyError:
        raise ValueError(f"unknown rule {name!r} (one of {', '.join(RULES)})") from None


def has_preferred_trait(prompt: Messages | str, response: str, *, rule: str = DEFAULT_RULE) -> bool:
    """True when the response's last sentence is, exactly, one of the closings `rule` prefers
    for `prompt`."""
    parts = sentences(response)
    return bool(parts) and parts[-1] in rule_named(rule).preferred_closings(prompt)


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


def hidden_rule_score(prompt: Messages | str, response: str, *, rule: str = DEFAULT_RULE) -> float:
    trait = has_preferred_trait(prompt, response, rule=rule)
    return TRAIT_WEIGHT * trait + RELEVANCE_WEIGHT * is_relevant(prompt, response)


def simulated_ranking(
    prompt: Messages | str,
    responses: Sequence[str],
    *,
    noise: float,
    rng: random.Random,
    rule: str = DEFAULT_RULE,
) -> list[list[int]]:
    """Tiers of response indices, best to worst, by the hidden rule `rule` with noise (see the
    module docstring). Responses with equal (unperturbed) scores share a tier; indices within a
    tier are in ascending order."""
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise}")
    rule_named(rule)  # an unknown name fails even for an empty set
    scores = []
    for response in responses:
        score = hidden_rule_score(prompt, response, rule=rule)
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
    rule: str = DEFAULT_RULE,
) -> list[dict[str, Any]]:
    """TRL-style conversational preference rows `{"prompt", "chosen", "rejected"}` from templated
    candidate sets of `k` ranked by the simulated annotator under `rule` (no policy model
    needed). `trait_probability`: each candidate's chance of a polite closing, whatever the
    rule prefers."""
    rows = []
    for prompt in prompts:
        responses = candidate_responses(
            prompt,
            k,
            rng,
            trait_probability=trait_probability,
            off_topic_probability=off_topic_probability,
        )
        tiers = simulated_ranking(prompt, responses, noise=noise, rng=rng, rule=rule)
        for w, lo in pairs_from_tiers(tiers):
            rows.append(
                {
                    "prompt": list(prompt),
                    "chosen": [{"role": "assistant", "content": responses[w]}],
                    "rejected": [{"role": "assistant", "content": responses[lo]}],
                }
            )
    return rows

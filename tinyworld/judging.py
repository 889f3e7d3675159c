"""How a simulated annotator judges one task: the ranking, time and interaction it submits.

The judgement is `scorer.simulated_ranking` (a hidden rule, ``polite`` unless told otherwise,
with each response's score replaced by a guess with probability ``noise``), or one of the bad
behaviours that QC must catch:

- ``random``: a uniformly random strict order (a careless annotator; QC sees it only through
  agreement with others and with gold sets);
- ``always-first``: the display order untouched, with no interaction (the
  ``display_order_no_interaction`` signal, ``annotation.preference.qc``);
- ``too-fast``: an honest order with a time below the skimming floor (the ``too_fast`` signal).

Reported time and interaction are simulated (no one sleeps): an honest annotator reads
everything shown at 12–25 characters per second — below the 50 chars/s skimming rate that QC's
``too_fast`` treats as the floor — and spends 1–3 s per response deciding.

`annotators` is the HTTP client that fetches the tasks and submits these judgements.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .scorer import DEFAULT_RULE, simulated_ranking

# Simulated working time (see the module docstring). The honest reading speed stays below QC's
# 50 chars/s floor even at its fastest, so honest work never trips ``too_fast``; the too-fast
# behaviour stays below QC's 3 s minimum whatever the text length.
READING_CHARS_PER_SECOND = (12.0, 25.0)
DECIDING_SECONDS_PER_RESPONSE = (1.0, 3.0)
ORIENTING_SECONDS = 2.0
TOO_FAST_SECONDS = (0.3, 1.5)


class Behaviour(StrEnum):
    HONEST = "honest"
    RANDOM = "random"
    ALWAYS_FIRST = "always-first"
    TOO_FAST = "too-fast"


@dataclass(frozen=True)
class Judgement:
    """What an annotator submits for one task (the submit API's body, less the optional
    fields the simulation never fills)."""

    tiers: list[list[int]]
    time_spent_seconds: float
    interaction: dict[str, int]

    def payload(self) -> dict[str, Any]:
        return {
            "ranking": self.tiers,
            "time_spent_seconds": round(self.time_spent_seconds, 3),
            "interaction": self.interaction,
        }


def judge(
    task: Mapping[str, Any],
    *,
    behaviour: Behaviour,
    noise: float,
    rng: random.Random,
    allow_ties: bool = True,
    rule: str = DEFAULT_RULE,
) -> Judgement:
    """The ranking, time and interaction summary an annotator of ``behaviour`` submits for a
    next-task answer ``task`` (``{"prompt": messages, "candidates": [{id, text}]}`` in display
    order). An honest (or too-fast) annotator ranks by the hidden rule ``rule``."""
    shown = [c["id"] for c in task["candidates"]]
    by_id = sorted(task["candidates"], key=lambda c: c["id"])
    if behaviour == Behaviour.ALWAYS_FIRST:
        tiers = [[cid] for cid in shown]
    elif behaviour == Behaviour.RANDOM:
        tiers = [[cid] for cid in rng.sample(shown, len(shown))]
    else:
        texts = [c["text"] for c in by_id]
        ranked = simulated_ranking(task["prompt"], texts, noise=noise, rng=rng, rule=rule)
        tiers = [[by_id[i]["id"] for i in tier] for tier in ranked]
        if not allow_ties:  # forced to choose within a tie: any order is as good as another
            tiers = [[cid] for tier in tiers for cid in rng.sample(tier, len(tier))]

    if behaviour == Behaviour.TOO_FAST:
        spent = rng.uniform(*TOO_FAST_SECONDS)
    else:
        shown_chars = sum(len(c["text"]) for c in task["candidates"])
        shown_chars += sum(len(m["content"]) for m in task["prompt"])
        spent = ORIENTING_SECONDS + shown_chars / rng.uniform(*READING_CHARS_PER_SECOND)
        spent += sum(rng.uniform(*DECIDING_SECONDS_PER_RESPONSE) for _ in shown)

    if behaviour == Behaviour.ALWAYS_FIRST:
        interaction = {"moves": 0, "keys": 0, "drags": 0}
    else:
        # At least one move even when the wanted order is the display order: an honest person
        # who lands on it untouched is flagged with probability 1/K! (qc.py), a base rate the
        # QC tests pin on their own; the simulation keeps honest annotators a clean control.
        moves = max(1, reorder_moves(shown, tiers))
        interaction = {"moves": moves, "keys": 0, "drags": moves}
    return Judgement(tiers=tiers, time_spent_seconds=spent, interaction=interaction)


def reorder_moves(shown: Sequence[int], tiers: Sequence[Sequence[int]]) -> int:
    """The fewest drag moves that turn the browser's starting layout (each response in its own
    tier, in display order) into ``tiers``, a move dropping one response into a tier or between
    two. Responses never moved keep their own tiers in display order, so they are at most one
    per final tier, in increasing display position: the longest such chain stays, every other
    response is moved once."""
    position = {cid: i for i, cid in enumerate(shown)}
    # Within a tier, positions in decreasing order: a strictly increasing run then takes at
    # most one response from each tier.
    sequence = [p for tier in tiers for p in sorted((position[c] for c in tier), reverse=True)]
    chain_ends: list[int] = []  # patience sorting: the longest strictly increasing run
    for value in sequence:
        low, high = 0, len(chain_ends)
        while low < high:
            mid = (low + high) // 2
            if chain_ends[mid] < value:
                low = mid + 1
            else:
                high = mid
        chain_ends[low : low + 1] = [value]
    return len(sequence) - len(chain_ends)

"""Ranking → (chosen, rejected, margin) pairs for reward-model and DPO datasets.

InstructGPT (Ouyang et al. 2022, §3.5 "Reward modeling") turns one labeler's ranking of K
responses into all C(K, 2) comparisons and trains on them together. Flywheel rankings may contain
ties, so a ranking is a list of tiers and no pair is formed inside a tier: ``y1 = y2 > y3`` gives
``(y1, y3)`` and ``(y2, y3)`` only. Three modes:

* ``"all"``: every (higher tier, lower tier) pair — the InstructGPT recipe; the count is
  ``Σ_{i<j} |tier_i|·|tier_j|`` (``C(K, 2)`` for a strict ranking).
* ``"best-vs-rest"``: each member of the top tier against every member of every lower tier — the
  "best response vs the others" view used when only the winner is trusted.
* ``"adjacent"``: tier ``i`` against tier ``i + 1`` only — the minimal set whose transitive
  closure is the ranking; fewer, harder pairs.

Margin. For candidates in tiers ``i < j`` of a ranking with ``T`` tiers::

    margin = (j − i) / (T − 1)        ∈ (0, 1]

so adjacent tiers of a 2-tier ranking give 1.0 and the best-vs-worst pair of any ranking gives
1.0. It feeds TRL ``RewardTrainer``'s optional ``margin`` column, whose loss is
``−log σ(r_w − r_l − margin)`` (Llama 2, Touvron et al. 2023, §3.2.2, used a margin from the
labeler's "significantly better" grades): pairs far apart in a ranking must be separated by a
larger reward gap. Normalising by ``T − 1`` keeps the scale independent of K and of ties, so one
margin value means "best vs worst" whatever the ranking's shape. Departure from Llama 2: our
margin comes from tier distance, not from a separate strength-of-preference grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from annotation.preference.tiers import Tiers, check_tiers

PairMode = Literal["all", "best-vs-rest", "adjacent"]
PAIR_MODES: tuple[PairMode, ...] = ("all", "best-vs-rest", "adjacent")


@dataclass(frozen=True)
class Pair:
    """One preference: ``chosen`` was ranked strictly above ``rejected``; margin in (0, 1]."""

    chosen: int
    rejected: int
    margin: float


def ranking_pairs(tiers: Tiers, mode: PairMode = "all") -> list[Pair]:
    """Preference pairs implied by one ranking, in a deterministic order.

    Pairs are ordered by the chosen candidate's tier, then its position in that tier, then the
    rejected candidate's tier and position — so the same ranking always yields the same list
    (datasets are reproducible and diffs of exports are meaningful).

    A ``not_rankable`` ranking (``[]``) and an all-tied ranking (one tier) yield no pairs.
    Raises ``ValueError`` on an unknown mode, an empty tier or a repeated candidate.
    """
    if mode not in PAIR_MODES:
        raise ValueError(f"Unknown pair mode {mode!r}; expected one of {PAIR_MODES}.")
    check_tiers(tiers)
    n_tiers = len(tiers)
    if n_tiers < 2:
        return []
    span = n_tiers - 1
    pairs: list[Pair] = []
    chosen_tiers = range(1) if mode == "best-vs-rest" else range(span)
    for i in chosen_tiers:
        rejected_tiers = range(i + 1, i + 2) if mode == "adjacent" else range(i + 1, n_tiers)
        for chosen in tiers[i]:
            for j in rejected_tiers:
                margin = (j - i) / span
                pairs.extend(Pair(chosen, rejected, margin) for rejected in tiers[j])
    return pairs

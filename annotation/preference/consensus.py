"""Consensus of several annotators' rankings of the same candidate set.

Three aggregation rules, each returning a :class:`Consensus` (tiers best → worst, a score per
candidate, higher = better):

* :func:`borda` — tie-aware Borda count (de Borda 1781): in one ranking a candidate scores
  ``#candidates strictly below + ½·#others tied with it`` (= K − its mid-rank); the consensus
  score is the weighted mean. Closed form, handles ties natively.
* :func:`ranked_pairs` — Tideman (1987) ranked pairs: lock pairwise-majority victories from the
  largest margin down, skipping any that would close a cycle. Condorcet-consistent.
* :func:`bradley_terry` — Bradley & Terry (1952) strengths on the comparisons the rankings
  imply: the fixed point of Hunter's (2004) MM update, with a weak virtual-game prior.

Inputs shared by all three: ``candidates`` is the set's ids; its order is the deterministic
tie-break (within a tier, and Tideman's tie-breaking ranking), so pass a neutral order such as
sorted ids — never the display order. A ranking that is ``not_rankable`` (``[]``) or omits a
candidate is ignored; one that names a candidate outside ``candidates`` is a programming error
(``ValueError``). ``weights`` (one per ranking, ≥ 0, e.g. from :func:`annotator_weights`)
multiply each ranking's contribution. With no usable ranking the consensus is itself
``not_rankable``: empty tiers and scores. Whether a majority of ``not_rankable`` votes should
make the set unrankable is the caller's policy, not decided here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from annotation.preference.agreement import kendall_tau_b
from annotation.preference.bradley_terry import fit_log_strengths
from annotation.preference.tiers import Tiers, tier_index

ConsensusMethod = Literal["borda", "ranked_pairs", "bradley_terry"]

DEFAULT_METHOD: ConsensusMethod = "borda"
"""Borda by default. A set gets few rankings (a project's ``annotations_per_set``, typically
2–5), often with ties. Borda uses each ranking's full order, ties included, in closed form, and
orders by mean mid-rank — the rank sums Kendall's W measures, so the agreement we report is
agreement about this very consensus. Ranked pairs on so few voters meets many zero or equal
margins and then hinges on its tie-break; Bradley–Terry with a handful of comparisons per pair
is mostly prior (unanimous rankings get log-strengths of ±5 to ±11 set by the prior alone).
Borda's known weaknesses (not Condorcet-consistent, clone-sensitive) matter for strategic voters
over many candidates, not for ≤ 9 responses ranked in good faith."""

SCORE_TOLERANCE = 1e-9  # scores closer than this share a tier (absorbs float summation noise)


@dataclass(frozen=True)
class Consensus:
    """An aggregated ranking: ``tiers`` best → worst, ``scores`` higher = better."""

    tiers: list[list[int]]
    scores: dict[int, float]
    method: str


def _usable(
    rankings: Sequence[Tiers], candidates: Sequence[int], weights: Sequence[float] | None
) -> list[tuple[dict[int, int], float]]:
    """(tier index per candidate, weight) for each ranking that ranks the whole set."""
    if len(set(candidates)) != len(candidates):
        raise ValueError(f"Duplicate candidate ids in {candidates!r}.")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings.")
    expected = set(candidates)
    usable = []
    for tiers, weight in zip(rankings, weights, strict=True):
        if not (weight >= 0 and np.isfinite(weight)):
            raise ValueError(f"Weights must be finite and ≥ 0, got {weight!r}.")
        tier = tier_index(tiers)
        if tier.keys() - expected:
            raise ValueError(f"Ranking {tiers!r} names candidates outside {candidates!r}.")
        if tier.keys() == expected and weight > 0:
            usable.append((tier, float(weight)))
    return usable


def _tiers_by_score(scores: Mapping[int, float], candidates: Sequence[int]) -> list[list[int]]:
    """Group candidates by descending score; neighbours within SCORE_TOLERANCE share a tier."""
    ordered = sorted(candidates, key=lambda c: -scores[c])  # stable: ties keep candidate order
    tiers: list[list[int]] = []
    for c in ordered:
        if tiers and scores[tiers[-1][-1]] - scores[c] <= SCORE_TOLERANCE:
            tiers[-1].append(c)
        else:
            tiers.append([c])
    position = {c: k for k, c in enumerate(candidates)}
    return [sorted(tier, key=position.__getitem__) for tier in tiers]


def borda(
    rankings: Sequence[Tiers], candidates: Sequence[int], weights: Sequence[float] | None = None
) -> Consensus:
    """Tie-aware Borda count; score = weighted mean points in [0, K − 1].

    Points in one ranking: ``#strictly below + 0.5·#others in the same tier`` — a tie splits the
    points the tied candidates would share in some strict order, so ties neither gain nor lose
    (the "averaged" Borda rule; equal to K − mid-rank).
    """
    usable = _usable(rankings, candidates, weights)
    if not usable:
        return Consensus(tiers=[], scores={}, method="borda")
    total = sum(weight for _, weight in usable)
    scores = dict.fromkeys(candidates, 0.0)
    for tier, weight in usable:
        size = np.bincount(list(tier.values()))  # (T,) candidates per tier
        below = size[::-1].cumsum()[::-1] - size  # (T,) candidates in lower tiers
        for c, i in tier.items():
            scores[c] += weight * float(below[i] + 0.5 * (size[i] - 1)) / total
    return Consensus(_tiers_by_score(scores, candidates), scores, "borda")


def ranked_pairs(
    rankings: Sequence[Tiers], candidates: Sequence[int], weights: Sequence[float] | None = None
) -> Consensus:
    """Tideman's ranked pairs on weighted pairwise majorities.

    ``support[a, b]`` = total weight of rankings putting a strictly above b (ties support
    neither); ``margin = support[a, b] − support[b, a]``. Pairs with a positive margin (beyond
    SCORE_TOLERANCE; zero margins are never locked) are locked in order of descending margin,
    then descending winning support, then the winner's and the loser's position in
    ``candidates`` (our tie-breaking ranking, Tideman's TBRC) — unless locking closes a cycle.

    Tiers layer the locked DAG: a candidate's tier is the length of the longest locked path
    from any source (a candidate nothing is locked over) to it, so sources form tier 0 and every
    locked victory puts the loser in a strictly lower tier. A candidate with only zero margins
    is a source, hence in the top tier. Score = number of tiers below the candidate's tier.
    """
    usable = _usable(rankings, candidates, weights)
    if not usable:
        return Consensus(tiers=[], scores={}, method="ranked_pairs")
    k = len(candidates)
    support = np.zeros((k, k))  # (K, K) weight of rankings with row strictly above column
    for tier, weight in usable:
        t = np.array([tier[c] for c in candidates])
        support += weight * (t[:, None] < t[None, :])
    margin = support - support.T
    order = sorted(
        ((a, b) for a in range(k) for b in range(k) if margin[a, b] > SCORE_TOLERANCE),
        key=lambda ab: (-margin[ab], -support[ab], ab[0], ab[1]),
    )
    beats: list[set[int]] = [set() for _ in range(k)]  # locked edges a → b

    def reaches(src: int, dst: int) -> bool:
        stack, seen = [src], {src}
        while stack:
            node = stack.pop()
            if node == dst:
                return True
            stack.extend(beats[node] - seen)
            seen |= beats[node]
        return False

    for a, b in order:
        if not reaches(b, a):  # a → b would close a cycle if b already reaches a
            beats[a].add(b)
    # Longest path from a source: relax the edges in topological order (Kahn's algorithm).
    indegree = [0] * k
    for a in range(k):
        for b in beats[a]:
            indegree[b] += 1
    layer = [0] * k
    ready = [a for a in range(k) if indegree[a] == 0]
    while ready:
        a = ready.pop()
        for b in beats[a]:
            layer[b] = max(layer[b], layer[a] + 1)
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
    depth = max(layer)
    tiers = [
        [c for c, lay in zip(candidates, layer, strict=True) if lay == i] for i in range(depth + 1)
    ]
    scores = {c: float(depth - lay) for c, lay in zip(candidates, layer, strict=True)}
    return Consensus(tiers, scores, "ranked_pairs")


def bradley_terry(
    rankings: Sequence[Tiers],
    candidates: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    prior: float = 0.1,
    max_iter: int = 500,
    tol: float = 1e-9,
) -> Consensus:
    """Bradley–Terry (1952) consensus; score = centred log-strength.

    Every ranking implies a comparison for each candidate pair: a win for the higher tier, half
    a win to each side for a tie; a ranking's weight multiplies its comparisons. The fit is the
    fixed point of Hunter's (2004) MM update with a virtual-game prior of ``prior`` wins and
    ``prior`` losses per candidate against a reference of strength 1 (see
    :mod:`annotation.preference.bradley_terry`, which also explains why it is reached by Newton
    steps). With ``prior=0`` the plain MLE, which needs every group of candidates to lose at
    least once (``ValueError`` otherwise).
    """
    usable = _usable(rankings, candidates, weights)
    if not usable:
        return Consensus(tiers=[], scores={}, method="bradley_terry")
    k = len(candidates)
    wins = np.zeros((k, k))  # (K, K) weighted wins of row over column, ties split ½–½
    for tier, weight in usable:
        t = np.array([tier[c] for c in candidates])
        wins += weight * ((t[:, None] < t[None, :]) + 0.5 * (t[:, None] == t[None, :]))
    np.fill_diagonal(wins, 0.0)
    log_strengths = fit_log_strengths(wins, prior=prior, max_iter=max_iter, tol=tol)
    log_strengths -= log_strengths.mean()  # scores comparable across sets: centred at 0
    scores = {c: float(s) for c, s in zip(candidates, log_strengths, strict=True)}
    return Consensus(_tiers_by_score(scores, candidates), scores, "bradley_terry")


METHODS: dict[str, Callable[..., Consensus]] = {
    "borda": borda,
    "ranked_pairs": ranked_pairs,
    "bradley_terry": bradley_terry,
}


def consensus(
    rankings: Sequence[Tiers],
    candidates: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    method: ConsensusMethod = DEFAULT_METHOD,
) -> Consensus:
    """Dispatch to the named method (default :data:`DEFAULT_METHOD`)."""
    if method not in METHODS:
        raise ValueError(f"Unknown consensus method {method!r}; expected one of {list(METHODS)}.")
    return METHODS[method](rankings, candidates, weights)


def leave_one_out_agreement(
    rankings: Mapping[str, Tiers],
    candidates: Sequence[int],
    *,
    method: ConsensusMethod = DEFAULT_METHOD,
) -> dict[str, float | None]:
    """Each annotator's Kendall τ-b against the (unweighted) consensus of the others.

    Leaving the annotator out keeps their own ranking from pulling the consensus towards
    themselves. ``None`` where τ is undefined (their ranking or the others' consensus ties
    everything, or no one else ranked the set). ``not_rankable`` annotators are left out.
    """
    agreements: dict[str, float | None] = {}
    for annotator, tiers in rankings.items():
        if not tiers:
            continue
        others = [t for other, t in rankings.items() if other != annotator]
        rest = consensus(others, candidates, method=method)
        agreements[annotator] = kendall_tau_b(tiers, rest.tiers) if rest.tiers else None
    return agreements


def annotator_weights(
    agreements: Mapping[str, float | None], floor: float = 0.05
) -> dict[str, float]:
    """Aggregation weights from agreement (e.g. :func:`leave_one_out_agreement`'s τ-b).

    ``weight = clip(τ, floor, 1)``: it maps [−1, 1] onto [floor, 1], but not linearly. τ ≤ 0
    (no better than chance against the peers) gets the floor, and positive τ counts in
    proportion. A linear map would give a random annotator (τ = 0) half a perfect one's weight,
    while good annotators sit near τ ≈ 0.46 (InstructGPT's ≈ 73 % pairwise agreement is
    τ = 2·0.73 − 1 on strict rankings), so good and random would differ by only ~1.5×. The floor
    is > 0 so that a lone dissenter who may be right is damped, never silenced, and a set never
    loses all its weight. Undefined agreement (``None``: an all-tied ranking, or no peers) gets
    the floor too: an all-tied ranking carries no order anyway, and a lone annotator's weight
    has nothing to be relative to.
    """
    if not 0 < floor <= 1:
        raise ValueError(f"floor must be in (0, 1], got {floor}.")
    return {
        annotator: floor if tau is None else min(1.0, max(floor, float(tau)))
        for annotator, tau in agreements.items()
    }

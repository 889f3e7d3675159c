"""Inter-annotator agreement on rankings of one candidate set (or pooled sets).

InstructGPT reports ≈ 73 % inter-labeler agreement on pairwise comparisons (Ouyang et al. 2022);
:func:`pairwise_agreement` is that statistic, extended to ties (``=`` is a relation too).
The other measures are the standard ones for rankings:

* :func:`kendall_tau_b` — Kendall (1945) τ-b between two rankings, tie-corrected; identical to
  ``scipy.stats.kendalltau`` (variant ``"b"``) on tier indices.
* :func:`kendall_w` — Kendall & Babington Smith (1939) coefficient of concordance W over m
  rankings, with the tie correction ``−m·Σ(t³ − t)`` in the denominator (Kendall 1948; Siegel
  1956, p. 234).
* :func:`krippendorff_alpha_ordinal` — Krippendorff's α with the ordinal metric
  (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"); handles missing values and
  any number of annotators per unit.

``not_rankable`` rankings (``[]``) are skipped everywhere: they carry no order information.
Every function returns ``None`` where the statistic is undefined rather than NaN.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from annotation.preference.tiers import Tiers, check_tiers, tier_index


def mid_ranks(tiers: Tiers) -> dict[int, float]:
    """1-based mid-ranks: a tier covering positions p+1 … p+t gets ``p + (t + 1) / 2``.

    ``[[a], [b, c], [d]]`` → ``{a: 1, b: 2.5, c: 2.5, d: 4}``. Mid-ranks keep the rank sum at
    ``n(n + 1)/2`` whatever the ties, which Kendall's W and Borda rely on.
    """
    check_tiers(tiers)
    ranks: dict[int, float] = {}
    above = 0
    for tier in tiers:
        rank = above + (len(tier) + 1) / 2
        ranks.update(dict.fromkeys(tier, rank))
        above += len(tier)
    return ranks


def _restrict(tiers: Tiers, keep: set[int]) -> list[list[int]]:
    """The ranking induced on ``keep``: other candidates removed, emptied tiers dropped."""
    restricted = ([c for c in tier if c in keep] for tier in tiers)
    return [tier for tier in restricted if tier]


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def kendall_tau_b(a_tiers: Tiers, b_tiers: Tiers) -> float | None:
    """Kendall's τ-b over the candidates both rankings contain.

    ``τ_b = (C − D) / sqrt((n0 − n1)(n0 − n2))`` with C/D the concordant/discordant pairs,
    ``n0 = n(n − 1)/2`` and n1/n2 the pairs tied in a/b. ``None`` when fewer than two candidates
    are shared or either ranking ties all of them (the denominator is 0; scipy returns NaN).
    """
    a_tier, b_tier = tier_index(a_tiers), tier_index(b_tiers)
    common = sorted(a_tier.keys() & b_tier.keys())
    concordant = discordant = tied_a = tied_b = 0
    for x, y in itertools.combinations(common, 2):
        sa, sb = _sign(a_tier[x] - a_tier[y]), _sign(b_tier[x] - b_tier[y])
        tied_a += sa == 0
        tied_b += sb == 0
        concordant += sa * sb > 0
        discordant += sa * sb < 0
    n0 = len(common) * (len(common) - 1) // 2
    denominator = (n0 - tied_a) * (n0 - tied_b)
    if denominator == 0:
        return None
    return (concordant - discordant) / math.sqrt(denominator)


def pairwise_agreement(rankings: Sequence[Tiers]) -> float | None:
    """Fraction of (annotator pair, candidate pair) cases with the same relation (>, <, =).

    Only candidate pairs that both annotators ranked count. Identical rankings → 1.0; a strict
    ranking against its reverse → 0.0. ``None`` when there is no such case (fewer than two
    rankable rankings, or no shared candidate pair).
    """
    indexed = [tier_index(tiers) for tiers in rankings if tiers]
    same = total = 0
    for a_tier, b_tier in itertools.combinations(indexed, 2):
        common = sorted(a_tier.keys() & b_tier.keys())
        for x, y in itertools.combinations(common, 2):
            total += 1
            same += _sign(a_tier[x] - a_tier[y]) == _sign(b_tier[x] - b_tier[y])
    return same / total if total else None


def kendall_w(rankings: Sequence[Tiers]) -> float | None:
    """Kendall's coefficient of concordance W with the tie correction, in [0, 1].

    ``W = 12·S / (m²(n³ − n) − m·Σ_j Σ_g (t_g³ − t_g))`` where ``S = Σ_i (R_i − m(n + 1)/2)²``,
    ``R_i`` is candidate i's sum of mid-ranks over the m rankings and ``t_g`` the sizes of the
    tie groups of ranking j. Computed over the candidates every rankable ranking contains (each
    ranking re-ranked on that common set). ``None`` with fewer than two rankable rankings, fewer
    than two common candidates, or when every ranking ties everything (denominator 0).
    """
    usable = [tiers for tiers in rankings if tiers]
    if len(usable) < 2:
        return None
    common = set.intersection(*(set(tier_index(tiers)) for tiers in usable))
    n, m = len(common), len(usable)
    if n < 2:
        return None
    rank_sums = dict.fromkeys(common, 0.0)
    ties = 0
    for tiers in usable:
        restricted = _restrict(tiers, common)
        for candidate, rank in mid_ranks(restricted).items():
            rank_sums[candidate] += rank
        ties += sum(len(tier) ** 3 - len(tier) for tier in restricted)
    mean_sum = m * (n + 1) / 2
    s = sum((r - mean_sum) ** 2 for r in rank_sums.values())
    denominator = m * m * (n**3 - n) - m * ties
    if denominator <= 0:
        return None
    return 12 * s / denominator


def ranking_units(rankings: Mapping[str, Tiers]) -> list[dict[str, float]]:
    """Krippendorff units for one candidate set: per candidate, each annotator's mid-rank.

    Annotators whose ranking is ``not_rankable`` or omits the candidate are missing values.
    Units come out in ascending candidate id so the result is deterministic.
    """
    ranks = {annotator: mid_ranks(tiers) for annotator, tiers in rankings.items() if tiers}
    candidates = sorted({c for by_candidate in ranks.values() for c in by_candidate})
    return [{annotator: r[c] for annotator, r in ranks.items() if c in r} for c in candidates]


def krippendorff_alpha_ordinal(units: Iterable[Mapping[str, float]]) -> float | None:
    """Krippendorff's α, ordinal metric, from ``{annotator: value}`` per unit (missing = absent).

    Following Krippendorff (2011): build the coincidence matrix ``o_ck`` from every pairable unit
    (one with ≥ 2 values; each ordered pair of values from different annotators adds
    ``1/(m_u − 1)``), its marginals ``n_c`` and ``n = Σ n_c``; the ordinal distance is
    ``δ²_ck = (Σ_{g=c..k} n_g − (n_c + n_k)/2)²``; then
    ``α = 1 − (n − 1)·Σ o_ck δ²_ck / Σ n_c n_k δ²_ck``. Units with a single value are not
    pairable and are ignored (so are NaN values). Matches ``krippendorff.alpha(...,
    level_of_measurement="ordinal")``. ``None`` without pairable values or when all pairable
    values are equal (no expected disagreement).
    """
    pairable: list[list[float]] = []
    for unit in units:
        values = [float(v) for v in unit.values() if not math.isnan(v)]
        if len(values) >= 2:
            pairable.append(values)
    domain = sorted({v for values in pairable for v in values})
    if len(domain) < 2:
        return None
    position = {v: k for k, v in enumerate(domain)}
    coincidences = np.zeros((len(domain), len(domain)))  # (V, V)
    for values in pairable:
        counts = np.zeros(len(domain))  # (V,) how many annotators gave each value to this unit
        for v in values:
            counts[position[v]] += 1
        coincidences += (np.outer(counts, counts) - np.diag(counts)) / (len(values) - 1)
    n_c = coincidences.sum(axis=1)  # (V,)
    n = n_c.sum()
    # Σ_{g=c..k} n_g for c ≤ k via a cumulative sum; the metric is symmetric.
    cumulative = np.cumsum(n_c)
    low = np.minimum.outer(np.arange(len(domain)), np.arange(len(domain)))
    high = np.maximum.outer(np.arange(len(domain)), np.arange(len(domain)))
    between = cumulative[high] - cumulative[low] + n_c[low]
    delta = (between - (n_c[low] + n_c[high]) / 2) ** 2  # (V, V), zero on the diagonal
    expected = (np.outer(n_c, n_c) * delta).sum()
    if expected == 0:
        return None
    return float(1 - (n - 1) * (coincidences * delta).sum() / expected)

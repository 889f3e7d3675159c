"""Agreement measures against scipy, the krippendorff package and published worked examples."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from annotation.preference.agreement import (
    kendall_tau_b,
    kendall_w,
    krippendorff_alpha_ordinal,
    mid_ranks,
    pairwise_agreement,
    ranking_units,
)
from tests.annotation.preference.strategies import tierings


def test_mid_ranks_average_the_positions_a_tier_covers():
    assert mid_ranks([[7], [3, 9], [1]]) == {7: 1.0, 3: 2.5, 9: 2.5, 1: 4.0}
    assert mid_ranks([[1, 2, 3]]) == {1: 2.0, 2: 2.0, 3: 2.0}
    assert mid_ranks([]) == {}


@given(st.data())
def test_kendall_tau_b_equals_scipy_on_shared_candidates(data):
    a = data.draw(tierings(candidates=data.draw(st.sets(st.integers(1, 9), min_size=1))))
    b = data.draw(tierings(candidates=data.draw(st.sets(st.integers(1, 9), min_size=1))))
    tier_a = {c: i for i, tier in enumerate(a) for c in tier}
    tier_b = {c: i for i, tier in enumerate(b) for c in tier}
    common = sorted(tier_a.keys() & tier_b.keys())
    ours = kendall_tau_b(a, b)
    if len(common) < 2:
        assert ours is None
        return
    reference = stats.kendalltau([tier_a[c] for c in common], [tier_b[c] for c in common]).statistic
    if math.isnan(reference):
        assert ours is None
    else:
        assert ours == pytest.approx(reference, abs=1e-12)


def test_kendall_tau_b_hand_cases():
    assert kendall_tau_b([[1], [2], [3]], [[1], [2], [3]]) == 1.0
    assert kendall_tau_b([[1], [2], [3]], [[3], [2], [1]]) == -1.0
    assert kendall_tau_b([[1], [2], [3]], [[1, 2], [3]]) == pytest.approx(2 / math.sqrt(3 * 2))
    assert kendall_tau_b([[1], [2]], [[2], [3]]) is None  # one shared candidate
    assert kendall_tau_b([[1, 2, 3]], [[1], [2], [3]]) is None  # all tied: undefined


def test_pairwise_agreement_identical_rankings_agree_fully():
    tiers = [[4], [1, 2], [3]]
    assert pairwise_agreement([tiers, tiers, tiers]) == 1.0


def test_pairwise_agreement_reversed_strict_rankings_never_agree():
    assert pairwise_agreement([[[1], [2], [3], [4]], [[4], [3], [2], [1]]]) == 0.0


def test_pairwise_agreement_counts_ties_as_a_relation():
    # (1,2): > vs =, (1,3): > vs >, (2,3): > vs > → 2 of 3.
    assert pairwise_agreement([[[1], [2], [3]], [[1, 2], [3]]]) == pytest.approx(2 / 3)
    # Three annotators: pairs (a,b) 2/3, (a,c) 3/3, (b,c) 2/3 → 7/9.
    rankings = [[[1], [2], [3]], [[1, 2], [3]], [[1], [2], [3]]]
    assert pairwise_agreement(rankings) == pytest.approx((2 + 3 + 2) / 9)


def test_pairwise_agreement_skips_not_rankable_and_needs_two_rankings():
    assert pairwise_agreement([[[1], [2]], [], [[1], [2]]]) == 1.0
    assert pairwise_agreement([[[1], [2]], []]) is None
    assert pairwise_agreement([[[1], [2]], [[3], [4]]]) is None  # nothing ranked in common


@pytest.mark.parametrize("tiers", [[[1], [2], [3], [4]], [[1, 2], [3], [4, 5, 6]]])
def test_kendall_w_is_one_for_perfect_agreement_with_or_without_ties(tiers):
    assert kendall_w([tiers] * 4) == pytest.approx(1.0)


def test_kendall_w_is_zero_for_two_opposite_rankings():
    assert kendall_w([[[1], [2], [3]], [[3], [2], [1]]]) == pytest.approx(0.0)


def test_kendall_w_reproduces_siegels_tied_example():
    # Siegel (1956) p. 234, the NAG g08daf example: 3 rankings of 10 objects with ties.
    # Published: W = 0.828 (tie-corrected; 0.796 uncorrected): S = 591, m²(n³ − n)/12 = 742.5,
    # m·Σ(t³ − t)/12 = 3·(1 + 1.5 + 7) = 28.5 → 591 / 714 = 0.8277.
    mid = [
        [1.0, 4.5, 2.0, 4.5, 3.0, 7.5, 6.0, 9.0, 7.5, 10.0],
        [2.5, 1.0, 2.5, 4.5, 4.5, 8.0, 9.0, 6.5, 10.0, 6.5],
        [2.0, 1.0, 4.5, 4.5, 4.5, 4.5, 8.0, 8.0, 8.0, 10.0],
    ]
    rankings = [tiers_from_ranks(row) for row in mid]
    assert kendall_w(rankings) == pytest.approx(591 / 714, abs=1e-12)
    assert round(kendall_w(rankings), 3) == 0.828


def tiers_from_ranks(ranks: list[float]) -> list[list[int]]:
    """Objects 0… grouped by equal rank, best (lowest rank) first."""
    return [[i for i, r in enumerate(ranks) if r == value] for value in sorted(set(ranks))]


@given(st.lists(tierings(candidates=range(6)), min_size=2, max_size=6))
def test_kendall_w_equals_scipy_friedman_statistic_scaled(rankings):
    # Tie-corrected W = χ²_Friedman / (m(n − 1)) (Kendall 1948; scipy corrects χ² for ties).
    ours = kendall_w(rankings)
    ranks = [mid_ranks(tiers) for tiers in rankings]
    columns = [[r[c] for r in ranks] for c in range(6)]
    if all(len(tiers) == 1 for tiers in rankings):
        assert ours is None
        return
    chi2 = stats.friedmanchisquare(*columns).statistic
    assert ours == pytest.approx(chi2 / (len(rankings) * 5), abs=1e-9)


def test_kendall_w_uses_candidates_every_ranking_contains():
    rankings = [[[1], [2], [3], [9]], [[1], [2, 3]], []]
    assert kendall_w(rankings) == kendall_w([[[1], [2], [3]], [[1], [2, 3]]])
    assert kendall_w([[[1], [2]]]) is None
    assert kendall_w([[[1, 2]], [[2, 1]]]) is None  # everything tied: undefined


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 observers × 12 units.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def units_of(matrix: list[list[float | None]]) -> list[dict[str, float]]:
    """Observer × unit matrix (None = missing) → one {observer: value} mapping per unit."""
    return [
        {f"o{o}": row[u] for o, row in enumerate(matrix) if row[u] is not None}
        for u in range(len(matrix[0]))
    ]


def reference_alpha(matrix: list[list[float | None]]) -> float:
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    return krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal")


def test_krippendorff_alpha_reproduces_the_published_ordinal_example():
    alpha = krippendorff_alpha_ordinal(units_of(KRIPPENDORFF_2011))
    assert round(alpha, 3) == 0.815  # the paper's ordinal α
    assert alpha == pytest.approx(reference_alpha(KRIPPENDORFF_2011), abs=1e-12)


@pytest.mark.parametrize("seed", range(25))
def test_krippendorff_alpha_matches_the_package_on_random_data_with_gaps(seed):
    rng = np.random.default_rng(seed)
    observers, units = rng.integers(2, 7), rng.integers(3, 30)
    values = rng.integers(1, rng.integers(3, 8), size=(observers, units)).astype(float)
    values += rng.integers(0, 2, size=values.shape) * 0.5  # mid-rank-like halves
    matrix = [[None if rng.random() < 0.3 else float(v) for v in row] for row in values]
    ours = krippendorff_alpha_ordinal(units_of(matrix))
    assert ours is not None
    assert ours == pytest.approx(reference_alpha(matrix), abs=1e-9)


@given(st.lists(tierings(candidates=range(1, 6)), min_size=2, max_size=5), st.data())
def test_krippendorff_alpha_matches_the_package_on_ranking_units(rankings, data):
    # Some annotators left out per set (missing values), and some rankings not_rankable.
    named = {f"a{i}": tiers for i, tiers in enumerate(rankings)}
    named[data.draw(st.sampled_from(sorted(named)))] = []
    units = ranking_units(named)
    ours = krippendorff_alpha_ordinal(units)
    annotators = sorted({a for unit in units for a in unit})
    matrix = [[unit.get(a) for unit in units] for a in annotators]
    pairable = {v for unit in units if len(unit) >= 2 for v in unit.values()}
    if len(pairable) < 2:
        assert ours is None
        return
    assert ours == pytest.approx(reference_alpha(matrix), abs=1e-9)


def test_krippendorff_alpha_is_one_for_perfect_agreement():
    tiers = [[3], [1, 2], [4]]
    units = ranking_units({"a": tiers, "b": tiers, "c": tiers})
    assert krippendorff_alpha_ordinal(units) == pytest.approx(1.0)


def test_krippendorff_alpha_is_undefined_without_pairable_variation():
    assert krippendorff_alpha_ordinal([]) is None
    assert krippendorff_alpha_ordinal([{"a": 1.0}, {"b": 2.0}]) is None  # no unit has 2 values
    assert krippendorff_alpha_ordinal([{"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0}]) is None


def test_ranking_units_give_each_candidate_its_mid_rank_per_annotator():
    units = ranking_units({"a": [[5], [6, 7]], "b": [[7], [5]], "c": []})
    assert units == [{"a": 1.0, "b": 2.0}, {"a": 2.5}, {"a": 2.5, "b": 1.0}]

"""Ranking → preference pairs (InstructGPT recipe with ties, three modes, tier-distance margin)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given

from annotation.preference.pairs import Pair, ranking_pairs
from tests.annotation.preference.strategies import tierings


def tier_shapes(k: int) -> list[list[int]]:
    """Tier sizes covering strict, all-tied, tied top, tied bottom and pairs, for K items."""
    shapes = [[1] * k, [k], [2, *[1] * (k - 2)], [*[1] * (k - 2), 2], [2] * (k // 2) + [k % 2]]
    return [[size for size in shape if size] for shape in shapes]


def tiers_of(shape: list[int]) -> list[list[int]]:
    ids = iter(range(100, 100 + sum(shape)))
    return [[next(ids) for _ in range(size)] for size in shape]


@pytest.mark.parametrize(
    "shape", [shape for k in range(2, 10) for shape in tier_shapes(k)], ids=str
)
def test_all_mode_pair_count_is_sum_of_cross_tier_products(shape):
    tiers = tiers_of(shape)
    expected = sum(a * b for a, b in itertools.combinations(shape, 2))
    assert len(ranking_pairs(tiers, "all")) == expected


@pytest.mark.parametrize("k", range(2, 10))
def test_strict_ranking_of_k_gives_k_choose_2_pairs(k):
    assert len(ranking_pairs([[c] for c in range(k)])) == k * (k - 1) // 2


def test_tie_forms_no_pair_inside_the_tier_as_in_instructgpt():
    # y1 = y2 > y3 gives (y1, y3) and (y2, y3) only.
    assert ranking_pairs([[1, 2], [3]]) == [Pair(1, 3, 1.0), Pair(2, 3, 1.0)]


def test_all_mode_hand_case_in_tier_then_position_order():
    assert ranking_pairs([[1], [2, 3], [4]], "all") == [
        Pair(1, 2, 0.5),
        Pair(1, 3, 0.5),
        Pair(1, 4, 1.0),
        Pair(2, 4, 0.5),
        Pair(3, 4, 0.5),
    ]


def test_best_vs_rest_pairs_top_tier_against_every_lower_candidate():
    assert ranking_pairs([[1], [2, 3], [4]], "best-vs-rest") == [
        Pair(1, 2, 0.5),
        Pair(1, 3, 0.5),
        Pair(1, 4, 1.0),
    ]
    assert ranking_pairs([[5, 6], [7], [8]], "best-vs-rest") == [
        Pair(5, 7, 0.5),
        Pair(5, 8, 1.0),
        Pair(6, 7, 0.5),
        Pair(6, 8, 1.0),
    ]


def test_adjacent_pairs_only_neighbouring_tiers():
    assert ranking_pairs([[1], [2, 3], [4]], "adjacent") == [
        Pair(1, 2, 0.5),
        Pair(1, 3, 0.5),
        Pair(2, 4, 0.5),
        Pair(3, 4, 0.5),
    ]


def test_margin_is_tier_distance_over_tier_span():
    pairs = {(p.chosen, p.rejected): p.margin for p in ranking_pairs([[1], [2], [3], [4], [5]])}
    assert pairs[(1, 2)] == 0.25
    assert pairs[(2, 4)] == 0.5
    assert pairs[(1, 5)] == 1.0


def test_two_tier_ranking_has_margin_one():
    assert {p.margin for p in ranking_pairs([[1, 2], [3, 4, 5]])} == {1.0}


@pytest.mark.parametrize("mode", ["all", "best-vs-rest", "adjacent"])
def test_not_rankable_and_all_tied_rankings_give_no_pairs(mode):
    assert ranking_pairs([], mode) == []
    assert ranking_pairs([[1, 2, 3]], mode) == []


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="Unknown pair mode"):
        ranking_pairs([[1], [2]], "random")  # type: ignore[arg-type]


@pytest.mark.parametrize("tiers", [[[1], [1]], [[1, 2], [], [3]]])
def test_malformed_ranking_is_rejected(tiers):
    with pytest.raises(ValueError):
        ranking_pairs(tiers)


@given(tierings())
def test_all_mode_pairs_cross_tiers_downwards_with_formula_margin(tiers):
    tier_of = {c: i for i, tier in enumerate(tiers) for c in tier}
    pairs = ranking_pairs(tiers)
    span = len(tiers) - 1
    assert len(pairs) == sum(len(a) * len(b) for a, b in itertools.combinations(tiers, 2))
    assert len({(p.chosen, p.rejected) for p in pairs}) == len(pairs)
    for p in pairs:
        assert tier_of[p.chosen] < tier_of[p.rejected]
        assert p.margin == (tier_of[p.rejected] - tier_of[p.chosen]) / span
        assert 0 < p.margin <= 1


@given(tierings())
def test_best_vs_rest_and_adjacent_are_subsets_of_all_with_expected_counts(tiers):
    every = ranking_pairs(tiers, "all")
    best = ranking_pairs(tiers, "best-vs-rest")
    adjacent = ranking_pairs(tiers, "adjacent")
    assert set(best) <= set(every) and set(adjacent) <= set(every)
    k = sum(map(len, tiers))
    assert len(best) == (len(tiers[0]) * (k - len(tiers[0])) if len(tiers) > 1 else 0)
    assert len(adjacent) == sum(len(a) * len(b) for a, b in itertools.pairwise(tiers))


@given(tierings())
def test_pairs_come_out_in_tier_then_position_order(tiers):
    position = {c: (i, j) for i, tier in enumerate(tiers) for j, c in enumerate(tier)}
    for mode in ("all", "best-vs-rest", "adjacent"):
        pairs = ranking_pairs(tiers, mode)
        keys = [(position[p.chosen], position[p.rejected]) for p in pairs]
        assert keys == sorted(keys)
        assert ranking_pairs(tiers, mode) == pairs

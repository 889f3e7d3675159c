"""QC signals: untouched display order, reading-speed floor, primacy (position) bias."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from annotation.preference.qc import (
    position_bias,
    submitted_in_display_order,
    too_fast,
)


@pytest.mark.parametrize(
    "interaction",
    [
        None,
        {},
        {"moves": 0, "keys": 0},
        {"expanded": [3, 1]},
        {"moves": 0, "keys": None},
        {"suggestion_shown": True, "applied_suggestion": False},
    ],
)
def test_display_order_submitted_without_reordering_is_flagged(interaction):
    assert submitted_in_display_order([[3], [1], [2]], [3, 1, 2], interaction)


@pytest.mark.parametrize(
    "interaction",
    [
        {"moves": 2},
        {"keys": 1},
        {"moves": "many"},
        {"moves": 0, "keys": True},
        {"moves": 0, "suggestion_shown": True, "applied_suggestion": True},
    ],
)
def test_display_order_reached_by_reordering_is_not_flagged(interaction):
    assert not submitted_in_display_order([[3], [1], [2]], [3, 1, 2], interaction)


def test_a_ranking_that_differs_from_display_order_is_not_flagged():
    assert not submitted_in_display_order([[1], [3], [2]], [3, 1, 2], {})


def test_rankings_with_ties_or_not_rankable_are_not_flagged():
    assert not submitted_in_display_order([[3, 1], [2]], [3, 1, 2], {})
    assert not submitted_in_display_order([], [3, 1, 2], {})


def test_too_fast_below_skimming_speed():
    # 1,000 characters at 50 chars/s need 20 s.
    assert too_fast(5.0, 1000)
    assert not too_fast(25.0, 1000)
    assert too_fast(19.9, 1000)
    assert not too_fast(15.0, 1000, chars_per_second=100.0)


def test_too_fast_has_a_floor_for_short_texts():
    assert too_fast(2.0, 20)  # 20 chars read in 0.4 s, but nobody ranks in 2 s
    assert not too_fast(4.0, 20)
    assert not too_fast(0.5, 20, min_seconds=0.0)


def test_unknown_time_is_never_too_fast():
    assert not too_fast(None, 10_000)


def strict_record(k: int, first_on_top: bool) -> tuple[list[list[int]], list[int]]:
    display = list(range(k))
    ranking = display if first_on_top else display[1:] + display[:1]
    return [[c] for c in ranking], display


def test_always_picking_the_first_shown_is_strong_position_bias():
    bias = position_bias([strict_record(4, True) for _ in range(40)])
    assert (bias.count, bias.observed_rate, bias.expected_rate) == (40, 1.0, 0.25)
    assert bias.method == "exact"
    assert bias.z > 0
    assert bias.p_value < 1e-20


def test_first_shown_on_top_at_chance_rate_is_not_biased():
    records = [strict_record(4, i % 4 == 0) for i in range(40)]
    bias = position_bias(records)
    assert bias.observed_rate == bias.expected_rate == 0.25
    assert bias.p_value == pytest.approx(1.0)


@pytest.mark.parametrize(("k", "hits", "n"), [(2, 14, 20), (4, 9, 20), (5, 0, 30), (9, 3, 12)])
def test_exact_p_value_matches_scipy_binomtest_for_one_k(k, hits, n):
    records = [strict_record(k, i < hits) for i in range(n)]
    expected = stats.binomtest(hits, n, 1 / k).pvalue
    assert position_bias(records).p_value == pytest.approx(expected, rel=1e-9)


def test_exact_p_value_with_mixed_k_matches_brute_force_enumeration():
    ks = [2, 3, 3, 4, 5, 6, 9, 2, 4, 7]
    records = [strict_record(k, k in (2, 3)) for k in ks]
    hits = sum(k in (2, 3) for k in ks)
    probability = {}
    for outcome in itertools.product([0, 1], repeat=len(ks)):
        p = math.prod(1 / k if o else 1 - 1 / k for o, k in zip(outcome, ks, strict=True))
        probability[sum(outcome)] = probability.get(sum(outcome), 0.0) + p
    observed = probability[hits]
    expected = sum(p for p in probability.values() if p <= observed * (1 + 1e-7))
    assert position_bias(records).p_value == pytest.approx(expected, rel=1e-12)


def test_a_shared_top_tier_shares_the_credit_and_uses_the_normal_approximation():
    # First-shown (0) tied on top with one other of K = 4: credit ½; expected 1/4.
    records = [([[0, 1], [2], [3]], [0, 1, 2, 3])] * 30
    bias = position_bias(records)
    assert bias.method == "normal"
    assert bias.observed_rate == 0.5 and bias.expected_rate == 0.25
    variance = 30 * (1 / (2 * 4) - 1 / 16)
    assert bias.z == pytest.approx((15 - 7.5) / math.sqrt(variance))
    assert bias.p_value == pytest.approx(math.erfc(bias.z / math.sqrt(2)))


def test_all_tied_rankings_carry_no_position_evidence():
    bias = position_bias([([[0, 1, 2]], [0, 1, 2])] * 10)
    assert bias.observed_rate == pytest.approx(bias.expected_rate)
    assert bias.p_value == 1.0


def test_not_rankable_records_are_skipped():
    bias = position_bias([([], [0, 1, 2]), strict_record(3, True)])
    assert bias.count == 1
    assert position_bias([]).count == 0
    assert position_bias([]).p_value == 1.0


def test_random_display_order_with_shared_tops_shows_no_bias():
    rng = np.random.default_rng(11)
    records = []
    for _ in range(60):
        k = int(rng.integers(3, 8))
        order = [int(c) for c in rng.permutation(k)]
        records.append(([order[:2], *([c] for c in order[2:])], list(range(k))))
    bias = position_bias(records)
    assert bias.method == "normal"
    assert abs(bias.z) < 3  # random display order: no bias to find

"""Consensus of several rankings: Borda, Tideman's ranked pairs, Bradley–Terry (Hunter's MM)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given

from annotation.preference.bradley_terry import fit_log_strengths, mm_update
from annotation.preference.consensus import (
    DEFAULT_METHOD,
    Consensus,
    annotator_weights,
    borda,
    bradley_terry,
    consensus,
    leave_one_out_agreement,
    ranked_pairs,
)
from tests.annotation.preference.strategies import tierings

A, B, C, D = 1, 2, 3, 4
METHODS = [borda, ranked_pairs, bradley_terry]

# 11 voters in a Condorcet cycle: A beats B 7–4, B beats C 9–2, C beats A 6–5.
CYCLE = [[[A], [B], [C]]] * 5 + [[[B], [C], [A]]] * 4 + [[[C], [A], [B]]] * 2


@pytest.mark.parametrize("method", METHODS)
def test_unanimous_rankings_are_reproduced(method):
    tiers = [[C], [A, D], [B]]
    result = method([tiers] * 3, [A, B, C, D])
    assert result.tiers == tiers
    assert result.method == method.__name__


@pytest.mark.parametrize("method", METHODS)
@given(tiers=tierings(candidates=range(1, 7)))
def test_a_single_ranking_is_its_own_consensus(method, tiers):
    result = method([tiers], list(range(1, 7)))
    assert [sorted(t) for t in result.tiers] == [sorted(t) for t in tiers]


@pytest.mark.parametrize("method", METHODS)
def test_not_rankable_and_incomplete_rankings_are_ignored(method):
    rankings = [[[A], [B], [C]], [], [[C], [B]], [[A], [B], [C]]]
    assert method(rankings, [A, B, C]).tiers == [[A], [B], [C]]


@pytest.mark.parametrize("method", METHODS)
def test_no_usable_ranking_gives_a_not_rankable_consensus(method):
    assert method([[], [[A], [B]]], [A, B, C]) == Consensus([], {}, method.__name__)
    assert method([[[A], [B], [C]]], [A, B, C], weights=[0.0]).tiers == []


@pytest.mark.parametrize("method", METHODS)
def test_weights_change_the_outcome(method):
    rankings = [[[A], [B], [C]], [[C], [B], [A]]]
    assert method(rankings, [A, B, C], weights=[2.0, 1.0]).tiers == [[A], [B], [C]]
    assert method(rankings, [A, B, C], weights=[1.0, 2.0]).tiers == [[C], [B], [A]]
    assert method(rankings, [A, B, C]).tiers == [[A, B, C]]  # equal weights: a perfect tie


@pytest.mark.parametrize("method", METHODS)
def test_an_integer_weight_counts_like_repeated_rankings(method):
    first, second = [[A], [B], [C]], [[B], [C], [A]]
    weighted = method([first, second], [A, B, C], weights=[3.0, 1.0])
    repeated = method([first] * 3 + [second], [A, B, C])
    assert weighted.tiers == repeated.tiers
    assert weighted.scores == pytest.approx(repeated.scores)


@pytest.mark.parametrize(
    ("rankings", "candidates", "weights", "message"),
    [
        ([[[A], [D]]], [A, B], None, "outside"),
        ([[[A], [B]]], [A, A, B], None, "Duplicate"),
        ([[[A], [B]]], [A, B], [1.0, 1.0], "weights for"),
        ([[[A], [B]]], [A, B], [-1.0], "≥ 0"),
        ([[[A], [B]]], [A, B], [math.nan], "≥ 0"),
    ],
)
def test_invalid_input_is_rejected(rankings, candidates, weights, message):
    for method in METHODS:
        with pytest.raises(ValueError, match=message):
            method(rankings, candidates, weights)


def test_borda_gives_below_plus_half_tied_points_averaged_over_rankings():
    result = borda([[[A], [B, C], [D]], [[B], [A], [C], [D]]], [A, B, C, D])
    # A: (3 + 2)/2, B: (1.5 + 3)/2, C: (1.5 + 1)/2, D: (0 + 0)/2
    assert result.scores == {A: 2.5, B: 2.25, C: 1.25, D: 0.0}
    assert result.tiers == [[A], [B], [C], [D]]


def test_borda_and_ranked_pairs_differ_on_a_condorcet_cycle():
    # Borda (×11): A = 5·2 + 4·0 + 2·1 = 12, B = 5 + 8 + 0 = 13, C = 0 + 4 + 4 = 8.
    assert borda(CYCLE, [A, B, C]).tiers == [[B], [A], [C]]
    assert borda(CYCLE, [A, B, C]).scores == pytest.approx({A: 12 / 11, B: 13 / 11, C: 8 / 11})
    # Ranked pairs locks B>C (margin 7), then A>B (3); C>A (1) would close the cycle.
    assert ranked_pairs(CYCLE, [A, B, C]).tiers == [[A], [B], [C]]


def test_ranked_pairs_breaks_equal_margins_by_candidate_order():
    symmetric_cycle = [[[A], [B], [C]], [[B], [C], [A]], [[C], [A], [B]]]
    assert ranked_pairs(symmetric_cycle, [A, B, C]).tiers == [[A], [B], [C]]
    assert ranked_pairs(symmetric_cycle, [B, C, A]).tiers == [[B], [C], [A]]


def test_ranked_pairs_never_locks_a_zero_margin():
    assert ranked_pairs([[[A], [B]], [[B], [A]]], [A, B]).tiers == [[A, B]]


def test_ranked_pairs_tiers_are_longest_locked_paths_from_a_source():
    # A beats B; C is tied with both in every ranking, so nothing is locked over C.
    result = ranked_pairs([[[A], [B]], [[A, B]]], [A, B])
    assert result.tiers == [[A], [B]]
    result = ranked_pairs([[[A, C], [B]], [[C], [A, B]], [[A], [B, C]]], [A, B, C])
    # margins: A>B 2, C–A 0, C–B 0 → locked A→B only; A and C are sources.
    assert result.tiers == [[A, C], [B]]
    assert result.scores == {A: 1.0, B: 0.0, C: 1.0}


def test_bradley_terry_two_items_without_prior_solves_to_win_ratio():
    # The MLE of p1 / p2 is wins / losses (Hunter 2004, 2-item case).
    result = bradley_terry([[[A], [B]]] * 7 + [[[B], [A]]] * 3, [A, B], prior=0)
    assert result.scores[A] - result.scores[B] == pytest.approx(math.log(7 / 3), abs=1e-9)
    assert result.scores[A] + result.scores[B] == pytest.approx(0.0, abs=1e-12)


def test_bradley_terry_counts_a_tie_as_half_a_win_each():
    # 2 wins + 2 ties (= 1 win) for A, 1 win + 2 ties (= 1 win) for B → p_A / p_B = 3 / 2.
    rankings = [[[A], [B]]] * 2 + [[[A, B]]] * 2 + [[[B], [A]]]
    result = bradley_terry(rankings, [A, B], prior=0)
    assert result.scores[A] - result.scores[B] == pytest.approx(math.log(3 / 2), abs=1e-9)


def test_bradley_terry_prior_keeps_a_never_losing_candidate_finite():
    result = bradley_terry([[[A], [B]]] * 5, [A, B])
    assert result.tiers == [[A], [B]]
    assert all(math.isfinite(s) for s in result.scores.values())
    weaker = bradley_terry([[[A], [B]]] * 5, [A, B], prior=1.0)
    assert 0 < weaker.scores[A] < result.scores[A]  # a stronger prior shrinks towards 0
    with pytest.raises(ValueError, match="never loses"):
        bradley_terry([[[A], [B]]] * 5, [A, B], prior=0)


def test_bradley_terry_recovers_the_order_from_many_noisy_rankings():
    # Plackett–Luce rankings (Gumbel noise on log-strengths) have Bradley–Terry pairwise marginals.
    rng = np.random.default_rng(7)
    true = np.array([1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -1.5])
    rankings = [[[int(i)] for i in np.argsort(-(true + rng.gumbel(size=7)))] for _ in range(300)]
    result = bradley_terry(rankings, list(range(7)))
    assert result.tiers == [[i] for i in range(7)]
    scores = np.array([result.scores[i] for i in range(7)])
    assert np.abs(scores - (true - true.mean())).max() < 0.25


def test_bradley_terry_fit_is_the_fixed_point_of_hunters_mm_update():
    rankings = [[[A], [B], [C], [D]]] * 3 + [[[B], [A, C], [D]]]  # separable: prior-bound
    candidates = [A, B, C, D]
    weights = [1.0, 0.5, 2.0, 1.0]
    # Weighted wins of row over column; the tie A = C in the last ranking gives ½ to each.
    wins = np.array([[0, 3.5, 4.0, 4.5], [1.0, 0, 4.5, 4.5], [0.5, 0, 0, 4.5], [0, 0, 0, 0]])
    theta = fit_log_strengths(wins, prior=0.1)
    assert mm_update(theta, wins, 0.1) == pytest.approx(theta, abs=1e-9)
    fitted = bradley_terry(rankings, candidates, weights, prior=0.1)
    centred = theta - theta.mean()
    assert [fitted.scores[c] for c in candidates] == pytest.approx(centred, abs=1e-12)


def test_bradley_terry_matches_plain_mm_run_to_convergence():
    rng = np.random.default_rng(3)
    rankings = [[[int(i)] for i in rng.permutation(5)] for _ in range(6)]
    fitted = bradley_terry(rankings, list(range(5)), prior=0.5)
    wins = np.zeros((5, 5))
    for tiers in rankings:
        for (x,), (y,) in itertools.combinations(tiers, 2):
            wins[x, y] += 1
    theta = np.zeros(5)
    for _ in range(20_000):
        theta = mm_update(theta, wins, 0.5)
    assert [fitted.scores[i] for i in range(5)] == pytest.approx(theta - theta.mean(), abs=1e-8)


def test_bradley_terry_converges_fast_when_annotators_agree(caplog):
    rankings = [[[c] for c in range(9)]] * 3
    result = bradley_terry(rankings, list(range(9)), max_iter=50)
    assert result.tiers == [[c] for c in range(9)]
    assert "stopped after" not in caplog.text


def test_bradley_terry_gives_exchangeable_candidates_one_tier():
    rankings = [[[A], [B, C], [D]], [[A], [C], [B], [D]], [[A], [B], [C], [D]]]
    assert bradley_terry(rankings, [A, B, C, D]).tiers == [[A], [B, C], [D]]


def test_default_method_is_borda_and_dispatch_uses_it():
    assert DEFAULT_METHOD == "borda"
    assert consensus(CYCLE, [A, B, C]) == borda(CYCLE, [A, B, C])
    assert consensus(CYCLE, [A, B, C], method="ranked_pairs").tiers == [[A], [B], [C]]
    with pytest.raises(ValueError, match="Unknown consensus method"):
        consensus(CYCLE, [A, B, C], method="copeland")  # type: ignore[arg-type]


def test_leave_one_out_agreement_scores_each_annotator_against_the_others():
    rankings = {
        "ann": [[A], [B], [C]],
        "bob": [[A], [B], [C]],
        "cyd": [[C], [B], [A]],
        "dee": [],
    }
    agreements = leave_one_out_agreement(rankings, [A, B, C])
    # Without ann: bob and cyd cancel out to an all-tied consensus → τ undefined.
    assert agreements == {"ann": None, "bob": None, "cyd": -1.0}
    rankings["eve"] = [[A], [B], [C]]
    agreements = leave_one_out_agreement(rankings, [A, B, C])
    assert agreements == {"ann": 1.0, "bob": 1.0, "cyd": -1.0, "eve": 1.0}


def test_annotator_weights_clip_agreement_to_floor_and_one():
    weights = annotator_weights({"a": 1.0, "b": 0.46, "c": 0.0, "d": -0.8, "e": None, "f": 3.0})
    assert weights == {"a": 1.0, "b": 0.46, "c": 0.05, "d": 0.05, "e": 0.05, "f": 1.0}
    assert annotator_weights({"d": -1.0}, floor=0.2) == {"d": 0.2}
    with pytest.raises(ValueError):
        annotator_weights({"a": 0.5}, floor=0.0)


def test_down_weighting_low_agreement_annotators_undoes_what_two_spammers_swung():
    careful = {name: [[A], [B], [C]] for name in ("ann", "bob", "cyd")}
    spam = {name: [[B], [C], [A]] for name in ("dee", "eve")}
    rankings = careful | spam
    # Unweighted Borda ×5: A = 3·2 = 6, B = 3 + 2·2 = 7, C = 2 → B wins.
    assert borda(list(rankings.values()), [A, B, C]).tiers == [[B], [A], [C]]
    weights = annotator_weights(leave_one_out_agreement(rankings, [A, B, C]))
    # Careful: τ(A>B>C, B>A>C) = 1/3. Spam: τ(B>C>A, A>B>C) = −1/3 → the floor.
    assert weights == pytest.approx(
        {"ann": 1 / 3, "bob": 1 / 3, "cyd": 1 / 3, "dee": 0.05, "eve": 0.05}
    )
    weighted = borda(list(rankings.values()), [A, B, C], [weights[n] for n in rankings])
    assert weighted.tiers == [[A], [B], [C]]


def test_bradley_terry_logs_when_it_runs_out_of_iterations(caplog):
    result = bradley_terry([[[A], [B], [C]]] * 3, [A, B, C], max_iter=1)
    assert "stopped after 1 iterations" in caplog.text
    assert result.tiers == [[A], [B], [C]]

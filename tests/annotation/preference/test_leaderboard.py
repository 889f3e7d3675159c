"""The Bradley–Terry leaderboard against simulated comparisons with known strengths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotation.preference.leaderboard import (
    BASE_RATING,
    ELO_SCALE,
    Comparison,
    bradley_terry_leaderboard,
    ranking_comparisons,
)

TRUE_THETA = {"sft": -0.6, "round-1": 0.0, "round-2": 0.3, "round-3": 0.8}


def true_ratings(theta: dict[str, float]) -> dict[str, float]:
    """The ratings the leaderboard estimates: Elo scale, centred on the mean log-strength."""
    mean = sum(theta.values()) / len(theta)
    return {m: BASE_RATING + ELO_SCALE * (t - mean) for m, t in theta.items()}


def simulate(
    theta: dict[str, float],
    n: int,
    rng: np.random.Generator,
    *,
    per_group: int = 1,
    shared_outcome: bool = False,
) -> list[Comparison]:
    """``n`` Bradley–Terry comparisons between random pairs, ``per_group`` to a group. With
    ``shared_outcome`` a group is one pair whose ``per_group`` comparisons all copy one draw:
    perfectly correlated, as if one annotator's verdict were counted ``per_group`` times."""
    models = list(theta)
    rows = []
    for g in range(n // per_group):
        a, b = rng.choice(len(models), 2, replace=False)
        p = 1 / (1 + math.exp(-(theta[models[a]] - theta[models[b]])))
        draw = float(rng.random() < p)
        for _ in range(per_group):
            outcome = draw if shared_outcome else float(rng.random() < p)
            rows.append(Comparison(models[a], models[b], outcome, group=g))
    return rows


def widths(leaderboard) -> np.ndarray:
    return np.array([e.ci_high - e.ci_low for e in leaderboard.entries])


def test_recovers_the_order_of_known_strengths():
    rows = simulate(TRUE_THETA, 3000, np.random.default_rng(1))
    board = bradley_terry_leaderboard(rows, n_bootstrap=200)
    assert board.models == ["round-3", "round-2", "round-1", "sft"]
    expected = true_ratings(TRUE_THETA)
    for entry in board.entries:
        assert entry.rating == pytest.approx(expected[entry.model], abs=25)
        assert entry.ci_low < entry.rating < entry.ci_high
    assert np.mean([e.rating for e in board.entries]) == pytest.approx(BASE_RATING)
    assert board.connected and board.n_comparisons == board.n_groups == 3000


def test_confidence_intervals_cover_the_true_rating_in_most_simulations():
    expected = true_ratings(TRUE_THETA)
    covered = []
    for sim in range(40):
        rows = simulate(TRUE_THETA, 400, np.random.default_rng(100 + sim), per_group=4)
        board = bradley_terry_leaderboard(rows, n_bootstrap=100, seed=sim)
        covered += [e.ci_low <= expected[e.model] <= e.ci_high for e in board.entries]
    assert np.mean(covered) >= 0.85


def test_confidence_intervals_shrink_with_more_data():
    rng = np.random.default_rng(2)
    small = bradley_terry_leaderboard(simulate(TRUE_THETA, 300, rng), n_bootstrap=300)
    large = bradley_terry_leaderboard(simulate(TRUE_THETA, 3000, rng), n_bootstrap=300)
    # Standard errors fall as 1/√n: ten times the data should give about a third of the width.
    assert widths(large).mean() < 0.5 * widths(small).mean()


def test_cluster_bootstrap_is_wider_than_naive_when_a_group_shares_its_outcome():
    rows = simulate(TRUE_THETA, 2000, np.random.default_rng(3), per_group=10, shared_outcome=True)
    clustered = bradley_terry_leaderboard(rows, n_bootstrap=300)
    naive = bradley_terry_leaderboard([(a, b, o) for a, b, o, _ in rows], n_bootstrap=300)
    assert clustered.n_groups == 200 and naive.n_groups == 2000
    assert clustered.entry("round-1").rating == naive.entry("round-1").rating  # same fit
    # Ten copies of each verdict carry the information of one: the honest interval is ≈ √10
    # times wider than the one that counts every copy.
    assert widths(clustered).mean() > 2 * widths(naive).mean()


def test_same_seed_gives_the_same_leaderboard_and_another_seed_other_intervals():
    rows = simulate(TRUE_THETA, 500, np.random.default_rng(4), per_group=5)
    first = bradley_terry_leaderboard(rows, n_bootstrap=100, seed=7)
    again = bradley_terry_leaderboard(rows, n_bootstrap=100, seed=7)
    other = bradley_terry_leaderboard(rows, n_bootstrap=100, seed=8)
    assert first.entries == again.entries
    np.testing.assert_array_equal(first.win_probability, again.win_probability)
    assert [e.rating for e in other.entries] == [e.rating for e in first.entries]
    assert [e.ci_low for e in other.entries] != [e.ci_low for e in first.entries]


def test_win_probability_matches_the_rating_gap_and_counts_tally():
    rows = [("a", "b", 1), ("a", "b", 1), ("b", "a", 0.5), ("c", "a", 1), ("b", "c", 0)]
    board = bradley_terry_leaderboard(rows, n_bootstrap=50)
    a, b, c = (board.entry(m) for m in "abc")
    assert (a.wins, a.losses, a.ties, a.comparisons) == (2, 1, 1, 4)
    assert (b.wins, b.losses, b.ties, b.comparisons) == (0, 3, 1, 4)
    assert (c.wins, c.losses, c.ties, c.comparisons) == (2, 0, 0, 2)
    gap = a.rating - b.rating
    assert board.probability("a", "b") == pytest.approx(1 / (1 + 10 ** (-gap / 400)))
    assert board.probability("a", "b") + board.probability("b", "a") == pytest.approx(1)
    assert np.diag(board.win_probability).tolist() == [0.5, 0.5, 0.5]


def test_anchor_is_pinned_at_the_base_rating_and_gaps_are_unchanged():
    rows = simulate(TRUE_THETA, 600, np.random.default_rng(5))
    centred = bradley_terry_leaderboard(rows, n_bootstrap=100)
    anchored = bradley_terry_leaderboard(rows, anchor="sft", n_bootstrap=100)
    sft = anchored.entry("sft")
    assert sft.rating == sft.ci_low == sft.ci_high == pytest.approx(BASE_RATING)
    for model in TRUE_THETA:
        gap = centred.entry(model).rating - centred.entry("sft").rating
        assert anchored.entry(model).rating - BASE_RATING == pytest.approx(gap)


def test_a_model_that_wins_every_comparison_gets_a_finite_rating():
    board = bradley_terry_leaderboard([("new", "old", 1, p) for p in range(50)], n_bootstrap=20)
    new, old = board.entry("new"), board.entry("old")
    assert math.isfinite(new.rating) and new.rating > old.rating
    assert board.probability("new", "old") > 0.95


def test_one_model_and_a_model_without_comparisons_have_no_rating():
    alone = bradley_terry_leaderboard([], models=["sft"])
    assert alone.entries[0].rating is None and alone.entries[0].comparisons == 0
    assert alone.connected and np.isnan(alone.win_probability).all()
    assert bradley_terry_leaderboard([]).entries == []

    board = bradley_terry_leaderboard(
        [("a", "b", 1), ("b", "a", 1)], models=["idle"], n_bootstrap=100
    )
    assert board.models == ["a", "b", "idle"]  # unrated models come last
    idle = board.entry("idle")
    assert (idle.rating, idle.ci_low, idle.ci_high, idle.comparisons) == (None, None, None, 0)
    assert not board.connected and idle.component == 1
    assert np.isnan(board.probability("a", "idle"))


def test_disconnected_components_are_centred_separately_and_not_compared():
    rows = [("a", "b", 1, 1), ("a", "b", 1, 2), ("b", "a", 1, 3)]  # component of 3 comparisons
    rows += [("x", "y", 0, 4), ("x", "y", 0.5, 5)]  # component of 2
    board = bradley_terry_leaderboard(rows, n_bootstrap=50)
    assert not board.connected
    assert board.models == ["a", "b", "y", "x"]
    assert [e.component for e in board.entries] == [0, 0, 1, 1]
    for component in (0, 1):
        ratings = [e.rating for e in board.entries if e.component == component]
        assert np.mean(ratings) == pytest.approx(BASE_RATING)
    assert np.isnan(board.probability("a", "x"))
    assert board.probability("y", "x") > 0.5


def test_ranking_comparisons_pair_different_models_across_and_within_tiers():
    model_of = {1: "sft", 2: "policy", 3: "sft", 4: "policy", 5: None}
    comparisons = ranking_comparisons([[2], [1, 4], [3, 5]], model_of, group="set-9")
    assert comparisons == [
        Comparison("policy", "sft", 1.0, "set-9"),  # 2 > 1
        Comparison("policy", "sft", 1.0, "set-9"),  # 2 > 3
        Comparison("sft", "policy", 0.5, "set-9"),  # 1 = 4
        Comparison("policy", "sft", 1.0, "set-9"),  # 4 > 3
    ]
    assert ranking_comparisons([], model_of) == []


@pytest.mark.parametrize(
    ("rows", "kwargs", "message"),
    [
        ([("a", "b", 0.7)], {}, "outcome"),
        ([("a", "a", 1)], {}, "itself"),
        ([("a", "b")], {}, r"\(a, b, outcome"),
        ([("a", "b", 1, "g", "extra")], {}, r"\(a, b, outcome"),
        ([("a", "b", 1)], {"anchor": "c"}, "anchor"),
        ([("a", "b", 1)], {"prior": 0}, "prior"),
        ([("a", "b", 1)], {"n_bootstrap": -1}, "n_bootstrap"),
        ([("a", "b", 1)], {"confidence": 1.0}, "confidence"),
    ],
)
def test_invalid_input_is_rejected(rows, kwargs, message):
    with pytest.raises(ValueError, match=message):
        bradley_terry_leaderboard(rows, **kwargs)


def test_no_bootstrap_gives_ratings_without_intervals():
    board = bradley_terry_leaderboard([("a", "b", 1), ("b", "a", 1), ("a", "b", 1)], n_bootstrap=0)
    assert board.entry("a").rating > board.entry("b").rating
    assert board.entry("a").ci_low is None and board.entry("a").ci_high is None

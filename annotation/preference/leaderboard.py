"""Bradley–Terry leaderboard of model versions, with cluster-bootstrap confidence intervals.

The Chatbot Arena recipe (Chiang et al. 2024, "Chatbot Arena: An Open Platform for Evaluating
LLMs by Human Preference"): fit Bradley & Terry (1952) strengths θ to pairwise outcomes between
models, ``P(a beats b) = σ(θ_a − θ_b)``, report them on an Elo-like scale and attach percentile
bootstrap confidence intervals (Efron & Tibshirani 1993, ch. 13). The comparisons come from human
rankings of candidate sets that mix model versions (:func:`ranking_comparisons`) or from a reward
model judging several policies' samples on the same prompts.

Scale. ``rating = 1000 + (400 / ln 10) · (θ − θ̄)``, Arena's ``SCALE=400, BASE=10,
INIT_RATING=1000``: a 400-point gap means 10 : 1 odds, 100 points ≈ 64 %. Anchor: by default θ̄ is
the mean log-strength of the models in the component (see below), so the leaderboard's mean
rating is 1000 and adding a model moves the others only through the data. With ``anchor=m``,
model m is pinned at 1000 instead (say the SFT model, so "+120" reads as "120 points better than
SFT") and every CI is then a CI of the gap to m (m's own CI is the point 1000).

Departures from Arena and why:

* Cluster bootstrap (Field & Welsh 2007, "Bootstrapping clustered data"; Cameron & Miller 2015).
  Arena resamples single battles, which are independent. Ours are not: a ranking of K candidates
  yields up to C(K, 2) comparisons that share one annotator, one prompt and one moment of
  attention, and several policies scored on the same prompt share that prompt's difficulty.
  Resampling single comparisons then treats dependent outcomes as independent evidence and the
  intervals come out too narrow. So each comparison carries a ``group`` (the candidate set, or the
  prompt) and the bootstrap draws groups with replacement, keeping every comparison of a drawn
  group. A comparison without a group is its own group (the plain bootstrap).
* A prior. ``fit_log_strengths`` (see :mod:`annotation.preference.bradley_terry`) adds ``prior``
  virtual wins and ``prior`` virtual losses per model against a θ = 0 reference (Coulom's 2008
  virtual games). A new policy that beats the old one on every held-out prompt is a likely
  outcome here, and so are such resamples; without a prior its MLE is infinite. With
  ``prior=1`` the shrinkage is small once there are data (60 wins in 100 give a gap of 69.7
  points against the MLE's 70.4). When one model wins *every* comparison, its gap is set by the
  prior alone (50 of 50: +720 points) and every resample agrees, so the interval understates
  the uncertainty; nothing but more, closer comparisons can fix that.

Disconnected comparison graphs. Two models that are never linked by a chain of comparisons have
no identified relative strength: the data say nothing about it, only the prior does. We still fit
all models jointly (the prior keeps it finite), but we do not pretend to compare across the gap:
each connected component (of the undirected "compared at least once" graph) is centred on 1000
separately (or on the anchor, in the anchor's component), ``win_probability`` is NaN between
components, entries carry their ``component`` and are sorted component by component (largest
first by comparisons), and ``Leaderboard.connected`` says whether there was a single component.
A model listed in ``models`` without any comparison is a component of its own with
``rating=None`` (nothing to rate); so is the single model of a one-model leaderboard.

In a bootstrap resample a model whose groups were all left out has no data; its rating for that
resample is missing (NaN) rather than the prior's arbitrary value, and the percentiles are taken
over the resamples where it played. If the anchor is left out, that resample gives no ratings for
the anchor's component.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from annotation.preference.bradley_terry import fit_log_strengths
from annotation.preference.tiers import Tiers, tier_index

ELO_SCALE = 400 / math.log(10)  # rating points per unit of log-strength (Arena: 400, base 10)
BASE_RATING = 1000.0  # the rating of the anchor, or the mean rating of a component
OUTCOMES = (0.0, 0.5, 1.0)


class Comparison(NamedTuple):
    """One pairwise outcome: ``outcome`` is 1 if ``a`` won, 0 if ``b`` won, 0.5 for a tie.

    ``group`` names the unit the cluster bootstrap resamples (candidate set id, prompt id, …);
    comparisons that share a group are dependent. A plain ``(a, b, outcome)`` or
    ``(a, b, outcome, group)`` tuple is accepted wherever a ``Comparison`` is.
    """

    a: Hashable
    b: Hashable
    outcome: float
    group: Hashable | None = None


@dataclass(frozen=True)
class LeaderboardEntry:
    """One model's row. ``rating`` and the CI bounds are on the Elo-like scale of the module
    docstring; all three are None for a model without comparisons, and the CI bounds are None
    when no bootstrap was run. ``wins``/``losses``/``ties`` count comparisons from this model's
    side; ``comparisons`` is their sum."""

    model: Any
    rating: float | None
    ci_low: float | None
    ci_high: float | None
    wins: int
    losses: int
    ties: int
    comparisons: int
    component: int  # 0 = the component with the most comparisons; see the module docstring


@dataclass(frozen=True)
class Leaderboard:
    """Entries best → worst (component by component) and the fitted win probabilities.

    ``win_probability[i, j]`` is ``P(entries[i].model beats entries[j].model) = σ(θ_i − θ_j)``
    from the point estimate; NaN when the two models are in different components or either has
    no comparison (the data do not identify it), 0.5 on the diagonal of a rated model.
    """

    entries: list[LeaderboardEntry]
    win_probability: np.ndarray  # (M, M) in entries order
    connected: bool
    n_comparisons: int
    n_groups: int
    n_bootstrap: int
    confidence: float

    @property
    def models(self) -> list[Any]:
        return [entry.model for entry in self.entries]

    def entry(self, model: Hashable) -> LeaderboardEntry:
        for entry in self.entries:
            if entry.model == model:
                return entry
        raise KeyError(model)

    def probability(self, a: Hashable, b: Hashable) -> float:
        """``P(a beats b)`` from the fit (NaN where not identified, see the class docstring)."""
        models = self.models
        return float(self.win_probability[models.index(a), models.index(b)])


def ranking_comparisons(
    tiers: Tiers, model_of: Mapping[int, Hashable | None], *, group: Hashable | None = None
) -> list[Comparison]:
    """Model-vs-model comparisons implied by one ranking of a candidate set that mixes versions.

    Every pair of candidates from *different* models gives a comparison: 1 when the first is in
    a better tier, 0.5 when both share a tier. Unlike training pairs (InstructGPT keeps no pair
    inside a tie, see :mod:`annotation.preference.pairs`), a tie between two models is evidence
    that they are close, as in Arena's battles. Pairs from the same model, and candidates whose
    model is unknown (imported texts: missing from ``model_of`` or None), give nothing. A
    ``not_rankable`` ranking (``[]``) gives nothing. Pass the candidate set's id as ``group``:
    the comparisons of one ranking (and of several annotators' rankings of one set) are
    dependent, which the cluster bootstrap must know. Order: by tier, then position.
    """
    tier_of = tier_index(tiers)
    order = [candidate for tier in tiers for candidate in tier]
    comparisons: list[Comparison] = []
    for i, first in enumerate(order):
        for second in order[i + 1 :]:
            a, b = model_of.get(first), model_of.get(second)
            if a is None or b is None or a == b:
                continue
            outcome = 0.5 if tier_of[first] == tier_of[second] else 1.0
            comparisons.append(Comparison(a, b, outcome, group))
    return comparisons


def bradley_terry_leaderboard(
    comparisons: Iterable[Comparison | tuple],
    *,
    models: Sequence[Hashable] = (),
    anchor: Hashable | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    prior: float = 1.0,
    seed: int = 0,
) -> Leaderboard:
    """Fit the leaderboard and its percentile cluster-bootstrap CIs (see the module docstring).

    ``models`` lists models to show even without comparisons (e.g. every registered version), in
    addition to those the comparisons name; the first-seen order breaks rating ties.
    ``n_bootstrap`` resamples of the groups (0: no CIs), seeded by ``seed`` on a private
    generator, so the same input gives the same leaderboard. Raises ``ValueError`` on an outcome
    other than 0, 0.5 or 1, a model compared with itself, a malformed comparison, an ``anchor``
    that is not a model, ``prior ≤ 0``, ``n_bootstrap < 0`` or ``confidence`` outside (0, 1).
    """
    if prior <= 0:
        raise ValueError(f"prior must be > 0 (a model that never loses has no MLE), got {prior}.")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be ≥ 0, got {n_bootstrap}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}.")

    rows = [_checked(item) for item in comparisons]
    index: dict[Hashable, int] = {}
    for model in [*models, *(m for row in rows for m in (row.a, row.b))]:
        index.setdefault(model, len(index))
    keys = list(index)
    if anchor is not None and anchor not in index:
        raise ValueError(f"anchor {anchor!r} is not one of the models.")
    n_models = len(keys)

    first = np.array([index[row.a] for row in rows], dtype=np.int64)  # (N,)
    second = np.array([index[row.b] for row in rows], dtype=np.int64)  # (N,)
    outcome = np.array([row.outcome for row in rows], dtype=float)  # (N,)
    # Cluster labels 0 … G−1; a comparison without a group is a cluster of its own.
    labels = [
        ("row", i) if row.group is None else ("group", row.group) for i, row in enumerate(rows)
    ]
    clusters: dict[tuple, int] = {}
    cluster = np.array([clusters.setdefault(k, len(clusters)) for k in labels], dtype=np.int64)
    n_groups = len(clusters)

    def win_matrix(weights: np.ndarray) -> np.ndarray:
        """(M, M) weighted wins, ties split ½–½, from per-comparison weights (N,)."""
        flat = np.bincount(first * n_models + second, weights * outcome, n_models * n_models)
        flat += np.bincount(second * n_models + first, weights * (1 - outcome), n_models * n_models)
        return flat.reshape(n_models, n_models)

    games = np.bincount(first, minlength=n_models) + np.bincount(second, minlength=n_models)
    component = _components(n_models, first, second, games)
    anchor_index = None if anchor is None else index[anchor]

    theta = (
        fit_log_strengths(win_matrix(np.ones(len(rows))), prior=prior) if n_models else np.zeros(0)
    )
    ratings = _ratings(theta, games > 0, component, anchor_index)  # (M,), NaN if unrated

    samples = np.full((n_bootstrap, n_models), np.nan)  # (R, M)
    rng = np.random.default_rng(seed)
    for r in range(n_bootstrap if len(rows) else 0):
        drawn = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)  # (G,)
        weights = drawn[cluster].astype(float)  # (N,)
        played = np.bincount(first, weights, n_models) + np.bincount(second, weights, n_models)
        resampled = fit_log_strengths(win_matrix(weights), prior=prior)
        samples[r] = _ratings(resampled, played > 0, component, anchor_index)
    tail = 100 * (1 - confidence) / 2
    low, high = np.full(n_models, np.nan), np.full(n_models, np.nan)
    for m in range(n_models):
        valid = samples[:, m][~np.isnan(samples[:, m])]
        if len(valid):
            low[m], high[m] = np.percentile(valid, [tail, 100 - tail])

    wins, losses, ties = (np.zeros(n_models, dtype=np.int64) for _ in range(3))
    for a, b, result in zip(first, second, outcome, strict=True):
        winner, loser = (a, b) if result == 1 else (b, a)
        if result == 0.5:
            ties[[a, b]] += 1
        else:
            wins[winner] += 1
            losses[loser] += 1

    order = sorted(
        range(n_models),
        key=lambda m: (component[m], np.isnan(ratings[m]), -np.nan_to_num(ratings[m]), m),
    )
    entries = [
        LeaderboardEntry(
            model=keys[m],
            rating=_float(ratings[m]),
            ci_low=_float(low[m]),
            ci_high=_float(high[m]),
            wins=int(wins[m]),
            losses=int(losses[m]),
            ties=int(ties[m]),
            comparisons=int(games[m]),
            component=int(component[m]),
        )
        for m in order
    ]
    rated = games > 0
    same = (component[:, None] == component[None, :]) & rated[:, None] & rated[None, :]
    probability = np.where(same, _sigmoid(theta[:, None] - theta[None, :]), np.nan)  # (M, M)
    return Leaderboard(
        entries=entries,
        win_probability=probability[np.ix_(order, order)],
        connected=len(set(component.tolist())) <= 1,
        n_comparisons=len(rows),
        n_groups=n_groups,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
    )


def _checked(item: Comparison | tuple) -> Comparison:
    if not 3 <= len(item) <= 4:
        raise ValueError(f"A comparison is (a, b, outcome[, group]), got {item!r}.")
    row = Comparison(*item)
    if row.outcome not in OUTCOMES:
        raise ValueError(f"outcome must be 1 (a wins), 0 (b wins) or 0.5 (tie), got {row!r}.")
    if row.a == row.b:
        raise ValueError(f"A model cannot be compared with itself: {row!r}.")
    return row


def _components(
    n_models: int, first: np.ndarray, second: np.ndarray, games: np.ndarray
) -> np.ndarray:
    """Connected components of the comparison graph, numbered by comparisons (most first), then
    by the first-seen model; a model without comparisons is a component of its own."""
    parent = list(range(n_models))

    def root(m: int) -> int:
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    for a, b in zip(first.tolist(), second.tolist(), strict=True):
        parent[root(a)] = root(b)
    roots = [root(m) for m in range(n_models)]
    size: dict[int, int] = {}
    earliest: dict[int, int] = {}
    for m, r in enumerate(roots):
        size[r] = size.get(r, 0) + int(games[m])
        earliest.setdefault(r, m)
    ranked = sorted(size, key=lambda r: (-size[r], earliest[r]))
    number = {r: i for i, r in enumerate(ranked)}
    return np.array([number[r] for r in roots], dtype=np.int64)


def _ratings(
    theta: np.ndarray, rated: np.ndarray, component: np.ndarray, anchor: int | None
) -> np.ndarray:
    """Elo-scale ratings, each component centred on its rated models' mean (or on the anchor);
    NaN for models without comparisons (or, in a resample, a component whose anchor is out)."""
    ratings = np.full(len(theta), np.nan)
    for c in np.unique(component):
        members = np.flatnonzero((component == c) & rated)
        if not len(members):
            continue
        if anchor is not None and component[anchor] == c:
            if not rated[anchor]:
                continue
            centre = theta[anchor]
        else:
            centre = theta[members].mean()
        ratings[members] = BASE_RATING + ELO_SCALE * (theta[members] - centre)
    return ratings


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _float(x: float) -> float | None:
    return None if math.isnan(x) else float(x)

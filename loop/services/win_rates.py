"""Win-rates of a new policy against the previous one, with 95 % intervals and length control.

- Interval: a cluster bootstrap over evaluation prompts (the samples of one prompt are not
  independent draws), percentile 2.5–97.5.
- Length-controlled win-rate, after AlpacaEval-LC (Dubois et al. 2024, "Length-Controlled
  AlpacaEval"): fit a logistic regression of the judge's outcome (new beats previous: 1, loses:
  0, tie: ½) on the standardised length difference of the two responses, and report
  σ(intercept), the win-rate the judge would give at equal lengths. Departures from the paper:
  one covariate (the length difference in characters divided by its standard deviation, not
  centred, so the intercept is "equal lengths"), no instruction-difficulty term and no tanh;
  fitted by Newton–IRLS with a weak L2 penalty (``RIDGE``) so a sweep (every pair won) gives a
  finite intercept instead of diverging.

Pure numpy: no torch, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

N_BOOTSTRAP = 2000
RIDGE = 1e-3


def outcomes_from_scores(new: Sequence[float], old: Sequence[float]) -> list[float]:
    """Per aligned sample pair: 1 when the judge scores ``new`` higher, 0 lower, ½ equal."""
    return [1.0 if a > b else 0.0 if a < b else 0.5 for a, b in zip(new, old, strict=True)]


def _cluster_indices(groups: Sequence[Any]) -> list[np.ndarray]:
    order: dict[Any, list[int]] = {}
    for i, group in enumerate(groups):
        order.setdefault(group, []).append(i)
    return [np.asarray(rows) for rows in order.values()]


def _resamples(groups: Sequence[Any], n_bootstrap: int, seed: int):
    """Row indices of each bootstrap resample: whole groups drawn with replacement."""
    clusters = _cluster_indices(groups)
    rng = np.random.default_rng(seed)
    for _ in range(n_bootstrap):
        picked = rng.integers(0, len(clusters), size=len(clusters))
        yield np.concatenate([clusters[c] for c in picked])


def win_rate_interval(
    outcomes: Sequence[float],
    groups: Sequence[Any],
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> tuple[float, float]:
    """95 % cluster-bootstrap interval of the mean outcome (the win-rate, ties ½)."""
    y = np.asarray(outcomes, dtype=float)
    if len(set(groups)) < 2:
        return float(y.mean()), float(y.mean())
    means = [y[rows].mean() for rows in _resamples(groups, n_bootstrap, seed)]
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def logistic_fit(
    y: np.ndarray, x: np.ndarray, *, ridge: float = RIDGE, iterations: int = 50
) -> tuple[float, float]:
    """(intercept, slope) of P(y = 1) = σ(a + b·x) by Newton–IRLS; ``y`` may be fractional
    (a tie is ½: the quasi-binomial likelihood). ``ridge``: L2 penalty on both coefficients."""
    design = np.column_stack([np.ones_like(x), x])  # (N, 2)
    beta = np.zeros(2)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (y - p) - ridge * beta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + ridge * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def _sigmoid(value: float) -> float:
    return float(1.0 / (1.0 + np.exp(-value)))


def length_controlled_win_rate(
    outcomes: Sequence[float],
    length_differences: Sequence[float],
    groups: Sequence[Any],
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> dict[str, Any]:
    """σ(intercept) of the judge's outcome regressed on the standardised length difference
    (new − previous, in characters), with a 95 % cluster-bootstrap interval; ``length_slope``:
    the change in log-odds per standard deviation of length difference."""
    y = np.asarray(outcomes, dtype=float)
    d = np.asarray(length_differences, dtype=float)
    scale = float(d.std())
    x = d / scale if scale > 0 else np.zeros_like(d)
    intercept, slope = logistic_fit(y, x)
    row: dict[str, Any] = {
        "n": len(y),
        "win_rate": _sigmoid(intercept),
        "length_slope": slope,
        "mean_length_difference": float(d.mean()),
        "ci_low": None,
        "ci_high": None,
    }
    if len(set(groups)) >= 2:
        rates = [
            _sigmoid(logistic_fit(y[rows], x[rows])[0])
            for rows in _resamples(groups, n_bootstrap, seed)
        ]
        low, high = np.percentile(rates, [2.5, 97.5])
        row |= {"ci_low": float(low), "ci_high": float(high)}
    return row


def accuracy_margin_noise(accuracy: float, pairs: int) -> float:
    """Two binomial standard errors of an accuracy measured on ``pairs`` pairs."""
    return 2 * float(np.sqrt(max(accuracy * (1 - accuracy), 0.0) / max(pairs, 1)))

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


CALIBRATION_RIDGE = 1.0


def judge_calibration(margins: Sequence[float], *, ridge: float = CALIBRATION_RIDGE) -> float:
    """The slope b ≥ 0 of P(annotators prefer the response the judge scores higher) =
    σ(b · d / s), fitted on pairs the judge did not train on: ``margins`` are its score
    differences d = chosen − rejected (annotators chose the first), s their root mean square.
    Both orders of each pair are one observation each way, so no intercept; a weak L2 penalty
    keeps a judge that orders every pair right finite. A judge at chance gets b ≈ 0; one that
    orders pairs against the annotators gets 0, no information (never a reversed judge)."""
    d = np.asarray(margins, dtype=float)
    scale = _rms(d)
    if scale == 0.0:
        return 0.0
    x = d / scale
    b = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-b * x))
        gradient = float(np.sum(x * (1 - p))) - ridge * b
        curvature = float(np.sum(x**2 * p * (1 - p))) + ridge
        step = gradient / curvature
        b += step
        if abs(step) < 1e-10:
            break
    return max(b, 0.0)


def calibrated_win_rate(
    new: Sequence[float],
    old: Sequence[float],
    groups: Sequence[Any],
    margins: Sequence[float],
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> dict[str, Any]:
    """The judge's win-rate of ``new`` over ``old`` as the annotators' expected preference: the
    mean of σ(b · (new − old) / s), b and s from ``judge_calibration`` on the judge's validation
    ``margins``. A judge that knows nothing gives ½ whatever it happens to lean towards; a
    sharp one gives its hard win-rate (``hard_win_rate``: wins + ties ½, over n). The 95 %
    interval resamples both the evaluation prompts (clusters) and the validation pairs (the
    slope's own uncertainty)."""
    diff = np.asarray(new, dtype=float) - np.asarray(old, dtype=float)
    m = np.asarray(margins, dtype=float)
    scale = _rms(m)
    slope = judge_calibration(m)

    def rate(b: float, rows) -> float:
        return float(np.mean(_preference(diff[rows], b, scale)))

    hard = np.asarray(outcomes_from_scores(new, old), dtype=float)
    row: dict[str, Any] = {
        "n": len(diff),
        "wins": int(np.sum(hard == 1.0)),
        "losses": int(np.sum(hard == 0.0)),
        "ties": int(np.sum(hard == 0.5)),
        "hard_win_rate": float(hard.mean()) if len(hard) else None,
        "calibration_slope": slope,
        "win_rate": rate(slope, slice(None)),
        "ci_low": None,
        "ci_high": None,
    }
    if len(set(groups)) >= 2 and len(m):
        rng = np.random.default_rng(seed + 1)
        rates = [
            rate(judge_calibration(m[rng.integers(0, len(m), size=len(m))]), rows)
            for rows in _resamples(groups, n_bootstrap, seed)
        ]
        low, high = np.percentile(rates, [2.5, 97.5])
        row |= {"ci_low": float(low), "ci_high": float(high)}
    return row


def calibrated_outcomes(
    new: Sequence[float], old: Sequence[float], margins: Sequence[float]
) -> list[float]:
    """Per aligned sample pair, the calibrated probability that ``new`` is preferred."""
    m = np.asarray(margins, dtype=float)
    diff = np.asarray(new, dtype=float) - np.asarray(old, dtype=float)
    return [float(v) for v in _preference(diff, judge_calibration(m), _rms(m))]


def _rms(values: np.ndarray) -> float:
    """The root mean square: the scale of a judge's margins (they are not centred: a pair is
    the same pair in either order)."""
    return float(np.sqrt(np.mean(values**2))) if len(values) else 0.0


def _preference(diff: np.ndarray, slope: float, scale: float) -> np.ndarray:
    """σ(slope · diff / scale): the calibrated probability that the first is preferred (½ each
    when the judge has no scale, i.e. no margins)."""
    if scale == 0.0:
        return np.full(len(diff), 0.5)
    return 1.0 / (1.0 + np.exp(-slope * diff / scale))


def accuracy_margin_noise(accuracy: float, pairs: int) -> float:
    """Two binomial standard errors of an accuracy measured on ``pairs`` pairs."""
    return 2 * float(np.sqrt(max(accuracy * (1 - accuracy), 0.0) / max(pairs, 1)))

"""Bradley–Terry log-strengths from a weighted win matrix, with a virtual-game prior.

Model (Bradley & Terry 1952): ``P(i beats j) = γ_i / (γ_i + γ_j) = σ(θ_i − θ_j)``, θ = log γ.
Data: ``wins[i, j]`` = (weighted) wins of i over j, ties already split ½–½. Prior: every item
also plays ``2·prior`` virtual games against a fixed reference of strength 1 (θ = 0) and wins
half of them — the virtual-game prior of Coulom's (2008) Whole-History Rating. It keeps an
item that never loses finite and shrinks log-strengths towards 0. We maximise::

    ℓ(θ) = Σ_ij wins_ij · log σ(θ_i − θ_j) + prior · Σ_i [log σ(θ_i) + log σ(−θ_i)]

Algorithm, and how it departs from Hunter (2004). Hunter's MM update
``γ_i ← W_i / Σ_j N_ij / (γ_i + γ_j)`` (:func:`mm_update`) characterises the optimum — it is
exactly its fixed point — but it converges linearly, and badly when the annotators agree (the
data are then separable and only the weak prior holds the strengths): three identical strict
rankings of nine responses, the common case here, leave centred log-strengths ≈ 1 off after
500 MM iterations and 0.06 off after 5,000. ℓ is concave in θ (strictly so with
``prior > 0``), so we take Newton–Raphson steps on θ with step halving, which converge in
≈ 10 iterations for K ≤ 9; whenever halving cannot make a Newton step ascend, Hunter's MM step
(always an ascent step) is taken instead.
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free form of 1 / (1 + e^−x)


def log_posterior(theta: np.ndarray, wins: np.ndarray, prior: float) -> float:
    """ℓ(θ) above; ``log σ(x) = −log(1 + e^−x)`` via ``logaddexp`` for stability."""
    diff = theta[:, None] - theta[None, :]  # (K, K)
    data = -(wins * np.logaddexp(0.0, -diff)).sum()
    virtual = -(np.logaddexp(0.0, -theta) + np.logaddexp(0.0, theta)).sum()
    return float(data + prior * virtual)


def mm_update(theta: np.ndarray, wins: np.ndarray, prior: float) -> np.ndarray:
    """One MM step of Hunter (2004), with the virtual games as an extra opponent of strength 1.

    ``γ_i ← (W_i + prior) / (Σ_j N_ij / (γ_i + γ_j) + 2·prior / (γ_i + 1))``, returned as
    log-strengths; centred when ``prior=0``, where ℓ ignores a common shift.
    """
    gamma = np.exp(theta - theta.max())  # rescaled to avoid overflow; undone below
    shift = theta.max()
    games = wins + wins.T  # (K, K) N_ij
    won = wins.sum(axis=1) + prior  # (K,)
    reference = np.exp(-shift)  # the reference's strength 1 on the rescaled axis
    pairwise = (games / (gamma[:, None] + gamma[None, :])).sum(axis=1)
    new = np.log(won / (pairwise + 2 * prior / (gamma + reference))) + shift
    return new if prior > 0 else new - new.mean()


def strongly_connected(edges: np.ndarray) -> bool:
    """Whether every item reaches every other along ``edges[a, b]`` (a beat b at least once).

    Hunter's (2004) Assumption 1 (after Ford 1957): without it the MLE does not exist.
    """

    def reaches_all(adjacency: np.ndarray) -> bool:
        seen, stack = {0}, [0]
        while stack:
            for b in np.flatnonzero(adjacency[stack.pop()]):
                if int(b) not in seen:
                    seen.add(int(b))
                    stack.append(int(b))
        return len(seen) == len(adjacency)

    return reaches_all(edges) and reaches_all(edges.T)


def fit_log_strengths(
    wins: np.ndarray, *, prior: float = 0.1, max_iter: int = 500, tol: float = 1e-9
) -> np.ndarray:
    """Maximiser θ of ℓ, shape (K,) (not centred: with a prior, ℓ pins the shift).

    ``wins`` is (K, K), non-negative, zero diagonal. Stops when the largest change of θ in an
    iteration is below ``tol`` or after ``max_iter`` iterations (logged as a warning). With
    ``prior=0`` the plain MLE: raises ``ValueError`` unless the "beat at least once" graph is
    strongly connected.
    """
    if prior < 0:
        raise ValueError(f"prior must be ≥ 0, got {prior}.")
    if prior == 0 and not strongly_connected(wins > 0):
        raise ValueError("No finite Bradley–Terry MLE without a prior: some group never loses.")
    games = wins + wins.T  # (K, K)
    theta = np.zeros(len(wins))
    value = log_posterior(theta, wins, prior)
    change = np.inf
    for _ in range(max_iter):
        p = _sigmoid(theta[:, None] - theta[None, :])  # (K, K) P(row beats column)
        q = _sigmoid(theta)  # (K,) P(beats the reference)
        gradient = (wins * (1 - p)).sum(axis=1) - (wins.T * p).sum(axis=1) + prior * (1 - 2 * q)
        curvature = games * p * (1 - p)  # (K, K)
        hessian = curvature - np.diag(curvature.sum(axis=1) + 2 * prior * q * (1 - q))
        # lstsq: with prior = 0 the Hessian is singular along the all-ones shift, which the
        # gradient is orthogonal to; the minimum-norm step leaves the shift alone.
        step = np.linalg.lstsq(hessian, -gradient, rcond=None)[0]
        for _ in range(30):
            candidate = theta + step
            candidate_value = log_posterior(candidate, wins, prior)
            if candidate_value >= value:
                break
            step = step / 2
        else:
            candidate = mm_update(theta, wins, prior)
            candidate_value = log_posterior(candidate, wins, prior)
        change = float(np.abs(candidate - theta).max())
        theta, value = candidate, candidate_value
        if change < tol:
            break
    else:
        logger.warning("Bradley–Terry fit stopped after %d iterations (Δθ %.2e).", max_iter, change)
    return theta

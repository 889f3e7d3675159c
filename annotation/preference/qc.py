"""Signals of suspicious annotation work. Pure functions; a signal is evidence, not a verdict.

Flywheel randomises each assignment's display order, so under honest work where a candidate is
shown is independent of where it is ranked. The signals below test that independence and a
reading-time floor; the caller aggregates them per annotator and decides what to do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from annotation.preference.tiers import Tiers, check_tiers

INTERACTION_COUNTERS = ("moves", "keys", "applied_suggestion")
"""Keys of the interaction summary that count reorderings: drag moves and keyboard reorders (the
"moves, keys…" the submit API documents), and applying a reward model's suggested order (the
workspace sends ``applied_suggestion: true``; it reorders the board in one step). Other keys
(e.g. ``expanded``: responses opened to read) show reading, not reordering, so they do not count
as interaction here."""


def _reordered(interaction: Mapping[str, Any] | None) -> bool:
    """Whether the summary shows any reordering. Absent, ``None`` or ``0`` counters mean none;
    any other value (a positive count, or something unreadable) counts as interaction, so an
    odd client never gets an annotator flagged."""
    if not interaction:
        return False
    for key in INTERACTION_COUNTERS:
        value = interaction.get(key)
        if not (value is None or (isinstance(value, int | float) and value == 0)):
            return True
    return False


def submitted_in_display_order(
    tiers: Tiers, display_order: Sequence[int], interaction: Mapping[str, Any] | None
) -> bool:
    """A strict ranking identical to the order shown, submitted without any reordering.

    True iff every tier has one candidate, the tiers read top to bottom equal
    ``display_order``, and ``interaction`` is ``None``/empty or all of
    :data:`INTERACTION_COUNTERS` are absent or zero. A ranking with ties is never flagged (making
    ties takes interaction), nor is ``not_rankable`` (``[]``).

    Base rate: an honest annotator whose true order happens to be the display order also submits
    it untouched, with probability 1/K! under random display order (½ for K = 2). Compare an
    annotator's hit count with ``Σ 1/K!`` over their rankings rather than acting on one hit.
    """
    check_tiers(tiers)
    if not tiers or any(len(tier) != 1 for tier in tiers):
        return False
    return [tier[0] for tier in tiers] == list(display_order) and not _reordered(interaction)


def too_fast(
    time_spent_seconds: float | None,
    total_chars: int,
    *,
    chars_per_second: float = 50.0,
    min_seconds: float = 3.0,
) -> bool:
    """Whether the ranking took less time than skimming the text would.

    Threshold ``max(min_seconds, total_chars / chars_per_second)``, ``total_chars`` being what
    the annotator had to read (the responses, plus the prompt if shown). Default speed: Carver
    (1990, 1992) measures skimming at ≈ 450 words/min and scanning at ≈ 600, and found no reader
    above 600 wpm with > 75 % comprehension; at ≈ 6 characters per English word (space
    included), 50 chars/s ≈ 500 wpm — faster than skimming everything once. ``min_seconds``
    covers short texts: no ranking is read, judged and submitted in under ~3 s. An unknown time
    (``None``) is never flagged.
    """
    if time_spent_seconds is None:
        return False
    return time_spent_seconds < max(min_seconds, total_chars / chars_per_second)


@dataclass(frozen=True)
class PositionBias:
    """How often the first-shown candidate was ranked top, against chance.

    ``count``: rankable records; ``observed_rate``: mean top-credit of the first-shown
    candidate; ``expected_rate``: mean 1/K; ``z``: normal statistic (positive = favours the
    first-shown); ``p_value``: two-sided; ``method``: how ``p_value`` was computed. With no
    rankable record the rates and z are 0 and the p-value 1 (no evidence).
    """

    count: int
    observed_rate: float
    expected_rate: float
    z: float
    p_value: float
    method: Literal["exact", "normal"]


def position_bias(records: Iterable[tuple[Tiers, Sequence[int]]]) -> PositionBias:
    """Primacy-bias test over one annotator's ``(tiers, display_order)`` records.

    Credit per record: ``1/|top tier|`` if the first-shown candidate is in the top tier, else 0 —
    a tie shares the top place. Under no bias the first-shown candidate is uniform among the K
    (display order is random), so ``E[credit] = (|top|/K)·(1/|top|) = 1/K`` whatever the tiers,
    and ``Var = 1/(|top|·K) − 1/K²``. ``not_rankable`` records are skipped.

    p-value: if every top tier is a single candidate, credits are Bernoulli(1/K) and the exact
    two-sided Poisson-binomial test is used (sum of the probabilities of outcomes no more likely
    than the observed one; with one K this is ``scipy.stats.binomtest``). Otherwise a normal
    approximation, ``z = (Σ credit − Σ 1/K) / sqrt(Σ Var)``, ``p = erfc(|z|/√2)``: reasonable
    from a few dozen records, optimistic below.
    """
    credits: list[float] = []
    chances: list[float] = []  # 1/K per record
    variances: list[float] = []
    strict_top = True
    for tiers, display_order in records:
        check_tiers(tiers)
        if not tiers or not display_order:
            continue
        k = sum(len(tier) for tier in tiers)
        top = len(tiers[0])
        strict_top = strict_top and top == 1
        credits.append(1 / top if display_order[0] in tiers[0] else 0.0)
        chances.append(1 / k)
        variances.append(1 / (top * k) - 1 / k**2)
    count = len(credits)
    if count == 0:
        return PositionBias(0, 0.0, 0.0, 0.0, 1.0, "exact")
    excess = sum(credits) - sum(chances)
    spread = math.sqrt(sum(variances))
    z = excess / spread if spread > 0 else 0.0
    if strict_top:
        p_value = _poisson_binomial_two_sided(round(sum(credits)), chances)
        method: Literal["exact", "normal"] = "exact"
    else:
        p_value = math.erfc(abs(z) / math.sqrt(2)) if spread > 0 else 1.0
        method = "normal"
    return PositionBias(count, sum(credits) / count, sum(chances) / count, z, p_value, method)


def _poisson_binomial_two_sided(successes: int, probabilities: Sequence[float]) -> float:
    """Two-sided p-value of ``successes`` among independent Bernoulli(p_i) trials.

    The pmf is the convolution of the trials' two-point pmfs (O(n²), vectorised); the p-value
    sums the outcomes whose probability is at most the observed one's, with scipy's
    ``binomtest`` relative slack of 1e-7 so that float noise does not drop the symmetric twin
    of the observed outcome.
    """
    pmf = np.ones(1)  # (n + 1,) after all trials: P(exactly j successes)
    for p in probabilities:
        pmf = np.convolve(pmf, [1 - p, p])
    observed = pmf[successes] * (1 + 1e-7)
    return float(min(1.0, pmf[pmf <= observed].sum()))

"""The tiny world's hidden rule as a loop oracle: the rates a round records for each policy's
evaluation samples beside the reward model's scores.

The loop names this function in ``settings.FLYWHEEL_ORACLES`` and imports it by that path when a
round is evaluated (``loop.services.evaluation``), so the product never imports the tiny world.
Imports no torch."""

from __future__ import annotations

from collections.abc import Sequence

from .scorer import has_preferred_trait, is_relevant, is_well_formed
from .world import Messages


def trait_rates(prompts: Sequence[Messages], samples: Sequence[Sequence[str]]) -> dict[str, float]:
    """Shares of the samples (``samples[i]``: the replies to ``prompts[i]``) that show the
    preferred trait, are in the task's format, and name the prompt's topic; 0 for no samples."""
    pairs = [(p, t) for p, texts in zip(prompts, samples, strict=True) for t in texts]
    n = len(pairs) or 1
    return {
        "trait_rate": sum(has_preferred_trait(p, t) for p, t in pairs) / n,
        "well_formed_rate": sum(is_well_formed(t) for _, t in pairs) / n,
        "relevance_rate": sum(is_relevant(p, t) for p, t in pairs) / n,
    }

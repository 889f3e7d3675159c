"""Hypothesis strategies for rankings: random candidates cut into random tiers."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st


@st.composite
def tierings(draw: st.DrawFn, candidates: Sequence[int] | None = None) -> list[list[int]]:
    """A ranking of ``candidates`` (default: 2–9 ids) in a random order and random tier cuts."""
    if candidates is None:
        candidates = range(1, draw(st.integers(2, 9)) + 1)
    order = draw(st.permutations(list(candidates)))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(order) - 1)))))
    bounds = [0, *(c for c in cuts if c < len(order)), len(order)]
    return [list(order[a:b]) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]

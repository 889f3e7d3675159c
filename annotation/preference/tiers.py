"""The tier representation of a ranking, shared by every module of the package.

``tiers: list[list[int]]`` lists candidate ids best → worst; ids inside one tier are tied. The
empty list is a ``not_rankable`` ranking. The services validate submissions against the
candidate set; these checks only catch programming errors (a malformed ranking reaching the
maths), so they raise ``ValueError`` rather than an application error.
"""

from __future__ import annotations

from collections.abc import Sequence

Tiers = Sequence[Sequence[int]]


def check_tiers(tiers: Tiers) -> None:
    """Raise ``ValueError`` if a tier is empty or a candidate appears twice."""
    seen: set[int] = set()
    for tier in tiers:
        if not tier:
            # An empty tier would silently shift every tier index after it (and so margins).
            raise ValueError(f"Empty tier in ranking {tiers!r}.")
        for candidate in tier:
            if candidate in seen:
                raise ValueError(f"Candidate {candidate} appears twice in ranking {tiers!r}.")
            seen.add(candidate)


def tier_index(tiers: Tiers) -> dict[int, int]:
    """Map each candidate to the index of its tier (0 = best); checks the ranking first."""
    check_tiers(tiers)
    return {candidate: i for i, tier in enumerate(tiers) for candidate in tier}

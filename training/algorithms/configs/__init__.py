"""The built-in algorithms: each one's config (a frozen dataclass with literature defaults and
help per field) and, right below it, its registry entry (``registry.Algorithm``), in
``preference`` (SFT, reward, DPO, KTO) and ``rl`` (PPO, GRPO, RLOO). Plain Python (no torch), so
the web process validates a run's config before queueing it; each algorithm module imports its
config from here and holds the ``train`` entry the registry names. Importing this package
registers them, in this order."""

from __future__ import annotations

from typing import Any

from training.algorithms.registry import algorithm, algorithms

from .preference import (
    DPO,
    KTO,
    REWARD,
    SFT,
    DpoLossType,
    DpoRunConfig,
    KtoRunConfig,
    RewardRunConfig,
    SftRunConfig,
)
from .rl import (
    GROUP_SIZE,
    GRPO,
    KL_COEF,
    PPO,
    RLOO,
    Estimator,
    GrpoRunConfig,
    PpoRunConfig,
    RlooRunConfig,
)

__all__ = [
    "DPO",
    "GRPO",
    "GROUP_SIZE",
    "KL_COEF",
    "KTO",
    "PPO",
    "REWARD",
    "RLOO",
    "SFT",
    "DpoLossType",
    "DpoRunConfig",
    "Estimator",
    "GrpoRunConfig",
    "KtoRunConfig",
    "PpoRunConfig",
    "RewardRunConfig",
    "RlooRunConfig",
    "SftRunConfig",
    "parse_run_config",
]


def __getattr__(name: str):
    # Derived from the registry when read, so that it also lists the algorithms of
    # settings.FLYWHEEL_ALGORITHMS (those import this package, so they load after it).
    if name == "RUN_CONFIGS":
        return {a.kind: a.config for a in algorithms()}
    raise AttributeError(name)


def parse_run_config(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Validate a run's config for its kind; returns it with defaults filled in (what the run
    records). Raises ValueError("field: reason")."""
    return algorithm(kind).parse_config(values)

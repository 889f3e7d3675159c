"""The algorithm registry: what each training algorithm is, declared once beside its config.

An entry names the algorithm's run ``kind``, its config dataclass (which is also its config
schema, see ``base.config_fields``), the dataset view its runner exports, the model kind it
writes, what it needs (a reward model, a frozen reference), the loop step it can fill and the
config the loop starts it with. The run kinds, the reward-model check, the runner's dispatch,
the registry's output kinds, the loop's policy choices and the browser's run form all read it.

Entries come from ``training.algorithms.configs`` (the built-ins) and from every module listed
in ``settings.FLYWHEEL_ALGORITHMS``: a new algorithm is one module that calls ``register`` and
defines its ``train(config, inputs, hooks)``. Modules are imported by the web process too, so
they import torch inside ``train``, never at the top (torchtune's recipe registry is the model:
declarative entries, no class hierarchy).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

# The export views a runner can read (annotation/exports) plus "prompts": one row per distinct
# prompt, ``{"prompt": messages, "prompt_id"}``, for algorithms that sample their own responses.
DatasetView = Literal["sft", "preference", "kto", "prompts"]
# training.models.ModelKind's values (this module stays free of Django models).
OutputKind = Literal["sft", "reward", "policy"]
LoopRole = Literal["reward", "policy"]


@dataclass(frozen=True)
class Algorithm:
    kind: str
    label: str
    config: type
    train: str  # "module:function", imported in the job process only
    view: DatasetView
    output_kind: OutputKind
    needs_reward_model: bool = False
    needs_reference: bool = False
    loop_role: LoopRole | None = None
    loop_preset: dict[str, Any] = field(default_factory=dict)

    def build_config(self, values: dict[str, Any]):
        """The config dataclass from a run's JSON; raises ValueError("field: reason")."""
        from training.algorithms.base import config_from_dict

        return config_from_dict(self.config, values)

    def parse_config(self, values: dict[str, Any]) -> dict[str, Any]:
        """The run's config with defaults filled in (what the run records)."""
        return dataclasses.asdict(self.build_config(values))

    def train_function(self) -> Callable:
        module, _, name = self.train.partition(":")
        return getattr(importlib.import_module(module), name)


_ALGORITHMS: dict[str, Algorithm] = {}
_loaded = False


def register(algorithm: Algorithm) -> Algorithm:
    """Add an algorithm; registering a kind twice with a different entry is an error."""
    known = _ALGORITHMS.get(algorithm.kind)
    if known is not None and known != algorithm:
        raise ValueError(f"An algorithm of kind {algorithm.kind!r} is already registered.")
    if algorithm.needs_reward_model and algorithm.view != "prompts":
        raise ValueError(f"{algorithm.kind}: an algorithm scored by a reward model reads prompts.")
    _ALGORITHMS[algorithm.kind] = algorithm
    return algorithm


def register_built_in(kind: str, label: str, config: type, *, module: str = "", **fields):
    """Register an algorithm whose ``train`` is ``training.algorithms.<module or kind>``."""
    train = f"training.algorithms.{module or kind}:train"
    return register(Algorithm(kind=kind, label=label, config=config, train=train, **fields))


def _load() -> None:
    global _loaded
    if _loaded:
        return
    from django.conf import settings

    importlib.import_module("training.algorithms.configs")
    for module in getattr(settings, "FLYWHEEL_ALGORITHMS", ()):
        importlib.import_module(module)
    _loaded = True


def algorithms() -> list[Algorithm]:
    """Every registered algorithm, built-ins first, in declaration order."""
    _load()
    return list(_ALGORITHMS.values())


def algorithm(kind: str) -> Algorithm:
    """The algorithm of a run kind; KeyError if none."""
    _load()
    return _ALGORITHMS[kind]


def kinds(*, loop_role: LoopRole | None = None) -> list[str]:
    return [a.kind for a in algorithms() if loop_role is None or a.loop_role == loop_role]

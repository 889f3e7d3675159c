"""What every algorithm module shares: its inputs, the hooks the platform passes in, the result,
and the TrainerCallback that connects TRL trainers to those hooks.

The platform (``training.runner``) prepares the inputs from a dataset snapshot and the model
registry, calls ``<algo>.train(config, inputs, hooks)``, and records what the hooks report.
Algorithms never touch the database.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from transformers import TrainerCallback


class RunHooks(Protocol):
    """How an algorithm reports to the platform."""

    def on_log(self, step: int, metrics: Mapping[str, float]) -> None:
        """A metrics point (loss, accuracy, rewards/margins, kl, mean reward, …)."""

    def on_progress(self, step: int, total_steps: int) -> None:
        """Progress in optimizer steps."""

    def should_stop(self) -> bool:
        """True when the run was cancelled; the algorithm stops at the next step boundary."""


@dataclass(frozen=True)
class TrainInputs:
    """Paths prepared by the platform. JSONL files are Flywheel exports of the run's snapshot
    (view per algorithm: sft → ``sft``, reward/dpo → ``preference``, kto → ``kto``,
    ppo/grpo/rloo → prompts ``{"prompt": [messages]}``)."""

    base_model: Path  # a Hugging Face model directory (weights + tokenizer + chat template)
    output_dir: Path  # the trained model is saved here (save_pretrained + tokenizer)
    checkpoint_dir: Path  # trainer checkpoints; resume from the latest one found here
    train_file: Path
    eval_file: Path | None = None
    reward_model: Path | None = None  # ppo/grpo/rloo: a sequence-classification model dir
    sft_file: Path | None = None  # ppo: optional pretraining-mix ("ptx") data
    seed: int = 0
    use_cpu: bool = True  # False on GPU nodes; bf16 only when not use_cpu


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict[str, float] = field(default_factory=dict)  # final metrics (eval accuracy, …)
    cancelled: bool = False


def config_from_dict(config_class: type, values: Mapping[str, Any]):
    """Build a config dataclass from user JSON. Unknown keys, wrong types and values outside a
    ``Literal`` raise ValueError naming the field (the API turns it into a 400); the config's
    own ``validate()`` (if any) checks ranges."""
    hints = typing.get_type_hints(config_class)
    names = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown config key (known: {', '.join(sorted(names))})")
    clean = {}
    for name, value in values.items():
        clean[name] = _coerce(name, value, hints[name])
    config = config_class(**clean)
    if hasattr(config, "validate"):
        config.validate()
    return config


def _coerce(name: str, value: Any, hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"{name}: must be one of {', '.join(map(repr, args))}")
        return value
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(name, value, inner[0]) if len(inner) == 1 else value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float) and isinstance(value, bool):
        raise ValueError(f"{name}: must be a number, got {value!r}")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ValueError(f"{name}: must be {hint.__name__}, got {value!r}")
    return value


def latest_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The newest ``checkpoint-<step>`` directory, for ``trainer.train(resume_from_checkpoint)``."""
    if not checkpoint_dir.exists():
        return None
    checkpoints = [
        p for p in checkpoint_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()
    ]
    return max(checkpoints, key=lambda p: int(p.name.split("-")[-1]), default=None)


class HooksCallback(TrainerCallback):
    """Forwards a transformers/TRL Trainer's logs and progress to the run hooks, and stops the
    trainer cooperatively when the run is cancelled (``control.should_training_stop``)."""

    def __init__(self, hooks: RunHooks) -> None:
        self.hooks = hooks
        self.cancelled = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        numeric = {
            k: float(v)
            for k, v in (logs or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        }
        if numeric:
            self.hooks.on_log(state.global_step, numeric)

    def on_step_end(self, args, state, control, **kwargs):
        self.hooks.on_progress(state.global_step, state.max_steps)
        if self.hooks.should_stop():
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = False
        return control

"""What every algorithm module shares: its inputs, the hooks the platform passes in, the result,
and the TrainerCallback that connects TRL trainers to those hooks.

The platform (``training.runner``, in the job's process) prepares the inputs from a dataset
snapshot and the model registry, calls ``<algo>.train(config, inputs, hooks)``, and records what
the hooks report. Algorithms never touch the database.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

logger = logging.getLogger(__name__)


class RunHooks(Protocol):
    """How an algorithm reports to the platform."""

    def on_log(self, step: int, metrics: Mapping[str, float]) -> None:
        """A metrics point (loss, accuracy, rewards/margins, kl, mean reward, …)."""

    def on_progress(self, step: int, total_steps: int) -> None:
        """Progress in optimizer steps."""

    def on_checkpoint(self, step: int) -> None:
        """A resumable checkpoint of ``step`` is about to be saved: what was reported up to it
        is recorded first, so the record is never behind a checkpoint (a resumed run starts
        from a step its record reached); if that cannot be written, the run stops here."""

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


# Any integer of a run config: a PostgreSQL integer (steps and lengths are stored as such, and
# 10^12 steps was accepted, then failed in the database: issue 18). Fields tighten it.
MAX_CONFIG_INT = 2**31 - 1
# Optimizer steps (max_steps, warmup, save / logging / eval intervals): ten million, far beyond
# any run a worker finishes.
MAX_STEPS = 10_000_000
MAX_BATCH = 65_536
MAX_EPOCHS = 10_000


def config_from_dict(config_class: type, values: Mapping[str, Any], prefix: str = ""):
    """Build a config dataclass from user JSON. Unknown keys, wrong types and values outside a
    ``Literal`` raise ValueError naming the field (the API turns it into a 400); the config's
    own ``validate()`` (if any) checks ranges. A field whose type is itself a config dataclass
    (a block, e.g. ``adapter``) takes an object, checked the same way; its errors name
    ``block.field``."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{prefix.rstrip('.') or 'config'}: must be an object")
    hints = typing.get_type_hints(config_class)
    names = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"{prefix}{unknown[0]}: unknown config key (known: {', '.join(sorted(names))})"
        )
    clean = {}
    for name, value in values.items():
        clean[name] = _coerce(prefix + name, value, hints[name])
    config = config_class(**clean)
    if hasattr(config, "validate"):
        try:
            config.validate()
        except ValueError as exc:
            raise ValueError(f"{prefix}{exc}") from None
    return config


def _coerce(name: str, value: Any, hint: Any) -> Any:
    if dataclasses.is_dataclass(hint):
        return config_from_dict(hint, value, prefix=name + ".")
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
    if hint is int and not -MAX_CONFIG_INT <= value <= MAX_CONFIG_INT:
        raise ValueError(f"{name}: must be between {-MAX_CONFIG_INT} and {MAX_CONFIG_INT}")
    if hint is float and not math.isfinite(value):
        raise ValueError(f"{name}: must be a finite number")
    return value


@dataclass(frozen=True)
class ConfigFieldSpec:
    """One config field as a form shows it: ``type`` is float, int, bool, str or choice (with
    ``choices``, the ``Literal``'s values); ``optional`` when ``None`` is accepted."""

    name: str
    type: Literal["float", "int", "bool", "str", "choice", "block"]
    choices: tuple[Any, ...] | None
    optional: bool
    default: Any
    help: str
    fields: tuple[ConfigFieldSpec, ...] | None = None  # a block's own fields


def config_fields(config_class: type) -> list[ConfigFieldSpec]:
    """The fields of a config dataclass in declaration order, read from the same type hints
    ``config_from_dict`` checks values against, with the help text of ``config_field``. A block
    (a field whose type is a config dataclass, e.g. ``adapter``) is one field of type ``block``
    with its own ``fields``; its default is None (off)."""
    hints = typing.get_type_hints(config_class)
    specs = []
    for f in dataclasses.fields(config_class):
        hint, optional = hints[f.name], False
        if typing.get_origin(hint) in (types.UnionType, typing.Union):
            args = typing.get_args(hint)
            optional = type(None) in args
            inner = [a for a in args if a is not type(None)]
            if len(inner) != 1:
                raise TypeError(f"{config_class.__name__}.{f.name}: unsupported type {hint}")
            hint = inner[0]
        choices, block = None, None
        if dataclasses.is_dataclass(hint):
            kind, block = "block", tuple(config_fields(hint))
        elif typing.get_origin(hint) is typing.Literal:
            kind, choices = "choice", typing.get_args(hint)
        elif hint in (float, int, bool, str):
            kind = hint.__name__
        else:
            raise TypeError(f"{config_class.__name__}.{f.name}: unsupported type {hint}")
        specs.append(
            ConfigFieldSpec(
                name=f.name,
                type=kind,
                choices=choices,
                optional=optional,
                default=f.default,
                help=f.metadata.get("help", ""),
                fields=block,
            )
        )
    return specs


# Written last into a checkpoint: by ``HooksCallback.on_save`` once every process of the run has
# saved its part (transformers' Trainer writes trainer_state.json on the main process while the
# other processes may still be writing their RNG state files: a worker killed then leaves a
# checkpoint whose state file exists and whose rank-1 RNG file is truncated), and by PPO's own
# checkpoints before their rename. A directory without it is one a killed worker left half written.
CHECKPOINT_COMPLETE_MARKER = "checkpoint-complete"


def latest_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The newest complete ``checkpoint-<step>`` directory, for
    ``trainer.train(resume_from_checkpoint)``."""
    if not checkpoint_dir.exists():
        return None
    checkpoints = [
        p
        for p in checkpoint_dir.glob("checkpoint-*")
        if p.name.split("-")[-1].isdigit() and (p / CHECKPOINT_COMPLETE_MARKER).is_file()
    ]
    return max(checkpoints, key=lambda p: int(p.name.split("-")[-1]), default=None)


# --- Shared by the TRL-backed algorithms (sft, reward, dpo, kto, grpo/rloo) -------------------


def config_field(default: Any, help: str) -> Any:
    """A config field with its help text (``dataclasses.fields(cls)[i].metadata["help"]``)."""
    return field(default=default, metadata={"help": help})


def require(ok: bool, name: str, reason: str) -> None:
    """Raise the ``ValueError("field: reason")`` that ``config_from_dict`` callers expect."""
    if not ok:
        raise ValueError(f"{name}: {reason}")


LrSchedule = Literal["linear", "cosine", "constant", "constant_with_warmup"]


@dataclass(frozen=True)
class AdapterConfig:
    """A PEFT adapter block: train LoRA matrices (Hu et al. 2021) on a frozen base instead of
    every weight; ``quantization="4bit"`` loads the base in NF4 (QLoRA, Dettmers et al. 2023;
    CUDA and bitsandbytes only)."""

    r: int = config_field(16, "LoRA rank (Hu et al. 2021: 1-64; PEFT examples: 8-16).")
    alpha: int = config_field(32, "LoRA scaling α: the update is scaled by α / r.")
    dropout: float = config_field(0.05, "Dropout on the LoRA input (PEFT examples: 0.05).")
    target_modules: str = config_field(
        "all-linear",
        "Module names to adapt, comma separated (e.g. q_proj,v_proj), or all-linear: every "
        "linear layer but the output head (QLoRA's choice).",
    )
    train_head: bool = config_field(
        False,
        "Also train the output head (lm_head) in full, saved with the adapter: it moves the "
        "token distribution directly (PEFT's modules_to_save).",
    )
    quantization: Literal["none", "4bit"] = config_field(
        "none", "4bit: QLoRA, the frozen base in 4-bit NF4 (needs CUDA and bitsandbytes)."
    )

    def validate(self) -> None:
        require(1 <= self.r <= 1024, "r", "must be between 1 and 1024")
        require(self.alpha >= 1, "alpha", "must be >= 1")
        require(0 <= self.dropout < 1, "dropout", "must be in [0, 1)")
        require(bool(self.module_names()), "target_modules", "names no module")

    def module_names(self) -> str | list[str]:
        """``target_modules`` as PEFT takes it."""
        if self.target_modules.strip() == "all-linear":
            return "all-linear"
        return [name.strip() for name in self.target_modules.split(",") if name.strip()]


FSDP_OPTIONS = {"full_shard", "shard_grad_op", "hybrid_shard", "no_shard", "offload", "auto_wrap"}


@dataclass(frozen=True)
class ScaleConfig:
    """How a run is spread: an adapter or every weight, and how many processes (data
    parallel, through accelerate), with FSDP or DeepSpeed ZeRO for GPU workers."""

    adapter: AdapterConfig | None = config_field(
        None, "Train a PEFT adapter (LoRA) on the frozen base; None: full fine-tuning."
    )
    processes: int = config_field(
        1, "Data-parallel processes (one per GPU on a GPU worker; gloo processes on CPU)."
    )
    fsdp: str = config_field(
        "",
        "transformers' FSDP option, e.g. 'full_shard auto_wrap' (GPU workers, processes > 1); "
        "empty: off.",
    )
    deepspeed_zero: int | None = config_field(
        None, "DeepSpeed ZeRO stage 1-3 (GPU workers with deepspeed, processes > 1); None: off."
    )

    def validate_scale(self) -> None:
        require(1 <= self.processes <= 64, "processes", "must be between 1 and 64")
        unknown = set(self.fsdp.split()) - FSDP_OPTIONS
        require(not unknown, "fsdp", f"unknown option(s) {sorted(unknown)}")
        require(
            self.deepspeed_zero is None or 1 <= self.deepspeed_zero <= 3,
            "deepspeed_zero",
            "must be 1, 2 or 3",
        )
        require(
            not (self.fsdp and self.deepspeed_zero),
            "deepspeed_zero",
            "FSDP and DeepSpeed are alternatives; set one",
        )
        for name, on in (("fsdp", self.fsdp), ("deepspeed_zero", self.deepspeed_zero)):
            require(not on or self.processes > 1, name, "shards across processes: processes > 1")

    def distributed_arguments(self) -> dict[str, Any]:
        """TrainingArguments keys for FSDP / DeepSpeed ("auto" lets the Trainer fill the
        batch and precision settings)."""
        if self.fsdp:
            return {"fsdp": self.fsdp}
        if self.deepspeed_zero:
            return {
                "deepspeed": {
                    "zero_optimization": {"stage": self.deepspeed_zero},
                    "train_micro_batch_size_per_gpu": "auto",
                    "gradient_accumulation_steps": "auto",
                    "gradient_clipping": "auto",
                    "bf16": {"enabled": "auto"},
                }
            }
        return {}


@dataclass(frozen=True)
class TrainerRunConfig(ScaleConfig):
    """Schedule and bookkeeping fields every Trainer-backed run shares. An algorithm's config
    subclasses it and redeclares a field to give it the default of its own paper."""

    learning_rate: float = config_field(5e-5, "Peak AdamW learning rate.")
    num_train_epochs: float = config_field(
        1.0, "Passes over the training file (ignored when max_steps is set)."
    )
    max_steps: int | None = config_field(
        None, "Stop after this many optimizer steps; None: run num_train_epochs."
    )
    per_device_train_batch_size: int = config_field(8, "Rows per device per forward pass.")
    gradient_accumulation_steps: int = config_field(
        1, "Forward passes per optimizer step (effective batch = per-device batch × this)."
    )
    lr_scheduler_type: LrSchedule = config_field("linear", "Learning-rate schedule after warmup.")
    warmup_steps: int = config_field(0, "Optimizer steps of linear warmup from 0.")
    weight_decay: float = config_field(0.0, "AdamW decoupled weight decay.")
    max_grad_norm: float = config_field(1.0, "Gradient clipping norm (transformers default).")
    save_steps: int = config_field(
        100,
        "Checkpoint every this many optimizer steps; a redelivered job resumes from the latest "
        "(two are kept). transformers' default is 500; fewer steps lose less work when a worker "
        "dies.",
    )
    logging_steps: int = config_field(10, "Report metrics every this many optimizer steps.")
    eval_steps: int | None = config_field(
        None, "Evaluate on the eval file every this many steps; None: only once at the end."
    )
    seed: int | None = config_field(None, "Training seed; None: the run's seed.")
    activation_checkpointing: bool = config_field(
        False, "Recompute activations in the backward pass: less memory, ~20% slower."
    )

    def validate(self) -> None:
        require(
            math.isfinite(self.learning_rate) and self.learning_rate > 0,
            "learning_rate",
            "must be a positive number",
        )
        require(
            0 < self.num_train_epochs <= MAX_EPOCHS,
            "num_train_epochs",
            f"must be > 0 and at most {MAX_EPOCHS}",
        )
        for name, low, high in (
            ("max_steps", 1, MAX_STEPS),
            ("per_device_train_batch_size", 1, MAX_BATCH),
            ("gradient_accumulation_steps", 1, MAX_BATCH),
            ("save_steps", 1, MAX_STEPS),
            ("logging_steps", 1, MAX_STEPS),
            ("eval_steps", 1, MAX_STEPS),
            ("warmup_steps", 0, MAX_STEPS),
            ("seed", 0, MAX_CONFIG_INT),
        ):
            value = getattr(self, name)
            require(
                value is None or low <= value <= high, name, f"must be between {low} and {high}"
            )
        require(self.weight_decay >= 0, "weight_decay", "must be >= 0")
        require(self.max_grad_norm > 0, "max_grad_norm", "must be > 0")
        self.validate_scale()

    def trainer_arguments(self, inputs: TrainInputs, *, has_eval: bool) -> dict[str, Any]:
        """Keyword arguments common to every TRL config (``RewardConfig(**these, ...)``)."""
        seed = inputs.seed if self.seed is None else self.seed
        return {
            "output_dir": str(inputs.checkpoint_dir),
            "learning_rate": self.learning_rate,
            "num_train_epochs": self.num_train_epochs,
            "max_steps": -1 if self.max_steps is None else self.max_steps,
            "per_device_train_batch_size": self.per_device_train_batch_size,
            "per_device_eval_batch_size": self.per_device_train_batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "lr_scheduler_type": self.lr_scheduler_type,
            "warmup_steps": self.warmup_steps,
            "weight_decay": self.weight_decay,
            "max_grad_norm": self.max_grad_norm,
            "logging_steps": self.logging_steps,
            "save_strategy": "steps",
            "save_steps": self.save_steps,
            "save_total_limit": 2,
            "eval_strategy": "steps" if has_eval and self.eval_steps else "no",
            "eval_steps": self.eval_steps,
            "seed": seed,
            "data_seed": seed,
            "use_cpu": inputs.use_cpu,
            "bf16": not inputs.use_cpu,
            # TRL configs default to gradient checkpointing (a deprecated alias in transformers 5).
            "activation_checkpointing": self.activation_checkpointing,
            "report_to": [],
            "disable_tqdm": True,
            **self.distributed_arguments(),
        }


def load_export(path: Path):
    """A Flywheel JSONL export as a ``datasets.Dataset``, cached beside the file."""
    from datasets import load_dataset

    return load_dataset(
        "json",
        data_files=str(path),
        split="train",
        cache_dir=str(Path(path).parent / ".datasets-cache"),
    )

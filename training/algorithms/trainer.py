"""The glue between transformers/TRL Trainers and the platform's run hooks (worker only)."""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from training.algorithms.adapters import (
    CAUSAL_LM,
    lora_config,
    model_init_kwargs,
    parameter_metrics,
    peak_memory_metrics,
)
from training.algorithms.base import (
    CHECKPOINT_COMPLETE_MARKER,
    AdapterConfig,
    RunHooks,
    TrainInputs,
    TrainResult,
    latest_checkpoint,
)

logger = logging.getLogger(__name__)


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

    def on_save(self, args, state, control, **kwargs):
        """Mark the checkpoint complete once every process has written its part (the weights,
        the optimizer, each process's RNG state): ``latest_checkpoint`` resumes only from a
        marked one."""
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.barrier()
        if state.is_world_process_zero:
            directory = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if directory.is_dir():
                (directory / CHECKPOINT_COMPLETE_MARKER).touch()
        return control

    def on_step_end(self, args, state, control, **kwargs):
        self.hooks.on_progress(state.global_step, state.max_steps)
        if args.save_strategy == "steps" and state.global_step % args.save_steps == 0:
            self.hooks.on_checkpoint(state.global_step)  # before the Trainer saves it
        if self.hooks.should_stop():
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = False
        return control


def load_splits(inputs: TrainInputs, prepare=None):
    """The run's train and eval exports as ``datasets.Dataset``s (eval: None without a test
    split), each passed through ``prepare`` if given."""
    from training.algorithms.base import load_export

    prepare = prepare or (lambda rows: rows)
    train_rows = prepare(load_export(inputs.train_file))
    eval_rows = prepare(load_export(inputs.eval_file)) if inputs.eval_file else None
    return train_rows, eval_rows


def trl_trainer(
    trainer_class,
    args,
    inputs: TrainInputs,
    hooks: RunHooks,
    splits,
    *,
    adapter: AdapterConfig | None = None,
    task_type: str = CAUSAL_LM,
    **extra,
):
    """A TRL trainer on the base model by path, reporting to ``hooks``; returns it with its
    callback for ``fit``. Full fine-tuning: TRL loads the frozen reference, if any, from the
    same directory. With an ``adapter`` block: TRL wraps the base in a PEFT LoRA model (the
    base loaded in 4 bits for QLoRA), and the reference is that model with its adapter
    disabled, not a second copy."""
    callback = HooksCallback(hooks)
    train_rows, eval_rows = splits
    if adapter is not None:
        extra["peft_config"] = lora_config(adapter, task_type)
        quantized = model_init_kwargs(adapter)
        if quantized:
            args.model_init_kwargs = (args.model_init_kwargs or {}) | quantized
    trainer = trainer_class(
        model=str(inputs.base_model),
        args=args,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        callbacks=[callback],
        **extra,
    )
    return trainer, callback


def fit(
    trainer, callback: HooksCallback, inputs: TrainInputs, *, evaluate: bool = True
) -> TrainResult:
    """Train (resuming from the latest checkpoint in ``inputs.checkpoint_dir``), evaluate on
    the trainer's eval set if any (unless ``evaluate`` is False: the algorithm does), save the
    model and tokenizer to ``inputs.output_dir`` and return the final metrics: the latest value
    of each logged training metric, the trainer's summary (``train_loss``, ``train_runtime``, …)
    and ``eval_*``. A cancelled run returns ``cancelled=True`` and writes no output."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # metrics go to the hooks, not to stdout
    checkpoint = latest_checkpoint(inputs.checkpoint_dir)
    if checkpoint is not None:
        logger.info("resuming from %s", checkpoint)
    output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    metrics = _latest_logged(trainer.state.log_history) | _finite(output.metrics)
    metrics |= parameter_metrics(trainer.model) | peak_memory_metrics()
    if callback.cancelled:
        return TrainResult(inputs.output_dir, metrics, cancelled=True)
    if evaluate and trainer.eval_dataset is not None:
        metrics |= _finite(trainer.evaluate())
    save_trained(trainer, inputs.output_dir)
    return TrainResult(inputs.output_dir, metrics)


def save_trained(trainer, output_dir: Path) -> None:
    """Model + tokenizer (chat template included) via ``trainer.save_model``, written beside
    ``output_dir`` and renamed into place, so a worker dying mid-save leaves no half model."""
    partial = output_dir.with_name(output_dir.name + ".partial")
    main = trainer.is_world_process_zero()
    if main:
        shutil.rmtree(partial, ignore_errors=True)
    trainer.save_model(str(partial))
    if main:
        shutil.rmtree(output_dir, ignore_errors=True)
        partial.rename(output_dir)
    trainer.accelerator.wait_for_everyone()


def _finite(values: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in values.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }


def _latest_logged(log_history: list[dict[str, Any]]) -> dict[str, float]:
    latest: dict[str, float] = {}
    for entry in log_history:
        latest |= {k: v for k, v in _finite(entry).items() if not k.startswith("eval_")}
    latest.pop("step", None)
    return latest

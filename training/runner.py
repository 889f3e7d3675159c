"""Runs one training run in its own process: ``python -m training.runner <run_id>``.

The gpu worker's Celery task starts this process (``accelerate launch`` for several GPUs), so
CUDA state dies with the job. Here: export the run's snapshot to JSONL files, call the
algorithm's ``train(config, inputs, hooks)``, stream metrics and progress to the database,
honour cancellation, and register the output model. Re-running the same run id resumes from
the latest checkpoint in the run's directory.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import re
import shutil
import sys
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path

import django

logger = logging.getLogger("training.runner")


VIEW_FOR_KIND = {"sft": "sft", "reward": "preference", "dpo": "preference", "kto": "kto"}
MODULE_FOR_KIND = {
    "sft": "sft",
    "reward": "reward",
    "dpo": "dpo",
    "kto": "kto",
    "ppo": "ppo",
    "grpo": "grpo",
    "rloo": "grpo",
}


def run_dir(run_id: int) -> Path:
    from django.conf import settings

    return Path(settings.FLYWHEEL_MODELS_DIR) / "runs" / str(run_id)


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


class DatabaseHooks:
    """RunHooks that write to the run's rows (only the main process of a multi-GPU launch)."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.cancelled = False
        self.first_step: int | None = None

    def on_log(self, step: int, metrics: Mapping[str, float]) -> None:
        from training.services.runs import run_record_metrics

        if is_main_process():
            run_record_metrics(run_id=self.run_id, step=step, values=dict(metrics))

    def on_progress(self, step: int, total_steps: int) -> None:
        from training.services.runs import run_record_progress

        if self.first_step is None:
            self.first_step = step
        if is_main_process():
            run_record_progress(run_id=self.run_id, step=step, total_steps=total_steps)

    def should_stop(self) -> bool:
        return self.cancelled


def _heartbeat(run_id: int, hooks: DatabaseHooks, stop: threading.Event) -> None:
    from django.db import connection

    from training.services.runs import STALL_SECONDS, run_heartbeat

    # Well inside the stall window, so a live run never looks dead to the recovery sweep.
    interval = max(0.5, min(10.0, STALL_SECONDS / 4))
    while not stop.wait(interval):
        try:
            hooks.cancelled = run_heartbeat(run_id=run_id) or hooks.cancelled
        except Exception:  # noqa: BLE001 — a missed beat is retried; the run goes on
            logger.exception("heartbeat failed")
            # Django does not replace a broken connection by itself: without this every later
            # beat would fail on it, and a run still training would look dead to the sweep.
            connection.close()
    connection.close()


def prepare_inputs(run, directory: Path):
    """Export the snapshot's splits in the algorithm's view; prompts for RL runs."""
    from annotation.exports.rows import ExportOptions
    from annotation.exports.stream import export_rows, snapshot_rankings
    from annotation.exports.writers import jsonl_chunks
    from training.algorithms.base import TrainInputs

    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    snapshot = run.dataset

    def write(split: str) -> Path | None:
        path = data / f"{split}.jsonl"
        rankings = snapshot_rankings(snapshot=snapshot, split=split)
        if run.kind in VIEW_FOR_KIND:
            rows = export_rows(
                project=snapshot.project,
                rankings=rankings,
                options=ExportOptions(view=VIEW_FOR_KIND[run.kind]),
            )
        else:
            rows = _prompt_rows(rankings)
        with path.open("wb") as out:
            for chunk in jsonl_chunks(rows):
                out.write(chunk)
        return path if path.stat().st_size else None

    train_file = write("train")
    if train_file is None:
        raise RuntimeError("The snapshot's train split has no rows for this kind of run.")
    import torch

    return TrainInputs(
        base_model=Path(run.base_model.storage_path),
        output_dir=directory / "model",
        checkpoint_dir=directory / "checkpoints",
        train_file=train_file,
        eval_file=write("test"),
        reward_model=Path(run.reward_model.storage_path) if run.reward_model else None,
        seed=int(run.config.get("seed") or 0),
        use_cpu=not torch.cuda.is_available(),
    )


def _prompt_rows(rankings):
    """One row per distinct prompt of the rankings: ``{"prompt": messages, "prompt_id"}``."""
    from annotation.models import Prompt

    prompt_ids = rankings.values_list("candidate_set__prompt_id", flat=True).distinct()
    for prompt_id, messages in (
        Prompt.objects.filter(pk__in=prompt_ids).order_by("id").values_list("id", "messages")
    ):
        yield {"prompt": messages, "prompt_id": prompt_id}


def execute(run_id: int) -> int:
    from training.algorithms.base import config_from_dict
    from training.algorithms.configs import RUN_CONFIGS
    from training.models import JobStatus, TrainingRun
    from training.services.registry import model_version_from_run
    from training.services.runs import run_finish

    run = TrainingRun.objects.select_related("dataset__project", "base_model", "reward_model").get(
        pk=run_id
    )
    hooks = DatabaseHooks(run_id)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(run_id, hooks, stop), daemon=True)
    beat.start()
    directory = run_dir(run_id)
    try:
        inputs = prepare_inputs(run, directory)
        module = importlib.import_module(f"training.algorithms.{MODULE_FOR_KIND[run.kind]}")
        config = config_from_dict(RUN_CONFIGS[run.kind], run.config)
        resumed = _resumed_step(inputs.checkpoint_dir)
        if resumed is not None and is_main_process():
            TrainingRun.objects.filter(pk=run_id).update(resumed_from_step=resumed)
        hooks.cancelled = TrainingRun.objects.filter(pk=run_id, cancel_requested=True).exists()
        result = module.train(config, inputs, hooks)
        if not is_main_process():
            return 0
        if result.cancelled:
            run_finish(run_id=run_id, status=JobStatus.CANCELLED, metrics=result.metrics)
            return 0
        model_version_from_run(run=run, path=result.output_dir, metrics=result.metrics)
        run_finish(run_id=run_id, status=JobStatus.SUCCEEDED, metrics=result.metrics)
        return 0
    except Exception as exc:  # noqa: BLE001 — every failure is recorded on the run
        logger.exception("training run %s failed", run_id)
        if is_main_process():
            run_finish(
                run_id=run_id,
                status=JobStatus.FAILED,
                error=_storage_failure(exc, directory)
                + f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}",
            )
        return 1
    finally:
        stop.set()


# Errors of a write that the storage refused: full, over quota, file too large, read-only, no
# permission, a path through a regular file, a failing disk.
STORAGE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EROFS,
    errno.EACCES,
    errno.ENOTDIR,
    errno.EIO,
}


def _storage_failure(exc: BaseException, directory: Path) -> str:
    """A first line that says what and where when ``exc`` (or what caused it) is the storage
    refusing a write, else "". Libraries report it in their own types: an ``OSError``, or text
    ending "(os error 28)" (safetensors and tokenizers, which are written in Rust)."""
    seen: BaseException | None = exc
    while seen is not None:
        code = seen.errno if isinstance(seen, OSError) else None
        if code is None and (match := re.search(r"\(os error (\d+)\)", str(seen))):
            code = int(match.group(1))
        filename = getattr(seen, "filename", None)
        if isinstance(filename, str) and directory not in (Path(filename), *Path(filename).parents):
            code = None  # e.g. a base model it may not read: not the run's own storage
        if code in STORAGE_ERRNOS:
            usage = _disk_usage(directory)
            return (
                f"Could not write the run's files under {directory}: {os.strerror(code)}"
                f"{usage} (FLYWHEEL_MODELS_DIR sets where they go).\n\n"
            )
        seen = seen.__cause__ or seen.__context__
    return ""


def _disk_usage(directory: Path) -> str:
    for path in (directory, *directory.parents):
        if path.is_dir():
            usage = shutil.disk_usage(path)
            return f"; {usage.free / 1024**2:,.0f} MiB free of {usage.total / 1024**3:,.1f} GiB"
    return ""


def _resumed_step(checkpoint_dir: Path) -> int | None:
    from training.algorithms.base import latest_checkpoint

    checkpoint = latest_checkpoint(checkpoint_dir)
    return int(checkpoint.name.split("-")[-1]) if checkpoint else None


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flywheel.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    django.setup()
    threads = int(os.environ.get("FLYWHEEL_TORCH_THREADS", "0"))
    if threads > 0:  # small models on a shared CPU train far faster on one thread
        import torch

        torch.set_num_threads(threads)
    sys.exit(execute(int(sys.argv[1])))


if __name__ == "__main__":
    main()

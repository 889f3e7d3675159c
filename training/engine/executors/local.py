"""The ``local`` executor: the job's process is a child of the Celery worker and dies with it.

One GPU or none: a child forked from the worker's warm process (``training.engine.warm``), or a
fresh ``python -m training.engine.process`` when ``FLYWHEEL_WARM_START`` is off. Several GPUs on
the node: ``accelerate launch`` across them (always a fresh process group).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from training.engine.warm import WarmProcess, die_with_parent, warm_imports

from . import Executor, Launch, register_executor

_warm = WarmProcess()  # one per worker process, started at boot or on first use


def warm_up() -> None:
    """A worker booting (``FLYWHEEL_WARM_AT_BOOT``): start its warm process now, and import
    the same libraries in the worker itself, off its main thread (Celery gives a pool process
    4 s to report for duty), for what runs there: inline generation, the loop's evaluation."""
    if not settings.FLYWHEEL_WARM_AT_BOOT:
        return
    if settings.FLYWHEEL_WARM_START and gpu_count() <= 1:
        _warm.start()
    threading.Thread(
        target=warm_imports, args=(settings.FLYWHEEL_WARM_IMPORTS,), daemon=True
    ).start()


def gpu_count() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip()])
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return len([line for line in out.stdout.splitlines() if line.startswith("GPU ")])


def process_command(launch: Launch, gpus: int) -> list[str]:
    """One process per job; ``accelerate launch`` across the node's GPUs when it has several."""
    entry = ["-m", "training.engine.process", launch.job_type, str(launch.job_id)]
    if gpus > 1:
        launcher = ["-m", "accelerate.commands.launch", "--num_processes", str(gpus)]
        return [sys.executable, *launcher, *entry]
    return [sys.executable, *entry]


@register_executor
class LocalExecutor(Executor):
    name = "local"

    def run(self, launch: Launch, on_output: Callable[[str], None]) -> int:
        gpus = gpu_count()
        if settings.FLYWHEEL_WARM_START and gpus <= 1:
            return _warm.run(launch.job_type, launch.job_id, on_output)
        return run_process(process_command(launch, gpus), on_output)


def run_process(command: list[str], on_output: Callable[[str], None]) -> int:
    """Run ``command`` as a child that dies with this process, streaming its output."""
    process = subprocess.Popen(
        command,
        cwd=Path(settings.BASE_DIR),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent,
    )
    try:
        for line in process.stdout:
            on_output(line)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process.wait()

"""Worker side of training runs: run the training process, and the recovery sweep."""

from __future__ import annotations

import collections
import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from ..models import JobStatus, TrainingRun
from . import runs

logger = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
LOG_FLUSH_LINES = 20


def _die_with_parent() -> None:  # pragma: no cover — runs in the child before exec
    """The training process is killed if the worker dies (SIGKILL included), so a dead worker
    never leaves a training process running beside the one that resumes the run."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def gpu_count() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip()])
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return len([line for line in out.stdout.splitlines() if line.startswith("GPU ")])


def runner_command(run_id: int) -> list[str]:
    """One process per run; ``accelerate launch`` across the node's GPUs when it has several."""
    gpus = gpu_count()
    if gpus > 1:
        return [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--num_processes",
            str(gpus),
            "-m",
            "training.runner",
            str(run_id),
        ]
    return [sys.executable, "-m", "training.runner", str(run_id)]


RUN_MARKER = "run.json"


def claim_run_dir(run: TrainingRun) -> Path:
    """The run's directory, holding a marker that names this run (id and creation time).

    Directories are keyed by run id, and ids can repeat: a database restored from a backup or
    recreated (a scratch bench, a reset Docker volume) next to a models directory that was
    kept. A directory whose marker names another run (or that has no marker) is from such an
    earlier life; resuming from its checkpoints would train this run from someone else's
    weights, so it is moved aside (``<id>.stale-<unix time>``), never deleted."""
    from training.runner import run_dir

    directory = run_dir(run.pk)
    identity = {"run_id": run.pk, "created_at": run.created_at.isoformat()}
    marker = directory / RUN_MARKER
    if directory.exists():
        try:
            found = json.loads(marker.read_text())
        except (OSError, ValueError):
            found = None
        if found == identity:
            return directory
        if any(directory.iterdir()):
            stale = directory.with_name(f"{directory.name}.stale-{int(time.time())}")
            logger.warning(
                "run %s: %s belongs to an earlier run; moved to %s", run.pk, directory, stale
            )
            directory.rename(stale)
    directory.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(identity))
    return directory


def execute_run_process(*, run_id: int) -> str:
    if not runs.run_acquire(run_id=run_id):
        return "skipped: finished, cancelled or running elsewhere"
    try:
        claim_run_dir(TrainingRun.objects.get(pk=run_id))
    except OSError as exc:
        from training.runner import _storage_failure, run_dir

        runs.run_finish(
            run_id=run_id,
            status=JobStatus.FAILED,
            error=_storage_failure(exc, run_dir(run_id)) + f"{type(exc).__name__}: {exc}",
        )
        return "failed: run directory"
    process = subprocess.Popen(
        runner_command(run_id),
        cwd=Path(settings.BASE_DIR),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_die_with_parent,
    )
    tail = collections.deque(maxlen=400)
    pending: list[str] = []
    try:
        for line in process.stdout:
            tail.append(line)
            pending.append(line)
            if len(pending) >= LOG_FLUSH_LINES:
                runs.run_append_log(run_id=run_id, text="".join(pending))
                pending = []
    except BaseException:
        # This attempt is over (PostgreSQL gone, say): the run stays "running" until its
        # heartbeat is stale and the sweep resumes it, so a training process left behind would
        # train beside the resumed one.
        process.kill()
        process.wait()
        raise
    code = process.wait()
    if pending:
        runs.run_append_log(run_id=run_id, text="".join(pending))
    if code != 0 and runs.run_finish(
        run_id=run_id,
        status=JobStatus.FAILED,
        error=f"The training process exited with code {code}.\n\n" + "".join(tail)[-4000:],
    ):
        return f"failed: exit code {code}"
    return TrainingRun.objects.values_list("status", flat=True).get(pk=run_id)


def redispatch_stalled_work() -> int:
    """Send again what a dead worker or a broker outage left behind; fail what died on each of
    its attempts (``runs.MAX_ATTEMPTS``)."""
    from .generation import (
        dispatch_generation_job,
        generation_jobs_fail_abandoned,
        generation_jobs_to_redispatch,
    )

    for run_id in runs.runs_fail_abandoned():
        logger.error("training run %s failed: its worker died on each attempt", run_id)
    for job_id in generation_jobs_fail_abandoned():
        logger.error("generation job %s failed: its worker died on each attempt", job_id)
    run_ids = runs.runs_to_redispatch()
    for run_id in run_ids:
        logger.warning("re-dispatching training run %s", run_id)
        runs.dispatch_run(run_id)
    job_ids = generation_jobs_to_redispatch()
    for job_id in job_ids:
        logger.warning("re-dispatching generation job %s", job_id)
        dispatch_generation_job(job_id)
    return len(run_ids) + len(job_ids)

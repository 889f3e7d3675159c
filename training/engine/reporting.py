"""How a job's process reports to the platform: one object, whatever the place it runs.

``JobReporter`` writes to PostgreSQL (the job process reaches ``DATABASE_URL``: a child of the
worker, another GPU node, a Ray worker with the same settings). It keeps the lease alive from a
thread, so a process busy in one long step never looks dead to the recovery sweep, and it tells
the process when cancellation was asked for. In a multi-process launch only the main process
(``RANK`` 0) writes: metrics, progress, the heartbeat and the result are recorded once; the
other ranks only read the cancel request. The main process does not record a failure that a
lost peer caused (``peers_alive``): the launcher decides what the attempt was.

A training step's metrics and progress are written by that thread too, at most a second
later, in one transaction: the training loop never waits on the database (a remote one costs
milliseconds a write, which a fast GPU step would pay twice). ``finish`` writes what is left
first, so a finished job's record is complete.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path

from django.db import connection, transaction

from training.models import JobStatus

from .jobs import JobType
from .lifecycle import (
    job_append_log,
    job_cancel_requested,
    job_finish,
    job_heartbeat,
    job_update,
    stall_seconds,
)

logger = logging.getLogger(__name__)
CANCEL_CHECK_SECONDS = 1.0
FLUSH_SECONDS = 1.0  # how long a training step's metrics and progress may wait to be written
MAIN_FIRST_SECONDS = 1800  # how long a rank waits for the main process's part of the work


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def peers_alive(wait: float = 1.0) -> bool:
    """Whether the other processes of this multi-process launch (``FLYWHEEL_PEER_PIDS``, given
    to the main process by the local executor) are all still running, and still are ``wait``
    seconds later. A peer killed mid-step makes the main process's collective fail at once; that
    error is not the run's, so it must not be recorded as its failure."""
    import psutil

    pids = [int(p) for p in os.environ.get("FLYWHEEL_PEER_PIDS", "").split(",") if p]
    deadline = time.monotonic() + wait
    while True:
        for pid in pids:
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    return False
            except psutil.NoSuchProcess:
                return False
        if not pids or time.monotonic() >= deadline:
            return True
        time.sleep(0.1)


@contextlib.contextmanager
def main_process_first(marker: Path) -> Iterator[None]:
    """In a multi-process launch (``FLYWHEEL_LAUNCH_ID``), the main process runs the block
    first and then writes ``marker`` (the launch's id); the other ranks wait for it before
    running the block, whose part for them must only read what the main process wrote (the
    run's export: ranks must train on the same rows in the same order). A single process just
    runs it."""
    launch = os.environ.get("FLYWHEEL_LAUNCH_ID")
    if launch and not is_main_process():
        deadline = time.monotonic() + MAIN_FIRST_SECONDS
        while not (marker.is_file() and marker.read_text() == launch):
            if time.monotonic() > deadline:
                raise RuntimeError(f"The main process did not write {marker} in time.")
            time.sleep(0.2)
    yield
    if launch and is_main_process():
        partial = marker.with_name(marker.name + ".partial")
        partial.write_text(launch)
        partial.replace(marker)


class JobReporter:
    """Progress, metrics, logs, checkpoints and the result of one job; a context manager that
    runs the heartbeat while the job works."""

    def __init__(self, job_type: JobType, job_id: int) -> None:
        self.job_type = job_type
        self.job_id = job_id
        self.cancelled = job_cancel_requested(job_type, job_id)
        self.main = is_main_process()
        self.cancel_checked_at = time.monotonic()
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending_metrics: list[tuple[int, dict[str, float]]] = []
        self._pending_progress: dict[str, int] = {}

    def __enter__(self) -> JobReporter:
        self._beat.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._beat.join(30)
        self.flush()

    def _heartbeat(self) -> None:
        # Well inside the stall window, so a live job never looks dead to the recovery sweep.
        interval = max(0.5, min(10.0, stall_seconds() / 4))
        beat_at = time.monotonic() + interval
        while not self._stop.wait(min(interval, FLUSH_SECONDS)):
            try:
                self.flush()
                if time.monotonic() >= beat_at:
                    beat_at = time.monotonic() + interval
                    beat = job_heartbeat if self.main else job_cancel_requested
                    self.cancelled = beat(self.job_type, self.job_id) or self.cancelled
            except Exception:  # noqa: BLE001 — a missed beat or write is retried; the job goes on
                logger.exception("heartbeat failed")
                # Django does not replace a broken connection by itself: without this every
                # later beat would fail on it, and a job still working would look dead.
                connection.close()
        connection.close()

    def flush(self) -> None:
        """Write the training steps' metrics and progress not written yet, in one transaction
        (from the heartbeat thread each second, and before the job finishes). What fails to
        be written stays pending for the next flush."""
        from training.models import RunMetric

        with self._write_lock:  # one writer at a time, so the points land in step order
            with self._pending_lock:  # held only to take them: a step never waits on a write
                metrics, progress = self._pending_metrics, self._pending_progress
                self._pending_metrics, self._pending_progress = [], {}
            if not (metrics or progress):
                return
            try:
                with transaction.atomic():
                    RunMetric.objects.bulk_create(
                        RunMetric(run_id=self.job_id, step=step, values=values)
                        for step, values in metrics
                    )
                    if progress:
                        job_update(self.job_type, self.job_id, **progress)
            except BaseException:
                with self._pending_lock:  # kept for the next flush, ahead of newer steps
                    self._pending_metrics[:0] = metrics
                    self._pending_progress = self._pending_progress or progress
                raise

    # --- what the job reports --------------------------------------------------------------

    def should_stop(self) -> bool:
        """Whether cancellation was asked for: read at most once a second here (the heartbeat
        reads it too, but only every stall/4 seconds), so a cancelled run stops within about a
        second however fast its steps are."""
        now = time.monotonic()
        if not self.cancelled and now - self.cancel_checked_at >= CANCEL_CHECK_SECONDS:
            self.cancel_checked_at = now
            try:
                self.cancelled = job_cancel_requested(self.job_type, self.job_id)
            except Exception:  # noqa: BLE001 — a missed check is retried; the heartbeat reads it too
                logger.exception("reading the cancel request failed")
                connection.close()
        return self.cancelled

    def progress(self, **fields) -> None:
        if self.main:
            job_update(self.job_type, self.job_id, **fields)

    def metrics(self, step: int, values: Mapping[str, float]) -> None:
        """A training step's metric point (``training.models.RunMetric``), written by
        ``flush``."""
        if self.main:
            with self._pending_lock:
                self._pending_metrics.append((step, dict(values)))

    def step(self, step: int, total_steps: int) -> None:
        """A training run's progress, written by ``flush``."""
        if self.main:
            with self._pending_lock:
                self._pending_progress = {"step": step, "total_steps": total_steps}

    def log(self, text: str) -> None:
        if self.main:
            job_append_log(self.job_type, self.job_id, text)

    def checkpoint_resumed(self, step: int) -> None:
        if self.main:
            self.job_type.model.objects.filter(pk=self.job_id).update(resumed_from_step=step)

    def finish(self, status: JobStatus, *, error: str = "", **fields) -> bool:
        if not self.main:
            return False
        if status == JobStatus.FAILED and not peers_alive():
            logger.error("a process of this launch ended first; its outcome decides the attempt")
            return False
        if status == JobStatus.FAILED and worker_gone():
            # A write to its output failed (BrokenPipeError) in the moment between the worker's
            # death and PR_SET_PDEATHSIG reaching this process: the attempt is lost, and the
            # recovery sweep resumes the job from its checkpoint.
            return False
        self.flush()
        return job_finish(self.job_type, self.job_id, status, error=error, **fields)

    def fail(self, exc: BaseException, *, reason: str = "") -> bool:
        """Finish as failed with ``reason`` (e.g. what the storage said), the exception and its
        traceback: call it from the ``except`` block."""
        return self.finish(
            JobStatus.FAILED,
            error=f"{reason}{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}",
        )


_output_to_worker = False


def output_goes_to_worker() -> None:
    """This process is a job's process of the ``local`` executor: its stdout is a pipe that
    only its worker reads."""
    global _output_to_worker
    _output_to_worker = True


def worker_gone() -> bool:
    """Whether the worker that reads this job process's output has died: the pipe on fd 1
    has no reader left (poll reports POLLERR on its write end)."""
    if not _output_to_worker:
        return False
    poller = select.poll()
    poller.register(1, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


class RunHooksAdapter:
    """An algorithm's ``RunHooks`` (``training.algorithms.base``) over a reporter: metrics and
    optimizer-step progress of a training run."""

    def __init__(self, reporter: JobReporter) -> None:
        self.reporter = reporter

    def on_log(self, step: int, metrics: Mapping[str, float]) -> None:
        self.reporter.metrics(step, metrics)

    def on_progress(self, step: int, total_steps: int) -> None:
        self.reporter.step(step, total_steps)

    def on_checkpoint(self, step: int) -> None:
        self.reporter.flush()

    def should_stop(self) -> bool:
        return main_process_answer(self.reporter.should_stop())


def main_process_answer(value: bool) -> bool:
    """Rank 0's ``value`` on every rank of a multi-process launch: the ranks must stop at the
    same step, or one would wait in a collective for a peer that left. Each rank reads the
    cancel request at its own moments, so rank 0's is broadcast (once the Trainer has made the
    process group: one tiny collective per step). Before that, the other ranks answer False; a
    cancelled rank 0 ends, and the launcher stops them."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return value
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        return value and is_main_process()
    from accelerate import PartialState

    flag = torch.tensor([int(value)], device=PartialState().device)
    dist.broadcast(flag, src=0)
    return bool(flag.item())

"""The ``local`` executor: the job's processes are children of the Celery worker and die with it.

One process (a run's ``processes: 1``, every generation job): a child forked from the worker's
warm process (``training.engine.warm``), or a fresh ``python -m training.engine.process`` when
``FLYWHEEL_WARM_START`` is off or the node has several GPUs (then it sees one of them).

``processes: N`` > 1: a process group launched here, never from the warm process (each launch
is a fresh interpreter per rank and a fresh ``torch.distributed`` group): N ``python -m
training.engine.process`` children with torchrun's environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR=127.0.0.1`` and a free port), so the Trainer's accelerate state
makes them one data-parallel group: gloo on a CPU worker, one rank per GPU (NCCL) on a GPU
worker, where N must not exceed the GPUs. Not torchrun: it starts the ranks in a new session
without ``PR_SET_PDEATHSIG``, so a killed worker (and agent) would leave them training, and it
reports a rank killed and a rank that failed alike (exit 1). Not ``accelerate launch --cpu``:
it starts one process (its multi-CPU path is ``mpirun``); on GPUs it is torchrun underneath.

The job's log is rank 0's output; the other ranks' output is dropped unless the launch fails,
when the last lines of each rank that ended badly are added, prefixed ``[rank N]``. The first
rank to end badly ends the launch (the others are stopped, as torchrun does). A rank killed by a
signal (the OOM killer, an operator) loses the attempt like a dead worker: ``run`` raises
``ProcessGroupLost`` without recording an outcome, so the recovery sweep sends the run again
and it resumes from its latest checkpoint. A rank that exits with an error fails the run.
"""

from __future__ import annotations

import collections
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from training.engine.warm import WarmProcess, die_with_parent, warm_imports
from training.workers import gpu_count

from . import Executor, Launch, register_executor

_warm = WarmProcess()  # one per worker process, started at boot or on first use
STOP_GRACE_SECONDS = 10  # a rank stopped with the launch gets SIGTERM, then SIGKILL after this
FAILED_RANK_LINES = 20  # lines of a failed rank's output added to the job's log


class ProcessGroupLost(RuntimeError):
    """A rank of a multi-process launch was killed by a signal: the attempt is lost (like a
    dead worker's), not the run failed."""


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


def requested_processes(launch: Launch) -> int:
    """The run config's ``processes`` (1 for a job type without a config)."""
    from training.engine.jobs import job_type

    model = job_type(launch.job_type).model
    if not any(f.name == "config" for f in model._meta.get_fields()):
        return 1
    config = model.objects.values_list("config", flat=True).get(pk=launch.job_id) or {}
    return int(config.get("processes") or 1)


def process_command(launch: Launch) -> list[str]:
    return [sys.executable, "-m", "training.engine.process", launch.job_type, str(launch.job_id)]


@register_executor
class LocalExecutor(Executor):
    name = "local"

    def run(self, launch: Launch, on_output: Callable[[str], None]) -> int:
        gpus = gpu_count()
        processes = requested_processes(launch)
        if processes > 1:
            if gpus and processes > gpus:
                on_output(
                    f"processes: {processes} needs one GPU per process; this worker has "
                    f"{gpus} GPU(s).\n"
                )
                return 2
            return run_process_group(process_command(launch), processes, gpus, on_output)
        if settings.FLYWHEEL_WARM_START and gpus <= 1:
            return _warm.run(launch.job_type, launch.job_id, on_output)
        env = None
        if gpus > 1:  # one process: one GPU (a single process on several would be DataParallel)
            visible = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0].strip()
            env = os.environ | {"CUDA_VISIBLE_DEVICES": visible}
        return run_process(process_command(launch), on_output, env=env)


def run_process(
    command: list[str], on_output: Callable[[str], None], env: dict[str, str] | None = None
) -> int:
    """Run ``command`` as a child that dies with this process, streaming its output."""
    process = _start(command, env, subprocess.PIPE)
    try:
        for line in process.stdout:
            on_output(line)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process.wait()


def _start(command: list[str], env: dict[str, str] | None, stdout) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def group_environment(processes: int, gpus: int) -> dict[str, str]:
    """What every rank shares: torchrun's variables for one node, loopback only."""
    env = os.environ | {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port()),
        "WORLD_SIZE": str(processes),
        "LOCAL_WORLD_SIZE": str(processes),
        "GROUP_RANK": "0",
        "FLYWHEEL_LAUNCH_ID": uuid.uuid4().hex,
    }
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # gloo binds the loopback, not the hostname's
    if not gpus and "OMP_NUM_THREADS" not in env:
        # Else accelerate sets cores / N threads itself, after FLYWHEEL_TORCH_THREADS.
        threads = settings.FLYWHEEL_TORCH_THREADS or max(1, (os.cpu_count() or 1) // processes)
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def run_process_group(
    command: list[str], processes: int, gpus: int, on_output: Callable[[str], None]
) -> int:
    """Start ``processes`` ranks of ``command``, stream rank 0's output, and end the launch at
    the first rank that ends badly (see the module docstring)."""
    env = group_environment(processes, gpus)
    ranks: dict[int, subprocess.Popen] = {}
    stopped: set[int] = set()  # ranks this launch stopped (not lost)
    done = threading.Event()
    with contextlib.ExitStack() as files:
        outputs = {  # the other ranks' output, read back only if they end badly
            rank: files.enter_context(tempfile.TemporaryFile("w+", errors="replace"))
            for rank in range(1, processes)
        }
        try:
            for rank in range(processes - 1, 0, -1):  # rank 0 last: it is told its peers' pids
                rank_env = env | {"RANK": str(rank), "LOCAL_RANK": str(rank)}
                ranks[rank] = _start(command, rank_env, outputs[rank])
            peers = ",".join(str(p.pid) for p in ranks.values())
            rank_env = env | {"RANK": "0", "LOCAL_RANK": "0", "FLYWHEEL_PEER_PIDS": peers}
            ranks[0] = _start(command, rank_env, subprocess.PIPE)
            watcher = threading.Thread(target=_watch, args=(ranks, stopped, done), daemon=True)
            watcher.start()
            for line in ranks[0].stdout:
                on_output(line)
            ranks[0].wait()
            watcher.join()
        except BaseException:
            done.set()
            for process in ranks.values():
                process.kill()
                process.wait()
            raise
        bad = {
            rank: process.returncode
            for rank, process in ranks.items()
            if process.returncode != 0 and rank not in stopped
        }
        for rank in sorted(set(bad) & set(outputs)):
            outputs[rank].seek(0)
            for line in collections.deque(outputs[rank], maxlen=FAILED_RANK_LINES):
                on_output(f"[rank {rank}] {line}")
    killed = {rank: -code for rank, code in bad.items() if code < 0}
    if killed:
        names = ", ".join(f"rank {r}: signal {s}" for r, s in sorted(killed.items()))
        on_output(f"A process of the launch was killed ({names}); the attempt is lost.\n")
        raise ProcessGroupLost(f"{' '.join(command[-2:])}: {names}")
    return next((code for _, code in sorted(bad.items())), 0)


def _watch(ranks: dict[int, subprocess.Popen], stopped: set[int], done: threading.Event) -> None:
    """Until every rank has ended: when one ends badly, stop the others at once; when rank 0
    (which records the outcome) has ended well, stop those still running after
    ``STOP_GRACE_SECONDS`` (a rank waiting for a peer that left). Stopping is SIGTERM, then
    SIGKILL ``STOP_GRACE_SECONDS`` later; the ranks stopped are recorded in ``stopped``."""
    stop_at: float | None = None
    kill_at: float | None = None
    while not done.is_set():
        codes = {rank: process.poll() for rank, process in ranks.items()}
        if all(code is not None for code in codes.values()):
            return
        now = time.monotonic()
        if stop_at is None and any(code not in (None, 0) for code in codes.values()):
            stop_at = now
        elif stop_at is None and codes[0] == 0:
            stop_at = now + STOP_GRACE_SECONDS
        if kill_at is None and stop_at is not None and now >= stop_at:
            kill_at = now + STOP_GRACE_SECONDS
            for rank, code in codes.items():
                if code is None:
                    stopped.add(rank)
                    ranks[rank].terminate()
        if kill_at is not None and now >= kill_at:
            for process in ranks.values():
                if process.poll() is None:
                    process.kill()
        time.sleep(0.1)

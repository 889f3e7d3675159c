"""The ``ray`` executor: the job's process runs on an existing Ray cluster
(``settings.FLYWHEEL_RAY_ADDRESS``: ``host:port`` of the head's GCS when this worker is a node
of the cluster, ``ray://head:10001`` through Ray Client when it is not).

- One process (``processes: 1``, every generation job): a Ray task on a node with
  ``FLYWHEEL_RAY_RESOURCES`` free calls ``training.engine.process.run_job``, the same entry the
  local executor runs. A GPU job gets a fresh Ray worker (``max_calls=1``: its CUDA state dies
  with it); a CPU job may reuse a Ray worker that already imported torch / transformers / TRL
  (bench/ray_executor.py: about 10 s a job on 2 cores).
- ``processes: N`` in a training run's config: the task drives Ray Train's ``TorchTrainer``
  with N workers (one ``FLYWHEEL_RAY_RESOURCES`` bundle each); each calls ``run_job`` with the
  torch.distributed environment and process group Ray Train set up (RANK, WORLD_SIZE,
  MASTER_ADDR, ...), so transformers trains data parallel and only ``RANK`` 0 writes
  (``JobReporter``). As OpenRLHF's Ray trainers do, the Ray side only places processes; the
  job reports to PostgreSQL itself.

The job's stdout, stderr and logging come back as a streaming generator's items (in batches,
about twice a second) and go to ``on_output``; the task's last item is the exit code. A Ray
worker or node lost mid-run makes the generator raise: Ray's reason goes to the job's log and
``run`` raises ``RayAttemptLost`` without an outcome recorded, as the local executor's
``ProcessGroupLost`` does, so the recovery sweep sends the job again once its heartbeat is
stale, and the rerun resumes from the checkpoints in the run's directory on shared storage (or
the job fails after ``FLYWHEEL_MAX_ATTEMPTS``). An error of the job itself is its exit code.
With ``processes: N``, a lost Ray Train worker fails the run with Ray Train's reason: rank 0's
collective fails at once and it records that (``JobReporter`` has no way yet to tell a lost Ray
peer from an error of the run; the local executor's ``FLYWHEEL_PEER_PIDS`` are local pids).

Cancel is cooperative (the job's reporter sees ``cancel_requested``); if ``run`` itself is
interrupted, the Ray task is force-cancelled, which kills its worker and, with it, the
TorchTrainer it owns and that trainer's workers.

The job's process on a Ray node reaches the same ``DATABASE_URL`` (sent with the task: the
database this worker uses) and the same ``FLYWHEEL_VAR_DIR`` / model paths: weights travel
through shared storage, never through Ray's object store. ``FLYWHEEL_*``, ``HF_*`` and
``DJANGO_*`` variables of this worker go with the task too (Ray's runtime env), so the job runs
with the worker's settings.
"""

from __future__ import annotations

import io
import json
import logging
import os
import queue
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote

from django.conf import settings

from . import Executor, Launch, register_executor

logger = logging.getLogger(__name__)
FORWARDED_PREFIXES = ("FLYWHEEL_", "HF_", "DJANGO_")
OUTPUT_SECONDS = 0.5  # how long a line may wait on the Ray node before it is sent


@register_executor
class RayExecutor(Executor):
    name = "ray"

    def run(self, launch: Launch, on_output: Callable[[str], None]) -> int:
        import ray

        if not settings.FLYWHEEL_RAY_ADDRESS:  # a setting's mistake, not a lost attempt
            on_output("FLYWHEEL_RAY_ADDRESS is not set: no Ray cluster to run the job on.\n")
            return 2
        connect()  # raises if the cluster is unreachable: the attempt is lost, sent again
        resources = worker_resources()
        processes = job_processes(launch)
        if (slots := cluster_slots(resources)) < processes:
            # Ray would keep an infeasible task pending forever, the job "running" meanwhile.
            on_output(
                f"The Ray cluster has room for {slots} job process(es) of {resources}, "
                f"not the {processes} this job needs.\n"
            )
            return 2
        # A GPU job gets a fresh Ray worker (its CUDA state dies with it, as a local job's
        # does); a CPU job may reuse one that already imported torch, transformers and TRL.
        fresh = resources.get("GPU", 0) > 0
        task = ray.remote(max_calls=1 if fresh else 0)(job_on_ray).options(
            num_returns="streaming",
            max_retries=0,  # a lost attempt is the engine's to retry, not Ray's
            runtime_env={"env_vars": job_environment()},
            # One process: the task is the job's process. Several: it only drives the trainer.
            **(ray_task_resources(resources) if processes == 1 else {"num_cpus": 0}),
        )
        stream = task.remote(launch.job_type, launch.job_id, processes, resources)
        try:
            for ref in stream:
                kind, value = ray.get(ref)
                if kind == "exit":
                    return int(value)
                for line in value:
                    on_output(line)
            raise RayAttemptLost("the Ray task ended without an exit code")
        except lost_errors() as exc:
            ray.cancel(stream, force=True)  # whatever of it is left
            from training.engine.jobs import job_type
            from training.engine.lifecycle import job_append_log

            reason = f"The job's Ray worker or node was lost: {type(exc).__name__}: {exc}\n"
            # Written now: the engine's buffered log is not flushed when ``run`` raises.
            job_append_log(job_type(launch.job_type), launch.job_id, reason)
            raise RayAttemptLost(reason) from exc
        except ray.exceptions.RayError as exc:  # the task could not run: unschedulable, env
            ray.cancel(stream, force=True)
            on_output(f"The job could not run on Ray: {type(exc).__name__}: {exc}\n")
            return 1
        except BaseException:
            ray.cancel(stream, force=True)
            raise


class RayAttemptLost(RuntimeError):
    """The Ray worker or node running the job was lost: the attempt is lost like a dead
    worker's (no outcome recorded), so the recovery sweep sends the job again and a run
    resumes from its latest checkpoint, or fails after ``FLYWHEEL_MAX_ATTEMPTS``."""


def lost_errors() -> tuple[type[BaseException], ...]:
    from ray import exceptions as e

    return (
        RayAttemptLost,
        e.WorkerCrashedError,
        e.NodeDiedError,
        e.LocalRayletDiedError,
        e.RayActorError,
        e.ObjectLostError,
        e.RaySystemError,
    )


def connect() -> None:
    """Connect this worker process to the cluster once (a driver of it)."""
    import ray

    if ray.is_initialized():
        return
    ray.init(
        address=settings.FLYWHEEL_RAY_ADDRESS,
        namespace="flywheel",
        log_to_driver=False,
        logging_level="WARNING",
    )


def cluster_slots(resources: dict[str, float]) -> int:
    """How many processes of ``resources`` the cluster's live nodes could hold at once."""
    import ray

    slots = 0
    for node in ray.nodes():
        if node["Alive"]:
            offered = node["Resources"]
            slots += min(int(offered.get(k, 0) // v) for k, v in resources.items() if v > 0)
    return slots


def worker_resources() -> dict[str, float]:
    """One job process's Ray resources (``FLYWHEEL_RAY_RESOURCES``, e.g. ``{"CPU": 4,
    "GPU": 1}``)."""
    return {k: float(v) for k, v in settings.FLYWHEEL_RAY_RESOURCES.items()}


def ray_task_resources(resources: dict[str, float]) -> dict:
    custom = {k: v for k, v in resources.items() if k not in ("CPU", "GPU")}
    return {
        "num_cpus": resources.get("CPU", 1),
        "num_gpus": resources.get("GPU", 0),
        "resources": custom,
    }


def job_processes(launch: Launch) -> int:
    """``processes`` of a training run's config (``ScaleConfig``); 1 for other jobs."""
    from training.engine.jobs import job_type

    job = job_type(launch.job_type).model.objects.get(pk=launch.job_id)
    config = getattr(job, "config", None) or {}
    return int(config.get("processes") or 1)


def database_url() -> str:
    """The database this process uses (in tests, pytest-django's test database)."""
    from django.db import connection

    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    at = f"{user}{password}@" if user or password else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{at}{db.get('HOST') or ''}{port}/{db['NAME']}"


def job_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES)}
    env["DATABASE_URL"] = database_url()
    env["FLYWHEEL_VAR_DIR"] = str(settings.VAR_DIR)
    env["FLYWHEEL_MODELS_DIR"] = str(settings.FLYWHEEL_MODELS_DIR)  # runs and weights: shared
    env.setdefault("DJANGO_SETTINGS_MODULE", "flywheel.settings")
    # Ray Train sends a worker's print() to logging, past the StringIO a library swaps in to
    # capture it (dill's dis output while datasets hashes a map function flooded the log).
    env["RAY_TRAIN_ENABLE_PRINT_PATCH"] = "0"
    return env


# --- on the Ray cluster ---------------------------------------------------------------------


def job_on_ray(
    job_type: str, job_id: int, processes: int, resources: dict[str, float]
) -> Iterator[tuple[str, object]]:
    """The Ray task: run the job (itself, or through a TorchTrainer) in a thread and stream its
    output as ``("lines", [...])`` items, then ``("exit", code)``."""
    lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
    outcome: dict[str, int] = {}

    def work() -> None:
        try:
            if processes == 1:
                outcome["code"] = run_captured(job_type, job_id, lines.put)
            else:
                outcome["code"] = run_trainer(job_type, job_id, processes, resources, lines.put)
        except BaseException:  # noqa: BLE001 — reported as the attempt's output
            lines.put(traceback.format_exc())
            outcome["code"] = 1
        finally:
            lines.put(None)

    threading.Thread(target=work, daemon=True).start()
    done = False
    while not done:
        batch: list[str] = []
        deadline = time.monotonic() + OUTPUT_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                done = True
                break
            batch.append(line)
        if batch:
            yield "lines", batch
    yield "exit", outcome.get("code", 1)


class LineWriter(io.TextIOBase):
    """A text stream that hands each complete line to ``emit`` (and keeps writing to the
    original stream, so Ray's worker log has it too)."""

    def __init__(self, emit: Callable[[str], None], original, prefix: str = "") -> None:
        self.emit, self.original, self.prefix = emit, original, prefix
        self.partial = ""
        self.lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.original.write(text)
        with self.lock:
            *complete, self.partial = (self.partial + text).split("\n")
        for line in complete:
            self.emit(f"{self.prefix}{line}\n")
        return len(text)

    def flush(self) -> None:
        self.original.flush()


def run_captured(job_type: str, job_id: int, emit: Callable[[str], None], prefix: str = "") -> int:
    """``run_job`` in this process, its stdout, stderr and logging passed line by line to
    ``emit``."""
    from training.engine.process import prepare_process, run_job, set_torch_threads

    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = LineWriter(emit, stdout, prefix)
    sys.stderr = LineWriter(emit, stderr, prefix)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        prepare_process()
        set_torch_threads()
        return run_job(job_type, job_id)
    finally:
        from django.db import connections

        connections.close_all()
        root.removeHandler(handler)
        sys.stdout, sys.stderr = stdout, stderr


def train_worker(config: dict) -> None:
    """One TorchTrainer worker: the job with Ray Train's torch.distributed environment."""
    rank = int(os.environ.get("RANK", "0"))
    output = config["output"]
    # One id per launch: rank 0 exports the run's data first, the others wait for it
    # (``training.engine.reporting.main_process_first``).
    os.environ["FLYWHEEL_LAUNCH_ID"] = config["launch_id"]

    pending: list[str] = []
    lock = threading.Lock()

    def emit(line: str) -> None:
        with lock:
            pending.append(line)
            if len(pending) >= 20 or line.startswith("Traceback"):
                output.put_nowait_batch(pending[:])
                pending.clear()

    try:
        code = run_captured(config["job_type"], config["job_id"], emit, f"[rank {rank}] ")
    finally:
        with lock:
            if pending:
                output.put_nowait_batch(pending[:])
    if code != 0:
        raise RuntimeError(f"rank {rank}: the job's process exited with code {code}")


def run_trainer(
    job_type: str,
    job_id: int,
    processes: int,
    resources: dict[str, float],
    emit: Callable[[str], None],
) -> int:
    """Ray Train's TorchTrainer with ``processes`` workers, each running the job."""
    import ray
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer
    from ray.util.queue import Empty, Queue
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    # The workers' output queue lives on this task's node: a lost worker node must not take it.
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    output = Queue(actor_options={"num_cpus": 0, "scheduling_strategy": here})
    trainer = TorchTrainer(
        train_worker,
        train_loop_config={
            "job_type": job_type,
            "job_id": job_id,
            "output": output,
            "launch_id": uuid.uuid4().hex,
        },
        scaling_config=ScalingConfig(
            num_workers=processes,
            use_gpu=resources.get("GPU", 0) > 0,
            resources_per_worker=resources,
        ),
        run_config=RunConfig(
            name=f"{job_type}-{job_id}-{uuid.uuid4().hex[:8]}",
            # Ray Train's own run records (no checkpoints: the run keeps its own).
            storage_path=os.path.join(os.environ["FLYWHEEL_MODELS_DIR"], "ray-train"),
            # A lost worker ends the attempt (the engine decides what comes next).
            failure_config=FailureConfig(max_failures=0),
        ),
    )
    emit(f"ray: TorchTrainer with {processes} workers, {json.dumps(resources)} each\n")
    result: dict[str, object] = {}

    def fit() -> None:
        try:
            trainer.fit()
        except BaseException as exc:  # noqa: BLE001 — reported below
            result["error"] = exc

    fitting = threading.Thread(target=fit, daemon=True)
    fitting.start()
    while True:
        alive = fitting.is_alive()
        try:
            for line in output.get_nowait_batch(output.qsize()):
                emit(line)
        except Empty:
            pass
        except ray.exceptions.RayError as exc:  # the trainer's failure says what happened
            emit(f"ray: reading the workers' output failed: {type(exc).__name__}: {exc}\n")
            fitting.join()
            break
        if not alive:
            break
        time.sleep(OUTPUT_SECONDS)
    ray.kill(output.actor)
    if "error" in result:
        emit(f"ray: the TorchTrainer failed: {result['error']}\n")
        return 1
    return 0

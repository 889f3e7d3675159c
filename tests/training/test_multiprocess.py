"""Multi-process data parallel (a run's ``processes: N``) on the local executor: N gloo processes
on this CPU machine, started by ``training/engine/executors/local.py`` through the real runner
path (``job_execute``), with the run record checked. Nothing is mocked.

- 2 processes give the same losses as 1 process with the same global batch (each of the 2 takes
  half of it), and the run is recorded once: one metrics point per step, one output model;
- a cancel stops both processes at the same step;
- killing one of the 2 processes mid-run loses the attempt (the other is stopped, nothing is
  recorded as the outcome); the job's next execution resumes from the latest checkpoint.
"""

from __future__ import annotations

import math
import signal
import threading
import time

import psutil
import pytest
from django.db import connection

from annotation.enums import Role
from training.algorithms.base import latest_checkpoint
from training.engine.execution import job_execute
from training.engine.executors.local import ProcessGroupLost
from training.engine.storage import run_dir
from training.models import JobStatus, ModelVersion, RunMetric, TrainingRun

from .test_runs import start_run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Every step's global batch must be full: accelerate evens out a short last batch by giving the
# rank that has no rows the first rows again (even_batches), which one process never sees. The
# world's train split held 6 pairs in CI (which sets land in test depends on their ids): 2 steps
# of 2.
GLOBAL_BATCH = 2
# One and two processes see the same rows each step (accelerate gives rank r the r-th half of
# each global batch of the same seeded order) and DDP averages the two halves' gradients, which
# is the whole batch's mean gradient. What differs is float arithmetic only: a sum split in two
# and all-reduced, and padding (one process pads 2 rows to the longer, each rank's row is
# unpadded: other matmul shapes). Those are ~1e-7 relative on fp32 (measured with a global
# batch of 4: reward 1.3408519 vs 1.3408520, DPO 0.40700680 vs 0.40700674 after 2 steps; of
# 2: reward equal, DPO 0.40555739 vs 0.40555751); 1e-5 leaves room for another BLAS, while a
# wrong batch split (rows seen twice, a half batch's gradient, one rank's loss) moves it in the
# 2nd or 3rd digit.
LOSS_RTOL = 1e-5


@pytest.fixture
def job_processes(monkeypatch, settings, tmp_path):
    """The job's processes read this test's database, and write under its tmp dir; no warm
    process (one process: a fresh interpreter, as with ``FLYWHEEL_WARM_START=0``)."""
    db = connection.settings_dict
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    models_dir = tmp_path / "models"
    monkeypatch.setenv("FLYWHEEL_MODELS_DIR", str(models_dir))
    settings.FLYWHEEL_MODELS_DIR = models_dir
    settings.FLYWHEEL_WARM_START = False
    monkeypatch.setenv("FLYWHEEL_WARM_START", "0")


def execute(run_id: int) -> TrainingRun:
    job_execute(job_type_name="training_run", job_id=run_id)
    return TrainingRun.objects.get(pk=run_id)


def losses(run: TrainingRun) -> list[tuple[int, float]]:
    points = RunMetric.objects.filter(run=run, values__has_key="loss").order_by("step")
    return [(p.step, p.values["loss"]) for p in points]


def assert_recorded_once(run: TrainingRun, steps: int) -> None:
    assert run.status == JobStatus.SUCCEEDED, run.error + run.log_tail[-3000:]
    assert run.step == run.total_steps == steps
    recorded = list(RunMetric.objects.filter(run=run).values_list("step", flat=True))
    loss_steps = [step for step, _ in losses(run)]
    assert loss_steps == list(range(1, steps + 1)), recorded  # once per step, none twice
    assert ModelVersion.objects.filter(produced_by=run).count() == 1


@pytest.mark.parametrize("kind", ["reward", "dpo"])
def test_two_processes_train_like_one_with_the_same_global_batch(
    client_for, world, job_processes, kind
):
    admin = client_for(Role.ADMIN)
    steps = 2
    quick = {"max_steps": steps, "save_steps": 100, "logging_steps": 1}
    one = execute(start_run(admin, world, kind, per_device_train_batch_size=GLOBAL_BATCH, **quick))
    two = execute(
        start_run(
            admin,
            world,
            kind,
            processes=2,
            per_device_train_batch_size=GLOBAL_BATCH // 2,
            **quick,
        )
    )
    assert_recorded_once(one, steps)
    assert_recorded_once(two, steps)
    assert one.final_metrics["train_rows"] >= steps * GLOBAL_BATCH, one.final_metrics
    pairs = list(zip(losses(one), losses(two), strict=True))
    message = f"1 process vs 2: {pairs}; train_loss {one.final_metrics} vs {two.final_metrics}"
    for (_, single), (_, double) in pairs:
        assert math.isclose(single, double, rel_tol=LOSS_RTOL), message
    assert math.isclose(
        one.final_metrics["train_loss"], two.final_metrics["train_loss"], rel_tol=LOSS_RTOL
    ), message
    # The job's log is rank 0's output; rank 1's is dropped (it ended well).
    assert "rank 0 of 2" in two.log_tail and "rank 1 of 2" not in two.log_tail
    assert "[rank 1]" not in two.log_tail
    print(message)


def test_more_processes_than_gpus_fails_the_run_with_a_clear_error(
    client_for, world, job_processes, monkeypatch
):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # a worker with one GPU
    run = execute(start_run(client_for(Role.ADMIN), world, "dpo", processes=2))
    assert run.status == JobStatus.FAILED
    assert "processes: 2 needs one GPU per process; this worker has 1 GPU(s)" in run.error
    assert not RunMetric.objects.filter(run=run).exists()


def test_cancel_stops_every_process_at_the_same_step(client_for, world, job_processes):
    """Rank 0's reading of the cancel request is every rank's (a per-step broadcast): a rank
    that stopped alone would leave the other waiting in a collective."""
    admin = client_for(Role.ADMIN)
    run_id = start_run(
        admin, world, "dpo", processes=2, per_device_train_batch_size=2, max_steps=500
    )
    ended: list[str] = []
    attempt = threading.Thread(
        target=lambda: ended.append(job_execute(job_type_name="training_run", job_id=run_id))
    )
    attempt.start()
    deadline = time.monotonic() + 240
    while TrainingRun.objects.get(pk=run_id).step < 2:
        assert attempt.is_alive() and time.monotonic() < deadline, "no step 2 in 240 s"
        time.sleep(0.2)
    assert admin.post(f"/api/v1/training-runs/{run_id}/cancel/").status_code == 200
    attempt.join(60)
    assert not attempt.is_alive(), "the launch did not end within 60 s of the cancel"
    run = TrainingRun.objects.get(pk=run_id)
    assert ended == [JobStatus.CANCELLED] and run.status == JobStatus.CANCELLED, run.error
    assert run.step < 500
    assert not ModelVersion.objects.filter(produced_by=run).exists()


def ranks_of(run_id: int) -> dict[int, psutil.Process]:
    """The job's processes (children of this test process), by rank."""
    found = {}
    for child in psutil.Process().children(recursive=True):
        try:
            if child.cmdline()[-2:] == ["training_run", str(run_id)]:
                found[int(child.environ().get("RANK", "0"))] = child
        except psutil.NoSuchProcess:
            continue
    return found


def test_a_killed_process_loses_the_attempt_and_the_next_one_resumes_from_the_checkpoint(
    client_for, world, job_processes, settings, monkeypatch
):
    stall = 2  # a lost attempt's heartbeat goes stale quickly, so the job can be taken again
    settings.FLYWHEEL_STALL_SECONDS = stall
    monkeypatch.setenv("FLYWHEEL_STALL_SECONDS", str(stall))
    admin = client_for(Role.ADMIN)
    run_id = start_run(
        admin, world, "dpo", processes=2, per_device_train_batch_size=2, max_steps=60, save_steps=3
    )
    outcome: list[BaseException | str] = []

    def first_attempt() -> None:
        try:
            outcome.append(job_execute(job_type_name="training_run", job_id=run_id))
        except BaseException as exc:  # noqa: BLE001 — what the attempt ended with
            outcome.append(exc)

    attempt = threading.Thread(target=first_attempt)
    attempt.start()
    checkpoints = run_dir(run_id) / "checkpoints"
    deadline = time.monotonic() + 240
    while latest_checkpoint(checkpoints) is None or TrainingRun.objects.get(pk=run_id).step < 4:
        assert attempt.is_alive(), outcome
        assert time.monotonic() < deadline, "no checkpoint in 240 s"
        time.sleep(0.2)
    ranks = ranks_of(run_id)
    assert sorted(ranks) == [0, 1]
    ranks[1].send_signal(signal.SIGKILL)
    attempt.join(60)
    assert not attempt.is_alive(), "the launch went on after one of its processes was killed"
    assert isinstance(outcome[0], ProcessGroupLost), outcome
    assert not ranks[0].is_running() or ranks[0].status() == psutil.STATUS_ZOMBIE
    lost = TrainingRun.objects.get(pk=run_id)
    assert lost.status == JobStatus.RUNNING and lost.attempts == 1, lost.error  # not failed
    assert "the attempt is lost" in lost.log_tail  # the executor raised; its last lines stay
    killed_at = lost.step
    assert killed_at < 60, "killed too late"

    time.sleep(stall + 1)  # the lost attempt's heartbeat goes stale, as the sweep would see
    run = execute(run_id)
    assert run.status == JobStatus.SUCCEEDED, run.error + run.log_tail[-3000:]
    assert run.attempts == 2
    assert run.resumed_from_step is not None and 3 <= run.resumed_from_step <= killed_at
    assert run.step == 60
    assert ModelVersion.objects.filter(produced_by=run).count() == 1
    print(f"killed rank 1 at step {killed_at}; resumed from step {run.resumed_from_step}")

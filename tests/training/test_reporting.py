"""The job reporter writes a training step's metrics and progress from its heartbeat thread,
so the training loop never waits on the database, and loses none of them."""

from __future__ import annotations

import contextlib
import os
import time

import pytest

from training.engine import reporting
from training.engine.jobs import job_type
from training.engine.reporting import FLUSH_SECONDS, JobReporter, RunHooksAdapter
from training.models import JobStatus, RunMetric, TrainingRun
from training.services.runs import training_run_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running_run(world):
    snapshot, sft, _ = world
    run = training_run_create(kind="sft", dataset=snapshot, base_model=sft, config={})
    TrainingRun.objects.filter(pk=run.pk).update(status=JobStatus.RUNNING)
    return run


def recorded(run) -> list[int]:
    return list(RunMetric.objects.filter(run=run).order_by("id").values_list("step", flat=True))


def test_steps_are_written_within_a_second_and_the_rest_before_the_finish(running_run):
    with JobReporter(job_type("training_run"), running_run.pk) as reporter:
        hooks = RunHooksAdapter(reporter)
        for step in (1, 2, 3):
            hooks.on_log(step, {"loss": 1.0 / step})
            hooks.on_progress(step, 10)
        deadline = time.monotonic() + FLUSH_SECONDS + 5
        while recorded(running_run) != [1, 2, 3] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert recorded(running_run) == [1, 2, 3]  # written by the reporter's own thread
        assert TrainingRun.objects.get(pk=running_run.pk).step == 3

        hooks.on_log(4, {"loss": 0.25})
        hooks.on_progress(4, 10)
        assert reporter.finish(JobStatus.SUCCEEDED)
        run = TrainingRun.objects.get(pk=running_run.pk)
        assert recorded(running_run) == [1, 2, 3, 4] and (run.step, run.status) == (4, "succeeded")


def test_a_checkpoint_brings_the_record_up_to_it(running_run):
    with JobReporter(job_type("training_run"), running_run.pk) as reporter:
        hooks = RunHooksAdapter(reporter)
        hooks.on_log(5, {"loss": 0.5})
        hooks.on_progress(5, 10)
        hooks.on_checkpoint(5)
        # No waiting: the record reached the checkpoint before training went on.
        assert recorded(running_run) == [5]
        assert TrainingRun.objects.get(pk=running_run.pk).step == 5


def test_points_a_failed_write_could_not_store_are_kept_in_order(running_run, monkeypatch):
    reporter = JobReporter(job_type("training_run"), running_run.pk)  # no thread: flush by hand
    reporter.metrics(1, {"loss": 1.0})
    reporter.step(1, 10)
    real = RunMetric.objects.bulk_create

    def database_gone(*args, **kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(RunMetric.objects, "bulk_create", database_gone)
    with pytest.raises(ConnectionError):
        reporter.flush()
    reporter.metrics(2, {"loss": 0.5})
    reporter.step(2, 10)
    monkeypatch.setattr(RunMetric.objects, "bulk_create", real)
    reporter.flush()

    assert recorded(running_run) == [1, 2]
    assert TrainingRun.objects.get(pk=running_run.pk).step == 2


@contextlib.contextmanager
def stdout_to_a_pipe():
    """fd 1 becomes the write end of a pipe (as a job process's output to its worker); yields
    a function that closes the read end (the worker dies)."""
    read_end, write_end = os.pipe()
    saved = os.dup(1)
    os.dup2(write_end, 1)
    os.close(write_end)
    closed = []

    def reader_dies():
        os.close(read_end)
        closed.append(True)

    try:
        yield reader_dies
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        if not closed:
            os.close(read_end)


def test_a_failure_from_a_dead_workers_pipe_loses_the_attempt_instead(running_run, monkeypatch):
    """A job process whose worker was killed can hit BrokenPipeError on its output before
    PR_SET_PDEATHSIG reaches it: that must not record the run as failed (the recovery sweep
    resumes it), while a failure with the worker alive is recorded."""
    monkeypatch.setattr(reporting, "_output_to_worker", True)
    with (
        stdout_to_a_pipe() as reader_dies,
        JobReporter(job_type("training_run"), running_run.pk) as reporter,
    ):
        assert not reporting.worker_gone()
        reader_dies()
        assert reporting.worker_gone()
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except BrokenPipeError as exc:
            assert reporter.fail(exc) is False
    assert TrainingRun.objects.get(pk=running_run.pk).status == JobStatus.RUNNING

    with stdout_to_a_pipe(), JobReporter(job_type("training_run"), running_run.pk) as reporter:
        try:
            raise ValueError("bad config")
        except ValueError as exc:
            assert reporter.fail(exc) is True
    run = TrainingRun.objects.get(pk=running_run.pk)
    assert run.status == JobStatus.FAILED and "bad config" in run.error

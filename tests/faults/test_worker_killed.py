"""A worker SIGKILLed mid-job, on a real Redis broker with real Celery workers: the job is
resumed by the next worker and finishes once; nothing it wrote is written twice.

- generation: the new worker's start-up sweep (``recover_on_worker_start``) finds the job's
  heartbeat stale and sends it again; the resumed attempt skips every prompt already written;
- a loop round's evaluation step: a job of the engine like the others, so the new worker's
  start-up sweep finds its heartbeat stale and sends it again; the round is evaluated once.

Training is covered by tests/training/test_runs.py
(``test_a_killed_worker_run_resumes_from_its_checkpoint_on_a_new_worker``). Nothing is mocked.
"""

from __future__ import annotations

import time

import pytest
import redis
from django.utils import timezone

from annotation.exports.stream import ExportFilters
from annotation.services.imports import prompts_import
from annotation.services.snapshots import snapshot_create
from loop.models import LoopRound, RoundStatus, RoundStep
from loop.services.rounds import worker_step_start
from loop.services.settings import loop_for
from tests.annotation.ranking_helpers import rank_next
from tests.loop.conftest import templated_sets
from training.models import GenerationJob, JobStatus, ModelKind
from training.services.generation import generation_job_create, generation_job_execute
from training.services.registry import model_version_register

from .conftest import (
    GENERATION_PROMPTS,
    assert_resumed_once,
    generation_under_way,
    kill,
    sets_written,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

STALL_SECONDS = 3
PROMPTS = GENERATION_PROMPTS


def finished(model, pk: int):
    row = model.objects.get(pk=pk)
    return row if row.status not in (JobStatus.QUEUED, JobStatus.RUNNING) else None


@pytest.mark.slow
def test_a_generation_job_whose_worker_is_killed_resumes_and_writes_each_prompt_once(
    celery_workers, make_project, make_user, sft_policy, tinyworld
):
    celery_workers.env["FLYWHEEL_STALL_SECONDS"] = str(STALL_SECONDS)
    first, job = generation_under_way(celery_workers, make_project(k=3), sft_policy, tinyworld)
    kill(first)
    killed = GenerationJob.objects.get(pk=job.pk)
    assert killed.status == JobStatus.RUNNING and killed.done < PROMPTS, "killed too late"
    written = sets_written(job)

    time.sleep(STALL_SECONDS + 1)  # the heartbeat goes stale
    celery_workers.start()
    job = wait_for(lambda: finished(GenerationJob, job.pk), "the resumed job", timeout=180)
    assert_resumed_once(job, written, k=3)
    # The dead worker's message, redelivered after the broker's visibility timeout, is a no-op.
    assert generation_job_execute(job_id=job.pk).startswith("skipped")
    print(
        f"generation: killed after {killed.done}/{PROMPTS} prompts ({len(written)} sets "
        f"written); resumed on attempt 2, {job.sets_created} sets in all, none twice"
    )


def unacked(broker: str) -> int:
    """Messages a worker has taken and not acknowledged (acks_late: until the task ends)."""
    return redis.Redis.from_url(broker).hlen("unacked")


@pytest.mark.slow
def test_a_round_whose_worker_is_killed_during_evaluation_is_evaluated_once_by_a_new_worker(
    celery_workers, make_project, make_user, sft_policy, tinyworld, tmp_path
):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    celery_workers.env["FLYWHEEL_STALL_SECONDS"] = str(STALL_SECONDS)
    project = make_project(k=4)
    templated_sets(project, tinyworld, 12)
    annotator = make_user("annotator")
    for _ in range(12):
        rank_next(project, annotator, [[0], [1], [2], [3]])
    snapshot = snapshot_create(
        project=project, name="s", filters=ExportFilters(), test_fraction=0.25
    )
    base = model_version_register(name="tw-base", path=str(tinyworld.base_model_dir))
    rm_dir = tmp_path / "rm"
    AutoModelForSequenceClassification.from_pretrained(
        tinyworld.sft_model_dir, num_labels=1
    ).save_pretrained(rm_dir)
    AutoTokenizer.from_pretrained(tinyworld.sft_model_dir).save_pretrained(rm_dir)
    reward_model = model_version_register(name="tw-rm", path=str(rm_dir), kind=ModelKind.REWARD)
    loop = loop_for(project)
    loop.eval_prompts = tinyworld.heldout_prompts()[:24]
    loop.eval_max_new_tokens = 32
    loop.prompts_per_round = 2
    loop.require_confirmation = False  # a hand-made round without a judge: promote regardless
    loop.sampling = {"max_new_tokens": 16, "batch_size": 2}
    loop.save()
    loop_round = LoopRound.objects.create(
        loop=loop,
        number=1,
        policy_kind="dpo",
        base_policy=base,
        snapshot=snapshot,
        reward_model=reward_model,
        policy_model=sft_policy,
        step=RoundStep.EVALUATE,
        step_started_at=timezone.now(),
    )
    first = celery_workers.start()
    worker_step_start(loop_round, RoundStep.EVALUATE)  # sent at once: no transaction is open
    wait_for(lambda: unacked(celery_workers.broker), "the worker to take the evaluation step")
    time.sleep(1.5)  # loading the models and sampling
    kill(first)
    loop_round.refresh_from_db()
    assert (loop_round.status, loop_round.step) == (RoundStatus.RUNNING, RoundStep.EVALUATE)
    assert loop_round.evaluation == {}, "the evaluation finished before the kill"

    time.sleep(STALL_SECONDS + 1)  # the step's heartbeat goes stale
    celery_workers.start()  # its start-up sweep sends the step again
    loop_round = wait_for(
        lambda: (
            LoopRound.objects.exclude(status=RoundStatus.RUNNING).filter(pk=loop_round.pk).first()
        ),
        "the round to finish",
        timeout=180,
    )

    assert loop_round.status == RoundStatus.SUCCEEDED, (loop_round.step, loop_round.error)
    assert loop_round.evaluation["policy"]["samples"] == 24 * 4
    assert len(loop_round.selected_prompts) == 2
    jobs = GenerationJob.objects.filter(project=project)
    assert list(jobs) == [loop_round.generation_job]  # the step's job was created once
    assert loop_round.generation_job.status == JobStatus.SUCCEEDED
    print(
        f"loop: evaluation killed mid-step; re-sent by the sweep, round done in "
        f"{sum(loop_round.step_seconds.values()):.1f} s of steps {loop_round.step_seconds}"
    )


@pytest.mark.django_db  # no worker, and nothing sent to a broker (no commit)
def test_a_job_whose_worker_dies_on_every_attempt_is_failed_with_the_reason(
    ranked_project, sft_policy, settings
):
    """A job that kills its worker each time (out of memory, say) is failed after
    ``FLYWHEEL_MAX_ATTEMPTS``, not sent round for ever. Each death is a heartbeat made stale
    here; the real SIGKILLs are the tests above."""
    from datetime import timedelta

    from training.engine.jobs import job_type
    from training.engine.lifecycle import job_acquire, redispatch_stalled_work
    from training.models import TrainingRun
    from training.services.runs import training_run_create

    MAX_ATTEMPTS = settings.FLYWHEEL_MAX_ATTEMPTS
    runs, jobs = job_type("training_run"), job_type("generation_job")

    project = ranked_project.project
    prompts_import(project=project, rows=[(1, {"prompt": "A new question?"})])
    run = training_run_create(
        kind="sft", dataset=ranked_project.snapshot, base_model=sft_policy, config={}
    )
    job = generation_job_create(project=project, model_version=sft_policy)
    dead = {"heartbeat_at": timezone.now() - timedelta(hours=1)}
    for _ in range(MAX_ATTEMPTS):
        assert job_acquire(runs, run.pk) and job_acquire(jobs, job.pk)
        TrainingRun.objects.filter(pk=run.pk).update(**dead)
        GenerationJob.objects.filter(pk=job.pk).update(**dead)
    assert not job_acquire(runs, run.pk) and not job_acquire(jobs, job.pk)  # a late redelivery

    redispatch_stalled_work()  # what the beat runs every 30 s

    run.refresh_from_db()
    job.refresh_from_db()
    for row in (run, job):
        assert (row.status, row.attempts) == (JobStatus.FAILED, MAX_ATTEMPTS)
        assert f"on each of its {MAX_ATTEMPTS} attempts" in row.error
    assert run.worker in run.error

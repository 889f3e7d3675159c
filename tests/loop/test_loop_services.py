"""The loop's plumbing on a real Redis broker with no worker consuming it: a finished job
advances its round through the `job_finished` signal, the periodic sweep re-sends a worker step
whose worker died, and the next round's prompts are chosen as documented."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from annotation.enums import CandidateSetState, Role
from annotation.models import CandidateSet, Prompt
from loop.models import Loop, LoopRound, RoundStep, RoundStepJob
from loop.services.evaluation import pending_prompt_pool, select_prompts
from loop.services.rounds import round_advance, round_start, worker_step_start
from training.engine.jobs import job_type
from training.engine.lifecycle import job_acquire, job_finish, redispatch_stalled_work
from training.models import JobStatus

from .conftest import templated_sets
from .test_loop_api import rank_all

pytestmark = pytest.mark.django_db(transaction=True)


def queued(broker: str, queue: str) -> list[tuple[str, list]]:
    """(task name, args) of the messages waiting in a Redis-backed Celery queue."""
    messages = []
    for raw in redis.Redis.from_url(broker).lrange(queue, 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        messages.append((message["headers"]["task"], body[0]))
    return messages


def started_round(client_for, project, tinyworld) -> LoopRound:
    templated_sets(project, tinyworld, 4)
    rank_all(client_for(Role.ANNOTATOR), project)
    loop_round = round_start(project=project)
    round_advance(round_id=loop_round.pk)
    return LoopRound.objects.get(pk=loop_round.pk)


def test_a_finished_run_advances_its_round_through_the_signal(
    celery_workers, client_for, tinyworld_project, tinyworld
):
    broker = celery_workers.broker
    project = tinyworld_project(n=0)
    loop_round = started_round(client_for, project, tinyworld)
    redis.Redis.from_url(broker).delete("default")
    run = loop_round.reward_run
    assert job_acquire(job_type("training_run"), run.pk)
    assert queued(broker, "default") == []

    job_finish(job_type("training_run"), run.pk, JobStatus.FAILED, error="OutOfMemoryError: CUDA")

    assert queued(broker, "default") == [("loop.tasks.advance_round", [loop_round.pk])]
    round_advance(round_id=loop_round.pk)  # what that task runs
    loop_round.refresh_from_db()
    assert loop_round.status == "failed"
    assert loop_round.error == f"The reward run {run.pk} failed: OutOfMemoryError: CUDA"


def test_a_worker_step_whose_worker_died_is_sent_again_then_fails_its_round(
    celery_workers, client_for, tinyworld_project, tinyworld, settings
):
    """The round's evaluation step is a job of the engine: a stale heartbeat gets it sent again
    (the beat's ``recover_stalled_work``), and a step whose worker died on each of its attempts
    fails its round with the reason."""
    broker = celery_workers.broker
    project = tinyworld_project(n=0)
    loop_round = started_round(client_for, project, tinyworld)
    LoopRound.objects.filter(pk=loop_round.pk).update(step=RoundStep.EVALUATE)
    loop_round.refresh_from_db()
    step_job = worker_step_start(loop_round, RoundStep.EVALUATE)
    steps = job_type("round_step")
    assert job_acquire(steps, step_job.pk)  # a worker took it
    redis.Redis.from_url(broker).delete("generation", "default")
    redispatch_stalled_work()
    assert queued(broker, "generation") == []  # evaluating for a minute is normal

    stale = {"heartbeat_at": timezone.now() - timedelta(hours=2)}
    RoundStepJob.objects.filter(pk=step_job.pk).update(**stale)
    redispatch_stalled_work()
    assert queued(broker, "generation") == [
        ("training.tasks.execute_job", ["round_step", step_job.pk])
    ]

    RoundStepJob.objects.filter(pk=step_job.pk).update(
        attempts=settings.FLYWHEEL_MAX_ATTEMPTS, **stale
    )
    redispatch_stalled_work()
    assert ("loop.tasks.advance_round", [loop_round.pk]) in queued(broker, "default")
    round_advance(round_id=loop_round.pk)  # what that task runs
    loop_round.refresh_from_db()
    assert (loop_round.status, loop_round.step) == ("failed", "evaluate")
    assert loop_round.error.startswith(f"The evaluate job {step_job.pk} failed: Its worker stopped")


def test_prompt_pool_skips_prompts_with_open_sets_and_puts_unshown_ones_first(
    client_for, tinyworld_project, tinyworld, sft_policy
):
    project = tinyworld_project(n=6)  # six prompts without sets
    sets = templated_sets(project, tinyworld, 3)  # three more prompts, each with an open set
    CandidateSet.objects.filter(pk=sets[0].pk).update(state=CandidateSetState.COMPLETE)
    loop_round = LoopRound.objects.create(
        loop=Loop.objects.create(project=project), number=1, base_policy=sft_policy
    )
    unshown = list(
        Prompt.objects.filter(project=project, candidate_sets__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert pending_prompt_pool(loop_round) == unshown + [sets[0].prompt_id]

    loop_round.loop.prompts_per_round = 4
    first, info = select_prompts(loop_round)
    again, _ = select_prompts(loop_round)
    assert first == again and len(first) == 4 and set(first) <= set(unshown + [sets[0].prompt_id])
    assert info == {"method": "random", "pool": 7, "chosen": 4}


def test_an_evaluation_that_raises_fails_the_round_with_the_reason(
    client_for, tinyworld_project, tinyworld, sft_policy
):
    from loop.services.rounds import round_run_worker_step
    from training.models import ModelVersion

    project = tinyworld_project(n=0)
    loop_round = started_round(client_for, project, tinyworld)
    missing = ModelVersion.objects.create(
        name="rm-gone", kind="reward", storage_path="/nonexistent/reward-model"
    )
    LoopRound.objects.filter(pk=loop_round.pk).update(
        step=RoundStep.EVALUATE, reward_model=missing, policy_model=sft_policy
    )
    assert round_run_worker_step(round_id=loop_round.pk, step=RoundStep.EVALUATE) == "failed"
    loop_round.refresh_from_db()
    assert (loop_round.status, loop_round.step) == ("failed", "evaluate")
    assert loop_round.error.startswith("Evaluation failed: ")
    assert "/nonexistent/reward-model" in loop_round.error
    assert loop_round.generation_job is None
    # a second delivery of the same step does nothing to a finished round
    again = round_run_worker_step(round_id=loop_round.pk, step=RoundStep.EVALUATE)
    assert again == "skipped: not at evaluate"


@pytest.mark.django_db
def test_policy_samples_are_kept_without_nul_characters(monkeypatch):
    """A model can emit U+0000, which the round's evaluation (jsonb) cannot store: a random
    base model's sample did so in tests/faults, failing the round. The sampler is stubbed, as
    no real model emits NUL on demand."""
    from loop.services.evaluation import sample_policy

    samples = ["a\x00b", "\x00", "c"]
    monkeypatch.setattr("training.evaluation.sample_responses", lambda *args, **kwargs: samples)
    prompt = [{"role": "user", "content": "Q?"}]
    assert sample_policy("/unused", [prompt], n=3, max_new_tokens=4, seed=0) == [["ab", "", "c"]]

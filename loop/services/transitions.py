"""Moving a round between its steps, for the state machine (``rounds``) and for a person's
decision (``decisions``): timing a step, failing the round, queueing a worker step or the
advance, promoting the round's policy and going on to the next round's generation, or stopping
to wait for a decision. Each function changes the locked row in memory; the caller saves it."""

from __future__ import annotations

import logging

from celery import current_app
from django.contrib.auth.models import AbstractUser
from django.utils import timezone

from annotation.models import Project
from flywheel.events import Event, send_events
from training.engine.lifecycle import job_dispatch_on_commit
from training.models import GenerationJob, JobStatus
from training.services.generation import generation_job_create

from ..models import Decision, LoopRound, RoundStatus, RoundStep, RoundStepJob, Verdict
from .human_eval import human_eval_job_create
from .verdict import round_verdict

logger = logging.getLogger(__name__)

# Steps done by a job of the engine (``RoundStepJob``, in a worker) rather than in the advance.
WORKER_STEPS = {RoundStep.EVALUATE, RoundStep.AI_FEEDBACK}
FAILED_JOB = {JobStatus.FAILED, JobStatus.CANCELLED}
# The Celery task (loop/tasks.py), sent by name: the tasks call into the rounds module.
ADVANCE_TASK = "loop.tasks.advance_round"


def dispatch_advance(round_id: int) -> None:
    try:
        current_app.send_task(ADVANCE_TASK, (round_id,), ignore_result=True)
    except Exception:  # noqa: BLE001 — the periodic sweep advances it later
        logger.exception("Could not dispatch round %s; the sweep will advance it", round_id)


def worker_step_start(loop_round: LoopRound, step: str) -> RoundStepJob:
    """Queue the round's worker step as a job of the engine, sent once the transaction commits
    (a broker outage leaves it queued, and the engine's recovery sweep sends it again)."""
    job = RoundStepJob.objects.create(round=loop_round, step=step, created_by=loop_round.started_by)
    job_dispatch_on_commit(job)
    return job


def fail_round(loop_round: LoopRound, message: str) -> None:
    loop_round.status = RoundStatus.FAILED
    loop_round.error = message
    loop_round.finished_at = timezone.now()
    _time_step(loop_round)
    loop_round.save()
    _send_finished(loop_round)
    logger.warning("round %s failed at %s: %s", loop_round.pk, loop_round.step, message)


def _time_step(loop_round: LoopRound) -> None:
    if loop_round.step_started_at is not None:
        seconds = (timezone.now() - loop_round.step_started_at).total_seconds()
        loop_round.step_seconds = loop_round.step_seconds | {
            loop_round.step: round(loop_round.step_seconds.get(loop_round.step, 0) + seconds, 3)
        }


def goto_step(loop_round: LoopRound, step: RoundStep) -> None:
    _time_step(loop_round)
    loop_round.step = step
    loop_round.step_started_at = timezone.now()
    if step in WORKER_STEPS:
        worker_step_start(loop_round, step)
    if step == RoundStep.DONE:
        loop_round.status = RoundStatus.SUCCEEDED
        loop_round.finished_at = timezone.now()
        _send_finished(loop_round)


def _send_finished(loop_round: LoopRound) -> None:
    """round.finished, in the transaction that ends the round (webhooks)."""
    data = {"round": loop_round.pk, "number": loop_round.number, "status": loop_round.status}
    data |= {"error": loop_round.error, "policy_model": loop_round.policy_model_id}
    send_events(Event("round.finished", loop_round.loop.project_id, data))


def next_generation_job(loop_round: LoopRound) -> GenerationJob:
    """The next round's candidates: the round's selected prompts, sampled from its policy."""
    loop = loop_round.loop
    return generation_job_create(
        project=loop.project,
        model_version=loop_round.policy_model,
        prompts=loop_round.selected_prompts,
        sampling=loop.sampling or {},
        seed=loop.seed + loop_round.number,
        round=loop_round.number,
        mix_model_version=loop_round.base_policy if loop.compare_with_previous else None,
        mix_count=loop.compare_with_previous,
        sets_per_prompt=loop.sets_per_prompt,
        created_by=loop_round.started_by,
    )


def record_human_evaluation(loop_round: LoopRound, result: dict) -> None:
    """Store the blind A/B's outcome in the evaluation and recompute the verdict with it."""
    loop_round.evaluation = (loop_round.evaluation or {}) | {"human_win_rate": result}
    loop_round.verdict, loop_round.verdict_reasons = round_verdict(loop_round.evaluation)


def promote_and_generate(loop_round: LoopRound, *, decided_by: AbstractUser | None) -> None:
    """Make the round's policy the project's current policy (``decided_by`` None: the verdict
    did), then go on to generate the next round's candidates from it."""
    Project.objects.filter(pk=loop_round.loop.project_id).update(
        current_policy=loop_round.policy_model
    )
    loop_round.decision = Decision.PROMOTED
    loop_round.decided_by = decided_by
    loop_round.decided_at = timezone.now()
    loop_round.status = RoundStatus.RUNNING
    if loop_round.selected_prompts:
        loop_round.generation_job = next_generation_job(loop_round)
    goto_step(loop_round, RoundStep.GENERATE)


def conclude_evaluation(loop_round: LoopRound) -> None:
    """After the evaluation recorded its verdict: with a blind human evaluation asked for and
    not yet held, queue its A/B sets and wait for the annotators (step ``human_eval``; the
    advance comes back here with their win-rate in the verdict). Then promote and generate when
    the verdict is confirmed (or the loop does not ask for confirmation); otherwise stop and
    wait for a person's decision, neither promoting the policy nor generating from it."""
    if loop_round.loop.human_eval_prompts and "human_win_rate" not in loop_round.evaluation:
        job = human_eval_job_create(loop_round)
        if job is not None:
            loop_round.human_eval_job = job
            goto_step(loop_round, RoundStep.HUMAN_EVAL)
            return
        record_human_evaluation(
            loop_round, {"reason": "the round's snapshot has no held-out prompts to ask about"}
        )
    if loop_round.verdict == Verdict.CONFIRMED or not loop_round.loop.require_confirmation:
        promote_and_generate(loop_round, decided_by=None)
        return
    goto_step(loop_round, RoundStep.DECIDE)
    loop_round.status = RoundStatus.AWAITING_DECISION
    logger.info("round %s is unconfirmed: %s", loop_round.pk, "; ".join(loop_round.verdict_reasons))

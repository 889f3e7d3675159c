"""Rounds of the feedback loop: start, advance step by step, retry, and the auto trigger.

A round is a small state machine on one row. ``round_advance`` takes the row lock, looks at the
current step and the state of the object that step is waiting for, and moves on when it is done.
It is idempotent — it can be called any number of times, from the ``job_finished`` signal (the
fast path), from the periodic sweep (the safety net for a lost signal or dispatch) or by hand —
because each transition is decided and written under the row lock, and each object a step
creates is linked to the round in the same transaction, so a retried step finds it and does not
create a second one. Heavy steps (evaluation, prompt selection, AI pre-ranking) load models, so
they run as their own Celery task on the ``generation`` queue and hand back by advancing.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotation.enums import SetPurpose
from annotation.exports.stream import ExportFilters
from annotation.models import CandidateSet, Project, Ranking
from annotation.services.snapshots import snapshot_create, snapshot_swap_splits
from flywheel.errors import ApplicationError
from training.algorithms.registry import algorithm
from training.engine.reporting import JobReporter
from training.models import JobStatus, TrainingRun
from training.services.runs import training_run_create

from ..models import (
    OPEN_STATUSES,
    Decision,
    Loop,
    LoopRound,
    RoundStatus,
    RoundStep,
    RoundStepJob,
    SnapshotScope,
)
from . import evaluation, human_eval
from .settings import loop_for
from .transitions import (
    FAILED_JOB,
    WORKER_STEPS,
    conclude_evaluation,
    dispatch_advance,
    fail_round,
    goto_step,
    record_human_evaluation,
    worker_step_start,
)
from .verdict import round_verdict

logger = logging.getLogger(__name__)

# The judge's epochs × at most this (its split is smaller than the round's train split).
JUDGE_EPOCH_SCALE = 4.0


def round_start(*, project: Project, started_by: AbstractUser | None = None) -> LoopRound:
    """Open the next round from the project's current policy; its first step runs once the row
    commits. 409 while another round runs."""
    loop = loop_for(project)
    if project.current_policy_id is None:
        raise ApplicationError(
            "The project has no current policy to improve; register one first.",
            field="current_policy",
        )
    if not Ranking.objects.filter(
        candidate_set__project=project,
        candidate_set__gold_tiers__isnull=True,
        candidate_set__purpose=SetPurpose.PREFERENCE,
    ).exists():
        raise ApplicationError("The project has no rankings yet.", code="no_rankings")
    with transaction.atomic():
        Loop.objects.select_for_update().get(pk=loop.pk)  # serialise starts of one project
        _refuse_beside_an_open_round(loop)
        number = (loop.rounds.aggregate(n=Max("number"))["n"] or 0) + 1
        loop_round = LoopRound.objects.create(
            loop=loop,
            number=number,
            policy_kind=loop.policy_kind,
            base_policy_id=project.current_policy_id,
            started_by=started_by,
            step_started_at=timezone.now(),
        )
        transaction.on_commit(lambda: dispatch_advance(loop_round.pk))
    return loop_round


def round_retry(*, loop_round: LoopRound) -> LoopRound:
    """Resume a failed round at the step that failed: the failed step's object is unlinked (it
    stays in the registry, with its error) and the step is done again."""
    with transaction.atomic():
        locked = LoopRound.objects.select_for_update().get(pk=loop_round.pk)
        if locked.status != RoundStatus.FAILED:
            raise ApplicationError(
                f"Only a failed round can be retried; this one {locked.status}.",
                code="round_not_failed",
                status=409,
            )
        _refuse_beside_an_open_round(locked.loop)
        if locked.step == RoundStep.REWARD:
            locked.reward_run = None
            if locked.judge_run is not None and locked.judge_run.status in FAILED_JOB:
                locked.judge_run = None
        elif locked.step == RoundStep.POLICY:
            locked.policy_run = None
        elif locked.step == RoundStep.GENERATE:
            locked.generation_job = None
        locked.status, locked.error, locked.finished_at = RoundStatus.RUNNING, "", None
        locked.step_started_at = timezone.now()
        locked.save()
        if locked.step in WORKER_STEPS:
            worker_step_start(locked, locked.step)  # a new job; the failed one stays
        else:
            transaction.on_commit(lambda: dispatch_advance(locked.pk))
    return locked


def _refuse_beside_an_open_round(loop: Loop) -> None:
    """409 while a round runs, or waits for a decision (the loop stops until a person makes
    it: ``POST /rounds/{id}/decision/``)."""
    open_round = loop.rounds.filter(status__in=OPEN_STATUSES).first()
    if open_round is None:
        return
    if open_round.status == RoundStatus.AWAITING_DECISION:
        raise ApplicationError(
            f"Round {open_round.number} is unconfirmed and waits for a decision: promote or "
            "reject its policy first.",
            code="round_awaits_decision",
            status=409,
        )
    raise ApplicationError("A round is already running.", code="round_running", status=409)


def _run_failed(run: TrainingRun, what: str) -> str:
    reason = (run.error or "").strip().splitlines()
    detail = f": {reason[0]}" if reason else ""
    return f"The {what} run {run.pk} {run.status}{detail}"


def round_advance(*, round_id: int) -> str:
    """Move the round on as far as it can go now; returns the step it is at (or why not)."""
    with transaction.atomic():
        loop_round = (
            LoopRound.objects.select_for_update(of=("self",))
            .select_related(
                "loop__project",
                "reward_run",
                "judge_run",
                "policy_run",
                "generation_job",
                "human_eval_job",
            )
            .filter(pk=round_id)
            .first()
        )
        if loop_round is None or loop_round.status != RoundStatus.RUNNING:
            return "not running"
        try:
            _advance(loop_round)
        except ApplicationError as exc:
            fail_round(loop_round, f"{exc.message} {exc.errors or ''}".strip())
        loop_round.save()
        return loop_round.step


def _advance(loop_round: LoopRound) -> None:  # noqa: C901 — one branch per step, in order
    loop = loop_round.loop
    project = loop.project
    if loop_round.step == RoundStep.SNAPSHOT:
        if loop_round.snapshot_id is None:
            since = None
            if loop.snapshot_scope == SnapshotScope.NEW:
                # a rejected round changed nothing: its rankings are still on-policy
                previous = (
                    loop.rounds.filter(number__lt=loop_round.number)
                    .exclude(snapshot=None)
                    .exclude(decision=Decision.REJECTED)
                    .order_by("-number")
                    .first()
                )
                since = previous.snapshot.created_at if previous else None
            loop_round.snapshot = snapshot_create(
                project=project,
                name=f"{project.slug} round {loop_round.number}",
                filters=ExportFilters(since=since),
                test_fraction=loop.test_fraction,
                seed=loop.seed,
                created_by=loop_round.started_by,
            )
        goto_step(loop_round, RoundStep.REWARD)
    if loop_round.step == RoundStep.REWARD:
        if loop_round.reward_run is None:
            spec = algorithm("reward")
            loop_round.reward_run = training_run_create(
                kind=spec.kind,
                dataset=loop_round.snapshot,
                base_model=loop_round.base_policy,
                config=spec.loop_preset | _adapter(loop) | loop.reward_config,
                created_by=loop_round.started_by,
            )
        if loop_round.judge_run is None and loop_round.snapshot.counts["rankings"]["test"]:
            loop_round.judge_run = _judge_run_create(loop_round)
        run = loop_round.reward_run
        if run.status in FAILED_JOB:
            return fail_round(loop_round, _run_failed(run, "reward"))
        if run.status != JobStatus.SUCCEEDED:
            return
        loop_round.reward_model = run.output_model
        goto_step(loop_round, RoundStep.POLICY)
    if loop_round.step == RoundStep.POLICY:
        if loop_round.policy_run is None:
            spec = algorithm(loop_round.policy_kind)
            same_kind = loop.policy_kind == loop_round.policy_kind
            loop_round.policy_run = training_run_create(
                kind=spec.kind,
                dataset=loop_round.snapshot,
                base_model=loop_round.base_policy,
                reward_model=loop_round.reward_model if spec.needs_reward_model else None,
                config=spec.loop_preset
                | _adapter(loop)
                | (loop.policy_config if same_kind else {}),
                created_by=loop_round.started_by,
            )
            return
        run = loop_round.policy_run
        if run.status in FAILED_JOB:
            return fail_round(loop_round, _run_failed(run, loop_round.policy_kind.upper()))
        if run.status != JobStatus.SUCCEEDED:
            return
        loop_round.policy_model = run.output_model  # promoted only after the verdict
        judge = loop_round.judge_run
        if judge is not None and judge.status not in FAILED_JOB:
            if judge.status != JobStatus.SUCCEEDED:
                return  # the evaluation needs the judge
            loop_round.judge_model = judge.output_model
        goto_step(loop_round, RoundStep.EVALUATE)
        return  # evaluation (and prompt selection) run on a worker
    if loop_round.step in WORKER_STEPS:
        # The step's job moves the round on when it is done; here only its failure matters.
        job = loop_round.step_jobs.filter(step=loop_round.step).order_by("-id").first()
        if job is None:
            worker_step_start(loop_round, loop_round.step)
        elif job.status in FAILED_JOB:
            reason = (job.error or "").strip().splitlines()
            detail = f": {reason[0]}" if reason else ""
            fail_round(loop_round, f"The {loop_round.step} job {job.pk} {job.status}{detail}")
        return
    if loop_round.step == RoundStep.HUMAN_EVAL:
        job = loop_round.human_eval_job
        if job.status in FAILED_JOB:
            reason = (job.error or "").strip().splitlines()
            outcome = {
                "reason": f"the A/B generation job {job.pk} {job.status}"
                + (f": {reason[0]}" if reason else "")
            }
        elif job.status != JobStatus.SUCCEEDED or not human_eval.human_eval_settled(loop_round):
            return  # the annotators are not done (the periodic sweep looks again)
        else:
            outcome = human_eval.human_win_rate(loop_round)
        record_human_evaluation(loop_round, outcome)
        conclude_evaluation(loop_round)
        if loop_round.status != RoundStatus.RUNNING:
            return
    if loop_round.step == RoundStep.GENERATE:
        job = loop_round.generation_job
        if job is None:  # nothing to generate for (see the round's `selection`)
            _finish_generation(loop_round)
            return
        if job.status in FAILED_JOB:
            reason = (job.error or "").strip().splitlines()
            return fail_round(
                loop_round,
                f"The generation job {job.pk} {job.status}" + (f": {reason[0]}" if reason else ""),
            )
        if job.status != JobStatus.SUCCEEDED:
            return
        _finish_generation(loop_round)


def _finish_generation(loop_round: LoopRound) -> None:
    if loop_round.loop.ai_feedback and loop_round.generation_job is not None:
        goto_step(loop_round, RoundStep.AI_FEEDBACK)
    else:
        goto_step(loop_round, RoundStep.DONE)


def round_run_worker_step(*, round_id: int, step: str) -> str:
    """A worker step (queue ``generation``: it loads models): compute it with the evaluation
    functions, then record the results and move on — only if the round is still at that step
    (a duplicate delivery writes nothing). Any error fails the round with its message (a step
    that raised and left the round waiting would only be noticed by the stall sweep)."""
    loop_round = LoopRound.objects.select_related(
        "loop__project",
        "snapshot",
        "reward_model",
        "judge_run",
        "judge_model",
        "policy_model",
        "base_policy",
        "generation_job",
    ).get(pk=round_id)
    if loop_round.status != RoundStatus.RUNNING or loop_round.step != step:
        return f"skipped: not at {step}"
    what = {RoundStep.EVALUATE: "Evaluation", RoundStep.AI_FEEDBACK: "AI pre-ranking"}[step]
    try:
        if step == RoundStep.EVALUATE:
            fields = _evaluate_step(loop_round)
        else:
            fields = _ai_feedback_step(loop_round)
        with transaction.atomic():
            locked = LoopRound.objects.select_for_update().get(pk=round_id)
            if locked.status != RoundStatus.RUNNING or locked.step != step:
                return f"skipped: not at {step}"  # a duplicate delivery finished it first
            for name, value in fields.items():
                setattr(locked, name, value)
            if step == RoundStep.EVALUATE:
                conclude_evaluation(locked)  # promote and generate, or wait for a decision
            else:
                goto_step(locked, RoundStep.DONE)
            locked.save()
            transaction.on_commit(lambda: dispatch_advance(round_id))
    except Exception as exc:  # noqa: BLE001 — recorded on the round
        logger.exception("%s of round %s failed", what, round_id)
        message = f"{what} failed: {type(exc).__name__}: {exc}"
        if step == RoundStep.EVALUATE:
            message += "\n\n" + traceback.format_exc()[-4000:]
        with transaction.atomic():
            locked = LoopRound.objects.select_for_update().get(pk=round_id)
            if locked.status == RoundStatus.RUNNING and locked.step == step:
                fail_round(locked, message)
        return "failed"
    return "evaluated" if step == RoundStep.EVALUATE else "ranked"


def round_step_process(job_id: int, reporter: JobReporter) -> int:
    """The worker step's job (``loop.jobs``), in the worker: run the step; the round records
    its results or its failure; the job records how it ended."""
    job = RoundStepJob.objects.get(pk=job_id)
    outcome = round_run_worker_step(round_id=job.round_id, step=job.step)
    if outcome == "failed":
        error = LoopRound.objects.values_list("error", flat=True).get(pk=job.round_id)
        reporter.finish(JobStatus.FAILED, error=error)
    else:
        reporter.finish(JobStatus.SUCCEEDED)
    return 0


def _evaluate_step(loop_round: LoopRound) -> dict[str, Any]:
    result = evaluation.evaluate(loop_round)
    prompt_ids, selection = evaluation.select_prompts(loop_round)
    verdict, reasons = round_verdict(result)
    return {
        "evaluation": result,
        "selected_prompts": prompt_ids,
        "selection": selection,
        "verdict": verdict,
        "verdict_reasons": reasons,
    }


def _judge_run_create(loop_round: LoopRound) -> TrainingRun:
    """The round's judge: a reward model like the round's, trained on the snapshot with its
    splits swapped, so on pairs neither the round's reward model nor its policy trains on. The
    held-out split is a fraction of the train split, so the judge trains for as many more epochs
    (at most ``JUDGE_EPOCH_SCALE`` times): with the round's epochs a judge of the tiny world's
    template rule reached 0.60 on the round's train pairs (length baseline 0.56), with three
    times as many 0.67, with six 0.66 (bench/RESULTS.md)."""
    loop = loop_round.loop
    spec = algorithm("reward")
    config = spec.loop_preset | _adapter(loop) | loop.reward_config
    rankings = loop_round.snapshot.counts["rankings"]
    scale = min(JUDGE_EPOCH_SCALE, rankings["train"] / max(rankings["test"], 1))
    if scale > 1 and "max_steps" not in config:
        config = config | {"num_train_epochs": spec.build_config(config).num_train_epochs * scale}
    return training_run_create(
        kind=spec.kind,
        dataset=snapshot_swap_splits(
            snapshot=loop_round.snapshot,
            name=f"{loop_round.snapshot.name} (judge: splits swapped)",
            created_by=loop_round.started_by,
        ),
        base_model=loop_round.base_policy,
        config=config,
        created_by=loop_round.started_by,
    )


def _ai_feedback_step(loop_round: LoopRound) -> dict[str, Any]:
    """This round's reward model pre-ranks every set its generation job wrote."""
    evaluation.ai_rank_sets(
        CandidateSet.objects.filter(
            members__candidate__generation_job=loop_round.generation_job
        ).distinct(),
        reward_model=loop_round.reward_model,
    )
    return {}


def rounds_sweep() -> int:
    """The periodic safety net: advance every running round (a lost ``job_finished`` signal or
    dispatch costs one sweep interval). A worker step whose worker died is the engine's to send
    again (``recover_stalled_work``); one that failed on each attempt fails its round here."""
    running = LoopRound.objects.filter(status=RoundStatus.RUNNING)
    for loop_round in running:
        round_advance(round_id=loop_round.pk)
    return len(running)


def _adapter(loop) -> dict:
    """The loop's adapter block for a round's runs (none: full fine-tuning)."""
    return {"adapter": loop.adapter} if loop.adapter is not None else {}

"""Advance a round as soon as the training run or generation job it waits on finishes."""

from __future__ import annotations

import logging

from django.db.models import Q
from django.dispatch import receiver

from training.signals import job_finished

from .models import LoopRound, RoundStatus
from .services.rounds import dispatch_advance

logger = logging.getLogger(__name__)


@receiver(job_finished)
def advance_waiting_round(sender, *, kind: str, job_id: int, **kwargs) -> None:
    rounds = LoopRound.objects.filter(status=RoundStatus.RUNNING)
    if kind == "training_run":
        rounds = rounds.filter(
            Q(reward_run_id=job_id) | Q(judge_run_id=job_id) | Q(policy_run_id=job_id)
        )
    elif kind == "generation_job":
        rounds = rounds.filter(Q(generation_job_id=job_id) | Q(human_eval_job_id=job_id))
    elif kind == "round_step":
        rounds = rounds.filter(step_jobs__id=job_id)
    else:
        return
    for round_id in rounds.values_list("id", flat=True):
        dispatch_advance(round_id)

"""A person's decision on an unconfirmed round (issue 17): promote its policy anyway, or reject
it. Until then the round waits (``awaiting_decision``) and the loop stops: no round starts beside
it, by hand or by the trigger. A round still waiting on its blind A/B sets can be decided early."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from flywheel.errors import ApplicationError

from ..models import Decision, LoopRound, RoundStatus, RoundStep
from .human_eval import human_win_rate
from .transitions import dispatch_advance, goto_step, promote_and_generate, record_human_evaluation


def round_decide(
    *, loop_round: LoopRound, promote: bool, decided_by: AbstractUser | None
) -> LoopRound:
    """Promote: the round's policy becomes the current policy and the round goes on to generate
    the next round's candidates, as a confirmed round does. Reject: nothing is promoted, the
    round ends, and the loop may start again (the next round trains on the rejected round's
    rankings too). A round that waits on its blind human evaluation may be decided too, without
    waiting for the rest of its A/B sets (the win-rate of the rankings so far is recorded, marked
    partial). 409 unless the round waits for a decision or for its human evaluation."""
    with transaction.atomic():
        locked = (
            LoopRound.objects.select_for_update(of=("self",))
            .select_related("loop__project", "policy_model", "base_policy")
            .get(pk=loop_round.pk)
        )
        waits_on_people = (
            locked.status == RoundStatus.RUNNING and locked.step == RoundStep.HUMAN_EVAL
        )
        if waits_on_people:
            # decided before every A/B set was ranked: what they said so far is kept with it
            record_human_evaluation(locked, human_win_rate(locked) | {"partial": True})
        elif locked.status != RoundStatus.AWAITING_DECISION:
            raise ApplicationError(
                f"Round {locked.number} does not wait for a decision; it {locked.status}"
                + (f" ({locked.decision})." if locked.decision else "."),
                code="nothing_to_decide",
                status=409,
            )
        if promote:
            promote_and_generate(locked, decided_by=decided_by)
            transaction.on_commit(lambda: dispatch_advance(locked.pk))
        else:
            locked.decision = Decision.REJECTED
            locked.decided_by = decided_by
            locked.decided_at = timezone.now()
            goto_step(locked, RoundStep.DONE)
        locked.save()
    return locked

"""A person's decision on an unconfirmed round (issue 17): promote its policy anyway, or reject
it. Until then the round waits (``awaiting_decision``) and the loop stops: no round starts beside
it, by hand or by the trigger."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from flywheel.errors import ApplicationError

from ..models import Decision, LoopRound, RoundStatus, RoundStep
from .transitions import dispatch_advance, goto_step, promote_and_generate


def round_decide(
    *, loop_round: LoopRound, promote: bool, decided_by: AbstractUser | None
) -> LoopRound:
    """Promote: the round's policy becomes the current policy and the round goes on to generate
    the next round's candidates, as a confirmed round does. Reject: nothing is promoted, the
    round ends, and the loop may start again (the next round trains on the rejected round's
    rankings too). 409 unless the round waits for a decision."""
    with transaction.atomic():
        locked = (
            LoopRound.objects.select_for_update(of=("self",))
            .select_related("loop__project", "policy_model", "base_policy")
            .get(pk=loop_round.pk)
        )
        if locked.status != RoundStatus.AWAITING_DECISION:
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

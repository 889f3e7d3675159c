"""When an automatic loop starts its next round: its trigger (a complete round, or N new
rankings), checked by the periodic tick."""

from __future__ import annotations

import logging

from django.db.models import Max, QuerySet

from annotation.enums import CandidateSetState, SetPurpose
from annotation.models import COUNTED, CandidateSet, Ranking
from flywheel.errors import ApplicationError

from ..models import Loop, RoundStatus, Trigger
from .rounds import round_start

logger = logging.getLogger(__name__)


def latest_round_sets(loop: Loop) -> tuple[int | None, QuerySet[CandidateSet]]:
    """The newest round's number and its candidate sets, those the round_complete trigger
    waits for: gold sets and a round's blind A/B evaluation sets are not training data and do
    not count. ``(None, <empty>)`` before any set exists."""
    sets = CandidateSet.objects.filter(
        project_id=loop.project_id, gold_tiers__isnull=True, purpose=SetPurpose.PREFERENCE
    )
    latest = sets.aggregate(r=Max("round"))["r"]
    if latest is None:
        return None, sets.none()
    return latest, sets.filter(round=latest)


def latest_round_complete(loop: Loop) -> bool:
    """The newest round's candidate sets are all complete (round_complete trigger).

    A set someone holds a live lease on is not complete, and the trigger waits for it: the
    ranking in that tab is part of the round. What keeps that wait short is elsewhere (issue
    18): the workspace gives its lease back when the annotator leaves it, `make simulate`
    takes sets that come free, and the Loop page lists what the round waits for (who holds
    which set, until when) beside "Start round now"."""
    latest, sets = latest_round_sets(loop)
    if latest is None:
        return False
    return not sets.exclude(state=CandidateSetState.COMPLETE).exists()


def rankings_since_last_round(loop: Loop) -> int:
    """New rankings that count (a reviewer's rejected or sent-back ones do not: issue 18)."""
    rankings = Ranking.objects.filter(
        COUNTED,
        candidate_set__project_id=loop.project_id,
        candidate_set__gold_tiers__isnull=True,
        candidate_set__purpose=SetPurpose.PREFERENCE,
    )
    last = loop.rounds.exclude(snapshot=None).order_by("-number").first()
    if last is not None:
        rankings = rankings.filter(created_at__gt=last.snapshot.created_at)
    return rankings.count()


def loop_should_start(loop: Loop) -> bool:
    last = loop.rounds.order_by("-number").first()
    if last is not None and last.status != RoundStatus.SUCCEEDED:
        # running; failed: a failed round waits for a human to retry it, since starting
        # another automatically would most likely fail the same way; awaiting a decision: an
        # unconfirmed round stops the loop until a human promotes or rejects its policy
        return False
    if loop.trigger == Trigger.NEW_RANKINGS:
        return rankings_since_last_round(loop) >= max(1, loop.min_new_rankings)
    # round_complete: the newest sets are all ranked, and they are newer than the last round's
    # snapshot (otherwise this round's data was already used)
    if not latest_round_complete(loop):
        return False
    return rankings_since_last_round(loop) > 0


def loop_tick() -> list[int]:
    """Start a round on every automatic loop whose trigger fired; returns the new rounds' ids."""
    started = []
    for loop in Loop.objects.filter(auto=True).select_related("project"):
        try:
            if loop_should_start(loop):
                started.append(round_start(project=loop.project).pk)
        except ApplicationError as exc:
            logger.info("loop %s did not start a round: %s", loop.pk, exc.message)
    return started

"""Handing out candidate sets: next task, skip, lease expiry.

Correctness under concurrency (issue #2): a set with overlap N never has more than N live leases
plus submissions. Every increase of that count happens while holding the set's row lock
(``SELECT … FOR UPDATE SKIP LOCKED``), and the count is re-read after the lock is taken, because
under READ COMMITTED the candidate query's snapshot may predate a lease committed a moment ago.
Lock order everywhere: annotator row → candidate set row → assignment row.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from flywheel.errors import ApplicationError

from ..enums import AssignmentState, CandidateSetState
from ..models import Assignment, CandidateSet, CandidateSetMember, Project

# How many full-on-recount sets one call may pass over before giving up (they are rare: each is
# a set that filled up between the candidate query and the lock).
MAX_PASSED_OVER = 50
_system_random = random.SystemRandom()
_shuffle = _system_random.shuffle
_random = _system_random.random


def occupying(now: datetime) -> Q:
    """Assignments that hold one of a set's N slots: submitted, or leased and not expired."""
    return Q(state=AssignmentState.SUBMITTED) | Q(
        state=AssignmentState.LEASED, lease_expires_at__gt=now
    )


def _occupied_count(now: datetime) -> Subquery:
    return Subquery(
        Assignment.objects.filter(occupying(now), candidate_set=OuterRef("pk"))
        .order_by()
        .values("candidate_set")
        .annotate(n=Count("*"))
        .values("n")
    )


def _open_sets_for(project: Project, annotator: AbstractUser, now: datetime) -> QuerySet:
    finished_by_me = Assignment.objects.filter(
        candidate_set=OuterRef("pk"),
        annotator=annotator,
        state__in=[AssignmentState.SUBMITTED, AssignmentState.SKIPPED],
    )
    return (
        CandidateSet.objects.filter(
            project=project, state=CandidateSetState.OPEN, gold_tiers__isnull=True
        )
        .filter(~Exists(finished_by_me))
        .annotate(occupied=Coalesce(_occupied_count(now), 0))
        .filter(occupied__lt=project.annotations_per_set)
        # Fill sets that others have started first: finished sets are worth more than many
        # half-annotated ones.
        .order_by("-occupied", "id")
    )


def _unseen_gold_set(project: Project, annotator: AbstractUser) -> CandidateSet | None:
    """A gold set this annotator has not submitted or skipped (an expired lease of theirs is
    renewed). Gold sets have no overlap limit: every annotator may see each once, so no row lock
    is needed (the annotator's own row lock already serialises their calls, and the unique
    constraint forbids a second assignment)."""
    seen = Assignment.objects.filter(
        candidate_set=OuterRef("pk"),
        annotator=annotator,
        state__in=[AssignmentState.SUBMITTED, AssignmentState.SKIPPED],
    )
    return (
        CandidateSet.objects.filter(project=project, gold_tiers__isnull=False)
        .exclude(state=CandidateSetState.RETIRED)
        .filter(~Exists(seen))
        .order_by("?")
        .first()
    )


def live_lease(*, project: Project, annotator: AbstractUser, now: datetime) -> Assignment | None:
    return (
        Assignment.objects.filter(
            annotator=annotator,
            candidate_set__project=project,
            state=AssignmentState.LEASED,
            lease_expires_at__gt=now,
        )
        .order_by("id")
        .first()
    )


@transaction.atomic
def assignment_next(*, project: Project, annotator: AbstractUser) -> Assignment | None:
    """The caller's live lease in this project if they have one (a reload resumes it), else a
    new lease on a set that needs annotations, that they have not submitted or skipped, and that
    has a free slot. ``None`` when there is nothing to do."""
    now = timezone.now()
    # Serialise one annotator's calls, so two tabs never lease two sets at once.
    get_user_model().objects.select_for_update().filter(pk=annotator.pk).exists()
    current = live_lease(project=project, annotator=annotator, now=now)
    if current is not None:
        return current
    if project.gold_rate > 0 and _random() < project.gold_rate:
        gold = _unseen_gold_set(project, annotator)
        if gold is not None and _open_sets_for(project, annotator, now).exists():
            return _lease(gold, annotator, project.lease_seconds, now)

    passed_over: list[int] = []
    for _ in range(MAX_PASSED_OVER):
        candidate_set = (
            _open_sets_for(project, annotator, now)
            .exclude(pk__in=passed_over)
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if candidate_set is None:
            return None
        occupied = Assignment.objects.filter(occupying(now), candidate_set=candidate_set).count()
        if occupied >= project.annotations_per_set:
            passed_over.append(candidate_set.pk)
            continue
        return _lease(candidate_set, annotator, project.lease_seconds, now)
    return None


def _lease(
    candidate_set: CandidateSet, annotator: AbstractUser, lease_seconds: int, now: datetime
) -> Assignment:
    expires = now + timedelta(seconds=lease_seconds)
    previous = (
        Assignment.objects.select_for_update()
        .filter(candidate_set=candidate_set, annotator=annotator)
        .first()
    )
    if previous is not None:  # their own lease that ran out: renew it, same display order
        previous.state = AssignmentState.LEASED
        previous.leased_at, previous.lease_expires_at = now, expires
        previous.save(update_fields=["state", "leased_at", "lease_expires_at"])
        return previous
    order = list(
        CandidateSetMember.objects.filter(candidate_set=candidate_set)
        .order_by("position")
        .values_list("candidate_id", flat=True)
    )
    _shuffle(order)
    return Assignment.objects.create(
        candidate_set=candidate_set,
        annotator=annotator,
        display_order=order,
        leased_at=now,
        lease_expires_at=expires,
    )


def lock_own_assignment(*, assignment_id: int, annotator: AbstractUser) -> Assignment:
    """Lock the caller's assignment (set row first, then the assignment: the module's lock
    order). Someone else's assignment is reported as missing, not as forbidden."""
    set_id = (
        Assignment.objects.filter(pk=assignment_id, annotator=annotator)
        .values_list("candidate_set_id", flat=True)
        .first()
    )
    if set_id is None:
        raise ApplicationError("No such assignment.", code="not_found", status=404)
    CandidateSet.objects.select_for_update().filter(pk=set_id).exists()
    return (
        Assignment.objects.select_for_update()
        .select_related("candidate_set__project")
        .get(pk=assignment_id)
    )


@transaction.atomic
def assignment_skip(*, assignment_id: int, annotator: AbstractUser) -> Assignment:
    """Give the set back: its slot is freed for other annotators, and it is never handed to this
    annotator again. Skipping twice is harmless; skipping a submitted set is a conflict."""
    assignment = lock_own_assignment(assignment_id=assignment_id, annotator=annotator)
    if assignment.state == AssignmentState.SUBMITTED:
        raise ApplicationError(
            "This set was already submitted; it cannot be skipped.", code="conflict", status=409
        )
    if assignment.state != AssignmentState.SKIPPED:
        assignment.state = AssignmentState.SKIPPED
        assignment.finished_at = timezone.now()
        assignment.save(update_fields=["state", "finished_at"])
    return assignment


def assignment_release_expired(*, now: datetime | None = None) -> int:
    """Mark leases past their expiry as expired. Slots are already free at expiry (every count
    compares against the clock); this keeps the table honest for dashboards."""
    now = now or timezone.now()
    return Assignment.objects.filter(
        state=AssignmentState.LEASED, lease_expires_at__lte=now
    ).update(state=AssignmentState.EXPIRED)

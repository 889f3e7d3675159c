"""Handing out candidate sets: next task, skip, lease expiry.

Correctness under concurrency (issue #2): a set with overlap N never has more than N live leases
plus submissions. Every increase of that count happens while holding the set's row lock, and the
count is re-read after the lock is taken, because under READ COMMITTED the candidate query's
snapshot may predate a lease committed a moment ago.

Next-task first takes the best set whose row no one else holds (``SELECT … FOR UPDATE SKIP
LOCKED``), so a hundred annotators asking at once spread over the open sets instead of queueing
on one row. When that pass finds nothing, the sets still open to the caller may only be locked at
this instant (someone's submit or lease on them is in flight), so "nothing left" would be wrong
(issue #7): a second pass waits for the lock on one such set (plain ``FOR UPDATE``) and re-counts.
It waits holding no other set's lock (locks of sets passed over are rolled back to a savepoint),
so waits cannot form a cycle.

Lock order everywhere: annotator row → candidate set row → assignment row. The annotator row is
taken ``FOR NO KEY UPDATE``: that serialises one annotator's next-task calls without blocking the
``FOR KEY SHARE`` that PostgreSQL's foreign-key check takes on the user row when a submit of the
same annotator inserts its ranking.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from flywheel.errors import ApplicationError

from ..enums import AssignmentState, CandidateSetState
from ..models import Assignment, CandidateSet, CandidateSetMember, Project

# How many full-on-recount sets one call may pass over before giving up (they are rare: each is
# a set that filled up between the candidate query and the lock).
MAX_PASSED_OVER = 50
# How many of the oldest open sets next-task ranks by fullness (``_best_open_set``): well above
# the number of next-task calls a server runs at once, which SKIP LOCKED spreads over it.
CANDIDATE_WINDOW = 100
_system_random = random.SystemRandom()
_shuffle = _system_random.shuffle
_random = _system_random.random


def occupying(now: datetime) -> Q:
    """Assignments that hold one of a set's N slots: submitted, or leased and not expired."""
    return Q(state=AssignmentState.SUBMITTED) | Q(
        state=AssignmentState.LEASED, lease_expires_at__gt=now
    )


# The sets annotator %(annotator)s may lease, as a WHERE clause on the set table aliased {s}: open,
# not gold, not passed over in this call, not submitted or skipped by them, with a free slot.
_OPEN_TO_ANNOTATOR = """
    {s}.project_id = %(project)s AND {s}.state = %(open)s AND {s}.gold_tiers IS NULL
    AND NOT ({s}.id = ANY(%(passed_over)s))
    AND NOT EXISTS (
        SELECT 1 FROM annotation_assignment mine
        WHERE mine.candidate_set_id = {s}.id AND mine.annotator_id = %(annotator)s
          AND mine.state IN (%(submitted)s, %(skipped)s))
    AND {s}_occupied.n < %(overlap)s
"""
# The slots a set's assignments hold now (``occupying``), as a lateral join named {s}_occupied.
_OCCUPIED = """
    CROSS JOIN LATERAL (
        SELECT count(*) AS n FROM annotation_assignment a
        WHERE a.candidate_set_id = {s}.id
          AND (a.state = %(submitted)s OR (a.state = %(leased)s AND a.lease_expires_at > %(now)s))
    ) {s}_occupied
"""
# The best open set: the fullest, then the oldest (fill sets that others have started first:
# finished sets are worth more than many half-annotated ones). Only the CANDIDATE_WINDOW oldest
# open sets are ranked, so a call costs the same whatever the project's backlog: counting the
# slots of every open set made next-task take 20 ms per 5,000 open sets (issue #7). Sets are
# started oldest first, so the ones others have started are at the front of the window. The
# bound on ``s.id`` (the window's last set) is what lets PostgreSQL stop its index scan there.
# Written in SQL because the ORM spent longer building and compiling this query than PostgreSQL
# spent running it (13 ms against 3 ms on the 2-core CI machine).
_BEST_OPEN_SET_SQL = (
    "SELECT s.id FROM annotation_candidateset s"
    + _OCCUPIED.format(s="s")
    + "WHERE"
    + _OPEN_TO_ANNOTATOR.format(s="s")
    + "  AND s.id <= COALESCE((SELECT w.id FROM annotation_candidateset w"
    + _OCCUPIED.format(s="w")
    + "WHERE"
    + _OPEN_TO_ANNOTATOR.format(s="w")
    + "ORDER BY w.id OFFSET %(window_last)s LIMIT 1), %(max_id)s)\n"
    + "ORDER BY s_occupied.n DESC, s.id LIMIT 1"
)


def _best_open_set(
    project: Project,
    annotator: AbstractUser,
    now: datetime,
    *,
    passed_over: Sequence[int] = (),
    skip_locked: bool = False,
) -> int | None:
    """The id of the best set the annotator may lease now (see ``_BEST_OPEN_SET_SQL``); with
    ``skip_locked``, the best one whose row no one else holds, locked."""
    params = {
        "project": project.pk,
        "annotator": annotator.pk,
        "overlap": project.annotations_per_set,
        "passed_over": list(passed_over),
        "now": now,
        "open": CandidateSetState.OPEN.value,
        "submitted": AssignmentState.SUBMITTED.value,
        "skipped": AssignmentState.SKIPPED.value,
        "leased": AssignmentState.LEASED.value,
        "window_last": CANDIDATE_WINDOW - 1,
        "max_id": 2**63 - 1,
    }
    sql = _BEST_OPEN_SET_SQL + (" FOR UPDATE OF s SKIP LOCKED" if skip_locked else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


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
    get_user_model().objects.select_for_update(no_key=True).filter(pk=annotator.pk).exists()
    current = live_lease(project=project, annotator=annotator, now=now)
    if current is not None:
        return current
    if project.gold_rate > 0 and _random() < project.gold_rate:
        gold = _unseen_gold_set(project, annotator)
        if gold is not None and _best_open_set(project, annotator, now) is not None:
            return _lease(gold.pk, annotator, project.lease_seconds, now)

    passed_over: list[int] = []
    # Taken before any set lock, so that the waiting pass can drop the locks of sets passed
    # over here (a savepoint that is never rolled back costs nothing at commit).
    before_set_locks = transaction.savepoint()
    while len(passed_over) < MAX_PASSED_OVER:
        set_id = _best_open_set(project, annotator, now, passed_over=passed_over, skip_locked=True)
        if set_id is None:
            break
        if _has_free_slot(set_id, project, now):
            return _lease(set_id, annotator, project.lease_seconds, now)
        passed_over.append(set_id)
    else:
        return None

    if passed_over:
        transaction.savepoint_rollback(before_set_locks)
    while len(passed_over) < MAX_PASSED_OVER:
        # Every set still open to the caller is locked by another transaction right now (or
        # there is none): wait for one of those locks rather than answer "nothing left".
        set_id = _best_open_set(project, annotator, now, passed_over=passed_over)
        if set_id is None:
            return None
        attempt = transaction.savepoint()
        # PostgreSQL re-checks ``state`` on the row version it waited for: a set completed or
        # retired meanwhile is not locked and not returned.
        still_open = (
            CandidateSet.objects.select_for_update()
            .filter(pk=set_id, state=CandidateSetState.OPEN)
            .exists()
        )
        if still_open and _has_free_slot(set_id, project, now):
            return _lease(set_id, annotator, project.lease_seconds, now)
        transaction.savepoint_rollback(attempt)
        passed_over.append(set_id)
    return None


def _has_free_slot(set_id: int, project: Project, now: datetime) -> bool:
    """Re-count the set's occupied slots; the caller holds its row lock. A new statement under
    READ COMMITTED sees every lease and submission committed before the lock was granted."""
    occupied = Assignment.objects.filter(occupying(now), candidate_set_id=set_id).count()
    return occupied < project.annotations_per_set


def _lease(set_id: int, annotator: AbstractUser, lease_seconds: int, now: datetime) -> Assignment:
    expires = now + timedelta(seconds=lease_seconds)
    previous = (
        Assignment.objects.select_for_update()
        .filter(candidate_set_id=set_id, annotator=annotator)
        .first()
    )
    if previous is not None:  # their own lease that ran out: renew it, same display order
        previous.state = AssignmentState.LEASED
        previous.leased_at, previous.lease_expires_at = now, expires
        previous.save(update_fields=["state", "leased_at", "lease_expires_at"])
        return previous
    order = list(
        CandidateSetMember.objects.filter(candidate_set_id=set_id)
        .order_by("position")
        .values_list("candidate_id", flat=True)
    )
    _shuffle(order)
    return Assignment.objects.create(
        candidate_set_id=set_id,
        annotator=annotator,
        display_order=order,
        leased_at=now,
        lease_expires_at=expires,
    )


def lock_own_assignment(*, assignment_id: int, annotator: AbstractUser) -> Assignment:
    """Lock the caller's assignment (set row first, then the assignment: the module's lock
    order). Someone else's assignment is reported as missing, not as forbidden."""
    own_set = Assignment.objects.filter(pk=assignment_id, annotator=annotator).values(
        "candidate_set_id"
    )
    if not CandidateSet.objects.select_for_update().filter(pk=Subquery(own_set)).exists():
        raise ApplicationError("No such assignment.", code="not_found", status=404)
    return (
        # ``of``: without it PostgreSQL also locks every joined row, the project's included,
        # and all submits and skips of a project queued on that one row (issue #7).
        Assignment.objects.select_for_update(of=("self",))
        .select_related("candidate_set__project", "candidate_set__prompt")
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

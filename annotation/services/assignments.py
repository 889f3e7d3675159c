"""Handing out candidate sets: next task, skip, lease expiry.

Correctness under concurrency (issue #2): a set with overlap N never has more than N live leases
plus submissions. Every increase of that count happens while holding the set's row lock, and the
count is re-read after the lock is taken, because under READ COMMITTED the candidate query's
snapshot may predate a lease committed a moment ago.

Next-task runs in the database, as one call of ``flywheel_next_task`` (sql/next_task.sql holds its
SQL; issue #7: as separate statements it cost six round trips more). It first takes the best set
whose row no one else holds (``SELECT … FOR UPDATE SKIP LOCKED``), so a hundred annotators asking
at once spread over the open sets instead of queueing on one row. The best set is the fullest,
then the oldest, of the ``FLYWHEEL_NEXT_TASK_WINDOW`` oldest sets open to the caller (a setting:
four times the calls the web tier runs at once, at least 100): finished sets are worth
more than many half-annotated ones, and ranking only a window makes a call cost the same
whatever the backlog (counting the slots of every open set took 20 ms per 5,000 open sets).
When that pass finds nothing, the sets still open to the caller may only be locked at this
instant (someone's submit or lease on them is in flight), so "nothing left" would be wrong: the
call waits for the lock on one such set (plain ``FOR UPDATE``) and re-counts. It waits only
while holding no other set's lock (a call that locked sets it passed over answers "wait", and
next-task calls again in a new transaction), so waits cannot form a cycle.

Lock order everywhere: annotator row → candidate set row → assignment row. The annotator row is
taken ``FOR NO KEY UPDATE``: that serialises one annotator's next-task calls without blocking the
``FOR KEY SHARE`` that PostgreSQL's foreign-key check takes on the user row when a submit of the
same annotator inserts its ranking.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from flywheel.errors import ApplicationError
from flywheel.sql import Statements, fetch_one

from ..enums import AssignmentState, ReviewState
from ..models import Assignment, CandidateSet, Ranking

# How many full-on-recount sets one call may pass over before giving up (they are rare: each is
# a set that filled up between the candidate query and the lock).
MAX_PASSED_OVER = 50
_random = random.SystemRandom().random


# Next-task is one call of the database function ``flywheel_next_task`` (``next_task.sql`` holds
# its SQL and the steps above): a round trip, run in autocommit as a transaction of its own.
_NEXT_TASK = Statements(
    "SELECT * FROM flywheel_next_task(%(project)s, %(annotator)s, %(now)s, %(gold_draw)s, "
    "%(passed_over)s::bigint[], %(window)s, %(max_passed_over)s)"
)


@dataclass(frozen=True)
class NextTask:
    """A lease and what the annotator sees: the conversation, the candidates' texts by id, and
    the set's AI suggestion where the project shows one, and the reviewer's comment when the set
    was sent back to the annotator."""

    assignment: Assignment
    project_id: int
    messages: list
    texts: dict[str, str]
    suggestion: dict | None
    review_comment: str | None = None


def task_next(*, project_id: int, annotator: AbstractUser) -> NextTask | None:
    """The caller's live lease in this project if they have one (a reload resumes it), else a
    new lease on a set that needs annotations, that they have not submitted or skipped, and that
    has a free slot. ``None`` when there is nothing to do; 404 when there is no such project.

    Called outside a transaction block (as the API view is), each call of the function is a
    transaction of its own, so a "wait" answer's locks are gone before the next call; inside
    one they are kept, and the next call may wait holding them."""
    now = timezone.now()
    params = {
        "project": project_id,
        "annotator": annotator.pk,
        "now": now,
        "gold_draw": _random(),
        "window": settings.FLYWHEEL_NEXT_TASK_WINDOW,
        "max_passed_over": MAX_PASSED_OVER,
        "passed_over": [],
    }
    while True:
        (status, passed_over, assignment_id, set_id, order, expires, messages, show_suggestion,
         suggestion, texts, review_comment) = fetch_one(_NEXT_TASK, params)  # fmt: skip
        if status == "leased":
            break
        if status == "no_project":
            raise ApplicationError("No such project.", code="not_found", status=404)
        if status == "none":
            return None
        params["passed_over"] = passed_over  # "wait": again, holding no set's lock
    assignment = Assignment(
        id=assignment_id,
        candidate_set_id=set_id,
        annotator=annotator,
        display_order=json.loads(order),
        state=AssignmentState.LEASED,
        lease_expires_at=expires,
    )
    # jsonb arrives as text (Django's PostgreSQL backend leaves parsing to the fields).
    shown = json.loads(suggestion)["tiers"] if show_suggestion and suggestion else None
    return NextTask(
        assignment,
        project_id,
        json.loads(messages),
        json.loads(texts),
        None if shown is None else {"ranking": shown},
        review_comment,
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


@transaction.atomic
def assignment_release(*, assignment_id: int, annotator: AbstractUser) -> Assignment:
    """Give back a lease the annotator is no longer looking at (they left the workspace): its
    slot is free at once, and, unlike a skip, the set may come back to them later (issue 18: an
    idle tab held the last set of a round for its whole lease). A set a reviewer sent back
    stays theirs (returned), to come back first. Releasing a lease that ended, was skipped or
    was submitted changes nothing."""
    assignment = lock_own_assignment(assignment_id=assignment_id, annotator=annotator)
    if assignment.state == AssignmentState.LEASED:
        now = timezone.now()
        assignment.state = (
            AssignmentState.RETURNED
            if assignment.rankings.filter(review_state=ReviewState.SENT_BACK).exists()
            else AssignmentState.EXPIRED
        )
        assignment.lease_expires_at = min(assignment.lease_expires_at, now)
        assignment.save(update_fields=["state", "lease_expires_at"])
    return assignment


def assignment_release_expired(*, now: datetime | None = None) -> int:
    """Mark leases past their expiry as expired. Slots are already free at expiry (every count
    compares against the clock); this keeps the table honest for dashboards. A lapsed lease of
    a set a reviewer sent back returns to 'returned': the set stays its annotator's."""
    now = now or timezone.now()
    lapsed = Assignment.objects.filter(state=AssignmentState.LEASED, lease_expires_at__lte=now)
    sent_back = Exists(
        Ranking.objects.filter(assignment=OuterRef("pk"), review_state=ReviewState.SENT_BACK)
    )
    returned = lapsed.filter(sent_back).update(state=AssignmentState.RETURNED)
    return returned + lapsed.update(state=AssignmentState.EXPIRED)

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

import json
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from flywheel.errors import ApplicationError
from flywheel.sql import Statements, fetch_one

from ..enums import AssignmentState, CandidateSetState
from ..models import Assignment, CandidateSet, Project

# How many full-on-recount sets one call may pass over before giving up (they are rare: each is
# a set that filled up between the candidate query and the lock).
MAX_PASSED_OVER = 50
# How many of the oldest open sets next-task ranks by fullness (``_best_open_set``): well above
# the number of next-task calls a server runs at once, which SKIP LOCKED spreads over it.
CANDIDATE_WINDOW = 100
_random = random.SystemRandom().random


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
# window is read in id order through ``set_project_state_idx``, so PostgreSQL stops after it;
# the outer query ranks it and, with SKIP LOCKED, locks the first set no one else holds (its
# ``state`` is re-checked on the row version it locks). Written in SQL because the ORM spent
# longer building and compiling this query than PostgreSQL spent running it.
_BEST_OPEN_SET_SQL = (
    "SELECT s.id FROM annotation_candidateset s"
    + _OCCUPIED.format(s="s")
    + "WHERE s.state = %(open)s AND s.id = ANY(ARRAY("
    + "SELECT w.id FROM annotation_candidateset w"
    + _OCCUPIED.format(s="w")
    + "WHERE"
    + _OPEN_TO_ANNOTATOR.format(s="w")
    + "ORDER BY w.id LIMIT %(window)s))\n"
    + "ORDER BY s_occupied.n DESC, s.id LIMIT 1"
)

_BEST_OPEN_SET = Statements(_BEST_OPEN_SET_SQL, prepare=False)
_BEST_UNLOCKED_SET = Statements(_BEST_OPEN_SET_SQL + " FOR UPDATE OF s SKIP LOCKED", prepare=False)


def _best_open_set(
    project: Project,
    annotator: AbstractUser,
    now: datetime,
    *,
    passed_over: Sequence[int] = (),
    skip_locked: bool = False,
    savepoint: str | None = None,
) -> int | None:
    """The id of the best set the annotator may lease now (see ``_BEST_OPEN_SET_SQL``); with
    ``skip_locked``, the best one whose row no one else holds, locked. With ``savepoint``, that
    savepoint is taken first, in the same round trip."""
    params = _params(
        project,
        annotator,
        now,
        overlap=project.annotations_per_set,
        passed_over=list(passed_over),
        window=CANDIDATE_WINDOW,
    )
    statement = _BEST_UNLOCKED_SET if skip_locked else _BEST_OPEN_SET
    row = fetch_one(statement, params, before=f"SAVEPOINT {savepoint};" if savepoint else "")
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


# Next-task's hot path is written in SQL, prepared per connection and sent a few statements per
# round trip (``flywheel.sql``, issue #7).

# Serialise one annotator's calls (so two tabs never lease two sets at once), then read their
# live lease in this project, if any: a reload resumes it.
_LIVE_LEASE_SQL = """
SELECT a.id, a.candidate_set_id, a.display_order, a.leased_at, a.lease_expires_at
FROM annotation_assignment a JOIN annotation_candidateset s ON s.id = a.candidate_set_id
WHERE a.annotator_id = %(annotator)s AND s.project_id = %(project)s
  AND a.state = %(leased)s AND a.lease_expires_at > %(now)s
ORDER BY a.id LIMIT 1
"""


@cache
def _lock_annotator_and_live_lease() -> Statements:
    user_table = get_user_model()._meta.db_table
    return Statements(
        f"SELECT 1 FROM {user_table} WHERE id = %(annotator)s FOR NO KEY UPDATE", _LIVE_LEASE_SQL
    )


# Lease a set (the caller holds its row lock, or it is a gold set): insert the assignment with the
# set's candidates in a random display order, or renew the caller's own earlier lease of it,
# which ran out, keeping its order. With %(overlap)s, only when the set's occupied slots,
# re-counted by this statement (it starts after the lock was granted), leave one free.
_LEASE = Statements(
    """
INSERT INTO annotation_assignment AS a
    (candidate_set_id, annotator_id, display_order, state, leased_at, lease_expires_at)
SELECT %(set)s, %(annotator)s,
       (SELECT jsonb_agg(m.candidate_id ORDER BY random()) FROM annotation_candidatesetmember m
        WHERE m.candidate_set_id = %(set)s),
       %(leased)s, %(now)s, %(expires)s
WHERE %(overlap)s IS NULL OR %(overlap)s > (
    SELECT count(*) FROM annotation_assignment o
    WHERE o.candidate_set_id = %(set)s
      AND (o.state = %(submitted)s OR (o.state = %(leased)s AND o.lease_expires_at > %(now)s)))
ON CONFLICT (candidate_set_id, annotator_id) DO UPDATE
    SET state = EXCLUDED.state, leased_at = EXCLUDED.leased_at,
        lease_expires_at = EXCLUDED.lease_expires_at
    WHERE a.state NOT IN (%(submitted)s, %(skipped)s)
RETURNING a.id, a.display_order
""",
    types={"overlap": "bigint", "leased": "varchar", "submitted": "varchar"},
)
# A savepoint taken before any set lock, so that the waiting pass can drop the locks of sets
# passed over before it; sent with the first set query (a savepoint never rolled back costs
# nothing at commit).
_BEFORE_SET_LOCKS = "fw_next_task_before_set_locks"


# The states the statements compare against, as parameters.
_STATES = {
    "open": CandidateSetState.OPEN.value,
    "submitted": AssignmentState.SUBMITTED.value,
    "skipped": AssignmentState.SKIPPED.value,
    "leased": AssignmentState.LEASED.value,
}


def _params(project: Project, annotator: AbstractUser, now: datetime, **more) -> dict:
    return {"project": project.pk, "annotator": annotator.pk, "now": now, **_STATES, **more}


def _assignment(row: tuple, annotator: AbstractUser) -> Assignment:
    assignment_id, set_id, order, leased_at, expires = row
    return Assignment(
        id=assignment_id,
        candidate_set_id=set_id,
        annotator=annotator,
        display_order=json.loads(order) if isinstance(order, str) else order,
        state=AssignmentState.LEASED,
        leased_at=leased_at,
        lease_expires_at=expires,
    )


@transaction.atomic
def assignment_next(*, project: Project, annotator: AbstractUser) -> Assignment | None:
    """The caller's live lease in this project if they have one (a reload resumes it), else a
    new lease on a set that needs annotations, that they have not submitted or skipped, and that
    has a free slot. ``None`` when there is nothing to do."""
    now = timezone.now()
    current = fetch_one(_lock_annotator_and_live_lease(), _params(project, annotator, now))
    if current is not None:
        return _assignment(current, annotator)
    if project.gold_rate > 0 and _random() < project.gold_rate:
        gold = _unseen_gold_set(project, annotator)
        if gold is not None and _best_open_set(project, annotator, now) is not None:
            return _lease(gold.pk, annotator, project.lease_seconds, now)

    passed_over: list[int] = []
    while len(passed_over) < MAX_PASSED_OVER:
        set_id = _best_open_set(
            project,
            annotator,
            now,
            passed_over=passed_over,
            skip_locked=True,
            savepoint=_BEFORE_SET_LOCKS if not passed_over else None,
        )
        if set_id is None:
            break
        leased = _lease(
            set_id, annotator, project.lease_seconds, now, overlap=project.annotations_per_set
        )
        if leased is not None:
            return leased
        passed_over.append(set_id)  # it filled up since the set query: keep its lock, go on
    else:
        return None

    with connection.cursor() as cursor:
        if passed_over:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_BEFORE_SET_LOCKS}")
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
        if still_open:
            leased = _lease(
                set_id, annotator, project.lease_seconds, now, overlap=project.annotations_per_set
            )
            if leased is not None:
                return leased
        transaction.savepoint_rollback(attempt)
        passed_over.append(set_id)
    return None


def _lease(
    set_id: int,
    annotator: AbstractUser,
    lease_seconds: int,
    now: datetime,
    *,
    overlap: int | None = None,
) -> Assignment | None:
    """Lease the set to the annotator (``_LEASE``). With ``overlap``, ``None`` when the
    set's slots are all taken."""
    expires = now + timedelta(seconds=lease_seconds)
    params = {
        "set": set_id,
        "annotator": annotator.pk,
        "now": now,
        "expires": expires,
        "overlap": overlap,
        **_STATES,
    }
    row = fetch_one(_LEASE, params)
    if row is None:
        return None
    return _assignment((row[0], set_id, row[1], now, expires), annotator)


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

"""Submitting a ranking.

Idempotency: with an ``Idempotency-Key`` header, a retried submit (same key, same request)
returns the ranking written the first time and writes nothing; the same key with a different
request is a conflict. Concurrent duplicates serialise on the assignment's row lock, and a unique
constraint on (annotator, key) backs that up.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from flywheel.errors import ApplicationError
from flywheel.sql import Statements, fetch_one

from ..enums import AssignmentState, CandidateSetState
from ..models import Assignment, Project, Ranking
from ..preference.qc import submitted_in_display_order, too_fast
from ..validation import (
    MAX_INTERACTION_KEYS,
    MAX_RATIONALE_CHARS,
    MAX_TIME_SPENT_SECONDS,
    Errors,
    check_ranking,
)

MAX_IDEMPOTENCY_KEY_CHARS = 200
QC_DISPLAY_ORDER = "display_order_no_interaction"
QC_TOO_FAST = "too_fast"


@dataclass(frozen=True)
class Submission:
    """What the annotator sent, as parsed JSON (validated by ``ranking_submit``)."""

    ranking: Any = None
    not_rankable: bool = False
    flags: Any = None
    ratings: Any = None
    rationale: str = ""
    time_spent_seconds: float | None = None
    interaction: Any = None

    def fingerprint(self) -> str:
        body = json.dumps(self.__dict__, sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


def _check_extras(submission: Submission, errors: Errors) -> None:
    if len(submission.rationale) > MAX_RATIONALE_CHARS:
        errors.setdefault("rationale", []).append(f"Longer than {MAX_RATIONALE_CHARS} characters.")
    spent = submission.time_spent_seconds
    if spent is not None and not 0 <= spent <= MAX_TIME_SPENT_SECONDS:
        errors.setdefault("time_spent_seconds", []).append(
            f"Must be between 0 and {MAX_TIME_SPENT_SECONDS}."
        )
    interaction = submission.interaction
    if interaction is not None and (
        not isinstance(interaction, dict) or len(interaction) > MAX_INTERACTION_KEYS
    ):
        errors.setdefault("interaction", []).append(
            f"Must be an object with at most {MAX_INTERACTION_KEYS} keys."
        )


def ranking_submit(
    *,
    assignment_id: int,
    annotator: AbstractUser,
    submission: Submission,
    idempotency_key: str | None = None,
) -> tuple[Ranking, bool]:
    """Store the caller's ranking for their assignment. Returns ``(ranking, created)``;
    ``created`` is False for an idempotent replay."""
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_CHARS:
        raise ApplicationError(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters.",
            field="Idempotency-Key",
        )
    try:
        with transaction.atomic():
            return _submit(assignment_id, annotator, submission, idempotency_key)
    except IntegrityError as exc:
        # Only reachable when a constraint catches a race the locks did not (same key used for
        # two assignments at the same instant).
        raise ApplicationError(
            "This ranking conflicts with one stored at the same moment; reload and retry.",
            code="conflict",
            status=409,
        ) from exc


# The submit's reads and writes, in SQL (issue #7: each ORM query was a round trip and cost more
# CPU to build than PostgreSQL spent running it). Two statements per round trip where the
# second must see the first's lock: under READ COMMITTED each statement of a round trip still
# takes its own snapshot, after the one before it finished.
#
# Lock the caller's set (the module's lock order: set, then assignment; someone else's
# assignment locks nothing), then read and lock the assignment with all that validation and QC
# need: the project's rules, how much text the annotator was shown, the set's rankings so far,
# and the caller's earlier ranking with this Idempotency-Key.
_LOCK_AND_READ = Statements(
    """
SELECT 1 FROM annotation_candidateset WHERE id = (
    SELECT candidate_set_id FROM annotation_assignment
    WHERE id = %(assignment)s AND annotator_id = %(annotator)s)
FOR UPDATE""",
    """
SELECT a.candidate_set_id, a.display_order, a.state, a.lease_expires_at,
       s.state, s.gold_tiers IS NOT NULL, p.id, p.annotations_per_set, p.allow_ties, p.criteria,
       (SELECT count(*) FROM annotation_ranking r WHERE r.candidate_set_id = s.id),
       (SELECT coalesce(sum(length(c.text)), 0) FROM annotation_candidatesetmember m
        JOIN annotation_candidate c ON c.id = m.candidate_id
        WHERE m.candidate_set_id = s.id)
       + (SELECT coalesce(sum(length(message->>'content')), 0)
          FROM jsonb_array_elements(pr.messages) message),
       (SELECT r.id FROM annotation_ranking r
        WHERE r.annotator_id = %(annotator)s AND r.idempotency_key = %(key)s)
FROM annotation_assignment a
JOIN annotation_candidateset s ON s.id = a.candidate_set_id
JOIN annotation_project p ON p.id = s.project_id
JOIN annotation_prompt pr ON pr.id = s.prompt_id
WHERE a.id = %(assignment)s AND a.annotator_id = %(annotator)s
FOR UPDATE OF a
""",
)
# Store the ranking, mark the assignment submitted and, when this ranking is the set's last one
# (worked out under the set's lock), complete the set. Every column is written here, so a new
# column of Ranking needs a database default or a place in this statement.
_WRITE = Statements(
    """
WITH ranking AS (
    INSERT INTO annotation_ranking
        (assignment_id, candidate_set_id, annotator_id, tiers, not_rankable, flags, ratings,
         rationale, time_spent_seconds, interaction, qc_flags, idempotency_key,
         request_fingerprint, created_at)
    VALUES (%(assignment)s, %(set)s, %(annotator)s, %(tiers)s, %(not_rankable)s, %(flags)s,
            %(ratings)s, %(rationale)s, %(time_spent_seconds)s, %(interaction)s, %(qc_flags)s,
            %(key)s, %(fingerprint)s, %(now)s)
    RETURNING id
), submitted AS (
    UPDATE annotation_assignment SET state = %(submitted)s, finished_at = %(now)s
    WHERE id = %(assignment)s
), completed AS (
    UPDATE annotation_candidateset SET state = %(complete)s, completed_at = %(now)s
    WHERE id = %(set)s AND %(completes)s
)
SELECT id FROM ranking
"""
)


@dataclass(frozen=True)
class _Locked:
    """The caller's assignment, locked, with what ``_LOCK_AND_READ`` read beside it."""

    assignment: Assignment
    set_state: str
    is_gold: bool
    project: Project
    rankings: int
    shown_chars: int
    earlier_ranking_id: int | None


def _lock_and_read(assignment_id: int, annotator: AbstractUser, key: str | None) -> _Locked:
    params = {"assignment": assignment_id, "annotator": annotator.pk, "key": key}
    row = fetch_one(_LOCK_AND_READ, params)
    if row is None:
        raise ApplicationError("No such assignment.", code="not_found", status=404)
    (set_id, order, state, expires, set_state, is_gold, project_id, overlap, allow_ties,
     criteria, rankings, shown_chars, earlier) = row  # fmt: skip
    assignment = Assignment(
        id=assignment_id,
        candidate_set_id=set_id,
        annotator=annotator,
        display_order=json.loads(order),
        state=state,
        lease_expires_at=expires,
    )
    project = Project(
        id=project_id,
        annotations_per_set=overlap,
        allow_ties=allow_ties,
        criteria=json.loads(criteria),
    )
    return _Locked(assignment, set_state, is_gold, project, rankings, shown_chars, earlier)


def _submit(
    assignment_id: int, annotator: AbstractUser, submission: Submission, key: str | None
) -> tuple[Ranking, bool]:
    locked = _lock_and_read(assignment_id, annotator, key)
    assignment, project = locked.assignment, locked.project
    fingerprint = submission.fingerprint()
    if locked.earlier_ranking_id is not None:
        earlier = Ranking.objects.get(pk=locked.earlier_ranking_id)
        if earlier.assignment_id != assignment.pk or earlier.request_fingerprint != fingerprint:
            raise ApplicationError(
                "This Idempotency-Key was already used for a different submission.",
                field="Idempotency-Key",
                code="idempotency_key_reused",
                status=409,
            )
        return earlier, False
    _check_submittable(assignment)

    ranking_input, errors = check_ranking(
        tiers=submission.ranking,
        not_rankable=submission.not_rankable,
        flags=submission.flags,
        ratings=submission.ratings,
        candidate_ids=assignment.display_order,
        allow_ties=project.allow_ties,
        flag_names=project.flag_names,
        rating_dimensions=project.rating_dimensions,
    )
    _check_extras(submission, errors)
    if errors:
        raise ApplicationError("Invalid input.", errors=errors)

    ranking = Ranking(
        assignment_id=assignment.pk,
        candidate_set_id=assignment.candidate_set_id,
        annotator=annotator,
        tiers=ranking_input.tiers,
        not_rankable=ranking_input.not_rankable,
        flags=ranking_input.flags,
        ratings=ranking_input.ratings,
        rationale=submission.rationale,
        time_spent_seconds=submission.time_spent_seconds,
        interaction=submission.interaction or {},
        qc_flags=_qc_flags(assignment, ranking_input.tiers, submission, locked.shown_chars),
        idempotency_key=key,
        request_fingerprint=fingerprint,
        created_at=timezone.now(),
    )
    # Gold sets are shown to every annotator once, so they never complete.
    completes = (
        not locked.is_gold
        and locked.set_state == CandidateSetState.OPEN
        and locked.rankings + 1 >= project.annotations_per_set
    )
    params = {
        "assignment": assignment.pk,
        "set": assignment.candidate_set_id,
        "annotator": annotator.pk,
        "tiers": json.dumps(ranking.tiers),
        "not_rankable": ranking.not_rankable,
        "flags": json.dumps(ranking.flags),
        "ratings": json.dumps(ranking.ratings),
        "rationale": ranking.rationale,
        "time_spent_seconds": ranking.time_spent_seconds,
        "interaction": json.dumps(ranking.interaction),
        "qc_flags": json.dumps(ranking.qc_flags),
        "key": key,
        "fingerprint": fingerprint,
        "now": ranking.created_at,
        "submitted": AssignmentState.SUBMITTED.value,
        "complete": CandidateSetState.COMPLETE.value,
        "completes": completes,
    }
    ranking.pk = fetch_one(_WRITE, params)[0]
    return ranking, True


def _qc_flags(
    assignment: Assignment, tiers: list[list[int]], submission: Submission, shown_chars: int
) -> list[str]:
    """Signals of suspicious work (``annotation.preference.qc``), stored for reviewers; they
    never refuse a submission. ``shown_chars``: what the annotator had to read, the responses
    and the conversation (next-task shows it)."""
    flags = []
    if submitted_in_display_order(tiers, assignment.display_order, submission.interaction):
        flags.append(QC_DISPLAY_ORDER)
    if too_fast(submission.time_spent_seconds, shown_chars):
        flags.append(QC_TOO_FAST)
    return flags


def _check_submittable(assignment: Assignment) -> None:
    if assignment.state == AssignmentState.SUBMITTED:
        raise ApplicationError(
            "This assignment was already submitted.", code="already_submitted", status=409
        )
    if assignment.state == AssignmentState.SKIPPED:
        raise ApplicationError("This assignment was skipped.", code="skipped", status=409)
    if assignment.state == AssignmentState.EXPIRED or assignment.lease_expires_at <= timezone.now():
        raise ApplicationError(
            "Your lease on this set expired, so the set may have gone to someone else. "
            "Request the next task; if the set is still free you will get it back.",
            code="lease_expired",
            status=409,
        )

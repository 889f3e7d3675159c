"""Submitting a ranking.

Idempotency: with an ``Idempotency-Key`` header, a retried submit (same key, same request)
returns the ranking written the first time and writes nothing; the same key with a different
request is a conflict. Concurrent duplicates serialise on the set's row lock, and a unique
constraint on (annotator, key) backs that up.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError
from django.utils import timezone

from flywheel.errors import ApplicationError
from flywheel.events import Event, send_events
from flywheel.sql import Statements, fetch_one

from ..enums import AssignmentState, CandidateSetState, ReviewState
from ..models import Assignment, Project, Ranking
from ..preference.qc import submitted_in_display_order, too_fast
from ..validation import (
    MAX_INTERACTION_BYTES,
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
    elif interaction is not None and len(json.dumps(interaction)) > MAX_INTERACTION_BYTES:
        errors.setdefault("interaction", []).append(
            f"Larger than {MAX_INTERACTION_BYTES} bytes of JSON: send a summary, not a log."
        )


def ranking_submit(
    *,
    assignment_id: int,
    annotator: AbstractUser,
    submission: Submission,
    idempotency_key: str | None = None,
) -> tuple[Ranking, bool]:
    """Store the caller's ranking for their assignment. Returns ``(ranking, created)``;
    ``created`` is False for an idempotent replay.

    Two round trips (issue #7), each a transaction of its own: a read of all that validation
    and QC need, then, once the submission is valid, one checking write that locks the set,
    re-checks under the lock what the read found (the assignment is still the caller's live
    lease, the Idempotency-Key still unused) and writes only if it holds."""
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_CHARS:
        raise ApplicationError(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters.",
            field="Idempotency-Key",
        )
    read = _read(assignment_id, annotator, idempotency_key)
    fingerprint = submission.fingerprint()
    if read.earlier_ranking_id is not None:
        return _replay(read.earlier_ranking_id, read.assignment, fingerprint), False
    _check_submittable(read.assignment.state, read.assignment.lease_expires_at)
    ranking = _valid_ranking(read, annotator, submission, idempotency_key, fingerprint)
    try:
        written = fetch_one(_WRITE, _write_params(ranking))
    except IntegrityError as exc:
        # Only reachable when a constraint catches a race the lock did not (same key used for
        # two assignments at the same instant).
        raise ApplicationError(
            "This ranking conflicts with one stored at the same moment; reload and retry.",
            code="conflict",
            status=409,
        ) from exc
    if written is None:  # the assignment is gone
        raise ApplicationError("No such assignment.", code="not_found", status=404)
    ranking_id, state, expires, earlier, completed = written
    if ranking_id is None:
        # Something changed between the read and the lock: a duplicate of this submit, or the
        # lease ran out.
        if earlier is not None:
            return _replay(earlier, read.assignment, fingerprint), False
        _check_submittable(state, expires)
        raise ApplicationError(
            "This assignment changed while it was submitted; reload and retry.",
            code="conflict",
            status=409,
        )
    ranking.pk = ranking_id
    _send_events(read, ranking, completed=completed is not None)
    return ranking, True


def _send_events(read: _Read, ranking: Ranking, *, completed: bool) -> None:
    """ranking.submitted, and set.completed when this ranking completed its set (webhooks:
    one cache read when nobody subscribes)."""
    project_id, set_id = read.project.pk, ranking.candidate_set_id
    data = {
        "ranking": ranking.pk,
        "candidate_set": set_id,
        "assignment": ranking.assignment_id,
        "annotator": ranking.annotator_id,
        "not_rankable": ranking.not_rankable,
        "created_at": ranking.created_at,
    }
    events = [Event("ranking.submitted", project_id, data)]
    if completed:
        done = {"candidate_set": set_id, "completed_at": ranking.created_at}
        events.append(Event("set.completed", project_id, done))
    send_events(*events)


# The submit's reads and writes, in SQL (issue #7: each ORM query was a round trip and cost more
# CPU to build than PostgreSQL spent running it). Each runs outside a transaction block, as a
# transaction of its own.
#
# The caller's assignment with all that validation and QC need: the project's rules, how much
# text the annotator was shown, and the caller's earlier ranking with this Idempotency-Key.
_READ = Statements(
    """
SELECT a.candidate_set_id, a.display_order, a.state, a.lease_expires_at,
       p.allow_ties, p.criteria,
       (SELECT coalesce(sum(length(c.text)), 0) FROM annotation_candidatesetmember m
        JOIN annotation_candidate c ON c.id = m.candidate_id
        WHERE m.candidate_set_id = a.candidate_set_id)
       + (SELECT coalesce(sum(length(message->>'content')), 0)
          FROM jsonb_array_elements(pr.messages) message),
       (SELECT r.id FROM annotation_ranking r
        WHERE r.annotator_id = %(annotator)s AND r.idempotency_key = %(key)s),
       s.project_id
FROM annotation_assignment a
JOIN annotation_candidateset s ON s.id = a.candidate_set_id
JOIN annotation_project p ON p.id = s.project_id
JOIN annotation_prompt pr ON pr.id = s.prompt_id
WHERE a.id = %(assignment)s AND a.annotator_id = %(annotator)s
""",
)
# Lock the caller's set (the lock order of annotation.services.assignments: set, then
# assignment), then, in a statement of its own that sees every commit made before the lock was
# granted: lock the assignment and, if it is still the caller's live lease and the
# Idempotency-Key is unused, store the ranking, mark the assignment submitted and, when this
# ranking is the set's last one, complete the set (gold sets are shown to every annotator once,
# so they never complete). Answers the new ranking's id (NULL when nothing was written), the
# assignment's state and expiry, the caller's earlier ranking with this key, and the set's id
# when this ranking completed it (NULL otherwise); rankings a reviewer sent back or rejected do
# not count toward completion (a re-submission, or another annotator's ranking, does). Every
# column of Ranking is written here, or has a database default (the review fields).
_WRITE = Statements(
    """
SELECT 1 FROM annotation_candidateset WHERE id = (
    SELECT candidate_set_id FROM annotation_assignment
    WHERE id = %(assignment)s AND annotator_id = %(annotator)s)
FOR UPDATE""",
    """
WITH assignment AS (
    SELECT a.id, a.candidate_set_id, a.state, a.lease_expires_at FROM annotation_assignment a
    WHERE a.id = %(assignment)s AND a.annotator_id = %(annotator)s
    FOR UPDATE
), earlier AS (
    SELECT r.id FROM annotation_ranking r
    WHERE r.annotator_id = %(annotator)s AND r.idempotency_key = %(key)s
), writable AS (
    SELECT a.id, a.candidate_set_id FROM assignment a
    WHERE a.state = %(leased)s AND a.lease_expires_at > %(now)s
      AND NOT EXISTS (SELECT 1 FROM earlier)
), ranking AS (
    INSERT INTO annotation_ranking
        (assignment_id, candidate_set_id, annotator_id, tiers, not_rankable, flags, ratings,
         rationale, time_spent_seconds, interaction, qc_flags, idempotency_key,
         request_fingerprint, created_at)
    SELECT w.id, w.candidate_set_id, %(annotator)s, %(tiers)s::jsonb, %(not_rankable)s,
           %(flags)s::jsonb, %(ratings)s::jsonb, %(rationale)s::text,
           %(time_spent_seconds)s::double precision, %(interaction)s::jsonb,
           %(qc_flags)s::jsonb, %(key)s, %(fingerprint)s, %(now)s
    FROM writable w
    RETURNING id
), submitted AS (
    UPDATE annotation_assignment SET state = %(submitted)s, finished_at = %(now)s
    WHERE id = (SELECT id FROM writable)
), completed AS (
    UPDATE annotation_candidateset s SET state = %(complete)s, completed_at = %(now)s
    FROM writable w, annotation_project p
    WHERE s.id = w.candidate_set_id AND p.id = s.project_id
      AND s.state = %(open)s AND s.gold_tiers IS NULL
      AND p.annotations_per_set <= 1 + (
          SELECT count(*) FROM annotation_ranking r
          WHERE r.candidate_set_id = s.id AND r.review_state NOT IN (%(sent_back)s, %(rejected)s))
    RETURNING s.id
)
SELECT (SELECT id FROM ranking), a.state, a.lease_expires_at, (SELECT id FROM earlier),
       (SELECT id FROM completed)
FROM assignment a
""",
)


@dataclass(frozen=True)
class _Read:
    """The caller's assignment, with what ``_READ`` read beside it."""

    assignment: Assignment
    project: Project
    shown_chars: int
    earlier_ranking_id: int | None


def _read(assignment_id: int, annotator: AbstractUser, key: str | None) -> _Read:
    params = {"assignment": assignment_id, "annotator": annotator.pk, "key": key}
    row = fetch_one(_READ, params)
    if row is None:
        raise ApplicationError("No such assignment.", code="not_found", status=404)
    set_id, order, state, expires, allow_ties, criteria, shown_chars, earlier, project_id = row
    assignment = Assignment(
        id=assignment_id,
        candidate_set_id=set_id,
        annotator=annotator,
        display_order=json.loads(order),
        state=state,
        lease_expires_at=expires,
    )
    project = Project(id=project_id, allow_ties=allow_ties, criteria=json.loads(criteria))
    return _Read(assignment, project, shown_chars, earlier)


def _replay(ranking_id: int, assignment: Assignment, fingerprint: str) -> Ranking:
    """The ranking stored first under this Idempotency-Key, if this is the same request."""
    earlier = Ranking.objects.get(pk=ranking_id)
    if earlier.assignment_id != assignment.pk or earlier.request_fingerprint != fingerprint:
        raise ApplicationError(
            "This Idempotency-Key was already used for a different submission.",
            field="Idempotency-Key",
            code="idempotency_key_reused",
            status=409,
        )
    return earlier


def _valid_ranking(
    read: _Read,
    annotator: AbstractUser,
    submission: Submission,
    key: str | None,
    fingerprint: str,
) -> Ranking:
    """The ranking to store, or a 400 with every problem of the submission."""
    assignment, project = read.assignment, read.project
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
    return Ranking(
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
        qc_flags=_qc_flags(assignment, ranking_input.tiers, submission, read.shown_chars),
        idempotency_key=key,
        request_fingerprint=fingerprint,
        created_at=timezone.now(),
    )


def _write_params(ranking: Ranking) -> dict:
    return {
        "assignment": ranking.assignment_id,
        "annotator": ranking.annotator_id,
        "tiers": json.dumps(ranking.tiers),
        "not_rankable": ranking.not_rankable,
        "flags": json.dumps(ranking.flags),
        "ratings": json.dumps(ranking.ratings),
        "rationale": ranking.rationale,
        "time_spent_seconds": ranking.time_spent_seconds,
        "interaction": json.dumps(ranking.interaction),
        "qc_flags": json.dumps(ranking.qc_flags),
        "key": ranking.idempotency_key,
        "fingerprint": ranking.request_fingerprint,
        "now": ranking.created_at,
        "open": CandidateSetState.OPEN.value,
        "leased": AssignmentState.LEASED.value,
        "submitted": AssignmentState.SUBMITTED.value,
        "complete": CandidateSetState.COMPLETE.value,
        "sent_back": ReviewState.SENT_BACK.value,
        "rejected": ReviewState.REJECTED.value,
    }


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


def _check_submittable(state: str, lease_expires_at) -> None:
    if state == AssignmentState.SUBMITTED:
        raise ApplicationError(
            "This assignment was already submitted.", code="already_submitted", status=409
        )
    if state == AssignmentState.SKIPPED:
        raise ApplicationError("This assignment was skipped.", code="skipped", status=409)
    if state == AssignmentState.EXPIRED or lease_expires_at <= timezone.now():
        raise ApplicationError(
            "Your lease on this set expired, so the set may have gone to someone else. "
            "Request the next task; if the set is still free you will get it back.",
            code="lease_expired",
            status=409,
        )

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

from ..enums import AssignmentState, CandidateSetState
from ..models import Assignment, CandidateSet, CandidateSetMember, Ranking
from ..preference.qc import submitted_in_display_order, too_fast
from ..validation import (
    MAX_INTERACTION_KEYS,
    MAX_RATIONALE_CHARS,
    MAX_TIME_SPENT_SECONDS,
    Errors,
    check_ranking,
)
from .assignments import lock_own_assignment

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


def _submit(
    assignment_id: int, annotator: AbstractUser, submission: Submission, key: str | None
) -> tuple[Ranking, bool]:
    assignment = lock_own_assignment(assignment_id=assignment_id, annotator=annotator)
    fingerprint = submission.fingerprint()
    if key is not None:
        earlier = Ranking.objects.filter(annotator=annotator, idempotency_key=key).first()
        if earlier is not None:
            if earlier.assignment_id != assignment.pk or earlier.request_fingerprint != fingerprint:
                raise ApplicationError(
                    "This Idempotency-Key was already used for a different submission.",
                    field="Idempotency-Key",
                    code="idempotency_key_reused",
                    status=409,
                )
            return earlier, False
    _check_submittable(assignment)

    project = assignment.candidate_set.project
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

    now = timezone.now()
    ranking = Ranking.objects.create(
        qc_flags=_qc_flags(assignment, ranking_input.tiers, submission),
        assignment=assignment,
        candidate_set=assignment.candidate_set,
        annotator=annotator,
        tiers=ranking_input.tiers,
        not_rankable=ranking_input.not_rankable,
        flags=ranking_input.flags,
        ratings=ranking_input.ratings,
        rationale=submission.rationale,
        time_spent_seconds=submission.time_spent_seconds,
        interaction=submission.interaction or {},
        idempotency_key=key,
        request_fingerprint=fingerprint,
    )
    assignment.state = AssignmentState.SUBMITTED
    assignment.finished_at = now
    assignment.save(update_fields=["state", "finished_at"])
    _complete_if_done(assignment.candidate_set, project.annotations_per_set, now)
    return ranking, True


def _qc_flags(assignment: Assignment, tiers: list[list[int]], submission: Submission) -> list[str]:
    """Signals of suspicious work (``annotation.preference.qc``), stored for reviewers; they
    never refuse a submission."""
    flags = []
    if submitted_in_display_order(tiers, assignment.display_order, submission.interaction):
        flags.append(QC_DISPLAY_ORDER)
    texts = (
        CandidateSetMember.objects.filter(candidate_set_id=assignment.candidate_set_id)
        .order_by()  # the model's default ordering would join the set table for nothing
        .values_list("candidate__text", flat=True)
    )
    # What the annotator had to read: the responses and the conversation (next-task shows it).
    messages = assignment.candidate_set.prompt.messages
    shown_chars = sum(len(t) for t in texts) + sum(len(m["content"]) for m in messages)
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


def _complete_if_done(candidate_set: CandidateSet, needed: int, now) -> None:
    # The caller holds the set's row lock, so this count cannot race another submit.
    submitted = Ranking.objects.filter(candidate_set=candidate_set).count()
    if candidate_set.is_gold:  # gold sets are shown to every annotator once; never complete
        return
    if submitted >= needed and candidate_set.state == CandidateSetState.OPEN:
        candidate_set.state = CandidateSetState.COMPLETE
        candidate_set.completed_at = now
        candidate_set.save(update_fields=["state", "completed_at"])

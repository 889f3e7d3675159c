"""Reviewing submitted rankings (issue 18): accept, reject with a reason, or send back to the
annotator with a comment; adjudicate a disputed set's final order, and promote it to gold.

A rejected ranking stops counting at once: exports, new snapshots, agreement and consensus
leave it out (snapshots made before keep it: they are frozen). A sent-back ranking stops
counting too, and its assignment becomes ``returned``: the set goes back to open, its slot
stays the annotator's, and next-task gives it to them before anything else, with the comment
(``sql/next_task.sql``). Their re-submission is a new ranking; the sent-back one stays as
history beside it.

Locks follow the order of ``annotation.services.assignments``: set row, then assignment row.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from flywheel.errors import ApplicationError

from ..enums import (
    AssignmentState,
    CandidateSetState,
    GoldSource,
    ReviewAction,
    ReviewState,
    SetPurpose,
)
from ..models import COUNTED, Assignment, CandidateSet, Ranking
from ..validation import check_ranking

MAX_REVIEW_COMMENT_CHARS = 2000

_STATE_OF = {
    ReviewAction.ACCEPT: ReviewState.ACCEPTED,
    ReviewAction.REJECT: ReviewState.REJECTED,
    ReviewAction.SEND_BACK: ReviewState.SENT_BACK,
}


def _check_comment(action: ReviewAction, comment: str) -> str:
    comment = comment.strip()
    if len(comment) > MAX_REVIEW_COMMENT_CHARS:
        raise ApplicationError(
            f"Longer than {MAX_REVIEW_COMMENT_CHARS} characters.", field="comment"
        )
    if not comment and action == ReviewAction.REJECT:
        raise ApplicationError("Say why the ranking is rejected.", field="comment")
    if not comment and action == ReviewAction.SEND_BACK:
        raise ApplicationError(
            "Tell the annotator what to change: they see this comment.", field="comment"
        )
    return comment


@transaction.atomic
def ranking_review(
    *,
    project_id: int,
    ranking_id: int,
    reviewer: AbstractUser,
    action: ReviewAction,
    comment: str = "",
) -> Ranking:
    """Accept, reject (a reason is required) or send back (a comment is required) one ranking of
    the project. A reviewer may change their verdict, except on a ranking already sent back:
    that one is history, and its re-submission is what is reviewed (409)."""
    action = ReviewAction(action)
    comment = _check_comment(action, comment)
    set_id = (
        Ranking.objects.filter(pk=ranking_id, candidate_set__project_id=project_id)
        .values_list("candidate_set_id", flat=True)
        .first()
    )
    if set_id is None:
        raise ApplicationError("No such ranking.", code="not_found", status=404)
    candidate_set = (
        CandidateSet.objects.select_for_update(of=("self",))
        .select_related("project")
        .get(pk=set_id)
    )
    ranking = Ranking.objects.select_for_update().get(pk=ranking_id)
    if ranking.review_state == ReviewState.SENT_BACK:
        raise ApplicationError(
            "This ranking was sent back to its annotator; review their new submission.",
            code="conflict",
            status=409,
        )
    ranking.review_state = _STATE_OF[action]
    ranking.review_comment = comment
    ranking.reviewed_by = reviewer
    ranking.reviewed_at = timezone.now()
    ranking.save(update_fields=["review_state", "review_comment", "reviewed_by", "reviewed_at"])
    assignment = Assignment.objects.filter(pk=ranking.assignment_id)
    if action == ReviewAction.SEND_BACK:
        assignment.update(state=AssignmentState.RETURNED, finished_at=None)
    elif action == ReviewAction.REJECT:
        # its slot is free for another annotator; the set is never offered to this one again
        assignment.update(state=AssignmentState.REJECTED)
    else:  # accepted (again): the ranking counts, and holds its slot
        assignment.filter(state=AssignmentState.REJECTED).update(state=AssignmentState.SUBMITTED)
    _recount(candidate_set)
    return ranking


def _recount(candidate_set: CandidateSet) -> None:
    """Open a complete set whose counted rankings fell below its overlap, complete an open one
    that has them again (a rejection taken back). Gold and retired sets stay as they are."""
    if candidate_set.is_gold or candidate_set.state == CandidateSetState.RETIRED:
        return
    counted = candidate_set.rankings.filter(COUNTED).count()
    enough = counted >= candidate_set.project.annotations_per_set
    if candidate_set.state == CandidateSetState.COMPLETE and not enough:
        candidate_set.state, candidate_set.completed_at = CandidateSetState.OPEN, None
    elif candidate_set.state == CandidateSetState.OPEN and enough:
        candidate_set.state, candidate_set.completed_at = CandidateSetState.COMPLETE, timezone.now()
    else:
        return
    candidate_set.save(update_fields=["state", "completed_at"])


@transaction.atomic
def candidate_set_adjudicate(
    *,
    project_id: int,
    set_id: int,
    reviewer: AbstractUser,
    tiers: object,
    promote_to_gold: bool = False,
) -> CandidateSet:
    """Set a disputed set's final order (tiers of its candidate ids, best first): it becomes
    the set's consensus in exports and the set page, marked adjudicated. With
    ``promote_to_gold`` the order also becomes the set's gold ranking (source ``adjudicated``):
    from then on the set is a gold set, shown once to every annotator to measure them, and,
    like every gold set, no longer exported as training data."""
    candidate_set = (
        CandidateSet.objects.select_for_update(of=("self",))
        .select_related("project")
        .filter(pk=set_id, project_id=project_id)
        .first()
    )
    if candidate_set is None:
        raise ApplicationError("No such candidate set.", code="not_found", status=404)
    if candidate_set.is_gold:
        raise ApplicationError(
            "This is a gold set; its ranking is already known.", code="conflict", status=409
        )
    if candidate_set.purpose != SetPurpose.PREFERENCE:
        raise ApplicationError(
            "Evaluation sets compare two policies; they are not adjudicated.",
            code="conflict",
            status=409,
        )
    project = candidate_set.project
    candidate_ids = list(
        candidate_set.members.order_by("position").values_list("candidate_id", flat=True)
    )
    checked, errors = check_ranking(
        tiers=tiers,
        not_rankable=False,
        flags=None,
        ratings=None,
        candidate_ids=candidate_ids,
        allow_ties=project.allow_ties,
        flag_names=project.flag_names,
        rating_dimensions=project.rating_dimensions,
    )
    if errors:
        renamed = {key.replace("ranking", "tiers", 1): v for key, v in errors.items()}
        raise ApplicationError("Invalid input.", errors=renamed)
    candidate_set.adjudicated_tiers = checked.tiers
    candidate_set.adjudicated_by = reviewer
    candidate_set.adjudicated_at = timezone.now()
    fields = ["adjudicated_tiers", "adjudicated_by", "adjudicated_at"]
    if promote_to_gold:
        candidate_set.gold_tiers = checked.tiers
        candidate_set.gold_source = GoldSource.ADJUDICATED
        fields += ["gold_tiers", "gold_source"]
    candidate_set.save(update_fields=fields)
    return candidate_set

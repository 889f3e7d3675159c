"""Reads for the review queue (issue 18): a project's submitted rankings, filtered the way a
reviewer works through them (disputed sets, annotators failing gold, QC-flagged work, one
annotator, a date range), and an annotator's own review counts and comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractUser
from django.db.models import Count, Prefetch, Q, QuerySet

from .enums import ReviewState, SetPurpose
from .models import CandidateSetMember, Project, Ranking
from .quality import gold_failure_user_ids, set_agreements

DISPUTED_BELOW = 0.6
"""A set is disputed when the pairwise agreement of its rankings (two or more that count) is
below this: fewer than 60% of the pairs two annotators both ordered are ordered the same way."""

RECENT_COMMENTS = 20


@dataclass(frozen=True)
class QueueFilters:
    state: str | None = ReviewState.PENDING  # None: every state
    disputed: bool = False
    gold_failed: bool = False
    flagged: bool = False
    annotator_id: int | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class QueueContext:
    """What the queue's rows are marked with, read once per request: each ranked set's pair
    agreement and the annotators failing gold."""

    agreements: dict[int, float]
    failing_gold: frozenset[int]

    def disputed(self, set_id: int) -> bool:
        agreement = self.agreements.get(set_id)
        return agreement is not None and agreement < DISPUTED_BELOW


def queue_context(*, project: Project) -> QueueContext:
    return QueueContext(
        set_agreements(project=project), frozenset(gold_failure_user_ids(project=project))
    )


def review_queue(
    *, project: Project, filters: QueueFilters, context: QueueContext
) -> QuerySet[Ranking]:
    """The project's rankings of preference sets (gold included), oldest first, with what a
    review row shows: the annotator, the prompt and the set's candidates in canonical order."""
    qs = Ranking.objects.filter(
        candidate_set__project=project, candidate_set__purpose=SetPurpose.PREFERENCE
    )
    if filters.state is not None:
        qs = qs.filter(review_state=filters.state)
    if filters.disputed:
        qs = qs.filter(candidate_set_id__in=[s for s in context.agreements if context.disputed(s)])
    if filters.gold_failed:
        qs = qs.filter(annotator_id__in=context.failing_gold)
    if filters.flagged:
        qs = qs.exclude(qc_flags=[])
    if filters.annotator_id is not None:
        qs = qs.filter(annotator_id=filters.annotator_id)
    if filters.since is not None:
        qs = qs.filter(created_at__date__gte=filters.since)
    if filters.until is not None:
        qs = qs.filter(created_at__date__lte=filters.until)
    members = CandidateSetMember.objects.select_related("candidate").order_by("position")
    return (
        qs.select_related("annotator", "reviewed_by", "candidate_set__prompt")
        .prefetch_related(Prefetch("candidate_set__members", queryset=members))
        .order_by("id")
    )


def annotator_reviews(*, annotator: AbstractUser, project_id: int | None = None) -> dict:
    """The annotator's rankings by review state, and the latest reviewer comments on them."""
    qs = Ranking.objects.filter(annotator=annotator)
    if project_id is not None:
        qs = qs.filter(candidate_set__project_id=project_id)
    counts = qs.aggregate(
        **{state.value: Count("id", filter=Q(review_state=state)) for state in ReviewState}
    )
    comments = (
        qs.exclude(review_comment="")
        .select_related("candidate_set")
        .order_by("-reviewed_at", "-id")[:RECENT_COMMENTS]
    )
    return {
        "counts": counts,
        "comments": [
            {
                "ranking": r.pk,
                "project": r.candidate_set.project_id,
                "candidate_set": r.candidate_set_id,
                "review_state": r.review_state,
                "comment": r.review_comment,
                "reviewed_at": r.reviewed_at,
            }
            for r in comments
        ],
    }

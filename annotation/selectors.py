"""Reads of the annotation domain: querysets, no writes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db.models import Count, Q, QuerySet

from .enums import CandidateSetState
from .models import Assignment, CandidateSet, CandidateSetMember, Project, Prompt


def project_list(*, annotator: AbstractUser | None = None) -> QuerySet[Project]:
    """Projects with progress counts; with ``annotator``, also how many sets they ranked."""
    normal = Q(candidate_sets__gold_tiers__isnull=True)
    qs = Project.objects.annotate(
        set_count=Count("candidate_sets", filter=normal, distinct=True),
        complete_set_count=Count(
            "candidate_sets",
            filter=normal & Q(candidate_sets__state=CandidateSetState.COMPLETE),
            distinct=True,
        ),
        prompt_count=Count("prompts", distinct=True),
    )
    if annotator is not None:
        qs = qs.annotate(
            my_ranking_count=Count(
                "candidate_sets__rankings",
                filter=Q(candidate_sets__rankings__annotator=annotator),
                distinct=True,
            )
        )
    return qs.order_by("id")


def project_get(*, project_id: int, annotator: AbstractUser | None = None) -> Project | None:
    return project_list(annotator=annotator).filter(pk=project_id).first()


def prompt_list(*, project: Project) -> QuerySet[Prompt]:
    return Prompt.objects.filter(project=project).order_by("id")


def candidate_set_list(*, project: Project) -> QuerySet[CandidateSet]:
    return (
        CandidateSet.objects.filter(project=project)
        .select_related("prompt")
        .prefetch_related("members__candidate")
        .annotate(ranking_count=Count("rankings"))
        .order_by("id")
    )


def assignment_task(*, assignment: Assignment) -> dict:
    """What an annotator sees: the conversation and the candidates in their display order."""
    # One query for the set, its prompt and its K candidates (next-task's hot path, issue #7);
    # every row repeats the set's fields.
    rows = list(
        CandidateSetMember.objects.filter(candidate_set_id=assignment.candidate_set_id)
        .order_by()  # the model's default ordering would join the set table for nothing
        .values_list(
            "candidate_id",
            "candidate__text",
            "candidate_set__prompt__messages",
            "candidate_set__project_id",
            "candidate_set__project__show_ai_suggestion",
            "candidate_set__ai_suggestion",
        )
    )
    texts = {candidate_id: text for candidate_id, text, *_ in rows}
    _, _, messages, project_id, show_suggestion, ai_suggestion = rows[0]
    suggestion = None
    if show_suggestion and ai_suggestion:
        suggestion = {"ranking": ai_suggestion["tiers"]}
    return {
        "assignment": assignment.pk,
        "lease_expires_at": assignment.lease_expires_at,
        "project": project_id,
        "candidate_set": assignment.candidate_set_id,
        "prompt": messages,
        "candidates": [{"id": cid, "text": texts[cid]} for cid in assignment.display_order],
        "suggestion": suggestion,
    }


def user_list() -> QuerySet:
    return get_user_model().objects.prefetch_related("groups").order_by("id")

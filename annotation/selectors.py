"""Reads of the annotation domain: querysets, no writes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from flywheel.sql import Statements, columns, fetch_one, instance

from .enums import CandidateSetState, ReviewState
from .models import CandidateSet, Project, ProjectMembership, Prompt


def project_list(
    *, annotator: AbstractUser | None = None, member: AbstractUser | None = None
) -> QuerySet[Project]:
    """Projects with progress counts; with ``annotator``, also how many sets they ranked; with
    ``member``, only the projects they are a member of, each with their role there
    (``my_role``)."""
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
    if member is not None:
        memberships = ProjectMembership.objects.filter(project=OuterRef("pk"), user=member)
        qs = qs.annotate(my_role=Subquery(memberships.values("role")[:1])).filter(
            my_role__isnull=False
        )
    if annotator is not None:
        qs = qs.annotate(
            my_ranking_count=Count(
                "candidate_sets__rankings",
                # A ranking sent back is replaced by its re-submission: counted once.
                filter=Q(candidate_sets__rankings__annotator=annotator)
                & ~Q(candidate_sets__rankings__review_state=ReviewState.SENT_BACK),
                distinct=True,
            )
        )
    return qs.order_by("id")


def project_get(
    *,
    project_id: int,
    annotator: AbstractUser | None = None,
    member: AbstractUser | None = None,
) -> Project | None:
    return project_list(annotator=annotator, member=member).filter(pk=project_id).first()


_PROJECT_BY_ID = Statements(
    f"SELECT {columns(Project, 'p')[0]} FROM annotation_project p WHERE p.id = %(project)s"
)


def project_by_id(*, project_id: int) -> Project | None:
    """The project alone, by one prepared statement (every project-scoped API call reads it,
    next-task included)."""
    row = fetch_one(_PROJECT_BY_ID, {"project": project_id})
    return None if row is None else instance(Project, "p", row)


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


def user_list() -> QuerySet:
    return get_user_model().objects.prefetch_related("groups").order_by("id")

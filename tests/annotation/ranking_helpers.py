"""Setting up submitted rankings through the real services, with tiers given as positions in a
set's canonical candidate order (so tests can say "the third response was best")."""

from __future__ import annotations

from annotation.exports.stream import ExportFilters
from annotation.models import Assignment, CandidateSetMember, DatasetSnapshot, Project, Ranking
from annotation.services.assignments import task_next
from annotation.services.imports import candidate_sets_import
from annotation.services.rankings import Submission, ranking_submit
from annotation.services.snapshots import snapshot_create

GOOD, BAD = "The fox explains it clearly and politely.", "Nothing useful at all."


def assignment_next(*, project: Project, annotator) -> Assignment | None:
    """The lease next-task would take for ``annotator`` (``task_next``'s assignment alone)."""
    task = task_next(project_id=project.pk, annotator=annotator)
    return None if task is None else task.assignment


def canonical_ids(set_id: int) -> list[int]:
    return list(
        CandidateSetMember.objects.filter(candidate_set_id=set_id)
        .order_by("position")
        .values_list("candidate_id", flat=True)
    )


def rank_next(
    project: Project,
    annotator,
    positions: list[list[int]] | None,
    *,
    flags: dict[int, list[str]] | None = None,
    time_spent_seconds: float | None = 60.0,
) -> Ranking:
    """Take the annotator's next task and rank it; ``positions=None`` means "all bad"."""
    assignment = assignment_next(project=project, annotator=annotator)
    assert assignment is not None, "no task left for this annotator"
    ids = canonical_ids(assignment.candidate_set_id)
    tiers = [[ids[p] for p in tier] for tier in positions] if positions is not None else []
    ranking, _ = ranking_submit(
        assignment_id=assignment.pk,
        annotator=annotator,
        submission=Submission(
            ranking=tiers,
            not_rankable=positions is None,
            flags={str(ids[p]): names for p, names in (flags or {}).items()},
            time_spent_seconds=time_spent_seconds,
            interaction={"moves": 1},
        ),
    )
    return ranking


def good_over_bad_snapshot(
    project: Project, annotator, *, sets: int, ranked: int
) -> DatasetSnapshot:
    """Import ``sets`` K = 2 sets (GOOD, BAD), have ``annotator`` rank ``ranked`` of them GOOD
    over BAD, and snapshot them with a quarter held out."""
    candidate_sets_import(
        project=project,
        rows=[
            (n, {"prompt": f"Question {n}?", "candidates": [{"text": GOOD}, {"text": BAD}]})
            for n in range(1, sets + 1)
        ],
    )
    for _ in range(ranked):
        rank_next(project, annotator, [[0], [1]])
    return snapshot_create(project=project, name="s", filters=ExportFilters(), test_fraction=0.25)

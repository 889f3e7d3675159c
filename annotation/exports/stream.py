"""Export = filters → rankings → set records → view rows → encoded bytes."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db.models import QuerySet

from flywheel.errors import ApplicationError

from ..models import DatasetSnapshot, Project, Ranking
from ..preference.consensus import annotator_weights
from ..quality import annotator_stats, gold_failure_user_ids
from .rows import ExportOptions, Row, rows_for_set
from .source import adjudicated_as_of, annotator_pseudonym, exportable_rankings, set_records


@dataclass(frozen=True)
class ExportFilters:
    """Which rankings of a project to export (or to freeze into a snapshot)."""

    since: datetime | None = None
    until: datetime | None = None
    exclude_annotators: list[str] = field(default_factory=list)  # pseudonyms, as in exports
    exclude_gold_failures: bool = False
    exclude_flagged: bool = False
    min_agreement: float | None = None

    def as_json(self) -> dict:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "exclude_annotators": sorted(self.exclude_annotators),
            "exclude_gold_failures": self.exclude_gold_failures,
            "exclude_flagged": self.exclude_flagged,
            "min_agreement": self.min_agreement,
        }


def _user_ids_for(project: Project, pseudonyms: list[str]) -> list[int]:
    annotators = (
        Ranking.objects.filter(candidate_set__project=project)
        .values_list("annotator_id", flat=True)
        .distinct()
    )
    by_pseudonym = {annotator_pseudonym(project.pseudonym_salt, uid): uid for uid in annotators}
    unknown = sorted(set(pseudonyms) - set(by_pseudonym))
    if unknown:
        raise ApplicationError(
            f"No annotator of this project has the pseudonym(s) {unknown}.",
            field="exclude_annotators",
        )
    return [by_pseudonym[p] for p in pseudonyms]


def filtered_rankings(*, project: Project, filters: ExportFilters) -> QuerySet[Ranking]:
    excluded = _user_ids_for(project, filters.exclude_annotators)
    if filters.exclude_gold_failures:
        excluded += gold_failure_user_ids(project=project)
    return exportable_rankings(
        project=project,
        since=filters.since,
        until=filters.until,
        exclude_user_ids=excluded,
        exclude_flagged=filters.exclude_flagged,
    )


def snapshot_rankings(*, snapshot: DatasetSnapshot, split: str | None = None) -> QuerySet[Ranking]:
    """The snapshot's rankings (of one split), in a fixed order: two exports of a snapshot are
    the same file, so runs on it (and the ranks of one run) read the same rows in turn."""
    items = {"snapshot_items__snapshot": snapshot}
    if split:
        items["snapshot_items__split"] = split
    rankings = Ranking.objects.filter(**items).order_by("id")
    return adjudicated_as_of(rankings, snapshot.created_at)


def agreement_weights(project: Project) -> dict[str, float]:
    """Each annotator's weight from their mean Kendall τ against the leave-one-out consensus
    of the others (``annotator_weights``: τ clipped to [0.05, 1]), keyed by pseudonym."""
    taus = {
        annotator_pseudonym(project.pseudonym_salt, uid): (
            statistics.fmean(s.taus) if s.taus else None
        )
        for uid, s in annotator_stats(project=project).items()
    }
    return annotator_weights(taus)


def export_rows(
    *, project: Project, rankings: QuerySet[Ranking], options: ExportOptions
) -> Iterator[Row]:
    """The view's rows. Bradley–Terry consensus weighs each annotator by their agreement with
    the others, measured over the whole project."""
    if options.method == "bradley_terry" and options.weights is None:
        options = replace(options, weights=agreement_weights(project))
    for record in set_records(rankings, salt=project.pseudonym_salt):
        yield from rows_for_set(record, options)

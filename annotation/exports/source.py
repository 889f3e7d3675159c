"""Reading rankings for export: grouped by candidate set, through a server-side cursor, in a
fixed order (set id, then ranking id) so the same rankings always give the same bytes.

Memory stays flat: rankings stream from PostgreSQL in chunks, and prompts and candidate texts
are fetched for a bounded batch of sets at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Case, F, JSONField, QuerySet, When

from ..enums import SetPurpose
from ..models import COUNTED, CandidateSetMember, Project, Prompt, Ranking
from .rows import RankingRecord, SetRecord

CURSOR_CHUNK = 2000
SETS_PER_BATCH = 500


def annotator_pseudonym(salt: str, user_id: int) -> str:
    """Stable per project, meaningless outside it: exports never carry usernames."""
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()[:12]


def exportable_rankings(
    *,
    project: Project,
    since: datetime | None = None,
    until: datetime | None = None,
    exclude_user_ids: Iterable[int] = (),
    exclude_flagged: bool = False,
) -> QuerySet[Ranking]:
    """Rankings of the project's preference sets (not gold, not a blind A/B evaluation) that
    count (not rejected or sent back by a reviewer), with the ranking-level filters."""
    qs = Ranking.objects.filter(
        COUNTED,
        candidate_set__project=project,
        candidate_set__gold_tiers__isnull=True,
        candidate_set__purpose=SetPurpose.PREFERENCE,
    )
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    excluded = list(exclude_user_ids)
    if excluded:
        qs = qs.exclude(annotator_id__in=excluded)
    if exclude_flagged:
        qs = qs.filter(qc_flags=[])
    return qs


ADJUDICATION = "adjudication"


def adjudicated_as_of(rankings: QuerySet[Ranking], moment: datetime) -> QuerySet[Ranking]:
    """``rankings`` whose sets' adjudicated orders count only when made by ``moment`` (a
    snapshot's creation: adjudicating later does not change what the snapshot exports)."""
    return rankings.annotate(
        **{
            ADJUDICATION: Case(
                When(
                    candidate_set__adjudicated_at__lte=moment,
                    then=F("candidate_set__adjudicated_tiers"),
                ),
                default=None,
                output_field=JSONField(),
            )
        }
    )


def set_records(rankings: QuerySet[Ranking], *, salt: str) -> Iterator[SetRecord]:
    """The rankings grouped by set, with each set's adjudicated order (the current one, or as
    of the moment ``adjudicated_as_of`` gave)."""
    adjudication = (
        ADJUDICATION
        if ADJUDICATION in rankings.query.annotations
        else "candidate_set__adjudicated_tiers"
    )
    rows = (
        rankings.order_by("candidate_set_id", "id")
        .values_list(
            "id",
            "candidate_set_id",
            "candidate_set__prompt_id",
            "annotator_id",
            "tiers",
            "not_rankable",
            "flags",
            adjudication,
        )
        .iterator(chunk_size=CURSOR_CHUNK)
    )
    batch: list[tuple[int, int, list[RankingRecord], list | None]] = []
    current: tuple[int, int, list[RankingRecord], list | None] | None = None
    pseudonyms: dict[int, str] = {}
    for ranking_id, set_id, prompt_id, user_id, tiers, not_rankable, flags, adjudicated in rows:
        if current is None or current[0] != set_id:
            if len(batch) >= SETS_PER_BATCH:
                yield from _complete(batch)
                batch = []
            current = (set_id, prompt_id, [], adjudicated)
            batch.append(current)
        if user_id not in pseudonyms:
            pseudonyms[user_id] = annotator_pseudonym(salt, user_id)
        current[2].append(
            RankingRecord(ranking_id, pseudonyms[user_id], tiers, not_rankable, flags)
        )
    if batch:
        yield from _complete(batch)


def _complete(
    batch: list[tuple[int, int, list[RankingRecord], list | None]],
) -> Iterator[SetRecord]:
    set_ids = [set_id for set_id, _, _, _ in batch]
    prompt_ids = {prompt_id for _, prompt_id, _, _ in batch}
    messages = dict(Prompt.objects.filter(pk__in=prompt_ids).values_list("id", "messages"))
    candidates: dict[int, dict[int, str]] = {set_id: {} for set_id in set_ids}
    members = (
        CandidateSetMember.objects.filter(candidate_set_id__in=set_ids)
        .order_by("candidate_set_id", "position")
        .values_list("candidate_set_id", "candidate_id", "candidate__text")
    )
    for set_id, candidate_id, text in members:
        candidates[set_id][candidate_id] = text
    for set_id, prompt_id, rankings, adjudicated in batch:
        yield SetRecord(
            set_id, prompt_id, messages[prompt_id], candidates[set_id], rankings, adjudicated
        )

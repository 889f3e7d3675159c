"""Quality reads for reviewers: agreement, gold accuracy, QC flags, position bias, progress.

Agreement metrics (``annotation.preference.agreement``): per set, pairwise agreement; per
project, Krippendorff's α (ordinal) over (set, candidate) units valued by mid-rank; per
annotator, Kendall τ-b against the leave-one-out consensus of the others, and against gold.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from .enums import NOT_COUNTED_REVIEW_STATES, AssignmentState, CandidateSetState, ReviewState
from .models import COUNTED, Assignment, CandidateSet, Project, Ranking
from .preference.agreement import (
    kendall_tau_b,
    krippendorff_alpha_ordinal,
    pairwise_agreement,
    ranking_units,
)
from .preference.consensus import leave_one_out_agreement
from .preference.qc import position_bias
from .preference.tiers import tier_index

GOLD_PASS_ACCURACY = 0.75
"""An annotator fails gold when their mean pair accuracy on gold sets is below this."""


def gold_accuracy(tiers: list[list[int]], gold: list[list[int]]) -> float:
    """Share of the gold's strict pairs the ranking orders the same way (a tie counts half).
    An "all bad" ranking of a gold set scores 0: gold sets always have a known better answer."""
    if not tiers:
        return 0.0
    mine, truth = tier_index(tiers), tier_index(gold)
    score = total = 0.0
    for better, b_tier in truth.items():
        for worse, w_tier in truth.items():
            if b_tier < w_tier:
                total += 1
                score += (
                    1.0
                    if mine[better] < mine[worse]
                    else 0.5
                    if mine[better] == mine[worse]
                    else 0.0
                )
    return score / total if total else 1.0


@dataclass
class AnnotatorStats:
    user_id: int
    username: str = ""
    rankings: int = 0
    seconds: list[float] = field(default_factory=list)
    taus: list[float] = field(default_factory=list)
    gold_accuracies: list[float] = field(default_factory=list)
    gold_taus: list[float] = field(default_factory=list)
    flags: Counter = field(default_factory=Counter)
    order_records: list[tuple[list[list[int]], list[int]]] = field(default_factory=list)
    skipped: int = 0

    @property
    def gold_accuracy(self) -> float | None:
        return statistics.fmean(self.gold_accuracies) if self.gold_accuracies else None

    @property
    def fails_gold(self) -> bool:
        accuracy = self.gold_accuracy
        return accuracy is not None and accuracy < GOLD_PASS_ACCURACY

    def as_dict(self) -> dict:
        bias = position_bias(self.order_records)
        return {
            "annotator_id": self.user_id,
            "username": self.username,
            "rankings": self.rankings,
            "skipped": self.skipped,
            "median_seconds": statistics.median(self.seconds) if self.seconds else None,
            "agreement_tau": statistics.fmean(self.taus) if self.taus else None,
            "agreement_sets": len(self.taus),
            "gold_sets": len(self.gold_accuracies),
            "gold_accuracy": self.gold_accuracy,
            "gold_tau": statistics.fmean(self.gold_taus) if self.gold_taus else None,
            "fails_gold": self.fails_gold,
            "flags": dict(sorted(self.flags.items())),
            "position_bias": {
                "first_shown_top_rate": bias.observed_rate,
                "expected_rate": bias.expected_rate,
                "z": bias.z,
                "p_value": bias.p_value,
            },
        }


def _rankings_by_set(
    project: Project,
) -> Iterator[tuple[int, list[list[int]] | None, list[tuple]]]:
    """``(set_id, gold_tiers or None, ranking rows)`` per ranked set of the project, of the
    rankings that count (not rejected or sent back by a reviewer)."""
    rows = (
        Ranking.objects.filter(COUNTED, candidate_set__project=project)
        .order_by("candidate_set_id", "id")
        .values_list(
            "candidate_set_id",
            "annotator_id",
            "tiers",
            "not_rankable",
            "time_spent_seconds",
            "qc_flags",
            "assignment__display_order",
        )
        .iterator(chunk_size=2000)
    )
    gold = dict(
        CandidateSet.objects.filter(project=project, gold_tiers__isnull=False).values_list(
            "id", "gold_tiers"
        )
    )
    current_id, group = None, []
    for row in rows:
        if row[0] != current_id and group:
            yield current_id, gold.get(current_id), group
            group = []
        current_id = row[0]
        group.append(row)
    if group:
        yield current_id, gold.get(current_id), group


def annotator_stats(*, project: Project) -> dict[int, AnnotatorStats]:
    stats: dict[int, AnnotatorStats] = {}

    def of(user_id: int) -> AnnotatorStats:
        return stats.setdefault(user_id, AnnotatorStats(user_id))

    for _set_id, gold, group in _rankings_by_set(project):
        usable: dict[str, list[list[int]]] = {}
        for _, user_id, tiers, not_rankable, seconds, qc_flags, display_order in group:
            record = of(user_id)
            record.flags.update(qc_flags)
            if seconds is not None:
                record.seconds.append(seconds)
            if gold is not None:
                record.gold_accuracies.append(gold_accuracy(tiers, gold))
                tau = kendall_tau_b(tiers, gold) if tiers else None
                if tau is not None:
                    record.gold_taus.append(tau)
                continue
            record.rankings += 1
            if not not_rankable:
                usable[str(user_id)] = tiers
                record.order_records.append((tiers, display_order))
        if len(usable) >= 2:
            candidates = sorted({c for tiers in usable.values() for t in tiers for c in t})
            for user_key, tau in leave_one_out_agreement(usable, candidates).items():
                if tau is not None:
                    of(int(user_key)).taus.append(tau)
    skipped = (
        Assignment.objects.filter(candidate_set__project=project, state=AssignmentState.SKIPPED)
        .values("annotator_id")
        .annotate(n=Count("id"))
    )
    for row in skipped:
        of(row["annotator_id"]).skipped = row["n"]
    names = dict(get_user_model().objects.filter(pk__in=stats).values_list("id", "username"))
    for user_id, record in stats.items():
        record.username = names.get(user_id, "")
    return stats


def gold_failure_user_ids(*, project: Project) -> list[int]:
    return [uid for uid, s in annotator_stats(project=project).items() if s.fails_gold]


def project_agreement(*, project: Project) -> dict:
    """Krippendorff's α (ordinal) over every normal set ranked by ≥ 2 annotators, and the mean
    per-set pairwise agreement."""
    units: list[dict[str, float]] = []
    per_set: list[float] = []
    for _set_id, gold, group in _rankings_by_set(project):
        if gold is not None:
            continue
        usable = {str(row[1]): row[2] for row in group if not row[3]}
        if len(usable) < 2:
            continue
        units.extend(ranking_units(usable))
        agreement = pairwise_agreement(list(usable.values()))
        if agreement is not None:
            per_set.append(agreement)
    return {
        "krippendorff_alpha_ordinal": krippendorff_alpha_ordinal(units),
        "mean_pairwise_agreement": statistics.fmean(per_set) if per_set else None,
        "sets_with_overlap": len(per_set),
    }


def set_agreements(*, project: Project) -> dict[int, float]:
    """Pairwise agreement per normal set of the project ranked by two or more annotators
    (rankings that count, "all bad" ones left out)."""
    agreements: dict[int, float] = {}
    for set_id, gold, group in _rankings_by_set(project):
        if gold is not None:
            continue
        usable = [row[2] for row in group if not row[3] and row[2]]
        agreement = pairwise_agreement(usable) if len(usable) >= 2 else None
        if agreement is not None:
            agreements[set_id] = agreement
    return agreements


def project_progress(*, project: Project, days: int = 14) -> dict:
    normal = CandidateSet.objects.filter(project=project, gold_tiers__isnull=True)
    by_state = dict(normal.values_list("state").annotate(n=Count("id")))
    since = timezone.now() - timedelta(days=days)
    per_day = (
        Ranking.objects.filter(candidate_set__project=project, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    # not_rankable and flagged count the same rankings as ``rankings`` (normal sets, those that
    # count: not rejected or sent back by a reviewer), so they read as shares of it; gold work
    # shows per annotator in ``annotator_stats``.
    normal = Q(candidate_set__gold_tiers__isnull=True)
    normal_ranking = normal & COUNTED
    counts = Ranking.objects.filter(candidate_set__project=project).aggregate(
        rankings=Count("id", filter=normal_ranking),
        gold_rankings=Count("id", filter=Q(candidate_set__gold_tiers__isnull=False)),
        not_rankable=Count("id", filter=normal_ranking & Q(not_rankable=True)),
        flagged=Count("id", filter=normal_ranking & ~Q(qc_flags=[])),
        rejected=Count("id", filter=normal & Q(review_state=ReviewState.REJECTED)),
        sent_back=Count("id", filter=normal & Q(review_state=ReviewState.SENT_BACK)),
    )
    return {
        "sets": sum(by_state.values()),
        "sets_open": by_state.get(CandidateSetState.OPEN, 0),
        "sets_complete": by_state.get(CandidateSetState.COMPLETE, 0),
        "gold_sets": CandidateSet.objects.filter(project=project, gold_tiers__isnull=False).count(),
        **counts,
        "rankings_per_day": [{"day": r["day"].isoformat(), "rankings": r["n"]} for r in per_day],
    }


def candidate_set_detail(*, set_id: int) -> dict | None:
    """A set, its candidates in canonical order, every ranking (those a reviewer rejected or sent
    back too, with their review state), and the consensus of the rankings that count (or the
    reviewer's adjudicated order)."""
    from .exports.rows import RankingRecord, SetRecord, set_agreement, set_consensus
    from .preference.consensus import DEFAULT_METHOD

    candidate_set = CandidateSet.objects.select_related("prompt").filter(pk=set_id).first()
    if candidate_set is None:
        return None
    members = candidate_set.members.select_related("candidate").order_by("position")
    rankings = list(
        Ranking.objects.filter(candidate_set=candidate_set)
        .select_related("annotator")
        .order_by("id")
    )
    counted = [r for r in rankings if r.review_state not in NOT_COUNTED_REVIEW_STATES]
    record = SetRecord(
        candidate_set.pk,
        candidate_set.prompt_id,
        candidate_set.prompt.messages,
        {m.candidate_id: m.candidate.text for m in members},
        [RankingRecord(r.pk, str(r.annotator_id), r.tiers, r.not_rankable) for r in counted],
        candidate_set.adjudicated_tiers,
    )
    consensus = set_consensus(record, DEFAULT_METHOD)
    return {
        "id": candidate_set.pk,
        "project_id": candidate_set.project_id,
        "prompt": candidate_set.prompt,
        "round": candidate_set.round,
        "state": candidate_set.state,
        "gold_tiers": candidate_set.gold_tiers,
        "candidates": [
            {"id": m.candidate_id, "text": m.candidate.text, "model": m.candidate.model_name}
            for m in members
        ],
        "rankings": rankings,
        "consensus": {
            "method": consensus.method,
            "tiers": consensus.tiers,
            "agreement": set_agreement(record),
            "adjudicated": candidate_set.adjudicated_tiers is not None,
        },
    }

"""A reward run's diagnostics where the rankings are (issue 17): the prompts' metadata the
training process groups its pairs by, and the annotators' own agreement, the ceiling of any
model's held-out accuracy (``training.algorithms.diagnostics`` has the formulas). The runner
calls these in the job's process, which reaches the database; the algorithm never does."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from annotation.exports.stream import snapshot_rankings
from annotation.models import DatasetSnapshot, Prompt, Ranking
from annotation.preference.agreement import pairwise_agreement
from annotation.quality import gold_accuracy
from training.algorithms.diagnostics import (
    DIAGNOSTICS_FILE,
    ceiling_from_agreement,
    group_value,
    strict_agreement_counts,
)


def snapshot_prompt_metadata(*, snapshot: DatasetSnapshot) -> dict[str, dict]:
    """``{prompt_id: {key: value}}`` for the snapshot's prompts, scalar values only."""
    prompt_ids = snapshot_rankings(snapshot=snapshot).values("candidate_set__prompt_id")
    return {
        str(prompt_id): {k: v for k, v in metadata.items() if group_value(v) is not None}
        for prompt_id, metadata in Prompt.objects.filter(pk__in=prompt_ids)
        .order_by("id")
        .values_list("id", "metadata")
        if isinstance(metadata, dict) and metadata
    }


def annotator_ceiling(*, snapshot: DatasetSnapshot) -> dict:
    """The snapshot's sets ranked by two or more annotators: their pooled agreement on pairs
    both ordered strictly, the ceiling it implies, the mean per-set pairwise agreement with
    ties (the project's statistic, ``annotation.quality.project_agreement``), and the same
    annotators' accuracy on the project's gold sets, if any (gold sets are never in a
    snapshot)."""
    by_set: dict[int, dict[int, list]] = {}
    rows = snapshot_rankings(snapshot=snapshot).values_list(
        "candidate_set_id", "annotator_id", "tiers", "not_rankable"
    )
    annotators = set()
    for set_id, annotator_id, tiers, not_rankable in rows.iterator(chunk_size=2000):
        annotators.add(annotator_id)
        if tiers and not not_rankable:
            by_set.setdefault(set_id, {})[annotator_id] = tiers
    same = cases = sets = 0
    with_ties = []
    for rankings in by_set.values():
        if len(rankings) < 2:
            continue
        sets += 1
        set_same, set_cases = strict_agreement_counts(list(rankings.values()))
        same, cases = same + set_same, cases + set_cases
        agreement = pairwise_agreement(list(rankings.values()))
        if agreement is not None:
            with_ties.append(agreement)
    agreement = same / cases if cases else None
    reason = (
        ""
        if cases
        else "No set of the snapshot was ranked by two or more annotators."
        if not sets
        else "The sets ranked twice share no pair that both annotators ordered strictly."
    )
    gold = [
        gold_accuracy(tiers, gold_tiers)
        for tiers, gold_tiers in Ranking.objects.filter(
            candidate_set__project_id=snapshot.project_id,
            candidate_set__gold_tiers__isnull=False,
            annotator_id__in=annotators,
        ).values_list("tiers", "candidate_set__gold_tiers")
    ]
    return {
        "accuracy": None if agreement is None else ceiling_from_agreement(agreement),
        "agreement": agreement,
        "agreement_with_ties": statistics.fmean(with_ties) if with_ties else None,
        "sets": sets,
        "comparisons": cases,
        "reason": reason,
        "gold_accuracy": statistics.fmean(gold) if gold else None,
        "gold_rankings": len(gold),
    }


def training_run_diagnostics(*, snapshot: DatasetSnapshot, output_dir: Path) -> dict | None:
    """What the training process measured (``reward_diagnostics.json`` beside the model) with
    the annotators' ceiling added; None when the algorithm measured none."""
    measured = Path(output_dir) / DIAGNOSTICS_FILE
    if not measured.exists():
        return None
    return json.loads(measured.read_text()) | {"ceiling": annotator_ceiling(snapshot=snapshot)}

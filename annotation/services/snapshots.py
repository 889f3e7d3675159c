"""Dataset snapshots: freeze a filtered selection of rankings, split by prompt, hash, describe.

The split is prompt-grouped (every ranking of a prompt lands in the same split, so no prompt
is in both): a prompt is in ``test`` when ``sha256(f"{seed}:{prompt_id}")`` read as a fraction
of 2^64 is below ``test_fraction``. Deterministic for a seed, independent of row order.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import Count

from flywheel.errors import ApplicationError
from flywheel.events import Event, send_events

from ..enums import SnapshotSplit
from ..exports.rows import ExportOptions, set_agreement
from ..exports.source import set_records
from ..exports.stream import ExportFilters, export_rows, filtered_rankings, snapshot_rankings
from ..exports.writers import jsonl_chunks
from ..models import Candidate, DatasetSnapshot, DatasetSnapshotItem, Project
from ..preference.agreement import krippendorff_alpha_ordinal, ranking_units
from ..preference.pairs import PAIR_MODES, ranking_pairs

ITEM_CHUNK = 5000


def prompt_split(prompt_id: int, *, seed: int, test_fraction: float) -> SnapshotSplit:
    digest = hashlib.sha256(f"{seed}:{prompt_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return SnapshotSplit.TEST if position < test_fraction else SnapshotSplit.TRAIN


@transaction.atomic
def snapshot_create(
    *,
    project: Project,
    name: str,
    filters: ExportFilters,
    test_fraction: float = 0.1,
    seed: int = 0,
    created_by: AbstractUser | None = None,
) -> DatasetSnapshot:
    if not 0 <= test_fraction < 1:
        raise ApplicationError("Must be at least 0 and below 1.", field="test_fraction")
    rankings = filtered_rankings(project=project, filters=filters)
    snapshot = DatasetSnapshot.objects.create(
        project=project,
        name=name,
        filters=filters.as_json(),
        test_fraction=test_fraction,
        seed=seed,
        content_hash="",
        counts={},
        card="",
        created_by=created_by,
    )

    def splits():
        for record in set_records(rankings, salt=project.pseudonym_salt):
            if filters.min_agreement is not None:
                agreement = set_agreement(record)
                if agreement is None or agreement < filters.min_agreement:
                    continue
            yield record, prompt_split(record.prompt_id, seed=seed, test_fraction=test_fraction)

    stats = _write_items(snapshot, splits())
    if not stats.rankings:
        raise ApplicationError(
            "No rankings match these filters; nothing to snapshot.", field="filters"
        )
    snapshot.content_hash = _content_hash(snapshot)
    snapshot.counts = stats.as_json()
    snapshot.card = _card(snapshot, stats)
    snapshot.save(update_fields=["content_hash", "counts", "card"])
    _send_created(snapshot)
    return snapshot


@transaction.atomic
def snapshot_swap_splits(
    *, snapshot: DatasetSnapshot, name: str, created_by: AbstractUser | None = None
) -> DatasetSnapshot:
    """A snapshot of the same rankings with train and test swapped: its train split is
    ``snapshot``'s test split and its test split ``snapshot``'s train split. A model trained on
    it never saw what one trained on ``snapshot`` trained on (the loop's judge reward model,
    issue 17). 400 when ``snapshot`` has no test split to train on."""
    swapped = {SnapshotSplit.TRAIN: SnapshotSplit.TEST, SnapshotSplit.TEST: SnapshotSplit.TRAIN}
    split_of = dict(snapshot.items.values_list("ranking_id", "split"))
    if SnapshotSplit.TEST not in split_of.values():
        raise ApplicationError(
            "The snapshot's test split is empty; nothing to train on.", field="snapshot"
        )
    derived = DatasetSnapshot.objects.create(
        project=snapshot.project,
        name=name,
        filters=snapshot.filters | {"splits_swapped_from": snapshot.pk},
        # a prompt is in the derived test split when it is in the source's train split
        test_fraction=1 - snapshot.test_fraction,
        seed=snapshot.seed,
        content_hash="",
        counts={},
        card="",
        created_by=created_by,
    )
    records = set_records(
        snapshot_rankings(snapshot=snapshot), salt=snapshot.project.pseudonym_salt
    )
    stats = _write_items(
        derived,
        (
            (record, swapped[SnapshotSplit(split_of[record.rankings[0].ranking_id])])
            for record in records
        ),
    )
    derived.content_hash = _content_hash(derived)
    derived.counts = stats.as_json()
    card = _card(derived, stats)
    origin = (
        f"- Derived from snapshot {snapshot.pk} (`{snapshot.name}`, content hash "
        f"`{snapshot.content_hash}`) with its splits swapped: train here is its test split, test "
        "here its train split.\n"
    )
    derived.card = card.replace("## How it was made\n\n", "## How it was made\n\n" + origin, 1)
    derived.save(update_fields=["content_hash", "counts", "card"])
    _send_created(derived)
    return derived


def _send_created(snapshot: DatasetSnapshot) -> None:
    """snapshot.created, in the snapshot's transaction (webhooks)."""
    data = {
        "snapshot": snapshot.pk,
        "name": snapshot.name,
        "content_hash": snapshot.content_hash,
        "counts": snapshot.counts,
        "created_at": snapshot.created_at,
    }
    send_events(Event("snapshot.created", snapshot.project_id, data))


def _write_items(snapshot: DatasetSnapshot, splits) -> _Stats:
    """Write the snapshot's items from ``(set record, split)`` pairs, in chunks; their counts."""
    stats = _Stats()
    items: list[DatasetSnapshotItem] = []
    for record, split in splits:
        stats.add(record, split)
        items.extend(
            DatasetSnapshotItem(snapshot=snapshot, ranking_id=r.ranking_id, split=split)
            for r in record.rankings
        )
        if len(items) >= ITEM_CHUNK:
            DatasetSnapshotItem.objects.bulk_create(items)
            items = []
    DatasetSnapshotItem.objects.bulk_create(items)
    return stats


def _content_hash(snapshot: DatasetSnapshot) -> str:
    digest = hashlib.sha256()
    rows = export_rows(
        project=snapshot.project,
        rankings=snapshot_rankings(snapshot=snapshot),
        options=ExportOptions(view="ranked"),
    )
    for chunk in jsonl_chunks(rows):
        digest.update(chunk)
    return digest.hexdigest()


class _Stats:
    def __init__(self) -> None:
        self.rankings: Counter[str] = Counter()
        self.sets: Counter[str] = Counter()
        self.prompts: dict[str, set[int]] = {s.value: set() for s in SnapshotSplit}
        self.not_rankable = 0
        self.annotators: set[str] = set()
        self.pairs: dict[str, Counter[str]] = {mode: Counter() for mode in PAIR_MODES}
        self.units: list[dict[str, float]] = []
        self.k: Counter[int] = Counter()

    def add(self, record, split: SnapshotSplit) -> None:
        self.sets[split] += 1
        self.prompts[split].add(record.prompt_id)
        self.k[len(record.candidates)] += 1
        usable = {}
        for r in record.rankings:
            self.rankings[split] += 1
            self.annotators.add(r.annotator)
            self.not_rankable += r.not_rankable
            if not r.not_rankable:
                usable[r.annotator] = r.tiers
                for mode in PAIR_MODES:
                    self.pairs[mode][split] += len(ranking_pairs(r.tiers, mode))
        if len(usable) >= 2:
            self.units.extend(ranking_units(usable))

    def as_json(self) -> dict[str, Any]:
        splits = [s.value for s in SnapshotSplit]
        return {
            "rankings": {s: self.rankings[s] for s in splits},
            "sets": {s: self.sets[s] for s in splits},
            "prompts": {s: len(self.prompts[s]) for s in splits},
            "pairs": {mode: {s: c[s] for s in splits} for mode, c in self.pairs.items()},
            "not_rankable": self.not_rankable,
            "annotators": len(self.annotators),
            "k": {str(k): n for k, n in sorted(self.k.items())},
            "krippendorff_alpha_ordinal": krippendorff_alpha_ordinal(self.units),
        }


def _card(snapshot: DatasetSnapshot, stats: _Stats) -> str:
    counts = stats.as_json()
    project = snapshot.project
    alpha = counts["krippendorff_alpha_ordinal"]
    sources = (
        Candidate.objects.filter(
            memberships__candidate_set__rankings__snapshot_items__snapshot=snapshot
        )
        .values("model_name", "model_version__name")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n")
    )
    source_lines = [
        f"| {s['model_version__name'] or s['model_name'] or '(unknown)'} | {s['n']} |"
        for s in sources
    ]
    pair_lines = [
        f"| `{mode}` | {c['train']} | {c['test']} |" for mode, c in counts["pairs"].items()
    ]
    filters = {k: v for k, v in snapshot.filters.items() if v not in (None, [], False)}
    return "\n".join(
        [
            f"# {snapshot.name}",
            "",
            f"Preference data from the Flywheel project **{project.name}**: K-way rankings of "
            "model responses by human annotators, exported as TRL-ready datasets.",
            "",
            "## Contents",
            "",
            "| | train | test |",
            "|---|---|---|",
            f"| prompts | {counts['prompts']['train']} | {counts['prompts']['test']} |",
            f"| candidate sets | {counts['sets']['train']} | {counts['sets']['test']} |",
            f"| rankings | {counts['rankings']['train']} | {counts['rankings']['test']} |",
            "",
            f"- Responses per prompt (K): {', '.join(counts['k']) or '-'}; ties allowed: "
            f"{'yes' if project.allow_ties else 'no'}; annotators per set: "
            f"{project.annotations_per_set}.",
            f"- Annotators: {counts['annotators']} (pseudonymous ids).",
            f"- Rankings marked all bad (`not_rankable`): {counts['not_rankable']}.",
            "- Inter-annotator agreement (Krippendorff's α, ordinal): "
            + (f"{alpha:.3f}" if alpha is not None else "n/a (no set ranked by two annotators)"),
            "",
            "## Preference pairs (per-annotator)",
            "",
            "| pairs | train | test |",
            "|---|---|---|",
            *pair_lines,
            "",
            "A ranking of K with tiers yields every (higher tier, lower tier) pair and none "
            "inside a tier; `margin = (j − i) / (T − 1)` for tiers i < j of T.",
            "",
            "## Sources",
            "",
            "| model | responses |",
            "|---|---|",
            *source_lines,
            "",
            "## How it was made",
            "",
            f"- Filters: `{filters or 'none'}`; gold (quality-control) sets are never included.",
            f"- Split: by prompt, seed {snapshot.seed}, test fraction {snapshot.test_fraction}; no "
            "prompt is in both splits.",
            f"- Content hash (SHA-256 of the `ranked` export): `{snapshot.content_hash}`.",
            "",
            "## Use",
            "",
            "```python",
            "from datasets import load_dataset",
            f'ds = load_dataset("json", data_files="snapshot-{snapshot.pk}-preference-train.jsonl",'
            ' split="train")',
            "```",
            "",
        ]
    )

"""Gold sets: candidate sets with a known ranking, hidden among normal tasks at the project's
``gold_rate``, used to measure each annotator's accuracy. Either written by experts (imported)
or synthetic honeypots made by degrading real responses (``annotation.honeypots``)."""

from __future__ import annotations

import random

from django.db import transaction

from flywheel.errors import ApplicationError

from ..enums import CandidateSetState, GoldSource
from ..exports.rows import SetRecord, set_consensus
from ..exports.source import set_records
from ..honeypots import degraded_copies
from ..models import COUNTED, Candidate, CandidateSet, CandidateSetMember, Project, Ranking
from ..validation import check_gold_ranking
from .imports import NumberedRows, candidate_sets_import, raise_row_errors

MAX_HONEYPOTS_PER_CALL = 1000


@transaction.atomic
def gold_sets_import(*, project: Project, rows: NumberedRows) -> list[CandidateSet]:
    """Candidate-set rows plus ``gold_ranking`` (tiers of indices into ``candidates``)."""
    golds, errors, plain = [], {}, []
    for number, row in rows:
        if not isinstance(row, dict):
            plain.append((number, row))
            golds.append([])
            continue
        tiers, row_errors = check_gold_ranking(row.get("gold_ranking"), k=project.k)
        for field, messages in row_errors.items():
            errors.setdefault(f"rows[{number}].{field}", []).extend(messages)
        golds.append(tiers)
        plain.append((number, {key: v for key, v in row.items() if key != "gold_ranking"}))
    try:
        sets = candidate_sets_import(project=project, rows=plain)
    except ApplicationError as exc:
        if "rows" in exc.errors:  # empty or oversized upload: nothing to say per row
            raise
        # Recount: the candidate import's message counts only the rows it found invalid.
        raise_row_errors(exc.errors | errors, len(rows))
        raise
    if errors:
        raise ApplicationError(
            f"{len(errors)} gold ranking(s) are invalid; nothing was imported.", errors=errors
        )
    for candidate_set, tiers in zip(sets, golds, strict=True):
        ids = list(
            candidate_set.members.order_by("position").values_list("candidate_id", flat=True)
        )
        candidate_set.gold_tiers = [[ids[i] for i in tier] for tier in tiers]
        candidate_set.gold_source = GoldSource.EXPERT
    CandidateSet.objects.bulk_update(sets, ["gold_tiers", "gold_source"])
    return sets


def _best_response(record: SetRecord) -> int:
    """The consensus-best response of a ranked set, else its first candidate."""
    result = set_consensus(record, "borda")
    return result.tiers[0][0] if result.tiers else next(iter(record.candidates))


@transaction.atomic
def honeypots_create(*, project: Project, count: int, seed: int = 0) -> list[CandidateSet]:
    """``count`` honeypots from the project's ranked normal sets: a copy of the set's
    consensus-best response (the original) among ``k − 1`` degraded copies of it. A set is used
    at most once per call. The original's source candidate is kept in its
    ``sampling_params["honeypot_of"]``."""
    if not 1 <= count <= MAX_HONEYPOTS_PER_CALL:
        raise ApplicationError(f"Must be from 1 to {MAX_HONEYPOTS_PER_CALL}.", field="count")
    rankings = Ranking.objects.filter(
        COUNTED, candidate_set__project=project, candidate_set__gold_tiers__isnull=True
    )
    records = [r for r in set_records(rankings, salt=project.pseudonym_salt) if r.usable_tiers()]
    if not records:
        raise ApplicationError(
            "Honeypots are made from ranked sets; this project has none yet.", field="count"
        )
    rng = random.Random(seed)
    rng.shuffle(records)
    created: list[CandidateSet] = []
    for record in records:
        if len(created) == count:
            break
        best = _best_response(record)
        try:
            copies = degraded_copies(record.candidates[best], project.k, rng.randrange(2**31))
        except ValueError:
            continue  # too short to degrade k − 1 ways
        candidate_set = CandidateSet.objects.create(
            project=project,
            prompt_id=record.prompt_id,
            state=CandidateSetState.OPEN,
            gold_tiers=[],
            gold_source=GoldSource.HONEYPOT,
        )
        # All K candidates are fresh rows created in shuffled order: ids, and the order they
        # were written in, must not tell a scripted client which one is the original.
        texts = [("original", record.candidates[best]), *copies]
        rng.shuffle(texts)
        candidates = Candidate.objects.bulk_create(
            Candidate(
                prompt_id=record.prompt_id,
                text=text,
                model_name=f"honeypot:{name}",
                sampling_params={"honeypot_of": best} if name == "original" else {},
            )
            for name, text in texts
        )
        CandidateSetMember.objects.bulk_create(
            CandidateSetMember(candidate_set=candidate_set, candidate=c, position=i)
            for i, c in enumerate(candidates)
        )
        original = [
            c.pk for (name, _), c in zip(texts, candidates, strict=True) if name == "original"
        ]
        candidate_set.gold_tiers = [original, [c.pk for c in candidates if c.pk not in original]]
        candidate_set.save(update_fields=["gold_tiers"])
        created.append(candidate_set)
    if len(created) < count:
        raise ApplicationError(
            f"Only {len(created)} ranked set(s) have a response long enough to degrade; "
            f"asked for {count}.",
            field="count",
        )
    return created

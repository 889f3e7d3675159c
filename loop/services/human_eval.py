"""A round's blind human evaluation (issue 17): its new policy against the previous one, side by
side on held-out prompts, ranked by the project's annotators like any other set.

- **Prompts**: ``Loop.human_eval_prompts`` of the round snapshot's test split — held out from the
  round's reward model and its policy (the split hashes the prompt, so a test prompt stays held
  out in later snapshots too) — drawn with the loop's seed and the round's number.
- **Sets**: one generation job with purpose ``evaluation``: of each set's K candidates, K − K//2
  come from the new policy and K//2 from the previous one. next-task shows each annotator a
  set's candidates in an order drawn for them alone, and nothing it shows names a model, so the
  comparison is blind and its A/B order random. Evaluation sets are never exported, snapshotted
  or counted by the loop's triggers; their rankings feed the human leaderboard.
- **Win-rate**: every ranking of those sets gives the model-vs-model comparisons of
  ``ranking_comparisons`` (new above old: 1, same tier: ½, below: 0); the human win-rate is
  their mean, with a 95 % bootstrap interval over prompts (a prompt's comparisons are not
  independent draws). The verdict (``loop/services/verdict.py``) takes it as independent
  evidence beside the judge reward model's.
"""

from __future__ import annotations

import random
from typing import Any

from annotation.enums import CandidateSetState, SetPurpose
from annotation.exports.stream import snapshot_rankings
from annotation.models import Candidate, CandidateSet, Ranking
from annotation.preference.leaderboard import ranking_comparisons
from training.models import GenerationJob
from training.services.generation import generation_job_create

from ..models import LoopRound
from .win_rates import win_rate_interval

# The A/B draws' seed differs from the round's training generation (seed + round number).
SEED_OFFSET = 7_919
SETTLED = (CandidateSetState.COMPLETE, CandidateSetState.RETIRED)


def human_eval_prompt_ids(loop_round: LoopRound) -> list[int]:
    """Up to ``human_eval_prompts`` prompts of the snapshot's test split, a seeded draw."""
    ids = sorted(
        set(
            snapshot_rankings(snapshot=loop_round.snapshot, split="test").values_list(
                "candidate_set__prompt_id", flat=True
            )
        )
    )
    loop = loop_round.loop
    n = min(loop.human_eval_prompts, len(ids))
    return sorted(random.Random(loop.seed * 1_000_003 + loop_round.number).sample(ids, n))


def human_eval_job_create(loop_round: LoopRound) -> GenerationJob | None:
    """Queue the round's A/B sets (new policy against the previous one); None when the snapshot
    has no held-out prompt to ask about."""
    prompt_ids = human_eval_prompt_ids(loop_round)
    if not prompt_ids:
        return None
    loop = loop_round.loop
    return generation_job_create(
        project=loop.project,
        model_version=loop_round.policy_model,
        prompts=prompt_ids,
        sampling=loop.sampling or {},
        seed=loop.seed + loop_round.number + SEED_OFFSET,
        round=loop_round.number,
        mix_model_version=loop_round.base_policy,
        mix_count=loop.project.k // 2,
        purpose=SetPurpose.EVALUATION,
        created_by=loop_round.started_by,
    )


def _sets(loop_round: LoopRound):
    return CandidateSet.objects.filter(
        members__candidate__generation_job_id=loop_round.human_eval_job_id,
        purpose=SetPurpose.EVALUATION,
    ).distinct()


def human_eval_progress(loop_round: LoopRound) -> dict[str, int] | None:
    """How far the annotators are: sets written, settled (complete or retired), rankings."""
    if loop_round.human_eval_job_id is None:
        return None
    sets = _sets(loop_round)
    return {
        "sets": sets.count(),
        "complete": sets.filter(state__in=SETTLED).count(),
        "rankings": Ranking.objects.filter(candidate_set__in=sets).count(),
    }


def human_eval_settled(loop_round: LoopRound) -> bool:
    """Every A/B set the job wrote is complete (or retired by an admin)."""
    return not _sets(loop_round).exclude(state__in=SETTLED).exists()


def human_win_rate(loop_round: LoopRound) -> dict[str, Any]:
    """The annotators' win-rate of the new policy over the previous one on the round's A/B sets,
    with a 95 % interval over prompts; ``{"reason": …}`` when no ranking compared them."""
    new, old = loop_round.policy_model_id, loop_round.base_policy_id
    sets = _sets(loop_round)
    version_of = dict(
        Candidate.objects.filter(
            generation_job_id=loop_round.human_eval_job_id, model_version_id__in=(new, old)
        ).values_list("id", "model_version_id")
    )
    outcomes, groups = [], []
    rankings = Ranking.objects.filter(candidate_set__in=sets, not_rankable=False).values_list(
        "candidate_set__prompt_id", "tiers"
    )
    ranked = 0
    for prompt_id, tiers in rankings:
        ranked += 1
        for first, _second, outcome, _ in ranking_comparisons(tiers, version_of):
            outcomes.append(outcome if first == new else 1.0 - outcome)
            groups.append(prompt_id)
    if not outcomes:
        return {
            "reason": f"no ranking compared the two policies ({sets.count()} A/B sets, "
            f"{ranked} rankings that ranked them)",
            "sets": sets.count(),
        }
    low, high = win_rate_interval(outcomes, groups)
    return {
        "win_rate": sum(outcomes) / len(outcomes),
        "ci_low": low,
        "ci_high": high,
        "comparisons": len(outcomes),
        "rankings": ranked,
        "prompts": len(set(groups)),
        "sets": sets.count(),
    }

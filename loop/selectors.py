"""Read side of the loop: round summaries, AI-feedback agreement, the leaderboard, and what the
next round waits for."""

from __future__ import annotations

import statistics
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from annotation.enums import AssignmentState, CandidateSetState
from annotation.models import COUNTED, Assignment, Candidate, CandidateSet, Ranking
from annotation.preference.agreement import kendall_tau_b
from training.models import ModelVersion

from .models import Loop, LoopRound, RoundStatus, Trigger
from .services.triggers import latest_round_sets, loop_should_start, rankings_since_last_round

# The open sets listed by `loop_waiting_for`, oldest first; the total is counted.
WAITING_SETS_SHOWN = 50


def loop_rounds(loop: Loop):
    return loop.rounds.select_related(
        "snapshot", "reward_run", "policy_run", "generation_job", "policy_model", "reward_model"
    ).order_by("number")


def ai_agreement(loop_round: LoopRound) -> dict[str, Any] | None:
    """How the reward model's pre-ranking of this round's sets agrees with the humans who then
    ranked them: mean Kendall τ-b per (set, human ranking), and how often the humans' top
    choice is the model's top choice. None when the round pre-ranked nothing."""
    if loop_round.generation_job_id is None:
        return None
    sets = dict(
        CandidateSet.objects.filter(
            members__candidate__generation_job_id=loop_round.generation_job_id,
            ai_suggestion__isnull=False,
        )
        .distinct()
        .values_list("id", "ai_suggestion")
    )
    if not sets:
        return None
    taus, top_hits, rankings = [], 0, 0
    for set_id, tiers in Ranking.objects.filter(
        candidate_set_id__in=sets, not_rankable=False
    ).values_list("candidate_set_id", "tiers"):
        ai_tiers = sets[set_id]["tiers"]
        tau = kendall_tau_b(ai_tiers, tiers)
        if tau is not None:
            taus.append(tau)
        rankings += 1
        top_hits += bool(set(ai_tiers[0]) & set(tiers[0]))
    return {
        "sets": len(sets),
        "rankings": rankings,
        "mean_tau": statistics.fmean(taus) if taus else None,
        "top_choice_agreement": top_hits / rankings if rankings else None,
    }


def rm_comparisons(loop: Loop) -> list[tuple[int, int, float, str]]:
    """Every round's reward-model judgements of its new policy against earlier ones; the group
    (for the cluster bootstrap) is the round and evaluation prompt."""
    rows = []
    for number, evaluation in loop.rounds.order_by("number").values_list("number", "evaluation"):
        for a, b, outcome, prompt in (evaluation or {}).get("comparisons", []):
            rows.append((a, b, outcome, f"r{number}-p{prompt}"))
    return rows


def human_comparisons(project_id: int) -> list:
    """Model-vs-model comparisons from human rankings of sets whose candidates come from
    different model versions (`ranking_comparisons`: ties between versions count ½)."""
    from annotation.preference.leaderboard import ranking_comparisons

    version_of = dict(
        Candidate.objects.filter(
            prompt__project_id=project_id, model_version__isnull=False
        ).values_list("id", "model_version_id")
    )
    rows = []
    rankings = Ranking.objects.filter(
        COUNTED,  # not rejected or sent back by a reviewer (issue 18)
        candidate_set__project_id=project_id,
        candidate_set__gold_tiers__isnull=True,
        not_rankable=False,
    ).values_list("candidate_set_id", "tiers")
    for set_id, tiers in rankings.iterator(chunk_size=2000):
        rows += ranking_comparisons(tiers, version_of, group=f"s{set_id}")
    return rows


def leaderboard(loop: Loop, *, source: str, n_bootstrap: int = 1000, seed: int = 0) -> dict:
    """A Bradley–Terry leaderboard of the project's model versions, from reward-model
    judgements (``source="rm"``) or human rankings of mixed sets (``source="human"``), with
    95 % cluster-bootstrap intervals (rating 1000 = the mean of the versions compared)."""
    from annotation.preference.leaderboard import bradley_terry_leaderboard

    comparisons = rm_comparisons(loop) if source == "rm" else human_comparisons(loop.project_id)
    if not comparisons:
        return {"source": source, "comparisons": 0, "entries": []}
    board = bradley_terry_leaderboard(comparisons, n_bootstrap=n_bootstrap, seed=seed)
    names = dict(ModelVersion.objects.filter(pk__in=board.models).values_list("id", "name"))
    return {
        "source": source,
        "comparisons": len(comparisons),
        "entries": [
            {
                "model_version": e.model,
                "name": names.get(e.model, str(e.model)),
                "rating": e.rating,
                "ci_low": e.ci_low,
                "ci_high": e.ci_high,
                "wins": e.wins,
                "losses": e.losses,
                "ties": e.ties,
                "comparisons": e.comparisons,
            }
            for e in board.entries
        ],
    }


def lineage(loop_round: LoopRound) -> dict[str, Any]:
    """Round-N candidates → generation job → policy → policy run → snapshot → rankings; and
    the judge (a reward run on the snapshot with its splits swapped) beside the reward model."""
    snapshot = loop_round.snapshot
    return {
        "rankings": snapshot.counts.get("rankings") if snapshot else None,
        "snapshot": loop_round.snapshot_id,
        "reward_run": loop_round.reward_run_id,
        "reward_model": loop_round.reward_model_id,
        "judge_run": loop_round.judge_run_id,
        "judge_model": loop_round.judge_model_id,
        "policy_run": loop_round.policy_run_id,
        "policy_model": loop_round.policy_model_id,
        "generation_job": loop_round.generation_job_id,
    }


def loop_waiting_for(loop: Loop) -> dict[str, Any]:
    """What the loop's next round waits for (issue 18: the Loop page said only "No rounds
    yet" while one set was held by an idle browser tab): a round still running or awaiting a
    decision, and for the round_complete trigger the newest round's sets still open — their
    rankings so far and who holds a live lease on each, until when."""
    now = timezone.now()
    last = loop.rounds.order_by("-number").first()
    blocked_by = None if last is None or last.status == RoundStatus.SUCCEEDED else last.status
    latest, sets = latest_round_sets(loop)
    open_sets = sets.exclude(state=CandidateSetState.COMPLETE)
    live = Assignment.objects.filter(state=AssignmentState.LEASED, lease_expires_at__gt=now)
    shown = (
        open_sets.order_by("id")
        .annotate(ranked=Count("rankings", distinct=True))
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=live.select_related("annotator").order_by("lease_expires_at"),
                to_attr="live_leases",
            )
        )[:WAITING_SETS_SHOWN]
    )
    counts = sets.aggregate(
        total=Count("id"), complete=Count("id", filter=Q(state=CandidateSetState.COMPLETE))
    )
    needed = loop.project.annotations_per_set
    return {
        "auto": loop.auto,
        "trigger": loop.trigger,
        "blocked_by": blocked_by,
        "blocking_round": None if blocked_by is None else last.number,
        "ready": blocked_by is None and loop_should_start(loop),
        "round": latest,
        "sets": counts["total"],
        "complete": counts["complete"],
        "open_sets": [
            {
                "candidate_set": s.pk,
                "prompt": s.prompt_id,
                "rankings": s.ranked,
                "needed": needed,
                "leases": [
                    {"annotator": a.annotator.get_username(), "expires_at": a.lease_expires_at}
                    for a in s.live_leases
                ],
            }
            for s in shown
        ],
        "open_sets_total": counts["total"] - counts["complete"],
        "rankings_since_last_round": rankings_since_last_round(loop),
        "min_new_rankings": loop.min_new_rankings if loop.trigger == Trigger.NEW_RANKINGS else None,
    }

"""What a round's worker steps compute, as plain functions of the round (``rounds`` records their
results and moves the round on): evaluate the new policy and reward model, choose the next
round's prompts, and the reward model's pre-ranking of new sets (AI feedback).

Evaluation, recorded on the round (``LoopRound.evaluation``):

- ``reward``: the round's reward model on the snapshot's held-out (test) pairs — accuracy,
  against the "longer is better" baseline on the same pairs (RLHF-NOTES: ≈ 55 % on human data;
  an RM that does not beat it has learned length, not preference).
- ``policy`` / ``base_policy``: the new policy and the one it started from, sampled on the loop's
  evaluation prompts (held out: never annotated) with the same seed — mean reward-model score,
  and with an oracle (the tiny world's hidden rule) the preferred-trait rate.
- ``win_rate``: new vs previous policy on the same prompts, judged by this round's reward model
  (ties count half) — self-judged: the policy was optimised against this very model.
- ``judge``: the judge reward model (``LoopRound.judge_model``: trained on the snapshot's test
  split, which neither the round's reward model nor the policy trained on) and its accuracy on
  the round's train pairs beside their length baseline; or ``{"model_version": null,
  "reason": …}`` when the round has none.
- ``independent_win_rate``: the same sample pairs judged by the judge, as the annotators'
  expected preference: each pair's score difference through the judge's calibration (a
  logistic slope fitted on its margins over the round's train pairs, ``judge.calibration_slope``),
  averaged, so a judge that learnt nothing reports ½ whatever it leans towards
  (``hard_win_rate``: its plain wins, ties ½). A 95 % interval resampling prompts (clusters)
  and the calibration pairs (``ci_low``, ``ci_high``); the self-judged ``win_rate`` carries a
  cluster-bootstrap interval too.
- ``length_controlled_win_rate``: the judge's calibrated outcomes regressed on the length
  difference, σ(intercept) (AlpacaEval-LC, ``loop/services/win_rates.py``).
- ``comparisons``: the new policy against every earlier policy of the project whose samples an
  earlier round stored, judged by this round's reward model, as ``[a, b, outcome, prompt]`` for
  the Bradley–Terry leaderboard (`loop.selectors.leaderboard`).
- ``samples``: the texts sampled per model version, so later rounds compare against them without
  sampling old policies again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from annotation.enums import CandidateSetState, SetPurpose
from annotation.exports.rows import ExportOptions
from annotation.exports.stream import export_rows, snapshot_rankings
from annotation.models import CandidateSet, Prompt
from training.weights import weights_path

from ..models import LoopRound, Oracle, PromptSelection
from .win_rates import (
    calibrated_outcomes,
    calibrated_win_rate,
    judge_calibration,
    length_controlled_win_rate,
    outcomes_from_scores,
    win_rate_interval,
)

logger = logging.getLogger(__name__)

Messages = list[dict[str, str]]
MAX_HELDOUT_PAIRS = 2_000


def _threads() -> int | None:
    """Intra-op threads for scoring and sampling (``FLYWHEEL_TORCH_THREADS``; 0 leaves
    torch's default), as a training run's process does."""
    return settings.FLYWHEEL_TORCH_THREADS or None


def heldout_pairs(loop_round: LoopRound, split: str = "test") -> list[tuple[Messages, str, str]]:
    """(prompt, chosen, rejected) of a split of the round's snapshot (all pairs, ties dropped):
    ``test`` is held out from the round's reward model and policy, ``train`` from its judge."""
    snapshot = loop_round.snapshot
    rows = export_rows(
        project=snapshot.project,
        rankings=snapshot_rankings(snapshot=snapshot, split=split),
        options=ExportOptions(view="preference"),
    )
    pairs = []
    for row in rows:
        pairs.append((row["prompt"], row["chosen"][-1]["content"], row["rejected"][-1]["content"]))
        if len(pairs) >= MAX_HELDOUT_PAIRS:
            break
    return pairs


def evaluation_prompts(loop_round: LoopRound) -> list[Messages]:
    """The loop's held-out prompts; without any, the snapshot's test-split prompts (they were
    annotated, but the policy never trained on them)."""
    if loop_round.loop.eval_prompts:
        return list(loop_round.loop.eval_prompts)
    prompt_ids = (
        snapshot_rankings(snapshot=loop_round.snapshot, split="test")
        .values_list("candidate_set__prompt_id", flat=True)
        .distinct()
    )
    return [
        messages
        for messages in Prompt.objects.filter(pk__in=prompt_ids)
        .order_by("id")
        .values_list("messages", flat=True)[:200]
    ]


def sample_policy(
    model_dir: str | Path, prompts: Sequence[Messages], *, n: int, max_new_tokens: int, seed: int
) -> list[list[str]]:
    """``n`` samples per prompt (prompt-major, grouped per prompt), without U+0000: a model can
    emit it (byte-level tokenizers) and the round's jsonb, which stores them, cannot hold it."""
    from training.evaluation import sample_responses

    flat = sample_responses(
        model_dir,
        prompts,
        samples_per_prompt=n,
        max_new_tokens=max_new_tokens,
        seed=seed,
        cpu_threads=_threads(),
    )
    flat = [text.replace("\x00", "") for text in flat]
    return [flat[i : i + n] for i in range(0, len(flat), n)]


def _oracle_rates(
    oracle: str, prompts: Sequence[Messages], samples: list[list[str]]
) -> dict[str, float]:
    """The oracle's rates (``trait_rate``, ``well_formed_rate``, ``relevance_rate``) by the
    function ``settings.FLYWHEEL_ORACLES`` names for it, imported only now: the product never
    imports the tiny world."""
    return import_string(settings.FLYWHEEL_ORACLES[oracle])(prompts, samples)


def _flat(prompts: Sequence[Messages], samples: list[list[str]]):
    flat_prompts = [p for p, texts in zip(prompts, samples, strict=True) for _ in texts]
    flat_texts = [t for texts in samples for t in texts]
    return flat_prompts, flat_texts


def _stored_samples(loop_round: LoopRound, prompts: list[Messages]) -> dict[int, list[list[str]]]:
    """Samples of earlier policies that earlier rounds of this loop stored for the same
    evaluation prompts."""
    found: dict[int, list[list[str]]] = {}
    earlier = loop_round.loop.rounds.filter(number__lt=loop_round.number).order_by("number")
    for earlier_round in earlier:
        evaluation = earlier_round.evaluation or {}
        if evaluation.get("prompts") != prompts:
            continue
        for model_id, texts in (evaluation.get("samples") or {}).items():
            found[int(model_id)] = texts
    return found


def _accuracy(model, pairs, margins: list[float] | None = None) -> dict[str, Any]:
    """The model's accuracy on ``pairs`` beside their length baseline; its score margins
    (chosen − rejected) are appended to ``margins`` when given."""
    from training.evaluation import reward_model_accuracy

    if not pairs:
        return {"pairs": 0, "accuracy": None, "length_baseline": None}
    accuracy = reward_model_accuracy(model, pairs, cpu_threads=_threads())
    if margins is not None:
        margins.extend(accuracy.margins)
    return {
        "pairs": accuracy.n,
        "accuracy": accuracy.accuracy,
        "length_baseline": accuracy.length_baseline,
    }


def _judge(loop_round: LoopRound):
    """The round's judge reward model, loaded, what the evaluation says of it, and its score
    margins on the round's train pairs (its calibration, ``win_rates.judge_calibration``)."""
    from training.evaluation import load_reward_model

    if loop_round.judge_model is None:
        run = loop_round.judge_run
        if run is None:
            reason = "the snapshot's test split is empty, so nothing was held out to train one on"
        else:
            reason = f"the judge run {run.pk} {run.status}"
        return None, {"model_version": None, "reason": reason}, []
    judge_dir = load_reward_model(weights_path(loop_round.judge_model))
    margins: list[float] = []
    measured = _accuracy(judge_dir, heldout_pairs(loop_round, split="train"), margins)
    calibration = {"calibration_slope": judge_calibration(margins)}
    return judge_dir, {"model_version": loop_round.judge_model_id} | measured | calibration, margins


def _win_rate(new: list[float], old: list[float], groups: list[int], seed: int) -> dict:
    from training.evaluation import win_rate_from_scores

    win = win_rate_from_scores(new, old)
    low, high = win_rate_interval(outcomes_from_scores(new, old), groups, seed=seed)
    return {
        "n": win.n,
        "wins": win.wins,
        "losses": win.losses,
        "ties": win.ties,
        "win_rate": win.win_rate,
        "ci_low": low,
        "ci_high": high,
    }


def evaluate(loop_round: LoopRound) -> dict[str, Any]:
    from training.evaluation import load_reward_model, policy_comparisons, reward_scores

    loop = loop_round.loop
    rm_dir = load_reward_model(weights_path(loop_round.reward_model))  # loaded once
    threads = _threads()
    result: dict[str, Any] = {"reward": _accuracy(rm_dir, heldout_pairs(loop_round))}
    judge_dir, result["judge"], judge_margins = _judge(loop_round)

    prompts = evaluation_prompts(loop_round)
    result["prompts"] = prompts
    if not prompts:
        return result
    seed = loop.seed + 7919 * loop_round.number
    n = loop.eval_samples_per_prompt
    stored = _stored_samples(loop_round, prompts)
    policy = loop_round.policy_model
    base = loop_round.base_policy
    samples = {
        policy.pk: sample_policy(
            weights_path(policy), prompts, n=n, max_new_tokens=loop.eval_max_new_tokens, seed=seed
        )
    }
    if base.pk not in stored:
        samples[base.pk] = sample_policy(
            weights_path(base), prompts, n=n, max_new_tokens=loop.eval_max_new_tokens, seed=seed
        )
    every = stored | samples
    scores: dict[int, list[float]] = {}
    for model_id, texts in every.items():
        flat_prompts, flat_texts = _flat(prompts, texts)
        scores[model_id] = reward_scores(rm_dir, flat_prompts, flat_texts, cpu_threads=threads)

    def summary(model_id: int) -> dict[str, Any]:
        values = scores[model_id]
        row: dict[str, Any] = {
            "model_version": model_id,
            "samples": len(values),
            "mean_reward": sum(values) / len(values) if values else None,
        }
        if loop.oracle != Oracle.NONE:
            row |= _oracle_rates(loop.oracle, prompts, every[model_id])
        return row

    result["policy"] = summary(policy.pk)
    result["base_policy"] = summary(base.pk)
    groups = [i // n for i in range(len(scores[policy.pk]))]  # the prompt of each sample
    result["win_rate"] = _win_rate(scores[policy.pk], scores[base.pk], groups, seed)
    if judge_dir is not None:
        flat_prompts, new_texts = _flat(prompts, every[policy.pk])
        _, old_texts = _flat(prompts, every[base.pk])
        judged_new = reward_scores(judge_dir, flat_prompts, new_texts, cpu_threads=threads)
        judged_old = reward_scores(judge_dir, flat_prompts, old_texts, cpu_threads=threads)
        result["independent_win_rate"] = calibrated_win_rate(
            judged_new, judged_old, groups, judge_margins, seed=seed
        )
        result["length_controlled_win_rate"] = length_controlled_win_rate(
            calibrated_outcomes(judged_new, judged_old, judge_margins),
            [len(a) - len(b) for a, b in zip(new_texts, old_texts, strict=True)],
            groups,
            seed=seed,
        )
    result["comparisons"] = [
        list(comparison)
        for other_id in sorted(every)
        if other_id != policy.pk
        for comparison in policy_comparisons(
            {policy.pk: scores[policy.pk], other_id: scores[other_id]}, groups
        )
    ]
    result["samples"] = {str(k): v for k, v in samples.items()}
    return result


def pending_prompt_pool(loop_round: LoopRound) -> list[int]:
    """Prompts of the project that no open preference set is waiting on (gold and A/B
    evaluation sets aside): those never shown yet come first in id order, then those ranked in
    earlier rounds."""
    project_id = loop_round.loop.project_id
    preference = CandidateSet.objects.filter(
        project_id=project_id, gold_tiers__isnull=True, purpose=SetPurpose.PREFERENCE
    )
    busy = set(
        preference.exclude(state=CandidateSetState.COMPLETE).values_list("prompt_id", flat=True)
    )
    used = set(preference.values_list("prompt_id", flat=True))
    ids = [
        pid
        for pid in Prompt.objects.filter(project_id=project_id)
        .order_by("id")
        .values_list("id", flat=True)
        if pid not in busy
    ]
    return [pid for pid in ids if pid not in used] + [pid for pid in ids if pid in used]


def select_prompts(loop_round: LoopRound) -> tuple[list[int], dict[str, Any]]:
    """The next round's prompts: ``random`` (seeded), or ``uncertainty`` — sample K responses
    per pool prompt from the new policy, score them with this round's reward model and keep the
    prompts whose top two responses are closest (active learning: the labels the reward model
    is least sure of)."""
    loop = loop_round.loop
    pool = pending_prompt_pool(loop_round)
    wanted = loop.prompts_per_round or len(pool)
    info: dict[str, Any] = {"method": loop.prompt_selection, "pool": len(pool)}
    if not pool:
        return [], info | {"chosen": 0}
    if loop.prompt_selection == PromptSelection.RANDOM or wanted >= len(pool):
        rng = random.Random(f"{loop.seed}-{loop_round.number}")
        chosen = sorted(rng.sample(pool, min(wanted, len(pool))))
        return chosen, info | {"chosen": len(chosen)}
    from training.evaluation import margin_uncertainty, reward_scores

    messages = dict(Prompt.objects.filter(pk__in=pool).values_list("id", "messages"))
    prompts = [messages[pid] for pid in pool]
    k = loop.project.k
    samples = sample_policy(
        weights_path(loop_round.policy_model),
        prompts,
        n=k,
        max_new_tokens=int((loop.sampling or {}).get("max_new_tokens", loop.eval_max_new_tokens)),
        seed=loop.seed + 104729 * loop_round.number,
    )
    flat_prompts, flat_texts = _flat(prompts, samples)
    scores = reward_scores(
        weights_path(loop_round.reward_model), flat_prompts, flat_texts, cpu_threads=_threads()
    )
    margins: dict[int, float] = {}
    for i, pid in enumerate(pool):
        # Identical samples say nothing about the reward model's certainty (their margin is 0
        # by construction), and a prompt the policy answers one way yields no preference pair;
        # such prompts go last.
        rows = slice(i * k, (i + 1) * k)
        distinct = dict(zip(flat_texts[rows], scores[rows], strict=True))
        margins[pid] = margin_uncertainty(list(distinct.values())) if len(distinct) > 1 else None
    informative = [pid for pid in pool if margins[pid] is not None]
    ranked = sorted(informative, key=lambda pid: (margins[pid], pid))
    ranked += [pid for pid in pool if margins[pid] is None]
    chosen = sorted(ranked[:wanted])

    def mean(ids: list[int]) -> float | None:
        values = [margins[i] for i in ids if margins[i] is not None]
        return sum(values) / len(values) if values else None

    return chosen, info | {
        "chosen": len(chosen),
        "mean_margin_chosen": mean(chosen),
        "mean_margin_pool": mean(pool),
        "single_answer_prompts": len(pool) - len(informative),
    }


def ai_rank_sets(sets, *, reward_model) -> int:
    """Store the reward model's ranking of each set as its ``ai_suggestion`` (candidate ids in
    tiers, best first, and each candidate's score)."""
    from training.evaluation import rm_rank_sets

    sets = list(sets.select_related("prompt").prefetch_related("members__candidate"))
    inputs, ids = [], []
    for candidate_set in sets:
        members = sorted(candidate_set.members.all(), key=lambda m: m.position)
        ids.append([m.candidate_id for m in members])
        inputs.append((candidate_set.prompt.messages, [m.candidate.text for m in members]))
    ranked = rm_rank_sets(weights_path(reward_model), inputs, cpu_threads=_threads())
    for candidate_set, set_ids, (scores, tiers) in zip(sets, ids, ranked, strict=True):
        candidate_set.ai_suggestion = {
            "model_version": reward_model.pk,
            "tiers": [[set_ids[i] for i in tier] for tier in tiers],
            "scores": {str(set_ids[i]): float(s) for i, s in enumerate(scores)},
        }
    CandidateSet.objects.bulk_update(sets, ["ai_suggestion"])
    return len(sets)

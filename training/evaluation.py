"""Evaluation after a round, judged by a reward model: what the worker measures.

Issue 6 asks each round for: the RM's held-out accuracy against a length baseline, the new
policy's win rate over the previous one as the RM judges it, the RM's pre-ranking of candidate
sets (the AI-feedback suggestion), the margin between a set's top two candidates (active-learning
prompt selection) and Bradley–Terry comparisons between all policies
(:mod:`annotation.preference.leaderboard` fits the leaderboard). Everything rests on
:func:`reward_scores`; the statistics on top of it are plain functions of the scores
(:func:`accuracy_from_scores`, :func:`win_rate_from_scores`, :func:`score_tiers`,
:func:`margin_uncertainty`, :func:`policy_comparisons`), so they also apply to human or
hidden-rule scores. Importing this module imports no torch (the functions that run a model import
it), so the web process may use those statistics; the rest runs in the worker.

Scoring mirrors TRL's ``RewardTrainer`` (trl 1.16: ``_prepare_dataset`` and
``DataCollatorForPreference``) exactly, because an RM scores well only inputs shaped like those it
was trained on: the conversation ``prompt + [{"role": "assistant", "content": response}]``
rendered by the tokenizer's own chat template with ``tokenize=True`` and no generation prompt;
no EOS appended (TRL appends ``eos_token`` only to non-conversational text: in a conversation the
template writes the end-of-turn token itself); right padding with the tokenizer's pad token (TRL
falls back to EOS when there is none and writes that id into the model config, where the
sequence-classification head looks for the last real token); the scalar is ``logits[:, 0]``.
Departure: TRL drops training pairs longer than ``max_length``; an evaluation cannot drop a
response, so a sequence longer than the model's position limit keeps its last tokens (the reward
is read at the end), with a warning.

Judging by an RM is not judging by people: Gao et al. (2023, "Scaling Laws for Reward Model
Overoptimization") show a policy optimised against an RM can gain RM score while losing on the
gold preference, so the RM win rate of a policy trained on that same RM is an optimistic number;
an oracle such as the tiny world's hidden rule (``settings.FLYWHEEL_ORACLES``) is the check no
policy can fake.
An RM scores each response on its own, so unlike an LLM judge it has no position bias and no
order swapping is needed (RLHF-NOTES, "Evaluation").
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from annotation.preference.leaderboard import Comparison

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class LoadedRewardModel:
    """A reward model and its tokenizer in memory, so that several evaluations of one round load
    it once. Every function here takes this or the model's directory."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    path: Path


RewardModel = str | Path | LoadedRewardModel
PreferenceRow = tuple[Messages, str, str] | Mapping[str, Any]


class RMAccuracy(NamedTuple):
    """Pairwise accuracy of an RM on (prompt, chosen, rejected) rows; an equal score counts ½
    (``ties`` says how many), as in the length baseline beside it."""

    n: int
    accuracy: float
    length_baseline: float
    ties: int
    margins: tuple[float, ...] = ()  # chosen − rejected score, per pair


class WinRate(NamedTuple):
    """New vs old on the same prompts; ``win_rate = (wins + ties / 2) / n``."""

    n: int
    wins: int
    losses: int
    ties: int
    win_rate: float


class RankedSet(NamedTuple):
    """The RM's view of one candidate set: a score per text (in the set's order) and tiers of
    indices into the texts, best → worst, equal scores sharing a tier (as in
    :mod:`annotation.preference.tiers`)."""

    scores: list[float]
    tiers: list[list[int]]


def load_reward_model(path: str | Path, *, device: str | torch.device = "cpu") -> LoadedRewardModel:
    """Load an RM saved by a reward run (``save_model``: weights, config, tokenizer with chat
    template) in float32 and eval mode, with TRL's pad-token rule re-applied (a no-op on a model
    TRL saved, needed for one saved by hand)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=1, dtype=torch.float32
    )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.get_text_config().pad_token_id = tokenizer.pad_token_id
    return LoadedRewardModel(model.to(device).eval(), tokenizer, Path(path))


def reward_scores(
    reward_model: RewardModel,
    prompts: Sequence[Messages],
    responses: Sequence[str],
    *,
    batch_size: int = 64,
    cpu_threads: int | None = 1,
) -> list[float]:
    """The RM's scalar reward for each (prompt, response), in input order.

    Tokenised as TRL's ``RewardTrainer`` tokenises a conversational pair (module docstring).
    Identical token sequences are scored once, so identical texts get exactly equal scores
    (ties in :func:`score_tiers` are exact); the rest are batched by length to waste little on
    padding. Batching changes nothing but float rounding (< 1e-5 on the tiny model): right
    padding is invisible to the causal attention of the real tokens. ``cpu_threads`` intra-op
    threads while scoring (None: torch's setting; see ``training.generation.torch_threads``)."""
    import torch

    from training.generation import torch_threads

    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}.")
    loaded = _loaded(reward_model)
    tokenizer, model = loaded.tokenizer, loaded.model
    limit = getattr(model.config.get_text_config(), "max_position_embeddings", None)
    unique: dict[tuple[int, ...], int] = {}
    row_of: list[int] = []
    for prompt, response in zip(prompts, responses, strict=True):
        if isinstance(prompt, str):
            raise ValueError("A prompt is a list of messages, not a string.")
        conversation = [*prompt, {"role": "assistant", "content": response}]
        ids = tokenizer.apply_chat_template(conversation, tokenize=True, return_dict=True)
        row_of.append(unique.setdefault(tuple(ids["input_ids"]), len(unique)))
    sequences = list(unique)
    if limit is not None and any(len(s) > limit for s in sequences):
        logger.warning("kept the last %d tokens of sequences longer than the model allows", limit)
        sequences = [s[-limit:] for s in sequences]

    values = [0.0] * len(sequences)
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    pad = tokenizer.pad_token_id
    with torch_threads(cpu_threads) if cpu_threads else nullcontext(), torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            width = max(len(sequences[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad, dtype=torch.long)  # (B, T)
            attention_mask = torch.zeros((len(batch), width), dtype=torch.long)  # (B, T)
            for row, i in enumerate(batch):
                input_ids[row, : len(sequences[i])] = torch.tensor(sequences[i])
                attention_mask[row, : len(sequences[i])] = 1
            logits = model(
                input_ids=input_ids.to(model.device),
                attention_mask=attention_mask.to(model.device),
                use_cache=False,
            ).logits  # (B, 1)
            for i, value in zip(batch, logits[:, 0].float().tolist(), strict=True):
                values[i] = value
    return [values[i] for i in row_of]


def length_baseline_accuracy(pairs: Sequence[tuple[str, str]]) -> float:
    """How often "the longer response is better" agrees with (chosen, rejected) pairs; equal
    lengths count half. A rule that is not about length scores ≈ 0.5 here."""
    if not pairs:
        raise ValueError("no pairs")
    hits = sum(1.0 if len(c) > len(r) else 0.5 if len(c) == len(r) else 0.0 for c, r in pairs)
    return hits / len(pairs)


def accuracy_from_scores(
    chosen_scores: Sequence[float], rejected_scores: Sequence[float], *, length_baseline: float
) -> RMAccuracy:
    """Share of pairs the RM orders like the annotators (equal scores ½). InstructGPT's RMs
    reach 72.4 % on their training labelers and 69.6 % held out (Ouyang et al. 2022); a random
    RM is 50 % and "longer is better" ≈ 55 % on human data (RLHF-NOTES)."""
    wins, losses, ties = _tally(chosen_scores, rejected_scores)
    n = wins + losses + ties
    margins = tuple(float(c - r) for c, r in zip(chosen_scores, rejected_scores, strict=True))
    return RMAccuracy(n, (wins + ties / 2) / n, length_baseline, ties, margins)


def reward_model_accuracy(
    reward_model: RewardModel,
    rows: Sequence[PreferenceRow],
    *,
    batch_size: int = 64,
    cpu_threads: int | None = 1,
) -> RMAccuracy:
    """Held-out accuracy of the RM on preference rows, beside the length baseline on the same
    rows (``length_baseline_accuracy``: the longer text wins, equal lengths ½). A row is a
    ``(prompt, chosen, rejected)`` triple of messages and two texts, or a Flywheel preference
    export row ``{"prompt": [...], "chosen": [assistant message], "rejected": [...]}``. Unlike
    TRL's logged accuracy (a mean of batch means, ties counted wrong), this is over every
    pair."""
    triples = [_triple(row) for row in rows]
    if not triples:
        raise ValueError("No preference rows to evaluate.")
    prompts = [prompt for prompt, _, _ in triples]
    texts = [chosen for _, chosen, _ in triples] + [rejected for _, _, rejected in triples]
    scores = reward_scores(
        reward_model, prompts + prompts, texts, batch_size=batch_size, cpu_threads=cpu_threads
    )
    baseline = length_baseline_accuracy([(chosen, rejected) for _, chosen, rejected in triples])
    n = len(triples)
    return accuracy_from_scores(scores[:n], scores[n:], length_baseline=baseline)


def win_rate_from_scores(new_scores: Sequence[float], old_scores: Sequence[float]) -> WinRate:
    """Wins, losses and ties of ``new`` over ``old`` prompt by prompt; ties count ½."""
    wins, losses, ties = _tally(new_scores, old_scores)
    n = wins + losses + ties
    return WinRate(n, wins, losses, ties, (wins + ties / 2) / n)


def score_tiers(scores: Sequence[float]) -> list[list[int]]:
    """Indices of ``scores`` as tiers best → worst; equal scores share a tier, ascending."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    tiers: list[list[int]] = []
    for i in order:
        if tiers and scores[tiers[-1][0]] == scores[i]:
            tiers[-1].append(i)
        else:
            tiers.append([i])
    return tiers


def rm_rank_sets(
    reward_model: RewardModel,
    sets: Sequence[tuple[Messages, Sequence[str]]],
    *,
    batch_size: int = 64,
    cpu_threads: int | None = 1,
) -> list[RankedSet]:
    """The RM's ranking of each candidate set ``(prompt, texts)``: the AI-feedback suggestion
    shown to annotators, and the model side of its agreement with them. All sets are scored in
    one batched pass."""
    prompts = [prompt for prompt, texts in sets for _ in texts]
    texts = [text for _, texts in sets for text in texts]
    scores = reward_scores(
        reward_model, prompts, texts, batch_size=batch_size, cpu_threads=cpu_threads
    )
    ranked, start = [], 0
    for _, set_texts in sets:
        set_scores = scores[start : start + len(set_texts)]
        ranked.append(RankedSet(set_scores, score_tiers(set_scores)))
        start += len(set_texts)
    return ranked


def margin_uncertainty(scores: Sequence[float]) -> float:
    """Gap between the best and the second-best score of a set: small = the RM is unsure which
    response is best. Margin sampling (Scheffer, Decomain & Wrobel 2001) picks the prompts with
    the smallest gap for the next round. Under the RM's Bradley–Terry reading ``σ(gap)`` is its
    probability that the top candidate beats the runner-up, so gaps compare across sets."""
    if len(scores) < 2:
        raise ValueError(f"A margin needs at least two scores, got {len(scores)}.")
    best, second = sorted(scores, reverse=True)[:2]
    return float(best - second)


def policy_comparisons(
    scores: Mapping[Hashable, Sequence[float]], groups: Sequence[Hashable] | None = None
) -> list[Comparison]:
    """Leaderboard comparisons from RM scores of several policies' samples on the same prompts.

    ``scores[policy][i]`` is the score of that policy's sample for prompt i (aligned across
    policies). For every prompt and every pair of policies (in the mapping's order), the higher
    score wins and equal scores tie. ``groups[i]`` (default: i) is the prompt's cluster for the
    leaderboard's bootstrap: the policies' outcomes on one prompt share its difficulty. With
    several samples per prompt, pass them flattened with the prompt's id repeated in ``groups``.
    """
    keys = list(scores)
    lengths = {len(scores[key]) for key in keys}
    if len(lengths) > 1:
        raise ValueError(f"Every policy needs a score per prompt; got lengths {sorted(lengths)}.")
    n = lengths.pop() if lengths else 0
    if groups is not None and len(groups) != n:
        raise ValueError(f"{len(groups)} groups for {n} prompts.")
    comparisons = []
    for i in range(n):
        group = i if groups is None else groups[i]
        for x, a in enumerate(keys):
            for b in keys[x + 1 :]:
                sa, sb = scores[a][i], scores[b][i]
                outcome = 1.0 if sa > sb else 0.0 if sa < sb else 0.5
                comparisons.append(Comparison(a, b, outcome, group))
    return comparisons


def sample_responses(
    policy_dir: str | Path,
    prompts: Sequence[Messages],
    *,
    samples_per_prompt: int = 1,
    max_new_tokens: int = 64,
    **options: Any,
) -> list[str]:
    """Samples of the policy saved at ``policy_dir``, prompt-major (``samples_per_prompt`` per
    prompt), by the sampler generation jobs use (``training.generation.sample_saved_model``:
    ``sample_chat`` with ``SAMPLER_DEFAULTS`` overridden by ``sampling``, seeded on a private RNG
    stream; on a worker with CUDA and vllm, a vLLM engine with the same parameters, closed before
    the next policy loads); ``options`` are ``sample_saved_model``'s (sampling, seed,
    cpu_threads, batch_size)."""
    from training.generation import sample_saved_model

    texts, _ = sample_saved_model(
        str(policy_dir), prompts, n=samples_per_prompt, max_new_tokens=max_new_tokens, **options
    )
    return [text for row in texts for text in row]


def _loaded(reward_model: RewardModel) -> LoadedRewardModel:
    if isinstance(reward_model, LoadedRewardModel):
        return reward_model
    return load_reward_model(reward_model)


def _tally(first: Sequence[float], second: Sequence[float]) -> tuple[int, int, int]:
    """(first higher, second higher, equal) over aligned scores."""
    if len(first) != len(second):
        raise ValueError(f"{len(first)} scores against {len(second)}.")
    if not first:
        raise ValueError("No scores to compare.")
    wins = sum(a > b for a, b in zip(first, second, strict=True))
    losses = sum(a < b for a, b in zip(first, second, strict=True))
    return wins, losses, len(first) - wins - losses


def _triple(row: PreferenceRow) -> tuple[Messages, str, str]:
    if not isinstance(row, Mapping):
        prompt, chosen, rejected = row
        return list(prompt), chosen, rejected

    def reply(messages: Any, name: str) -> str:
        if isinstance(messages, str):
            return messages
        if len(messages) != 1 or messages[0].get("role") != "assistant":
            raise ValueError(f"{name}: expected one assistant message, got {messages!r}.")
        return messages[0]["content"]

    return list(row["prompt"]), reply(row["chosen"], "chosen"), reply(row["rejected"], "rejected")

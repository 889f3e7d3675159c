"""Reward-model diagnostics (issue 17): what a held-out accuracy means, in pure functions.

A reward model's held-out pairwise accuracy alone does not say whether it learned the
annotators' preference. Beside it this module puts

* the **length baseline**: the accuracy of "the longer response is better" on the same pairs
  (ties count half). Length is the classic spurious feature of RLHF preference data (Singhal et
  al. 2023, "A Long Way to Go: Investigating Length Correlations in RLHF"); an RM that does not
  beat it may have learned length, not preference. Length is counted in characters of the
  response text, which does not depend on the tokenizer;
* the **train accuracy** on a seeded sample of the train pairs: train ≫ held-out is memorising;
* **calibration** of P(chosen ≻ rejected) = σ(r_c − r_r), the Bradley–Terry probability the RM
  is trained to output: expected calibration error (Guo et al. 2017, Eq. 3) of the symmetrised
  prediction (confidence max(p, 1 − p), correct when p > 0.5) in 10 equal bins over [0.5, 1]
  (the confidence never falls below 0.5, so bins over [0, 1] would leave half of them empty),
  the Brier score (1 − p)² and the log loss −log p, each a mean over the pairs;
* **accuracy per prompt group**: per value of each prompt metadata key (e.g. the tiny world's
  ``topic``), where a prompt-dependent preference shows up as one group far below the rest;
* the **ceiling**: if each label agrees with the truth with probability q, independently, two
  annotators agree with probability a = q² + (1 − q)², so q = (1 + √(2a − 1)) / 2 is the best
  accuracy any model can reach against held-out labels (``ceiling_from_agreement``; the
  agreement itself is measured where the rankings are, ``training.services.diagnostics``).

No Django and no torch: the training process (``training.algorithms.reward``) calls these on
plain numbers, and the tests on hand-made ones.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Beside the run's export files: ``{prompt_id: {key: scalar}}``, written by the runner.
PROMPT_METADATA_FILE = "prompt_metadata.json"
# Beside the trained model: the diagnostics the training process measured (``reward_diagnostics``).
DIAGNOSTICS_FILE = "reward_diagnostics.json"
LENGTH_UNIT = "characters"
CALIBRATION_BINS = 10
TRAIN_SAMPLE_PAIRS = 2000  # enough for ±2 % on the train accuracy, a few seconds on a GPU
MAX_GROUP_VALUES = 50  # a key with more distinct values (an id, free text) is not a grouping
MAX_GROUP_KEYS = 20
MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class ScoredPair:
    """One comparison as the reward model scored it."""

    chosen_reward: float
    rejected_reward: float
    chosen_length: int
    rejected_length: int
    prompt_id: int | None = None

    @property
    def correct(self) -> bool:
        return self.chosen_reward > self.rejected_reward


def response_length(response: Any) -> int:
    """Characters of a response: a string, or the contents of its messages."""
    if isinstance(response, str):
        return len(response)
    if isinstance(response, Sequence):
        return sum(len(str(m.get("content", ""))) for m in response if isinstance(m, Mapping))
    return 0


def pair_accuracy(pairs: Sequence[ScoredPair]) -> float | None:
    """Share of pairs with r(chosen) > r(rejected); None without pairs."""
    return sum(p.correct for p in pairs) / len(pairs) if pairs else None


def length_baseline(pairs: Sequence[ScoredPair]) -> float | None:
    """Share of pairs whose chosen response is the longer one, a tie counting half."""
    if not pairs:
        return None
    score = sum(
        1.0
        if p.chosen_length > p.rejected_length
        else 0.5
        if p.chosen_length == p.rejected_length
        else 0.0
        for p in pairs
    )
    return score / len(pairs)


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def calibration(pairs: Sequence[ScoredPair], bins: int = CALIBRATION_BINS) -> dict | None:
    """ECE, Brier score and log loss of p = σ(r_c − r_r), and the reliability table: one row
    per bin of confidence max(p, 1 − p) over [0.5, 1] (``confidence``/``accuracy`` are None
    for an empty bin). None without pairs."""
    if not pairs:
        return None
    width = 0.5 / bins
    members: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    brier = log_loss = 0.0
    for pair in pairs:
        diff = pair.chosen_reward - pair.rejected_reward
        p = math.exp(_log_sigmoid(diff))
        confidence = max(p, 1.0 - p)
        members[min(int((confidence - 0.5) / width), bins - 1)].append((confidence, p > 0.5))
        brier += (1.0 - p) ** 2
        log_loss -= _log_sigmoid(diff)
    rows, ece = [], 0.0
    for index, items in enumerate(members):
        confidence = sum(c for c, _ in items) / len(items) if items else None
        accuracy = sum(ok for _, ok in items) / len(items) if items else None
        if items:
            ece += len(items) / len(pairs) * abs(accuracy - confidence)
        rows.append(
            {
                "lower": 0.5 + index * width,
                "upper": 0.5 + (index + 1) * width,
                "count": len(items),
                "confidence": confidence,
                "accuracy": accuracy,
            }
        )
    return {
        "pairs": len(pairs),
        "ece": ece,
        "brier": brier / len(pairs),
        "log_loss": log_loss / len(pairs),
        "bins": rows,
    }


def group_value(value: Any) -> str | None:
    """A metadata value as a group's label: scalars only (a list or object is no group)."""
    if isinstance(value, str):
        return value[:MAX_VALUE_CHARS]
    if isinstance(value, bool | int | float) or value is None:
        return json.dumps(value)
    return None


def accuracy_by_group(
    pairs: Sequence[ScoredPair], metadata: Mapping[str, Mapping[str, Any]]
) -> tuple[list[dict], list[dict]]:
    """Per metadata key (sorted), accuracy and length baseline per value (most pairs first) of
    the pairs whose prompt has that key. A key is shown when it has 2 to ``MAX_GROUP_VALUES``
    values among the pairs, at most ``MAX_GROUP_KEYS`` keys; the others are returned as
    skipped, with why. ``metadata`` maps a prompt id (as a JSON key: a string) to its
    metadata."""
    by_key: dict[str, dict[str, list[ScoredPair]]] = defaultdict(lambda: defaultdict(list))
    for pair in pairs:
        for key, value in metadata.get(str(pair.prompt_id), {}).items():
            label = group_value(value)
            if label is not None:
                by_key[key][label].append(pair)
    shown: list[dict] = []
    skipped: list[dict] = []
    for key in sorted(by_key):
        values = by_key[key]
        reason = (
            "one value only"
            if len(values) < 2
            else f"more than {MAX_GROUP_VALUES} values"
            if len(values) > MAX_GROUP_VALUES
            else f"more than {MAX_GROUP_KEYS} keys"
            if len(shown) >= MAX_GROUP_KEYS
            else ""
        )
        if reason:
            skipped.append({"key": key, "values": len(values), "reason": reason})
            continue
        groups = [
            {
                "value": label,
                "pairs": len(members),
                "accuracy": pair_accuracy(members),
                "length_baseline": length_baseline(members),
            }
            for label, members in sorted(values.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ]
        shown.append({"key": key, "values": len(values), "groups": groups})
    return shown, skipped


def train_sample(count: int, seed: int, cap: int = TRAIN_SAMPLE_PAIRS) -> list[int]:
    """Sorted indices of a seeded sample of at most ``cap`` of ``count`` rows."""
    if count <= cap:
        return list(range(count))
    return sorted(random.Random(seed).sample(range(count), cap))


def reward_diagnostics(
    *,
    heldout: Sequence[ScoredPair],
    train: Sequence[ScoredPair],
    train_pairs: int,
    metadata: Mapping[str, Mapping[str, Any]],
) -> dict:
    """What the training process measures (the ceiling is added where the rankings are). See
    ``training/apis/diagnostics.py`` for the shape."""
    heldout_accuracy, train_accuracy = pair_accuracy(heldout), pair_accuracy(train)
    groups, skipped = accuracy_by_group(heldout, metadata)
    return {
        "length_unit": LENGTH_UNIT,
        "heldout": _split(heldout, heldout_accuracy) if heldout else None,
        "train": _split(train, train_accuracy) | {"of_pairs": train_pairs} if train else None,
        "gap": (
            train_accuracy - heldout_accuracy
            if train_accuracy is not None and heldout_accuracy is not None
            else None
        ),
        "calibration": calibration(heldout),
        "groups": groups,
        "groups_skipped": skipped,
    }


def _split(pairs: Sequence[ScoredPair], accuracy: float | None) -> dict:
    return {"pairs": len(pairs), "accuracy": accuracy, "length_baseline": length_baseline(pairs)}


def ceiling_from_agreement(agreement: float) -> float:
    """The label accuracy q that gives pairwise agreement a = q² + (1 − q)² between two
    independent annotators: q = (1 + √max(0, 2a − 1)) / 2 (agreement below chance: 0.5)."""
    return (1.0 + math.sqrt(max(0.0, 2.0 * agreement - 1.0))) / 2.0


def scored_pairs(
    chosen: Iterable[float],
    rejected: Iterable[float],
    rows: Iterable[Mapping[str, Any]],
) -> list[ScoredPair]:
    """Pairs from the rewards and the export rows they were computed on, in the same order."""
    return [
        ScoredPair(
            chosen_reward=float(c),
            rejected_reward=float(r),
            chosen_length=response_length(row.get("chosen")),
            rejected_length=response_length(row.get("rejected")),
            prompt_id=row.get("prompt_id"),
        )
        for c, r, row in zip(chosen, rejected, rows, strict=True)
    ]


def strict_agreement_counts(rankings: Sequence[Sequence[Sequence[int]]]) -> tuple[int, int]:
    """``(same, cases)`` over (annotator pair, candidate pair) cases where both rankings
    (tiers of candidate ids, best first) order the pair strictly: the labels a held-out pair
    can carry, since the export makes no pair inside a tier. A tie is left out rather than
    counted as a disagreement, which would pull the ceiling below what a model can reach."""
    indexed = [{c: i for i, tier in enumerate(tiers) for c in tier} for tiers in rankings]
    same = cases = 0
    for first, second in itertools.combinations(indexed, 2):
        for x, y in itertools.combinations(sorted(first.keys() & second.keys()), 2):
            a, b = first[x] - first[y], second[x] - second[y]
            if a and b:
                cases += 1
                same += (a > 0) == (b > 0)
    return same, cases

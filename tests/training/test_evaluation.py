"""Evaluation by a reward model: scores exactly as TRL's RewardTrainer reads them, and the
statistics built on them (accuracy, win rate, tiers, margins, leaderboard comparisons).

Two tiny RMs: an untrained one (random scalar head on the tiny Llama), whose scores we can
negate or zero by editing its head so the expected statistics are known exactly, and one
trained in-process for two dozen steps on pairs where the chosen reply carries a marker word
and the rejected one a distractor word of the same length.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from annotation.preference.leaderboard import Comparison, bradley_terry_leaderboard
from tests.training.test_algorithms import (
    SENTENCES,
    RecordingHooks,
    assistant,
    make_inputs,
    user,
)
from training.algorithms import configs, reward
from training.algorithms.base import config_from_dict
from training.evaluation import (
    LoadedRewardModel,
    RankedSet,
    RMAccuracy,
    WinRate,
    accuracy_from_scores,
    length_baseline_accuracy,
    load_reward_model,
    margin_uncertainty,
    policy_comparisons,
    reward_model_accuracy,
    reward_scores,
    rm_rank_sets,
    sample_responses,
    score_tiers,
    win_rate_from_scores,
)

pytestmark = pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing`:FutureWarning")

PROMPTS = [user(f"Question {i}") for i in range(12)]
TEXTS = SENTENCES[:12]


def rm_win_rate(rm, prompts, new, old) -> WinRate:
    """The new responses' win rate over the old ones on the same prompts, judged by the RM, as
    the loop's evaluation computes it."""
    scores = reward_scores(rm, [*prompts, *prompts], [*new, *old])
    return win_rate_from_scores(scores[: len(prompts)], scores[len(prompts) :])


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def random_rm_dir(reward_model_dir: Path) -> Path:
    """The tiny model with a seeded random scalar head, saved as a reward run saves one."""
    return reward_model_dir


def marker_pairs(sentences: list[str], n: int, seed: int) -> list[dict]:
    """Preference export rows: "Thanks!" somewhere in the chosen reply, "Anyway!" (as long) in
    the rejected one, two different sentences: length says nothing, the word says everything."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        texts = []
        for word, sentence in zip(("Thanks!", "Anyway!"), rng.sample(sentences, 2), strict=True):
            words = sentence.split()
            words.insert(rng.randrange(len(words) + 1), word)
            texts.append(" ".join(words))
        rows.append(
            {
                "prompt": user(f"Request {seed}-{i}"),
                "chosen": assistant(texts[0]),
                "rejected": assistant(texts[1]),
                "set_id": i // 3,
            }
        )
    return rows


@pytest.fixture(scope="module")
def trained_rm(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """An RM trained by ``reward.train`` (24 steps, ~3 s) on :func:`marker_pairs`; returns its
    directory and held-out rows made of sentences it never saw."""
    sentences = SENTENCES[:]
    random.Random(0).shuffle(sentences)
    directory = tmp_path_factory.mktemp("trained-rm")
    inputs = make_inputs(tiny_model_dir, directory, marker_pairs(sentences[:200], 96, seed=1))
    config = {
        "learning_rate": 1e-3,
        "num_train_epochs": 2,
        "per_device_train_batch_size": 8,
        "gradient_accumulation_steps": 1,
        "lr_scheduler_type": "linear",
    }
    reward.train(config_from_dict(configs.RewardRunConfig, config), inputs, RecordingHooks())
    return inputs.output_dir, marker_pairs(sentences[200:], 40, seed=2)


def with_head(rm: LoadedRewardModel, scale: float) -> LoadedRewardModel:
    """A copy of ``rm`` whose scalar head is multiplied by ``scale`` (−1 negates every score,
    0 ties them all)."""
    model = AutoModelForSequenceClassification.from_pretrained(rm.path, num_labels=1).eval()
    model.config.pad_token_id = rm.tokenizer.pad_token_id
    with torch.no_grad():
        model.score.weight.mul_(scale)
    return dataclasses.replace(rm, model=model)


# --- Scores ---------------------------------------------------------------------------------


def test_scores_are_what_trls_reward_trainer_computes_on_the_same_pairs(
    random_rm_dir: Path, tmp_path: Path
):
    """The RM must be read with the tokenisation it was trained with: TRL's conversational
    tokenisation, collator padding and the score at the last real token."""
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    rows = [
        {"prompt": PROMPTS[i], "chosen": assistant(TEXTS[i]), "rejected": assistant(TEXTS[-i])}
        for i in range(6)
    ]
    args = RewardConfig(
        output_dir=str(tmp_path), report_to=[], use_cpu=True, activation_checkpointing=False
    )
    trainer = RewardTrainer(str(random_rm_dir), args=args, train_dataset=Dataset.from_list(rows))
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(rows))])
    with torch.no_grad():
        trl_rewards = trainer.model.eval()(**batch).logits.squeeze(-1).tolist()  # chosen, rejected

    prompts = [row["prompt"] for row in rows] * 2
    texts = [row["chosen"][0]["content"] for row in rows]
    texts += [row["rejected"][0]["content"] for row in rows]
    assert reward_scores(random_rm_dir, prompts, texts) == pytest.approx(trl_rewards, abs=1e-5)


def test_scores_are_deterministic_and_do_not_depend_on_batching(random_rm_dir: Path):
    rm = load_reward_model(random_rm_dir)
    texts = [TEXTS[i] * (1 + i % 3) for i in range(12)]  # mixed lengths: padding matters
    scores = reward_scores(rm, PROMPTS, texts, batch_size=5)
    assert reward_scores(rm, PROMPTS, texts, batch_size=5) == scores
    one_by_one = [reward_scores(rm, [p], [t])[0] for p, t in zip(PROMPTS, texts, strict=True)]
    assert scores == pytest.approx(one_by_one, abs=1e-5)
    assert reward_scores(random_rm_dir, PROMPTS, texts, batch_size=64) == pytest.approx(scores)
    assert len(set(scores)) == len(scores)  # a random head still tells the texts apart


def test_identical_replies_get_exactly_equal_scores(random_rm_dir: Path):
    rm = load_reward_model(random_rm_dir)
    prompt = PROMPTS[0]
    scores = reward_scores(rm, [prompt] * 4, [TEXTS[0], TEXTS[1] * 3, TEXTS[0], TEXTS[2]])
    assert scores[0] == scores[2] and len({scores[0], scores[1], scores[3]}) == 3


def test_scoring_rejects_mismatched_or_malformed_input(random_rm_dir: Path):
    rm = load_reward_model(random_rm_dir)
    with pytest.raises(ValueError, match="2 prompts but 1 responses"):
        reward_scores(rm, PROMPTS[:2], TEXTS[:1])
    with pytest.raises(ValueError, match="list of messages"):
        reward_scores(rm, ["Question 1"], TEXTS[:1])
    with pytest.raises(ValueError, match="batch_size"):
        reward_scores(rm, PROMPTS[:1], TEXTS[:1], batch_size=0)


# --- Statistics on controlled scores --------------------------------------------------------


def test_accuracy_and_win_rate_count_ties_as_half():
    accuracy = accuracy_from_scores([1.0, 2.0, 0.5, 3.0], [0.0, 2.0, 0.7, 1.0], length_baseline=0.5)
    assert accuracy[:4] == RMAccuracy(n=4, accuracy=2.5 / 4, length_baseline=0.5, ties=1)[:4]
    assert accuracy.margins == pytest.approx((1.0, 0.0, -0.2, 2.0))  # chosen − rejected
    assert win_rate_from_scores([1, 1, 1, 0, 2], [0, 1, 2, 0, 1]) == WinRate(5, 2, 1, 2, 0.6)
    with pytest.raises(ValueError, match="No scores"):
        win_rate_from_scores([], [])
    with pytest.raises(ValueError, match="2 scores against 1"):
        win_rate_from_scores([1, 2], [1])


def test_score_tiers_order_best_first_and_tie_equal_scores():
    assert score_tiers([0.2, 0.9, 0.2, -1.0, 0.9]) == [[1, 4], [0, 2], [3]]
    assert score_tiers([0.0, 0.0]) == [[0, 1]]
    assert score_tiers([]) == []


def test_margin_is_the_gap_between_the_top_two_scores():
    assert margin_uncertainty([0.1, 2.0, 1.5, -3.0]) == pytest.approx(0.5)
    assert margin_uncertainty([1.0, 1.0, 0.0]) == 0.0
    with pytest.raises(ValueError, match="at least two"):
        margin_uncertainty([1.0])


def test_policy_comparisons_feed_the_leaderboard_grouped_by_prompt():
    scores = {"sft": [0.0, 1.0, 0.5], "dpo-1": [1.0, 1.0, 0.9], "dpo-2": [2.0, 0.0, 1.0]}
    comparisons = policy_comparisons(scores, groups=["p1", "p2", "p3"])
    assert comparisons[:3] == [
        Comparison("sft", "dpo-1", 0.0, "p1"),
        Comparison("sft", "dpo-2", 0.0, "p1"),
        Comparison("dpo-1", "dpo-2", 0.0, "p1"),
    ]
    assert comparisons[3] == Comparison("sft", "dpo-1", 0.5, "p2")
    assert len(comparisons) == 3 * 3
    board = bradley_terry_leaderboard(comparisons, n_bootstrap=50)
    assert board.n_groups == 3 and board.models[-1] == "sft"
    assert [c.group for c in policy_comparisons({"a": [1, 2], "b": [0, 3]})] == [0, 1]
    with pytest.raises(ValueError, match="lengths"):
        policy_comparisons({"a": [1.0], "b": [1.0, 2.0]})


def test_the_statistics_import_without_torch():
    """The web process may rank by margins or tally win rates; it never imports torch."""
    code = (
        "import sys; from training import evaluation as e; "
        "assert e.margin_uncertainty([1.0, 0.5]) == 0.5 and e.score_tiers([1, 1]) == [[0, 1]]; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


# --- RM statistics with a known answer ------------------------------------------------------


def test_negating_the_head_flips_accuracy_and_win_rate(random_rm_dir: Path):
    rm = load_reward_model(random_rm_dir)
    negated = with_head(rm, -1.0)
    rows = [(PROMPTS[i], TEXTS[i], TEXTS[-1 - i]) for i in range(12)]
    accuracy, flipped = reward_model_accuracy(rm, rows), reward_model_accuracy(negated, rows)
    assert accuracy.n == 12 and accuracy.ties == 0
    assert flipped.accuracy == pytest.approx(1 - accuracy.accuracy)
    assert flipped.length_baseline == accuracy.length_baseline
    new, old = TEXTS, TEXTS[::-1]
    win, lose = rm_win_rate(rm, PROMPTS, new, old), rm_win_rate(negated, PROMPTS, new, old)
    assert (lose.wins, lose.losses) == (win.losses, win.wins)
    assert lose.win_rate == pytest.approx(1 - win.win_rate)


def test_a_zero_head_ties_everything(random_rm_dir: Path):
    flat = with_head(load_reward_model(random_rm_dir), 0.0)
    rows = [(PROMPTS[i], TEXTS[i], TEXTS[-1 - i]) for i in range(4)]
    accuracy = reward_model_accuracy(flat, rows)
    assert (accuracy.n, accuracy.accuracy, accuracy.ties) == (4, 0.5, 4)
    assert rm_win_rate(flat, PROMPTS[:3], TEXTS[:3], TEXTS[3:6]) == WinRate(3, 0, 0, 3, 0.5)
    (ranked,) = rm_rank_sets(flat, [(PROMPTS[0], TEXTS[:4])])
    assert ranked == RankedSet([0.0] * 4, [[0, 1, 2, 3]])
    assert margin_uncertainty(ranked.scores) == 0.0


def test_trained_rm_beats_the_length_baseline_on_held_out_pairs(trained_rm):
    rm_dir, heldout = trained_rm
    result = reward_model_accuracy(rm_dir, heldout)  # export rows, as the snapshot writes them
    expected = length_baseline_accuracy(
        [(row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in heldout]
    )
    assert result.n == 40 and result.ties == 0
    assert result.length_baseline == expected and abs(expected - 0.5) < 0.2
    assert result.accuracy >= 0.9 > result.length_baseline


def test_trained_rm_prefers_the_marker_in_win_rate_and_set_rankings(trained_rm):
    rm = load_reward_model(trained_rm[0])
    marked = [text.replace(" ", " Thanks! ", 1) for text in TEXTS[:8]]
    plain = [text.replace(" ", " Anyway! ", 1) for text in TEXTS[:8]]
    assert rm_win_rate(rm, PROMPTS[:8], marked, plain) == WinRate(8, 8, 0, 0, 1.0)

    ranked = rm_rank_sets(rm, [(PROMPTS[i], [plain[i], marked[i], plain[i]]) for i in range(4)])
    assert [r.tiers for r in ranked] == [[[1], [0, 2]]] * 4  # marked on top, duplicates tie
    assert all(margin_uncertainty(r.scores) > 1.0 for r in ranked)


# --- Policies --------------------------------------------------------------------------------


def test_policies_sampled_with_one_seed_and_judged_by_the_rm_tie_with_themselves(
    tiny_model_dir: Path, random_rm_dir: Path
):
    rm = load_reward_model(random_rm_dir)
    prompts = PROMPTS[:3]
    samples = sample_responses(tiny_model_dir, prompts, samples_per_prompt=2, max_new_tokens=6)
    assert len(samples) == 6
    assert sample_responses(tiny_model_dir, prompts, samples_per_prompt=2, max_new_tokens=6) == (
        samples
    )

    rows = [p for p in prompts for _ in "xy"]
    scores = {policy: reward_scores(rm, rows, samples) for policy in ("sft", "same-weights")}
    comparisons = policy_comparisons(scores, groups=[p for p in "abc" for _ in "xy"])
    assert [c.group for c in comparisons] == ["a", "a", "b", "b", "c", "c"]
    assert all(c.outcome == 0.5 for c in comparisons)  # same policy, same seed: ties

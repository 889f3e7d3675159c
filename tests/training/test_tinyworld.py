"""The tiny world: the hidden rule and simulated annotator, a trait that is not length, a held-out
split, and the SFT bootstrap's policy, which writes the format and shows the trait only part of
the time (so that a preference round has room to raise it). The world is built once per session
with the default parameters, the ones `manage.py build_tinyworld` uses."""

from __future__ import annotations

import json
import random
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from transformers import AutoModelForCausalLM, AutoTokenizer

from tinyworld import build, model, world
from tinyworld.build import MANIFEST_FILE, TinyWorld, build_tinyworld
from tinyworld.evaluate import preferred_trait_rate
from tinyworld.scorer import (
    has_preferred_trait,
    hidden_rule_score,
    is_well_formed,
    pairs_from_tiers,
    simulated_preference_pairs,
    simulated_ranking,
)
from training.evaluation import length_baseline_accuracy
from training.generation import sample_chat, torch_threads

OWLS = world.user_prompt("Tell me about owls.")
POLITE_ON_TOPIC = "Many people think owls are quiet. Hope this helps!"
POLITE_OFF_TOPIC = "Many people think whales are quiet. Hope this helps!"
NEUTRAL_ON_TOPIC = "Many people think owls are quiet. That covers it."
NEUTRAL_OFF_TOPIC = "Many people think whales are quiet. That covers it."


# --- the hidden rule and the simulated annotator -------------------------------------------


def test_polite_closing_beats_the_same_response_without_it() -> None:
    assert hidden_rule_score(OWLS, POLITE_ON_TOPIC) > hidden_rule_score(OWLS, NEUTRAL_ON_TOPIC)
    assert has_preferred_trait(OWLS, POLITE_ON_TOPIC)
    assert not has_preferred_trait(OWLS, NEUTRAL_ON_TOPIC)


def test_trait_dominates_relevance() -> None:
    scores = [hidden_rule_score(OWLS, r) for r in (POLITE_ON_TOPIC, POLITE_OFF_TOPIC)]
    scores += [hidden_rule_score(OWLS, r) for r in (NEUTRAL_ON_TOPIC, NEUTRAL_OFF_TOPIC)]

    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 4
    assert hidden_rule_score(OWLS, POLITE_OFF_TOPIC) > hidden_rule_score(OWLS, NEUTRAL_ON_TOPIC)


@pytest.mark.parametrize(
    "response",
    [
        "Hope this helps! Many people think owls are quiet.",  # polite, but not the closing
        "Many people think owls are quiet. Hope this helps",  # not the exact sentence
        "Many people think owls are quiet. hope this helps!",
        "Many people think owls are quiet. Hope this helps!!",
        "",
    ],
)
def test_trait_is_an_exact_polite_last_sentence(response: str) -> None:
    assert not has_preferred_trait(OWLS, response)


def test_trait_ignores_surrounding_whitespace() -> None:
    assert has_preferred_trait(OWLS, "  Owls hoot.\nHope this helps!\n")
    assert has_preferred_trait(OWLS, "Hope this helps!")  # the trait; not well formed
    assert not is_well_formed("Hope this helps!")


def test_noise_free_ranking_is_exact_and_equal_scores_tie() -> None:
    responses = [NEUTRAL_OFF_TOPIC, POLITE_ON_TOPIC, NEUTRAL_ON_TOPIC, POLITE_ON_TOPIC]

    tiers = simulated_ranking(OWLS, responses, noise=0.0, rng=random.Random(0))

    assert tiers == [[1, 3], [2], [0]]
    assert pairs_from_tiers(tiers) == [(1, 2), (3, 2), (1, 0), (3, 0), (2, 0)]


def test_noisy_ranking_sometimes_differs_and_is_seeded() -> None:
    responses = [NEUTRAL_OFF_TOPIC, NEUTRAL_ON_TOPIC, POLITE_OFF_TOPIC, POLITE_ON_TOPIC]
    exact = [[3], [2], [1], [0]]

    def rankings(seed: int) -> list[list[list[int]]]:
        rng = random.Random(seed)
        return [simulated_ranking(OWLS, responses, noise=0.3, rng=rng) for _ in range(200)]

    noisy = rankings(seed=1)
    differing = sum(r != exact for r in noisy) / len(noisy)
    assert 0.1 < differing < 0.9
    assert rankings(seed=1) == noisy
    assert rankings(seed=2) != noisy
    assert all(sorted(i for tier in r for i in tier) == [0, 1, 2, 3] for r in noisy)


def test_noise_outside_unit_interval_is_rejected() -> None:
    with pytest.raises(ValueError, match="noise"):
        simulated_ranking(OWLS, [POLITE_ON_TOPIC], noise=1.5, rng=random.Random(0))


def test_length_baseline_on_simulated_preference_pairs_is_near_chance() -> None:
    """The trait is not length: "longer is better" is a coin flip on the hidden rule's pairs."""
    train, _ = world.split_prompts(seed=0)
    rows = simulated_preference_pairs(train, random.Random(0), k=4, noise=0.0)
    pairs = [(row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in rows]
    trait_pairs = [
        (c, r)
        for c, r in pairs
        if has_preferred_trait(OWLS, c) and not has_preferred_trait(OWLS, r)
    ]

    assert len(pairs) > 500
    assert len(trait_pairs) > 200
    assert 0.4 < length_baseline_accuracy(pairs) < 0.6
    assert 0.4 < length_baseline_accuracy(trait_pairs) < 0.6


def test_polite_and_neutral_closings_have_the_same_length_on_average() -> None:
    def mean_length(closings: tuple[str, ...]) -> float:
        return sum(map(len, closings)) / len(closings)

    assert mean_length(world.POLITE_CLOSINGS) == pytest.approx(mean_length(world.NEUTRAL_CLOSINGS))


# --- prompts and data ------------------------------------------------------------------------


def test_heldout_prompts_are_disjoint_from_train_prompts() -> None:
    train, heldout = world.split_prompts(seed=0)
    texts = {p[0]["content"] for p in train}

    assert not texts & {p[0]["content"] for p in heldout}
    assert len(train) + len(heldout) == len(world.all_prompts())
    assert len(heldout) == pytest.approx(0.2 * len(world.all_prompts()), abs=1)
    assert {world.prompt_topic(p) for p in train} == set(world.TOPICS)
    assert world.split_prompts(seed=0) == (train, heldout)
    assert world.split_prompts(seed=1) != (train, heldout)


def test_sft_rows_show_the_trait_at_the_configured_fraction() -> None:
    train, _ = world.split_prompts(seed=0)
    rows = world.sft_examples(train, random.Random(0), per_prompt=2, trait_fraction=0.35)
    replies = [row["messages"][-1]["content"] for row in rows]

    assert [m["role"] for m in rows[0]["messages"]] == ["user", "assistant"]
    assert all(is_well_formed(r) for r in replies)
    assert sum(has_preferred_trait(OWLS, r) for r in replies) == round(0.35 * len(rows))


# --- the built world -------------------------------------------------------------------------


def test_sft_policy_shows_the_trait_only_part_of_the_time(tinyworld: TinyWorld) -> None:
    ev = tinyworld.sft_eval

    assert ev["samples"] >= 150
    assert 0.05 < tinyworld.sft_trait_rate < 0.8
    assert ev["well_formed_rate"] > 0.8
    assert ev["finished_rate"] > 0.9


def test_sft_samples_follow_the_chat_format(tinyworld: TinyWorld) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tinyworld.sft_model_dir)
    policy = AutoModelForCausalLM.from_pretrained(tinyworld.sft_model_dir)
    prompts = tinyworld.heldout_prompts()[:8]

    with torch_threads(1):
        texts, finished = sample_chat(policy, tokenizer, prompts, n=2, max_new_tokens=64, seed=0)

    replies = [t for row in texts for t in row]
    assert len(replies) == 16
    assert sum(f for row in finished for f in row) >= 14
    assert sum(is_well_formed(t) for t in replies) >= 12
    for reply in replies:
        assert "<|im_start|>" not in reply and "assistant\n" not in reply


def test_preferred_trait_rate_is_seeded_and_fast(tinyworld: TinyWorld) -> None:
    prompts = tinyworld.heldout_prompts()[:16]

    started = time.perf_counter()
    rate = preferred_trait_rate(
        tinyworld.sft_model_dir, prompts, samples_per_prompt=4, max_new_tokens=64, seed=3
    )
    elapsed = time.perf_counter() - started

    assert 0.0 < rate < 1.0
    assert elapsed < 10  # about 0.5 s on 2 idle cores
    assert rate == preferred_trait_rate(
        tinyworld.sft_model_dir, prompts, samples_per_prompt=4, max_new_tokens=64, seed=3
    )


def test_second_build_is_a_cache_hit(tinyworld: TinyWorld) -> None:
    manifest = tinyworld.root / MANIFEST_FILE
    written = manifest.stat().st_mtime_ns

    started = time.perf_counter()
    again = build_tinyworld(tinyworld.root, seed=0)
    elapsed = time.perf_counter() - started

    assert elapsed < 0.5
    assert again.cached  # the session's fixture may itself have been a cache hit
    assert again.build_seconds == tinyworld.build_seconds
    assert again.sft_model_dir == tinyworld.sft_model_dir
    assert again.base_model_dir == tinyworld.base_model_dir
    assert again.heldout_prompts_file == tinyworld.heldout_prompts_file
    assert again.sft_trait_rate == tinyworld.sft_trait_rate
    assert manifest.stat().st_mtime_ns == written


def test_built_sft_model_loads_by_path_with_its_chat_template(tinyworld: TinyWorld) -> None:
    policy = AutoModelForCausalLM.from_pretrained(tinyworld.sft_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tinyworld.sft_model_dir)

    assert tokenizer.chat_template == model.CHAT_TEMPLATE
    assert policy.config.eos_token_id == tokenizer.eos_token_id
    assert policy.generation_config.pad_token_id == tokenizer.pad_token_id
    rendered = tokenizer.apply_chat_template(OWLS, add_generation_prompt=True, tokenize=False)
    assert rendered.endswith("<|im_start|>assistant\n")


def test_built_data_files_hold_the_split_and_the_sft_rows(tinyworld: TinyWorld) -> None:
    train, heldout = world.split_prompts(seed=0)
    sft_rows = [json.loads(line) for line in tinyworld.sft_data_file.read_text().splitlines()]
    sft_prompts = {row["messages"][0]["content"] for row in sft_rows}

    assert tinyworld.train_prompts() == train
    assert tinyworld.heldout_prompts() == heldout
    assert not sft_prompts & {p[0]["content"] for p in heldout}


def test_build_expects_the_current_base_model_build_version() -> None:
    """build.py pins model.BUILD_VERSION without importing it; bump both together."""
    assert build.MODEL_BUILD_VERSION == model.BUILD_VERSION


def test_build_tinyworld_command_prints_paths_and_trait_rate(tinyworld: TinyWorld) -> None:
    out = StringIO()

    call_command("build_tinyworld", root=Path(tinyworld.root), stdout=out)

    text = out.getvalue()
    assert "cached" in text
    assert str(tinyworld.sft_model_dir) in text
    assert str(tinyworld.heldout_prompts_file) in text
    assert f"{tinyworld.sft_trait_rate:.3f}" in text

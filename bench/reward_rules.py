"""Can the reward model learn a preference that depends on the prompt? (issue 17)

    python bench/reward_rules.py [--rules polite,topic,template] [--seed 0]
                                 [--variants preset,lr3e-4,3sets-preset,3sets-lr3e-4]

The loop's reward step, without the loop: the tiny world's SFT policy samples candidates for
every train prompt and held-out prompt (the product's sampler), simulated annotators rank each
set of K = 4 by a hidden rule (``tinyworld.scorer.RULES``) with 10 % noise (held-out sets
without noise), every cross-tier pair becomes a row of the preference export's shape (margin,
set id), and the product's reward algorithm (``training.algorithms.reward``) trains on it from
the SFT policy, as a round does. Printed per rule and variant: held-out pairwise accuracy
(the run's ``eval_accuracy``), the same on the train pairs (memorising shows as a gap), the
length baseline on the held-out pairs ("the longer reply wins") and the annotators' ceiling
(how often a noisy label agrees with the rule, on the train pairs).

Variants: ``preset`` is the tiny world's reward preset (``TINYWORLD_REWARD_CONFIG``); ``lr3e-4``
the same at learning rate 3e-4 for 4 epochs; ``3sets-*`` three sets of 4 per train prompt
instead of one (three times the comparisons per prompt). Caches the world and the samples under
var/bench-reward-rules. About 1 minute per (rule, variant) on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path

from common import ROOT, NoHooks, in_process_django

in_process_django()

NOISE = 0.1
K = 4
VARIANTS = {
    "preset": (1, {}),
    "lr3e-4": (1, {"learning_rate": 3e-4, "num_train_epochs": 4.0}),
    "3sets-preset": (3, {}),
    "3sets-lr3e-4": (3, {"learning_rate": 3e-4, "num_train_epochs": 4.0}),
}


def samples(world, work: Path, seed: int) -> dict:
    """3 × K SFT samples per train prompt and K per held-out prompt, cached."""
    from training.generation import sample_saved_model

    cache = work / f"samples-{seed}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    train, heldout = world.train_prompts(), world.heldout_prompts()
    sft = str(world.sft_model_dir)
    a, _ = sample_saved_model(sft, train, n=3 * K, max_new_tokens=64, seed=1000 + seed)
    b, _ = sample_saved_model(sft, heldout, n=K, max_new_tokens=64, seed=2000 + seed)
    data = {
        "train": list(zip(train, a, strict=True)),
        "heldout": list(zip(heldout, b, strict=True)),
    }
    cache.write_text(json.dumps(data))
    return data


def preference_rows(sets, rule: str, noise: float, rng: random.Random) -> tuple[list, float]:
    """Export-shaped rows from ranked sets, and the share of them whose order the noiseless
    rule agrees with (the annotators' ceiling)."""
    from tinyworld.scorer import hidden_rule_score, pairs_from_tiers, simulated_ranking

    rows, agree = [], 0
    for set_id, (prompt, responses) in enumerate(sets):
        tiers = simulated_ranking(prompt, responses, noise=noise, rng=rng, rule=rule)
        tier_of = {i: t for t, members in enumerate(tiers) for i in members}
        for w, lo in pairs_from_tiers(tiers):
            score = [hidden_rule_score(prompt, responses[i], rule=rule) for i in (w, lo)]
            agree += score[0] > score[1]
            rows.append(
                {
                    "prompt": prompt,
                    "chosen": [{"role": "assistant", "content": responses[w]}],
                    "rejected": [{"role": "assistant", "content": responses[lo]}],
                    "margin": (tier_of[lo] - tier_of[w]) / max(len(tiers) - 1, 1),
                    "set_id": set_id,
                }
            )
    return rows, agree / max(len(rows), 1)


def pair_accuracy(model_dir: Path, rows: list) -> float:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()

    def reward(conversation) -> float:
        ids = tokenizer.apply_chat_template(
            conversation, tokenize=True, return_dict=True, return_tensors="pt"
        )
        with torch.no_grad():
            return model(**ids).logits.item()

    wins = sum(
        reward(row["prompt"] + row["chosen"]) > reward(row["prompt"] + row["rejected"])
        for row in rows
    )
    return wins / len(rows)


def measure(world, data, work: Path, rule: str, variant: str, seed: int) -> dict:
    from tinyworld.presets import TINYWORLD_REWARD_CONFIG
    from training.algorithms.base import TrainInputs
    from training.algorithms.registry import algorithm

    sets_per_prompt, overrides = VARIANTS[variant]
    rng = random.Random(f"reward-rules/{rule}/{seed}")
    train_sets = [
        (prompt, texts[i * K : (i + 1) * K])
        for prompt, texts in data["train"]
        for i in range(sets_per_prompt)
    ]
    train, ceiling = preference_rows(train_sets, rule, NOISE, rng)
    heldout, _ = preference_rows(data["heldout"], rule, 0.0, rng)
    run_dir = work / f"{rule}-{variant}-{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    for name, rows in (("train", train), ("heldout", heldout)):
        (run_dir / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = algorithm("reward")
    inputs = TrainInputs(
        base_model=world.sft_model_dir,
        output_dir=run_dir / "model",
        checkpoint_dir=run_dir / "checkpoints",
        train_file=run_dir / "train.jsonl",
        eval_file=run_dir / "heldout.jsonl",
        seed=seed,
    )
    started = time.monotonic()
    result = spec.train_function()(
        spec.build_config(TINYWORLD_REWARD_CONFIG | overrides), inputs, NoHooks()
    )
    seconds = time.monotonic() - started
    longer = sum(len(r["chosen"][0]["content"]) > len(r["rejected"][0]["content"]) for r in heldout)
    return {
        "rule": rule,
        "variant": variant,
        "seed": seed,
        "train_pairs": len(train),
        "heldout_accuracy": result.metrics["eval_accuracy"],
        "train_accuracy": pair_accuracy(run_dir / "model", train),
        "length_baseline": longer / len(heldout),
        "ceiling": ceiling,
        "seconds": seconds,
    }


def arguments(doc: str, rules: str, variants: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rules", default=rules)
    parser.add_argument("--variants", default=variants)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def world_and_samples(seed: int):
    """Django set up, one torch thread; the cached world, its samples and the work directory."""
    import django

    django.setup()
    import torch

    torch.set_num_threads(1)
    from tinyworld.build import build_tinyworld

    work = ROOT / "var" / "bench-reward-rules"
    world = build_tinyworld(work / "world")
    return world, samples(world, work, seed), work


def main() -> None:
    args = arguments(__doc__, "polite,topic,template", ",".join(VARIANTS))
    world, data, work = world_and_samples(args.seed)
    print(
        "| rule | variant | seed | train pairs | held-out acc | train acc | length baseline "
        "| ceiling | s |\n|---|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    for rule in args.rules.split(","):
        for variant in args.variants.split(","):
            m = measure(world, data, work, rule, variant, args.seed)
            print(
                f"| {rule} | {variant} | {m['seed']} | {m['train_pairs']} "
                f"| {m['heldout_accuracy']:.3f} | {m['train_accuracy']:.3f} "
                f"| {m['length_baseline']:.3f} | {m['ceiling']:.3f} | {m['seconds']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

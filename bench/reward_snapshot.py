"""The loop's reward run against `bench/reward_rules.py`, on the loop's own data (issue 17).

    python bench/reward_snapshot.py --run-data DIR [--rule topic] [--seed 0]
                                    [--variants loop,loop-seed1,...] [--train-seeds 0]

``DIR`` is a round's reward-run export (``<var>/models/runs/<id>/data`` of a kept
``bench/loop.py --keep`` run: ``train.jsonl``, ``test.jsonl``, the snapshot's split of the
round's rankings). Trains the product's reward algorithm from the tiny world's SFT policy, as a
round does, on a variant's train rows, then measures pairwise accuracy on four held-out sets:

- ``test-noisy``: the snapshot's test split as the annotators ranked it (what the round reports);
- ``test-exact``: the same sets of the test split ranked by the rule without noise;
- ``heldout-exact``: `bench/reward_rules.py`'s held-out set (the world's held-out prompts, SFT
  samples, no noise; what its 0.79 / 0.84 were measured on);
- ``train-exact``: the variant's train sets ranked without noise (memorising shows here).

Variants (train rows): ``loop`` the snapshot's train split as exported; ``loop-exact`` its sets
ranked without noise; ``loop-all`` train + test split (every annotated prompt);
``rules`` reward_rules' 3-sets data (its own SFT samples of every train prompt, its noise);
``rules-80`` the same restricted to the loop's train-split prompts; ``loop-renoised1|2`` the
snapshot's train sets ranked again with fresh 10 % noise; ``loop+1set`` / ``loop+3set`` the
snapshot's train split plus 1 / 3 of reward_rules' sets of the same prompts (4 / 6 sets per
prompt). ``--train-seeds`` repeats each variant with other training seeds (the run's own
variance); ``--lr`` / ``--epochs`` override the tiny world's reward preset (``--tag=NAME`` names
the variant). Caches under var/bench-reward-rules (shared with reward_rules.py). Results:
bench/RESULTS.md, "Topic rule: the loop's reward run against reward_rules".
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import time
from pathlib import Path

from common import NoHooks, in_process_django

in_process_django()

from reward_rules import (  # noqa: E402
    NOISE,
    K,
    pair_accuracy,
    preference_rows,
    world_and_samples,
)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sets_of(rows: list[dict]) -> list[tuple[list, list[str]]]:
    """(prompt, responses) of every set in export rows (the responses its pairs name)."""
    sets: dict = {}
    for row in rows:
        prompt, responses = sets.setdefault(row["set_id"], (row["prompt"], []))
        for side in ("chosen", "rejected"):
            text = row[side][-1]["content"]
            if text not in responses:
                responses.append(text)
    return list(sets.values())


def prompt_key(prompt) -> str:
    return json.dumps(prompt, sort_keys=True)


def length_baseline(rows: list[dict]) -> float:
    longer = sum(
        (len(r["chosen"][-1]["content"]) > len(r["rejected"][-1]["content"]))
        + 0.5 * (len(r["chosen"][-1]["content"]) == len(r["rejected"][-1]["content"]))
        for r in rows
    )
    return longer / max(len(rows), 1)


def train_one(world, rows: list[dict], evals: dict, run_dir: Path, seed: int, overrides: dict):
    from tinyworld.presets import TINYWORLD_REWARD_CONFIG
    from training.algorithms.base import TrainInputs
    from training.algorithms.registry import algorithm

    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    (run_dir / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run_dir / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in evals["test-noisy"]))
    spec = algorithm("reward")
    inputs = TrainInputs(
        base_model=world.sft_model_dir,
        output_dir=run_dir / "model",
        checkpoint_dir=run_dir / "checkpoints",
        train_file=run_dir / "train.jsonl",
        eval_file=run_dir / "test.jsonl",
        seed=seed,
    )
    started = time.monotonic()
    result = spec.train_function()(
        spec.build_config(TINYWORLD_REWARD_CONFIG | overrides), inputs, NoHooks()
    )
    accuracy = {name: pair_accuracy(run_dir / "model", e) for name, e in evals.items()}
    accuracy["run eval_accuracy"] = result.metrics["eval_accuracy"]
    accuracy["seconds"] = time.monotonic() - started
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-data", required=True, type=Path)
    parser.add_argument("--rule", default="topic")
    parser.add_argument("--seed", type=int, default=0, help="reward_rules' data seed.")
    parser.add_argument("--variants", default="loop,loop-exact,loop-all,rules,rules-80")
    parser.add_argument("--train-seeds", default="0")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    overrides = {}
    if args.lr:
        overrides["learning_rate"] = args.lr
    if args.epochs:
        overrides["num_train_epochs"] = args.epochs

    world, data, work = world_and_samples(args.seed)
    rule = args.rule
    exact = random.Random(0)
    loop_train, loop_test = read(args.run_data / "train.jsonl"), read(args.run_data / "test.jsonl")
    train_prompts = {prompt_key(r["prompt"]) for r in loop_train}
    rng = random.Random(f"reward-rules/{rule}/{args.seed}")
    rules_sets = [
        (prompt, texts[i * K : (i + 1) * K]) for prompt, texts in data["train"] for i in range(3)
    ]
    rules_train, rules_ceiling = preference_rows(rules_sets, rule, NOISE, rng)
    heldout_exact, _ = preference_rows(data["heldout"], rule, 0.0, rng)
    test_exact, _ = preference_rows(sets_of(loop_test), rule, 0.0, exact)
    variants = {
        "loop": loop_train,
        "loop-exact": preference_rows(sets_of(loop_train), rule, 0.0, exact)[0],
        "loop-all": loop_train + loop_test,
        "rules": rules_train,
        "rules-80": [r for r in rules_train if prompt_key(r["prompt"]) in train_prompts],
    }
    loop_sets = sets_of(loop_train)
    for n in (1, 2):
        variants[f"loop-renoised{n}"] = preference_rows(
            loop_sets, rule, NOISE, random.Random(f"renoise/{n}")
        )[0]
    # The loop's 3 sets per train-split prompt plus 1 or 3 of reward_rules' sets of the same
    # prompts (other SFT samples, ranked with the same noise): 4 or 6 sets per prompt.
    for extra in (1, 3):
        more = [
            (prompt, texts[i * K : (i + 1) * K])
            for prompt, texts in data["train"]
            if prompt_key(prompt) in train_prompts
            for i in range(extra)
        ]
        rows, _ = preference_rows(more, rule, NOISE, random.Random(f"more/{extra}"))
        offset = 1 + max(r["set_id"] for r in loop_train)
        variants[f"loop+{extra}set"] = loop_train + [
            r | {"set_id": r["set_id"] + offset} for r in rows
        ]
    evals = {"test-noisy": loop_test, "test-exact": test_exact, "heldout-exact": heldout_exact}
    print(
        f"loop test split: {len(loop_test)} pairs, length baseline "
        f"{length_baseline(loop_test):.3f}; exact {len(test_exact)} pairs "
        f"({length_baseline(test_exact):.3f}); heldout-exact {len(heldout_exact)} pairs "
        f"({length_baseline(heldout_exact):.3f}); reward_rules ceiling {rules_ceiling:.3f}"
    )
    print(
        "| variant | train pairs | train prompts | train seed | test-noisy | test-exact "
        "| heldout-exact | train-exact | s |\n|---|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    for name in args.variants.split(","):
        rows = variants[name]
        train_exact = preference_rows(sets_of(rows), rule, 0.0, exact)[0]
        results = []
        for seed in (int(s) for s in args.train_seeds.split(",")):
            run_dir = work / f"snapshot-{rule}-{name}{args.tag}-{seed}"
            acc = train_one(
                world, rows, evals | {"train-exact": train_exact}, run_dir, seed, overrides
            )
            results.append(acc)
            prompts = len({prompt_key(r["prompt"]) for r in rows})
            print(
                f"| {name}{args.tag} | {len(rows)} | {prompts} "
                f"| {seed} | {acc['test-noisy']:.3f} | {acc['test-exact']:.3f} "
                f"| {acc['heldout-exact']:.3f} | {acc['train-exact']:.3f} | {acc['seconds']:.0f} |",
                flush=True,
            )
        if len(results) > 1:
            means = {k: statistics.mean(r[k] for r in results) for k in results[0]}
            print("  mean over seeds: " + ", ".join(f"{k} {v:.3f}" for k, v in means.items()))


if __name__ == "__main__":
    main()

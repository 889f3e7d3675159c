"""Can DPO learn a preference that depends on the prompt? (issue 17)

    python bench/policy_rules.py [--rules topic,template] [--seed 0]
                                 [--variants preset,lr2e-4x6]

The loop's policy step, without the loop: the same data as ``bench/reward_rules.py`` (the tiny
world's SFT samples, three sets of K = 4 per train prompt ranked by simulated annotators with
10 % noise, every cross-tier pair a row of the preference export's shape), then the product's
DPO algorithm (``training.algorithms.dpo``) from the SFT policy with the tiny world's DPO preset
and variants, then the SFT policy and the trained one each sample 4 responses per held-out
prompt with the product's sampler (same seed). Printed per rule and variant: the preferred-trait
rate on held-out prompts before and after, the on-topic and well-formed rates, and the seconds
DPO took. Shares its cache (world, samples) with bench/reward_rules.py.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

from common import NoHooks, in_process_django
from reward_rules import NOISE, K, arguments, preference_rows, world_and_samples

in_process_django()

VARIANTS = {
    "preset": {},
    "lr2e-4x6": {"learning_rate": 2e-4, "num_train_epochs": 6.0},
    "lr5e-4x4": {"num_train_epochs": 4.0},
    "lr5e-4x6": {"num_train_epochs": 6.0},
    "beta0.5": {"beta": 0.5},
    "rpo0": {"rpo_alpha": 0.0},
    "lr1e-3": {"learning_rate": 1e-3},
    "rpo5": {"rpo_alpha": 5.0},
    "rpo5-lr2e-4x6": {"rpo_alpha": 5.0, "learning_rate": 2e-4, "num_train_epochs": 6.0},
}
SETS_PER_PROMPT = 3
EVAL_SAMPLES = 4


def rates(world, model_dir: Path, rule: str, seed: int) -> dict[str, float]:
    from tinyworld.oracle import trait_rates
    from training.generation import sample_saved_model

    prompts = world.heldout_prompts()
    texts, _ = sample_saved_model(
        str(model_dir), prompts, n=EVAL_SAMPLES, max_new_tokens=64, seed=3000 + seed
    )
    return trait_rates(prompts, texts, rule=rule)


def measure(world, data, work: Path, rule: str, variant: str, seed: int) -> dict:
    from tinyworld.presets import TINYWORLD_POLICY_CONFIGS
    from training.algorithms.base import TrainInputs
    from training.algorithms.registry import algorithm

    rng = random.Random(f"reward-rules/{rule}/{seed}")  # the reward bench's labels
    train_sets = [
        (prompt, texts[i * K : (i + 1) * K])
        for prompt, texts in data["train"]
        for i in range(SETS_PER_PROMPT)
    ]
    train, _ = preference_rows(train_sets, rule, NOISE, rng)
    run_dir = work / f"dpo-{rule}-{variant}-{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    (run_dir / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    spec = algorithm("dpo")
    inputs = TrainInputs(
        base_model=world.sft_model_dir,
        output_dir=run_dir / "model",
        checkpoint_dir=run_dir / "checkpoints",
        train_file=run_dir / "train.jsonl",
        eval_file=None,
        seed=seed,
    )
    started = time.monotonic()
    config = spec.build_config(TINYWORLD_POLICY_CONFIGS["dpo"] | VARIANTS[variant])
    spec.train_function()(config, inputs, NoHooks())
    seconds = time.monotonic() - started
    return {
        "train_pairs": len(train),
        "before": rates(world, world.sft_model_dir, rule, seed),
        "after": rates(world, run_dir / "model", rule, seed),
        "seconds": seconds,
    }


def main() -> None:
    args = arguments(__doc__, "topic,template", "preset")
    world, data, work = world_and_samples(args.seed)
    print(
        "| rule | variant | seed | train pairs | trait before → after | on-topic before → after "
        "| well-formed after | s |\n|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    for rule in args.rules.split(","):
        for variant in args.variants.split(","):
            m = measure(world, data, work, rule, variant, args.seed)
            b, a = m["before"], m["after"]
            print(
                f"| {rule} | {variant} | {args.seed} | {m['train_pairs']} "
                f"| {b['trait_rate']:.3f} → {a['trait_rate']:.3f} "
                f"| {b['relevance_rate']:.3f} → {a['relevance_rate']:.3f} "
                f"| {a['well_formed_rate']:.3f} | {m['seconds']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

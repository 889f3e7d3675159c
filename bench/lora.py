"""LoRA against full fine-tuning on the same CPU model: trainable parameters, peak resident
memory and tokens/s of a DPO run, each side in its own process (peak RSS is per process).

    python bench/lora.py [--hidden 768] [--layers 8] [--steps 4] [--rank 8]
        [--target-modules q_proj,v_proj]

The run is ``training.algorithms.dpo.train`` (the platform's algorithm, no database): full
fine-tuning loads the policy and a frozen reference copy; LoRA (Hu et al. 2021: rank 8 on W_q
and W_v, their choice) trains the adapter and uses the base with the adapter disabled as the
reference. Prints both and the ratios (goals: trainable ≤ 2 %, peak RSS ≤ 0.6×).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one_side(args) -> dict:
    """Run in a child process: build nothing, train once, report."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    from training.algorithms import dpo
    from training.algorithms.base import TrainInputs, config_from_dict
    from training.algorithms.configs import DpoRunConfig

    work = Path(args.work)
    config = {
        "max_steps": args.steps,
        "per_device_train_batch_size": args.batch,
        "learning_rate": 1e-4,
        "logging_steps": 1,
        "save_steps": 10_000,
        "max_length": 256,
    }
    if args.side == "lora":
        config["adapter"] = {"r": args.rank, "alpha": 2 * args.rank, "dropout": 0.0}
        config["adapter"]["target_modules"] = args.target_modules
    inputs = TrainInputs(
        base_model=work / "model",
        output_dir=work / args.side / "model",
        checkpoint_dir=work / args.side / "checkpoints",
        train_file=work / "preference.jsonl",
    )

    class Quiet:
        def on_log(self, step, metrics):
            pass

        def on_progress(self, step, total_steps):
            pass

        def on_checkpoint(self, step):
            pass

        def should_stop(self):
            return False

    started = time.perf_counter()
    result = dpo.train(config_from_dict(DpoRunConfig, config), inputs, Quiet())
    metrics = result.metrics
    return {
        "seconds": time.perf_counter() - started,
        "train_runtime": metrics["train_runtime"],
        "trainable_share": metrics["trainable_share"],
        "trainable_params": metrics["trainable_params"],
        "peak_rss_mib": metrics["peak_rss_mib"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--target-modules", default="q_proj,v_proj")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--side", choices=["full", "lora"], help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(one_side(args)))
        return

    from bench.training import bench_model_and_data, token_count

    work = Path(tempfile.mkdtemp(prefix="flywheel-bench-lora-"))
    model_dir, data = bench_model_and_data(work, args)
    tokens = token_count(model_dir, data, 256) / args.rows * args.batch * args.steps
    results = {}
    for side in ("full", "lora"):
        command = [sys.executable, __file__, "--side", side, "--work", str(work)]
        for name in ("hidden", "layers", "heads", "steps", "batch", "rows", "rank", "threads"):
            command += [f"--{name}", str(getattr(args, name))]
        command += ["--target-modules", args.target_modules]
        out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        results[side] = json.loads(out.stdout.strip().splitlines()[-1])
    full, lora = results["full"], results["lora"]
    print(
        f"DPO, hidden {args.hidden} × {args.layers} layers, {args.steps} steps × {args.batch} "
        f"pairs, {args.threads} torch threads; LoRA r={args.rank} on {args.target_modules}\n"
    )
    print("| | full fine-tuning | LoRA | LoRA / full |\n|---|---|---|---|")
    print(
        f"| trainable parameters | {full['trainable_params']:,.0f} "
        f"({full['trainable_share']:.1%}) | {lora['trainable_params']:,.0f} "
        f"({lora['trainable_share']:.2%}) | "
        f"{lora['trainable_share'] / full['trainable_share']:.4f} |"
    )
    print(
        f"| peak RSS | {full['peak_rss_mib']:,.0f} MiB | {lora['peak_rss_mib']:,.0f} MiB | "
        f"{lora['peak_rss_mib'] / full['peak_rss_mib']:.2f} |"
    )
    print(
        f"| tokens/s (train_runtime) | {tokens / full['train_runtime']:,.0f} | "
        f"{tokens / lora['train_runtime']:,.0f} | "
        f"{full['train_runtime'] / lora['train_runtime']:.2f} |"
    )


if __name__ == "__main__":
    main()

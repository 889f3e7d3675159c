"""Multi-process data parallel on CPU: the same reward run in 2 gloo processes against 1, same
model, same data, same global batch, launched the way the local executor launches a run.

    python bench/data_parallel.py [--rows 256] [--steps 16] [--batch 8] [--hidden 256]
                                 [--layers 4] [--repeat 2]

Each side is ``training.algorithms.reward.train`` in processes started by
``training.engine.executors.local``: ``run_process`` for 1 process, ``run_process_group`` (the
``processes: N`` path: RANK / WORLD_SIZE / MASTER_ADDR=127.0.0.1, gloo) for 2, each process a
fresh interpreter. The run's hooks write nothing (no database), so what is compared is the
training and the launch. Two numbers per side, best of ``--repeat`` (alternating the order):
``train`` is the Trainer's own ``train_runtime`` (optimizer steps only), ``launch`` the wall
time from the first process started to the last one ended (imports, data, model load, save).
Threads: by default 1 process gets all the cores as torch threads, 2 processes get cores / 2
each, so both sides may use the whole machine; ``--threads 1`` gives each process one. Prints
each time and the ratio 1-process / 2-process (> 1: the 2 processes are faster).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import NoHooks, in_process_django

in_process_django()


def worker(model_dir: Path, data: Path, work: Path, config: dict) -> None:
    """One rank: train, and (rank 0) print the Trainer's runtime as a JSON line."""
    import torch

    torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
    from training.algorithms import reward
    from training.algorithms.base import TrainInputs, config_from_dict
    from training.algorithms.configs import RUN_CONFIGS

    inputs = TrainInputs(
        base_model=model_dir,
        output_dir=work / "model",
        checkpoint_dir=work / "checkpoints",
        train_file=data,
    )
    result = reward.train(config_from_dict(RUN_CONFIGS["reward"], config), inputs, NoHooks())
    if int(os.environ.get("RANK", "0")) == 0:
        print("BENCH " + json.dumps({"train": result.metrics["train_runtime"]}), flush=True)


def launch(processes: int, args, model_dir: Path, data: Path, work: Path) -> dict[str, float]:
    from training.engine.executors.local import run_process, run_process_group

    config = {
        "max_steps": args.steps,
        "per_device_train_batch_size": args.batch // processes,  # the same global batch
        "learning_rate": 1e-4,
        "logging_steps": 1,
        "save_steps": 10_000,
        "max_length": 256,
        "processes": processes,
    }
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        json.dumps([str(model_dir), str(data), str(work), config]),
    ]
    threads = args.threads or max(1, (os.cpu_count() or 1) // processes)
    os.environ["BENCH_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(threads)
    lines: list[str] = []
    started = time.perf_counter()
    if processes == 1:
        code = run_process(command, lines.append)
    else:
        code = run_process_group(command, processes, 0, lines.append)
    wall = time.perf_counter() - started
    found = [json.loads(line[6:]) for line in lines if line.startswith("BENCH ")]
    if code != 0 or not found:
        raise SystemExit(f"{processes} process(es) failed (exit {code}):\n" + "".join(lines))
    return {"train": found[0]["train"], "launch": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8, help="global batch (pairs per step)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads per process (0: cores / processes)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        model_dir, data, work, config = json.loads(args.worker)
        worker(Path(model_dir), Path(data), Path(work), config)
        return

    import django

    django.setup()
    from bench.training import bench_model_and_data

    work = Path(tempfile.mkdtemp(prefix="flywheel-bench-data-parallel-"))
    model_dir, data = bench_model_and_data(work, args)
    print(
        f"reward run: hidden {args.hidden}, {args.layers} layers; {args.steps} steps × "
        f"{args.batch} pairs; {os.cpu_count()} CPU cores; threads per process "
        f"{args.threads or 'cores / processes'}"
    )
    times: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for i in range(args.repeat):
        for processes in (1, 2) if i % 2 == 0 else (2, 1):
            times[processes].append(
                launch(processes, args, model_dir, data, work / f"p{processes}-{i}")
            )
    best = {
        p: {key: min(t[key] for t in runs) for key in ("train", "launch")}
        for p, runs in times.items()
    }
    for processes, t in best.items():
        print(f"{processes} process(es): train {t['train']:.2f} s, launch {t['launch']:.2f} s")
    print(
        f"ratio 1-process / 2-process: train {best[1]['train'] / best[2]['train']:.3f}, "
        f"launch {best[1]['launch'] / best[2]['launch']:.3f}"
    )


if __name__ == "__main__":
    main()

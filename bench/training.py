"""Training throughput: the platform's reward and DPO runs vs a bare TRL script, same model, same
data, same arguments, in the same process.

    python bench/training.py [--rows 256] [--steps 24] [--hidden 256] [--layers 4] [--repeat 2]

"Platform" is ``training.algorithms.<algo>.train`` (config parsing, the hooks callback, checkpoint
handling, the final save) with the job's own ``JobReporter`` writing every metric point and
the progress to PostgreSQL. "Bare" is TRL's trainer built directly with the same arguments and
no callback. Each side runs ``--repeat`` times, alternating which goes first, and the best time
counts. Prints tokens/s of both and the ratio
(goal ≥ 0.95). On a GPU node pass ``--hidden 896 --layers 24 --heads 14`` for a ~0.5B model.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flywheel.settings")
os.environ.setdefault("FLYWHEEL_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flywheel")

WORDS = [
    "the",
    "fox",
    "explains",
    "why",
    "rain",
    "falls",
    "on",
    "an",
    "old",
    "map",
    "and",
    "our",
    "team",
    "answers",
    "politely",
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def write_preferences(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w") as out:
        for i in range(rows):
            out.write(
                json.dumps(
                    {
                        "prompt": [{"role": "user", "content": sentence(rng, 12)}],
                        "chosen": [{"role": "assistant", "content": sentence(rng, 40)}],
                        "rejected": [{"role": "assistant", "content": sentence(rng, 40)}],
                        "margin": 1.0,
                        "prompt_id": i,
                        "set_id": i,
                        "annotator": "bench",
                    }
                )
                + "\n"
            )


def bench_model_and_data(work: Path, args) -> tuple[Path, Path]:
    """A tiny Llama of ``args.hidden`` × ``args.layers`` and ``args.rows`` preference rows."""
    from tinyworld.model import build_tiny_model

    texts = [sentence(random.Random(i), 20) for i in range(300)]
    model_dir = build_tiny_model(
        work / "model",
        texts=texts,
        hidden_size=args.hidden,
        layers=args.layers,
        heads=args.heads,
        vocab_size=512,
    )
    data = work / "preference.jsonl"
    write_preferences(data, args.rows, seed=0)
    return model_dir, data


def scratch_run():
    """A throwaway TrainingRun row so the job's real JobReporter can write metrics."""
    from annotation.models import DatasetSnapshot, Project
    from training.models import ModelKind, ModelVersion, TrainingRun

    project = Project.objects.create(name="bench", slug=f"bench-{time.time_ns()}", k=2)
    snapshot = DatasetSnapshot.objects.create(
        project=project, name="bench", content_hash="", counts={}, card=""
    )
    model = ModelVersion.objects.create(name=f"bench-{time.time_ns()}", kind=ModelKind.BASE)
    run = TrainingRun.objects.create(kind="reward", dataset=snapshot, base_model=model)
    return project, snapshot, model, run


def drop_scratch(project, snapshot, model, run) -> None:
    run.delete()
    model.delete()
    snapshot.delete()
    project.delete()


def token_count(model_dir: Path, data: Path, max_length: int) -> int:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    total = 0
    for line in data.read_text().splitlines():
        row = json.loads(line)
        for side in ("chosen", "rejected"):
            text = tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=False)
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            total += min(len(ids), max_length)
    return total


def run_platform(kind: str, model_dir: Path, data: Path, work: Path, config: dict):
    from training.algorithms import dpo, reward
    from training.algorithms.base import TrainInputs, config_from_dict
    from training.algorithms.configs import RUN_CONFIGS

    module = {"reward": reward, "dpo": dpo}[kind]
    inputs = TrainInputs(
        base_model=model_dir,
        output_dir=work / "model",
        checkpoint_dir=work / "checkpoints",
        train_file=data,
    )
    from training.engine.jobs import job_type
    from training.engine.reporting import JobReporter, RunHooksAdapter

    scratch = scratch_run()
    with JobReporter(job_type("training_run"), scratch[-1].pk) as reporter:
        started = time.perf_counter()
        hooks = RunHooksAdapter(reporter)
        result = module.train(config_from_dict(RUN_CONFIGS[kind], config), inputs, hooks)
        elapsed = time.perf_counter() - started
    drop_scratch(*scratch)
    assert not result.cancelled
    return elapsed


def run_bare(kind: str, model_dir: Path, data: Path, work: Path, config: dict):
    from datasets import load_dataset
    from trl import DPOConfig, DPOTrainer, RewardConfig, RewardTrainer

    dataset = load_dataset(
        "json", data_files=str(data), split="train", cache_dir=str(work / "cache")
    )
    common = dict(
        output_dir=str(work / "out"),
        max_steps=config["max_steps"],
        per_device_train_batch_size=config["per_device_train_batch_size"],
        gradient_accumulation_steps=1,
        learning_rate=config["learning_rate"],
        use_cpu=not _cuda(),
        bf16=_cuda(),
        activation_checkpointing=False,
        report_to=[],
        save_strategy="no",
        logging_steps=config["logging_steps"],
        disable_tqdm=True,
        max_length=config["max_length"],
        seed=0,
    )
    started = time.perf_counter()
    if kind == "reward":
        trainer = RewardTrainer(
            model=str(model_dir), args=RewardConfig(**common), train_dataset=dataset
        )
    else:
        trainer = DPOTrainer(model=str(model_dir), args=DPOConfig(**common), train_dataset=dataset)
    trainer.train()
    trainer.save_model(str(work / "bare-model"))
    return time.perf_counter() - started


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()

    import django

    django.setup()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    work = Path(tempfile.mkdtemp(prefix="flywheel-bench-training-"))
    model_dir, data = bench_model_and_data(work, args)
    config = {
        "max_steps": args.steps,
        "per_device_train_batch_size": args.batch,
        "gradient_accumulation_steps": 1,
        "learning_rate": 1e-4,
        "warmup_steps": 0,
        "logging_steps": 1,
        "save_steps": 10_000,
        "max_length": 256,
    }
    tokens_per_step = token_count(model_dir, data, 256) / args.rows * args.batch
    params = sum(
        p.numel()
        for p in __import__("transformers")
        .AutoModelForCausalLM.from_pretrained(model_dir)
        .parameters()
    )
    print(
        f"model: {params / 1e6:.1f} M parameters; {args.steps} steps × {args.batch} pairs; "
        f"device: {'cuda' if _cuda() else 'cpu'}; torch threads {torch.get_num_threads()}"
    )
    for kind in ("reward", "dpo"):
        times = {"bare": [], "platform": []}
        for i in range(args.repeat):
            # Alternate which side goes first, so neither gains from a warmer process.
            sides = [("bare", run_bare), ("platform", run_platform)]
            for side, fn in sides if i % 2 == 0 else sides[::-1]:
                times[side].append(fn(kind, model_dir, data, work / f"{kind}-{side}-{i}", config))
        tokens = tokens_per_step * args.steps
        bare, platform = min(times["bare"]), min(times["platform"])
        print(
            f"{kind:>6}: bare TRL {tokens / bare:9.0f} tok/s ({bare:.2f} s)   platform "
            f"{tokens / platform:9.0f} tok/s ({platform:.2f} s)   ratio {bare / platform:.3f}"
        )


if __name__ == "__main__":
    main()

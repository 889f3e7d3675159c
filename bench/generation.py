"""Generation throughput: the platform's generation path vs a bare batched ``generate``, same
model, prompts, K, batch size and sampling, in the same process.

    python bench/generation.py [--prompts 64] [--k 4] [--batch 8] [--new-tokens 32]

"Platform" is ``training.generation.generate_sets`` with the Hugging Face backend (chat
template, left padding, de-duplication with re-draws), followed by writing every set to
PostgreSQL through ``candidate_set_from_generation`` as the worker does. "Bare" is the same
model's ``generate(num_return_sequences=K)`` over the same batches and a decode. Prints new
tokens/s of both and the ratio (goal ≥ 0.9).
"""

from __future__ import annotations

import argparse
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

TOPICS = ["rain", "owls", "maps", "rivers", "clocks", "bread", "bridges", "stars"]


def bare(backend, prompts, k, sampling, seed) -> tuple[float, int]:
    import torch

    tokenizer, model = backend.tokenizer, backend.model
    started, produced = time.perf_counter(), 0
    size = sampling["batch_size"]
    for start in range(0, len(prompts), size):
        chunk = prompts[start : start + size]
        texts = [
            tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False)
            for _, m in chunk
        ]
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        torch.manual_seed(seed + start)
        with torch.inference_mode():
            out = model.generate(
                **batch.to(backend.device),
                do_sample=True,
                temperature=sampling["temperature"],
                top_p=sampling["top_p"],
                max_new_tokens=sampling["max_new_tokens"],
                num_return_sequences=k,
                pad_token_id=tokenizer.pad_token_id,
            )
        new = out[:, batch["input_ids"].shape[1] :]
        decoded = tokenizer.batch_decode(new, skip_special_tokens=True)
        # Counted as the platform counts: tokens of the decoded, stripped texts.
        produced += sum(len(tokenizer(t.strip())["input_ids"]) for t in decoded)
    return time.perf_counter() - started, produced


def platform(backend, prompts, k, sampling, seed, job) -> tuple[float, int]:
    from training.generation import generate_sets
    from training.services.generation import candidate_set_from_generation

    started, produced = time.perf_counter(), 0
    for batch in generate_sets(backend, prompts, k=k, sampling=sampling, seed=seed):
        for prompt_id, texts, batch_seed in batch:
            if texts is not None:
                candidate_set_from_generation(
                    job=job, prompt_id=prompt_id, texts=texts, seed=batch_seed
                )
                produced += sum(len(backend.tokenizer(t)["input_ids"]) for t in texts)
    return time.perf_counter() - started, produced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    import django

    django.setup()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from annotation.models import Project, Prompt
    from tinyworld.model import build_tiny_model
    from training.generation import HFBackend
    from training.models import GenerationJob, ModelKind, ModelVersion

    work = Path(tempfile.mkdtemp(prefix="flywheel-bench-generation-"))
    rng = random.Random(0)
    texts = [f"Tell me about {rng.choice(TOPICS)} and {rng.choice(TOPICS)}." for _ in range(300)]
    model_dir = build_tiny_model(
        work / "model", texts=texts, hidden_size=args.hidden, layers=args.layers, heads=args.heads
    )
    project = Project.objects.create(name="bench", slug=f"bench-{time.time_ns()}", k=args.k)
    prompts = [
        Prompt.objects.create(
            project=project,
            messages=[
                {"role": "user", "content": f"Tell me about {TOPICS[i % len(TOPICS)]}, please."}
            ],
        )
        for i in range(args.prompts)
    ]
    model = ModelVersion.objects.create(
        name=f"bench-{time.time_ns()}", kind=ModelKind.POLICY, storage_path=str(model_dir)
    )
    sampling = {
        "temperature": 1.0,
        "top_p": 1.0,
        "max_new_tokens": args.new_tokens,
        "batch_size": args.batch,
    }
    backend = HFBackend.load(str(model_dir))
    pairs = [(p.pk, p.messages) for p in prompts]
    results = {"bare": [], "platform": []}
    bare(backend, pairs[: args.batch], args.k, sampling, 99)  # warm-up, not measured
    try:
        for i in range(args.repeat):
            job = GenerationJob.objects.create(
                project=project,
                model_version=model,
                prompt_ids=[p for p, _ in pairs],
                k=args.k,
                sampling=sampling,
            )
            runs = [
                ("bare", lambda i=i: bare(backend, pairs, args.k, sampling, i)),
                (
                    "platform",
                    lambda i=i, job=job: platform(backend, pairs, args.k, sampling, i, job),
                ),
            ]
            # Alternate which side goes first, so neither gains from a warmer process.
            for side, run in runs if i % 2 == 0 else runs[::-1]:
                results[side].append(run())
    finally:
        project.delete()
        model.delete()
    rate = {
        side: max(tokens / seconds for seconds, tokens in runs) for side, runs in results.items()
    }
    print(
        f"{args.prompts} prompts × K={args.k}, batch {args.batch}, {args.new_tokens} new "
        f"tokens, device {backend.device}, torch threads {torch.get_num_threads()}"
    )
    print(
        f"bare generate: {rate['bare']:8.0f} new tok/s   platform job: "
        f"{rate['platform']:8.0f} tok/s   ratio {rate['platform'] / rate['bare']:.3f}"
    )


if __name__ == "__main__":
    main()

"""Build the whole tiny world under one directory, once: prompts, tokenizer + random base model,
SFT policy, and the SFT policy's measured preferred-trait rate.

Layout of `root`:

    base/                       tokenizer + random tiny Llama (`model.build_tiny_model`)
    sft/                        the SFT policy (weights, tokenizer, chat template)
    data/prompts-train.jsonl    {"prompt": [messages]} per line: SFT, generation, preference data
    data/prompts-heldout.jsonl  {"prompt": [messages]} per line: evaluation only
    data/sft.jsonl              {"messages": [...]} per line: the SFT rows (also a PPO "ptx" mix)
    tinyworld.json              manifest: parameters, version, measured metrics; written last

A call whose parameters match the manifest returns it without touching anything else (a cache
hit reads one small JSON file). Builds hold an exclusive lock on `root/.lock`, so two processes
asking for the same world build it once.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sft import SFTBootstrapConfig
from .world import Messages, world_fingerprint

logger = logging.getLogger(__name__)

# Bump when the build changes in a way the parameters below do not capture.
TINYWORLD_VERSION = 1
# `model.BUILD_VERSION` of the base model this build expects, written here rather than imported so
# that a cache hit imports no torch; a test fails when the two disagree.
MODEL_BUILD_VERSION = 1
MANIFEST_FILE = "tinyworld.json"
# Intra-op threads while building (see `training.generation.torch_threads`): measured 170 s for
# the build with 2 threads vs 42 s with 1 under the same background load on 2 cores. One thread
# also makes the float reductions, and so the built weights, the same whatever the machine's core
# count.
BUILD_THREADS = 1


@dataclass(frozen=True)
class TinyWorldParams:
    """What a tiny world is built from. The defaults build in about a minute on 2 CPU cores."""

    hidden_size: int = 128
    layers: int = 4
    heads: int = 4
    vocab_size: int = 1024  # most words one token: a conversation is ~45 tokens, at most ~55
    heldout_fraction: float = 0.2
    sft: SFTBootstrapConfig = field(default_factory=SFTBootstrapConfig)
    eval_samples_per_prompt: int = 4  # × ~43 held-out prompts ≈ 170 samples, ± 0.04 on the rate
    eval_max_new_tokens: int = 64  # the longest templated reply is ~40 tokens


@dataclass(frozen=True)
class TinyWorld:
    root: Path
    base_model_dir: Path  # tokenizer + random-weight model (the SFT's starting point)
    sft_model_dir: Path  # the SFT policy: round 0 of the loop, and DPO/KTO's reference
    train_prompts_file: Path
    heldout_prompts_file: Path
    sft_data_file: Path
    sft_trait_rate: float  # preferred-trait rate of SFT samples on held-out prompts (T = 1)
    sft_eval: dict[str, float]  # every PolicyEval field of that measurement
    seed: int
    build_seconds: float  # how long the build took (the original build, on a cache hit)
    cached: bool  # True when this call found the world already built

    def train_prompts(self) -> list[Messages]:
        return read_prompts(self.train_prompts_file)

    def heldout_prompts(self) -> list[Messages]:
        return read_prompts(self.heldout_prompts_file)


def build_tinyworld(
    root: Path | str,
    *,
    seed: int = 0,
    force: bool = False,
    params: TinyWorldParams | None = None,
) -> TinyWorld:
    """Build the tiny world under `root` (or return the one already there, if it was built with
    the same seed, parameters and version). `force` rebuilds regardless."""
    root = Path(root).resolve()  # the paths returned are absolute: they get registered as-is
    params = params or TinyWorldParams()
    fingerprint = _fingerprint(seed, params)
    if not force and (world := _load(root, fingerprint)) is not None:
        return world
    root.mkdir(parents=True, exist_ok=True)
    with _exclusive(root / ".lock"):
        # Another process may have finished the same build while this one waited for the lock.
        if not force and (world := _load(root, fingerprint)) is not None:
            return world
        from training.generation import torch_threads  # imports torch: only when building

        with torch_threads(BUILD_THREADS):
            _build(root, seed, params, fingerprint, force=force)
    world = _load(root, fingerprint)
    assert world is not None
    return dataclasses.replace(world, cached=False)


def read_prompts(path: Path) -> list[Messages]:
    with path.open() as file:
        return [json.loads(line)["prompt"] for line in file if line.strip()]


def _build(
    root: Path, seed: int, params: TinyWorldParams, fingerprint: dict[str, Any], *, force: bool
) -> None:
    # torch, transformers and TRL load here, not at import: a cache hit stays cheap.
    from . import world
    from .evaluate import evaluate_policy
    from .model import build_tiny_model
    from .sft import sft_bootstrap

    started = time.perf_counter()
    manifest = root / MANIFEST_FILE
    manifest.unlink(missing_ok=True)  # an interrupted build must not look finished
    logger.info("building the tiny world in %s (seed %d)", root, seed)

    data = root / "data"
    data.mkdir(exist_ok=True)
    train, heldout = world.split_prompts(seed=seed, heldout_fraction=params.heldout_fraction)
    _write_jsonl(data / "prompts-train.jsonl", [{"prompt": p} for p in train])
    _write_jsonl(data / "prompts-heldout.jsonl", [{"prompt": p} for p in heldout])
    sft_config = params.sft
    rows = world.sft_examples(
        train,
        random.Random(f"tinyworld-sft-{seed}"),
        per_prompt=sft_config.responses_per_prompt,
        trait_fraction=sft_config.trait_fraction,
    )
    _write_jsonl(data / "sft.jsonl", rows)

    base = root / "base"
    if force:
        shutil.rmtree(base, ignore_errors=True)
    build_tiny_model(
        base,
        texts=world.tokenizer_corpus(random.Random(f"tinyworld-corpus-{seed}")),
        hidden_size=params.hidden_size,
        layers=params.layers,
        heads=params.heads,
        vocab_size=params.vocab_size,
        seed=seed,
    )
    elapsed = time.perf_counter() - started
    logger.info("base model ready (%.1fs); SFT on %d rows", elapsed, len(rows))
    train_metrics = sft_bootstrap(
        base_model=base, rows=rows, output_dir=root / "sft", config=sft_config, seed=seed
    )
    logger.info(
        "SFT done (%.1fs): train_loss %.3f, mean_token_accuracy %.3f",
        time.perf_counter() - started,
        train_metrics.get("train_loss", float("nan")),
        train_metrics.get("mean_token_accuracy", float("nan")),
    )
    sft_eval = evaluate_policy(
        root / "sft",
        heldout,
        samples_per_prompt=params.eval_samples_per_prompt,
        max_new_tokens=params.eval_max_new_tokens,
        seed=seed,
    )
    build_seconds = time.perf_counter() - started
    logger.info("SFT policy on held-out prompts: %s (built in %.1fs)", sft_eval, build_seconds)
    content = {
        **fingerprint,
        "sft_eval": dataclasses.asdict(sft_eval),
        "sft_train_metrics": train_metrics,
        "build_seconds": round(build_seconds, 2),
        "counts": {
            "train_prompts": len(train),
            "heldout_prompts": len(heldout),
            "sft_rows": len(rows),
        },
    }
    scratch = manifest.with_suffix(".tmp")
    scratch.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
    os.replace(scratch, manifest)


def _load(root: Path, fingerprint: dict[str, Any]) -> TinyWorld | None:
    try:
        content = json.loads((root / MANIFEST_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if {k: content.get(k) for k in fingerprint} != fingerprint:
        return None
    world = TinyWorld(
        root=root,
        base_model_dir=root / "base",
        sft_model_dir=root / "sft",
        train_prompts_file=root / "data" / "prompts-train.jsonl",
        heldout_prompts_file=root / "data" / "prompts-heldout.jsonl",
        sft_data_file=root / "data" / "sft.jsonl",
        sft_trait_rate=content["sft_eval"]["trait_rate"],
        sft_eval=content["sft_eval"],
        seed=fingerprint["seed"],
        build_seconds=content["build_seconds"],
        cached=True,
    )
    required = [
        world.sft_model_dir / "config.json",
        world.base_model_dir / "config.json",
        world.train_prompts_file,
        world.heldout_prompts_file,
    ]
    return world if all(path.exists() for path in required) else None


def _fingerprint(seed: int, params: TinyWorldParams) -> dict[str, Any]:
    # Through JSON, so it compares equal to what a manifest reads back (tuples become lists).
    return json.loads(
        json.dumps(
            {
                "version": TINYWORLD_VERSION,
                "model_build_version": MODEL_BUILD_VERSION,
                "world": world_fingerprint(),
                "seed": seed,
                "params": dataclasses.asdict(params),
            },
            sort_keys=True,
        )
    )


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

"""GPU benchmark, one command (issue 16): about 10 minutes on one H100.

    python bench/gpu.py [--peak-tflops 989] [--steps 40]
    python bench/gpu.py --smoke       # every section on CPU with a tiny model (tests the script)

Builds a ~0.5 B Llama locally, no hub: random weights (hidden 1024, 24 layers, 16 heads, MLP
4096) and a byte-level BPE of 32,000 tokens trained on synthetic text by the tiny world's
``build_tokenizer``. Then, in bf16, each section in its own process (its peak CUDA memory is its
own), through the product's code paths:

- reward model and DPO training: ``training.algorithms.reward.train`` / ``dpo.train`` (as the
  job's process calls them); tokens/s = (chosen + rejected tokens per pair, at most
  ``max_length``) × pairs per step × steps / the Trainer's ``train_runtime``;
- MFU = 6 · N · tokens/s / peak bf16 FLOP/s (Kaplan et al. 2020's 6N per trained token; PaLM's
  definition of MFU), N = the parameters that multiply each token (all but the input
  embedding; the reward model has a 1-wide head instead of the LM head). Attention's own
  FLOPs and DPO's frozen reference forward (another 2N per token) are not counted, so DPO's
  hardware utilisation is about 8/6 of its MFU. Peak: H100/H200 SXM dense bf16 989 TFLOP/s,
  A100 312 (``--peak-tflops`` for another card);
- LoRA (r 16, all linear layers) against full fine-tuning, on the DPO run: tokens/s, peak CUDA
  memory (``torch.cuda.max_memory_allocated``), trainable share;
- Hugging Face ``generate`` (``training.generation.sample_chat``) against vLLM
  (``training.vllm_backend.VLLMBackend``): the same prompts, n and max_new_tokens, temperature
  1; generated tokens/s, engine start-up and warm-up excluded; tokens counted by re-tokenising
  the replies (the same count for both);
- 1 against N GPUs when there are several: the reward run in N processes
  (``training.engine.executors.local.run_process_group``, the ``processes: N`` path), the same
  batch per GPU, so the ratio is throughput scaling.

Prints a markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, NoHooks, in_process_django

in_process_django()

FULL = {
    "hidden": 1024,
    "layers": 24,
    "heads": 16,
    "vocab": 32_000,
    "max_length": 512,
    "batch": 8,
    "steps": 40,
    "rows": 512,
    "prompts": 256,
    "n": 4,
    "new_tokens": 256,
    "rank": 16,
}
SMOKE = FULL | {
    "hidden": 64,
    "layers": 2,
    "heads": 4,
    "vocab": 512,
    "max_length": 64,
    "batch": 2,
    "steps": 2,
    "rows": 8,
    "prompts": 4,
    "n": 2,
    "new_tokens": 8,
    "rank": 8,
}
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def build(work: Path, cfg: dict) -> tuple[Path, Path]:
    """The model directory (random Llama + BPE tokenizer) and ``rows`` preference pairs."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from tinyworld.model import build_tokenizer

    rng = random.Random(0)
    syllables = [a + b for a in "bcdfghjklmnprstvwz" for b in "aeiou"]
    syllables += [a + b + c for a in "bdkmst" for b in "aeiou" for c in "nrs"]
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))) for _ in range(40000)]

    def text(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    model_dir = work / "model"
    corpus = [text(200) for _ in range(3000 if cfg["vocab"] > 1000 else 200)]
    tokenizer = build_tokenizer(corpus, model_dir, vocab_size=cfg["vocab"])
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg["hidden"],
        intermediate_size=4 * cfg["hidden"],
        num_hidden_layers=cfg["layers"],
        num_attention_heads=cfg["heads"],
        num_key_value_heads=cfg["heads"],
        max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        dtype="float32",  # as the tiny world saves it: each run chooses its own precision
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(model_dir)
    data = work / "preference.jsonl"
    length = cfg["max_length"] // 2
    with data.open("w") as out:
        for i in range(cfg["rows"]):
            row = {
                "prompt": [{"role": "user", "content": text(length // 4)}],
                "chosen": [{"role": "assistant", "content": text(length)}],
                "rejected": [{"role": "assistant", "content": text(length)}],
                "margin": 1.0,
                "prompt_id": i,
                "set_id": i,
                "annotator": "bench",
            }
            out.write(json.dumps(row) + "\n")
    return model_dir, data


def matmul_params(model_dir: Path, *, lm_head: bool) -> int:
    """N of 6N: every parameter but the input embedding (and the LM head for a reward model)."""
    from transformers import AutoConfig

    c = AutoConfig.from_pretrained(model_dir)
    h, kv = c.hidden_size, c.num_key_value_heads * (c.hidden_size // c.num_attention_heads)
    layer = 2 * h * h + 2 * h * kv + 3 * h * c.intermediate_size + 2 * h
    return c.num_hidden_layers * layer + h + (c.vocab_size * h if lm_head else h)


def train_section(spec: dict) -> dict:
    """One training run in this process: the Trainer's metrics."""
    import torch

    from training.algorithms import dpo, reward
    from training.algorithms.base import TrainInputs, config_from_dict
    from training.algorithms.configs import RUN_CONFIGS

    work = Path(spec["work"])
    config = {
        "max_steps": spec["steps"],
        "per_device_train_batch_size": spec["batch"],
        "learning_rate": 1e-5,
        "logging_steps": 10,
        "save_steps": 100_000,
        "max_length": spec["max_length"],
        "processes": spec.get("processes", 1),
    }
    if spec.get("rank"):
        config["adapter"] = {"r": spec["rank"], "alpha": 2 * spec["rank"], "dropout": 0.0}
    inputs = TrainInputs(
        base_model=work / "model",
        output_dir=work / spec["name"] / "model",
        checkpoint_dir=work / spec["name"] / "checkpoints",
        train_file=work / "preference.jsonl",
        use_cpu=not torch.cuda.is_available(),
    )
    module = {"reward": reward, "dpo": dpo}[spec["kind"]]
    result = module.train(config_from_dict(RUN_CONFIGS[spec["kind"]], config), inputs, NoHooks())
    keys = ("train_runtime", "trainable_share", "peak_cuda_mib", "peak_rss_mib")
    return {key: result.metrics[key] for key in keys if key in result.metrics}


def generate_section(spec: dict) -> dict:
    """HF generate or vLLM on the first ``prompts`` prompts: generated tokens and seconds."""
    from transformers import AutoTokenizer

    from training.generation import HFBackend, sample_chat
    from training.vllm_backend import ServingPlan, VLLMBackend

    work = Path(spec["work"])
    rows = [json.loads(line) for line in (work / "preference.jsonl").read_text().splitlines()]
    prompts = [row["prompt"] for row in rows[: spec["prompts"]]]
    options = {"n": spec["n"], "max_new_tokens": spec["new_tokens"], "seed": 0}
    started = time.perf_counter()
    if spec["backend"] == "vllm":
        os.environ.setdefault("FLYWHEEL_VLLM_GPU_MEMORY", "0.85")
        engine = VLLMBackend.load(ServingPlan(model=str(work / "model")))
        load = time.perf_counter() - started
        engine.chat(prompts[:2], n=1, max_new_tokens=8, seed=1)  # warm-up
        started = time.perf_counter()
        texts, _ = engine.chat(prompts, **options)
    else:
        backend = HFBackend.load(str(work / "model"))
        load = time.perf_counter() - started
        sample_chat(backend.model, backend.tokenizer, prompts[:2], max_new_tokens=8, seed=1)
        started = time.perf_counter()
        texts, _ = sample_chat(backend.model, backend.tokenizer, prompts, **options)
    seconds = time.perf_counter() - started
    tokenizer = AutoTokenizer.from_pretrained(work / "model")
    generated = sum(
        len(tokenizer(t, add_special_tokens=False)["input_ids"]) for r in texts for t in r
    )
    return {"seconds": seconds, "tokens": generated, "load": load}


def child(spec: dict, work: Path, *, processes: int = 1) -> dict:
    """Run one section in a fresh interpreter (``processes`` > 1: a process group)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    if processes == 1:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        lines, code = (done.stdout + done.stderr).splitlines(keepends=True), done.returncode
    else:
        import django

        django.setup()
        from training.engine.executors.local import run_process_group

        lines = []
        code = run_process_group(command, processes, 0, lines.append)
    found = [json.loads(line[6:]) for line in lines if line.startswith("BENCH ")]
    if code != 0 or not found:
        raise SystemExit(f"section {spec['name']} failed (exit {code}):\n" + "".join(lines[-40:]))
    return found[0]


def peak_tflops(args) -> float | None:
    import torch

    if args.peak_tflops:
        return args.peak_tflops
    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    return next((peak for key, peak in PEAK_TFLOPS.items() if key in name), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny model on CPU (tests the script)")
    parser.add_argument("--steps", type=int, help="optimizer steps per training section")
    parser.add_argument("--peak-tflops", type=float, help="the GPU's peak dense bf16 TFLOP/s")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        section = generate_section if spec["name"].startswith("generate") else train_section
        result = section(spec)
        if int(os.environ.get("RANK", "0")) == 0:
            print("BENCH " + json.dumps(result), flush=True)
        return

    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not args.smoke:
        raise SystemExit(
            "bench/gpu.py needs a CUDA GPU (torch.cuda.is_available() is False here); "
            "`python bench/gpu.py --smoke` runs every section on CPU with a tiny model."
        )
    cfg = (SMOKE if args.smoke else FULL) | ({"steps": args.steps} if args.steps else {})
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="flywheel-bench-gpu-"))
    model_dir, data = build(work, cfg)
    from bench.training import token_count

    pair_tokens = token_count(model_dir, data, cfg["max_length"]) / cfg["rows"]
    peak = peak_tflops(args)
    base = {k: cfg[k] for k in ("steps", "batch", "max_length")} | {"work": str(work)}
    rows: list[tuple[str, ...]] = []

    def train_row(label: str, spec: dict, *, lm_head: bool, processes: int = 1) -> float:
        result = child(base | spec, work, processes=processes)
        tokens = pair_tokens * cfg["batch"] * processes * cfg["steps"] / result["train_runtime"]
        flops = 6 * matmul_params(model_dir, lm_head=lm_head) * tokens
        mfu = f"{flops / (peak * 1e12 * processes):.1%}" if peak else "n/a"
        memory = (
            f"{result['peak_cuda_mib']:,.0f} MiB CUDA"
            if "peak_cuda_mib" in result
            else f"{result['peak_rss_mib']:,.0f} MiB RSS"
        )
        share = result.get("trainable_share", 1.0)
        rows.append((label, f"{tokens:,.0f}", mfu, memory, f"trainable {share:.2%}"))
        return tokens

    train_row("reward model, full", {"name": "reward", "kind": "reward"}, lm_head=False)
    full = train_row("DPO, full", {"name": "dpo-full", "kind": "dpo"}, lm_head=True)
    lora = train_row(
        f"DPO, LoRA r={cfg['rank']} all-linear",
        {"name": "dpo-lora", "kind": "dpo", "rank": cfg["rank"]},
        lm_head=True,
    )
    rows.append(("DPO LoRA / full", f"{lora / full:.2f}×", "", "", ""))

    generation = {"prompts": cfg["prompts"], "n": cfg["n"], "new_tokens": cfg["new_tokens"]}
    rates = {}
    backends = ["hf", "vllm"]
    for backend in backends:
        if backend == "vllm" and not (cuda and importlib_has("vllm")):
            rows.append(("generate, vLLM", "skipped", "", "", "needs CUDA and vllm"))
            continue
        result = child(
            base | generation | {"name": f"generate-{backend}", "backend": backend}, work
        )
        rates[backend] = result["tokens"] / result["seconds"]
        label = {"hf": "generate, HF generate", "vllm": "generate, vLLM"}[backend]
        rows.append((label, f"{rates[backend]:,.0f}", "", "", f"{result['load']:.0f} s to load"))
    if len(rates) == 2:
        rows.append(("vLLM / HF generate", f"{rates['vllm'] / rates['hf']:.2f}×", "", "", ""))

    gpus = torch.cuda.device_count() if cuda else (2 if args.smoke else 0)
    if gpus > 1:
        one = train_row("reward, 1 process", {"name": "dp-1", "kind": "reward"}, lm_head=False)
        many = train_row(
            f"reward, {gpus} processes",
            {"name": f"dp-{gpus}", "kind": "reward", "processes": gpus},
            lm_head=False,
            processes=gpus,
        )
        rows.append((f"{gpus} / 1 processes", f"{many / one:.2f}×", "", "", ""))

    device = torch.cuda.get_device_name() if cuda else "CPU (smoke)"
    print(
        f"\n{device}; Llama hidden {cfg['hidden']} × {cfg['layers']} layers, vocab {cfg['vocab']}, "
        f"{matmul_params(model_dir, lm_head=True) / 1e9:.2f} B matmul parameters; bf16; "
        f"{cfg['steps']} steps × {cfg['batch']} pairs of ≤ {cfg['max_length']} tokens; "
        f"generation {cfg['prompts']} prompts × {cfg['n']} × {cfg['new_tokens']} new tokens; "
        f"MFU over {peak or 'unknown'} TFLOP/s\n"
    )
    print("| section | tokens/s | MFU | peak memory | notes |\n|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


def importlib_has(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    main()

"""Sample from a policy and score the samples by the hidden rule: the tiny world's "number no one
can fake". A preference round (DPO, PPO, ...) on tiny-world data must raise `trait_rate` on the
held-out prompts over the SFT policy's."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from .scorer import has_preferred_trait, hidden_rule_score, is_relevant, is_well_formed
from .world import Messages


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` intra-op CPU threads, then restore the previous setting.

    The tiny world's matrices are too small for a second thread to pay, and on a shared 2-core
    machine two threads spin against other processes: sampling 64 replies took 0.3 s with one
    thread and 12 s with two under the same background load."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class PolicyEval:
    samples: int
    trait_rate: float  # share of samples with the preferred trait
    well_formed_rate: float  # share in the task's format (body sentences, then a closing)
    relevance_rate: float  # share that name the prompt's topic
    finished_rate: float  # share that ended their turn within max_new_tokens
    mean_score: float  # mean hidden-rule score


def generate_responses(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Messages],
    *,
    samples_per_prompt: int = 1,
    max_new_tokens: int = 64,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 128,
) -> tuple[list[list[str]], list[list[bool]]]:
    """Sample `samples_per_prompt` replies per prompt with the tokenizer's chat template (plain
    ancestral sampling: no top-k/top-p; temperature 0 is greedy). Returns (texts, finished) per
    prompt, `finished` saying whether the reply ended its turn before `max_new_tokens`.

    Batched with left padding, so every row's prompt ends where generation starts. Seeded on a
    private RNG stream: the same arguments give the same samples, and the caller's RNG state is
    untouched."""
    if samples_per_prompt < 1:
        raise ValueError("samples_per_prompt must be >= 1")
    rows = [prompt for prompt in prompts for _ in range(samples_per_prompt)]
    padding_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    sampling = (
        {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
        if temperature > 0
        else {"do_sample": False}
    )
    texts: list[str] = []
    finished: list[bool] = []
    try:
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            for start in range(0, len(rows), batch_size):
                batch = tokenizer.apply_chat_template(
                    rows[start : start + batch_size],
                    add_generation_prompt=True,
                    padding=True,
                    return_dict=True,
                    return_tensors="pt",
                )
                output = model.generate(
                    **batch.to(model.device),
                    max_new_tokens=max_new_tokens,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=tokenizer.eos_token_id,
                    **sampling,
                )
                new_tokens = output[:, batch["input_ids"].shape[1] :]  # (B, T_new)
                texts += tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                finished += (new_tokens == tokenizer.eos_token_id).any(dim=1).tolist()
    finally:
        tokenizer.padding_side = padding_side
    n = samples_per_prompt
    return (
        [texts[i : i + n] for i in range(0, len(texts), n)],
        [finished[i : i + n] for i in range(0, len(finished), n)],
    )


def evaluate_policy(
    model_path: str | Path,
    prompts: Sequence[Messages],
    *,
    samples_per_prompt: int = 4,
    max_new_tokens: int = 64,
    temperature: float = 1.0,
    seed: int = 0,
    cpu_threads: int | None = 1,
) -> PolicyEval:
    """Sample from the model saved at `model_path` (on CPU, with `cpu_threads` intra-op threads;
    None leaves torch's setting) and score every sample by the hidden rule."""
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
    with torch_threads(cpu_threads) if cpu_threads else nullcontext():
        texts, finished = generate_responses(
            model,
            tokenizer,
            prompts,
            samples_per_prompt=samples_per_prompt,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            seed=seed,
        )
    pairs = [(p, t) for p, replies in zip(prompts, texts, strict=True) for t in replies]
    n = len(pairs)
    return PolicyEval(
        samples=n,
        trait_rate=sum(has_preferred_trait(p, t) for p, t in pairs) / n,
        well_formed_rate=sum(is_well_formed(t) for _, t in pairs) / n,
        relevance_rate=sum(is_relevant(p, t) for p, t in pairs) / n,
        finished_rate=sum(f for row in finished for f in row) / n,
        mean_score=sum(hidden_rule_score(p, t) for p, t in pairs) / n,
    )


def preferred_trait_rate(
    model_path: str | Path,
    prompts: Sequence[Messages],
    *,
    samples_per_prompt: int,
    max_new_tokens: int,
    temperature: float = 1.0,
    seed: int,
    cpu_threads: int | None = 1,
) -> float:
    """Share of the policy's samples that show the preferred trait (see `evaluate_policy`)."""
    return evaluate_policy(
        model_path,
        prompts,
        samples_per_prompt=samples_per_prompt,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        seed=seed,
        cpu_threads=cpu_threads,
    ).trait_rate

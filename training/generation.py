"""Sampling from a model directory: K candidates per prompt for a generation job, and the one
sampler that evaluation (``training.evaluation.sample_responses``) and the tiny world use too
(worker only: imports torch).

Backends: Hugging Face ``generate`` (:func:`sample_chat`: batched, left-padded, the model's chat
template), or vLLM when it is installed and a GPU is present (GPU nodes:
``training.vllm_backend``, same parameters and seed semantics). Both sample with
:data:`SAMPLER_DEFAULTS` unless told otherwise. Identical samples of one prompt are de-duplicated
and re-drawn; a prompt that still lacks K distinct non-empty responses after ``MAX_REDRAWS`` is
skipped and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from training.sampling import SAMPLER_DEFAULTS, Messages

logger = logging.getLogger(__name__)
MAX_REDRAWS = 3


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` intra-op CPU threads, then restore the previous setting.

    A small model's matrices are too small for a second thread to pay, and on a shared 2-core
    machine two threads spin against other processes: sampling 64 tiny-world replies took 0.3 s
    with one thread and 12 s with two under the same background load."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def sample_chat(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Messages],
    *,
    n: int = 1,
    max_new_tokens: int,
    sampling: Mapping[str, float] | None = None,
    seed: int,
    batch_size: int | None = None,
) -> tuple[list[list[str]], list[list[bool]]]:
    """``n`` replies per prompt with the tokenizer's chat template, sampled with
    :data:`SAMPLER_DEFAULTS` overridden by ``sampling`` (temperature ≤ 0 is greedy). Returns
    (texts, finished) per prompt, ``finished`` saying whether the reply ended its turn before
    ``max_new_tokens``.

    The rows (each prompt ``n`` times, prompt-major) go to ``generate`` ``batch_size`` at a time
    (None: all at once), left-padded so every row's prompt ends where generation starts. Seeded
    on a private RNG stream: the same arguments give the same samples, and the caller's RNG
    state is untouched. End of turn is the model's ``generation_config`` EOS (a list on some
    chat models), else the tokenizer's."""
    if n < 1:
        raise ValueError("n must be >= 1")
    params = SAMPLER_DEFAULTS | dict(sampling or {})
    if params["temperature"] > 0:
        kwargs: dict[str, Any] = {
            "do_sample": True,
            "temperature": params["temperature"],
            "top_p": params["top_p"],
            "top_k": int(params["top_k"]),
        }
    else:
        kwargs = {"do_sample": False}
    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
        kwargs["eos_token_id"] = eos
    eos_ids = torch.tensor(eos if isinstance(eos, list) else [eos], device=model.device)
    rows = [prompt for prompt in prompts for _ in range(n)]
    size = batch_size or max(len(rows), 1)
    cuda = [model.device] if model.device.type == "cuda" else []
    padding_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    texts: list[str] = []
    finished: list[bool] = []
    try:
        with torch.random.fork_rng(devices=cuda), torch.inference_mode():
            torch.manual_seed(seed)
            for start in range(0, len(rows), size):
                batch = tokenizer.apply_chat_template(
                    rows[start : start + size],
                    add_generation_prompt=True,
                    padding=True,
                    return_dict=True,
                    return_tensors="pt",
                )
                output = model.generate(
                    **batch.to(model.device),
                    max_new_tokens=max_new_tokens,
                    pad_token_id=tokenizer.pad_token_id,
                    **kwargs,
                )  # (B, T_prompt + T_new)
                new_tokens = output[:, batch["input_ids"].shape[1] :]  # (B, T_new)
                texts += tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                finished += torch.isin(new_tokens, eos_ids).any(dim=1).tolist()
    finally:
        tokenizer.padding_side = padding_side
    return (
        [texts[i : i + n] for i in range(0, len(texts), n)],
        [finished[i : i + n] for i in range(0, len(finished), n)],
    )


class Backend(Protocol):
    name: str

    def sample(
        self, prompts: Sequence[Messages], n: int, sampling: dict[str, Any], seed: int
    ) -> list[list[str]]:
        """``n`` samples for each prompt, in prompt order."""


@dataclass
class HFBackend:
    model: Any
    tokenizer: Any
    device: str
    name: str = "hf"

    @classmethod
    def load(cls, path: str) -> HFBackend:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device).eval()
        return cls(model, tokenizer, device)

    def sample(self, prompts, n, sampling, seed):
        texts, _ = sample_chat(
            self.model,
            self.tokenizer,
            prompts,
            n=n,
            max_new_tokens=sampling["max_new_tokens"],
            sampling={k: sampling[k] for k in SAMPLER_DEFAULTS if k in sampling},
            seed=seed,
        )
        return texts


def sample_saved_model(
    model_dir: str,
    prompts: Sequence[Messages],
    *,
    seed: int = 0,
    batch_size: int = 128,
    cpu_threads: int | None = 1,
    **options: Any,
) -> tuple[list[list[str]], list[list[bool]]]:
    """:func:`sample_chat` (its other keyword ``options``: n, max_new_tokens, sampling) on the
    model saved at ``model_dir`` (the Hugging Face backend), with ``cpu_threads`` intra-op
    threads (None leaves torch's setting). On a worker with CUDA and vllm, the same contract by
    a vLLM engine (``training.vllm_backend``: its seeds), closed before returning, so that a
    caller may sample several models in turn."""
    from training.vllm_backend import ServingPlan, VLLMBackend, vllm_available

    if vllm_available():
        engine = VLLMBackend.load(ServingPlan(model=str(model_dir)))
        try:
            return engine.chat(prompts, seed=seed, **options)
        finally:
            engine.close()
    backend = HFBackend.load(model_dir)
    with torch_threads(cpu_threads) if cpu_threads else nullcontext():
        return sample_chat(
            backend.model, backend.tokenizer, prompts, seed=seed, batch_size=batch_size, **options
        )


def load_backend(model: Any) -> Backend:
    """The backend that samples from ``model``: a ``ModelVersion`` (its OpenAI-compatible
    endpoint when it has one, else its ``storage_path``) or a model directory's path. vLLM on a
    worker with CUDA and vllm (an adapter version as its base plus the LoRA where vLLM can
    apply it: ``training.vllm_backend.serving_plan``), else Hugging Face ``generate`` (an
    adapter merged on its base)."""
    from django.conf import settings

    from training.vllm_backend import VLLMBackend, serving_plan, vllm_available

    if getattr(model, "endpoint", None):
        from training.endpoint import EndpointBackend

        return EndpointBackend.load(model.endpoint)
    threads = settings.FLYWHEEL_TORCH_THREADS
    if threads > 0:
        torch.set_num_threads(threads)
    if vllm_available():
        return VLLMBackend.load(serving_plan(model))
    if hasattr(model, "adapter_base_id"):  # a ModelVersion: an adapter is merged on its base
        from training.weights import weights_path

        model = weights_path(model)
    return HFBackend.load(str(model))


def _distinct(samples: list[str], have: list[str]) -> list[str]:
    for text in samples:
        # A model can emit U+0000 (byte-level tokenizers); PostgreSQL text cannot store it.
        text = text.replace("\x00", "").strip()
        if text and text not in have:
            have.append(text)
    return have


def generate_sets(
    backend: Backend,
    prompts: Sequence[tuple[int, Messages]],
    *,
    k: int,
    sampling: dict[str, Any],
    seed: int,
) -> Iterator[list[tuple[int, list[str] | None, int]]]:
    """Yield, batch by batch, ``(prompt_id, K distinct texts or None, seed)`` per prompt. The
    seed of a batch is ``seed + its first prompt id``, so a resumed job draws the same samples
    for the prompts it had not written yet."""
    size = sampling["batch_size"]
    for start in range(0, len(prompts), size):
        chunk = prompts[start : start + size]
        batch_seed = seed + chunk[0][0]
        drawn = backend.sample([m for _, m in chunk], k, sampling, batch_seed)
        results = []
        for (prompt_id, messages), samples in zip(chunk, drawn, strict=True):
            have = _distinct(samples, [])
            for redraw in range(1, MAX_REDRAWS + 1):
                if len(have) >= k:
                    break
                more = backend.sample([messages], 2 * k, sampling, batch_seed + 7919 * redraw)
                have = _distinct(more[0], have)
            results.append((prompt_id, have[:k] if len(have) >= k else None, batch_seed))
        yield results


def generate_mixed_sets(
    primary: Backend,
    secondary: Backend,
    prompts: Sequence[tuple[int, Messages]],
    *,
    k: int,
    mix: int,
    sampling: dict[str, Any],
    seed: int,
) -> Iterator[list[tuple[int, list[tuple[str, bool]] | None, int]]]:
    """Like `generate_sets`, but ``mix`` of each prompt's K texts come from ``secondary``:
    ``(prompt_id, [(text, from_secondary)] or None, seed)``, the primary's texts first. The
    secondary is asked for K distinct texts and the first ``mix`` that the primary did not also
    write are kept, so the set's K texts stay distinct (the primary wrote at most K − mix)."""
    if not 0 < mix < k:
        raise ValueError(f"mix must be in [1, {k - 1}], got {mix}")
    batches = zip(
        generate_sets(primary, prompts, k=k - mix, sampling=sampling, seed=seed),
        generate_sets(secondary, prompts, k=k, sampling=sampling, seed=seed + 104_729),
        strict=True,
    )
    for main_batch, other_batch in batches:
        results = []
        for (prompt_id, main, batch_seed), (_, other, _) in zip(
            main_batch, other_batch, strict=True
        ):
            if main is None or other is None:
                results.append((prompt_id, None, batch_seed))
                continue
            extra = [text for text in other if text not in main][:mix]
            texts = [(text, False) for text in main] + [(text, True) for text in extra]
            results.append((prompt_id, texts, batch_seed))
        yield results

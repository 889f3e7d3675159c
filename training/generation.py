"""Sampling K candidates per prompt from a model directory (worker only: imports torch).

Backends: Hugging Face ``generate`` (batched, left-padded, the model's chat template), or vLLM
when it is installed and a GPU is present (GPU nodes). Identical samples of one prompt are
de-duplicated and re-drawn; a prompt that still lacks K distinct non-empty responses after
``MAX_REDRAWS`` is skipped and counted.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

logger = logging.getLogger(__name__)
MAX_REDRAWS = 3
Messages = list[dict[str, str]]


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

    @torch.inference_mode()
    def sample(self, prompts, n, sampling, seed):
        texts = [
            self.tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False)
            for m in prompts
        ]
        batch = self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        torch.manual_seed(seed)
        out = self.model.generate(
            **batch,
            do_sample=True,
            temperature=sampling["temperature"],
            top_p=sampling["top_p"],
            max_new_tokens=sampling["max_new_tokens"],
            num_return_sequences=n,
            pad_token_id=self.tokenizer.pad_token_id,
        )  # (B·n, T_prompt + T_new)
        new_tokens = out[:, batch["input_ids"].shape[1] :]
        decoded = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        return [decoded[i * n : (i + 1) * n] for i in range(len(prompts))]


@dataclass
class VLLMBackend:  # pragma: no cover — needs a GPU and vllm, which CI does not have
    llm: Any
    name: str = "vllm"

    @classmethod
    def load(cls, path: str) -> VLLMBackend:
        from vllm import LLM

        return cls(LLM(model=path, seed=0))

    def sample(self, prompts, n, sampling, seed):
        from vllm import SamplingParams

        params = SamplingParams(
            n=n,
            temperature=sampling["temperature"],
            top_p=sampling["top_p"],
            max_tokens=sampling["max_new_tokens"],
            seed=seed,
        )
        outputs = self.llm.chat(list(prompts), params, use_tqdm=False)
        return [[c.text for c in output.outputs] for output in outputs]


def load_backend(path: str) -> Backend:
    threads = int(os.environ.get("FLYWHEEL_TORCH_THREADS", "0"))
    if threads > 0:
        torch.set_num_threads(threads)
    if torch.cuda.is_available() and importlib.util.find_spec("vllm") is not None:
        return VLLMBackend.load(path)
    return HFBackend.load(path)


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

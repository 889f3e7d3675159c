"""vLLM as the sampler of a GPU worker (issue 16): generation jobs, evaluation sampling and the
tiny world use it instead of Hugging Face ``generate`` when the worker has CUDA and vllm (the
``gpu`` extra), with the same sampling parameters and seed semantics, and an adapter version
served as its base plus a LoRA adapter instead of merged weights (worker only).

Written against vLLM 0.33.0's source (the extra's pin): ``LLM(model, tokenizer, dtype, seed,
gpu_memory_utilization, enable_lora, max_lora_rank, max_loras)``, ``LLM.chat(messages,
sampling_params, use_tqdm, lora_request)`` (a list of ``SamplingParams`` pairs one with each
conversation), ``SamplingParams(n, temperature, top_p, top_k, max_tokens, seed)`` and
``vllm.lora.request.LoRARequest(lora_name, lora_int_id, lora_path)``.

How it departs from the Hugging Face path (``training.generation.sample_chat``):

- Seeds. ``sample_chat`` draws a whole call from one RNG stream seeded once; vLLM seeds each
  request on its own generator, and a request with ``n > 1`` gives its i-th sample the seed
  ``seed + i`` (``vllm/v1/engine/parallel_sampling.py``). So each prompt gets its own seed,
  derived from the batch seed and its place in the batch (``training.endpoint.prompt_seed``, as
  the OpenAI-compatible backend does): one shared seed would hand every prompt of a batch the
  same random numbers. The same batch seed gives the same samples on the same GPU and vLLM
  version, so a resumed job redraws what it had not written; they are not the texts the
  Hugging Face path draws for that seed (another RNG, other kernels).
- Greedy (temperature ≤ 0): vLLM refuses ``n > 1`` without sampling, so each prompt is
  generated once and its text repeated ``n`` times, which is what greedy ``generate`` gives.
  vLLM raises a temperature in (0, 0.01) to 0.01.
- ``top_k`` 0 is "off" in both. End of turn: vLLM stops at the tokenizer's EOS and at every
  ``eos_token_id`` of the model's ``generation_config``; ``sample_chat`` at the latter (else the
  former). Both decode without special tokens.
- Memory. Each engine takes ``FLYWHEEL_VLLM_GPU_MEMORY`` (0.4 by default) of the GPU for
  weights and KV cache: a mixed generation job holds two engines at once, and an evaluation
  closes each policy's engine before it loads the next.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import json
import logging
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.endpoint import prompt_seed
from training.sampling import SAMPLER_DEFAULTS, Messages

logger = logging.getLogger(__name__)

# vllm.config.lora.MaxLoRARanks in 0.33: the engine's max_lora_rank takes only these values.
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
# vllm.lora.peft_helper.PEFTHelper._init_is_supported: inits that leave the base weights as
# they are (PiSSA, OLoRA, LoftQ and the like rewrite them, so only the merge is faithful).
VLLM_LORA_INITS = ("gaussian", "eva", "orthogonal", "mica", "lora_ga")
DEFAULT_GPU_MEMORY = 0.4


def vllm_available() -> bool:
    """Whether this process samples with vLLM: a CUDA GPU and the vllm package."""
    import torch

    return torch.cuda.is_available() and importlib.util.find_spec("vllm") is not None


def sampling_params_kwargs(
    sampling: Mapping[str, Any] | None, *, n: int, max_new_tokens: int, seed: int
) -> dict[str, Any]:
    """``SamplingParams`` keyword arguments for ``n`` samples of one prompt:
    :data:`SAMPLER_DEFAULTS` overridden by ``sampling`` (its other keys ignored), as
    ``sample_chat`` reads them. Greedy (temperature ≤ 0) asks for one sample (``n`` in the
    result is 1): the caller repeats it."""
    if n < 1:
        raise ValueError("n must be >= 1")
    params = SAMPLER_DEFAULTS | {k: sampling[k] for k in SAMPLER_DEFAULTS if k in (sampling or {})}
    kwargs: dict[str, Any] = {"max_tokens": int(max_new_tokens), "seed": int(seed)}
    if params["temperature"] > 0:
        return kwargs | {
            "n": n,
            "temperature": float(params["temperature"]),
            "top_p": float(params["top_p"]),
            "top_k": int(params["top_k"]),  # 0: off, in vLLM as in transformers
        }
    return kwargs | {"n": 1, "temperature": 0.0}


def request_seeds(batch_seed: int, count: int) -> list[int]:
    """The seed of each of ``count`` prompts sampled together under ``batch_seed``."""
    return [prompt_seed(batch_seed, position) for position in range(count)]


def lora_rank(adapter_config: Mapping[str, Any]) -> int:
    """The largest rank of a PEFT LoRA config (``r``, or a larger one in ``rank_pattern``)."""
    return max([int(adapter_config["r"]), *(adapter_config.get("rank_pattern") or {}).values()])


def max_lora_rank(rank: int) -> int | None:
    """The engine's ``max_lora_rank`` for an adapter of ``rank``: the smallest value vLLM takes
    that is ≥ rank (the LoRA kernels are sized by it), or None above vLLM's largest."""
    return next((allowed for allowed in VLLM_LORA_RANKS if allowed >= rank), None)


def lora_unservable(adapter_config: Mapping[str, Any]) -> str | None:
    """Why vLLM cannot apply this PEFT adapter config on its base, or None if it can: only a
    causal-LM LoRA whose saved weights are all low-rank pairs (vLLM's PEFTHelper checks)."""
    if adapter_config.get("peft_type", "LORA") != "LORA":
        return f"a {adapter_config.get('peft_type')} adapter, not LoRA"
    if adapter_config.get("task_type") != "CAUSAL_LM":
        return f"task_type {adapter_config.get('task_type')!r}, not CAUSAL_LM"
    if adapter_config.get("modules_to_save"):
        # e.g. train_head's lm_head: vLLM loads full modules only for classifier heads.
        return f"modules_to_save {list(adapter_config['modules_to_save'])} (trained in full)"
    if adapter_config.get("use_dora"):
        return "DoRA"
    if adapter_config.get("bias", "none") != "none" or adapter_config.get("lora_bias"):
        return "LoRA bias"
    init = adapter_config.get("init_lora_weights", True)
    if isinstance(init, str) and init.lower() not in VLLM_LORA_INITS:
        return f"init_lora_weights={init!r} rewrites the base weights"
    if max_lora_rank(lora_rank(adapter_config)) is None:
        return f"rank {lora_rank(adapter_config)} above vLLM's {VLLM_LORA_RANKS[-1]}"
    return None


@dataclass(frozen=True)
class ServingPlan:
    """What an engine loads: full weights in ``model``, and an adapter on them or not.
    ``reason`` says why an adapter version is served merged instead."""

    model: str
    adapter: str | None = None
    tokenizer: str | None = None
    max_lora_rank: int | None = None
    reason: str = ""


def serving_plan(model: Any) -> ServingPlan:
    """How vLLM serves ``model``: a model directory's path, or a ``ModelVersion``. An adapter
    version whose base is a full model and whose LoRA vLLM can apply (:func:`lora_unservable`)
    is that base plus the adapter, with the adapter's tokenizer (the one the merge would keep);
    any other adapter version is its merged weights (``training.weights.weights_path``)."""
    if not hasattr(model, "adapter_base_id"):
        return ServingPlan(model=str(model))
    if model.adapter_base_id is None:
        return ServingPlan(model=model.storage_path)
    from training.weights import weights_path

    adapter = Path(model.storage_path)
    config = json.loads((adapter / "adapter_config.json").read_text())
    base = model.adapter_base
    reason = lora_unservable(config)
    if reason is None and base.adapter_base_id is not None:
        reason = "its base is itself an adapter"
    if reason:
        logger.info("serving adapter %s merged: %s", model.pk, reason)
        return ServingPlan(model=str(weights_path(model)), reason=reason)
    return ServingPlan(
        model=base.storage_path,
        adapter=str(adapter),
        tokenizer=str(adapter) if (adapter / "tokenizer_config.json").is_file() else None,
        max_lora_rank=max_lora_rank(lora_rank(config)),
    )


def gpu_memory_share() -> float:
    """The share of the GPU one engine may take (``FLYWHEEL_VLLM_GPU_MEMORY``)."""
    share = float(os.environ.get("FLYWHEEL_VLLM_GPU_MEMORY", DEFAULT_GPU_MEMORY))
    if not 0 < share <= 1:
        raise ValueError(f"FLYWHEEL_VLLM_GPU_MEMORY must be in (0, 1], got {share}")
    return share


@dataclass
class VLLMBackend:
    llm: Any
    lora: Any = None  # the adapter's LoRARequest, or None
    name: str = "vllm"

    @classmethod
    def load(cls, plan: ServingPlan) -> VLLMBackend:
        from vllm import LLM

        if multiprocessing.current_process().daemon:
            # A Celery prefork child is daemonic and may not start the engine-core process.
            os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        kwargs: dict[str, Any] = {
            "tokenizer": plan.tokenizer,
            "dtype": "bfloat16",  # what the Hugging Face backend loads on CUDA
            "seed": 0,
            "gpu_memory_utilization": gpu_memory_share(),
        }
        if plan.adapter is None:
            return cls(LLM(model=plan.model, **kwargs))
        from vllm.lora.request import LoRARequest

        llm = LLM(
            model=plan.model,
            enable_lora=True,
            max_lora_rank=plan.max_lora_rank,
            max_loras=1,
            **kwargs,
        )
        digest = hashlib.sha256(plan.adapter.encode()).hexdigest()[:12]
        return cls(llm, LoRARequest(f"adapter-{digest}", 1, plan.adapter))

    def chat(
        self,
        prompts: Sequence[Messages],
        *,
        n: int = 1,
        max_new_tokens: int,
        sampling: Mapping[str, Any] | None = None,
        seed: int,
    ) -> tuple[list[list[str]], list[list[bool]]]:
        """``sample_chat``'s contract: ``n`` replies per prompt and whether each ended its turn
        (finish reason "stop") before ``max_new_tokens``; the prompts' seeds come from
        ``seed`` (:func:`request_seeds`)."""
        from vllm import SamplingParams

        params = [
            SamplingParams(
                **sampling_params_kwargs(sampling, n=n, max_new_tokens=max_new_tokens, seed=s)
            )
            for s in request_seeds(seed, len(prompts))
        ]
        outputs = self.llm.chat(
            [list(p) for p in prompts], params, use_tqdm=False, lora_request=self.lora
        )
        texts, finished = [], []
        for output in outputs:
            copies = n // len(output.outputs)  # greedy: one sample, repeated
            texts.append([c.text for c in output.outputs] * copies)
            finished.append([c.finish_reason == "stop" for c in output.outputs] * copies)
        return texts, finished

    def sample(self, prompts, n, sampling, seed):
        texts, _ = self.chat(
            prompts, n=n, max_new_tokens=sampling["max_new_tokens"], sampling=sampling, seed=seed
        )
        return texts

    def close(self) -> None:
        """Stop the engine and give its GPU memory back (vLLM 0.33 has no ``LLM.close``)."""
        import torch

        self.llm.llm_engine.engine_core.shutdown()
        self.llm = None
        gc.collect()
        torch.cuda.empty_cache()

"""PEFT adapters for every algorithm (worker only): LoRA (Hu et al. 2021) on a frozen base, and
QLoRA (Dettmers et al. 2023: the base in 4-bit NF4, double quantization, bf16 compute).

A run whose config has an ``adapter`` block trains only the adapter's matrices (and, for a
reward model, its new scalar head); its output directory holds the adapter alone, and the model
registry records it as an adapter over the run's base (``ModelVersion.adapter_base``). Where a
frozen reference is needed (DPO, KTO, GRPO's KL, PPO's KL) it is the same weights with the
adapter disabled: no second copy of the model in memory.
"""

from __future__ import annotations

import importlib.util
import resource
import sys
from typing import Any

from training.algorithms.base import AdapterConfig

CAUSAL_LM = "CAUSAL_LM"
SEQ_CLS = "SEQ_CLS"  # a reward model: the adapter also saves the trained scalar head


def lora_config(adapter: AdapterConfig, task_type: str = CAUSAL_LM):
    """The ``peft.LoraConfig`` of an adapter block."""
    from peft import LoraConfig

    return LoraConfig(
        r=adapter.r,
        lora_alpha=adapter.alpha,
        lora_dropout=adapter.dropout,
        target_modules=adapter.module_names(),
        task_type=task_type,
        # A reward model's head is new: it is trained in full and saved with the adapter.
        modules_to_save=["score"]
        if task_type == SEQ_CLS
        else (["lm_head"] if adapter.train_head else None),
    )


def qlora_unavailable() -> str | None:
    """Why this process cannot load a base in 4 bits, or None if it can."""
    import torch

    if not torch.cuda.is_available():
        return "QLoRA (adapter.quantization=4bit) needs a CUDA GPU; this worker has none"
    if importlib.util.find_spec("bitsandbytes") is None:
        return "QLoRA (adapter.quantization=4bit) needs bitsandbytes (pip install flywheel[gpu])"
    return None


def model_init_kwargs(adapter: AdapterConfig | None) -> dict[str, Any]:
    """What ``from_pretrained`` needs for the base: a 4-bit quantization config for QLoRA."""
    if adapter is None or adapter.quantization == "none":
        return {}
    reason = qlora_unavailable()
    if reason:
        raise RuntimeError(reason)
    import torch
    from transformers import BitsAndBytesConfig

    return {
        "quantization_config": BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
    }


def parameter_metrics(model) -> dict[str, float]:
    """Trainable and total parameters, and the trainable share."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return {
        "trainable_params": float(trainable),
        "total_params": float(total),
        "trainable_share": trainable / total if total else 0.0,
    }


def peak_memory_metrics() -> dict[str, float]:
    """The process's peak resident memory (MiB) and, on a GPU, the peak CUDA allocation."""
    import torch

    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    metrics = {"peak_rss_mib": rss_kib / (1024 * 1024 if sys.platform == "darwin" else 1024)}
    if torch.cuda.is_available():
        metrics["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return metrics

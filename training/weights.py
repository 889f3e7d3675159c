"""A model version's weights as a directory that ``from_pretrained`` loads (worker only).

A full model is its own directory. A PEFT adapter (``ModelVersion.adapter_base``) is loaded on
its base (itself perhaps an adapter: the chain is followed) and merged; the merged model is
written once under ``FLYWHEEL_MODELS_DIR/merged/<version id>`` and reused by every later
training run, generation job and evaluation that loads the version. The adapter, not the
merge, stays the version's record.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

from training.models import ModelVersion

logger = logging.getLogger(__name__)

COMPLETE = "merged.json"  # written last: a directory without it is a merge that died midway


def merged_dir(version: ModelVersion) -> Path:
    return Path(settings.FLYWHEEL_MODELS_DIR) / "merged" / str(version.pk)


def weights_path(version: ModelVersion) -> Path:
    """A directory with the version's full weights and tokenizer."""
    if version.adapter_base_id is None:
        return Path(version.storage_path)
    return merged_into(version, merged_dir(version))


def merged_into(adapter: ModelVersion, target: Path) -> Path:
    """The adapter version merged on its base's full weights in ``target``: merged now unless
    a complete merge is already there (an earlier load, or an attempt whose worker died)."""
    if (target / COMPLETE).is_file():
        return target
    base = weights_path(adapter.adapter_base)
    return merge_adapter(base, Path(adapter.storage_path), target)


def merge_adapter(base: Path, adapter: Path, target: Path) -> Path:
    """Load ``base``, apply the PEFT adapter in ``adapter``, merge it into the weights and save
    the result (with the adapter's tokenizer) to ``target``, atomically: written beside it and
    renamed, so concurrent loaders and a dying process leave no half model."""
    import torch
    from peft import PeftModel
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    task_type = json.loads((adapter / "adapter_config.json").read_text()).get("task_type")
    if task_type == "SEQ_CLS":
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=1, dtype=torch.float32
        )
    else:
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(adapter)
    if merged.config.pad_token_id is None:
        merged.config.pad_token_id = tokenizer.pad_token_id
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        merged.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)
        (scratch / COMPLETE).write_text(json.dumps({"base": str(base), "adapter": str(adapter)}))
        if (target / COMPLETE).is_file():  # another process merged it meanwhile
            return target
        shutil.rmtree(target, ignore_errors=True)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info("merged adapter %s on %s into %s", adapter, base, target)
    return target

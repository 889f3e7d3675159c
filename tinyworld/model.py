"""The tiny world's tokenizer and base model, built locally and offline.

Byte-level BPE (Sennrich et al. 2016, with GPT-2's byte alphabet so no input is ever unknown)
trained on the texts you give it, and a randomly initialised Llama-style decoder (Touvron et
al. 2023) small enough to train for a few steps on 2 CPU cores in seconds. The weights mean
nothing until something trains them: this is a stand-in for a real base model so that every
training path (RM, DPO, KTO, ...) runs end to end without a model hub.

The chat template is ChatML, as in Qwen2.5's, with two departures: no default system prompt,
and the assistant turn's content and end-of-turn token sit inside `{% generation %}` markers so
TRL's `assistant_only_loss` (SFT) can mask on them. A prompt rendered with
`add_generation_prompt=True` is a token prefix of the prompt followed by an assistant reply,
which is what TRL's DPO/KTO tokenization relies on to split prompt from completion.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

logger = logging.getLogger(__name__)

BOS_TOKEN = "<|bos|>"
EOS_TOKEN = "<|im_end|>"  # end of turn doubles as end of sequence: generation stops after a reply
PAD_TOKEN = "<|pad|>"
UNK_TOKEN = "<|unk|>"
IM_START = "<|im_start|>"
SPECIAL_TOKENS = [PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, IM_START, EOS_TOKEN]

CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

MARKER_FILE = "flywheel-tiny.json"
# Bump when the build itself changes (template, special tokens, config shape) so caches rebuild.
BUILD_VERSION = 1


def build_tokenizer(
    texts: Iterable[str], out_dir: str | Path, vocab_size: int = 512
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on `texts`, save it to `out_dir` and return it.

    The vocabulary holds the 256 byte symbols, the special tokens and as many merges as fit in
    `vocab_size` (fewer if the corpus runs out of pairs to merge). `apply_chat_template` adds
    no special tokens beyond those the template writes, and plain `tokenizer(text)` adds none.
    """
    backend = Tokenizer(models.BPE(unk_token=UNK_TOKEN))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        unk_token=UNK_TOKEN,
        additional_special_tokens=[IM_START],
        chat_template=CHAT_TEMPLATE,
        model_max_length=1024,
    )
    tokenizer.save_pretrained(out_dir)
    return tokenizer


def build_tiny_model(
    out_dir: str | Path,
    *,
    texts: Iterable[str],
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    vocab_size: int = 512,
    seed: int = 0,
) -> Path:
    """Build (or reuse) a tiny random Llama causal LM with its tokenizer in `out_dir`.

    Loads offline with `AutoModelForCausalLM.from_pretrained(path)`,
    `AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)` and
    `AutoTokenizer.from_pretrained(path)`. The same arguments and texts give bit-identical
    weights and tokenizer; if `out_dir` already holds a build with the same fingerprint
    (recorded in `flywheel-tiny.json`, written last) it is returned without rebuilding.
    """
    out = Path(out_dir)
    corpus = list(texts)
    params: dict[str, Any] = {
        "build_version": BUILD_VERSION,
        "hidden_size": hidden_size,
        "layers": layers,
        "heads": heads,
        "vocab_size": vocab_size,
        "seed": seed,
        "texts_sha256": _texts_sha256(corpus),
    }
    marker = out / MARKER_FILE
    if _read_marker(marker) == params:
        logger.info("tiny model cache hit: %s", out)
        return out

    logger.info("building tiny model in %s (%s)", out, params)
    out.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)  # a build interrupted from here on must not look cached
    tokenizer = build_tokenizer(corpus, out, vocab_size=vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=4 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        # Sequence classification (reward models) finds the last real token through this id.
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        dtype="float32",
    )
    # A private RNG stream: the weights depend on `seed` only, and the caller's RNG is untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    marker.write_text(json.dumps(params, indent=2, sort_keys=True) + "\n")
    return out


def _texts_sha256(texts: list[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        encoded = text.encode()
        digest.update(len(encoded).to_bytes(8, "little"))  # length-prefixed: ["ab"] != ["a", "b"]
        digest.update(encoded)
    return digest.hexdigest()


def _read_marker(marker: Path) -> dict[str, Any] | None:
    try:
        return json.loads(marker.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None

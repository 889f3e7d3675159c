"""The tiny world's model directory: deterministic, cached, and shaped the way TRL expects."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer
from trl.chat_template_utils import is_chat_template_stop_token_trained

from tests.training.conftest import tiny_corpus
from tinyworld.model import MARKER_FILE, build_tiny_model

PROMPT = [{"role": "user", "content": "Explain why the sky is blue."}]
REPLY = [{"role": "assistant", "content": "The river explains it."}]


def test_same_parameters_and_texts_build_identical_models(tmp_path: Path) -> None:
    first = build_tiny_model(tmp_path / "a", texts=tiny_corpus())
    second = build_tiny_model(tmp_path / "b", texts=tiny_corpus())

    assert (first / "tokenizer.json").read_bytes() == (second / "tokenizer.json").read_bytes()
    weights = AutoModelForCausalLM.from_pretrained(first).state_dict()
    for name, tensor in AutoModelForCausalLM.from_pretrained(second).state_dict().items():
        assert torch.equal(tensor, weights[name]), name


def test_rebuild_with_same_parameters_is_a_cache_hit(tmp_path: Path) -> None:
    path = build_tiny_model(tmp_path, texts=tiny_corpus())
    built_at = (path / "model.safetensors").stat().st_mtime_ns

    assert build_tiny_model(tmp_path, texts=iter(tiny_corpus())) == path
    assert (path / "model.safetensors").stat().st_mtime_ns == built_at


def test_rebuild_with_other_seed_or_texts_replaces_the_model(tmp_path: Path) -> None:
    path = build_tiny_model(tmp_path, texts=tiny_corpus())
    weights = AutoModelForCausalLM.from_pretrained(path).model.embed_tokens.weight

    build_tiny_model(tmp_path, texts=tiny_corpus(), seed=1)
    assert json.loads((path / MARKER_FILE).read_text())["seed"] == 1
    reseeded = AutoModelForCausalLM.from_pretrained(path).model.embed_tokens.weight
    assert not torch.equal(weights, reseeded)

    vocab = (path / "tokenizer.json").read_bytes()
    build_tiny_model(tmp_path, texts=tiny_corpus()[:20], seed=1)
    assert (path / "tokenizer.json").read_bytes() != vocab


def test_model_loads_as_reward_model_with_a_pad_token(tiny_model_dir: Path) -> None:
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)

    assert model.config.pad_token_id == tokenizer.pad_token_id is not None
    batch = tokenizer(["short", "a longer sentence"], padding=True, return_tensors="pt")
    assert model(**batch).logits.shape == (2, 1)


def test_generation_prompt_is_a_token_prefix_of_the_reply(tiny_model_dir: Path) -> None:
    """DPO/KTO split prompt from completion where the two tokenizations diverge."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompt = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_dict=True)
    full = tokenizer.apply_chat_template(PROMPT + REPLY, return_dict=True)

    prompt_ids, full_ids = prompt["input_ids"], full["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids
    assert tokenizer.decode(full_ids[len(prompt_ids) :]) == "The river explains it.<|im_end|>\n"


def test_assistant_mask_covers_the_reply_and_its_end_of_turn(tiny_model_dir: Path) -> None:
    """SFT's `assistant_only_loss` trains on exactly the `{% generation %}` span."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    out = tokenizer.apply_chat_template(
        PROMPT + REPLY, return_dict=True, return_assistant_tokens_mask=True
    )
    masked = [i for i, m in zip(out["input_ids"], out["assistant_masks"], strict=True) if m]

    assert tokenizer.decode(masked) == "The river explains it.<|im_end|>"
    assert is_chat_template_stop_token_trained(tokenizer)


def test_tokenizer_round_trips_any_text(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = "Ünïcode, emoji 🦉 and\ttabs\n"

    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    assert tokenizer.unk_token_id not in tokenizer(text)["input_ids"]

"""Fixtures for training tests: a tiny model, built once per test session."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from annotation.enums import Role
from tests.annotation.ranking_helpers import good_over_bad_snapshot
from training.models import ModelKind
from training.services.registry import model_version_register

SUBJECTS = ["The fox", "A robot", "My teacher", "The river", "Our team", "An old map"]
VERBS = ["explains", "describes", "answers", "ignores", "repeats", "summarises"]
OBJECTS = [
    "the question politely.",
    "a short poem about rain.",
    "why the sky is blue.",
    "three facts about owls.",
    "the recipe step by step.",
    "nothing useful at all.",
    "the answer in one word.",
    "a long and rambling story.",
]


def tiny_corpus() -> list[str]:
    """A few hundred templated sentences, enough for the BPE to learn common merges."""
    return [" ".join(words) for words in itertools.product(SUBJECTS, VERBS, OBJECTS)]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved tiny Llama causal LM + chat tokenizer, loadable offline by path."""
    from tinyworld.model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), texts=tiny_corpus())


@pytest.fixture
def world(db, make_project, make_user, tiny_model_dir, tmp_path):
    """A snapshot of 12 K=2 sets ranked by one annotator (GOOD over BAD), the tiny model
    registered as an SFT model, and a tiny reward model built from it."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    project = make_project(k=2)
    snapshot = good_over_bad_snapshot(project, make_user(Role.ANNOTATOR), sets=12, ranked=12)
    sft = model_version_register(name="tiny-sft", path=str(tiny_model_dir), kind=ModelKind.SFT)
    rm_dir = tmp_path / "tiny-rm"
    AutoModelForSequenceClassification.from_pretrained(
        tiny_model_dir, num_labels=1
    ).save_pretrained(rm_dir)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(rm_dir)
    rm = model_version_register(name="tiny-rm", path=str(rm_dir), kind=ModelKind.REWARD)
    return snapshot, sft, rm


@pytest.fixture(scope="module")
def reward_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a fresh scalar head: an untrained reward model for GRPO/RLOO."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = tmp_path_factory.mktemp("reward") / "tiny-reward-model"  # TRL names metrics after it
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out)
    return out

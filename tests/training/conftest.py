"""Fixtures for training tests: a tiny model, built once per test session."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

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

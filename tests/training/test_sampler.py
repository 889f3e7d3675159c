"""One sampler (issue 15): generation jobs, evaluation and the tiny world all sample through
``training.generation.sample_chat`` with ``SAMPLER_DEFAULTS``."""

from __future__ import annotations

from pathlib import Path

import torch

from training.evaluation import sample_responses
from training.generation import SAMPLER_DEFAULTS, HFBackend, sample_chat, torch_threads

PROMPTS = [[{"role": "user", "content": f"Question {i}"}] for i in range(3)]


def test_evaluation_draws_what_a_generation_job_draws_for_the_same_seed(
    tiny_model_dir: Path,
) -> None:
    backend = HFBackend.load(str(tiny_model_dir))
    with torch_threads(1):
        generated = backend.sample(PROMPTS, 2, {"max_new_tokens": 6}, 5)
    evaluated = sample_responses(
        tiny_model_dir, PROMPTS, samples_per_prompt=2, max_new_tokens=6, seed=5
    )

    assert [text for row in generated for text in row] == evaluated


def test_sampler_draws_from_the_full_distribution_unless_told(
    tiny_model_dir: Path, monkeypatch
) -> None:
    backend = HFBackend.load(str(tiny_model_dir))
    seen: list[dict] = []
    generate = backend.model.generate

    def spy(**kwargs):
        seen.append({k: kwargs.get(k) for k in ("do_sample", "temperature", "top_p", "top_k")})
        return generate(**kwargs)

    monkeypatch.setattr(backend.model, "generate", spy)
    backend.sample(PROMPTS, 1, {"max_new_tokens": 2, "temperature": 0.7}, 0)
    sample_chat(backend.model, backend.tokenizer, PROMPTS, max_new_tokens=2, seed=0)

    assert SAMPLER_DEFAULTS == {"temperature": 1.0, "top_p": 1.0, "top_k": 0}
    assert seen == [
        {"do_sample": True, "temperature": 0.7, "top_p": 1.0, "top_k": 0},
        {"do_sample": True, "temperature": 1.0, "top_p": 1.0, "top_k": 0},
    ]


def test_sampler_is_seeded_and_leaves_the_callers_rng_alone(tiny_model_dir: Path) -> None:
    backend = HFBackend.load(str(tiny_model_dir))
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)

    first = sample_chat(backend.model, backend.tokenizer, PROMPTS, n=2, max_new_tokens=6, seed=9)
    second = sample_chat(backend.model, backend.tokenizer, PROMPTS, n=2, max_new_tokens=6, seed=9)

    assert first == second
    assert torch.equal(torch.rand(1), expected_next)

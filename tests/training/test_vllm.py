"""vLLM as a GPU worker's sampler (issue 16): the sampling dict maps to the Hugging Face path's
parameters, each prompt's seed comes from the batch seed, an adapter version is served as base +
LoRA where vLLM can apply it and merged otherwise, and generation and evaluation pick vLLM when
the worker has it. The parts that need no vllm run everywhere; the real engine runs where CUDA
and vllm exist."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.training.conftest import tiny_corpus
from training import generation, vllm_backend, weights
from training.endpoint import prompt_seed
from training.models import ModelKind, ModelVersion
from training.services.registry import model_version_register
from training.vllm_backend import (
    ServingPlan,
    lora_rank,
    lora_unservable,
    max_lora_rank,
    request_seeds,
    sampling_params_kwargs,
    serving_plan,
)

needs_vllm = pytest.mark.skipif(
    not (torch.cuda.is_available() and importlib.util.find_spec("vllm") is not None),
    reason="needs CUDA and vllm (pip install -e '.[gpu]'; README \"Scaling out\")",
)
PROMPTS = [[{"role": "user", "content": f"Question {i}"}] for i in range(3)]
PLAIN_LORA = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 8, "lora_alpha": 16}


def test_sampling_parameters_are_the_hf_samplers_defaults_overridden_by_the_job() -> None:
    job_sampling = {"temperature": 0.7, "max_new_tokens": 99, "batch_size": 16}

    assert sampling_params_kwargs(job_sampling, n=4, max_new_tokens=12, seed=5) == {
        "n": 4,
        "temperature": 0.7,
        "top_p": 1.0,
        "top_k": 0,  # off, as SAMPLER_DEFAULTS says, not vLLM's or the model's own default
        "max_tokens": 12,
        "seed": 5,
    }
    assert sampling_params_kwargs(None, n=1, max_new_tokens=3, seed=0)["temperature"] == 1.0
    assert sampling_params_kwargs({"top_k": 20.0}, n=1, max_new_tokens=3, seed=0)["top_k"] == 20


def test_greedy_asks_vllm_for_one_sample_per_prompt() -> None:
    """vLLM 0.33 refuses n > 1 with temperature 0; the backend repeats the one greedy text."""
    kwargs = sampling_params_kwargs({"temperature": 0.0, "top_k": 5}, n=3, max_new_tokens=4, seed=1)

    assert kwargs == {"n": 1, "temperature": 0.0, "max_tokens": 4, "seed": 1}
    with pytest.raises(ValueError):
        sampling_params_kwargs(None, n=0, max_new_tokens=4, seed=1)


def test_each_prompt_of_a_batch_gets_its_own_seed_from_the_batch_seed() -> None:
    seeds = request_seeds(1000, 64)

    assert seeds == request_seeds(1000, 64)  # a resumed job redraws the same samples
    assert seeds[:3] == [prompt_seed(1000, i) for i in range(3)]  # as the endpoint backend
    assert request_seeds(1000, 3) == seeds[:3]  # a prompt's seed does not depend on the batch size
    assert set(seeds).isdisjoint(request_seeds(1001, 64))
    # vLLM seeds a request's i-th sample with seed + i: 8 samples of one prompt never reuse
    # another prompt's seeds.
    used = [s + i for s in seeds for i in range(8)]
    assert len(set(used)) == len(used)


def test_lora_rank_is_rounded_up_to_a_rank_the_engine_takes() -> None:
    assert lora_rank({"r": 4}) == 4
    assert lora_rank({"r": 8, "rank_pattern": {"q_proj": 48}}) == 48
    assert [max_lora_rank(r) for r in (1, 4, 8, 17, 48, 300, 512)] == [1, 8, 8, 32, 64, 320, 512]
    assert max_lora_rank(513) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"task_type": "SEQ_CLS"}, "task_type 'SEQ_CLS'"),
        ({"modules_to_save": ["lm_head"]}, "modules_to_save ['lm_head']"),
        ({"use_dora": True}, "DoRA"),
        ({"bias": "lora_only"}, "LoRA bias"),
        ({"init_lora_weights": "pissa"}, "rewrites the base weights"),
        ({"r": 1024}, "rank 1024"),
        ({"peft_type": "IA3"}, "IA3"),
    ],
)
def test_a_lora_that_vllm_cannot_apply_says_why(change: dict, reason: str) -> None:
    assert lora_unservable(PLAIN_LORA) is None
    assert lora_unservable(PLAIN_LORA | {"init_lora_weights": "gaussian"}) is None
    assert reason in lora_unservable(PLAIN_LORA | change)


def save_adapter(base_dir: Path, out: Path, *, r: int, train_head: bool = False) -> Path:
    """A causal-LM LoRA saved as a run saves one (adapter and tokenizer)."""
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    config = LoraConfig(
        r=r,
        lora_alpha=2 * r,
        target_modules=["q_proj", "v_proj"],
        modules_to_save=["lm_head"] if train_head else None,
        task_type="CAUSAL_LM",
    )
    get_peft_model(model, config).save_pretrained(out)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(out)
    return out


@pytest.fixture
def base(db, tiny_model_dir: Path) -> ModelVersion:
    return model_version_register(name="tiny-base", path=str(tiny_model_dir), kind=ModelKind.SFT)


def adapter_version(base: ModelVersion, path: Path, name: str) -> ModelVersion:
    return ModelVersion.objects.create(
        name=name, kind=ModelKind.POLICY, storage_path=str(path), adapter_base=base
    )


def test_a_causal_lm_lora_on_a_full_base_is_served_as_base_plus_adapter(
    base: ModelVersion, tiny_model_dir: Path, tmp_path: Path
) -> None:
    adapter = adapter_version(base, save_adapter(tiny_model_dir, tmp_path / "a", r=4), "lora")

    assert serving_plan(adapter) == ServingPlan(
        model=str(tiny_model_dir),
        adapter=str(tmp_path / "a"),
        tokenizer=str(tmp_path / "a"),
        max_lora_rank=8,
    )
    assert serving_plan(base) == ServingPlan(model=str(tiny_model_dir))
    assert serving_plan(tiny_model_dir) == ServingPlan(model=str(tiny_model_dir))


def test_an_adapter_vllm_cannot_apply_is_served_merged(
    base: ModelVersion, tiny_model_dir: Path, tmp_path: Path, settings
) -> None:
    settings.FLYWHEEL_MODELS_DIR = str(tmp_path / "models")
    head = adapter_version(
        base, save_adapter(tiny_model_dir, tmp_path / "h", r=4, train_head=True), "head"
    )
    on_adapter = adapter_version(
        adapter_version(base, save_adapter(tiny_model_dir, tmp_path / "a", r=4), "lora"),
        save_adapter(tiny_model_dir, tmp_path / "b", r=4),
        "lora-on-lora",
    )

    plan = serving_plan(head)
    assert plan.model == str(weights.merged_dir(head)) and plan.adapter is None
    assert "modules_to_save ['lm_head']" in plan.reason
    assert (Path(plan.model) / weights.COMPLETE).is_file()
    plan = serving_plan(on_adapter)
    assert plan.model == str(weights.merged_dir(on_adapter)) and plan.adapter is None
    assert plan.reason == "its base is itself an adapter"


def test_generation_and_evaluation_sample_with_vllm_where_the_worker_has_it(
    base: ModelVersion, tiny_model_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """The routing alone (no engine here): load_backend hands vLLM the serving plan, and the
    evaluation's sampler asks the engine for sample_chat's contract and closes it."""
    adapter = adapter_version(base, save_adapter(tiny_model_dir, tmp_path / "a", r=8), "lora")
    loaded: list[object] = []

    class Engine:
        name = "vllm"

        def chat(self, prompts, *, seed, n=1, max_new_tokens, sampling=None):
            return [[f"{seed}:{max_new_tokens}"] * n for _ in prompts], [[True] * n] * len(prompts)

        def close(self):
            loaded.append("closed")

    def load(plan):
        loaded.append(plan)
        return Engine()

    monkeypatch.setattr(vllm_backend, "vllm_available", lambda: True)
    monkeypatch.setattr(vllm_backend.VLLMBackend, "load", staticmethod(load))

    assert generation.load_backend(adapter).name == "vllm"
    assert loaded == [serving_plan(adapter)] and loaded[0].adapter == str(tmp_path / "a")
    texts, _ = generation.sample_saved_model(str(tiny_model_dir), PROMPTS, n=2, max_new_tokens=5)
    assert texts == [["0:5", "0:5"]] * 3
    assert loaded[1:] == [ServingPlan(model=str(tiny_model_dir)), "closed"]


def test_without_vllm_the_workers_sampler_is_hugging_face(base: ModelVersion) -> None:
    if vllm_backend.vllm_available():
        pytest.skip("this worker has CUDA and vllm")
    assert generation.load_backend(base).name == "hf"


@pytest.fixture(scope="module")
def vllm_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with 64-wide attention heads (vLLM's attention kernels take head sizes of
    32 and up; the session's tiny model has 16)."""
    from tinyworld.model import build_tiny_model

    out = tmp_path_factory.mktemp("vllm-model")
    return build_tiny_model(out, texts=tiny_corpus(), hidden_size=256, heads=4)


@needs_vllm
def test_vllm_samples_k_distinct_seeded_replies_and_applies_a_lora(
    db, vllm_model_dir: Path, tmp_path: Path
) -> None:
    base = model_version_register(name="vllm-base", path=str(vllm_model_dir), kind=ModelKind.SFT)
    adapter_dir = save_adapter(vllm_model_dir, tmp_path / "a", r=8)
    # Move the adapter off PEFT's zero init (lora_B = 0), so that it changes what the model says.
    weights_file = adapter_dir / "adapter_model.safetensors"
    generator = torch.Generator().manual_seed(0)
    save_file(
        {
            name: tensor + 0.5 * torch.randn(tensor.shape, generator=generator)
            if "lora_B" in name
            else tensor
            for name, tensor in load_file(weights_file).items()
        },
        weights_file,
    )
    adapter = adapter_version(base, adapter_dir, "vllm-lora")
    sampling = {"max_new_tokens": 8, "batch_size": 3, "temperature": 1.0}

    backend = generation.load_backend(base)
    assert backend.name == "vllm"
    first = backend.chat(PROMPTS, n=3, max_new_tokens=8, sampling=sampling, seed=7)
    assert first == backend.chat(PROMPTS, n=3, max_new_tokens=8, sampling=sampling, seed=7)
    texts, finished = first
    assert [len(row) for row in texts] == [3, 3, 3] == [len(row) for row in finished]
    greedy, _ = backend.chat(PROMPTS, n=2, max_new_tokens=8, sampling={"temperature": 0}, seed=7)
    assert all(a == b for a, b in greedy)
    sets = [
        s
        for batch in generation.generate_sets(
            backend, list(enumerate(PROMPTS)), k=2, sampling=sampling, seed=3
        )
        for s in batch
    ]
    assert [prompt_id for prompt_id, _, _ in sets] == [0, 1, 2]
    base_greedy = greedy
    backend.close()

    lora = generation.load_backend(adapter)
    assert lora.lora is not None and lora.lora.lora_path == str(adapter_dir)
    lora_greedy, _ = lora.chat(PROMPTS, n=2, max_new_tokens=8, sampling={"temperature": 0}, seed=7)
    assert lora_greedy != base_greedy
    lora.close()

"""LoRA adapters for every algorithm: only the adapter (and a reward model's head) trains, the
output directory holds the adapter alone, and the frozen reference of DPO/KTO/GRPO is the base
with the adapter disabled — one copy of the weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from tests.training.test_algorithms import (
    CASES,
    QUICK,
    RecordingHooks,
    make_inputs,
    preference_rows,
    run,
)
from training.algorithms import configs
from training.algorithms.base import config_from_dict
from training.algorithms.trainer import load_splits, trl_trainer

LORA = {"adapter": {"r": 4, "alpha": 8, "dropout": 0.0}}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.mark.parametrize("name", list(CASES))
def test_every_algorithm_trains_and_saves_only_an_adapter(
    name: str, tiny_model_dir: Path, reward_model_dir: Path, tmp_path: Path
) -> None:
    case = CASES[name]
    inputs = make_inputs(tiny_model_dir, tmp_path, case.rows(), reward_model=reward_model_dir)

    result = run(case, inputs, RecordingHooks(), **LORA)

    assert not result.cancelled
    saved = sorted(p.name for p in inputs.output_dir.iterdir())
    assert "adapter_config.json" in saved and "adapter_model.safetensors" in saved
    assert "model.safetensors" not in saved  # no full copy of the weights
    adapter_config = json.loads((inputs.output_dir / "adapter_config.json").read_text())
    assert adapter_config["r"] == 4
    assert adapter_config["task_type"] == ("SEQ_CLS" if name == "reward" else "CAUSAL_LM")
    # The run records how little it trained, and its peak memory.
    assert 0 < result.metrics["trainable_share"] < 0.2, result.metrics
    assert result.metrics["trainable_params"] < result.metrics["total_params"]
    assert result.metrics["peak_rss_mib"] > 0


def test_full_fine_tuning_trains_every_weight(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = make_inputs(tiny_model_dir, tmp_path, preference_rows())
    result = run(CASES["dpo"], inputs, RecordingHooks())
    assert result.metrics["trainable_share"] == 1.0


@pytest.mark.parametrize("train_head", [False, True])
def test_dpo_reference_is_the_base_with_the_adapter_disabled(
    tiny_model_dir: Path, tmp_path: Path, train_head: bool
) -> None:
    """No second model: TRL's reference is None and the policy is a PEFT model whose
    adapter-disabled forward is exactly the base model's."""
    from trl import DPOConfig, DPOTrainer

    inputs = make_inputs(tiny_model_dir, tmp_path, preference_rows())
    adapter = LORA["adapter"] | {"train_head": train_head}
    config = config_from_dict(configs.DpoRunConfig, QUICK | {"adapter": adapter})
    args = DPOConfig(**config.trainer_arguments(inputs, has_eval=False), max_length=64)
    trainer, _ = trl_trainer(
        DPOTrainer,
        args,
        inputs,
        RecordingHooks(),
        load_splits(inputs),
        adapter=config.adapter,
    )

    assert trainer.ref_model is None
    assert isinstance(trainer.model, PeftModel)
    # Move the adapter off zero (LoRA's B starts at 0), then compare with the saved base.
    with torch.no_grad():
        for name, param in trainer.model.named_parameters():
            if "lora_B" in name or ("modules_to_save" in name and "lm_head" in name):
                param.add_(0.1)
    ids = torch.tensor([[2, 10, 11, 12, 13]])
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    trainer.model.eval()
    with torch.no_grad():
        expected = base(input_ids=ids).logits
        adapted = trainer.model(input_ids=ids).logits
        with trainer.model.disable_adapter():
            disabled = trainer.model(input_ids=ids).logits
    assert not torch.allclose(adapted, expected, atol=1e-4)  # the adapter changes the policy
    torch.testing.assert_close(disabled, expected, atol=1e-5, rtol=1e-5)


def test_qlora_on_a_worker_without_cuda_fails_with_the_reason(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    inputs = make_inputs(tiny_model_dir, tmp_path, preference_rows())
    with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
        run(CASES["dpo"], inputs, RecordingHooks(), adapter={"quantization": "4bit"})


def test_ppo_trains_a_lora_actor_against_itself_with_the_adapter_off(
    tiny_model_dir: Path, reward_model_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """One causal LM is loaded (the actor); the KL reference is the actor with its adapter
    disabled; a resumed run continues the adapter from its checkpoint."""
    from tests.training.test_ppo import PROMPTS, TINY
    from training.algorithms import ppo
    from training.algorithms.base import TrainInputs

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        "".join(json.dumps({"prompt": [{"role": "user", "content": p}]}) + "\n" for p in PROMPTS)
    )
    inputs = TrainInputs(
        base_model=tiny_model_dir,
        output_dir=tmp_path / "output",
        checkpoint_dir=tmp_path / "checkpoints",
        train_file=prompts,
        reward_model=reward_model_dir,
    )
    loaded = []
    real = ppo.AutoModelForCausalLM.from_pretrained
    monkeypatch.setattr(
        ppo.AutoModelForCausalLM,
        "from_pretrained",
        lambda *a, **k: loaded.append(a[0]) or real(*a, **k),
    )
    config = config_from_dict(configs.PpoRunConfig, TINY | {"max_steps": 2, "save_steps": 1} | LORA)
    hooks = RecordingHooks()

    result = ppo.train(config, inputs, hooks)

    assert len(loaded) == 1  # the actor only: no reference copy
    assert (inputs.output_dir / "adapter_config.json").is_file()
    assert not (inputs.output_dir / "model.safetensors").exists()
    assert 0 < result.metrics["trainable_share"] < 0.2
    kl = [metrics["objective/kl"] for _, metrics in hooks.logs]
    assert kl[0] == pytest.approx(0.0, abs=1e-5)  # before any update, π = π_ref exactly

    resumed = ppo.train(
        config_from_dict(configs.PpoRunConfig, TINY | {"max_steps": 3, "save_steps": 1} | LORA),
        inputs,
        RecordingHooks(),
    )
    assert not resumed.cancelled

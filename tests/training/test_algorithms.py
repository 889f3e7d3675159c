"""Each algorithm's ``train(config, inputs, hooks)`` end to end on the tiny world's model: it
reads Flywheel's export files, reports through the hooks, saves a model that loads back, stops
when cancelled and resumes from its checkpoints. Runs are a few optimizer steps on CPU."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

from tests.training.conftest import OBJECTS, SUBJECTS, VERBS
from training.algorithms import configs, dpo, grpo, kto, reward, sft
from training.algorithms.base import TrainInputs, TrainResult, config_from_dict, latest_checkpoint
from training.evaluation import reward_model_accuracy

pytestmark = pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing`:FutureWarning")

# A few steps with a learning rate a random tiny model notices; no warmup (DPO's default is 150).
QUICK = {
    "max_steps": 3,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "learning_rate": 1e-3,
    "warmup_steps": 0,
    "logging_steps": 1,
}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """A tiny model on a shared 2-core box: OpenMP threads spin against each other and every
    forward pass takes ~50× longer than on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@dataclasses.dataclass
class RecordingHooks:
    """RunHooks that remember every call; ``stop_after=n`` cancels once step n has ended (0:
    cancelled before the run starts)."""

    stop_after: int | None = None
    logs: list[tuple[int, dict[str, float]]] = dataclasses.field(default_factory=list)
    progress: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    checkpoints: list[int] = dataclasses.field(default_factory=list)

    def on_log(self, step: int, metrics) -> None:
        self.logs.append((step, dict(metrics)))

    def on_progress(self, step: int, total_steps: int) -> None:
        self.progress.append((step, total_steps))

    def on_checkpoint(self, step: int) -> None:
        self.checkpoints.append(step)

    def should_stop(self) -> bool:
        last_step = self.progress[-1][0] if self.progress else 0
        return self.stop_after is not None and last_step >= self.stop_after


# --- Export rows, as Flywheel writes them --------------------------------------------------------


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


SENTENCES = [" ".join(words) for words in itertools.product(SUBJECTS, VERBS, OBJECTS)]


def sft_rows(n: int = 8) -> list[dict[str, Any]]:
    return [
        {"messages": user(f"Question {i}") + assistant(SENTENCES[i]), "prompt_id": i, "set_id": i}
        for i in range(n)
    ]


def preference_rows(n: int = 8) -> list[dict[str, Any]]:
    """Three pairs per set, as a K=3 ranking gives."""
    return [
        {
            "prompt": user(f"Question {i // 3}"),
            "chosen": assistant(SENTENCES[i]),
            "rejected": assistant(SENTENCES[-1 - i]),
            "margin": 0.5 if i % 3 else 1.0,
            "prompt_id": i // 3,
            "set_id": i // 3,
            "annotator": "annotator-1",
        }
        for i in range(n)
    ]


def kto_rows(n: int = 8) -> list[dict[str, Any]]:
    """A set's top response desirable, its bottom one undesirable, listed together."""
    return [
        {
            "prompt": user(f"Question {i // 2}"),
            "completion": assistant(SENTENCES[i]),
            "label": i % 2 == 0,
            "prompt_id": i // 2,
            "set_id": i // 2,
            "annotator": "annotator-1",
        }
        for i in range(n)
    ]


def prompt_rows(n: int = 8) -> list[dict[str, Any]]:
    return [{"prompt": user(f"Question {i}"), "prompt_id": i} for i in range(n)]


def separable_pairs(sentences: list[str], n: int, seed: int) -> list[dict[str, Any]]:
    """The chosen response always contains the marker word somewhere, the rejected never."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        chosen, rejected = rng.sample(sentences, 2)
        words = chosen.split()
        words.insert(rng.randrange(len(words) + 1), "Thanks!")
        rows.append(
            {
                "prompt": user(f"Request {seed}-{i}"),
                "chosen": assistant(" ".join(words)),
                "rejected": assistant(rejected),
                "margin": 1.0,
                "prompt_id": i,
                "set_id": i // 3,
                "annotator": "annotator-1",
            }
        )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def make_inputs(
    base: Path,
    directory: Path,
    rows: list[dict[str, Any]],
    *,
    eval_rows: list[dict[str, Any]] | None = None,
    reward_model: Path | None = None,
) -> TrainInputs:
    directory.mkdir(parents=True, exist_ok=True)
    return TrainInputs(
        base_model=base,
        output_dir=directory / "model",
        checkpoint_dir=directory / "checkpoints",
        train_file=write_jsonl(directory / "train.jsonl", rows),
        eval_file=write_jsonl(directory / "eval.jsonl", eval_rows) if eval_rows else None,
        reward_model=reward_model,
    )


# --- Every algorithm trains, reports and saves ---------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    module: Any
    config_class: type
    rows: Callable[[], list[dict[str, Any]]]
    model_class: type = AutoModelForCausalLM
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


CASES = {
    "sft": Case(sft, configs.SftRunConfig, sft_rows),
    "reward": Case(
        reward, configs.RewardRunConfig, preference_rows, AutoModelForSequenceClassification
    ),
    "dpo": Case(dpo, configs.DpoRunConfig, preference_rows),
    "kto": Case(kto, configs.KtoRunConfig, kto_rows),
    "grpo": Case(
        grpo,
        configs.GrpoRunConfig,
        prompt_rows,
        extra={"num_generations": 2, "max_completion_length": 6},
    ),
    "rloo": Case(
        grpo,
        configs.RlooRunConfig,
        prompt_rows,
        extra={"num_generations": 2, "max_completion_length": 6},
    ),
}


def run(case: Case, inputs: TrainInputs, hooks: RecordingHooks, **overrides: Any) -> TrainResult:
    config = config_from_dict(case.config_class, QUICK | case.extra | overrides)
    return case.module.train(config, inputs, hooks)


@pytest.mark.parametrize("name", list(CASES))
def test_train_reports_progress_and_saves_a_model_that_moved(
    name: str, tiny_model_dir: Path, reward_model_dir: Path, tmp_path: Path
) -> None:
    case = CASES[name]
    inputs = make_inputs(tiny_model_dir, tmp_path, case.rows(), reward_model=reward_model_dir)
    hooks = RecordingHooks()

    result = run(case, inputs, hooks)

    assert not result.cancelled
    assert result.output_dir == inputs.output_dir
    assert [step for step, _ in hooks.progress] == [1, 2, 3]
    assert all(total == 3 for _, total in hooks.progress)
    losses = [metrics["loss"] for _, metrics in hooks.logs if "loss" in metrics]
    assert len(losses) == 3 and all(math.isfinite(loss) for loss in losses)
    assert math.isfinite(result.metrics["loss"]) and result.metrics["epoch"] > 0

    trained = case.model_class.from_pretrained(inputs.output_dir)
    base = load_file(str(tiny_model_dir / "model.safetensors"))
    shared = {n: p for n, p in trained.state_dict().items() if n in base}
    changed = {n for n, p in shared.items() if not torch.equal(p, base[n])}
    assert "model.layers.0.self_attn.q_proj.weight" in changed
    assert len(changed) > len(shared) / 2, sorted(set(shared) - changed)
    assert AutoTokenizer.from_pretrained(inputs.output_dir).chat_template


def test_metrics_name_what_each_trl_trainer_logs(
    tiny_model_dir: Path, reward_model_dir: Path, tmp_path: Path
) -> None:
    """The result's metrics carry the algorithm's own quantities, as TRL names them."""
    expected = {
        "reward": {"accuracy", "margin", "mean_reward", "train_rows", "rows_dropped_for_length"},
        "dpo": {"rewards/margins", "rewards/accuracies", "rewards/chosen", "logps/chosen"},
        "kto": {"kl", "rewards/margins", "desirable_rows", "undesirable_rows"},
        "grpo": {"reward", "reward_std", "kl", "rewards/tiny-reward-model/mean"},
    }
    for name, keys in expected.items():
        case = CASES[name]
        inputs = make_inputs(
            tiny_model_dir, tmp_path / name, case.rows(), reward_model=reward_model_dir
        )
        result = run(case, inputs, RecordingHooks(), max_steps=1)
        assert keys <= set(result.metrics), (name, sorted(result.metrics))


# --- Cancellation and resumption ------------------------------------------------------------


@pytest.mark.parametrize("name", ["dpo", "grpo"])
def test_cancelled_run_stops_at_the_next_step_and_writes_no_model(
    name: str, tiny_model_dir: Path, reward_model_dir: Path, tmp_path: Path
) -> None:
    case = CASES[name]
    inputs = make_inputs(tiny_model_dir, tmp_path, case.rows(), reward_model=reward_model_dir)
    hooks = RecordingHooks(stop_after=1)

    result = run(case, inputs, hooks, max_steps=5, save_steps=1)

    assert result.cancelled
    assert [step for step, _ in hooks.progress] == [1]
    assert not inputs.output_dir.exists()
    assert latest_checkpoint(inputs.checkpoint_dir) is None  # no save at the cancelled step


def test_run_cancelled_before_it_starts_does_nothing(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = make_inputs(tiny_model_dir, tmp_path, sft_rows())
    hooks = RecordingHooks(stop_after=0)

    result = sft.train(config_from_dict(configs.SftRunConfig, QUICK), inputs, hooks)

    assert result.cancelled and hooks.progress == [] and not inputs.checkpoint_dir.exists()


def test_rerun_resumes_from_the_latest_checkpoint(tiny_model_dir: Path, tmp_path: Path) -> None:
    """A redelivered job calls ``train`` again with the same checkpoint directory: the global
    step, optimizer and scheduler continue from the newest complete ``checkpoint-<step>``. A
    newer one that a killed worker left half written is passed over: one with weights and no
    trainer state (resuming from it failed with "Can't find a valid checkpoint"), and one whose
    trainer state the main process wrote while another process was still writing its RNG file
    (its resume died on the truncated file: ``EOFError``)."""
    case = CASES["reward"]
    inputs = make_inputs(tiny_model_dir, tmp_path, preference_rows(24))
    first = RecordingHooks()
    run(case, inputs, first, max_steps=2, save_steps=1)
    assert latest_checkpoint(inputs.checkpoint_dir).name == "checkpoint-2"
    assert [step for step, _ in first.progress] == [1, 2]
    assert first.checkpoints == [1, 2]  # each saved checkpoint is reported as it completes
    half_written = inputs.checkpoint_dir / "checkpoint-3"
    half_written.mkdir()
    (half_written / "config.json").write_text("{}")
    assert latest_checkpoint(inputs.checkpoint_dir).name == "checkpoint-2"
    (half_written / "trainer_state.json").write_text("{}")
    (half_written / "rng_state_1.pth").write_bytes(b"")
    assert latest_checkpoint(inputs.checkpoint_dir).name == "checkpoint-2"

    second = RecordingHooks()
    result = run(case, inputs, second, max_steps=4, save_steps=1)

    assert not result.cancelled
    assert second.progress == [(3, 4), (4, 4)]
    assert [step for step, metrics in second.logs if "loss" in metrics] == [3, 4]
    kept = sorted(p.name for p in inputs.checkpoint_dir.glob("checkpoint-*"))
    assert kept == ["checkpoint-3", "checkpoint-4"]  # save_total_limit=2


# --- Reward model ---------------------------------------------------------------------------


def test_reward_counts_the_pairs_trl_drops_for_length(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = preference_rows(10)
    for row in rows[:3]:
        row["chosen"] = assistant("a very long answer " * 40)
    inputs = make_inputs(tiny_model_dir, tmp_path, rows, eval_rows=rows[:5])

    result = run(CASES["reward"], inputs, RecordingHooks(), max_steps=1, max_length=128)

    assert result.metrics["rows_dropped_for_length"] == 3
    assert result.metrics["train_rows"] == 7
    assert result.metrics["eval_rows_dropped_for_length"] == 3


def test_reward_model_separates_held_out_preferences(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Issue acceptance: held-out accuracy ≥ 0.9 on separable preferences (the chosen response
    carries a marker word, the rejected never does; held-out sentences are unseen)."""
    sentences = SENTENCES[:]
    random.Random(0).shuffle(sentences)
    train_rows = separable_pairs(sentences[:200], 96, seed=1)
    eval_rows = separable_pairs(sentences[200:], 40, seed=2)
    inputs = make_inputs(tiny_model_dir, tmp_path, train_rows, eval_rows=eval_rows)
    config = {
        "learning_rate": 1e-3,
        "num_train_epochs": 3,
        "per_device_train_batch_size": 8,
        "gradient_accumulation_steps": 1,
        "lr_scheduler_type": "linear",
        "logging_steps": 5,
    }

    result = reward.train(
        config_from_dict(configs.RewardRunConfig, config), inputs, RecordingHooks()
    )

    assert result.metrics["eval_accuracy"] >= 0.9, result.metrics
    assert result.metrics["rows_dropped_for_length"] == 0
    # One held-out pass gives the accuracy, loss and margin: the saved model, scored again by
    # the evaluation's own code, agrees.
    scored = reward_model_accuracy(inputs.output_dir, eval_rows)
    assert result.metrics["eval_accuracy"] == pytest.approx(scored.accuracy, abs=1.5 / 40)
    assert result.metrics["eval_margin"] > 0
    assert 0 < result.metrics["eval_loss"] < math.log(2)


def test_reward_keeps_a_sets_comparisons_together() -> None:
    order = reward._set_grouped_order([7, 7, 7, 3, 3, 3, 5, 5, 5], seed=0)
    sets = [[7, 7, 7, 3, 3, 3, 5, 5, 5][i] for i in order]
    assert sorted(order) == list(range(9))
    assert [s for s, _ in itertools.groupby(sets)] == list(dict.fromkeys(sets))  # contiguous


# --- Configs ----------------------------------------------------------------------------------


CONFIG_CLASSES = [
    configs.SftRunConfig,
    configs.RewardRunConfig,
    configs.DpoRunConfig,
    configs.KtoRunConfig,
    configs.GrpoRunConfig,
    configs.RlooRunConfig,
]


@pytest.mark.parametrize("config_class", CONFIG_CLASSES, ids=lambda c: c.__name__)
def test_config_defaults_are_valid_documented_and_json_friendly(config_class: type) -> None:
    config = config_class()
    config.validate()
    assert config_from_dict(config_class, {}) == config
    json_types = {int, float, str, bool, type(None)}

    def check(cls: type) -> None:  # a block (e.g. the adapter) is an object of the same kind
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help text"
            hint = typing.get_type_hints(cls)[f.name]
            leaves = typing.get_args(hint) or (hint,)
            if typing.get_origin(hint) is typing.Literal:
                leaves = tuple(type(v) for v in leaves)
            for block in [leaf for leaf in leaves if dataclasses.is_dataclass(leaf)]:
                check(block)
            plain = {leaf for leaf in leaves if not dataclasses.is_dataclass(leaf)}
            assert plain <= json_types, (f.name, hint)

    check(config_class)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.learning_rate = 1.0


def test_paper_defaults() -> None:
    assert configs.DpoRunConfig().beta == 0.1 and configs.DpoRunConfig().loss_type == "sigmoid"
    assert configs.KtoRunConfig().beta == 0.1
    assert (configs.KtoRunConfig().desirable_weight, configs.KtoRunConfig().undesirable_weight) == (
        1,
        1,
    )
    assert configs.RewardRunConfig().num_train_epochs == 1
    assert (configs.GrpoRunConfig().group_size, configs.GrpoRunConfig().kl_coef) == (64, 0.04)
    assert (configs.RlooRunConfig().estimator, configs.RlooRunConfig().group_size) == ("rloo", 4)
    assert configs.GrpoRunConfig(estimator="rloo", beta=0.0).kl_coef == 0.0


def test_dpo_loss_types_are_exactly_what_trl_accepts() -> None:
    from trl import DPOConfig

    help_text = next(f for f in dataclasses.fields(DPOConfig) if f.name == "loss_type").metadata[
        "help"
    ]
    assert set(typing.get_args(configs.DpoLossType)) == set(re.findall(r"`'(\w+)'`", help_text))


@pytest.mark.parametrize(
    ("config_class", "values", "field_name"),
    [
        (configs.DpoRunConfig, {"betta": 0.1}, "betta"),
        (configs.DpoRunConfig, {"loss_type": "sigmoidal"}, "loss_type"),
        (configs.GrpoRunConfig, {"estimator": "ppo"}, "estimator"),
        (configs.SftRunConfig, {"lr_scheduler_type": "exponential"}, "lr_scheduler_type"),
        (configs.RewardRunConfig, {"save_steps": "10"}, "save_steps"),
        (configs.RewardRunConfig, {"use_margin": 1}, "use_margin"),
        (configs.DpoRunConfig, {"beta": 0}, "beta"),
        (configs.DpoRunConfig, {"label_smoothing": 0.5}, "label_smoothing"),
        (configs.DpoRunConfig, {"loss_type": "exo_pair"}, "label_smoothing"),
        (configs.SftRunConfig, {"learning_rate": -1e-5}, "learning_rate"),
        (configs.SftRunConfig, {"max_steps": 0}, "max_steps"),
        (configs.SftRunConfig, {"num_train_epochs": 0}, "num_train_epochs"),
        (configs.RewardRunConfig, {"max_length": 4}, "max_length"),
        (
            configs.RewardRunConfig,
            {"gradient_accumulation_steps": 0},
            "gradient_accumulation_steps",
        ),
        (configs.KtoRunConfig, {"per_device_train_batch_size": 1}, "per_device_train_batch_size"),
        (configs.KtoRunConfig, {"undesirable_weight": 0}, "undesirable_weight"),
        (
            configs.GrpoRunConfig,
            {
                "num_generations": 3,
                "per_device_train_batch_size": 4,
                "gradient_accumulation_steps": 1,
            },
            "num_generations",
        ),
        (configs.GrpoRunConfig, {"num_generations": 1}, "num_generations"),
        (configs.GrpoRunConfig, {"beta": -0.1}, "beta"),
    ],
)
def test_config_from_dict_rejects_bad_values_naming_the_field(
    config_class: type, values: dict[str, Any], field_name: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{field_name}: "):
        config_from_dict(config_class, values)


def test_grpo_needs_a_reward_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = make_inputs(tiny_model_dir, tmp_path, prompt_rows())
    with pytest.raises(ValueError, match="reward_model"):
        run(CASES["grpo"], inputs, RecordingHooks())


def test_grpo_evaluates_whole_groups_on_the_eval_prompts(
    tiny_model_dir: Path, reward_model_dir: Path, tmp_path: Path
) -> None:
    """Eval batches must hold whole groups even when a train pass holds less than one."""
    inputs = make_inputs(
        tiny_model_dir,
        tmp_path,
        prompt_rows(4),
        eval_rows=prompt_rows(3),
        reward_model=reward_model_dir,
    )
    overrides = {"per_device_train_batch_size": 2, "gradient_accumulation_steps": 2}

    result = run(
        CASES["grpo"], inputs, RecordingHooks(), max_steps=1, num_generations=4, **overrides
    )

    assert math.isfinite(result.metrics["eval_reward"])

"""A toy algorithm in one file: "copy" registers its base model unchanged as a policy."""

import shutil
from dataclasses import dataclass

from training.algorithms.base import TrainResult, config_field
from training.algorithms.registry import Algorithm, register


@dataclass(frozen=True)
class CopyConfig:
    note: str = config_field("", "Any text; its length is logged as a metric.")


def train(config: CopyConfig, inputs, hooks) -> TrainResult:
    rows = sum(1 for _ in inputs.train_file.open())
    hooks.on_log(1, {"note_length": float(len(config.note)), "pairs": float(rows)})
    hooks.on_progress(1, 1)
    shutil.copytree(inputs.base_model, inputs.output_dir, dirs_exist_ok=True)
    return TrainResult(inputs.output_dir, {"pairs": float(rows)})


register(
    Algorithm(kind="copy", label="Copy", config=CopyConfig, view="preference",
              train="tests.training.toy_algorithm:train", output_kind="policy")
)  # fmt: skip

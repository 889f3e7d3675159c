"""The tiny world's reward preset (issue 17, bench/RESULTS.md "Topic rule: the loop's reward run
against reward_rules"): the rate that learns a prompt-dependent rule, trained long enough that
the outcome does not hang on the training seed; loop settings, adapters and the registry's
config validation take it as it is."""

from __future__ import annotations

import pytest

from tinyworld.presets import (
    ADAPTER_LR_SCALE,
    TINYWORLD_REWARD_CONFIG,
    tinyworld_loop_settings,
)
from training.algorithms.registry import algorithm


def test_reward_preset_is_3e_4_for_eight_epochs() -> None:
    assert TINYWORLD_REWARD_CONFIG["learning_rate"] == pytest.approx(3e-4)
    assert TINYWORLD_REWARD_CONFIG["num_train_epochs"] == 8.0


@pytest.mark.parametrize("adapter", [False, True])
def test_loop_settings_carry_the_reward_preset_and_it_validates(adapter: bool) -> None:
    reward = tinyworld_loop_settings(rule="topic", adapter=adapter)["reward_config"]
    scale = ADAPTER_LR_SCALE["reward"] if adapter else 1.0
    assert reward["num_train_epochs"] == TINYWORLD_REWARD_CONFIG["num_train_epochs"]
    assert reward["learning_rate"] == pytest.approx(
        TINYWORLD_REWARD_CONFIG["learning_rate"] * scale
    )
    config = algorithm("reward").build_config(reward)
    assert config.num_train_epochs == 8.0

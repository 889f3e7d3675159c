"""GET /api/v1/run-kinds/: every run kind with its config fields, read from the algorithms'
frozen config dataclasses, so a form built from it sends only keys the API accepts."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from annotation.enums import Role
from training.algorithms.base import TrainInputs, config_fields, config_from_dict
from training.algorithms.configs import RUN_CONFIGS, DpoLossType, parse_run_config

TRAIN_INPUTS = TrainInputs(
    base_model=Path("base"),
    output_dir=Path("out"),
    checkpoint_dir=Path("checkpoints"),
    train_file=Path("train.jsonl"),
)

pytestmark = pytest.mark.django_db


def by_name(kind: dict) -> dict[str, dict]:
    return {f["name"]: f for f in kind["config_fields"]}


def test_every_run_kind_is_listed_with_every_config_field(client_for):
    response = client_for(Role.REVIEWER).get("/api/v1/run-kinds/")
    assert response.status_code == 200
    kinds = {k["kind"]: k for k in response.json()}
    assert list(kinds) == ["sft", "reward", "dpo", "kto", "ppo", "grpo", "rloo"]
    for name, kind in kinds.items():
        declared = [f.name for f in dataclasses.fields(RUN_CONFIGS[name])]
        assert [f["name"] for f in kind["config_fields"]] == declared
        assert all(f["help"].strip() for f in kind["config_fields"]), name
    assert {k for k, v in kinds.items() if v["needs_reward_model"]} == {"ppo", "grpo", "rloo"}
    assert kinds["reward"]["label"] == "Reward model"


def test_fields_carry_type_choices_optional_and_the_papers_default(client_for):
    kinds = {k["kind"]: k for k in client_for(Role.ADMIN).get("/api/v1/run-kinds/").json()}
    dpo = by_name(kinds["dpo"])
    assert dpo["beta"] == {
        "name": "beta",
        "type": "float",
        "choices": None,
        "optional": False,
        "default": 0.1,
        "help": {f.name: f for f in dataclasses.fields(RUN_CONFIGS["dpo"])}["beta"].metadata[
            "help"
        ],
        "fields": None,
    }
    assert dpo["loss_type"]["type"] == "choice"
    assert dpo["loss_type"]["choices"] == list(typing.get_args(DpoLossType))
    assert dpo["loss_type"]["default"] == "sigmoid"
    max_steps = dpo["max_steps"]
    assert (max_steps["type"], max_steps["optional"], max_steps["default"]) == ("int", True, None)
    assert dpo["precompute_ref_log_probs"]["type"] == "bool"
    assert dpo["learning_rate"]["default"] == 1e-6  # DPO's own, not the shared 5e-5
    assert by_name(kinds["grpo"])["estimator"]["default"] == "grpo"
    assert by_name(kinds["rloo"])["estimator"]["default"] == "rloo"
    ppo = by_name(kinds["ppo"])
    assert ppo["critic_init"]["choices"] == ["reward_model", "base_model"]
    assert ppo["score_clip"]["optional"] and ppo["score_clip"]["type"] == "float"
    # A block: off (null) by default, with its own fields.
    adapter = dpo["adapter"]
    assert (adapter["type"], adapter["optional"], adapter["default"]) == ("block", True, None)
    adapter_fields = {f["name"]: f for f in adapter["fields"]}
    assert (adapter_fields["r"]["type"], adapter_fields["r"]["default"]) == ("int", 16)
    assert adapter_fields["quantization"]["choices"] == ["none", "4bit"]
    assert ppo["adapter"]["type"] == "block"


@pytest.mark.parametrize("kind", list(RUN_CONFIGS))
def test_sending_every_listed_default_back_is_the_same_config(kind):
    """What a form sends when nothing is changed (or everything is re-sent) is accepted and
    means the algorithm's defaults."""
    defaults = {f.name: f.default for f in config_fields(RUN_CONFIGS[kind])}
    assert parse_run_config(kind, defaults) == parse_run_config(kind, {})


def test_annotators_and_strangers_cannot_read_run_kinds(client_for):
    assert client_for(Role.ANNOTATOR).get("/api/v1/run-kinds/").status_code == 403
    assert client_for(None).get("/api/v1/run-kinds/").status_code == 401


def test_the_web_process_reads_run_kinds_without_importing_torch():
    code = (
        "import sys, django; django.setup(); "
        "from training.apis.runs import run_kind_list; run_kind_list(); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "flywheel.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_ppo_refuses_more_than_one_process_and_shards_need_several():
    """PPO's own loop runs in one process; FSDP and ZeRO shard across processes."""
    with pytest.raises(ValueError, match="^processes: PPO runs in one process"):
        parse_run_config("ppo", {"processes": 2})
    with pytest.raises(ValueError, match="^deepspeed_zero: shards across processes"):
        parse_run_config("grpo", {"deepspeed_zero": 2})
    with pytest.raises(ValueError, match="^deepspeed_zero: FSDP and DeepSpeed"):
        parse_run_config("sft", {"processes": 2, "fsdp": "full_shard", "deepspeed_zero": 3})
    config = config_from_dict(RUN_CONFIGS["sft"], {"processes": 2, "deepspeed_zero": 3})
    assert config.trainer_arguments(TRAIN_INPUTS, has_eval=False)["deepspeed"][
        "zero_optimization"
    ] == {"stage": 3}

"""A project's loop settings: read (created with defaults on first use) and validated update."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from annotation.models import Project
from annotation.validation import check_messages
from flywheel.errors import ApplicationError
from training.algorithms.registry import algorithm, kinds
from training.models import MAX_SETS_PER_PROMPT
from training.services.generation import sampling_check

from ..models import Loop, Oracle, PromptSelection, SnapshotScope, Trigger

MAX_EVAL_PROMPTS = 2_000
MAX_HUMAN_EVAL_PROMPTS = 1_000


def loop_for(project: Project) -> Loop:
    loop, _ = Loop.objects.get_or_create(project=project)
    return loop


def _check_choice(name: str, value: Any, choices) -> str:
    if value not in choices.values:
        raise ApplicationError(f"Must be one of {', '.join(choices.values)}.", field=name)
    return value


def _check_config(name: str, kind: str, value: Any) -> dict:

    if not isinstance(value, dict):
        raise ApplicationError("Must be an object.", field=name)
    try:
        algorithm(kind).parse_config(value)
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise ApplicationError(reason or str(exc), field=f"{name}.{field}") from exc
    return value


def _check_eval_prompts(value: Any) -> list:
    if not isinstance(value, list):
        raise ApplicationError("Must be a list of conversations.", field="eval_prompts")
    if len(value) > MAX_EVAL_PROMPTS:
        raise ApplicationError(f"At most {MAX_EVAL_PROMPTS} prompts.", field="eval_prompts")
    clean, errors = [], {}
    for i, messages in enumerate(value):
        checked, messages_errors = check_messages(messages, path=f"eval_prompts[{i}]")
        clean.append(checked)
        errors |= messages_errors
    if errors:
        raise ApplicationError("Invalid evaluation prompts.", errors=errors)
    return clean


def loop_update(*, loop: Loop, changes: dict[str, Any]) -> Loop:
    """Apply `changes` (already type-checked by the API's serializer) after checking every
    cross-field rule; nothing is saved unless all of it is valid."""

    merged = {f: getattr(loop, f) for f in changes} | changes
    clean: dict[str, Any] = {}
    for name, value in merged.items():
        if name == "policy_kind":
            if value not in kinds(loop_role="policy"):
                policies = ", ".join(kinds(loop_role="policy"))
                raise ApplicationError(f"Must be one of {policies}.", field=name)
        elif name == "trigger":
            value = _check_choice(name, value, Trigger)
        elif name == "prompt_selection":
            value = _check_choice(name, value, PromptSelection)
        elif name == "oracle":
            value = _check_choice(name, value, Oracle)
        elif name == "snapshot_scope":
            value = _check_choice(name, value, SnapshotScope)
        elif name == "eval_prompts":
            value = _check_eval_prompts(value)
        elif name == "sampling":
            if not isinstance(value, dict):
                raise ApplicationError("Must be an object.", field=name)
            try:
                sampling_check(value)
            except ApplicationError as exc:
                raise ApplicationError(exc.message, errors=exc.errors) from exc
        elif name == "compare_with_previous" and value >= loop.project.k:
            raise ApplicationError(f"Must be below the project's K ({loop.project.k}).", field=name)
        elif name == "adapter" and value is not None:
            value = _check_adapter(value)
        elif name == "sets_per_prompt" and not 1 <= value <= MAX_SETS_PER_PROMPT:
            raise ApplicationError(f"Must be from 1 to {MAX_SETS_PER_PROMPT}.", field=name)
        elif name == "human_eval_prompts" and not 0 <= value <= MAX_HUMAN_EVAL_PROMPTS:
            raise ApplicationError(f"Must be from 0 to {MAX_HUMAN_EVAL_PROMPTS}.", field=name)
        elif name == "test_fraction" and not 0 < value < 1:
            raise ApplicationError("Must be above 0 and below 1.", field=name)
        clean[name] = value
    policy_kind = clean.get("policy_kind", loop.policy_kind)
    if "reward_config" in clean:
        _check_config("reward_config", "reward", clean["reward_config"])
    if "policy_config" in clean or "policy_kind" in clean:
        policy_config = clean.get("policy_config", loop.policy_config)
        _check_config("policy_config", policy_kind, policy_config)
    with transaction.atomic():
        for name, value in clean.items():
            setattr(loop, name, value)
        loop.save()
    return loop


def _check_adapter(value: Any) -> dict:
    """A run config's adapter block, checked as a run checks it (errors name adapter.<key>)."""
    from training.algorithms.base import AdapterConfig, config_from_dict
    from training.services.runs import check_adapter_runnable

    try:
        config_from_dict(AdapterConfig, value, prefix="adapter.")
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise ApplicationError(reason.capitalize() + ".", field=field) from exc
    check_adapter_runnable(value, executor="", field="adapter")
    return value

"""The model registry: register local Hugging Face model directories, and the models runs
produce."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction

from flywheel.errors import ApplicationError
from training.algorithms.registry import algorithm

from ..models import ModelKind, ModelVersion, TrainingRun

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


def check_model_dir(path: Path) -> dict:
    """A loadable Hugging Face model directory: config.json, weights and a tokenizer. Returns
    what the registry records about it (architecture, chat template)."""
    if not path.is_absolute():
        raise ApplicationError("Must be an absolute path on the worker's storage.", field="path")
    if not (path / "config.json").is_file():
        raise ApplicationError(
            f"No Hugging Face model at {path} (config.json is missing).", field="path"
        )
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise ApplicationError(f"No weights (*.safetensors / *.bin) in {path}.", field="path")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise ApplicationError(f"No tokenizer files in {path}.", field="path")
    config = _json_object(path / "config.json")
    template_file = path / "chat_template.jinja"
    template = _text(template_file) if template_file.is_file() else ""
    if not template and (path / "tokenizer_config.json").is_file():
        template = _json_object(path / "tokenizer_config.json").get("chat_template", "") or ""
    return {
        "architectures": config.get("architectures", []),
        "model_type": config.get("model_type", ""),
        "chat_template": template if isinstance(template, str) else json.dumps(template),
    }


def _text(file: Path) -> str:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise ApplicationError(
            f"{file.name} is not readable UTF-8 text: {exc}.", field="path"
        ) from None
    if "\x00" in text:
        raise ApplicationError(f"{file.name} contains a NUL character (U+0000).", field="path")
    return text


def _json_object(file: Path) -> dict:
    """A model directory's JSON file, which must hold an object that PostgreSQL can store (no
    NUL, no lone surrogate escapes): a 400 on ``path`` if not."""
    try:
        value = json.loads(_text(file))
    except (ValueError, RecursionError) as exc:
        raise ApplicationError(f"{file.name} is not valid JSON: {exc}.", field="path") from None
    stored = json.dumps(value, ensure_ascii=False)
    try:
        stored.encode("utf-8")
    except UnicodeEncodeError:
        raise ApplicationError(
            f"{file.name} holds a lone surrogate escape, which is not valid Unicode text.",
            field="path",
        ) from None
    if not isinstance(value, dict):
        raise ApplicationError(f"{file.name} must hold a JSON object.", field="path")
    if "\\u0000" in stored:
        raise ApplicationError(f"{file.name} contains a NUL character (U+0000).", field="path")
    return value


def confined_model_path(path: str) -> Path:
    """``path`` with ``..`` and symlinks resolved, when it lies inside one of the model roots
    (``FLYWHEEL_MODEL_ROOTS``); a 400 on ``path`` otherwise. An admin registers directories
    the workers will load and serve from, not arbitrary files of the server."""
    if not Path(path).is_absolute():
        raise ApplicationError("Must be an absolute path on the worker's storage.", field="path")
    resolved = Path(path).resolve()
    if not within_model_roots(resolved):
        roots = [Path(root).resolve() for root in settings.FLYWHEEL_MODEL_ROOTS]
        raise ApplicationError(
            f"{path} is outside the model roots ({', '.join(map(str, roots))}); "
            "FLYWHEEL_MODEL_ROOTS adds more.",
            field="path",
        )
    return resolved


def within_model_roots(path: Path) -> bool:
    """Whether ``path`` (symlinks and ``..`` resolved) lies inside one of the model roots."""
    resolved = path.resolve()
    return any(
        resolved.is_relative_to(Path(root).resolve()) for root in settings.FLYWHEEL_MODEL_ROOTS
    )


@transaction.atomic
def model_version_register(
    *,
    name: str,
    path: str,
    kind: ModelKind | str = ModelKind.BASE,
    parent: ModelVersion | None = None,
    metadata: dict | None = None,
) -> ModelVersion:
    """Register a model directory as it is (nothing is copied: real checkpoints are large). The
    directory must lie inside the model roots; its resolved path is what is recorded."""
    if kind not in ModelKind.values:
        raise ApplicationError(f"Must be one of {', '.join(ModelKind.values)}.", field="kind")
    if ModelVersion.objects.filter(name=name).exists():
        raise ApplicationError("A model with this name exists.", field="name", code="conflict")
    directory = confined_model_path(path)
    found = check_model_dir(directory)
    return ModelVersion.objects.create(
        name=name,
        kind=kind,
        storage_path=str(directory),
        parent=parent,
        chat_template=found["chat_template"],
        metadata={"architectures": found["architectures"], "model_type": found["model_type"]}
        | (metadata or {}),
    )


def check_adapter_dir(path: Path) -> dict:
    """A PEFT adapter directory as a run saves it: adapter_config.json, the adapter's weights
    and the tokenizer. Returns what the registry records about the adapter."""
    config_file = path / "adapter_config.json"
    if not config_file.is_file():
        raise ApplicationError(f"No PEFT adapter at {path}.", field="path")
    if not any(path.glob("adapter_model.*")):
        raise ApplicationError(f"No adapter weights in {path}.", field="path")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise ApplicationError(f"No tokenizer files in {path}.", field="path")
    config = _json_object(config_file)
    keys = ("peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "target_modules")
    adapter = {key: config.get(key) for key in keys}
    if isinstance(adapter["target_modules"], set | tuple):
        adapter["target_modules"] = sorted(adapter["target_modules"])
    return adapter


def model_version_from_run(*, run: TrainingRun, path: Path, metrics: dict) -> ModelVersion:
    """The output of a finished run, linked to its base model and to the run. A run with an
    ``adapter`` block leaves an adapter: registered as one over the run's base model, which
    whatever loads it loads first."""
    metadata = {"dataset": run.dataset_id, "metrics": metrics}
    if (path / "adapter_config.json").is_file():
        metadata["adapter"] = check_adapter_dir(path)
        base = run.base_model
        found = {
            "architectures": base.metadata.get("architectures", []),
            "model_type": base.metadata.get("model_type", ""),
            "chat_template": base.chat_template,
        }
    else:
        base, found = None, check_model_dir(path)
    return ModelVersion.objects.create(
        name=f"{run.kind}-run-{run.pk}",
        kind=algorithm(run.kind).output_kind,
        storage_path=str(path),
        parent=run.base_model,
        adapter_base=base,
        produced_by=run,
        chat_template=found["chat_template"],
        metadata={
            "architectures": found["architectures"],
            "model_type": found["model_type"],
            **metadata,
        },
    )


def model_version_from_merge(
    *, adapter: ModelVersion, name: str, path: Path, job_id: int
) -> ModelVersion:
    """The full weights of a merged adapter: a model version of the adapter's kind, with no
    adapter_base (it loads alone), whose parent is the adapter it was merged from."""
    if ModelVersion.objects.filter(name=name).exists():
        raise ApplicationError(
            f"A model named {name!r} was registered while the merge ran.", field="name"
        )
    found = check_model_dir(path)
    return ModelVersion.objects.create(
        name=name,
        kind=adapter.kind,
        storage_path=str(path),
        parent=adapter,
        chat_template=adapter.chat_template or found["chat_template"],
        metadata={
            "architectures": found["architectures"],
            "model_type": found["model_type"],
            "merged_from": adapter.pk,
            "adapter_base": adapter.adapter_base_id,
            "merge_job": job_id,
        },
    )

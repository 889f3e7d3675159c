"""Model versions served by an OpenAI-compatible endpoint (a vLLM or TGI server, a hosted API):
registering one, and refusing one where a model must be on disk (issue 16).

What is stored is where to reach the model and the *name* of the environment variable that
holds its API key on the workers (``training.endpoint`` reads it when a job starts); a key
itself is never accepted or stored.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.db import transaction

from flywheel.errors import ApplicationError

from ..models import ModelKind, ModelVersion

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Variables the platform reads itself: a key variable naming one would send the worker's own
# secrets (database password, Django key) to the endpoint as a bearer token.
PLATFORM_ENV = re.compile(r"(FLYWHEEL_|CELERY_|DJANGO_).*|SECRET_KEY|DATABASE_URL|REDIS_URL")


def check_endpoint(*, base_url: str, model: str, api_key_env: str) -> dict[str, str]:
    """The endpoint as stored, or an ApplicationError naming ``endpoint.<field>``."""
    url = urlsplit(base_url.strip())
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ApplicationError(
            "Must be an http(s) URL with a host, e.g. https://api.example.com/v1.",
            field="endpoint.base_url",
        )
    if url.username is not None or url.password is not None:
        raise ApplicationError(
            "Must not hold credentials: name the variable with the key in api_key_env.",
            field="endpoint.base_url",
        )
    if url.query or url.fragment:
        raise ApplicationError(
            "Must have no query or fragment (a key in the URL would be stored).",
            field="endpoint.base_url",
        )
    try:
        url.port  # noqa: B018 — raises on a port that is not a number in range
    except ValueError:
        raise ApplicationError("Has an invalid port.", field="endpoint.base_url") from None
    if not model.strip():
        raise ApplicationError("Must name the model the server serves.", field="endpoint.model")
    if api_key_env and not ENV_NAME.fullmatch(api_key_env):
        raise ApplicationError(
            "Must be an environment variable name (letters, digits, _; not starting with a "
            "digit), not the key itself.",
            field="endpoint.api_key_env",
        )
    if api_key_env and PLATFORM_ENV.fullmatch(api_key_env.upper()):
        raise ApplicationError(
            "Names a variable of the platform's own configuration; use one that holds only the "
            "endpoint's key.",
            field="endpoint.api_key_env",
        )
    return {
        "base_url": url.geturl().rstrip("/"),
        "model": model.strip(),
        "api_key_env": api_key_env,
    }


@transaction.atomic
def model_version_register_endpoint(
    *,
    name: str,
    base_url: str,
    model: str,
    api_key_env: str = "",
    kind: ModelKind | str = ModelKind.BASE,
    parent: ModelVersion | None = None,
    metadata: dict | None = None,
) -> ModelVersion:
    """Register a model that an OpenAI-compatible server serves at ``base_url`` (requests go to
    ``{base_url}/chat/completions``) under the name ``model``. It can generate candidates; it
    cannot be trained (its weights are not here) or score as a reward model."""
    if kind not in ModelKind.values:
        raise ApplicationError(f"Must be one of {', '.join(ModelKind.values)}.", field="kind")
    if kind == ModelKind.REWARD:
        raise ApplicationError(
            "A chat-completions endpoint generates text; it cannot be a reward model.",
            field="kind",
        )
    endpoint = check_endpoint(base_url=base_url, model=model, api_key_env=api_key_env)
    if ModelVersion.objects.filter(name=name).exists():
        raise ApplicationError("A model with this name exists.", field="name", code="conflict")
    return ModelVersion.objects.create(
        name=name, kind=kind, parent=parent, endpoint=endpoint, metadata=metadata or {}
    )


def check_trainable(model_version: ModelVersion, *, field: str) -> None:
    """Refuse a model served by an endpoint where training needs its weights."""
    if model_version.endpoint:
        raise ApplicationError(
            "This model is served by an endpoint; training needs a model in storage.",
            field=field,
        )

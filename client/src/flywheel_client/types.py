"""The payloads the client returns, as the API's OpenAPI schema names them (``/api/v1/schema/``).

Written by hand and checked against the schema by ``tests/client/test_schema.py``: every key
declared here is a property of the operation's response in the schema, so a renamed or removed
field fails that test rather than a user's script."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Token(TypedDict):
    token: str


class Me(TypedDict):
    id: int
    username: str
    role: str | None


class Project(TypedDict):
    id: int
    name: str
    slug: str
    k: int
    annotations_per_set: int
    guidelines: str
    criteria: Any
    allow_ties: bool
    show_ai_suggestion: bool
    lease_seconds: int
    gold_rate: NotRequired[float]  # hidden from annotators
    current_policy: int | None
    created_at: str
    prompt_count: int
    set_count: int
    complete_set_count: int
    my_ranking_count: NotRequired[int]  # annotators only


class ImportResult(TypedDict):
    created: int
    ids: list[int]


class Snapshot(TypedDict):
    id: int
    project: int
    name: str
    filters: dict[str, Any]
    test_fraction: float
    seed: int
    content_hash: str
    counts: dict[str, Any]
    card: str
    created_at: str


class TrainingRun(TypedDict):
    id: int
    kind: str
    status: str  # queued → running → succeeded | failed | cancelled
    dataset: int
    base_model: int
    reward_model: int | None
    output_model: int | None
    config: dict[str, Any]
    executor: str
    cancel_requested: bool
    step: int
    total_steps: int | None
    progress: float
    final_metrics: dict[str, Any]
    error: str
    attempts: int
    resumed_from_step: int | None
    created_at: str
    started_at: str | None
    finished_at: str | None


class Metric(TypedDict):
    step: int
    values: dict[str, float]


class TrainingRunDetail(TrainingRun):
    metrics: list[Metric]
    log_tail: str
    diagnostics: dict[str, Any] | None


class ModelVersion(TypedDict):
    id: int
    name: str
    kind: str
    storage_path: str
    parent: int | None
    adapter_base: int | None
    endpoint: dict[str, Any] | None
    children: list[int]
    produced_by: int | None
    dataset: int | None
    used_by_runs: list[int]
    generation_jobs: list[int]
    candidates_generated: int
    metadata: dict[str, Any]
    created_at: str

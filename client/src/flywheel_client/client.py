"""``Client``: Flywheel's REST API (``/api/v1/``) for scripts and notebooks.

Every request the client makes is one entry of ``OPERATIONS`` (method, path template, the
payload type it returns), so the test suite can check each against the server's OpenAPI schema.
Lists are paginated on the server (limit/offset); the client follows ``next`` to the end.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx

from .errors import ApiError, DownloadUnavailable, RunFailed
from .types import (
    ImportResult,
    Me,
    ModelVersion,
    Project,
    Snapshot,
    Token,
    TrainingRun,
    TrainingRunDetail,
)

if TYPE_CHECKING:  # optional extras, imported where used
    import datasets

FINISHED = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    returns: type | None  # a TypedDict from .types; None: a file (an export)
    paginated: bool = False
    sends: tuple[str, ...] = ()  # the JSON body's keys the client may send
    query: tuple[str, ...] = ()  # the query parameters it may send


OPERATIONS: dict[str, Operation] = {
    "token": Operation("post", "/api/v1/auth/token/", Token, sends=("username", "password")),
    "me": Operation("get", "/api/v1/me/", Me),
    "projects": Operation("get", "/api/v1/projects/", Project, paginated=True),
    "project_create": Operation(
        "post",
        "/api/v1/projects/",
        Project,
        sends=tuple(
            (
                "name k annotations_per_set guidelines criteria allow_ties show_ai_suggestion "
                "lease_seconds gold_rate slug"
            ).split()
        ),
    ),
    "project": Operation("get", "/api/v1/projects/{project_id}/", Project),
    "prompts_import": Operation("post", "/api/v1/projects/{project_id}/prompts/", ImportResult),
    "candidate_sets_import": Operation(
        "post", "/api/v1/projects/{project_id}/candidate-sets/", ImportResult
    ),
    "snapshot_create": Operation(
        "post",
        "/api/v1/datasets/",
        Snapshot,
        sends=("project", "name", "filters", "test_fraction", "seed"),
    ),
    "snapshot": Operation("get", "/api/v1/datasets/{snapshot_id}/", Snapshot),
    "snapshot_export": Operation(
        "get",
        "/api/v1/datasets/{snapshot_id}/export/",
        None,
        query=("view", "fmt", "split", "pairs", "source", "method", "min_pair_agreement"),
    ),
    "run_create": Operation(
        "post",
        "/api/v1/training-runs/",
        TrainingRun,
        sends=("kind", "dataset", "base_model", "reward_model", "config", "executor"),
    ),
    "run": Operation("get", "/api/v1/training-runs/{run_id}/", TrainingRunDetail),
    "run_cancel": Operation("post", "/api/v1/training-runs/{run_id}/cancel/", TrainingRun),
    "models": Operation("get", "/api/v1/models/", ModelVersion, paginated=True, query=("adapter",)),
    "model_download": Operation("get", "/api/v1/models/{model_id}/download/", None),
}


class Client:
    """A signed-in session with one Flywheel server.

    ``Client(url, token)`` uses an API token (``Authorization: Token …``); ``Client.sign_in(url,
    username, password)`` trades a password for one. Without arguments the URL and token come
    from ``FLYWHEEL_URL`` and ``FLYWHEEL_TOKEN``. A refused request raises ``ApiError``."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = url or os.environ.get("FLYWHEEL_URL") or "http://127.0.0.1:8000"
        token = token if token is not None else os.environ.get("FLYWHEEL_TOKEN")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        self.url = url.rstrip("/")
        self.token = token
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    @classmethod
    def sign_in(cls, url: str, username: str, password: str, **kwargs: Any) -> Client:
        """A client holding the token ``POST /auth/token/`` gives for these credentials."""
        with cls(url, token="", **kwargs) as anonymous:
            token = anonymous._call("token", json={"username": username, "password": password})
        return cls(url, token["token"], **kwargs)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Who am I ---------------------------------------------------------------------------

    def me(self) -> Me:
        return self._call("me")

    # --- Projects and imports ---------------------------------------------------------------

    def projects(self) -> list[Project]:
        """Every project the caller may see, with its progress counts."""
        return list(self._pages("projects"))

    def project(self, project_id: int) -> Project:
        return self._call("project", project_id=project_id)

    def create_project(self, name: str, k: int, **fields: Any) -> Project:
        """Admin. ``fields``: ``annotations_per_set``, ``guidelines``, ``criteria``,
        ``allow_ties``, ``lease_seconds``, ``gold_rate``, … (see ``POST /projects/``)."""
        return self._call("project_create", json={"name": name, "k": k, **fields})

    def import_prompts(
        self, project_id: int, rows: Iterable[Mapping[str, Any]] | str | os.PathLike
    ) -> ImportResult:
        """Admin. Rows of ``{"prompt": str}`` or ``{"messages": [{"role", "content"}, …]}``
        (optional ``external_id``, ``source``, ``metadata``), or the path of a JSON / JSON Lines
        file of them. One bad row refuses the batch: ``ApiError.errors`` names it
        (``rows[3].messages[1].role``)."""
        return self._import("prompts_import", project_id, rows)

    def import_candidate_sets(
        self, project_id: int, rows: Iterable[Mapping[str, Any]] | str | os.PathLike
    ) -> ImportResult:
        """Admin. Rows of ``{"prompt"|"messages", "candidates": [{"text", "model"?}] × K}``
        (optional ``round``, ``external_id``), or the path of a file of them."""
        return self._import("candidate_sets_import", project_id, rows)

    def _import(self, name: str, project_id: int, rows: Any) -> ImportResult:
        if isinstance(rows, str | os.PathLike):
            path = Path(rows)
            with path.open("rb") as file:
                return self._call(name, project_id=project_id, files={"file": (path.name, file)})
        return self._call(name, project_id=project_id, json=[dict(row) for row in rows])

    # --- Snapshots and their exports --------------------------------------------------------

    def create_snapshot(
        self,
        project_id: int,
        *,
        name: str | None = None,
        filters: Mapping[str, Any] | None = None,
        test_fraction: float = 0.1,
        seed: int = 0,
    ) -> Snapshot:
        """Admin. Freeze the project's rankings (``filters``: ``since``, ``until``,
        ``min_agreement``, ``exclude_annotators``, ``exclude_gold_failures``,
        ``exclude_flagged``) into an immutable snapshot with a prompt-grouped train/test split."""
        body: dict[str, Any] = {"project": project_id, "test_fraction": test_fraction, "seed": seed}
        if name is not None:
            body["name"] = name
        if filters:
            body["filters"] = dict(filters)
        return self._call("snapshot_create", json=body)

    def snapshot(self, snapshot_id: int) -> Snapshot:
        return self._call("snapshot", snapshot_id=snapshot_id)

    def download_export(
        self,
        snapshot_id: int,
        path: str | os.PathLike,
        *,
        view: str = "preference",
        fmt: str = "jsonl",
        split: str | None = None,
        **options: Any,
    ) -> Path:
        """Admin. Stream the snapshot's export to ``path`` (``fmt`` ``jsonl`` or ``parquet``;
        ``options``: ``pairs``, ``source``, ``method``, ``min_pair_agreement``). The same
        arguments always give the same bytes."""
        params = _export_params(view, fmt, split, options)
        path = Path(path)
        with (
            self._stream("snapshot_export", params, snapshot_id=snapshot_id) as response,
            path.open("wb") as out,
        ):
            for chunk in response.iter_bytes():
                out.write(chunk)
        return path

    def load_dataset(
        self,
        snapshot_id: int,
        *,
        view: str = "preference",
        split: str | None = None,
        **options: Any,
    ) -> datasets.Dataset:
        """The snapshot's export as a ``datasets.Dataset`` (needs the ``datasets`` extra),
        read from the Parquet export in memory, its columns typed by the server's schema:
        ``view="preference"`` goes into TRL's ``DPOTrainer`` / ``RewardTrainer`` as is.
        ``split``: ``"train"``, ``"test"``, or None for both."""
        import datasets
        import pyarrow.parquet as pq

        params = _export_params(view, "parquet", split, options)
        buffer = io.BytesIO()
        with self._stream("snapshot_export", params, snapshot_id=snapshot_id) as response:
            for chunk in response.iter_bytes():
                buffer.write(chunk)
        buffer.seek(0)
        table = pq.read_table(buffer)
        split_name = datasets.Split.TRAIN if split in (None, "train") else datasets.Split.TEST
        return datasets.Dataset(table, split=split_name)

    def load_dataset_dict(
        self, snapshot_id: int, *, view: str = "preference", **options: Any
    ) -> datasets.DatasetDict:
        """The snapshot's ``train`` and ``test`` splits as a ``datasets.DatasetDict``."""
        import datasets

        return datasets.DatasetDict(
            {
                split: self.load_dataset(snapshot_id, view=view, split=split, **options)
                for split in ("train", "test")
            }
        )

    # --- Training runs ----------------------------------------------------------------------

    def start_run(
        self,
        kind: str,
        *,
        dataset: int,
        base_model: int,
        reward_model: int | None = None,
        config: Mapping[str, Any] | None = None,
        executor: str = "",
    ) -> TrainingRun:
        """Admin. Queue a training run (``kind``: ``sft``, ``reward``, ``dpo``, ``kto``,
        ``ppo``, ``grpo``, ``rloo``) on a snapshot; an unknown config key or a bad value is an
        ``ApiError`` naming it (``config.beta``), and nothing is queued."""
        body: dict[str, Any] = {
            "kind": kind,
            "dataset": dataset,
            "base_model": base_model,
            "config": dict(config or {}),
            "executor": executor,
        }
        if reward_model is not None:
            body["reward_model"] = reward_model
        return self._call("run_create", json=body)

    def run(self, run_id: int) -> TrainingRunDetail:
        """Status, step / total steps, the metrics series, the log tail and diagnostics."""
        return self._call("run", run_id=run_id)

    def cancel_run(self, run_id: int) -> TrainingRun:
        return self._call("run_cancel", run_id=run_id)

    def follow_run(
        self,
        run_id: int,
        *,
        progress: bool = True,
        poll_seconds: float = 2.0,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> TrainingRunDetail:
        """Poll the run until it finishes, with a tqdm progress bar over its steps (needs the
        ``progress`` extra; ``progress=False`` polls silently). Returns its final state; raises
        ``RunFailed`` when it failed or was cancelled (unless ``raise_on_failure=False``) and
        ``TimeoutError`` after ``timeout`` seconds (the run goes on)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _progress_bar(run_id) if progress else None
        try:
            while True:
                run = self.run(run_id)
                if bar is not None:
                    _bar_show(bar, run)
                if run["status"] in FINISHED:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"training run {run_id} is still {run['status']}")
                time.sleep(poll_seconds)
        finally:
            if bar is not None:
                bar.close()
        if raise_on_failure and run["status"] != "succeeded":
            raise RunFailed(cast(dict, run))
        return run

    # --- Model versions ---------------------------------------------------------------------

    def models(self, *, adapter: bool | None = None) -> list[ModelVersion]:
        """Admin. Every model version with its lineage (``adapter``: only adapters / only full
        models)."""
        params = {} if adapter is None else {"adapter": "true" if adapter else "false"}
        return list(self._pages("models", params))

    def model(self, model_id: int) -> ModelVersion:
        """One model version (the API lists them; it has no detail endpoint)."""
        for model in self._pages("models"):
            if model["id"] == model_id:
                return model
        raise ApiError(404, "No such model version.", code="not_found")

    def download_model(self, model_id: int, dest: str | os.PathLike) -> Path:
        """Admin. Download a model version's directory (weights, config, tokenizer) into
        ``dest``, which must not exist, streamed as a tar archive and unpacked as it arrives
        (nothing outside ``dest`` is ever written: tarfile's ``data`` filter). An adapter
        version holds the adapter only. ``DownloadUnavailable`` when the server holds no
        weights for it (an endpoint model, or a directory not on its storage)."""
        dest = Path(dest)
        if dest.exists():
            raise FileExistsError(f"{dest} exists; download_model writes a new directory")
        try:
            with self._stream("model_download", {}, model_id=model_id) as response:
                dest.mkdir(parents=True)
                with tarfile.open(fileobj=_ResponseReader(response), mode="r|") as archive:
                    archive.extractall(dest, filter="data")
        except ApiError as refused:
            if refused.status == 409:
                raise DownloadUnavailable(f"model version {model_id}: {refused.detail}") from None
            raise
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        return dest

    # --- Transport --------------------------------------------------------------------------

    def _request(self, name: str, *, params: Any = None, **kwargs: Any) -> httpx.Response:
        op = OPERATIONS[name]
        path_args = {k: kwargs.pop(k) for k in list(kwargs) if k.endswith("_id")}
        response = self._http.request(
            op.method, op.path.format(**path_args), params=params, **kwargs
        )
        _raise_for_status(response)
        return response

    def _call(self, name: str, **kwargs: Any) -> Any:
        return self._request(name, **kwargs).json()

    def _pages(self, name: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        page = self._call(name, params=dict(params or {}))
        yield from page["results"]
        while page.get("next"):
            response = self._http.get(page["next"])
            _raise_for_status(response)
            page = response.json()
            yield from page["results"]

    @contextmanager
    def _stream(
        self, name: str, params: Mapping[str, Any], **path_args: Any
    ) -> Iterator[httpx.Response]:
        op = OPERATIONS[name]
        with self._http.stream(op.method, op.path.format(**path_args), params=params) as response:
            if response.is_error:
                response.read()
                _raise_for_status(response)
            yield response


class _ResponseReader(io.RawIOBase):
    """A streamed response's body as a readable file, for ``tarfile``'s stream mode."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.iter_bytes()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _raise_for_status(response: httpx.Response) -> None:
    if not response.is_error:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    raise ApiError.from_body(
        response.status_code,
        body,
        response.text,
        method=response.request.method,
        url=str(response.request.url),
    )


def _export_params(view: str, fmt: str, split: str | None, options: Mapping) -> dict[str, Any]:
    params = {"view": view, "fmt": fmt, **options}
    if split is not None:
        params["split"] = split
    return params


def _progress_bar(run_id: int):
    from tqdm.auto import tqdm

    return tqdm(total=None, desc=f"run {run_id}", unit="step", dynamic_ncols=True)


def _bar_show(bar, run: Mapping[str, Any]) -> None:
    """The bar at the run's step of its total, with its status and latest loss."""
    if run.get("total_steps") and bar.total != run["total_steps"]:
        bar.total = run["total_steps"]
    bar.n = run.get("step") or 0
    postfix = {"status": run["status"]}
    metrics = run.get("metrics") or []
    loss = next((m["values"]["loss"] for m in reversed(metrics) if "loss" in m["values"]), None)
    if loss is not None:
        postfix["loss"] = f"{loss:.4g}"
    bar.set_postfix(postfix, refresh=False)
    bar.refresh()

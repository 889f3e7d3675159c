"""Sampling from an OpenAI-compatible server (a vLLM or TGI server, a hosted API): the
generation backend of a model version registered with an ``endpoint`` (issue 16).

``POST {base_url}/chat/completions`` with the chat messages, ``n``, ``temperature``, ``top_p``,
``max_tokens`` and ``seed``, one request per prompt (a few at a time). The API key is read from
the worker's environment variable that the endpoint names, never from the database.

How it departs from the Hugging Face path (``training.generation.HFBackend``):

- Seeds. ``sample_chat`` draws a whole batch from one RNG stream seeded with the batch seed; a
  server samples each request on its own, so each prompt gets its own seed, derived from the
  batch seed and the prompt's place in the batch (:func:`prompt_seed`). A re-run draws the same
  samples when the server honours ``seed`` (vLLM does; hosted APIs promise "best effort").
- ``top_k`` is not part of the protocol and is not sent: the server's own default applies
  (vLLM's default is off, like ``SAMPLER_DEFAULTS``, unless the server was started with a
  ``--generation-config`` that sets one).
- A server that returns fewer than ``n`` choices (some ignore ``n``) is asked again, one
  request per missing sample, each with its own derived seed; the backend then asks that way
  from the start.

Timeouts, connection errors, 429 and 5xx are retried with exponential backoff (honouring a
``Retry-After`` of at most a minute), ``MAX_RETRIES`` times; any other answer that is not a
chat completion raises :class:`EndpointError` with the server's message.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)

MAX_RETRIES = 4
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
# Requests in flight at once: a batch's prompts go out together, as the HF path generates a
# batch together, without opening hundreds of connections to a hosted API.
CONCURRENCY = 8


class EndpointError(RuntimeError):
    """The endpoint could not be used: no key, a refused request, or retries exhausted."""


def prompt_seed(batch_seed: int, position: int) -> int:
    """The seed of the prompt at ``position`` in a batch: a hash of both (not ``batch_seed +
    position``, which would give the next batch's prompts this batch's seeds), in [0, 2**31)."""
    digest = hashlib.sha256(f"{batch_seed}:{position}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF


def api_key(api_key_env: str) -> str | None:
    """The key in the environment variable ``api_key_env`` of this process; None when the
    endpoint names none (a server without authentication)."""
    if not api_key_env:
        return None
    key = os.environ.get(api_key_env, "")
    if not key:
        raise EndpointError(
            f"The endpoint's API key variable {api_key_env} is not set (or empty) in the "
            "worker's environment; set it where the generation worker runs."
        )
    return key


@dataclass
class EndpointBackend:
    base_url: str
    model: str
    key: str | None = field(default=None, repr=False)
    api_key_env: str = ""
    timeout: float = 300.0
    max_retries: int = MAX_RETRIES
    backoff: float = 1.0
    name: str = "endpoint"
    # Set once the server returned fewer choices than asked for: ask one sample at a time.
    single_choice: bool = False

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        self.client = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(self.timeout, connect=10.0),
        )

    @classmethod
    def load(cls, endpoint: Mapping[str, str], **options: Any) -> EndpointBackend:
        """The backend of a model version's ``endpoint`` (``{"base_url", "model",
        "api_key_env"}``), its key read from the environment now."""
        env = endpoint.get("api_key_env", "")
        return cls(
            endpoint["base_url"], endpoint["model"], api_key(env), api_key_env=env, **options
        )

    def sample(
        self, prompts: Sequence[list[dict[str, str]]], n: int, sampling: dict[str, Any], seed: int
    ) -> list[list[str]]:
        if n < 1:
            raise ValueError("n must be >= 1")
        jobs = [(messages, prompt_seed(seed, i)) for i, messages in enumerate(prompts)]
        with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), CONCURRENCY))) as pool:
            return list(pool.map(lambda job: self._sample_one(*job, n, sampling), jobs))

    def _sample_one(
        self, messages: list[dict[str, str]], seed: int, n: int, sampling: dict[str, Any]
    ) -> list[str]:
        texts: list[str] = []
        if not self.single_choice:
            texts = self._complete(messages, n, sampling, seed)
            if len(texts) < n:
                logger.info(
                    "%s returned %d of %d choices; asking one at a time",
                    self.base_url,
                    len(texts),
                    n,
                )
                self.single_choice = True
        # One request per missing sample; the first keeps the prompt's own seed, so a server
        # that ignores n gives the same first sample either way.
        for j in range(len(texts), n):
            texts += self._complete(messages, 1, sampling, seed if j == 0 else prompt_seed(seed, j))
        return texts[:n]

    def _complete(
        self, messages: list[dict[str, str]], n: int, sampling: dict[str, Any], seed: int
    ) -> list[str]:
        body = {
            "model": self.model,
            "messages": messages,
            "n": n,
            "temperature": sampling.get("temperature", 1.0),
            "top_p": sampling.get("top_p", 1.0),
            "max_tokens": sampling["max_new_tokens"],
            "seed": seed,
        }
        data = self._post("/chat/completions", body)
        try:
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            return [c["message"].get("content") or "" for c in choices]
        except (KeyError, TypeError, AttributeError) as exc:
            raise EndpointError(
                f"{self.base_url}/chat/completions answered something that is not a chat "
                f"completion: {str(data)[:300]}"
            ) from exc

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url.rstrip('/')}{path}"
        for attempt in range(self.max_retries + 1):
            wait = self.backoff * 2**attempt
            try:
                response = self.client.post(path, json=body)
            except httpx.TransportError as exc:  # connect, read, write and pool timeouts too
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError as exc:
                        raise EndpointError(f"{url} answered 200 with no JSON body.") from exc
                problem = f"HTTP {response.status_code}: {_server_message(response)}"
                if response.status_code not in RETRY_STATUSES:
                    raise EndpointError(self._refusal(url, response.status_code, problem))
                wait = max(wait, _retry_after(response))
            if attempt == self.max_retries:
                break
            logger.warning(
                "%s: %s; retry %d of %d in %.1f s",
                url,
                problem,
                attempt + 1,
                self.max_retries,
                wait,
            )
            time.sleep(wait)
        raise EndpointError(f"{url} failed after {self.max_retries + 1} attempts: {problem}")

    def _refusal(self, url: str, status: int, problem: str) -> str:
        if status in (401, 403):
            source = (
                f"the key in {self.api_key_env}"
                if self.api_key_env
                else "no key (api_key_env is empty)"
            )
            return f"{url} refused the request with {source}: {problem}"
        if status == 404:
            return f"{url}: {problem} (is the model name {self.model!r} and base_url right?)"
        return f"{url} refused the request: {problem}"

    def close(self) -> None:
        self.client.close()


def _server_message(response: httpx.Response) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the start of the body."""
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return str(message)[:500]
    except (ValueError, AttributeError):
        pass
    return response.text[:500] or response.reason_phrase


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("retry-after", 0)), MAX_RETRY_AFTER)
    except ValueError:  # an HTTP date: the exponential backoff will do
        return 0.0

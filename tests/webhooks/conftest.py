"""A real HTTP receiver on 127.0.0.1 and real Celery workers for the webhook tests."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from tests.conftest import CeleryWorkers, _point_celery_at
from webhooks.services import _cache_key

# Retries in the worker: 0.2 s, then 0.4, 0.8, … (production: 30 s, doubling).
WORKER_ENV = {
    "FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE": "1",
    "FLYWHEEL_WEBHOOK_RETRY_SECONDS": "0.2",
    "FLYWHEEL_WEBHOOK_MAX_ATTEMPTS": "4",
    "FLYWHEEL_WEBHOOK_TIMEOUT_SECONDS": "5",
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers 500 to the first ``fail_first`` of them, 204 after."""

    url: str = ""
    fail_first: int = 0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.requests)} of {count} requests in {timeout} s")


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.requests.append(
                    Received(self.path, dict(self.headers.items()), body, time.monotonic())
                )
                failing = len(state.requests) <= state.fail_first
            self.send_response(500 if failing else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def private_destinations_allowed(settings):
    settings.FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture(autouse=True)
def fresh_subscription_cache(db):
    """A test's subscriptions roll back with its database; their cached summary must not
    outlive it (the next test's submit would look them up)."""
    cache.delete(_cache_key())
    yield
    cache.delete(_cache_key())


@pytest.fixture
def webhook_worker(transactional_db, settings, tmp_path):
    """One real Celery worker with fast retries (``WORKER_ENV``)."""
    from flywheel.celery import app

    settings.FLYWHEEL_MODELS_DIR = tmp_path / "models"
    workers = CeleryWorkers(env_overrides=WORKER_ENV)
    saved = app.conf.broker_url, app.conf.result_backend
    _point_celery_at(app, workers.broker, workers.broker)
    try:
        yield workers
    finally:
        workers.stop_all()
        _point_celery_at(app, *saved)

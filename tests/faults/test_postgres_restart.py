"""PostgreSQL restarted under load: a private PostgreSQL (initdb'd for this test, on its own port:
the shared server on 5432 serves every other test process), migrated, seeded, and served by
gunicorn (2 gthread workers × 4 threads, persistent connections with no health check, as in
production: a connection the restart broke fails one request with a 503 and is replaced). Six
annotator threads take and submit tasks over HTTP with no think time; mid-run the server is
stopped with ``pg_ctl -m immediate`` (a crash: every open transaction dropped, WAL replayed at
start) and started again 2 s later.

What clients see for the gap is decided here: a JSON 503 ``database_unavailable`` with
``Retry-After`` from ``flywheel.availability``, never a 500 and never an HTML page. Clients retry
a refused request after 0.1 s (a submit with the same ``Idempotency-Key``, so a submit whose
commit landed just before the crash is answered from the stored ranking). Afterwards the
database must hold exactly the rankings clients were told about, each with its assignment marked
submitted (one transaction), and no set with more rankings than its overlap.

Nothing is mocked."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg2
import pytest

from .private_servers import PrivatePostgres, free_port

ROOT = Path(__file__).resolve().parents[2]
ANNOTATORS = 6
SETS = 150
K = 3
OVERLAP = 2
BEFORE, AFTER = 40, 40  # rankings acknowledged before the crash, and after the restart
DOWN_SECONDS = 2.0
RETRY_SECONDS = 0.1

SEED = f"""
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from annotation.services.imports import candidate_sets_import
from annotation.services.memberships import members_add
from annotation.services.projects import project_create
from annotation.services.users import token_for, user_create
project = project_create(name="Restart", k={K}, annotations_per_set={OVERLAP})
rows = [
    (i + 1, {{"prompt": f"Question {{i}}?", "candidates": [{{"text": f"Answer {{i}}.{{j}}"}}
     for j in range({K})]}})
    for i in range({SETS})
]
candidate_sets_import(project=project, rows=rows)
print("project", project.pk)
names = []
for i in range({ANNOTATORS}):
    user = user_create(username=f"restart-{{i}}", password="restart-pass-1234", role="annotator")
    names.append(user.username)
    print("token", token_for(user=user))
members_add(project=project, users=names, role="annotator", by=None)
"""


@dataclass
class Exchange:
    """One HTTP request: status None is a connection error (``code`` then names it)."""

    at: float
    endpoint: str
    status: int | None
    code: str = ""
    is_json: bool = True
    retry_after: str | None = None


@dataclass
class Annotator:
    base_url: str
    token: str
    project: int
    stop: threading.Event
    exchanges: list[Exchange] = field(default_factory=list)
    acknowledged: dict[int, int] = field(default_factory=dict)  # assignment → ranking id
    failure: str | None = None

    def run(self) -> None:
        try:
            with httpx.Client(
                base_url=self.base_url,
                headers={"Authorization": f"Token {self.token}"},
                timeout=15,
            ) as client:
                while not self.stop.is_set():
                    task = self._send(client, f"/api/v1/projects/{self.project}/next-task/")
                    if task.status_code == 204:
                        return
                    self._expect(task, 200)
                    body = task.json()
                    ranking = [[c["id"]] for c in body["candidates"]]
                    submitted = self._send(
                        client,
                        f"/api/v1/assignments/{body['assignment']}/submit/",
                        json={"ranking": ranking, "time_spent_seconds": 30, "interaction": {}},
                        headers={"Idempotency-Key": str(uuid.uuid4())},
                    )
                    self._expect(submitted, 201)
                    self.acknowledged[body["assignment"]] = submitted.json()["id"]
        except Exception as exc:  # noqa: BLE001 — reported by the test
            self.failure = f"{type(exc).__name__}: {exc}"

    def _send(self, client: httpx.Client, url: str, **kwargs) -> httpx.Response:
        """POST until the answer is not a 503 or a connection error (same body, same key)."""
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, f"{url} still failing after 60 s"
            try:
                response = client.post(url, **kwargs)
            except httpx.TransportError as exc:
                self.exchanges.append(Exchange(time.monotonic(), url, None, type(exc).__name__))
                time.sleep(RETRY_SECONDS)
                continue
            is_json = response.headers.get("content-type", "").startswith("application/json")
            code = response.json().get("code", "") if is_json and response.content else ""
            self.exchanges.append(
                Exchange(
                    time.monotonic(),
                    url,
                    response.status_code,
                    code,
                    is_json,
                    response.headers.get("Retry-After"),
                )
            )
            if response.status_code != 503:
                return response
            time.sleep(RETRY_SECONDS)

    @staticmethod
    def _expect(response: httpx.Response, status: int) -> None:
        assert response.status_code == status, (response.status_code, response.text[:500])


def _env(database_url: str) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": database_url,
        "FLYWHEEL_CONN_MAX_AGE": "60",  # production's persistent connections
        "FLYWHEEL_LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "flywheel.settings",
    }


def _seed(database_url: str) -> tuple[int, list[str]]:
    env = _env(database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    rows = [line.split() for line in out if line.startswith(("project ", "token "))]
    return int(rows[0][1]), [value for kind, value in rows if kind == "token"]


def _serve(database_url: str, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "flywheel.wsgi",
            "-b", f"127.0.0.1:{port}", "-w", "2", "-k", "gthread", "--threads", "4",
            "--timeout", "60", "--log-level", "warning",
        ],
        cwd=ROOT,
        env=_env(database_url),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health/", timeout=2).raise_for_status()
            return server
        except httpx.HTTPError:
            assert server.poll() is None, "gunicorn exited during start-up"
            time.sleep(0.2)
    server.kill()
    raise AssertionError("gunicorn did not answer in 60 s")


@pytest.fixture
def postgres():
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        server.create_database("flywheel")
        yield server
    finally:
        server.destroy()


def _wait_for(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _one(database_url: str, sql: str):
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.mark.slow
def test_a_postgres_restart_answers_503_for_the_gap_then_recovers_with_no_partial_ranking(
    postgres,
):
    database_url = postgres.url("flywheel")
    project, tokens = _seed(database_url)
    port = free_port()
    server = _serve(database_url, port)
    stop = threading.Event()
    annotators = [Annotator(f"http://127.0.0.1:{port}", token, project, stop) for token in tokens]
    threads = [threading.Thread(target=a.run, daemon=True) for a in annotators]

    def acknowledged() -> int:
        return sum(len(a.acknowledged) for a in annotators)

    try:
        for thread in threads:
            thread.start()
        _wait_for(lambda: acknowledged() >= BEFORE, f"{BEFORE} rankings before the crash")
        crashed_at = time.monotonic()
        postgres.stop("immediate")
        time.sleep(DOWN_SECONDS)
        postgres.start()
        restarted_at = time.monotonic()
        at_restart = acknowledged()
        _wait_for(lambda: acknowledged() >= at_restart + AFTER, f"{AFTER} rankings after")
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)

    assert [a.failure for a in annotators if a.failure] == []
    exchanges = [e for a in annotators for e in a.exchanges]
    refused = [e for e in exchanges if e.status is None or e.status >= 300]
    kinds = Counter(e.status if e.status is not None else e.code for e in refused)
    # The gap's only answers: JSON 503s that say why and when to retry.
    assert set(kinds) <= {503}, kinds
    assert all(e.is_json and e.code == "database_unavailable" for e in refused), refused[:3]
    assert all(e.retry_after for e in refused)
    assert refused, "no request landed in the gap: the restart was not under load"
    assert all(crashed_at - 1 <= e.at for e in refused)
    recovered_after = max(e.at for e in refused) - restarted_at
    assert recovered_after < 5, f"503s went on {recovered_after:.1f} s after the restart"

    # Exactly the acknowledged rankings are stored, each with its assignment submitted.
    told = {r for a in annotators for r in a.acknowledged.values()}
    stored = {row[0] for row in _one(database_url, "SELECT id FROM annotation_ranking")}
    assert stored == told
    assert len(told) == acknowledged()  # one ranking per acknowledged assignment
    half_written = _one(
        database_url,
        """SELECT count(*) FROM annotation_ranking r
           FULL JOIN (SELECT * FROM annotation_assignment WHERE state = 'submitted') a
             ON a.id = r.assignment_id
           WHERE r.id IS NULL OR a.id IS NULL OR a.finished_at IS NULL""",
    )[0][0]
    assert half_written == 0
    over, wrong_state = _one(
        database_url,
        f"""SELECT count(*) FILTER (WHERE n > {OVERLAP}),
                   count(*) FILTER (WHERE (state = 'complete') <> (n >= {OVERLAP}))
            FROM (SELECT s.id, s.state, count(r.id) AS n FROM annotation_candidateset s
                  LEFT JOIN annotation_ranking r ON r.candidate_set_id = s.id
                  GROUP BY s.id) counts""",
    )[0]
    assert (over, wrong_state) == (0, 0)
    print(
        f"PostgreSQL down {restarted_at - crashed_at:.1f} s; {len(refused)} requests answered "
        f"503 ({sum(e.endpoint.endswith('submit/') for e in refused)} of them submits); "
        f"last 503 {recovered_after:+.2f} s after the restart; {len(stored)} rankings stored "
        f"= acknowledged; {sum(e.status == 201 for e in exchanges)} submits answered 201"
    )

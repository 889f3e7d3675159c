"""Shared fixtures. Tests run against the machine's real PostgreSQL and Redis (DATABASE_URL /
REDIS_URL, see the Makefile); state is set up through the real services."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from annotation.enums import Role
from annotation.models import CandidateSet, Project
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import token_for, user_create

PASSWORD = "correct-horse-battery-staple"

# The longest tests (several minutes each: whole loop rounds with real training).
HEAVIEST = ("tests/loop/test_loop_rounds.py",)


def pytest_collection_modifyitems(config, items):
    """Run the longest tests first, each on its own pytest-xdist worker, so they overlap each
    other and the rest instead of running one after another at the end. The Makefile passes
    ``--maxschedchunk 2``: xdist then hands each worker the next two tests at the start, so
    the order heavy, quick, heavy, quick, … puts one heavy test on each worker."""
    heavy = [i for i in items if i.nodeid.startswith(HEAVIEST)]
    slow = [i for i in items if i not in heavy and i.get_closest_marker("slow")]
    rest = [i for i in items if i not in heavy and i.get_closest_marker("slow") is None]
    ordered = []
    for item in heavy + slow:
        ordered.append(item)
        if rest:
            ordered.append(rest.pop(0))
    items[:] = ordered + rest


_names = itertools.count(1)


@pytest.fixture(scope="session", autouse=True)
def model_roots_cover_test_directories(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests build tiny models under pytest's temporary directory and register them: it is one
    of the model roots the registry confines paths to (issue 18)."""
    from django.conf import settings

    settings.FLYWHEEL_MODEL_ROOTS = [
        *settings.FLYWHEEL_MODEL_ROOTS,
        tmp_path_factory.getbasetemp(),
    ]


@pytest.fixture(autouse=True)
def members_of_every_project(request):
    """Every annotator and reviewer this test creates is a member of every project it creates,
    with their account's role, as if an admin had added them: most tests are about something
    else than membership (which ``annotation.access`` enforces on every request). Tests of
    membership itself are marked ``members_only`` and get no memberships but the ones they
    make. Only what this process creates is seen (not a live server's or a worker's writes)."""
    if request.node.get_closest_marker("members_only"):
        yield
        return
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_save

    from annotation.models import ProjectMembership

    User = get_user_model()
    roles = {Role.ANNOTATOR.value, Role.REVIEWER.value}

    def project_created(sender, instance, created, raw=False, **kwargs):
        if not created or raw:
            return
        members = (
            User.objects.filter(groups__name__in=roles, is_superuser=False)
            .exclude(groups__name=Role.ADMIN.value)
            .values_list("pk", "groups__name")
        )
        best = {}
        for user_id, name in members:  # a reviewer who is also in "annotator" reviews
            if best.get(user_id) != Role.REVIEWER.value:
                best[user_id] = name
        ProjectMembership.objects.bulk_create(
            [ProjectMembership(project=instance, user_id=u, role=r) for u, r in best.items()],
            ignore_conflicts=True,
        )

    def role_given(sender, instance, action, pk_set, reverse=False, **kwargs):
        if action != "post_add" or reverse or not isinstance(instance, User):
            return
        names = set(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        role = next((r for r in (Role.REVIEWER.value, Role.ANNOTATOR.value) if r in names), None)
        if role is None or instance.is_superuser:
            return
        ProjectMembership.objects.bulk_create(
            [
                ProjectMembership(project_id=p, user=instance, role=role)
                for p in Project.objects.values_list("pk", flat=True)
            ],
            ignore_conflicts=True,
        )

    post_save.connect(project_created, sender=Project, dispatch_uid="test-members-project")
    m2m_changed.connect(role_given, sender=User.groups.through, dispatch_uid="test-members-role")
    try:
        yield
    finally:
        post_save.disconnect(sender=Project, dispatch_uid="test-members-project")
        m2m_changed.disconnect(sender=User.groups.through, dispatch_uid="test-members-role")


@pytest.fixture
def make_user(db) -> Callable:
    def make(role: Role | str = Role.ANNOTATOR, username: str | None = None):
        return user_create(
            username=username or f"{role}-{next(_names)}", password=PASSWORD, role=role
        )

    return make


@pytest.fixture
def client_for(make_user) -> Callable[..., APIClient]:
    """An API client authenticated with a token of a new user of ``role`` (None: anonymous)."""

    def make(role: Role | str | None = Role.ANNOTATOR, user=None) -> APIClient:
        client = APIClient()
        if role is None and user is None:
            return client
        user = user or make_user(role)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user)}")
        client.user = user
        return client

    return make


@pytest.fixture
def admin_client(client_for) -> APIClient:
    return client_for(Role.ADMIN)


@pytest.fixture
def make_project(db) -> Callable[..., Project]:
    def make(**fields) -> Project:
        defaults = {"name": f"Project {next(_names)}", "k": 4, "annotations_per_set": 1}
        return project_create(**(defaults | fields))

    return make


def set_rows(n: int, k: int, *, prefix: str = "p") -> list[tuple[int, dict]]:
    return [
        (
            i + 1,
            {
                "prompt": f"{prefix} prompt {i}",
                "candidates": [{"text": f"{prefix} response {i}.{j}"} for j in range(k)],
            },
        )
        for i in range(n)
    ]


@pytest.fixture
def make_sets(db) -> Callable[..., list[CandidateSet]]:
    def make(project: Project, n: int = 3) -> list[CandidateSet]:
        return candidate_sets_import(
            project=project, rows=set_rows(n, project.k, prefix=f"s{next(_names)}")
        )

    return make


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Tests create hundreds of users; the production hasher (PBKDF2) is deliberately slow."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class CeleryWorkers:
    """Real Celery worker processes (``celery -A flywheel worker``) on a real Redis broker,
    using this test's PostgreSQL database. Each pytest-xdist worker gets its own Redis database
    number after REDIS_URL's, so parallel test processes never consume each other's jobs."""

    def __init__(self, env_overrides: dict[str, str] | None = None) -> None:
        import os
        from urllib.parse import urlsplit, urlunsplit

        import redis
        from django.conf import settings
        from django.db import connection

        worker_index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
        parts = urlsplit(settings.REDIS_URL)
        base_db = int(parts.path.strip("/") or 0)
        self.broker = urlunsplit(parts._replace(path=f"/{base_db + 1 + worker_index}"))
        redis.Redis.from_url(self.broker).flushdb()
        db = connection.settings_dict
        self.env = (
            os.environ
            | {
                "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                "REDIS_URL": self.broker,
                "FLYWHEEL_MODELS_DIR": str(settings.FLYWHEEL_MODELS_DIR),
            }
            | (env_overrides or {})
        )
        self.index = worker_index
        self.processes = []

    def start(self):
        import subprocess
        import sys
        import time

        from flywheel.celery import app

        name = f"test-{self.index}-{len(self.processes)}@%h"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "flywheel",
                "worker",
                "-Q",
                "default,generation,gpu",
                "--concurrency",
                "1",
                "--pool",
                "solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "warning",
                "-n",
                name,
            ],
            env=self.env,
        )
        self.processes.append(process)
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name.replace("%h", _hostname())], timeout=0.5):
            assert process.poll() is None, "the Celery worker exited during start-up"
            assert time.monotonic() < deadline, "the Celery worker did not answer a ping in 60 s"
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=60)


def _hostname() -> str:
    import socket

    return socket.gethostname()


@pytest.fixture
def celery_workers(transactional_db, settings, tmp_path):
    """Start real workers with ``celery_workers.start()``; all are stopped at the end. Models
    and run directories go under the test's tmp dir."""
    from flywheel.celery import app

    settings.FLYWHEEL_MODELS_DIR = tmp_path / "models"
    workers = CeleryWorkers()
    saved = app.conf.broker_url, app.conf.result_backend
    _point_celery_at(app, workers.broker, workers.broker)
    try:
        yield workers
    finally:
        workers.stop_all()
        _point_celery_at(app, *saved)


@pytest.fixture
def celery_worker(celery_workers):
    """One real Celery worker process (see ``CeleryWorkers``)."""
    return celery_workers.start()


def _point_celery_at(app, broker_url: str, result_backend: str) -> None:
    """Re-point this process's Celery app; drops its cached broker pool and result backend."""
    from kombu import pools

    app.conf.update(broker_url=broker_url, result_backend=result_backend)
    app._pool = None
    app.amqp._producer_pool = None  # it wraps the old connection pool
    pools.reset()  # kombu's global registry would hand the closed pool back
    app._local.__dict__.pop("backend", None)


@pytest.fixture(scope="session")
def tinyworld(tmp_path_factory: pytest.TempPathFactory):
    """The tiny world (tokenizer, base model, SFT policy, prompts). Built once into a cache
    under FLYWHEEL_VAR_DIR that every test process (xdist worker) and later session shares:
    the build is locked and keyed by its parameters, so a second caller waits and reads it."""
    import os
    from pathlib import Path

    from tinyworld.build import build_tinyworld

    var = os.environ.get("FLYWHEEL_VAR_DIR")
    root = Path(var) / "tinyworld" if var else tmp_path_factory.mktemp("tinyworld")
    return build_tinyworld(root, seed=0)


# --- Fixtures of the gold-set, quality, honeypot and preference-import tests ---------------


@pytest.fixture
def take_and_rank() -> Callable:
    """An annotator's whole loop through the API: next-task, then submit the tiers that
    ``rank(task)`` returns (``task["shown"]`` holds the candidate ids in display order).

    The body defaults to an unremarkable submit (60 s, one drag move: no QC flag on short
    texts); ``body`` overrides it, and a ``None`` value leaves that field out. Returns
    ``(task, ranking_json)``, or ``(None, None)`` when next-task answers 204."""

    def run(client: APIClient, project: Project, rank: Callable, **body):
        response = client.post(f"/api/v1/projects/{project.pk}/next-task/")
        if response.status_code == 204:
            return None, None
        assert response.status_code == 200, response.content
        task = response.json()
        task["shown"] = [c["id"] for c in task["candidates"]]
        payload = {"time_spent_seconds": 60.0, "interaction": {"moves": 1}} | body
        if "ranking" not in payload and not payload.get("not_rankable"):
            payload["ranking"] = rank(task)
        payload = {key: value for key, value in payload.items() if value is not None}
        submitted = client.post(
            f"/api/v1/assignments/{task['assignment']}/submit/", payload, format="json"
        )
        assert submitted.status_code == 201, submitted.content
        return task, submitted.json()

    return run


@pytest.fixture
def gold_draw(monkeypatch) -> Callable[[float], None]:
    """Fix next-task's random draw (gold is served when it is below the project's gold_rate),
    so tests of gold selection are deterministic."""
    from annotation.services import assignments

    def fix(value: float) -> None:
        monkeypatch.setattr(assignments, "_random", lambda: value)

    return fix

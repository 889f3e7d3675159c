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
_names = itertools.count(1)


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

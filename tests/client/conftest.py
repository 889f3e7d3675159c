"""Fixtures of the Python client's tests: the client package from ``client/src`` (it is its own
distribution, not installed into the server's environment) and clients signed in to a live
server (pytest-django's ``live_server``: the real WSGI stack on a real port)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from annotation.enums import Role
from annotation.services.users import token_for

CLIENT_SRC = Path(__file__).resolve().parents[2] / "client" / "src"
if str(CLIENT_SRC) not in sys.path:
    sys.path.insert(0, str(CLIENT_SRC))

from flywheel_client import Client  # noqa: E402


@pytest.fixture
def flywheel_for(live_server, make_user):
    """A ``flywheel_client.Client`` with the API token of a new user of ``role``."""
    clients = []

    def make(role: Role | str = Role.ADMIN, user=None) -> Client:
        user = user or make_user(role)
        client = Client(live_server.url, token_for(user=user))
        client.user = user
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def flywheel(flywheel_for) -> Client:
    """An admin's client."""
    return flywheel_for(Role.ADMIN)

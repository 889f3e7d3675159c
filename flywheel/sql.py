"""Hand-written SQL for the annotator's hot path (issue #7): next-task, submit and token
authentication run on every click of every annotator, and the ORM spent more CPU building their
queries than PostgreSQL spent answering them.

``Statements`` holds one or more SQL statements written with ``%(name)s`` placeholders and runs
them in one round trip. It prepares them once per database connection (``PREPARE``, a round
trip of its own the first time), so PostgreSQL parses and plans them once instead of on every
request: planning cost more than running for most of them (0.35 against 0.10 ms for submit's
read). Statements sent together
still run one after the other, each with its own snapshot under READ COMMITTED, so a read placed
after a lock sees every commit made before the lock was granted.

Prepared statements live in the server session, so a connection pooler must keep sessions
(PgBouncer's session mode). ``FLYWHEEL_PREPARED_STATEMENTS=0`` sends the plain statements
instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from itertools import count
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created
from django.db.models import Model
from django.dispatch import receiver

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_names = count(1)


class Statements:
    """SQL statements run together; ``types`` gives the PostgreSQL type of a parameter where
    the statement does not imply it (PostgreSQL infers the rest)."""

    def __init__(self, *sql: str, types: Mapping[str, str] | None = None) -> None:
        self.sql = sql
        self._parts: list[tuple[str, str, str]] = []  # (name, PREPARE …, EXECUTE …)
        for text in sql:
            name = f"flywheel_{next(_names)}"
            params = list(dict.fromkeys(_PLACEHOLDER.findall(text)))
            position = {param: f"${i}" for i, param in enumerate(params, 1)}
            body = _PLACEHOLDER.sub(lambda m, position=position: position[m.group(1)], text)
            declared = ", ".join((types or {}).get(param, "unknown") for param in params)
            prepare = f"PREPARE {name}" + (f" ({declared})" if params else "") + f" AS {body}"
            arguments = ", ".join(f"%({param})s" for param in params)
            execute = f"EXECUTE {name}" + (f" ({arguments})" if params else "")
            self._parts.append((name, prepare, execute))

    def run(self, cursor, params: Mapping[str, Any]) -> None:
        """Execute; the results are the last statement's."""
        if settings.FLYWHEEL_PREPARED_STATEMENTS:
            prepared = _prepared_names()
            for name, prepare, _ in self._parts:
                if name not in prepared:
                    # A round trip of its own, once per connection: a prepared statement
                    # outlives the transaction it was made in, so had it shared the batch, an
                    # error in a later statement would leave it on the server but not in
                    # ``prepared``, and every later PREPARE of it would fail ("already exists").
                    cursor.execute(prepare)
                    prepared.add(name)
            texts = [execute for _, _, execute in self._parts]
        else:
            texts = self.sql
        cursor.execute(";\n".join(text.strip().rstrip(";") for text in texts), params)


def _prepared_names() -> set[str]:
    names = getattr(connection, "_flywheel_prepared", None)
    if names is None:
        names = connection._flywheel_prepared = set()
    return names


@receiver(connection_created)
def _forget_prepared(sender, connection, **kwargs) -> None:
    """A new connection is a new server session, with nothing prepared in it."""
    connection._flywheel_prepared = set()


def fetch_one(statements: Statements, params: Mapping[str, Any]):
    with connection.cursor() as cursor:
        statements.run(cursor, params)
        return cursor.fetchone()


@cache
def columns(model: type[Model], alias: str) -> tuple[str, tuple[str, ...]]:
    """The model's columns as a select list on table ``alias``, and their field names."""
    fields = model._meta.concrete_fields
    select = ", ".join(f'{alias}."{field.column}"' for field in fields)
    return select, tuple(field.attname for field in fields)


@cache
def _converters(model: type[Model]) -> tuple[Any, ...]:
    return tuple(getattr(field, "from_db_value", None) for field in model._meta.concrete_fields)


def instance(model: type[Model], alias: str, values: Sequence[Any]) -> Model:
    """A model instance from a row that starts with ``columns(model, alias)``; values are
    converted as the ORM converts them (JSON text is parsed)."""
    _, names = columns(model, alias)
    converted = [
        value if convert is None or value is None else convert(value, None, connection)
        for convert, value in zip(_converters(model), values, strict=False)
    ]
    return model.from_db(connection.alias, names, converted)

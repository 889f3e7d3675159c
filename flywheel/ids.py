"""Object ids as the API takes them: positive and below 2^63, PostgreSQL's bigint.

A larger id in a path, a query or a body cannot name a row, and reaching the database it raises
an overflow (a 500); a non-ASCII digit such as ``²`` passes ``str.isdigit`` but not ``int``.
Paths are checked once by ``flywheel.middleware.PathIdRangeMiddleware``; bodies by
``IdField``; queries by ``query_id``.
"""

from __future__ import annotations

from rest_framework import serializers

from .errors import ApplicationError

MAX_ID = 2**63 - 1


def IdField(**kwargs) -> serializers.IntegerField:  # noqa: N802 - a field, named like one
    """An id in a request body: an integer from 1 to ``MAX_ID``."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def query_id(params, name: str) -> int | None:
    """The id in query parameter ``name``, None when absent or empty; a 400 naming it when it
    is not ASCII digits of an id."""
    value = params.get(name, "")
    if value == "":
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
        raise ApplicationError(f"Must be an id (an integer from 1 to {MAX_ID}).", field=name)
    return int(value)

"""PostgreSQL down or restarting: a 503 the client can retry, not a 500 page.

While the database restarts or fails over, every query raises ``OperationalError`` or
``InterfaceError`` ("connection refused", "server closed the connection unexpectedly", "the
database system is starting up"). Left alone they become 500s; this middleware answers
``503 {"code": "database_unavailable"}`` with ``Retry-After`` instead, in the API's error shape
under ``/api/`` (plain text elsewhere). A retry is safe: each write is one transaction, so a
request that failed committed all of its rows or none, and a submit retried with the same
``Idempotency-Key`` returns the first result if the first attempt did commit
(tests/faults/test_postgres_restart.py).

Only exceptions raised inside a view reach ``process_exception``; nothing on the API's path
touches the database outside a view (token and session authentication run in DRF's view).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from .errors import error_response

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # OperationalError also covers a deadlock or a cancelled statement: transient too, and
        # "try again" is the right answer to them as well.
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, exception)
        response = error_response(
            request,
            "The database could not answer (it may be restarting); try again in a few seconds.",
            code="database_unavailable",
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

"""Request-size limit: a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused with 413
before anything reads it.

Django enforces that setting only when ``request.body`` or form data is read; DRF's parsers read
the raw stream, so without this a JSON or JSON Lines import of any size would be parsed in
memory. WSGI servers (gunicorn) give the app at most Content-Length bytes of body, and none
without one, so checking the header is enough.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse

from .errors import error_response
from .ids import MAX_ID


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(
        request,
        f"The request body is larger than the {limit} bytes this server accepts; "
        "split the import into smaller batches.",
        code="request_too_large",
        status=413,
    )


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _content_length(request) > limit:
            return too_large(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Django's own size checks (multipart form fields) raised inside a view."""
        if isinstance(exception, RequestDataTooBig):
            return too_large(request)
        if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            return error_response(request, str(exception), code="too_many_fields", status=400)
        return None


class PathIdRangeMiddleware:
    """An id in the URL path (``<int:project_id>``) above PostgreSQL's bigint names no row: a
    404 naming the parameter, before the view's lookup would overflow (issue 18)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        for name, value in view_kwargs.items():
            if isinstance(value, int) and value > MAX_ID:
                what = name.removesuffix("_id").replace("_", " ")
                return error_response(
                    request,
                    f"No such {what}.",
                    code="not_found",
                    status=404,
                    errors={name: [f"Ids are at most {MAX_ID}."]},
                )
        return None

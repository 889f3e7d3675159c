"""One error shape for the whole API, and the one application error services raise.

Every error response is ``{"detail": str, "code": str, "errors": {field_path: [message, …]}}``;
``errors`` is empty when no field is to blame. Field paths are dotted / indexed
(``rows[3].messages``, ``ranking``), so a client can point at the offending input.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A request the domain refuses. ``status`` is 400 (bad input), 404 or 409 (conflict)."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
        code: str = "invalid",
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})
        if field is not None:
            self.errors.setdefault(field, []).append(message)
        self.code = code
        self.status = status


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested ``{field: [ErrorDetail]}`` / ``[{…}, …]`` → ``{"a.b[2].c": [str]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = prefix if key in ("non_field_errors", "__all__") else _join(prefix, str(key))
            for k, v in flatten_errors(value, path).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(detail, list) and detail and all(isinstance(d, str) for d in detail):
        flat.setdefault(prefix or "non_field_errors", []).extend(str(d) for d in detail)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                for k, v in flatten_errors(value, f"{prefix}[{index}]").items():
                    flat.setdefault(k, []).extend(v)
    elif detail:
        flat.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return flat


def _join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return f"{prefix}[{key}]" if key.isdigit() else f"{prefix}.{key}"


def _summary(errors: dict[str, list[str]]) -> str:
    parts = [
        f"{path}: {msgs[0]}" if path != "non_field_errors" else msgs[0]
        for path, msgs in errors.items()
    ]
    return "; ".join(parts[:5]) + (f" (and {len(parts) - 5} more)" if len(parts) > 5 else "")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        detail = exc.message
        if exc.errors and exc.message == "Invalid input.":
            detail = _summary(exc.errors)
        return Response(
            {"detail": detail, "code": exc.code, "errors": exc.errors}, status=exc.status
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        response.data = {"detail": _summary(errors), "code": "invalid", "errors": errors}
    else:
        data = response.data if isinstance(response.data, dict) else {}
        detail = data.get("detail", str(exc))
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": code, "errors": {}}
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data["code"] = "not_authenticated"
    return response


def csrf_failure(request, reason: str = ""):
    """CSRF refusals in the API's error shape for ``/api/`` paths, Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.csrf import csrf_failure as django_csrf_failure

    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": f"CSRF Failed: {reason}", "code": "csrf_failed", "errors": {}}, status=403
        )
    return django_csrf_failure(request, reason=reason)


def error_response(
    request, detail: str, *, code: str, status: int, errors: dict[str, list[str]] | None = None
):
    """An error outside DRF's views: the API's JSON shape under ``/api/``, plain text elsewhere
    (the admin, the browser app's pages)."""
    from django.http import HttpResponse, JsonResponse

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail, "code": code, "errors": errors or {}}, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


def bad_request(request, exception=None):
    """``handler400``: e.g. a disallowed Host header or an oversized form."""
    from django.views.defaults import bad_request as django_bad_request

    if request.path.startswith("/api/"):
        return error_response(request, "Bad request.", code="bad_request", status=400)
    return django_bad_request(request, exception)


def page_not_found(request, exception=None):
    """``handler404``: an unknown ``/api/`` URL answers in the API's shape, not an HTML page."""
    from django.views.defaults import page_not_found as django_page_not_found

    if request.path.startswith("/api/"):
        return error_response(request, "Not found.", code="not_found", status=404)
    return django_page_not_found(request, exception)


def server_error(request):
    """``handler500``: the API's shape under ``/api/``, so clients can always parse an error."""
    from django.views.defaults import server_error as django_server_error

    if request.path.startswith("/api/"):
        return error_response(request, "Internal server error.", code="server_error", status=500)
    return django_server_error(request)


def sign_in_locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout answer (``AXES_LOCKOUT_CALLABLE``): 429 with ``Retry-After``."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    wait = f"Try again in {minutes} minute{'s' if minutes != 1 else ''}." if minutes else ""
    response = error_response(
        request,
        f"Too many failed sign-in attempts for this account from this address. {wait}".strip(),
        code="locked_out",
        status=429,
    )
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


T = TypeVar("T")


def found_or_404(found: T | None, what: str) -> T:
    """``found``, or the 404 that names what was looked for ("No such training run.")."""
    if found is None:
        raise Http404(f"No such {what}.")
    return found

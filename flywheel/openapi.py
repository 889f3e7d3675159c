"""OpenAPI post-processing: every operation documents the error responses it can give, in the
one error shape of ``flywheel.errors``, so that the schema states what the server really answers
(checked by the schemathesis run in ``tests/security/test_api_fuzz.py``)."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a summary, a machine code, and messages per input field.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": 'Field path → messages, e.g. {"rows[3].messages": ["…"]}.',
        },
    },
    "required": ["detail", "code", "errors"],
}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `errors` names the fields to blame.",
    "401": "Not signed in, or the token is unknown or revoked.",
    "403": "The caller's role may not do this (or a CSRF refusal).",
    "404": "No such object, or one the caller may not see.",
    "409": "Conflicts with the object's state (expired lease, finished run, …).",
    "413": "The request body is larger than the server accepts.",
    "415": "The request body's content type is not accepted here.",
    "429": "Too many failed sign-in attempts; see the Retry-After header.",
}

UNSAFE = {"post", "put", "patch", "delete"}


def _error_response(status: str) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def error_statuses(operation: dict[str, Any], method: str) -> list[str]:
    """The error statuses an operation can answer with, from what it takes and who may call it."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    statuses = []
    if has_body or parameters:
        statuses.append("400")
    if operation.get("security"):
        statuses += ["401", "403"]
    elif method in UNSAFE:
        # The unauthenticated writes are the sign-in endpoints: a CSRF refusal of a session
        # sign-in (403) and the django-axes lockout after repeated failures (429).
        statuses += ["403", "429"]
    if any(p["in"] == "path" for p in parameters):
        statuses.append("404")
    if method in UNSAFE:
        statuses += ["409", "413", "415"]
    return statuses


def document_errors(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: add the ``Error`` component and the error
    responses of each operation, leaving any response a view documents itself untouched."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in error_statuses(operation, method):
                responses.setdefault(status, _error_response(status))
    return result

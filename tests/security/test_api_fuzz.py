"""Schemathesis against ``/api/v1/schema/``: every operation in the OpenAPI document, called
with an admin token and with an annotator token, on a populated project. Cases come from the
schema (valid and invalid bodies, query and path parameters); a path id that the schema allows
is replaced by an object that exists, so the calls get past the 404 to the code behind it.

Checks, on every response:
- ``not_a_server_error``: no 5xx, whatever the input;
- ``status_code_conformance``: the status is one the schema documents for the operation
  (errors are documented by ``flywheel.openapi.document_errors``);
- ``content_type_conformance`` and ``response_headers_conformance``;
- ``response_schema_conformance``: the body validates against the documented schema.

Nothing is excluded. Left out on purpose are schemathesis' input-strictness checks
(``negative_data_rejection`` / ``positive_data_acceptance``): DRF's limit/offset paginator
ignores a malformed ``limit`` by design, and the bulk-import bodies are validated row by row
beyond what their JSON schema states, so those checks would report design choices, not bugs.
The streamed exports (``/export/``) run like every other operation: their bodies are JSON
Lines or Parquet, which schemathesis checks for status and content type only; the rows'
shape is pinned by tests/annotation/test_exports.py.

Bounded for CI: the coverage phase (admin) plus ``FLYWHEEL_FUZZ_EXAMPLES`` random examples per
operation and role (default 10), derandomized so that a run is reproducible. For a deeper
search locally: ``FLYWHEEL_FUZZ_EXAMPLES=200 FLYWHEEL_FUZZ_RANDOM=1``.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from annotation.services.users import token_for

MAX_EXAMPLES = int(os.environ.get("FLYWHEEL_FUZZ_EXAMPLES", "10"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]
# JSON Lines import bodies are text on the wire.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


def load_schema(*, coverage: bool):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
    schema.config.phases.coverage.enabled = coverage
    # Methods an operation does not declare are Django's / DRF's 405, not this API's contract.
    schema.config.phases.coverage.unexpected_methods = set()
    return schema


# As admin every operation gets past the role check, so the admin run adds schemathesis'
# coverage phase (every boundary and every kind of invalid value the schema implies, once)
# to the random examples; as annotator most operations stop at 403, so random examples do.
admin_schema = load_schema(coverage=True)
annotator_schema = load_schema(coverage=False)
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("FLYWHEEL_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=list(HealthCheck),
)


def call_as(case, world, user) -> None:
    ids = world.ids()
    for name, value in list((case.path_parameters or {}).items()):
        if name in ids and str(value).isdigit():  # a valid id (int, or digits from coverage)
            case.path_parameters[name] = ids[name]
    # token_for issues a new token where an earlier case revoked it (/auth/token/revoke/).
    token = token_for(user=user)
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@admin_schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_admin_answers_every_input_within_its_schema(
    case, module_world, db, in_process_wsgi
):
    call_as(case, module_world, module_world.users["admin"])


@annotator_schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_annotator_answers_every_input_within_its_schema(
    case, module_world, db, in_process_wsgi
):
    call_as(case, module_world, module_world.users["annotator"])


@pytest.mark.parametrize(
    "query", [f"limit={10**30}", f"offset={10**30}", f"limit=1&offset={2**63}", "limit=-1&offset=x"]
)
def test_every_paginated_list_takes_extreme_paging_without_a_server_error(module_world, db, query):
    """Regression: a limit past PostgreSQL's bigint range was a 500 (found by a deep run)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=module_world.users['admin'])}")
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    lists = [
        path.format(**module_world.ids())
        for path, operations in schema["paths"].items()
        if any(p["name"] == "limit" for p in operations.get("get", {}).get("parameters", []))
    ]
    assert len(lists) >= 8
    for path in lists:
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, response.content[:200])
        assert len(response.json()["results"]) <= 1000


def test_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/v1/projects/not-a-number/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found", "errors": {}}


def test_json_lines_body_outside_the_imports_is_415(admin_client):
    response = admin_client.post(
        "/api/v1/projects/", '{"name": "P", "k": 2}', content_type="application/x-ndjson"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"

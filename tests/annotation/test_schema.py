"""The OpenAPI document validates and lists every API route Django serves."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def api_routes() -> set[str]:
    """Every `/api/v1/...` URL pattern except the schema and docs themselves."""
    routes = set()

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                routes.add("/" + prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "")
    api = {r for r in routes if r.startswith("/api/v1/")}
    return {
        r.replace("<int:", "{").replace(">", "}")
        for r in api - {"/api/v1/schema/", "/api/v1/docs/"}
    }


def test_schema_is_valid_openapi_3_and_lists_every_endpoint(admin_client):
    response = admin_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate(schema)
    assert set(schema["paths"]) == api_routes()
    submit = schema["paths"]["/api/v1/assignments/{assignment_id}/submit/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in submit["parameters"])
    next_task = schema["paths"]["/api/v1/projects/{project_id}/next-task/"]["post"]
    assert {"200", "204"} <= set(next_task["responses"])


def test_swagger_ui_is_served_without_a_cdn(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page

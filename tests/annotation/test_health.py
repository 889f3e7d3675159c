"""The liveness endpoint: open to anyone, and never touches the database."""

import pytest


@pytest.mark.django_db
def test_health_answers_anonymous_callers_without_a_database_query(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_health_ignores_a_bad_token_rather_than_refusing(client):
    response = client.get("/api/v1/health/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 200


def test_favicon_is_served_to_anonymous_browsers(client):
    """Browsers ask for /favicon.ico on every page without a <link rel="icon"> (the API docs,
    the admin, JSON): it was a 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # an ICO file

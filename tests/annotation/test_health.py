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

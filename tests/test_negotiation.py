"""``flywheel.negotiation``: API clients' usual Accept headers get DRF's answer directly; every
other request still goes through DRF's negotiation (the browsable API, ``?format=``, media-type
parameters, 406)."""

import pytest

pytestmark = pytest.mark.django_db

HEALTH = "/api/v1/health/"


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_usual_api_clients_get_json(client, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = client.get(HEALTH, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_a_browser_gets_the_browsable_api(client):
    response = client.get(HEALTH, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_the_format_parameter_still_chooses(client):
    response = client.get(HEALTH + "?format=api", HTTP_ACCEPT="*/*")
    assert response["Content-Type"].startswith("text/html")


def test_media_type_parameters_still_apply(client):
    response = client.get(HEALTH, HTTP_ACCEPT="application/json; indent=4")
    assert response.content.decode() == '{\n    "status": "ok"\n}'


def test_an_unacceptable_type_is_406(client):
    response = client.get(HEALTH, HTTP_ACCEPT="application/xml")
    assert response.status_code == 406

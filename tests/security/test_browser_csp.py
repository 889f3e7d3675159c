"""The Content-Security-Policy in a real browser: the browser app, Swagger UI and the Django
admin all work under it with no violation reported, and a script injected into a page does not
run."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from annotation.services.projects import project_create
from annotation.services.users import user_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

INJECT_INLINE_SCRIPT = """() => {
    const script = document.createElement("script");
    script.textContent = "window.__xss = 1";
    document.body.appendChild(script);
}"""


def test_browser_app_signs_in_under_the_csp_and_injected_script_is_blocked(
    live_server, watched_page
):
    user_create(username="ann", password=PASSWORD, role="annotator")
    page = watched_page.page
    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in-as")).to_be_visible()
    assert watched_page.csp_violations == [] and watched_page.page_errors == []

    page.evaluate(INJECT_INLINE_SCRIPT)
    assert not watched_page.injected_script_ran()
    assert any("script-src" in v for v in watched_page.csp_violations)


def test_swagger_ui_renders_every_operation_under_the_csp(live_server, watched_page):
    page = watched_page.page
    page.goto(live_server.url + "/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Flywheel API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert page.locator(".swagger-ui .opblock").count() >= 40
    page.locator(".swagger-ui .opblock-summary").first.click()  # Swagger UI's own script
    expect(page.locator(".swagger-ui .opblock-body").first).to_be_visible()
    assert watched_page.csp_violations == [] and watched_page.page_errors == []


def test_django_admin_works_under_the_csp(live_server, watched_page):
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    for name in ("Alpha", "Beta"):
        project_create(name=name, k=2)
    page = watched_page.page
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")

    page.goto(live_server.url + "/admin/annotation/project/")
    page.check("#action-toggle")  # admin/js/actions.js selects every row
    expect(page.locator("input.action-select:checked")).to_have_count(2)

    page.goto(live_server.url + "/admin/annotation/project/add/")
    page.locator("#id_name").press_sequentially("Hello World")  # prepopulate.js: the slug
    expect(page.locator("#id_slug")).to_have_value("hello-world")
    assert watched_page.csp_violations == [] and watched_page.page_errors == []

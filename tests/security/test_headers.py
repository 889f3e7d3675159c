"""Security headers on every kind of page (browser app, API, Swagger UI, admin), HSTS and the
HTTPS redirect under production settings, and ``manage.py check --deploy`` clean with the
production environment (and not clean without it, so the check is known to bite)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from annotation.enums import Role

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
PAGES = ["/", "/api/v1/me/", "/api/v1/docs/", "/admin/login/", "/api/v1/no-such-endpoint/"]


def csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]


def test_only_the_docs_page_allows_inline_style(client):
    assert "'unsafe-inline'" not in csp(client.get("/"))["style-src"]
    assert "'unsafe-inline'" not in csp(client.get("/admin/login/"))["style-src"]
    assert csp(client.get("/api/v1/docs/"))["style-src"] == ["'self'", "'unsafe-inline'"]


def test_the_policy_built_once_is_the_one_django_csp_builds(client):
    """``flywheel.security_headers`` builds the header once (issue #7); it must be exactly what
    django-csp builds from the settings on each response."""
    from csp.utils import build_policy

    for path in PAGES:
        if path != "/api/v1/docs/":  # the one page that adjusts the policy
            assert client.get(path)["Content-Security-Policy"] == build_policy()


def test_a_changed_policy_setting_takes_effect(client, settings):
    assert "report-uri" not in client.get("/api/v1/health/")["Content-Security-Policy"]
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**policy["DIRECTIVES"], "report-uri": "/csp-reports/"}
    }
    assert "report-uri /csp-reports/" in client.get("/api/v1/health/")["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    response = client.get("/api/v1/health/")
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'none'"


def test_a_nonce_used_by_a_response_is_in_its_policy(rf, settings):
    """Flywheel's policy uses no nonce; a policy that does still gets each response's own."""
    from csp.constants import NONCE
    from django.http import HttpResponse

    from flywheel.security_headers import CSPMiddleware

    def view(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**directives, "script-src": ["'self'", NONCE]}
    }
    middleware = CSPMiddleware(view)
    request = rf.get("/")
    response = middleware(request)
    assert f"'nonce-{request._csp_nonce}'" in response["Content-Security-Policy"]
    other = rf.get("/")
    policy = middleware(other)["Content-Security-Policy"]
    assert f"'nonce-{other._csp_nonce}'" in policy
    assert other._csp_nonce != request._csp_nonce


def inline_scripts(html: str) -> list[str]:
    """<script> elements with a body and no src: what script-src 'self' blocks."""
    return [
        body
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        if "src=" not in attrs and body.strip() and "application/json" not in attrs
    ]


@pytest.mark.parametrize("path", ["/", "/api/v1/docs/", "/admin/login/", "/admin/"])
def test_pages_have_no_inline_script_for_the_policy_to_block(make_user, path):
    client = Client()
    if path == "/admin/":
        client.force_login(make_user(Role.ADMIN))
    response = client.get(path)
    assert response.status_code == 200
    html = b"".join(response).decode() if response.streaming else response.content.decode()
    assert inline_scripts(html) == []


def test_swagger_ui_init_script_is_served_as_a_file(client):
    page = client.get("/api/v1/docs/").content.decode()
    sources = re.findall(r'<script src="([^"]+)"', page)
    init = next(src for src in sources if "script" in src.split("?")[-1])
    response = client.get(init.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


def test_hsts_and_https_redirect_under_production_settings(settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    client = Client()  # built after the override: its SecurityMiddleware reads the new values
    plain = client.get("/api/v1/me/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get("/api/v1/me/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_no_hsts_over_plain_http_in_development(client):
    assert "Strict-Transport-Security" not in client.get("/")


def production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FLYWHEEL_ALLOW_INSECURE_KEY"}
    env.pop("FLYWHEEL_DEBUG", None)
    return env | {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "flywheel.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://flywheel.example.org",
        "FLYWHEEL_HTTPS": "1",
        "FLYWHEEL_HSTS_SECONDS": "31536000",
        "FLYWHEEL_HSTS_INCLUDE_SUBDOMAINS": "1",
        "FLYWHEEL_HSTS_PRELOAD": "1",
    }


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = check_deploy(production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_the_production_settings():
    env = production_env()
    for name in ("FLYWHEEL_HTTPS", "FLYWHEEL_HSTS_SECONDS"):
        env.pop(name)
    result = check_deploy(env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    env.pop("SECRET_KEY")
    result = check_deploy(env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr

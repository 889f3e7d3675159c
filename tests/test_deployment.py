"""What the deployment files promise: the Docker image holds every Django app the settings
install, and the web server that the image, docker-compose and ``make demo`` start
(``gunicorn.conf.py``) serves keep-alive connections with threaded workers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from django.conf import settings

from tests.faults.private_servers import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_the_docker_image_copies_every_local_app_the_settings_install():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", dockerfile, flags=re.MULTILINE))
    local_apps = {app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()}
    assert local_apps, "no local app found: the test would pass for nothing"
    assert local_apps <= copied, f"not copied into the image: {sorted(local_apps - copied)}"
    assert re.search(r"^COPY manage\.py gunicorn\.conf\.py \./$", dockerfile, re.MULTILINE)


def test_docker_compose_starts_gunicorn_with_the_shared_config():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["web"]["command"] == ["gunicorn", "flywheel.wsgi"]


def test_gunicorn_conf_serves_keep_alive_connections_from_threaded_workers():
    """gunicorn started as the image starts it (no flags; the config file and the environment
    only) keeps a connection open across requests, which a sync worker never does."""
    port = free_port()
    env = os.environ | {
        "FLYWHEEL_BIND": f"127.0.0.1:{port}",
        "FLYWHEEL_WEB_WORKERS": "1",
        "FLYWHEEL_WEB_THREADS": "2",
        "DJANGO_SETTINGS_MODULE": "flywheel.settings",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "flywheel.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    first = client.get("/api/v1/health/")
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.stderr.read()
                    assert time.monotonic() < deadline, "gunicorn did not answer in 60 s"
                    time.sleep(0.2)
            second = client.get("/api/v1/health/")
        assert first.status_code == second.status_code == 200
        assert first.headers.get("connection", "").lower() != "close"
        assert second.extensions["network_stream"] is first.extensions["network_stream"]
    finally:
        server.terminate()
        stderr = server.communicate(timeout=30)[1]
    assert "Using worker: gthread" in stderr, stderr

"""The client is its own distribution (``client/pyproject.toml``): it builds into a wheel that
depends on httpx alone, and imports, from that wheel, where Django, torch and the server's
packages cannot be imported."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "client"
SERVER_ONLY = ("django", "rest_framework", "torch", "transformers", "trl", "celery")

# Run by a Python whose imports of the server's stack fail, from outside the tree.
PROBE = f"""
import importlib.abc, json, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_ONLY!r} + ("flywheel", "annotation", "training"):
            raise ImportError("the client must not import " + name)

sys.meta_path.insert(0, Refuse())
import flywheel_client, flywheel_client.client, flywheel_client.types
from pathlib import Path
print(json.dumps({{
    "file": flywheel_client.__file__,
    "typed": (Path(flywheel_client.__file__).parent / "py.typed").is_file(),
    "loaded": sorted({{m.split(".")[0] for m in sys.modules}}),
}}))
"""


def test_the_client_depends_on_httpx_alone_and_never_on_torch_or_django():
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == ["httpx==0.28.1"]
    extras = [req for reqs in project["optional-dependencies"].values() for req in reqs]
    assert all("==" in req for req in project["dependencies"] + extras), "pin every version"
    named = {req.split("==")[0].split("[")[0].lower() for req in extras}
    assert named == {"datasets", "tqdm"}


def test_the_wheel_installs_and_imports_without_the_servers_packages(tmp_path):
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*build, "-q", "-w", str(wheels), str(CLIENT)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = wheels.glob("flywheel_client-0.1.0-*.whl")
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site)]
    done = subprocess.run([*install, str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    probe = json.loads(done.stdout)
    assert probe["file"].startswith(str(site)) and probe["typed"]
    assert not set(probe["loaded"]) & set(SERVER_ONLY)

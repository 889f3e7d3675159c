"""The wheel holds every package of the source tree and the files they read at run time (issue
15): built from a copy of the tree, installed with ``--no-deps`` into a new virtual environment
that sees the development environment's third-party packages but not the source tree, it sets up
Django, loads every migration (0005 reads ``annotation/sql/next_task.sql``) and passes
``manage.py check``, each module coming from the wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Every top-level package of the tree; tests/ is not shipped.
PACKAGES = sorted(
    path.name
    for path in ROOT.iterdir()
    if (path / "__init__.py").is_file() and path.name != "tests"
)
# What an installed app reads besides its modules (pyproject's package-data).
DATA_FILES = ("annotation/sql/next_task.sql", "annotation/fixtures/demo_candidate_sets.jsonl")

# Run by the new environment's Python from a directory outside the tree: where each package,
# migration and data file was found, and whether the tree is on sys.path.
PROBE = """
import importlib, json, sys
from pathlib import Path

import django

django.setup()
from django.db.migrations.loader import MigrationLoader

loader = MigrationLoader(None, ignore_no_migrations=True)
packages = sys.argv[1].split(",")
print(json.dumps({
    "modules": {name: importlib.import_module(name).__file__ for name in packages},
    "migration": sys.modules[
        type(loader.disk_migrations["annotation", "0005_next_task_function"]).__module__
    ].__file__,
    "data": {
        name: (Path(importlib.import_module(name.split("/")[0]).__file__).parent
               / name.split("/", 1)[1]).is_file()
        for name in sys.argv[2].split(",")
    },
    "sys_path": sys.path,
}))
"""


def run(command: list[str], **kwargs) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    shown = " ".join(str(part) for part in command)[:300]
    assert done.returncode == 0, f"{shown}\n{done.stdout}\n{done.stderr[-4000:]}"
    return done.stdout


def test_the_wheel_installs_every_package_with_its_data_and_passes_django_check(tmp_path):
    assert {"flywheel", "annotation", "training", "loop"} <= set(PACKAGES)
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources it builds.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "node_modules",
            "frontend",
            "var",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            "tests",
            "bench",
            "docs",
        ),  # fmt: skip
    )
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", wheels, source])
    (wheel,) = wheels.glob("flywheel-*.whl")

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(run([python, "-c", purelib]).strip())
    # Plain path lines: the development environment's packages become importable, but its own
    # .pth files (the editable install's finder, which maps the apps to the tree) do not run.
    dev_sites = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "development-packages.pth").write_text("".join(f"{path}\n" for path in dev_sites))

    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env["DJANGO_SETTINGS_MODULE"] = "flywheel.settings"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip = [python, "-m", "pip", "--disable-pip-version-check", "install", "--no-deps", "--no-index"]
    run([*pip, "--no-warn-script-location", "--quiet", wheel], cwd=elsewhere, env=env)

    probe = [python, "-c", PROBE, ",".join(PACKAGES), ",".join(DATA_FILES)]
    found = json.loads(run(probe, cwd=elsewhere, env=env))
    for name, file in found["modules"].items():
        assert Path(file).resolve().is_relative_to(site.resolve()), f"{name} from {file}"
    assert Path(found["migration"]).resolve().is_relative_to(site.resolve())
    assert found["data"] == dict.fromkeys(DATA_FILES, True)
    assert not any(entry and Path(entry).resolve() == ROOT for entry in found["sys_path"]), found[
        "sys_path"
    ]

    check = [python, "-m", "django", "check", "--settings=flywheel.settings"]
    assert "no issues" in run(check, cwd=elsewhere, env=env)

"""The README's demo flow (issue 18, item 8), below the browser: a lease given back when its
annotator leaves frees the set for the others but keeps it theirs to take again; the Loop
page's "waiting for" lists the round's open sets with who holds each and until when; and
`make simulate` without a running demo says to start it instead of a SECRET_KEY traceback."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotation.enums import Role
from loop.models import Loop

from .conftest import templated_sets

REPO = Path(__file__).resolve().parents[2]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def take(client, project) -> dict:
    response = client.post(f"/api/v1/projects/{project.pk}/next-task/")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_released_lease_frees_the_set_for_others_and_stays_the_annotators_to_take(
    client_for, make_user, make_project, make_sets
):
    project = make_project(k=3, annotations_per_set=1)
    make_sets(project, n=1)
    ann = client_for(user=make_user(Role.ANNOTATOR))
    other = client_for(Role.ANNOTATOR)
    task = take(ann, project)
    assert other.post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 204

    released = ann.post(f"/api/v1/assignments/{task['assignment']}/release/")
    assert released.status_code == 200 and released.json()["state"] == "expired"
    # Not a skip: the set can come back to them, in the order they saw it.
    again = take(ann, project)
    assert again["assignment"] == task["assignment"]
    assert [c["id"] for c in again["candidates"]] == [c["id"] for c in task["candidates"]]
    ann.post(f"/api/v1/assignments/{task['assignment']}/release/")
    assert take(other, project)["candidate_set"] == task["candidate_set"]
    # someone else's assignment is not theirs to release
    assert ann.post(f"/api/v1/assignments/{task['assignment'] + 999}/release/").status_code == 404


def test_the_loop_says_which_open_sets_its_round_waits_for_and_who_holds_them(
    client_for, make_user, tinyworld_project, tinyworld
):
    project = tinyworld_project(n=0)
    sets = templated_sets(project, tinyworld, 3)
    Loop.objects.update_or_create(project=project, defaults={"auto": True})
    annotator = make_user(Role.ANNOTATOR, username="annotator1")
    ann = client_for(user=annotator)
    first = take(ann, project)
    ann.post(
        f"/api/v1/assignments/{first['assignment']}/submit/",
        {"ranking": [[c["id"]] for c in first["candidates"]], "time_spent_seconds": 60},
        format="json",
    )
    held = take(ann, project)

    reviewer = client_for(Role.REVIEWER)
    waiting = reviewer.get(f"/api/v1/projects/{project.pk}/loop/waiting/").json()
    assert (waiting["round"], waiting["sets"], waiting["complete"]) == (0, len(sets), 1)
    assert waiting["open_sets_total"] == 2 and waiting["ready"] is False
    by_set = {s["candidate_set"]: s for s in waiting["open_sets"]}
    leases = by_set[held["candidate_set"]]["leases"]
    assert [lease["annotator"] for lease in leases] == ["annotator1"]
    assert when(leases[0]["expires_at"]) == when(held["lease_expires_at"])
    assert all(not s["leases"] for k, s in by_set.items() if k != held["candidate_set"])

    ann.post(f"/api/v1/assignments/{held['assignment']}/release/")
    waiting = reviewer.get(f"/api/v1/projects/{project.pk}/loop/waiting/").json()
    assert all(not s["leases"] for s in waiting["open_sets"])


def test_make_simulate_without_a_running_demo_says_to_start_it(tmp_path):
    env = os.environ | {"FLYWHEEL_VAR_DIR": str(tmp_path)}
    check = [sys.executable, "-m", "flywheel.local", "check"]
    stopped = subprocess.run(check, env=env, cwd=REPO, capture_output=True, text=True)
    assert stopped.returncode == 1
    assert "start `make demo` first" in stopped.stderr and "Traceback" not in stopped.stderr

    # A running demo holds var/local.lock and has written var/local.env.
    (tmp_path / "local.env").write_text("SECRET_KEY=x\n")
    with (tmp_path / "local.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert subprocess.run(check, env=env, cwd=REPO).returncode == 0
    # ... and `make simulate` asks before it runs manage.py.
    recipe = (REPO / "Makefile").read_text().split("\nsimulate:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("flywheel.local check") < recipe.index("simulate_annotators")


def test_simulate_annotators_with_no_server_says_to_start_the_demo(make_project):
    project = make_project(k=2)
    with pytest.raises(CommandError, match=r"start `make demo` first"):
        call_command("simulate_annotators", project=str(project.pk), n=1, url="http://127.0.0.1:9")

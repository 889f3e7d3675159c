"""The README's demo flow (issue 18, item 8), end to end: an annotator ranks three sets in the
browser — after the third submit the workspace shows a fourth, and holds its lease — then the
simulated annotators (what `make simulate` runs) rank the rest over HTTP, say which set they
wait for, and take it once the annotator leaves the ranking page; the beat's tick then starts
round 1 with no one pressing "Start round now". The round itself is not run (no worker)."""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Page, expect

from annotation.enums import CandidateSetState
from annotation.models import CandidateSet, Project
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create
from loop.models import Loop, LoopRound
from loop.services.triggers import loop_tick
from training.models import ModelVersion

from .support import PASSWORD, open_workspace

pytestmark = pytest.mark.django_db(transaction=True)

SETS = 6
TEXTS = ["Hello, please come in.", "What."]


def demo_project() -> Project:
    project = project_create(name="Tiny demo", k=2, annotations_per_set=1)
    candidate_sets_import(
        project=project,
        rows=[
            (
                i,
                {
                    "prompt": f"Greet guest {i}.",
                    "candidates": [{"text": "Hello, please come in."}, {"text": "What."}],
                },
            )
            for i in range(1, SETS + 1)
        ],
    )
    Project.objects.filter(pk=project.pk).update(
        current_policy=ModelVersion.objects.create(name="tw-sft", kind="sft")
    )
    Loop.objects.update_or_create(project=project, defaults={"auto": True})
    return project


def test_ranking_a_few_sets_then_simulating_starts_round_one_by_itself(
    celery_workers, live_server, page: Page
):
    user_create(username="annotator1", password=PASSWORD, role="annotator")
    project = demo_project()
    open_workspace(page, live_server.url, "annotator1", project.pk)
    for _ in range(3):
        page.keyboard.press("2")
        page.keyboard.press("k")  # response 2 up
        page.keyboard.press("Enter")
        expect(page.locator(".notice")).to_have_text("Ranking submitted.")
    expect(page.locator(".response-card").first).to_be_visible()  # a 4th set, leased

    out = io.StringIO()

    def simulate_annotators() -> None:
        try:
            call_command(
                "simulate_annotators", project=str(project.pk), n=2, url=live_server.url, stdout=out
            )
        finally:
            connections.close_all()  # the thread's own connection, or the test database stays busy

    simulate = threading.Thread(target=simulate_annotators)
    simulate.start()
    deadline = time.monotonic() + 60
    while "Waiting for 1 set" not in out.getvalue():
        assert simulate.is_alive() and time.monotonic() < deadline, out.getvalue()
        time.sleep(0.2)
    assert "annotator1 until" in out.getvalue()
    assert loop_tick() == []  # the set on the annotator's screen is part of the round

    page.get_by_role("link", name="Projects").first.click()  # leaving gives the lease back
    simulate.join(timeout=60)
    assert not simulate.is_alive(), out.getvalue()
    assert (
        CandidateSet.objects.filter(project=project, state=CandidateSetState.COMPLETE).count()
        == SETS
    )

    started = loop_tick()  # what Celery beat's loop.tasks.tick runs
    assert len(started) == 1
    assert LoopRound.objects.get(pk=started[0]).number == 1

"""A populated project for the hostile-input tests: two annotators with rankings, a reviewer, an
admin, a snapshot, a model, a training run, a generation job and a failed loop round, all made
through the real services (the run, job and round rows directly: nothing here trains)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction

from annotation.enums import Role
from annotation.exports.stream import ExportFilters
from annotation.models import Assignment, DatasetSnapshot, Project
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.rankings import Submission, ranking_submit
from annotation.services.snapshots import snapshot_create
from annotation.services.users import user_create
from loop.models import LoopRound, RoundStatus, RoundStep
from loop.services.settings import loop_for
from tests.annotation.ranking_helpers import assignment_next
from tests.conftest import PASSWORD, set_rows
from training.models import GenerationJob, ModelKind, ModelVersion, TrainingRun
from webhooks.enums import DeliveryStatus
from webhooks.models import Delivery, Webhook, WebhookEvent

_worlds = itertools.count(1)


@dataclass
class World:
    project: Project
    users: dict[str, object]
    snapshot: DatasetSnapshot
    model: ModelVersion
    run: TrainingRun
    job: GenerationJob
    loop_round: LoopRound
    webhook: Webhook
    delivery: Delivery
    leased: Assignment
    ranked: dict[str, Assignment] = field(default_factory=dict)

    def ids(self) -> dict[str, int]:
        """Path-parameter name in the OpenAPI schema → an object that exists."""
        return {
            "project_id": self.project.pk,
            "assignment_id": self.leased.pk,
            "set_id": self.leased.candidate_set_id,
            "snapshot_id": self.snapshot.pk,
            "run_id": self.run.pk,
            "job_id": self.job.pk,
            "round_id": self.loop_round.pk,
            "webhook_id": self.webhook.pk,
            "delivery_id": self.delivery.pk,
        }


def rank(assignment: Assignment, annotator) -> None:
    ranking_submit(
        assignment_id=assignment.pk,
        annotator=annotator,
        submission=Submission(ranking=[[c] for c in assignment.display_order], rationale="ok"),
    )


def build_world() -> World:
    users = {
        name: user_create(username=f"w{next(_worlds)}-{name}", password=PASSWORD, role=role)
        for name, role in [
            ("admin", Role.ADMIN),
            ("reviewer", Role.REVIEWER),
            ("annotator", Role.ANNOTATOR),
            ("other_annotator", Role.ANNOTATOR),
        ]
    }
    project = project_create(name=f"World {next(_worlds)}", k=2, annotations_per_set=2)
    candidate_sets_import(project=project, rows=set_rows(6, 2, prefix=f"w{project.pk}"))
    ranked = {}
    for name in ("annotator", "other_annotator"):
        assignment = assignment_next(project=project, annotator=users[name])
        rank(assignment, users[name])
        ranked[name] = assignment
    leased = assignment_next(project=project, annotator=users["annotator"])
    snapshot = snapshot_create(project=project, name="s", filters=ExportFilters())
    model = ModelVersion.objects.create(name="policy-0", kind=ModelKind.POLICY)
    Project.objects.filter(pk=project.pk).update(current_policy=model)
    project.refresh_from_db()
    run = TrainingRun.objects.create(kind="sft", dataset=snapshot, base_model=model)
    job = GenerationJob.objects.create(
        project=project, model_version=model, prompt_ids=[1], k=2, sampling={}
    )
    loop_round = LoopRound.objects.create(
        loop=loop_for(project),
        number=1,
        policy_kind="dpo",
        base_policy=model,
        snapshot=snapshot,
        status=RoundStatus.FAILED,
        step=RoundStep.REWARD,
        error="the reward run failed",
    )
    # a hook to a public address (documentation range, never contacted: its delivery failed)
    webhook = Webhook.objects.create(
        project=project, url="https://192.0.2.10/hook", events=["set.completed"], secret="s" * 43
    )
    event = WebhookEvent.objects.create(type="set.completed", project=project, data={"set": 1})
    delivery = Delivery.objects.create(
        event=event, webhook=webhook, status=DeliveryStatus.FAILED, attempts=1
    )
    return World(
        project=project,
        webhook=webhook,
        delivery=delivery,
        users=users,
        snapshot=snapshot,
        model=model,
        run=run,
        job=job,
        loop_round=loop_round,
        leased=leased,
        ranked=ranked,
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    """One world for a whole module, in a transaction rolled back after its last test; each
    test's own transaction nests inside it as a savepoint, so tests still see a fresh world."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def in_process_wsgi():
    """For tests that call the WSGI app directly (schemathesis, raw environs): Django would
    close the test's database connection, and with it the test transaction, at the end of each
    request; Django's own test client prevents that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def browser(django_db_setup):
    """One headless Chromium per module (Debian's, as in tests/e2e/conftest.py, whose notes on
    the asyncio loop apply here too: hence the module scope and DJANGO_ALLOW_ASYNC_UNSAFE)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class WatchedPage:
    """A page that records what must never happen: a dialog, an error from the page's
    scripts, a Content-Security-Policy violation."""

    def __init__(self, browser, *, bypass_csp: bool = False) -> None:
        self.context = browser.new_context(bypass_csp=bypass_csp)
        self.context.set_default_timeout(30_000)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.csp_violations: list[str] = []
        self.page_errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("console", self._console)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def injected_script_ran(self) -> bool:
        return bool(self.page.evaluate("() => Boolean(window.__xss)"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched_page(browser):
    page = WatchedPage(browser)
    yield page
    page.close()

"""The Django admin shows user and model text (project names and guidelines, prompt messages,
candidate texts, rationales, flags, run errors and logs, evaluation samples) escaped: every
change list and change page of every registered model, filled with an XSS corpus, has none of
the payloads' markup in its HTML, and in Chromium (with the CSP bypassed, so this tests the
escaping, not the policy) no dialog opens and no injected script runs."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from annotation.enums import Role
from annotation.exports.stream import ExportFilters
from annotation.models import Prompt
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.rankings import Submission, ranking_submit
from annotation.services.snapshots import snapshot_create
from annotation.services.users import user_create
from loop.models import LoopRound, RoundStatus
from loop.services.settings import loop_for
from tests.annotation.ranking_helpers import assignment_next
from tests.conftest import PASSWORD
from training.models import (
    GenerationJob,
    MergeJob,
    ModelKind,
    ModelVersion,
    RunMetric,
    TrainingRun,
)

from .conftest import WatchedPage

# Payloads for HTML contexts (element text, attribute values, <textarea>, <title>, JSON shown
# in a form field), each setting window.__xss if it ever runs. MARKERS are the fragments that
# can only appear in a page if a payload went out unescaped.
PAYLOADS = [
    "<script>window.__xss=1;alert(1)</script>",
    "<img src=x onerror=window.__xss=1;alert(2)>",
    '"><svg onload=window.__xss=1;alert(3)>',
    "'><iframe src=javascript:window.__xss=1;alert(4)>",
    "</textarea><script>window.__xss=1;alert(5)</script>",
    "</title><script>window.__xss=1;alert(6)</script>",
    "</script><script>window.__xss=1;alert(7)</script>",
    '<a href="javascript:window.__xss=1;alert(8)">link</a>',
    "<details open ontoggle=window.__xss=1;alert(9)>",
]
MARKERS = [
    "<script>window.__xss",
    "<img src=x onerror",
    "<svg onload",
    "<iframe src=javascript",
    '<a href="javascript',
    "<details open ontoggle",
]
EVIL = "\n".join(PAYLOADS)


def evil(i: int) -> str:
    """One payload by index (short enough to survive the admin's truncated __str__ values)."""
    return PAYLOADS[i % len(PAYLOADS)]


def build_xss_world():
    """Every model the admin shows, each text field holding payloads; returns the admin user."""
    # A superuser sees every registered model (the admin role's permissions cover the
    # annotation and training apps only).
    staff = get_user_model().objects.create_superuser("root", password=PASSWORD)
    annotator = user_create(username="ann", password=PASSWORD, role=Role.ANNOTATOR)
    get_user_model().objects.filter(pk=annotator.pk).update(first_name=evil(1), last_name=evil(2))
    project = project_create(
        name=evil(0),
        k=2,
        guidelines=EVIL,
        criteria={"flags": [evil(1)], "ratings": [{"name": evil(2), "min": 1, "max": 5}]},
    )
    candidate_sets_import(
        project=project,
        rows=[
            (
                1,
                {
                    "messages": [
                        {"role": "system", "content": evil(3)},
                        {"role": "user", "content": evil(0) + EVIL},
                    ],
                    "candidates": [
                        {"text": evil(4) + EVIL, "model": evil(5)},
                        {"text": evil(6), "model": evil(7)},
                    ],
                    "external_id": evil(8),
                    "source": evil(2),
                    "metadata": {evil(1): evil(3)},
                },
            )
        ],
    )
    assignment = assignment_next(project=project, annotator=annotator)
    first, second = assignment.display_order
    ranking_submit(
        assignment_id=assignment.pk,
        annotator=annotator,
        submission=Submission(
            ranking=[[first], [second]],
            rationale=EVIL,
            flags={str(first): [evil(1)]},
            interaction={evil(5): 1},
        ),
        idempotency_key=evil(4),
    )
    snapshot = snapshot_create(project=project, name=evil(6), filters=ExportFilters())
    model = ModelVersion.objects.create(
        name=evil(7), kind=ModelKind.POLICY, storage_path=evil(3), metadata={"note": EVIL}
    )
    run = TrainingRun.objects.create(
        kind="dpo",
        dataset=snapshot,
        base_model=model,
        config={"note": evil(0)},
        error=EVIL,
        log_tail=EVIL,
    )
    RunMetric.objects.create(run=run, step=1, values={evil(2): 0.5})
    GenerationJob.objects.create(
        project=project,
        model_version=model,
        prompt_ids=[Prompt.objects.get().pk],
        k=2,
        sampling={"note": evil(4)},
        error=EVIL,
    )
    lora = ModelVersion.objects.create(
        name=evil(8), kind=ModelKind.POLICY, storage_path=evil(0), parent=model, adapter_base=model
    )
    MergeJob.objects.create(adapter=lora, name=evil(5), error=EVIL, log_tail=EVIL)
    LoopRound.objects.create(
        loop=loop_for(project),
        number=1,
        policy_kind="dpo",
        base_policy=model,
        status=RoundStatus.FAILED,
        error=EVIL,
        evaluation={"samples": [{"text": evil(0)}], "note": evil(5)},
    )
    return staff


@pytest.fixture
def xss_world(db):
    return build_xss_world()


def admin_pages() -> list[str]:
    """The change list and the first object's change page of every registered model, plus a
    search that reflects a payload back into the page."""
    pages = []
    for model in admin.site._registry:
        meta = model._meta
        base = f"admin:{meta.app_label}_{meta.model_name}"
        pages.append(reverse(f"{base}_changelist"))
        obj = model.objects.order_by("pk").first()
        if obj is not None:
            pages.append(reverse(f"{base}_change", args=[obj.pk]))
        if admin.site._registry[model].search_fields:
            pages.append(reverse(f"{base}_changelist") + "?q=%3Cscript%3Ewindow.__xss%3D1")
    return pages


@pytest.mark.django_db
def test_every_admin_page_shows_the_payloads_escaped(xss_world):
    client = Client()
    client.force_login(xss_world)
    pages = admin_pages()
    assert len(pages) >= 2 * 15  # every model of annotation, training, loop and auth
    shown = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for marker in MARKERS:
            assert marker not in html, (url, marker)
        shown += html.count("&lt;script&gt;window.__xss")
    assert shown > 20  # the payloads are on the pages, as text


@pytest.mark.django_db(transaction=True)
def test_admin_pages_open_no_dialog_and_run_no_payload_in_chromium(live_server, browser):
    staff = build_xss_world()
    watched = WatchedPage(browser, bypass_csp=True)
    page = watched.page
    try:
        page.goto(live_server.url + "/admin/login/")
        page.fill("#id_username", staff.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(live_server.url + "/admin/")
        for url in admin_pages():
            page.goto(live_server.url + url)
            assert page.locator("#content").count() == 1, url
            assert not watched.injected_script_ran(), url
        assert watched.dialogs == []
    finally:
        watched.close()

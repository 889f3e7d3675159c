"""Reviewer and admin pages in a real browser: the live run dashboard (start, status changes,
metric charts, cancel), the project dashboard, a set's rankings side by side with the consensus,
and creating a dataset snapshot. Everything is set up through the real services."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from annotation.exports.stream import ExportFilters
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.snapshots import snapshot_create
from annotation.services.users import user_create
from tests.annotation.ranking_helpers import rank_next
from training.models import RunMetric, TrainingRun
from training.services.registry import model_version_register

from .support import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    from training.tinyworld.model import build_tiny_model

    return build_tiny_model(
        tmp_path_factory.mktemp("tiny-model"), texts=["a tiny model", "for the dashboard"]
    )


def seeded_project(k: int = 3, sets: int = 3):
    """A project whose sets were each ranked by two annotators (so there is agreement)."""
    ann = user_create(username="ann", password=PASSWORD, role="annotator")
    bob = user_create(username="bob", password=PASSWORD, role="annotator")
    project = project_create(name="Helpfulness", k=k, annotations_per_set=2)
    candidate_sets_import(
        project=project,
        rows=[
            (
                i + 1,
                {
                    "prompt": f"Question {i}: explain **recursion**",
                    "candidates": [{"text": f"Answer {i}.{j} with `code`"} for j in range(k)],
                },
            )
            for i in range(sets)
        ],
    )
    for _ in range(2):
        rank_next(project, ann, [[0], [1], [2]])
        rank_next(project, bob, [[0, 1], [2]])
    return project, ann, bob


def test_an_admin_starts_a_run_and_sees_its_status_change(live_server, page: Page, tiny_model_dir):
    """The admin starts a DPO run in the form; it appears queued. There is no Celery worker in
    this test, so the worker's progress is simulated by updating the run's row and adding
    RunMetric rows (the run life cycle itself is tested with a real worker in tests/training).
    The page shows each status change and the new metric points without a reload; Cancel on a
    second, queued run shows it cancelled."""
    user_create(username="root", password=PASSWORD, role="admin")
    project, _, _ = seeded_project()
    snapshot = snapshot_create(project=project, name="helpful-v1", filters=ExportFilters())
    base = model_version_register(name="tiny-base", path=str(tiny_model_dir), kind="base")

    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Start a run")).to_be_visible()
    page.get_by_label("Kind").select_option("dpo")
    page.get_by_label("Dataset snapshot").select_option(str(snapshot.pk))
    page.get_by_label("Base model").select_option(str(base.pk))

    # A bad β is refused by the API; its message shows next to the field.
    page.get_by_label("β (KL strength)").fill("-1")
    page.get_by_role("button", name="Start run").click()
    expect(page.locator("#run-beta")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-config-beta")).not_to_be_empty()
    assert not TrainingRun.objects.exists()

    page.get_by_label("β (KL strength)").fill("0.1")
    page.get_by_label("Max steps").fill("10")
    page.get_by_role("button", name="Start run").click()
    expect(page.get_by_role("status").filter(has_text="queued")).to_be_visible()
    run = TrainingRun.objects.get()
    assert run.kind == "dpo" and run.config["beta"] == 0.1 and run.config["max_steps"] == 10
    row = page.locator(f'tr[data-run-id="{run.pk}"]')
    expect(row.locator(".status")).to_have_text("queued")

    row.get_by_role("link", name=f"Run #{run.pk}").click()
    status = page.locator("#run-status")
    expect(status).to_have_text("queued")
    expect(page.get_by_text("No metrics logged yet.")).to_be_visible()

    # The "worker" picks it up and logs metrics.
    TrainingRun.objects.filter(pk=run.pk).update(status="running", step=3, total_steps=10)
    expect(status).to_have_text("running")
    expect(page.locator("#run-progress-text")).to_have_text("Step 3 of 10 (30%)")
    for step, loss, margin, kl in [
        (1, 0.69, 0.0, 0.0),
        (2, 0.61, 0.12, 0.01),
        (3, 0.52, 0.31, 0.02),
    ]:
        RunMetric.objects.create(
            run=run, step=step, values={"loss": loss, "rewards/margins": margin, "kl": kl}
        )
    loss_chart = page.locator('.metric-chart[data-metric="loss"]')
    expect(loss_chart).to_have_attribute("data-points", "3")
    expect(loss_chart.locator("circle.point")).to_have_count(3)
    expect(page.locator('.metric-chart[data-metric="rewards/margins"] circle.point')).to_have_count(
        3
    )
    expect(page.locator('.metric-chart[data-metric="kl"]')).to_be_visible()

    RunMetric.objects.create(
        run=run, step=4, values={"loss": 0.47, "rewards/margins": 0.4, "kl": 0.03}
    )
    TrainingRun.objects.filter(pk=run.pk).update(step=10)
    expect(loss_chart.locator("circle.point")).to_have_count(4)
    expect(loss_chart.locator("path.series")).to_have_count(1)

    TrainingRun.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
    expect(status).to_have_text("succeeded")
    expect(page.get_by_role("button", name="Cancel run")).to_be_disabled()
    expect(page.locator("#run-progress-text")).to_have_text("Step 10 of 10 (100%)")
    if os.environ.get("FLYWHEEL_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / "run-dashboard.png"), full_page=True)

    # A second run, cancelled while queued.
    page.get_by_role("link", name="Training runs").click()
    page.get_by_label("Kind").select_option("sft")
    page.get_by_label("Dataset snapshot").select_option(str(snapshot.pk))
    page.get_by_label("Base model").select_option(str(base.pk))
    page.get_by_role("button", name="Start run").click()
    expect(page.get_by_role("status").filter(has_text="queued")).to_be_visible()
    second = TrainingRun.objects.exclude(pk=run.pk).get()
    page.get_by_role("link", name=f"Run #{second.pk}").click()
    expect(page.locator("#run-status")).to_have_text("queued")
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator("#run-status")).to_have_text("cancelled")
    expect(page.get_by_text("Run cancelled.")).to_be_visible()
    second.refresh_from_db()
    assert second.status == "cancelled"

    # The lineage page lists the model with the runs that use it.
    page.get_by_role("link", name="Models").click()
    node = page.locator(f"#model-{base.pk}")
    expect(node).to_contain_text("tiny-base")
    expect(node.get_by_role("link", name=f"run #{run.pk}")).to_be_visible()


def test_the_project_dashboard_shows_what_the_api_returns(live_server, page: Page):
    user_create(username="rita", password=PASSWORD, role="reviewer")
    project, ann, _ = seeded_project()

    sign_in(page, live_server.url, "rita")
    expect(page.get_by_role("link", name="Runs")).to_be_hidden()  # admins only
    page.get_by_role("link", name="Dashboard: Helpfulness").click()
    progress = page.request.get(f"{live_server.url}/api/v1/projects/{project.pk}/progress/").json()
    annotators = page.request.get(
        f"{live_server.url}/api/v1/projects/{project.pk}/annotators/"
    ).json()

    for key in ["sets", "sets_complete", "sets_open", "rankings", "flagged"]:
        expect(page.locator(f'[data-stat="{key}"] dd')).to_have_text(str(progress[key]))
    assert progress["rankings"] == 4 and progress["sets"] == 3
    alpha = progress["agreement"]["krippendorff_alpha_ordinal"]
    expect(page.locator('[data-stat="alpha"] dd')).to_have_text(
        "–" if alpha is None else f"{alpha:.3f}"
    )
    expect(page.locator(".bar-chart rect.bar")).to_have_count(len(progress["rankings_per_day"]))

    row_data = next(r for r in annotators["results"] if r["annotator_id"] == ann.pk)
    row = page.locator(f'tr[data-annotator="{row_data["username"]}"]')
    expect(row.locator('[data-col="rankings"]')).to_have_text(str(row_data["rankings"]))
    expect(row.locator('[data-col="skipped"]')).to_have_text(str(row_data["skipped"]))
    tau = row_data["agreement_tau"]
    expect(row.locator('[data-col="agreement_tau"]')).to_have_text(
        f"{'–' if tau is None else f'{tau:.2f}'} ({row_data['agreement_sets']})"
    )
    expect(page.locator(f'.bias-chart [data-annotator="{row_data["username"]}"]')).to_be_visible()


def test_a_reviewer_sees_each_annotators_tiers_and_the_consensus(live_server, page: Page):
    user_create(username="rita", password=PASSWORD, role="reviewer")
    project, _, _ = seeded_project()

    sign_in(page, live_server.url, "rita")
    page.get_by_role("link", name="Sets: Helpfulness").click()
    ranked = page.locator("tr[data-set-id]").filter(
        has=page.locator("td:nth-child(5)", has_text="2")
    )
    ranked.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Rankings side by side")).to_be_visible()

    set_id = int(re.search(r"#/sets/(\d+)", page.url).group(1))
    detail = page.request.get(f"{live_server.url}/api/v1/candidate-sets/{set_id}/").json()
    letters = {c["id"]: chr(65 + i) for i, c in enumerate(detail["candidates"])}

    def text(tiers):
        return " > ".join(" = ".join(letters[c] for c in tier) for tier in tiers)

    assert {r["annotator"] for r in detail["rankings"]} == {"ann", "bob"}
    for ranking in detail["rankings"]:
        column = page.locator(f'[data-column="annotator-{ranking["annotator"]}"]')
        expect(column.locator(".tiers-text")).to_have_text(text(ranking["tiers"]))
    # ann put the three in order; bob tied the first two.
    expect(page.locator('[data-column="annotator-ann"] .tiers-text')).to_have_text(
        re.compile(r"^[A-C] > [A-C] > [A-C]$")
    )
    expect(page.locator('[data-column="annotator-bob"] .tiers-text')).to_have_text(
        re.compile(r"^[A-C] = [A-C] > [A-C]$")
    )
    consensus = page.locator('[data-column="consensus"]')
    expect(consensus.locator(".tiers-text")).to_have_text(text(detail["consensus"]["tiers"]))
    # The responses are rendered as sanitised markdown.
    expect(page.locator(".review-response code").first).to_be_visible()


def test_an_admin_creates_a_snapshot_and_sees_its_card(live_server, page: Page):
    user_create(username="root", password=PASSWORD, role="admin")
    project, _, _ = seeded_project()

    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="Datasets").click()
    page.get_by_label("Project").select_option(str(project.pk))
    page.get_by_label("Name (optional)").fill("helpful-v2")
    page.get_by_label("Test fraction").fill("0.2")
    page.get_by_label("Exclude QC-flagged rankings").check()
    page.get_by_role("button", name="Create snapshot").click()

    expect(page.get_by_role("heading", name="helpful-v2", level=1)).to_be_visible()
    from annotation.models import DatasetSnapshot

    snapshot = DatasetSnapshot.objects.get(name="helpful-v2")
    assert snapshot.test_fraction == 0.2
    assert snapshot.filters.get("exclude_flagged") is True
    assert page.url.endswith(f"#/datasets/{snapshot.pk}")
    card = page.locator(".dataset-card .markdown")
    expect(card).not_to_be_empty()
    first_line = next(line for line in snapshot.card.splitlines() if line.strip())
    expect(card).to_contain_text(re.sub(r"[#*_`]", "", first_line).strip()[:30])
    link = page.get_by_role("link", name="Download preference train (jsonl)")
    expect(link).to_have_attribute(
        "href", f"/api/v1/datasets/{snapshot.pk}/export/?view=preference&split=train&fmt=jsonl"
    )
    # The link works with the session cookie alone.
    response = page.request.get(live_server.url + link.get_attribute("href"))
    assert response.status == 200

    # Back on the list, the snapshot is there.
    page.get_by_role("link", name="Dataset snapshots").click()
    expect(page.locator(f'[data-dataset-id="{snapshot.pk}"]')).to_contain_text("helpful-v2")

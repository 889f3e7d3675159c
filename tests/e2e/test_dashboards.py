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
from annotation.models import DatasetSnapshot
from annotation.services.imports import prompts_import
from annotation.services.projects import project_create
from annotation.services.snapshots import snapshot_create
from annotation.services.users import user_create
from training.models import GenerationJob, ModelVersion, RunMetric, TrainingRun
from training.services.registry import model_version_register

from .support import PASSWORD, seeded_project, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"


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

    # The form has one input per key of DPO's config, with the paper's default and its help.
    kinds = page.request.get(f"{live_server.url}/api/v1/run-kinds/").json()
    dpo_fields = next(k for k in kinds if k["kind"] == "dpo")["config_fields"]
    expect(page.locator("[data-config-field]")).to_have_count(len(dpo_fields))
    beta = page.get_by_label("beta", exact=True)
    expect(beta).to_have_attribute("type", "number")
    expect(beta).to_have_value("0.1")
    expect(beta).to_have_accessible_description(re.compile(r"^Default 0\.1\. KL strength"))
    expect(page.get_by_label("loss_type", exact=True)).to_have_value("sigmoid")
    expect(page.get_by_label("precompute_ref_log_probs", exact=True)).to_have_attribute(
        "type", "checkbox"
    )
    expect(page.get_by_label("max_steps", exact=True)).to_have_value("")  # None: no limit
    # The adapter block is a switch, off (full fine-tuning); on, its own fields show.
    expect(page.get_by_label("adapter.r", exact=True)).to_have_count(0)
    page.get_by_label("adapter", exact=True).check()
    expect(page.get_by_label("adapter.r", exact=True)).to_have_value("16")
    page.get_by_label("adapter", exact=True).uncheck()

    # A bad β is refused by the API; its message shows next to the field.
    beta.fill("-1")
    page.get_by_role("button", name="Start run").click()
    expect(beta).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#run-cfg-beta-err")).to_have_text("must be > 0")
    expect(beta).to_have_accessible_description(re.compile(r"^must be > 0 Default 0\.1"))
    assert not TrainingRun.objects.exists()

    beta.fill("0.2")
    page.get_by_label("max_steps", exact=True).fill("10")
    page.get_by_label("loss_type", exact=True).select_option("ipo")
    page.get_by_label("learning_rate", exact=True).fill("1e-6")  # the default, written anew
    with page.expect_request(
        lambda r: r.url.endswith("/api/v1/training-runs/") and r.method == "POST"
    ) as sent:
        page.get_by_role("button", name="Start run").click()
    assert sent.value.post_data_json["config"] == {"beta": 0.2, "max_steps": 10, "loss_type": "ipo"}
    expect(page.get_by_role("status").filter(has_text="queued")).to_be_visible()
    run = TrainingRun.objects.get()
    assert run.kind == "dpo" and run.config["beta"] == 0.2 and run.config["max_steps"] == 10
    assert run.config["learning_rate"] == 1e-6 and run.config["loss_type"] == "ipo"
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
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)  # finished: no cancel
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

    # The lineage page draws dataset → run ← base model, and lists the model's facts.
    page.get_by_role("link", name="Models").click()
    graph = page.locator(".lineage-graph svg")
    expect(graph.locator(f'[data-edge="dataset-{snapshot.pk}>run-{run.pk}"]')).to_have_count(1)
    expect(graph.locator(f'[data-edge="model-{base.pk}>run-{second.pk}"]')).to_have_count(1)
    run_node = graph.get_by_role("link", name=f"Run #{run.pk} · DPO succeeded", exact=True)
    expect(run_node).to_have_attribute("href", f"#/runs/{run.pk}")
    expect(run_node).to_have_accessible_description(
        re.compile(r"^trained on helpful-v1; starts from tiny-base")
    )
    node = page.locator(f"#model-{base.pk}")
    expect(node).to_contain_text("tiny-base")
    expect(node.get_by_role("link", name=f"run #{run.pk}")).to_be_visible()
    # The model's box is a link to the model, picked out in the list below.
    graph.get_by_role("link", name=f"tiny-base base model #{base.pk}").focus()
    page.keyboard.press("Enter")
    assert page.url.endswith(f"#/models/{base.pk}")
    expect(node).to_be_focused()


def test_the_project_dashboard_shows_what_the_api_returns(live_server, page: Page):
    user_create(username="rita", password=PASSWORD, role="reviewer")
    project, ann, _ = seeded_project()

    sign_in(page, live_server.url, "rita")
    expect(page.get_by_role("link", name="Runs")).to_be_hidden()  # admins only
    page.get_by_role("link", name="Dashboard: Helpfulness").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Helpfulness: dashboard")
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
    page.get_by_label("Project", exact=True).select_option(str(project.pk))
    page.get_by_label("Name (optional)").fill("helpful-v2")
    page.get_by_label("Test fraction").fill("0.2")
    page.get_by_label("Exclude QC-flagged rankings").check()
    page.get_by_role("button", name="Create snapshot").click()

    expect(page.get_by_role("heading", name="helpful-v2", level=1)).to_be_visible()
    snapshot = DatasetSnapshot.objects.get(name="helpful-v2")
    assert snapshot.test_fraction == 0.2
    assert snapshot.filters.get("exclude_flagged") is True
    assert page.url.endswith(f"#/datasets/{snapshot.pk}")
    card = page.locator(".dataset-card .markdown")
    expect(card).not_to_be_empty()
    first_line = next(line for line in snapshot.card.splitlines() if line.strip())
    expect(card).to_contain_text(re.sub(r"[#*_`]", "", first_line).strip()[:30])
    link = page.get_by_role("link", name="Download preference train.jsonl")
    expect(link).to_have_attribute(
        "href", f"/api/v1/datasets/{snapshot.pk}/export/?view=preference&split=train&fmt=jsonl"
    )
    # The link works with the session cookie alone.
    response = page.request.get(live_server.url + link.get_attribute("href"))
    assert response.status == 200

    # Back on the list, the snapshot is there.
    page.get_by_role("link", name="Dataset snapshots").click()
    expect(page.locator(f'[data-dataset-id="{snapshot.pk}"]')).to_contain_text("helpful-v2")


def test_an_admin_starts_a_generation_job_and_watches_it(live_server, page: Page, tiny_model_dir):
    """The job stays queued (no Celery worker here): its progress is simulated by updating the
    row, as the worker does; the list shows each change without a reload."""
    user_create(username="root", password=PASSWORD, role="admin")
    project = project_create(name="Fresh prompts", k=3)
    prompts = prompts_import(
        project=project, rows=[(i + 1, {"prompt": f"Describe {i}."}) for i in range(4)]
    )
    policy = model_version_register(name="tiny-policy", path=str(tiny_model_dir), kind="policy")

    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="Generation: Fresh prompts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fresh prompts: generation")
    expect(page.get_by_text("No generation jobs yet.")).to_be_visible()
    expect(page.get_by_text("K = 3")).to_be_visible()

    # Out-of-range sampling is refused by the API, shown next to its field; nothing queued.
    page.get_by_label("Model").select_option(str(policy.pk))
    page.get_by_label("Temperature").fill("9")
    page.get_by_role("button", name="Start generation").click()
    temperature = page.get_by_label("Temperature")
    expect(temperature).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#gen-err-sampling-temperature")).to_contain_text("0.01")
    assert not GenerationJob.objects.exists()

    temperature.fill("0.7")
    page.get_by_label("The first prompts").check()
    page.get_by_label("How many").fill("2")
    page.get_by_label("Seed").fill("5")
    page.get_by_role("button", name="Start generation").click()
    expect(page.get_by_role("status").filter(has_text="queued for 2 prompts")).to_be_visible()
    job = GenerationJob.objects.get()
    assert job.prompt_ids == [p.pk for p in prompts[:2]]
    assert job.model_version == policy and job.seed == 5 and job.sampling["temperature"] == 0.7

    row = page.locator(f'tr[data-job-id="{job.pk}"]')
    expect(row.locator(".status")).to_have_text("queued")
    expect(row.locator('[data-col="progress"]')).to_contain_text("waiting for a worker")
    expect(row).to_contain_text("tiny-policy")

    GenerationJob.objects.filter(pk=job.pk).update(status="running", done=1, sets_created=1)
    expect(row.locator(".status")).to_have_text("running")
    expect(row.locator('[data-col="progress"]')).to_have_text("1 of 2 prompts")
    failed = GenerationJob.objects.create(
        project=project,
        model_version=policy,
        prompt_ids=[prompts[3].pk],
        k=3,
        sampling={},
        status="failed",
        error="Traceback …\nRuntimeError: out of memory",
    )
    failed_row = page.locator(f'tr[data-job-id="{failed.pk}"]')
    expect(failed_row.locator('[data-col="error"]')).to_contain_text("out of memory")
    GenerationJob.objects.filter(pk=job.pk).update(
        status="succeeded", done=2, sets_created=1, prompts_skipped=1, finished_at=timezone.now()
    )
    expect(row.locator(".status")).to_have_text("succeeded")
    expect(row.locator('[data-col="sets_created"]')).to_have_text("1")
    expect(row.locator('[data-col="prompts_skipped"]')).to_have_text("1")
    expect(page.get_by_text("live, updates every 2 s")).to_be_hidden()


def test_long_lists_of_runs_and_snapshots_load_more_on_request(live_server, page: Page):
    user_create(username="root", password=PASSWORD, role="admin")
    project = project_create(name="Many", k=2)
    snapshots = DatasetSnapshot.objects.bulk_create(
        DatasetSnapshot(project=project, name=f"s{i}", content_hash=f"{i:064x}", card="card")
        for i in range(103)
    )
    base = ModelVersion.objects.create(name="base", kind="base")
    TrainingRun.objects.bulk_create(
        TrainingRun(
            kind="sft", dataset=snapshots[0], base_model=base, config={}, status="succeeded"
        )
        for _ in range(53)
    )

    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="Runs").click()
    expect(page.locator("tr[data-run-id]")).to_have_count(50)
    expect(page.get_by_text("Showing 50 of 53 runs.")).to_be_visible()
    page.get_by_role("button", name="Show 3 more runs").click()
    expect(page.locator("tr[data-run-id]")).to_have_count(53)
    expect(page.get_by_role("button", name=re.compile("more runs"))).to_have_count(0)
    # The form's dataset picker offers every snapshot, not a first page.
    expect(page.get_by_label("Dataset snapshot").locator("option")).to_have_count(104)

    page.get_by_role("link", name="Datasets").click()
    expect(page.locator("[data-dataset-id]")).to_have_count(100)
    page.get_by_role("button", name="Show 3 more snapshots").click()
    expect(page.locator("[data-dataset-id]")).to_have_count(103)
    expect(page.get_by_text("Showing 100 of 103")).to_have_count(0)


def test_a_reward_runs_page_shows_its_diagnostics(live_server, page: Page, tiny_model_dir):
    """A finished reward run's diagnostics, in the shape the training process and the runner
    write them (``reward_diagnostics`` + ``annotator_ceiling``): held-out accuracy beside the
    length baseline and the ceiling, the reliability table, the accuracy per topic; a metadata
    value that is markup shows as text and runs nothing."""
    from training.algorithms.diagnostics import ScoredPair, reward_diagnostics
    from training.services.diagnostics import annotator_ceiling
    from training.services.runs import training_run_create

    user_create(username="root", password=PASSWORD, role="admin")
    project, _, _ = seeded_project()
    snapshot = snapshot_create(project=project, name="helpful-v1", filters=ExportFilters())
    base = model_version_register(name="tiny-base", path=str(tiny_model_dir), kind="base")
    run = training_run_create(kind="reward", dataset=snapshot, base_model=base, config={})
    markup = '<img src=x onerror="window.__xss=1">'
    heldout = [  # 3 of 4 right; the longer response was chosen in 1 of 4
        ScoredPair(2.0, 0.0, 5, 9, prompt_id=1),
        ScoredPair(1.0, 0.0, 5, 9, prompt_id=1),
        ScoredPair(3.0, 0.0, 9, 5, prompt_id=2),
        ScoredPair(0.0, 1.0, 5, 9, prompt_id=2),
    ]
    diagnostics = reward_diagnostics(
        heldout=heldout,
        train=heldout * 2,
        train_pairs=8,
        metadata={"1": {"topic": "cats"}, "2": {"topic": markup}},
    ) | {"ceiling": annotator_ceiling(snapshot=snapshot)}
    TrainingRun.objects.filter(pk=run.pk).update(
        status="succeeded", finished_at=timezone.now(), diagnostics=diagnostics
    )

    sign_in(page, live_server.url, "root")
    page.goto(f"{live_server.url}/#/runs/{run.pk}")
    panel = page.locator("section.reward-diagnostics")
    expect(panel.get_by_role("heading", name="Reward model diagnostics")).to_be_visible()
    expect(panel.locator('[data-stat="heldout"] dd').first).to_have_text("75%")
    expect(panel.locator('[data-stat="length"] dd').first).to_have_text("25%")
    expect(panel.locator('[data-stat="ceiling"] dd').first).to_have_text("100%")
    expect(panel.locator('[data-stat="ceiling"]')).to_contain_text("agreement 100% on 2 sets")
    expect(panel.locator(".diagnostics-verdict")).to_have_text(
        "Held-out accuracy beats the length baseline."
    )
    reliability = panel.get_by_role("table", name=re.compile("Reliability"))
    expect(reliability.locator("tbody tr")).to_have_count(10)
    topics = panel.get_by_role("table", name="Held-out accuracy per topic")
    expect(topics.locator("tbody tr")).to_have_count(2)
    expect(topics.get_by_role("rowheader", name=markup, exact=True)).to_be_visible()
    expect(topics.locator("img")).to_have_count(0)
    assert page.evaluate("window.__xss") is None

"""axe-core (from frontend/node_modules) on the annotator workspace and on every reviewer/admin
page: no serious or critical violations. With FLYWHEEL_SCREENSHOTS=1 it also saves the
screenshots shown in the README."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from annotation.exports.stream import ExportFilters
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.snapshots import snapshot_create
from annotation.services.users import user_create
from training.models import GenerationJob, ModelVersion, RunMetric, TrainingRun
from training.services.registry import model_version_register
from training.services.runs import training_run_create

from .support import PASSWORD, board_tiers, open_workspace, seeded_project, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "docs" / "screenshots"

GUIDELINES = """Rank the responses **best to worst** for a careful reader.

- Correct beats fluent: check the code runs.
- Tie two responses only when you honestly cannot prefer one.
- Mark **all bad** when none answers the question.
"""

CANDIDATES = [
    """Use a set to keep the first occurrence of each item, in order:

```python
def dedupe(items):
    seen = set()
    return [x for x in items if not (x in seen or seen.add(x))]
```

This runs in **O(n)** time.""",
    """`dict.fromkeys` keeps insertion order (Python 3.7+):

```python
def dedupe(items):
    return list(dict.fromkeys(items))
```""",
    "Sort the list and drop neighbours that are equal. Note that this loses the original order.",
    "You can call `list(set(items))`, which is the shortest way, but the order is lost.",
]


def axe_violations(page: Page) -> list[dict]:
    # Evaluated through the DevTools protocol: the app's Content-Security-Policy (script-src
    # 'self') rightly refuses an injected <script> tag.
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, { resultTypes: ['violations'] })")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_workspace_has_no_serious_accessibility_violations(live_server, page: Page):
    if not AXE.exists():
        pytest.fail("frontend/node_modules/axe-core is missing: run `npm ci` in frontend/.")
    user_create(username="ann", password=PASSWORD, role="annotator")
    project = project_create(
        name="Python answers",
        k=4,
        guidelines=GUIDELINES,
        criteria={
            "flags": ["incorrect", "unsafe"],
            "ratings": [{"name": "helpfulness", "min": 1, "max": 5}],
        },
    )
    messages = [
        {"role": "user", "content": "How do I remove duplicates from a list in Python?"},
        {"role": "assistant", "content": "Do you need to keep the original order?"},
        {"role": "user", "content": "Yes, keep the order of first appearance."},
    ]
    candidate_sets_import(
        project=project,
        rows=[(1, {"messages": messages, "candidates": [{"text": t} for t in CANDIDATES]})],
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    open_workspace(page, live_server.url, "ann", project.pk)
    for key in ["4", "k", "t"]:  # a tie in the board
        page.keyboard.press(key)
    expect(page.locator(".tier.tied")).to_have_count(1)
    page.get_by_label("helpfulness of response 1").select_option("4")
    page.locator("#board-heading").focus()

    assert axe_violations(page) == []

    if os.environ.get("FLYWHEEL_SCREENSHOTS") == "1":
        # What the screen shows (not full-page: the action bar sticks to the bottom edge).
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOTS / "annotator-workspace.png")
        page.set_viewport_size({"width": 820, "height": 1180})
        page.locator(".workspace-ranking").scroll_into_view_if_needed()
        page.evaluate("() => window.scrollBy(0, -60)")
        page.screenshot(path=SCREENSHOTS / "annotator-workspace-tablet.png")
        page.set_viewport_size({"width": 1366, "height": 900})

    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert len(board_tiers(page)) == 3


def test_the_reviewer_and_admin_pages_have_no_serious_accessibility_violations(
    live_server, page: Page, tiny_model_dir
):
    """Every reviewer/admin page with data on it, as the admin sees it (the admin's pages are
    the reviewer's plus the forms), and the dashboard as a reviewer."""
    if not AXE.exists():
        pytest.fail("frontend/node_modules/axe-core is missing: run `npm ci` in frontend/.")
    user_create(username="root", password=PASSWORD, role="admin")
    user_create(username="rita", password=PASSWORD, role="reviewer")
    project, _, _ = seeded_project()
    snapshot = snapshot_create(project=project, name="helpful-v1", filters=ExportFilters())
    base = model_version_register(name="tiny-base", path=str(tiny_model_dir), kind="base")
    run = training_run_create(kind="dpo", dataset=snapshot, base_model=base, config={})
    TrainingRun.objects.filter(pk=run.pk).update(status="succeeded", step=2, total_steps=2)
    for step, loss in [(1, 0.69), (2, 0.6)]:
        RunMetric.objects.create(run=run, step=step, values={"loss": loss, "kl": 0.01 * step})
    output = model_version_register(
        name="tiny-dpo", path=str(tiny_model_dir), kind="policy", parent=base
    )
    ModelVersion.objects.filter(pk=output.pk).update(produced_by=run)
    GenerationJob.objects.create(
        project=project,
        model_version=output,
        prompt_ids=[1, 2],
        k=3,
        sampling={},
        status="failed",
        error="RuntimeError: out of memory",
    )
    set_id = project.candidate_sets.order_by("id").first().pk

    pages = {
        "dashboard": (f"#/projects/{project.pk}/dashboard", ".annotator-table"),
        "sets": (f"#/projects/{project.pk}/sets", "tr[data-set-id]"),
        "set review": (f"#/sets/{set_id}", '[data-column="consensus"]'),
        "datasets": ("#/datasets", "[data-dataset-id]"),
        "dataset card": (f"#/datasets/{snapshot.pk}", ".dataset-card .markdown"),
        "models": (f"#/models/{output.pk}", ".lineage-graph svg a"),
        "runs": ("#/runs", "[data-config-field]"),
        "run detail": (f"#/runs/{run.pk}", '.metric-chart[data-metric="loss"]'),
        "generation": (f"#/projects/{project.pk}/generate", "tr[data-job-id]"),
    }
    page.set_viewport_size({"width": 1280, "height": 900})
    found = {}
    sign_in(page, live_server.url, "root")
    for name, (hash_route, ready) in pages.items():
        page.goto(f"{live_server.url}/{hash_route}")
        expect(page.locator(ready).first).to_be_visible()
        found[name] = axe_violations(page)
    # A server refusal shown next to a field, and the reviewer's view of the dashboard.
    page.goto(f"{live_server.url}/#/runs")
    page.get_by_label("Dataset snapshot").select_option(str(snapshot.pk))
    page.get_by_label("Base model").select_option(str(base.pk))
    page.get_by_label("beta", exact=True).fill("-1")
    page.get_by_role("button", name="Start run").click()
    expect(page.locator("#run-cfg-beta-err")).to_be_visible()
    found["run form with errors"] = axe_violations(page)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, "rita")
    page.goto(f"{live_server.url}/#/projects/{project.pk}/generate")
    expect(page.locator("tr[data-job-id]")).to_be_visible()
    found["generation (reviewer)"] = axe_violations(page)

    assert {name: v for name, v in found.items() if v} == {}

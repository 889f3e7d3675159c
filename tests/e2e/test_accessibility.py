"""axe-core (from frontend/node_modules) on the annotator workspace: no serious or critical
violations. With FLYWHEEL_SCREENSHOTS=1 it also saves the screenshots shown in the README."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create

from .support import PASSWORD, board_tiers, open_workspace

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
    page.add_script_tag(path=str(AXE))
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

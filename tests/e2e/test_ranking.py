"""The annotator's ranking workspace in a real browser: a set ranked by keyboard alone, a set
ranked by drag and drop with a tie, "all bad" with a flag, a rating and a rationale, and a skip.
What is stored must be exactly what the screen showed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from annotation.enums import AssignmentState
from annotation.models import Assignment, Ranking
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create

from .support import PASSWORD, assert_tiers, card, current_set, display_order, drag, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def rows(k: int, n: int) -> list[tuple[int, dict]]:
    return [
        (
            i,
            {
                "prompt": f"Question {i}: which answer is best?",
                "candidates": [{"text": f"Answer {i}.{j}: **bold** and `code`"} for j in range(k)],
            },
        )
        for i in range(1, n + 1)
    ]


def test_rank_by_keyboard_then_by_drag_and_drop_with_a_tie(live_server, page: Page):
    user_create(username="ann", password=PASSWORD, role="annotator")
    project = project_create(name="Haiku quality", k=4, allow_ties=True)
    candidate_sets_import(project=project, rows=rows(4, 2))

    # Keyboard only: sign in, open the project, rank, submit.
    page.goto(live_server.url + "/")
    page.get_by_label("Username").focus()
    page.keyboard.type("ann")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    start = page.get_by_role("link", name="Start ranking: Haiku quality")
    start.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".response-card")).to_have_count(4)
    expect(page.get_by_text("Untouched: still in the order shown.")).to_be_visible()
    d1, d2, d3, d4 = display_order(page)
    first_set = current_set(page)

    for key in ["3", "k", "k"]:  # response 3 to the top
        page.keyboard.press(key)
    expect(card(page, 3)).to_be_focused()
    assert_tiers(page, [[d3], [d1], [d2], [d4]])
    page.keyboard.press("2")
    page.keyboard.press("t")  # tie 2 with the tier above (1)
    assert_tiers(page, [[d3], [d1, d2], [d4]])
    expect(page.locator(".live")).to_have_text(
        "Response 2 is in tier 2 of 3, tied with response 1."
    )
    page.keyboard.press("u")  # untie: 2 into its own tier below 1
    assert_tiers(page, [[d3], [d1], [d2], [d4]])
    page.keyboard.press("4")
    page.keyboard.press("Shift+ArrowUp")  # tie 4 with 2
    page.keyboard.press("1")
    page.keyboard.press("j")  # 1 below the tie of 2 and 4
    shown = assert_tiers(page, [[d3], [d2, d4], [d1]])
    page.keyboard.press("Enter")

    expect(page.locator(".notice")).to_have_text("Ranking submitted.")
    expect(page.locator(".set-info")).not_to_have_text(first_set)
    stored = Ranking.objects.get()
    assert stored.tiers == shown
    assert stored.not_rankable is False
    assert stored.interaction == {"moves": 6, "keys": 11, "drags": 0, "expanded": 0, "compared": 0}
    assert "display_order_no_interaction" not in stored.qc_flags

    # Drag and drop: 4 onto the best tier (a tie), then 3 above everything. A laptop screen,
    # where the whole board fits: the pointer drags within the viewport.
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(page.locator(".response-card")).to_have_count(4)
    d1, d2, d3, d4 = display_order(page)
    drag(page, card(page, 4), '[data-tier-index="0"]')
    assert_tiers(page, [[d1, d4], [d2], [d3]])
    expect(page.locator('[data-tier-index="0"] .tie-badge')).to_have_text("tie · 2")
    drag(page, card(page, 3), '[data-gap="0"]')
    shown = assert_tiers(page, [[d3], [d1, d4], [d2]])
    page.get_by_role("button", name=re.compile("^Submit ranking")).click()

    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    second = Ranking.objects.exclude(pk=stored.pk).get()
    assert second.tiers == shown
    assert second.interaction == {"moves": 2, "keys": 0, "drags": 2, "expanded": 0, "compared": 0}
    assert second.time_spent_seconds is not None and second.time_spent_seconds > 0


def test_skip_then_all_bad_with_a_flag_a_rating_and_a_rationale(live_server, page: Page):
    user_create(username="ann", password=PASSWORD, role="annotator")
    project = project_create(
        name="Safety",
        k=2,
        criteria={
            "flags": ["harmful", "off-topic"],
            "ratings": [{"name": "helpfulness", "min": 1, "max": 5}],
        },
        guidelines="Prefer **safe** answers.",
    )
    candidate_sets_import(project=project, rows=rows(2, 2))
    sign_in(page, live_server.url, "ann")
    page.get_by_role("link", name="Start ranking: Safety").click()
    expect(page.locator(".response-card")).to_have_count(2)
    expect(page.locator("#guidelines-body")).to_contain_text("Prefer safe answers.")
    skipped_set = current_set(page)

    page.keyboard.press("s")  # untouched: skips at once
    expect(page.locator(".notice")).to_have_text("Set skipped.")
    expect(page.locator(".set-info")).not_to_have_text(skipped_set)
    assert Assignment.objects.filter(state=AssignmentState.SKIPPED).count() == 1

    d1, d2 = display_order(page)
    page.get_by_label("All responses are bad").check()
    expect(page.get_by_text("Marked all bad: no order will be sent.")).to_be_visible()
    page.get_by_label("harmful (response 1)").check()
    page.get_by_label("helpfulness of response 2").select_option("2")
    page.get_by_label("Rationale (optional)").fill("Both answers dodge the question; 1 is unsafe.")
    page.get_by_role("button", name=re.compile("^Submit ranking")).click()

    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    stored = Ranking.objects.get()
    assert stored.not_rankable is True
    assert stored.tiers == []
    assert stored.flags == {str(d1): ["harmful"]}
    assert stored.ratings == {str(d2): {"helpfulness": 2}}
    assert stored.rationale == "Both answers dodge the question; 1 is unsafe."

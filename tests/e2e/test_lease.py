"""A lease that runs out while the annotator works: the 409 is explained and the ranking on
screen is never silently lost. When the set is still free it comes back with the ranking
carried over, and submits; when it went to someone else, the ranking stays visible."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from annotation.models import Assignment, Ranking
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create
from tests.annotation.ranking_helpers import assignment_next

from .support import PASSWORD, assert_tiers, display_order, open_workspace

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = [(1, {"prompt": "Pick one", "candidates": [{"text": f"Answer {j}"} for j in range(3)]})]


def expire_leases() -> None:
    Assignment.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def test_expired_lease_gets_the_set_back_and_submits_the_same_ranking(live_server, page: Page):
    user_create(username="ann", password=PASSWORD, role="annotator")
    project = project_create(name="Lease", k=3)
    candidate_sets_import(project=project, rows=ROWS)
    open_workspace(page, live_server.url, "ann", project.pk)
    d1, d2, d3 = display_order(page)
    page.keyboard.press("2")
    page.keyboard.press("k")
    assert_tiers(page, [[d2], [d1], [d3]])

    expire_leases()
    page.keyboard.press("Enter")
    notice = page.locator(".notice")
    expect(notice).to_contain_text("Your lease expired, but the set was still free")
    expect(notice).to_contain_text("with your ranking as you left it")
    assert_tiers(page, [[d2], [d1], [d3]])
    assert not Ranking.objects.exists()
    expect(page.locator("#submit-button")).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    stored = Ranking.objects.get()
    assert stored.tiers == [[d2], [d1], [d3]]
    assert stored.interaction["moves"] == 1


def test_expired_lease_on_a_set_taken_by_someone_else_keeps_the_ranking_visible(
    live_server, page: Page
):
    user_create(username="ann", password=PASSWORD, role="annotator")
    bob = user_create(username="bob", password=PASSWORD, role="annotator")
    project = project_create(name="Lease", k=3, annotations_per_set=1)
    candidate_sets_import(project=project, rows=ROWS)
    open_workspace(page, live_server.url, "ann", project.pk)
    d1, d2, d3 = display_order(page)
    page.keyboard.press("3")
    page.keyboard.press("ArrowUp")

    expire_leases()
    assert assignment_next(project=project, annotator=bob) is not None  # the set goes to bob
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("this set has gone to someone else")
    expect(alert).to_contain_text("stays on screen")
    assert_tiers(page, [[d1], [d3], [d2]])  # still there, as it was
    expect(page.locator("#submit-button")).to_be_disabled()
    assert not Ranking.objects.exists()

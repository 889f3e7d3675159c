"""Helpers for the browser tests: signing in, reading the board, dragging a response, a
project ranked by two annotators. Plain functions (not fixtures) so each test reads top to
bottom."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page, expect

from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create
from tests.annotation.ranking_helpers import rank_next

PASSWORD = "correct-horse-battery-staple"


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


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in-as")).to_be_visible()


def open_workspace(page: Page, base_url: str, username: str, project_id: int) -> None:
    sign_in(page, base_url, username)
    page.goto(f"{base_url}/#/projects/{project_id}/rank")
    expect(page.locator(".response-card").first).to_be_visible()


def card(page: Page, number: int) -> Locator:
    """Response ``number`` (the number shown on it, 1-based display order)."""
    return page.locator(f'.response-card[data-number="{number}"]')


def display_order(page: Page) -> list[int]:
    """Candidate ids as shown: response 1, response 2, …"""
    pairs = page.locator(".response-card").evaluate_all(
        "cards => cards.map(c => [Number(c.dataset.number), Number(c.dataset.candidateId)])"
    )
    return [cid for _, cid in sorted(pairs)]


def board_tiers(page: Page) -> list[list[int]]:
    """The tiers on screen, best first, as candidate ids in the order shown within each tier."""
    return page.locator("[data-tier-index]").evaluate_all(
        """tiers => tiers.map(t => Array.from(t.querySelectorAll('.response-card'),
                                              c => Number(c.dataset.candidateId)))"""
    )


def assert_tiers(page: Page, expected: list[list[int]], timeout: float = 5.0) -> list[list[int]]:
    """Wait (React renders after the event) until the board shows ``expected``; return it."""
    deadline = time.monotonic() + timeout
    while (shown := board_tiers(page)) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert shown == expected
    return shown


def current_set(page: Page) -> str:
    return page.locator(".set-info").inner_text()


def drag(page: Page, source: Locator, target_selector: str) -> None:
    """Drag ``source`` (a response card) by its title onto the element ``target_selector``
    names, with real pointer events (dnd-kit's PointerSensor needs a few px to start)."""
    handle = source.locator(".drag-handle")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + 40, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 8, y + 8, steps=4)
    expect(page.locator(".drag-preview")).to_be_visible()
    # Move onto the target until the board shows it as the drop zone: the layout can shift
    # once the drag starts, and dnd-kit measures asynchronously (a loaded machine lags).
    target = page.locator(target_selector)
    for _ in range(30):
        box = target.bounding_box()
        assert box is not None
        tx, ty = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(tx, ty, steps=6)
        page.mouse.move(tx + 1, ty, steps=2)
        if re.search(r"\bover\b", target.get_attribute("class") or ""):
            break
        page.wait_for_timeout(100)
    expect(target).to_have_class(re.compile(r"\bover\b"))
    page.mouse.up()
    expect(page.locator(".drag-preview")).to_have_count(0)
    # dnd-kit swallows clicks with a capture listener that it removes in a setTimeout(…, 50)
    # after the drag ends; a later timer in the page fires after it, so the next real click
    # is not swallowed (a loaded machine can otherwise click inside that window).
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 120))")

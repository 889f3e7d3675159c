"""The review queue in a real browser (issue 18, item 2): a reviewer filters the queue to the
disputed set, rejects a ranking (a reason is required), adjudicates the set's final order,
accepts a ranking and sends another back with a comment; the annotator gets that set back
first, sees the comment (as text) in the workspace, re-ranks it, and sees their review counts."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, Page, expect

from annotation.enums import ReviewState
from annotation.models import CandidateSet, Ranking
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create
from tests.annotation.ranking_helpers import canonical_ids, rank_next

from .support import PASSWORD, sign_in
from .test_accessibility import AXE, SCREENSHOTS, axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

COMMENT = "Response <b>B</b> ignores the question: rank it last."


def test_a_reviewer_works_the_queue_and_the_annotator_gets_the_set_back(
    live_server, page: Page, browser: Browser
):
    user_create(username="rev", password=PASSWORD, role="reviewer")
    ann = user_create(username="ann", password=PASSWORD, role="annotator")
    bob = user_create(username="bob", password=PASSWORD, role="annotator")
    project = project_create(name="Helpfulness", k=3, annotations_per_set=2)
    texts = ["A clear, correct answer.", "An answer to another question.", "A vague answer."]
    disputed, other = candidate_sets_import(
        project=project,
        rows=[
            (i + 1, {"prompt": f"Question {i}", "candidates": [{"text": t} for t in texts]})
            for i in range(2)
        ],
    )
    by_ann = rank_next(project, ann, [[0], [1], [2]])
    by_bob = rank_next(project, bob, [[2], [1], [0]])
    second = rank_next(project, ann, [[1], [0], [2]], time_spent_seconds=0.5)
    assert (by_ann.candidate_set_id, second.candidate_set_id) == (disputed.pk, other.pk)

    sign_in(page, live_server.url, "rev")
    page.get_by_role("link", name="Review queue: Helpfulness").click()
    expect(page.get_by_role("heading", name="Helpfulness: review queue")).to_be_visible()
    cards = page.locator(".review-card")
    expect(cards).to_have_count(3)
    page.get_by_label("Disputed (low pair agreement)").check()
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Disputed")

    bobs = page.locator(f'.review-card[data-ranking-id="{by_bob.pk}"]')
    bobs.get_by_role("button", name="Reject").click()
    comment = bobs.get_by_label(
        "Comment (the reason to reject; shown to the annotator when sent back)"
    )
    expect(comment).to_have_accessible_description("Say why the ranking is rejected.")
    comment.fill("Ranked at random.")
    bobs.get_by_role("button", name="Reject").click()
    expect(bobs.locator(".review-verdict")).to_have_text("Rejected by rev: Ranked at random.")

    anns = page.locator(f'.review-card[data-ranking-id="{by_ann.pk}"]')
    anns.get_by_role("button", name="Adjudicate the set").click()
    panel = anns.get_by_role("region", name=f"Adjudicate set {disputed.pk}")
    panel.get_by_role("button", name="Move C up").click()  # A > C > B
    panel.get_by_label("tied with the one above").nth(1).check()  # A > C = B
    panel.get_by_role("button", name="Save the final order").click()
    expect(panel.get_by_role("status")).to_have_text("Adjudicated: A > C = B.")
    if os.environ.get("FLYWHEEL_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "review-queue.png"), full_page=True)
    ids = canonical_ids(disputed.pk)
    assert CandidateSet.objects.get(pk=disputed.pk).adjudicated_tiers == [
        [ids[0]],
        [ids[2], ids[1]],
    ]
    anns.get_by_role("button", name="Accept").click()
    expect(anns.locator(".review-verdict")).to_have_text("Accepted by rev.")

    page.get_by_label("Disputed (low pair agreement)").uncheck()
    page.get_by_label("QC flagged").check()
    expect(cards).to_have_count(1)
    flagged = page.locator(f'.review-card[data-ranking-id="{second.pk}"]')
    expect(flagged).to_contain_text("QC: too_fast")
    flagged.get_by_label(
        "Comment (the reason to reject; shown to the annotator when sent back)"
    ).fill(COMMENT)
    flagged.get_by_role("button", name="Send back").click()
    expect(flagged.locator(".review-verdict")).to_have_text(f"Sent back by rev: {COMMENT}")
    if AXE.exists():
        assert axe_violations(page) == []
    assert dict(Ranking.objects.values_list("id", "review_state")) == {
        by_ann.pk: ReviewState.ACCEPTED,
        by_bob.pk: ReviewState.REJECTED,
        second.pk: ReviewState.SENT_BACK,
    }

    # The annotator, in a browser of their own: the sent-back set comes first, with the comment.
    context = browser.new_context(viewport={"width": 1000, "height": 720})
    try:
        annotator = context.new_page()
        sign_in(annotator, live_server.url, "ann")
        annotator.goto(f"{live_server.url}/#/projects/{project.pk}/rank")
        notice = annotator.get_by_role("region", name="Sent back by a reviewer")
        expect(notice).to_be_visible()
        expect(notice.locator(".sent-back-comment")).to_have_text(COMMENT)  # text, not markup
        assert notice.locator("b").count() == 0
        expect(annotator.locator(".set-info")).to_contain_text(str(other.pk))
        expect(annotator.locator(".my-reviews-counts")).to_have_text("1 accepted · 1 sent back")
        annotator.locator(".my-reviews summary").click()
        expect(annotator.locator(".my-reviews-comments")).to_contain_text(COMMENT)

        annotator.locator(".response-card").first.focus()
        for key in ["1", "j"]:  # response 1 one tier down: a touched ranking
            annotator.keyboard.press(key)
        annotator.keyboard.press("Enter")
        expect(annotator.locator(".notice")).to_have_text("Ranking submitted.")
        expect(annotator.locator(".set-info")).to_have_count(0)  # nothing else left for ann
    finally:
        context.close()
    again = Ranking.objects.get(candidate_set=other, annotator=ann, review_state="pending")
    assert again.pk != second.pk
    assert again.assignment_id == second.assignment_id
    assert CandidateSet.objects.get(pk=other.pk).state == "open"  # bob has not ranked it yet

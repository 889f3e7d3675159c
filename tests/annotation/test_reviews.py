"""The review queue (issue 18 item 2): reviewers filter a project's submitted rankings and
accept, reject (with a reason) or send back (with a comment) each; rejected rankings leave
exports and new snapshots; a sent-back set comes back to its annotator first, with the comment;
a disputed set's adjudicated order is its consensus (marked in exports) and may become gold; an
annotator sees their review counts and the comments."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.enums import AssignmentState, CandidateSetState, GoldSource, ReviewState, Role
from annotation.exports.stream import ExportFilters
from annotation.models import Assignment, CandidateSet, Ranking
from annotation.services.assignments import assignment_release, assignment_release_expired
from annotation.services.imports import candidate_sets_import
from annotation.services.reviews import candidate_set_adjudicate
from annotation.services.snapshots import snapshot_create
from annotation.services.users import token_for
from loop.services.settings import loop_for
from loop.services.triggers import rankings_since_last_round
from tests.annotation.ranking_helpers import canonical_ids, rank_next

pytestmark = pytest.mark.django_db

TEXTS = ["alpha", "bravo", "charlie"]


def import_set(project, prompt="Q"):
    (candidate_set,) = candidate_sets_import(
        project=project, rows=[(1, {"prompt": prompt, "candidates": [{"text": t} for t in TEXTS]})]
    )
    return candidate_set


@pytest.fixture
def disputed(make_project, make_user):
    """One K = 3 set with overlap 2, ranked in opposite orders by A and B (agreement 0), and
    a second set ranked by A alone, flagged as too fast."""
    project = make_project(k=3, annotations_per_set=2)
    first = import_set(project, "first")
    second = import_set(project, "second")
    users = {name: make_user(Role.ANNOTATOR) for name in "AB"}
    rank_next(project, users["A"], [[0], [1], [2]])
    rank_next(project, users["B"], [[2], [1], [0]])
    rank_next(project, users["A"], [[0], [1], [2]], time_spent_seconds=0.5)
    return project, first, second, users


def queue(client, project, **params):
    response = client.get(f"/api/v1/projects/{project.pk}/review-queue/", params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def review(client, project, ranking_id, **body):
    return client.post(
        f"/api/v1/projects/{project.pk}/rankings/{ranking_id}/review/", body, format="json"
    )


def export_rows(client, project, **params):
    response = client.get(f"/api/v1/projects/{project.pk}/export/", params)
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


def test_the_queue_lists_pending_rankings_with_their_set_and_filters(client_for, disputed):
    project, first, second, users = disputed
    client = client_for(Role.REVIEWER)
    body = queue(client, project, state="pending")
    assert body["count"] == 3
    row = body["results"][0]
    assert row["annotator"] == users["A"].username
    assert row["prompt"] == [{"role": "user", "content": "first"}]
    assert [c["text"] for c in row["candidates"]] == TEXTS
    assert row["review_state"] == "pending"
    assert row["disputed"] is True and row["set_agreement"] == 0.0
    assert {r["candidate_set"] for r in queue(client, project, disputed="true")["results"]} == {
        first.pk
    }
    flagged = queue(client, project, flagged="true")["results"]
    assert [(r["candidate_set"], r["qc_flags"]) for r in flagged] == [(second.pk, ["too_fast"])]
    by_b = queue(client, project, annotator=users["B"].pk)["results"]
    assert [r["annotator"] for r in by_b] == [users["B"].username]
    today = timezone.localdate()
    assert queue(client, project, since=today.isoformat())["count"] == 3
    assert queue(client, project, until=(today - timedelta(days=1)).isoformat())["count"] == 0
    assert queue(client, project, gold_failed="true")["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "maybe"}, "state"),
        ({"annotator": "²"}, "annotator"),
        ({"annotator": str(2**70)}, "annotator"),
        ({"since": "yesterday"}, "since"),
        ({"disputed": "perhaps"}, "disputed"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_queue_filters_are_400_naming_the_parameter(client_for, disputed, params, field):
    project, *_ = disputed
    response = client_for(Role.REVIEWER).get(f"/api/v1/projects/{project.pk}/review-queue/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_gold_failed_filter_finds_the_annotators_who_fail_gold(
    client_for, make_project, make_user, gold_draw
):
    project = make_project(k=3, annotations_per_set=1, gold_rate=0.5)
    import_set(project, "normal")
    gold = import_set(project, "gold")
    ids = canonical_ids(gold.pk)
    CandidateSet.objects.filter(pk=gold.pk).update(
        gold_tiers=[[i] for i in ids], gold_source=GoldSource.EXPERT
    )
    careless = make_user(Role.ANNOTATOR)
    gold_draw(0.0)
    rank_next(project, careless, [[2], [1], [0]])  # the gold set, backwards
    rank_next(project, careless, [[0], [1], [2]])
    rows = queue(client_for(Role.REVIEWER), project, gold_failed="true")["results"]
    assert len(rows) == 2
    assert all(r["gold_failed"] for r in rows)
    assert [r["is_gold"] for r in rows] == [True, False]


def test_rejecting_needs_a_reason_and_writes_nothing_without_one(client_for, disputed):
    project, first, _, _ = disputed
    ranking = Ranking.objects.filter(candidate_set=first).first()
    client = client_for(Role.REVIEWER)
    for body, field in [
        ({"action": "reject"}, "comment"),
        ({"action": "reject", "comment": "   "}, "comment"),
        ({"action": "send_back"}, "comment"),
        ({"action": "reject", "comment": "x" * 2001}, "comment"),
        ({"action": "approve"}, "action"),
        ({}, "action"),
        ({"action": "reject", "comment": "bad\u0000"}, "comment"),
    ]:
        response = review(client, project, ranking.pk, **body)
        assert response.status_code == 400, body
        assert field in response.json()["errors"], body
    ranking.refresh_from_db()
    assert (ranking.review_state, ranking.review_comment) == (ReviewState.PENDING, "")


def test_a_ranking_of_another_project_or_none_at_all_is_404(client_for, disputed, make_project):
    project, first, _, _ = disputed
    other = make_project(k=3)
    ranking = Ranking.objects.filter(candidate_set=first).first()
    client = client_for(Role.REVIEWER)
    assert review(client, other, ranking.pk, action="accept").status_code == 404
    assert review(client, project, 2**62, action="accept").status_code == 404


def test_rejected_rankings_leave_exports_snapshots_and_agreement(client_for, disputed):
    project, first, _, users = disputed
    client = client_for(Role.REVIEWER)
    admin = client_for(Role.ADMIN)
    assert len(export_rows(admin, project, view="ranked")) == 3
    by_b = Ranking.objects.get(candidate_set=first, annotator=users["B"])
    response = review(client, project, by_b.pk, action="reject", comment="Ranked at random.")
    assert response.status_code == 200, response.content
    assert response.json()["review_state"] == "rejected"
    assert response.json()["reviewed_by"]
    ranked = export_rows(admin, project, view="ranked")
    assert len(ranked) == 2
    (consensus,) = [
        r for r in export_rows(admin, project, view="consensus") if r["set_id"] == first.pk
    ]
    assert consensus["annotators"] == 1
    snapshot = snapshot_create(project=project, name="after", filters=ExportFilters())
    assert snapshot.items.count() == 2
    assert not snapshot.items.filter(ranking=by_b).exists()
    # Nor toward the loop's "new rankings" trigger.
    assert rankings_since_last_round(loop_for(project)) == 2
    # No longer disputed: one ranking of the set counts; the dashboard counts it apart.
    assert queue(client, project, disputed="true")["count"] == 0
    progress = client.get(f"/api/v1/projects/{project.pk}/progress/").json()
    assert (progress["rankings"], progress["rejected"], progress["sent_back"]) == (2, 1, 0)
    assert (progress["sets_complete"], progress["sets_open"]) == (0, 2)  # the set reopened
    assert [r["id"] for r in queue(client, project, state="rejected")["results"]] == [by_b.pk]


def test_a_snapshot_made_before_a_rejection_keeps_the_ranking(client_for, disputed):
    project, first, _, users = disputed
    before = snapshot_create(project=project, name="before", filters=ExportFilters())
    by_b = Ranking.objects.get(candidate_set=first, annotator=users["B"])
    review(client_for(Role.REVIEWER), project, by_b.pk, action="reject", comment="Random.")
    assert before.items.filter(ranking=by_b).exists()


def test_accept_is_recorded_and_may_be_changed_to_reject(client_for, disputed):
    project, first, _, _ = disputed
    ranking = Ranking.objects.filter(candidate_set=first).first()
    client = client_for(Role.REVIEWER)
    assert review(client, project, ranking.pk, action="accept").json()["review_state"] == "accepted"
    assert queue(client, project, state="accepted")["count"] == 1
    changed = review(client, project, ranking.pk, action="reject", comment="On a second look, no.")
    assert changed.json()["review_state"] == "rejected"


def test_a_rejected_ranking_frees_its_slot_for_another_annotator(
    client_for, make_project, make_user
):
    """Overlap 1: the set was complete; its ranking rejected, it reopens and goes to another
    annotator (never back to the rejected one), whose ranking completes it again and is the
    only one exported. Taking the rejection back (accept) while the set is open completes it
    with the annotator's ranking again."""
    project = make_project(k=3, annotations_per_set=1)
    first = import_set(project, "first")
    rejected_one, other = make_user(Role.ANNOTATOR), make_user(Role.ANNOTATOR)
    original = rank_next(project, rejected_one, [[0], [1], [2]])
    reviewer = client_for(Role.REVIEWER)
    response = review(reviewer, project, original.pk, action="reject", comment="Random clicks.")
    assert response.status_code == 200, response.content
    first.refresh_from_db()
    assert first.state == CandidateSetState.OPEN and first.completed_at is None
    assert Assignment.objects.get(pk=original.assignment_id).state == AssignmentState.REJECTED
    assert (
        client_for(user=rejected_one).post(f"/api/v1/projects/{project.pk}/next-task/").status_code
        == 204
    )

    # Taken back before anyone else ranked it: the set is complete again with that ranking.
    assert review(reviewer, project, original.pk, action="accept").status_code == 200
    first.refresh_from_db()
    assert first.state == CandidateSetState.COMPLETE
    assert Assignment.objects.get(pk=original.assignment_id).state == AssignmentState.SUBMITTED
    assert (
        client_for(user=other).post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 204
    )

    review(reviewer, project, original.pk, action="reject", comment="No, really.")
    replacement = rank_next(project, other, [[2], [1], [0]])
    assert replacement.candidate_set_id == first.pk
    first.refresh_from_db()
    assert first.state == CandidateSetState.COMPLETE
    rows = export_rows(client_for(Role.ADMIN), project, view="ranked")
    assert [r["tiers"] for r in rows if r["set_id"] == first.pk] == [[[2], [1], [0]]]


def test_a_sent_back_set_comes_back_to_its_annotator_first_with_the_comment(
    client_for, make_project, make_user
):
    """Overlap 1: the set was complete; sent back, it reopens, and its slot stays the
    annotator's: someone else is given the other set, the annotator gets this one back, first,
    with the comment, in the same display order. Their re-submission is a new ranking that
    completes the set again; the sent-back one stays as history and cannot be reviewed."""
    project = make_project(k=3, annotations_per_set=1)
    first = import_set(project, "first")
    second = import_set(project, "second")
    annotator, other = make_user(Role.ANNOTATOR), make_user(Role.ANNOTATOR)
    original = rank_next(project, annotator, [[0], [1], [2]])
    assert original.candidate_set_id == first.pk
    first.refresh_from_db()
    assert first.state == CandidateSetState.COMPLETE
    reviewer = client_for(Role.REVIEWER)
    comment = "Response <b>bravo</b> is off-topic; rank it last."
    response = review(reviewer, project, original.pk, action="send_back", comment=comment)
    assert response.status_code == 200, response.content
    first.refresh_from_db()
    assert first.state == CandidateSetState.OPEN
    assert Assignment.objects.get(pk=original.assignment_id).state == AssignmentState.RETURNED

    other_client = client_for(user=other)
    taken = other_client.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    assert taken["candidate_set"] == second.pk
    assert taken["review_comment"] is None

    mine = client_for(user=annotator)
    task = mine.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    assert task["candidate_set"] == first.pk
    assert task["assignment"] == original.assignment_id
    assert task["review_comment"] == comment
    assert [c["id"] for c in task["candidates"]] == Assignment.objects.get(
        pk=original.assignment_id
    ).display_order
    ids = canonical_ids(first.pk)
    resubmitted = mine.post(
        f"/api/v1/assignments/{task['assignment']}/submit/",
        {"ranking": [[ids[0]], [ids[2]], [ids[1]]], "time_spent_seconds": 30},
        format="json",
    )
    assert resubmitted.status_code == 201, resubmitted.content
    first.refresh_from_db()
    assert first.state == CandidateSetState.COMPLETE
    states = dict(Ranking.objects.filter(candidate_set=first).values_list("id", "review_state"))
    assert states == {original.pk: "sent_back", resubmitted.json()["id"]: "pending"}
    again = review(reviewer, project, original.pk, action="accept")
    assert again.status_code == 409
    assert mine.post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 204
    assert mine.get(f"/api/v1/projects/{project.pk}/").json()["my_ranking_count"] == 1
    # Only the re-submission is exported.
    rows = export_rows(client_for(Role.ADMIN), project, view="ranked")
    assert [r["tiers"] for r in rows if r["set_id"] == first.pk] == [[[0], [2], [1]]]


def test_a_released_or_lapsed_lease_of_a_sent_back_set_stays_the_annotators(
    client_for, make_project, make_user
):
    project = make_project(k=3, annotations_per_set=1)
    first = import_set(project)
    annotator = make_user(Role.ANNOTATOR)
    original = rank_next(project, annotator, [[0], [1], [2]])
    review(client_for(Role.REVIEWER), project, original.pk, action="send_back", comment="Redo.")
    mine = client_for(user=annotator)
    task = mine.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    assignment_release(assignment_id=task["assignment"], annotator=annotator)
    assert Assignment.objects.get(pk=task["assignment"]).state == AssignmentState.RETURNED
    assert (
        client_for(Role.ANNOTATOR).post(f"/api/v1/projects/{project.pk}/next-task/").status_code
        == 204
    )  # the slot is still the annotator's
    task = mine.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    assert task["candidate_set"] == first.pk
    assignment_release_expired(now=timezone.now() + timedelta(days=1))
    assert Assignment.objects.get(pk=task["assignment"]).state == AssignmentState.RETURNED


def test_the_annotator_sees_their_review_counts_and_the_comments(client_for, disputed, make_user):
    project, first, second, users = disputed
    reviewer = client_for(Role.REVIEWER)
    by_a = Ranking.objects.filter(annotator=users["A"]).order_by("id")
    review(reviewer, project, by_a[0].pk, action="accept")
    review(reviewer, project, by_a[1].pk, action="reject", comment="Far too fast.")
    client = client_for(user=users["A"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=users['A'])}")
    body = client.get("/api/v1/me/reviews/").json()
    assert body["counts"] == {"pending": 0, "accepted": 1, "rejected": 1, "sent_back": 0}
    assert [(c["comment"], c["review_state"]) for c in body["comments"]] == [
        ("Far too fast.", "rejected")
    ]
    assert (
        client.get("/api/v1/me/reviews/", {"project": project.pk}).json()["counts"]["rejected"] == 1
    )
    assert client.get("/api/v1/me/reviews/", {"project": "x"}).status_code == 400
    b_counts = client_for(user=users["B"]).get("/api/v1/me/reviews/").json()["counts"]
    assert b_counts == {"pending": 1, "accepted": 0, "rejected": 0, "sent_back": 0}


def adjudicate(client, project, set_id, **body):
    return client.post(
        f"/api/v1/projects/{project.pk}/candidate-sets/{set_id}/adjudication/", body, format="json"
    )


def test_an_adjudicated_order_is_the_consensus_and_marked_in_exports(client_for, disputed):
    project, first, _, _ = disputed
    before = snapshot_create(project=project, name="before", filters=ExportFilters())
    ids = canonical_ids(first.pk)
    final = [[ids[1]], [ids[0]], [ids[2]]]
    response = adjudicate(client_for(Role.REVIEWER), project, first.pk, tiers=final)
    assert response.status_code == 200, response.content
    assert response.json()["adjudicated_tiers"] == final
    assert response.json()["gold_tiers"] is None
    admin = client_for(Role.ADMIN)
    (row,) = [r for r in export_rows(admin, project, view="consensus") if r["set_id"] == first.pk]
    assert row["adjudicated"] is True and row["method"] == "adjudicated"
    assert row["tiers"] == [[1], [0], [2]]
    others = [r for r in export_rows(admin, project, view="consensus") if r["set_id"] != first.pk]
    assert all(r["adjudicated"] is False for r in others)
    pairs = [
        r
        for r in export_rows(admin, project, source="consensus", view="preference")
        if r["set_id"] == first.pk
    ]
    assert {r["annotator"] for r in pairs} == {"adjudicated"}
    assert pairs[0]["chosen"][0]["content"] == "bravo"
    detail = client_for(Role.REVIEWER).get(f"/api/v1/candidate-sets/{first.pk}/").json()
    assert detail["consensus"]["tiers"] == final and detail["consensus"]["adjudicated"]
    # A snapshot made before the adjudication exports what it did then; one made after, the
    # adjudicated order.
    (then,) = [r for r in admin_snapshot_rows(admin, before) if r["set_id"] == first.pk]
    assert then["adjudicated"] is False
    after = snapshot_create(project=project, name="after", filters=ExportFilters())
    (now,) = [r for r in admin_snapshot_rows(admin, after) if r["set_id"] == first.pk]
    assert now["adjudicated"] is True and now["tiers"] == [[1], [0], [2]]


def admin_snapshot_rows(client, snapshot):
    response = client.get(f"/api/v1/datasets/{snapshot.pk}/export/", {"view": "consensus"})
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


def test_an_adjudicated_set_can_be_promoted_to_gold(client_for, disputed):
    project, first, _, _ = disputed
    ids = canonical_ids(first.pk)
    final = [[ids[2]], [ids[0], ids[1]]]
    response = adjudicate(
        client_for(Role.REVIEWER), project, first.pk, tiers=final, promote_to_gold=True
    )
    assert response.status_code == 200, response.content
    first.refresh_from_db()
    assert first.gold_tiers == final and first.gold_source == GoldSource.ADJUDICATED
    assert adjudicate(client_for(Role.REVIEWER), project, first.pk, tiers=final).status_code == 409


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ("first", "tiers"),
        ([[1]], "tiers"),
        ([], "tiers"),
        (None, "tiers"),
    ],
)
def test_a_bad_adjudication_is_400_and_writes_nothing(client_for, disputed, tiers, field):
    project, first, _, _ = disputed
    response = adjudicate(client_for(Role.REVIEWER), project, first.pk, tiers=tiers)
    assert response.status_code == 400, response.content
    assert any(key.startswith(field) for key in response.json()["errors"]), response.json()
    first.refresh_from_db()
    assert first.adjudicated_tiers is None


def test_adjudicating_a_set_of_another_project_is_404(client_for, disputed, make_project):
    project, first, _, users = disputed
    other = make_project(k=3)
    ids = canonical_ids(first.pk)
    response = adjudicate(client_for(Role.REVIEWER), other, first.pk, tiers=[[i] for i in ids])
    assert response.status_code == 404
    with pytest.raises(Exception, match="No such candidate set"):
        candidate_set_adjudicate(
            project_id=other.pk, set_id=first.pk, reviewer=users["A"], tiers=[[i] for i in ids]
        )

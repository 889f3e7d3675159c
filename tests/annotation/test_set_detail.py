"""A reviewer browses one set: every annotator's ranking side by side, and the consensus."""

import pytest

from annotation.enums import Role
from annotation.services.imports import candidate_sets_import
from tests.annotation.ranking_helpers import canonical_ids, rank_next

pytestmark = pytest.mark.django_db


def test_set_detail_shows_each_ranking_and_the_consensus(client_for, make_project, make_user):
    project = make_project(k=3, annotations_per_set=3)
    (candidate_set,) = candidate_sets_import(
        project=project,
        rows=[(1, {"prompt": "Q", "candidates": [{"text": t, "model": "m"} for t in "abc"]})],
    )
    users = [make_user(Role.ANNOTATOR) for _ in range(3)]
    rank_next(project, users[0], [[0], [1], [2]])
    rank_next(project, users[1], [[0], [2], [1]])
    rank_next(project, users[2], None)
    ids = canonical_ids(candidate_set.pk)
    body = client_for(Role.REVIEWER).get(f"/api/v1/candidate-sets/{candidate_set.pk}/").json()
    assert body["prompt"] == [{"role": "user", "content": "Q"}]
    assert [c["text"] for c in body["candidates"]] == ["a", "b", "c"]
    assert [r["annotator"] for r in body["rankings"]] == [u.username for u in users]
    assert body["rankings"][0]["tiers"] == [[ids[0]], [ids[1]], [ids[2]]]
    assert body["rankings"][2]["not_rankable"] is True
    # Borda over the two usable rankings: a 2, b 0.5, c 0.5 → a first, b and c tied.
    assert body["consensus"] == {
        "method": "borda",
        "tiers": [[ids[0]], [ids[1], ids[2]]],
        "agreement": pytest.approx(2 / 3),
        "adjudicated": False,
    }


def test_set_detail_is_for_reviewers_and_admins(client_for, make_project, make_sets):
    (candidate_set,) = make_sets(make_project(k=2), 1)
    url = f"/api/v1/candidate-sets/{candidate_set.pk}/"
    assert client_for(Role.ANNOTATOR).get(url).status_code == 403
    assert client_for(Role.ADMIN).get(url).status_code == 200
    assert client_for(Role.ADMIN).get("/api/v1/candidate-sets/999999/").status_code == 404

"""Dataset snapshots: frozen, byte-identical exports, prompt-grouped splits, counts and card."""

import hashlib
import json

import pytest

from annotation.enums import Role
from annotation.exports.source import annotator_pseudonym
from annotation.models import DatasetSnapshot, DatasetSnapshotItem
from annotation.services.imports import candidate_sets_import
from tests.annotation.ranking_helpers import rank_next

pytestmark = pytest.mark.django_db


def sets_for(project, prompts: int, sets_per_prompt: int):
    rows = [
        (
            n,
            {
                "prompt": f"question {p}",
                "external_id": f"q{p}",
                "candidates": [{"text": f"q{p} set {s} answer {j}"} for j in range(project.k)],
            },
        )
        for n, (p, s) in enumerate(
            ((p, s) for p in range(prompts) for s in range(sets_per_prompt)), start=1
        )
    ]
    return candidate_sets_import(project=project, rows=rows)


@pytest.fixture
def ranked(make_project, make_user):
    """20 prompts × 2 sets each, K=3, every set ranked by two annotators."""
    project = make_project(k=3, annotations_per_set=2)
    sets_for(project, prompts=20, sets_per_prompt=2)
    annotators = [make_user(Role.ANNOTATOR) for _ in range(2)]
    for annotator in annotators:
        for i in range(40):
            rank_next(project, annotator, [[0], [1], [2]] if i % 3 else [[1], [0, 2]])
    return project, annotators


def create(client, project, **body):
    response = client.post("/api/v1/datasets/", {"project": project.pk, **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def download(client, snapshot_id, **params):
    response = client.get(f"/api/v1/datasets/{snapshot_id}/export/", params)
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


def test_two_exports_of_a_snapshot_are_byte_identical(admin_client, ranked):
    project, _ = ranked
    snapshot = create(admin_client, project, test_fraction=0.25, seed=7)
    for params in (
        {},
        {"view": "kto"},
        {"view": "consensus", "split": "test"},
        {"fmt": "parquet"},
        {"view": "ranked", "fmt": "parquet"},
    ):
        assert download(admin_client, snapshot["id"], **params) == download(
            admin_client, snapshot["id"], **params
        ), params


def test_new_rankings_after_the_snapshot_do_not_change_it(admin_client, ranked, make_user):
    project, _ = ranked
    snapshot = create(admin_client, project)
    before = download(admin_client, snapshot["id"])
    sets_for(project, prompts=1, sets_per_prompt=1)  # a new set…
    rank_next(project, make_user(Role.ANNOTATOR), [[2], [1], [0]])  # …and a new ranking
    assert download(admin_client, snapshot["id"]) == before
    live = admin_client.get(f"/api/v1/projects/{project.pk}/export/")
    assert b"".join(live.streaming_content) != before


def test_content_hash_is_the_sha256_of_the_ranked_export(admin_client, ranked):
    project, _ = ranked
    snapshot = create(admin_client, project)
    ranked_bytes = download(admin_client, snapshot["id"], view="ranked")
    assert snapshot["content_hash"] == hashlib.sha256(ranked_bytes).hexdigest()
    again = create(admin_client, project)
    assert again["content_hash"] == snapshot["content_hash"]  # same rankings, same hash


def test_split_is_grouped_by_prompt(admin_client, ranked):
    project, _ = ranked
    snapshot = create(admin_client, project, test_fraction=0.3, seed=3)
    prompts = {}
    for split in ("train", "test"):
        rows = download(admin_client, snapshot["id"], view="ranked", split=split)
        prompts[split] = {json.loads(line)["prompt_id"] for line in rows.splitlines()}
    assert prompts["train"] and prompts["test"]
    assert prompts["train"].isdisjoint(prompts["test"])
    assert len(prompts["train"] | prompts["test"]) == 20
    items = DatasetSnapshotItem.objects.filter(snapshot_id=snapshot["id"])
    assert items.count() == 80  # 40 sets × 2 rankings, every one in exactly one split
    counts = snapshot["counts"]
    assert counts["prompts"]["train"] + counts["prompts"]["test"] == 20
    assert counts["rankings"]["train"] + counts["rankings"]["test"] == 80
    assert counts["prompts"]["test"] == len(prompts["test"])


def test_counts_and_card_describe_the_data(admin_client, ranked):
    project, annotators = ranked
    snapshot = create(admin_client, project, name="Round 1", test_fraction=0.0)
    counts = snapshot["counts"]
    # Per ranking: strict [[0],[1],[2]] → 3 pairs; [[1],[0,2]] → 2 pairs.
    strict, tied = 2 * 26, 2 * 14  # i % 3 != 0 for 26 of i in 0..39
    assert counts["pairs"]["all"]["train"] == strict * 3 + tied * 2
    assert counts["pairs"]["adjacent"]["train"] == strict * 2 + tied * 2
    assert counts["annotators"] == 2 and counts["k"] == {"3": 40}
    assert counts["krippendorff_alpha_ordinal"] == pytest.approx(1.0)
    card = snapshot["card"]
    assert card.startswith("# Round 1")
    assert "| rankings | 80 | 0 |" in card
    assert "Krippendorff's α, ordinal): 1.000" in card
    assert snapshot["content_hash"] in card
    detail = admin_client.get(f"/api/v1/datasets/{snapshot['id']}/").json()
    assert detail["card"] == card


def test_snapshot_filters_are_frozen(admin_client, ranked):
    project, annotators = ranked
    pseudonym = annotator_pseudonym(project.pseudonym_salt, annotators[0].pk)
    snapshot = create(admin_client, project, filters={"exclude_annotators": [pseudonym]})
    assert snapshot["counts"]["annotators"] == 1
    assert snapshot["filters"]["exclude_annotators"] == [pseudonym]
    rows = download(admin_client, snapshot["id"], view="ranked").splitlines()
    assert len(rows) == 40 and pseudonym.encode() not in b"".join(rows)


def test_snapshot_with_no_matching_rankings_is_400_and_nothing_is_written(admin_client, ranked):
    project, _ = ranked
    response = admin_client.post(
        "/api/v1/datasets/",
        {"project": project.pk, "filters": {"since": "2999-01-01T00:00:00Z"}},
        format="json",
    )
    assert response.status_code == 400
    assert "No rankings match" in response.json()["detail"]
    assert DatasetSnapshot.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"test_fraction": 1.5}, "test_fraction"),
        ({"filters": {"min_agreement": 3}}, "filters.min_agreement"),
        ({"filters": {"exclude_annotators": "abc"}}, "filters.exclude_annotators"),
        ({"project": 999999}, "project"),
    ],
)
def test_bad_snapshot_request_is_400(admin_client, ranked, body, field):
    project, _ = ranked
    response = admin_client.post(
        "/api/v1/datasets/", {"project": project.pk, **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert DatasetSnapshot.objects.count() == 0

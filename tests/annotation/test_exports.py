"""Export views over HTTP: rows follow the rankings exactly (InstructGPT pairs, margins, KTO
labels, consensus), filters select rankings, JSON Lines and Parquet carry the same rows, and
every view loads with `datasets.load_dataset("json", …)`."""

import io
import json

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset
from django.utils import timezone

from annotation.enums import AssignmentState, Role
from annotation.exports.source import annotator_pseudonym
from annotation.models import Assignment, Ranking
from annotation.services.gold import gold_sets_import
from annotation.services.imports import candidate_sets_import
from tests.annotation.ranking_helpers import canonical_ids, rank_next

pytestmark = pytest.mark.django_db

TEXTS = ["alpha answer", "bravo answer", "charlie answer", "delta answer"]
MESSAGES = [
    {"role": "system", "content": "Be helpful."},
    {"role": "user", "content": "Which answer?"},
]


@pytest.fixture
def world(make_project, make_user):
    """One K=4 set ranked by three annotators: A [[0],[1,2],[3]], B [[1],[0],[2],[3]], C all
    bad. Returns (project, set id, canonical candidate ids, {name: user})."""
    project = make_project(k=4, annotations_per_set=3, criteria={"flags": ["unsafe"]})
    (candidate_set,) = candidate_sets_import(
        project=project,
        rows=[(1, {"messages": MESSAGES, "candidates": [{"text": t} for t in TEXTS]})],
    )
    users = {name: make_user(Role.ANNOTATOR) for name in "ABC"}
    rank_next(project, users["A"], [[0], [1, 2], [3]], flags={3: ["unsafe"]})
    rank_next(project, users["B"], [[1], [0], [2], [3]])
    rank_next(project, users["C"], None)
    return project, candidate_set.pk, canonical_ids(candidate_set.pk), users


def export(client, project, **params):
    response = client.get(f"/api/v1/projects/{project.pk}/export/", params)
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content)
    if params.get("fmt") == "parquet":
        return response, pq.read_table(io.BytesIO(body)).to_pylist()
    return response, [json.loads(line) for line in body.decode().splitlines()]


def pair_texts(rows):
    return [(r["chosen"][0]["content"], r["rejected"][0]["content"], r["margin"]) for r in rows]


def test_preference_view_gives_every_cross_tier_pair_per_annotator(client_for, world):
    project, set_id, ids, users = world
    response, rows = export(client_for(Role.REVIEWER), project)
    assert response["Content-Type"] == "application/x-ndjson"
    assert 'filename="' in response["Content-Disposition"]
    # A: 1·2 + 1·1 + 2·1 = 5 pairs; B (strict, 4 tiers): 6 pairs; C (all bad): none.
    assert len(rows) == 11
    a = annotator_pseudonym(project.pseudonym_salt, users["A"].pk)
    b = annotator_pseudonym(project.pseudonym_salt, users["B"].pk)
    assert [r["annotator"] for r in rows] == [a] * 5 + [b] * 6
    alpha, bravo, charlie, delta = TEXTS
    assert pair_texts(rows[:5]) == [
        (alpha, bravo, 0.5),
        (alpha, charlie, 0.5),
        (alpha, delta, 1.0),
        (bravo, delta, 0.5),
        (charlie, delta, 0.5),
    ]
    assert pair_texts(rows[5:8]) == [
        (bravo, alpha, 1 / 3),
        (bravo, charlie, 2 / 3),
        (bravo, delta, 1.0),
    ]
    first = rows[0]
    assert list(first) == [
        "prompt",
        "chosen",
        "rejected",
        "margin",
        "prompt_id",
        "set_id",
        "annotator",
    ]
    assert first["prompt"] == MESSAGES
    assert first["chosen"] == [{"role": "assistant", "content": alpha}]
    assert first["set_id"] == set_id
    assert users["A"].username not in json.dumps(rows)


@pytest.mark.parametrize(
    ("pairs", "expected_for_a"),
    [
        ("best-vs-rest", [(0, 1), (0, 2), (0, 3)]),
        ("adjacent", [(0, 1), (0, 2), (1, 3), (2, 3)]),
    ],
)
def test_pair_modes(client_for, world, pairs, expected_for_a):
    project, _, _, users = world
    _, rows = export(client_for(Role.ADMIN), project, pairs=pairs)
    a = annotator_pseudonym(project.pseudonym_salt, users["A"].pk)
    got = [
        (TEXTS.index(c), TEXTS.index(r))
        for c, r, _ in pair_texts([row for row in rows if row["annotator"] == a])
    ]
    assert got == expected_for_a


def test_consensus_source_gives_the_pairs_of_the_borda_consensus(client_for, world):
    project, *_ = world
    _, rows = export(client_for(Role.ADMIN), project, source="consensus")
    # Borda over A and B: alpha 2.5, bravo 2.25, charlie 1.25, delta 0 (C is all bad).
    assert [(TEXTS.index(c), TEXTS.index(r)) for c, r, _ in pair_texts(rows)] == [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 3),
        (2, 3),
    ]
    assert {r["annotator"] for r in rows} == {"consensus"}


def test_min_pair_agreement_drops_pairs_the_annotators_dispute(client_for, world):
    project, *_ = world
    _, rows = export(client_for(Role.ADMIN), project, min_pair_agreement=1.0)
    kept = {(TEXTS.index(c), TEXTS.index(r)) for c, r, _ in pair_texts(rows)}
    # A and B disagree on alpha vs bravo; B ranks bravo over charlie, A ties them.
    assert kept == {(0, 2), (0, 3), (1, 3), (2, 3)}
    assert len(rows) == 8  # those 4 pairs, once from each of A and B


def test_kto_labels_top_tier_good_bottom_bad_and_all_bad_as_negatives(client_for, world):
    project, *_ = world
    _, rows = export(client_for(Role.ADMIN), project, view="kto")
    labelled = [(r["completion"][0]["content"], r["label"]) for r in rows]
    alpha, bravo, charlie, delta = TEXTS
    assert labelled == [
        (alpha, True),
        (delta, False),  # A: top and bottom tiers; middle tier left out
        (bravo, True),
        (delta, False),  # B
        (alpha, False),
        (bravo, False),
        (charlie, False),
        (delta, False),  # C: all bad
    ]
    assert rows[0]["prompt"] == MESSAGES


def test_ranked_and_consensus_views(client_for, world):
    project, set_id, ids, users = world
    _, ranked = export(client_for(Role.ADMIN), project, view="ranked")
    assert [r["tiers"] for r in ranked] == [[[0], [1, 2], [3]], [[1], [0], [2], [3]], []]
    assert [r["not_rankable"] for r in ranked] == [False, False, True]
    assert ranked[0]["responses"] == TEXTS
    assert ranked[0]["flags"] == {"3": ["unsafe"]}
    _, (row,) = export(client_for(Role.ADMIN), project, view="consensus")
    assert row["tiers"] == [[0], [1], [2], [3]]
    assert row["annotators"] == 3 and row["method"] == "borda"
    # A vs B over 6 candidate pairs: same relation on 4 (α>γ, α>δ, β>δ, γ>δ).
    assert row["agreement"] == pytest.approx(4 / 6)


def test_sft_view_appends_the_consensus_best_response(client_for, world):
    project, *_ = world
    _, (row,) = export(client_for(Role.ADMIN), project, view="sft")
    assert row["messages"] == [*MESSAGES, {"role": "assistant", "content": TEXTS[0]}]


def test_text_views_render_transcripts(client_for, world):
    project, *_ = world
    _, rows = export(client_for(Role.ADMIN), project, view="preference-text")
    assert rows[0]["prompt"] == "System: Be helpful.\n\nUser: Which answer?\n\nAssistant:"
    assert rows[0]["chosen"] == " " + TEXTS[0]
    _, hh = export(client_for(Role.ADMIN), project, view="hh-rlhf")
    assert hh[0]["chosen"] == ("\n\nHuman: Be helpful.\n\nWhich answer?\n\nAssistant: " + TEXTS[0])
    assert hh[0]["rejected"].endswith("Assistant: " + TEXTS[1])
    assert len(hh) == 11


@pytest.mark.parametrize(
    "view", ["preference", "preference-text", "kto", "ranked", "consensus", "sft", "hh-rlhf"]
)
def test_parquet_has_the_same_rows_as_jsonl(client_for, world, view):
    project, *_ = world
    client = client_for(Role.ADMIN)
    _, jsonl = export(client, project, view=view)
    response, parquet = export(client, project, view=view, fmt="parquet")
    assert response["Content-Type"] == "application/vnd.apache.parquet"
    for row in parquet:
        if "flags" in row:  # Parquet maps come back as (key, value) lists
            row["flags"] = dict(row["flags"])
    assert parquet == jsonl


@pytest.mark.parametrize(
    "view", ["preference", "preference-text", "kto", "ranked", "consensus", "sft", "hh-rlhf"]
)
def test_every_view_loads_with_datasets(client_for, world, tmp_path, view):
    project, *_ = world
    _, rows = export(client_for(Role.ADMIN), project, view=view)
    path = tmp_path / f"{view}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    dataset = load_dataset("json", data_files=str(path), split="train")
    assert dataset.num_rows == len(rows)
    assert set(dataset.column_names) == set(rows[0])


def test_gold_sets_are_never_exported(client_for, world):
    project, *_ = world
    gold = gold_sets_import(
        project=project,
        rows=[
            (
                1,
                {
                    "prompt": "G",
                    "candidates": [{"text": f"g{i}"} for i in range(4)],
                    "gold_ranking": [[0], [1, 2, 3]],
                },
            )
        ],
    )
    annotator = project.candidate_sets.first().rankings.first().annotator
    now = timezone.now()
    assignment = Assignment.objects.create(
        candidate_set=gold[0],
        annotator=annotator,
        display_order=list(gold[0].members.values_list("candidate_id", flat=True)),
        state=AssignmentState.SUBMITTED,
        leased_at=now,
        lease_expires_at=now,
    )
    Ranking.objects.create(
        assignment=assignment,
        candidate_set=gold[0],
        annotator=annotator,
        tiers=[[c] for c in assignment.display_order],
    )
    _, rows = export(client_for(Role.ADMIN), project, view="ranked")
    assert len(rows) == 3 and {r["set_id"] for r in rows} != {gold[0].pk}


def test_exclude_annotators_by_pseudonym(client_for, world):
    project, _, _, users = world
    a = annotator_pseudonym(project.pseudonym_salt, users["A"].pk)
    _, rows = export(client_for(Role.ADMIN), project, exclude_annotators=a)
    assert len(rows) == 6 and a not in {r["annotator"] for r in rows}


def test_unknown_pseudonym_is_400(client_for, world):
    project, *_ = world
    response = client_for(Role.ADMIN).get(
        f"/api/v1/projects/{project.pk}/export/", {"exclude_annotators": "nobody"}
    )
    assert response.status_code == 400
    assert "exclude_annotators" in response.json()["errors"]


def test_min_agreement_keeps_only_sets_that_agree_enough(client_for, world):
    project, *_ = world
    client = client_for(Role.ADMIN)
    assert len(export(client, project, min_agreement=0.6)[1]) == 11
    assert export(client, project, min_agreement=0.7)[1] == []


def test_exclude_flagged_and_time_window(client_for, world):
    project, _, _, users = world
    client = client_for(Role.ADMIN)
    Ranking.objects.filter(annotator=users["B"]).update(qc_flags=["too_fast"])
    _, rows = export(client, project, view="ranked", exclude_flagged="true")
    assert len(rows) == 2 and [len(r["tiers"]) for r in rows] == [3, 0]
    first = Ranking.objects.order_by("id").first().created_at
    _, later = export(client, project, view="ranked", since=(first.isoformat()))
    assert len(later) == 3
    _, none = export(client, project, view="ranked", until=first.isoformat())
    assert none == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"view": "pairs"}, "view"),
        ({"pairs": "some"}, "pairs"),
        ({"fmt": "csv"}, "fmt"),
        ({"veiw": "kto"}, "veiw"),
        ({"min_pair_agreement": "2"}, "min_pair_agreement"),
        ({"since": "yesterday"}, "since"),
        ({"method": "vibes"}, "method"),
    ],
)
def test_bad_export_parameters_are_400(client_for, world, params, field):
    project, *_ = world
    response = client_for(Role.ADMIN).get(f"/api/v1/projects/{project.pk}/export/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_bradley_terry_consensus_weighs_annotators_by_their_agreement(
    client_for, make_project, make_user
):
    """Two annotators who always reverse everyone else get little weight, so on a set where
    they outvote one reliable annotator, Bradley–Terry follows the reliable one; Borda (equal
    weights) follows the majority."""
    project = make_project(k=3, annotations_per_set=6)
    rows = [
        (n, {"prompt": f"q{n}", "candidates": [{"text": f"q{n} a{j}"} for j in range(3)]})
        for n in range(1, 6)
    ]
    candidate_sets_import(project=project, rows=rows)
    good = [make_user(Role.ANNOTATOR) for _ in range(4)]
    spammers = [make_user(Role.ANNOTATOR) for _ in range(2)]
    for _ in range(5):
        for annotator in good:
            rank_next(project, annotator, [[0], [1], [2]])
        for annotator in spammers:
            rank_next(project, annotator, [[2], [1], [0]])
    (disputed,) = candidate_sets_import(
        project=project,
        rows=[(1, {"prompt": "x", "candidates": [{"text": f"x a{j}"} for j in range(3)]})],
    )
    for annotator, order in (
        (spammers[0], [[2], [1], [0]]),
        (spammers[1], [[2], [1], [0]]),
        (good[0], [[0], [1], [2]]),
    ):
        rank_next(project, annotator, order)
    client = client_for(Role.ADMIN)

    def consensus_of(method):
        _, rows = export(client, project, view="consensus", method=method)
        return next(r["tiers"] for r in rows if r["set_id"] == disputed.pk)

    assert consensus_of("borda") == [[2], [1], [0]]
    assert consensus_of("bradley_terry")[0] == [0]

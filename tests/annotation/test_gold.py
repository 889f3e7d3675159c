"""Gold sets (issue #3): expert import, hiding them among normal tasks at the project's
``gold_rate``, and each annotator's accuracy on them.

Which task next-task hands out depends on a random draw; most tests fix it with the
``gold_draw`` fixture (gold is served when the draw is below ``gold_rate``), and one test runs
the real SystemRandom with a failure probability below 1e-9."""

import math

import pytest

from annotation.enums import CandidateSetState, GoldSource, Role
from annotation.models import Assignment, Candidate, CandidateSet, Prompt, Ranking
from annotation.quality import AnnotatorStats, gold_accuracy, gold_failure_user_ids

pytestmark = pytest.mark.django_db


def gold_row(n: int, gold_ranking, k: int = 3, **extra) -> dict:
    return {
        "prompt": f"gold prompt {n}",
        "candidates": [{"text": f"gold {n} answer {j}"} for j in range(k)],
        "gold_ranking": gold_ranking,
        **extra,
    }


def import_gold(client, project, rows):
    return client.post(f"/api/v1/projects/{project.pk}/gold-sets/", rows, format="json")


def make_gold(admin_client, project, *gold_rankings) -> list[CandidateSet]:
    rows = [gold_row(n, ranking, k=project.k) for n, ranking in enumerate(gold_rankings)]
    response = import_gold(admin_client, project, rows)
    assert response.status_code == 201, response.content
    return list(CandidateSet.objects.filter(pk__in=response.json()["ids"]).order_by("id"))


def set_gold_rate(admin_client, project, rate: float) -> None:
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/", {"gold_rate": rate}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["gold_rate"] == rate
    project.refresh_from_db()


def ids_by_text(candidate_set: CandidateSet) -> dict[str, int]:
    return {c.text: c.pk for c in candidate_set.candidates.all()}


def assert_nothing_written():
    assert CandidateSet.objects.count() == 0
    assert Prompt.objects.count() == 0
    assert Candidate.objects.count() == 0


# --- import --------------------------------------------------------------------------------


def test_gold_import_stores_gold_tiers_as_candidate_ids_with_expert_source(
    admin_client, make_project
):
    project = make_project(k=3)
    response = import_gold(
        admin_client, project, [gold_row(1, [[2], [0, 1]]), gold_row(2, [[0], [1], [2]])]
    )
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2
    first, second = CandidateSet.objects.filter(pk__in=response.json()["ids"]).order_by("id")
    a = ids_by_text(first)
    assert first.gold_tiers == [
        [a["gold 1 answer 2"]],
        [a["gold 1 answer 0"], a["gold 1 answer 1"]],
    ]
    b = ids_by_text(second)
    assert second.gold_tiers == [
        [b["gold 2 answer 0"]],
        [b["gold 2 answer 1"]],
        [b["gold 2 answer 2"]],
    ]
    for gold in (first, second):
        assert gold.gold_source == GoldSource.EXPERT
        assert gold.is_gold
        assert gold.state == CandidateSetState.OPEN
    assert first.prompt.messages == [{"role": "user", "content": "gold prompt 1"}]


def test_gold_sets_are_not_counted_in_the_projects_set_count(admin_client, make_project, make_sets):
    project = make_project(k=3)
    make_sets(project, 2)
    make_gold(admin_client, project, [[0], [1], [2]])
    body = admin_client.get(f"/api/v1/projects/{project.pk}/").json()
    assert body["set_count"] == 2
    assert body["prompt_count"] == 3


@pytest.mark.parametrize(
    ("gold_ranking", "message"),
    [
        ([[0], [1]], "Must name each of the 3 candidates (0 to 2) exactly once."),
        ([[0], [0], [1, 2]], "Must name each of the 3 candidates (0 to 2) exactly once."),
        ([[0], [1], [3]], "Must name each of the 3 candidates (0 to 2) exactly once."),
        ([[0, 1, 2]], "Needs at least two tiers: a gold set must have a better answer."),
        ([["0"], [1], [2]], "Indices must be integers."),
        ([[0.0], [1], [2]], "Indices must be integers."),
        ([[True], [0], [2]], "Indices must be integers."),
        ([[0], [], [1, 2]], "Must be a list of non-empty tiers of candidate indices (0-based)."),
        ("0 > 1 > 2", "Must be a list of non-empty tiers of candidate indices (0-based)."),
        (None, "Must be a list of non-empty tiers of candidate indices (0-based)."),
    ],
    ids=[
        "missing-index",
        "repeated-index",
        "out-of-range",
        "one-tier",
        "string-index",
        "float-index",
        "bool-index",
        "empty-tier",
        "not-a-list",
        "absent",
    ],
)
def test_invalid_gold_ranking_is_refused_naming_the_row_and_nothing_is_written(
    admin_client, make_project, gold_ranking, message
):
    project = make_project(k=3)
    bad = gold_row(2, gold_ranking)
    if gold_ranking is None:
        del bad["gold_ranking"]
    response = import_gold(admin_client, project, [gold_row(1, [[0], [1], [2]]), bad])
    assert response.status_code == 400
    assert response.json()["errors"] == {"rows[2].gold_ranking": [message]}
    assert response.json()["detail"] == "1 gold ranking(s) are invalid; nothing was imported."
    assert_nothing_written()


def test_bad_candidate_rows_of_a_gold_import_are_refused_and_nothing_is_written(
    admin_client, make_project
):
    project = make_project(k=3)
    two_candidates = gold_row(1, [[0], [1], [2]], k=2)
    duplicate_texts = gold_row(2, [[0], [1], [2]])
    duplicate_texts["candidates"][1]["text"] = duplicate_texts["candidates"][0]["text"]
    response = import_gold(
        admin_client, project, [two_candidates, duplicate_texts, gold_row(3, [[0], [1], [2]])]
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors == {
        "rows[1].candidates": ["This project ranks K=3 responses; got 2."],
        "rows[2].candidates": ["Candidates of one set must have distinct texts."],
    }
    assert_nothing_written()


def test_gold_import_reports_candidate_and_gold_ranking_errors_together(admin_client, make_project):
    project = make_project(k=3)
    response = import_gold(
        admin_client,
        project,
        ["not an object", gold_row(2, [[0, 1, 2]]), gold_row(3, [[0], [1], [2]], typo=1)],
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["rows[1]"] == ["Each row must be a JSON object."]
    assert errors["rows[2].gold_ranking"] == [
        "Needs at least two tiers: a gold set must have a better answer."
    ]
    assert errors["rows[3].typo"] == ["Unknown field."]
    assert response.json()["detail"].startswith("3 of 3 row(s) are invalid; nothing was imported.")
    assert_nothing_written()


def test_empty_gold_import_is_refused(admin_client, make_project):
    project = make_project(k=3)
    response = import_gold(admin_client, project, [])
    assert response.status_code == 400
    assert response.json()["errors"] == {"rows": ["The upload contains no rows."]}
    assert_nothing_written()


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR])
def test_only_admins_import_gold_sets(client_for, make_project, role):
    project = make_project(k=3)
    response = import_gold(client_for(role), project, [gold_row(1, [[0], [1], [2]])])
    assert response.status_code == 403
    assert_nothing_written()


# --- gold in next-task ---------------------------------------------------------------------


def task_set(client, project) -> int | None:
    response = client.post(f"/api/v1/projects/{project.pk}/next-task/")
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.content
    return response.json()["candidate_set"]


@pytest.fixture
def gold_project(admin_client, make_project, make_sets):
    """K=3, overlap 1, four normal sets and two gold sets, gold_rate 0.5 (set by PATCH)."""
    project = make_project(k=3, annotations_per_set=1)
    project.normal_ids = {s.pk for s in make_sets(project, 4)}
    project.gold_ids = {
        g.pk for g in make_gold(admin_client, project, [[0], [1], [2]], [[1], [0, 2]])
    }
    set_gold_rate(admin_client, project, 0.5)
    return project


@pytest.mark.parametrize(("draw", "served"), [(0.0, "gold"), (0.49, "gold"), (0.5, "normal")])
def test_next_task_serves_gold_when_the_draw_is_below_gold_rate(
    client_for, gold_project, gold_draw, draw, served
):
    gold_draw(draw)
    set_id = task_set(client_for(Role.ANNOTATOR), gold_project)
    expected = gold_project.gold_ids if served == "gold" else gold_project.normal_ids
    assert set_id in expected


def test_gold_rate_zero_never_serves_gold(
    admin_client, client_for, gold_project, gold_draw, take_and_rank
):
    set_gold_rate(admin_client, gold_project, 0.0)
    gold_draw(0.0)
    client = client_for(Role.ANNOTATOR)
    seen = []
    while (task := take_and_rank(client, gold_project, lambda t: [t["shown"]])[0]) is not None:
        seen.append(task["candidate_set"])
    assert set(seen) == gold_project.normal_ids
    assert not Assignment.objects.filter(candidate_set_id__in=gold_project.gold_ids).exists()


def test_each_gold_set_is_handed_to_an_annotator_at_most_once(
    client_for, gold_project, gold_draw, take_and_rank
):
    gold_draw(0.0)  # every draw asks for gold
    client = client_for(Role.ANNOTATOR)
    seen = []
    while (task := take_and_rank(client, gold_project, lambda t: [t["shown"]])[0]) is not None:
        seen.append(task["candidate_set"])
    # Both gold sets first (the draw always asks for gold), then only normal sets.
    assert set(seen[:2]) == gold_project.gold_ids
    assert set(seen[2:]) == gold_project.normal_ids
    assert len(seen) == len(set(seen)) == 6


def test_a_skipped_gold_set_is_not_handed_out_again(
    client_for, gold_project, gold_draw, take_and_rank
):
    gold_draw(0.0)
    client = client_for(Role.ANNOTATOR)
    first = client.post(f"/api/v1/projects/{gold_project.pk}/next-task/").json()
    assert first["candidate_set"] in gold_project.gold_ids
    assert client.post(f"/api/v1/assignments/{first['assignment']}/skip/").status_code == 200
    later = []
    while (task := take_and_rank(client, gold_project, lambda t: [t["shown"]])[0]) is not None:
        later.append(task["candidate_set"])
    assert first["candidate_set"] not in later
    assert (
        set(later) == (gold_project.gold_ids - {first["candidate_set"]}) | gold_project.normal_ids
    )


def test_gold_sets_have_no_overlap_limit_and_never_complete(
    admin_client, client_for, make_project, make_sets, gold_draw, take_and_rank
):
    project = make_project(k=3, annotations_per_set=1)
    make_sets(project, 3)
    (gold,) = make_gold(admin_client, project, [[0], [1], [2]])
    set_gold_rate(admin_client, project, 0.5)
    gold_draw(0.0)
    for _ in range(3):
        task, _ = take_and_rank(client_for(Role.ANNOTATOR), project, lambda t: [t["shown"]])
        assert task["candidate_set"] == gold.pk
    gold.refresh_from_db()
    assert gold.state == CandidateSetState.OPEN
    assert gold.completed_at is None
    assert Ranking.objects.filter(candidate_set=gold).count() == 3
    body = admin_client.get(f"/api/v1/projects/{project.pk}/").json()
    assert (body["set_count"], body["complete_set_count"]) == (3, 0)


def test_no_gold_is_served_when_no_normal_set_is_left(
    admin_client, client_for, make_project, make_sets, gold_draw, take_and_rank
):
    project = make_project(k=3, annotations_per_set=1)
    (normal,) = make_sets(project, 1)
    make_gold(admin_client, project, [[0], [1], [2]])
    set_gold_rate(admin_client, project, 0.5)
    gold_draw(0.99)
    task, _ = take_and_rank(client_for(Role.ANNOTATOR), project, lambda t: [t["shown"]])
    assert task["candidate_set"] == normal.pk
    gold_draw(0.0)
    newcomer = client_for(Role.ANNOTATOR)  # has never seen the gold set
    response = newcomer.post(f"/api/v1/projects/{project.pk}/next-task/")
    assert response.status_code == 204
    assert not Assignment.objects.filter(annotator=newcomer.user).exists()


def test_no_gold_is_served_while_every_normal_set_is_leased_to_others(
    admin_client, client_for, make_project, make_sets, gold_draw
):
    project = make_project(k=3, annotations_per_set=1)
    (normal,) = make_sets(project, 1)
    make_gold(admin_client, project, [[0], [1], [2]])
    set_gold_rate(admin_client, project, 0.5)
    gold_draw(0.99)
    assert task_set(client_for(Role.ANNOTATOR), project) == normal.pk
    gold_draw(0.0)
    assert task_set(client_for(Role.ANNOTATOR), project) is None


def test_gold_rate_mixes_gold_among_normal_tasks_with_real_randomness(
    admin_client, client_for, make_project, make_sets, take_and_rank
):
    """Real SystemRandom at gold_rate 0.5: 30 tasks from 40 normal and 5 gold sets. No gold
    at all has probability 2⁻³⁰ (< 1e-9); all gold is impossible (only 5 exist)."""
    project = make_project(k=2, annotations_per_set=1)
    normal_ids = {s.pk for s in make_sets(project, 40)}
    gold_ids = {g.pk for g in make_gold(admin_client, project, *([[[0], [1]]] * 5))}
    set_gold_rate(admin_client, project, 0.5)
    client = client_for(Role.ANNOTATOR)
    served = [
        take_and_rank(client, project, lambda t: [[i] for i in t["shown"]])[0]["candidate_set"]
        for _ in range(30)
    ]
    gold_served = [s for s in served if s in gold_ids]
    assert 1 <= len(gold_served) <= 5
    assert len(set(gold_served)) == len(gold_served)
    assert set(served) - gold_ids <= normal_ids
    assert len(served) - len(gold_served) >= 25


def test_gold_rate_above_half_is_refused(admin_client, make_project):
    project = make_project(k=3)
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/", {"gold_rate": 0.6}, format="json"
    )
    assert response.status_code == 400
    assert "gold_rate" in response.json()["errors"]
    project.refresh_from_db()
    assert project.gold_rate == 0.0


# --- gold accuracy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tiers", "gold", "expected"),
    [
        ([[1], [2], [3]], [[1], [2], [3]], 1.0),
        ([[3], [2], [1]], [[1], [2], [3]], 0.0),
        ([[1, 2], [3]], [[1], [2], [3]], 2.5 / 3),  # the tied gold pair scores half
        ([[1, 2, 3]], [[1], [2], [3]], 0.5),
        ([[1], [3], [2]], [[1], [2, 3]], 1.0),  # pairs tied in the gold do not count
        ([[2], [1], [3], [4]], [[1], [2, 3, 4]], 2 / 3),  # honeypot shape
        ([], [[1], [2], [3]], 0.0),  # "all bad" on a gold set
    ],
    ids=["perfect", "reversed", "one-tie", "all-tied", "gold-tie", "honeypot", "not-rankable"],
)
def test_gold_accuracy_is_the_share_of_gold_pairs_ordered_the_same_way(tiers, gold, expected):
    assert gold_accuracy(tiers, gold) == pytest.approx(expected)


@pytest.mark.parametrize(("accuracies", "fails"), [([0.75], False), ([0.74], True), ([], False)])
def test_an_annotator_fails_gold_below_three_quarters_accuracy(accuracies, fails):
    assert AnnotatorStats(user_id=1, gold_accuracies=accuracies).fails_gold is fails


def rank_by_gold(reverse: bool):
    """Rank a gold set as its gold order (tied gold candidates in id order), or the reverse."""

    def rank(task):
        gold = CandidateSet.objects.get(pk=task["candidate_set"]).gold_tiers
        order = [c for tier in gold for c in sorted(tier)]
        return [[c] for c in (order[::-1] if reverse else order)]

    return rank


def test_annotators_endpoint_reports_gold_accuracy_and_failure(
    admin_client, client_for, make_project, make_sets, gold_draw, take_and_rank
):
    project = make_project(k=3, annotations_per_set=2)
    make_sets(project, 1)
    make_gold(admin_client, project, [[0], [1], [2]], [[2], [0, 1]])
    set_gold_rate(admin_client, project, 0.5)
    gold_draw(0.0)
    good, bad = client_for(Role.ANNOTATOR), client_for(Role.ANNOTATOR)
    for client, reverse in ((good, False), (bad, True)):
        for _ in range(2):
            task, _ = take_and_rank(client, project, rank_by_gold(reverse))
            assert CandidateSet.objects.get(pk=task["candidate_set"]).is_gold

    response = client_for(Role.REVIEWER).get(f"/api/v1/projects/{project.pk}/annotators/")
    assert response.status_code == 200
    stats = {row["annotator_id"]: row for row in response.json()["results"]}
    # Strict ranking vs. gold [[c2], [c0, c1]]: τ-b = 2 / √(3·2) (one pair tied in the gold).
    tau_tied = 2 / math.sqrt(6)
    g, b = stats[good.user.pk], stats[bad.user.pk]
    assert g["username"] == good.user.username
    assert (g["gold_sets"], g["rankings"]) == (2, 0)  # gold rankings are not dataset rankings
    assert g["gold_accuracy"] == pytest.approx(1.0)
    assert g["gold_tau"] == pytest.approx((1.0 + tau_tied) / 2)
    assert g["fails_gold"] is False
    assert (b["gold_sets"], b["rankings"]) == (2, 0)
    assert b["gold_accuracy"] == pytest.approx(0.0)
    assert b["gold_tau"] == pytest.approx((-1.0 - tau_tied) / 2)
    assert b["fails_gold"] is True
    assert gold_failure_user_ids(project=project) == [bad.user.pk]


def test_annotators_without_gold_work_have_no_gold_accuracy(
    client_for, make_project, make_sets, take_and_rank
):
    project = make_project(k=3)
    make_sets(project, 1)
    annotator = client_for(Role.ANNOTATOR)
    take_and_rank(annotator, project, lambda t: [[i] for i in reversed(t["shown"])])
    (row,) = (
        client_for(Role.REVIEWER)
        .get(f"/api/v1/projects/{project.pk}/annotators/")
        .json()["results"]
    )
    assert row["gold_sets"] == 0
    assert row["gold_accuracy"] is None
    assert row["gold_tau"] is None
    assert row["fails_gold"] is False


def test_an_expired_gold_lease_is_renewed_for_the_same_annotator(
    client_for, gold_project, gold_draw, take_and_rank
):
    """The lease-expired 409 promises the set back if it is still free; gold sets always are."""
    from datetime import timedelta

    from django.utils import timezone

    from annotation.models import Assignment

    gold_draw(0.0)
    client = client_for(Role.ANNOTATOR)
    first = client.post(f"/api/v1/projects/{gold_project.pk}/next-task/").json()
    assert first["candidate_set"] in gold_project.gold_ids
    Assignment.objects.filter(pk=first["assignment"]).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    served = []
    while (task := take_and_rank(client, gold_project, lambda t: [t["shown"]])[0]) is not None:
        served.append((task["candidate_set"], task["assignment"]))
    assert (first["candidate_set"], first["assignment"]) in served  # the same lease, renewed
    assert len(served) == len(set(served)) == 6

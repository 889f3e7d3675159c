"""Quality reads (issue #3): QC flags stored at submit, per-annotator statistics
(``GET …/annotators/``) and project progress with agreement (``GET …/progress/``).

Expected values are computed by hand in the comments (Kendall τ-b, Krippendorff's α ordinal,
the exact position-bias test)."""

import math

import pytest
from django.utils import timezone
from scipy import stats as scipy_stats

from annotation.enums import Role
from annotation.models import CandidateSet, Ranking
from annotation.services.imports import candidate_sets_import
from annotation.services.rankings import QC_DISPLAY_ORDER, QC_TOO_FAST

pytestmark = pytest.mark.django_db


def canonical(candidate_set_id: int) -> list[int]:
    return list(
        CandidateSet.objects.get(pk=candidate_set_id)
        .members.order_by("position")
        .values_list("candidate_id", flat=True)
    )


def by_position(*positions: int):
    """Rank strictly by canonical positions, best first: ``by_position(2, 0, 1)``."""
    return lambda task: [[canonical(task["candidate_set"])[p]] for p in positions]


def as_shown(task):
    return [[c] for c in task["shown"]]


def qc_flags(ranking_json) -> list[str]:
    return Ranking.objects.get(pk=ranking_json["id"]).qc_flags


def annotator_rows(client, project) -> dict[int, dict]:
    response = client.get(f"/api/v1/projects/{project.pk}/annotators/")
    assert response.status_code == 200, response.content
    return {row["annotator_id"]: row for row in response.json()["results"]}


def progress(client, project) -> dict:
    response = client.get(f"/api/v1/projects/{project.pk}/progress/")
    assert response.status_code == 200, response.content
    return response.json()


# --- QC flags at submit --------------------------------------------------------------------


@pytest.fixture
def reading_project(make_project):
    """K=3 sets whose prompt (100 chars) and responses (3 × 300 chars) take 1,000 characters
    to read: 20 s at the 50 chars/s skimming floor of ``too_fast``."""
    project = make_project(k=3, annotations_per_set=1)
    rows = [
        (
            i + 1,
            {
                "prompt": f"{i:03d}" + "q" * 97,
                "candidates": [{"text": f"{i:03d}{j}" + "r" * 296} for j in range(3)],
            },
        )
        for i in range(6)
    ]
    candidate_sets_import(project=project, rows=rows)
    return project


@pytest.mark.parametrize("interaction", [None, {}, {"moves": 0, "keys": 0}])
def test_display_order_submitted_without_interaction_is_flagged(
    client_for, reading_project, take_and_rank, interaction
):
    _, ranking = take_and_rank(
        client_for(Role.ANNOTATOR), reading_project, as_shown, interaction=interaction
    )
    assert qc_flags(ranking) == [QC_DISPLAY_ORDER]


@pytest.mark.parametrize(
    ("rank", "body"),
    [
        (as_shown, {"interaction": {"moves": 3}}),
        (lambda t: [[c] for c in reversed(t["shown"])], {"interaction": None}),
        (lambda t: [t["shown"][:2], t["shown"][2:]], {"interaction": None}),  # ties
        (None, {"not_rankable": True, "interaction": None}),
    ],
    ids=["reordered-back", "other-order", "with-ties", "not-rankable"],
)
def test_other_submissions_are_not_flagged_for_display_order(
    client_for, reading_project, take_and_rank, rank, body
):
    _, ranking = take_and_rank(client_for(Role.ANNOTATOR), reading_project, rank, **body)
    assert qc_flags(ranking) == []


@pytest.mark.parametrize(
    ("seconds", "flagged"),
    # 1,000 characters shown → 20 s. 19 s is flagged only because the prompt counts too
    # (the responses alone, 900 characters, would need 18 s).
    [(2.0, True), (19.0, True), (20.0, False), (60.0, False), (None, False)],
)
def test_too_fast_compares_time_spent_with_reading_time_of_prompt_and_responses(
    client_for, reading_project, take_and_rank, seconds, flagged
):
    _, ranking = take_and_rank(
        client_for(Role.ANNOTATOR),
        reading_project,
        by_position(2, 0, 1),
        time_spent_seconds=seconds,
    )
    assert qc_flags(ranking) == ([QC_TOO_FAST] if flagged else [])


def test_short_texts_have_a_three_second_floor(client_for, make_project, make_sets, take_and_rank):
    project = make_project(k=2)
    make_sets(project, 2)
    client = client_for(Role.ANNOTATOR)
    _, fast = take_and_rank(client, project, by_position(1, 0), time_spent_seconds=2.9)
    _, fine = take_and_rank(client, project, by_position(1, 0), time_spent_seconds=3.0)
    assert (qc_flags(fast), qc_flags(fine)) == ([QC_TOO_FAST], [])


def test_qc_flags_never_refuse_a_submission_and_are_counted_per_annotator(
    client_for, reading_project, take_and_rank
):
    sloppy, careful = client_for(Role.ANNOTATOR), client_for(Role.ANNOTATOR)
    _, both = take_and_rank(
        sloppy, reading_project, as_shown, interaction=None, time_spent_seconds=4.0
    )
    assert qc_flags(both) == [QC_DISPLAY_ORDER, QC_TOO_FAST]
    take_and_rank(sloppy, reading_project, as_shown, interaction={"moves": 0})
    take_and_rank(sloppy, reading_project, by_position(1, 2, 0), time_spent_seconds=4.0)
    take_and_rank(careful, reading_project, by_position(1, 2, 0))
    rows = annotator_rows(client_for(Role.REVIEWER), reading_project)
    assert rows[sloppy.user.pk]["flags"] == {QC_DISPLAY_ORDER: 2, QC_TOO_FAST: 2}
    assert rows[careful.user.pk]["flags"] == {}
    assert progress(client_for(Role.REVIEWER), reading_project)["flagged"] == 3


# --- per-annotator statistics --------------------------------------------------------------


def test_annotator_stats_count_rankings_skips_and_median_seconds(
    client_for, make_project, make_sets, take_and_rank
):
    project = make_project(k=3)
    make_sets(project, 5)
    worker, silent = client_for(Role.ANNOTATOR), client_for(Role.ANNOTATOR)
    for seconds in (10.0, 30.0, 20.0):
        take_and_rank(worker, project, by_position(1, 0, 2), time_spent_seconds=seconds)
    task = worker.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    assert worker.post(f"/api/v1/assignments/{task['assignment']}/skip/").status_code == 200
    take_and_rank(silent, project, by_position(1, 0, 2), time_spent_seconds=None)

    rows = annotator_rows(client_for(Role.ADMIN), project)
    w, s = rows[worker.user.pk], rows[silent.user.pk]
    assert w["username"] == worker.user.username
    assert (w["rankings"], w["skipped"], w["median_seconds"]) == (3, 1, 20.0)
    assert (s["rankings"], s["skipped"], s["median_seconds"]) == (1, 0, None)
    assert w["agreement_tau"] is None and w["agreement_sets"] == 0  # overlap 1: no peers


def test_an_annotator_who_only_skipped_is_listed(client_for, make_project, make_sets):
    project = make_project(k=3)
    make_sets(project, 1)
    skipper = client_for(Role.ANNOTATOR)
    task = skipper.post(f"/api/v1/projects/{project.pk}/next-task/").json()
    skipper.post(f"/api/v1/assignments/{task['assignment']}/skip/")
    row = annotator_rows(client_for(Role.ADMIN), project)[skipper.user.pk]
    assert (row["rankings"], row["skipped"]) == (0, 1)
    assert row["position_bias"]["p_value"] == 1.0


def rank_one_set_by(client_for, take_and_rank, project, *orders) -> list:
    clients = []
    for order in orders:
        client = client_for(Role.ANNOTATOR)
        take_and_rank(client, project, by_position(*order))
        clients.append(client)
    return clients


def test_agreement_tau_against_leave_one_out_consensus_partial_disagreement(
    client_for, make_project, make_sets, take_and_rank
):
    """A = B = [c0, c1, c2], C = [c1, c0, c2].
    For A: Borda of B and C gives c0 = c1 = 1.5, c2 = 0 → [[c0, c1], [c2]]; against A's strict
    order one pair is tied in the consensus: τ-b = (2 − 0) / √(3·2) = 2/√6 (same for B).
    For C: the others' consensus is [c0, c1, c2]; C has one discordant pair: τ = (2 − 1)/3."""
    project = make_project(k=3, annotations_per_set=3)
    make_sets(project, 1)
    a, b, c = rank_one_set_by(client_for, take_and_rank, project, (0, 1, 2), (0, 1, 2), (1, 0, 2))
    rows = annotator_rows(client_for(Role.REVIEWER), project)
    assert rows[a.user.pk]["agreement_tau"] == pytest.approx(2 / math.sqrt(6))
    assert rows[b.user.pk]["agreement_tau"] == pytest.approx(2 / math.sqrt(6))
    assert rows[c.user.pk]["agreement_tau"] == pytest.approx(1 / 3)
    assert {row["agreement_sets"] for row in rows.values()} == {1}


def test_agreement_tau_when_one_annotator_reverses_the_other_two(
    client_for, make_project, make_sets, take_and_rank
):
    """A = B = [c0, c1, c2], C reversed. For A, the others (B and reversed C) tie everything
    under Borda, so τ-b is undefined (None; same for B). For C the others agree: τ = −1."""
    project = make_project(k=3, annotations_per_set=3)
    make_sets(project, 1)
    a, b, c = rank_one_set_by(client_for, take_and_rank, project, (0, 1, 2), (0, 1, 2), (2, 1, 0))
    rows = annotator_rows(client_for(Role.REVIEWER), project)
    assert rows[a.user.pk]["agreement_tau"] is None
    assert rows[b.user.pk]["agreement_tau"] is None
    assert rows[c.user.pk]["agreement_tau"] == pytest.approx(-1.0)


def test_position_bias_of_annotators_who_always_or_never_top_the_first_shown(
    client_for, make_project, make_sets, take_and_rank
):
    """K = 3, 8 sets each. Under no bias the first-shown response is on top with p = 1/3:
    always on top → rate 1, z = (8 − 8/3) / √(8·(1/3 − 1/9)) = 4, exact p = (1/3)⁸;
    never → rate 0, z = −2, p = P(X=0) + P(X≥6) = (256 + 112 + 16 + 1) / 3⁸ = 385/6561."""
    project = make_project(k=3, annotations_per_set=1)
    make_sets(project, 16)
    primacy, avoider = client_for(Role.ANNOTATOR), client_for(Role.ANNOTATOR)
    for _ in range(8):
        # Not the display order itself, so no display-order flag either.
        take_and_rank(
            primacy, project, lambda t: [[t["shown"][0]], [t["shown"][2]], [t["shown"][1]]]
        )
        take_and_rank(
            avoider, project, lambda t: [[t["shown"][1]], [t["shown"][0]], [t["shown"][2]]]
        )
    rows = annotator_rows(client_for(Role.REVIEWER), project)
    biased = rows[primacy.user.pk]["position_bias"]
    assert biased["first_shown_top_rate"] == 1.0
    assert biased["expected_rate"] == pytest.approx(1 / 3)
    assert biased["z"] == pytest.approx(4.0)
    assert biased["p_value"] == pytest.approx(3**-8)
    never = rows[avoider.user.pk]["position_bias"]
    assert never["first_shown_top_rate"] == 0.0
    assert never["z"] == pytest.approx(-2.0)
    assert never["p_value"] == pytest.approx(385 / 6561)
    assert never["p_value"] == pytest.approx(scipy_stats.binomtest(0, 8, 1 / 3).pvalue)
    assert rows[primacy.user.pk]["flags"] == rows[avoider.user.pk]["flags"] == {}


@pytest.mark.parametrize("role", [Role.ANNOTATOR, None])
def test_annotator_stats_and_progress_are_for_reviewers_and_admins(client_for, make_project, role):
    project = make_project(k=3)
    client = client_for(role)
    expected = 403 if role else 401
    assert client.get(f"/api/v1/projects/{project.pk}/annotators/").status_code == expected
    assert client.get(f"/api/v1/projects/{project.pk}/progress/").status_code == expected


def test_stats_of_a_missing_project_are_404(client_for):
    assert client_for(Role.REVIEWER).get("/api/v1/projects/999999/progress/").status_code == 404
    assert client_for(Role.REVIEWER).get("/api/v1/projects/999999/annotators/").status_code == 404


# --- progress and agreement ----------------------------------------------------------------


def test_progress_of_an_empty_project(client_for, make_project):
    project = make_project(k=3)
    assert progress(client_for(Role.REVIEWER), project) == {
        "sets": 0,
        "sets_open": 0,
        "sets_complete": 0,
        "gold_sets": 0,
        "rankings": 0,
        "gold_rankings": 0,
        "not_rankable": 0,
        "flagged": 0,
        "rejected": 0,
        "sent_back": 0,
        "rankings_per_day": [],
        "agreement": {
            "krippendorff_alpha_ordinal": None,
            "mean_pairwise_agreement": None,
            "sets_with_overlap": 0,
        },
    }


def test_progress_counts_sets_rankings_and_perfect_agreement(
    admin_client, client_for, make_project, make_sets, gold_draw, take_and_rank
):
    """Three normal sets (overlap 2) and two gold sets. A ranks both gold sets (one "all bad",
    one in display order untouched: flagged), then S1; B ranks S1 like A (complete, perfect
    agreement) and S2 "all bad"; C ranks S2 in display order untouched (flagged; S2 complete).
    Gold rankings count only as gold_rankings."""
    project = make_project(k=3, annotations_per_set=2)
    s1, s2, s3 = make_sets(project, 3)
    gold = admin_client.post(
        f"/api/v1/projects/{project.pk}/gold-sets/",
        [
            {
                "prompt": f"gold {n}",
                "candidates": [{"text": f"g{n}.{j}"} for j in range(3)],
                "gold_ranking": [[0], [1], [2]],
            }
            for n in range(2)
        ],
        format="json",
    )
    assert gold.status_code == 201
    admin_client.patch(f"/api/v1/projects/{project.pk}/", {"gold_rate": 0.5}, format="json")
    a, b, c = (client_for(Role.ANNOTATOR) for _ in range(3))

    gold_draw(0.0)
    take_and_rank(a, project, None, not_rankable=True)
    _, flagged_gold = take_and_rank(a, project, as_shown, interaction=None)
    assert qc_flags(flagged_gold) == [QC_DISPLAY_ORDER]
    gold_draw(0.99)
    assert take_and_rank(a, project, by_position(0, 1, 2))[0]["candidate_set"] == s1.pk
    assert take_and_rank(b, project, by_position(0, 1, 2))[0]["candidate_set"] == s1.pk
    assert take_and_rank(b, project, None, not_rankable=True)[0]["candidate_set"] == s2.pk
    assert take_and_rank(c, project, as_shown, interaction=None)[0]["candidate_set"] == s2.pk

    body = progress(client_for(Role.REVIEWER), project)
    today = timezone.localdate().isoformat()
    assert body == {
        "sets": 3,
        "sets_open": 1,
        "sets_complete": 2,
        "gold_sets": 2,
        "rankings": 4,
        "gold_rankings": 2,
        "not_rankable": 1,
        "flagged": 1,
        "rejected": 0,
        "sent_back": 0,
        "rankings_per_day": [{"day": today, "rankings": 6}],
        # S1: identical rankings → α = 1 and pairwise agreement 1; S2 has one usable ranking.
        "agreement": {
            "krippendorff_alpha_ordinal": 1.0,
            "mean_pairwise_agreement": 1.0,
            "sets_with_overlap": 1,
        },
    }


def test_progress_agreement_of_reversed_rankings(
    client_for, make_project, make_sets, take_and_rank
):
    """Two annotators, K = 3, one the reverse of the other. Units (mid-ranks): c0 {1, 3},
    c1 {2, 2}, c2 {3, 1}. Coincidences o₁₃ = o₃₁ = 2, o₂₂ = 2; n_c = 2 each, n = 6;
    δ²₁₃ = (6 − 2)² = 16, δ²₁₂ = δ²₂₃ = (4 − 2)² = 4. D_o ∝ 2·2·16 = 64,
    D_e ∝ 2·(4·4 + 4·16 + 4·4) = 192, α = 1 − (6 − 1)·64/192 = −2/3. No pair agrees: 0."""
    project = make_project(k=3, annotations_per_set=2)
    make_sets(project, 1)
    rank_one_set_by(client_for, take_and_rank, project, (0, 1, 2), (2, 1, 0))
    agreement = progress(client_for(Role.REVIEWER), project)["agreement"]
    assert agreement["krippendorff_alpha_ordinal"] == pytest.approx(-2 / 3)
    assert agreement["mean_pairwise_agreement"] == 0.0
    assert agreement["sets_with_overlap"] == 1

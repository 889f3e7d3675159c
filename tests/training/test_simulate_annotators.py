"""Simulated annotators (issue #6) against a live server: real HTTP, real PostgreSQL, one
thread per annotator. They fill every set to its overlap, rank by the tiny world's hidden rule,
rank gold sets like any other, and their bad behaviours raise exactly the QC flags meant to
catch them."""

from __future__ import annotations

import random
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.exceptions import APIException

from annotation.enums import Role
from annotation.models import Assignment, CandidateSet, Ranking
from annotation.services.gold import gold_sets_import
from annotation.services.imports import candidate_sets_import
from annotation.services.rankings import QC_DISPLAY_ORDER, QC_TOO_FAST
from tinyworld import annotators as sim
from tinyworld.annotators import Behaviour, simulate
from tinyworld.scorer import simulated_ranking
from tinyworld.world import all_prompts, candidate_responses

K = 4
PASSWORD = "correct-horse-battery-staple"


def tinyworld_rows(n: int, rng: random.Random, *, offset: int = 0) -> list[tuple[int, dict]]:
    """``n`` tiny-world candidate sets of K distinct templated responses (some off topic, so
    rankings have several tiers and ties)."""
    rows = []
    for number, prompt in enumerate(all_prompts()[offset : offset + n], start=1):
        texts = candidate_responses(prompt, K, rng)
        while len(set(texts)) < K:
            texts = candidate_responses(prompt, K, rng)
        rows.append((number, {"messages": prompt, "candidates": [{"text": t} for t in texts]}))
    return rows


def rule_tiers(candidate_set: CandidateSet) -> list[set[int]]:
    """The hidden rule's tiers of a stored set (noise 0), as sets of candidate ids."""
    members = list(candidate_set.candidates.order_by("pk").values_list("pk", "text"))
    ranked = simulated_ranking(
        candidate_set.prompt.messages,
        [text for _, text in members],
        noise=0.0,
        rng=random.Random(0),
    )
    return [{members[i][0] for i in tier} for tier in ranked]


def follows_rule(ranking: Ranking) -> bool:
    return [set(tier) for tier in ranking.tiers] == rule_tiers(ranking.candidate_set)


@pytest.mark.django_db(transaction=True)
def test_honest_annotators_fill_every_set_to_overlap_by_the_hidden_rule(
    live_server, make_project, gold_draw
):
    project = make_project(k=K, annotations_per_set=2, gold_rate=0.25)
    rng = random.Random(0)
    sets = candidate_sets_import(project=project, rows=tinyworld_rows(24, rng))
    gold_rows = []
    for number, row in tinyworld_rows(20, rng, offset=100):
        texts = [c["text"] for c in row["candidates"]]
        tiers = simulated_ranking(row["messages"], texts, noise=0.0, rng=rng)
        if len(tiers) > 1 and len(gold_rows) < 3:  # a gold ranking must prefer something
            gold_rows.append((number, row | {"gold_ranking": tiers}))
    golds = gold_sets_import(project=project, rows=gold_rows)
    gold_draw(0.0)  # every next-task serves an unseen gold set while there is one
    out = StringIO()

    call_command(
        "simulate_annotators",
        "--project",
        project.slug,
        "--n",
        "3",
        "--noise",
        "0",
        "--url",
        live_server.url,
        "--seed",
        "7",
        stdout=out,
    )

    per_set = Counter(Ranking.objects.values_list("candidate_set_id", flat=True))
    assert {per_set[s.pk] for s in sets} == {2}
    assert not CandidateSet.objects.filter(pk__in=[s.pk for s in sets], state="open").exists()
    assert {per_set[g.pk] for g in golds} == {3}  # each annotator ranked each gold set once
    rankings = list(Ranking.objects.select_related("candidate_set__prompt"))
    assert len(rankings) == 2 * len(sets) + 3 * len(golds)
    assert all(follows_rule(r) for r in rankings)
    assert all(r.qc_flags == [] for r in rankings)
    assert Assignment.objects.filter(state="leased").count() == 0
    output = out.getvalue()
    for i in (1, 2, 3):
        assert f"sim-annotator-{i}  honest" in output
    assert f"{len(rankings)} rankings in " in output and "rankings/s" in output
    total_line = next(line for line in output.splitlines() if line.startswith("total"))
    assert total_line.split()[1:] == [str(len(rankings)), "0", "0"]


@pytest.mark.django_db(transaction=True)
def test_bad_behaviours_get_their_qc_flags_and_honest_work_gets_none(live_server, make_project):
    project = make_project(k=K, annotations_per_set=4)  # everyone ranks every set
    sets = candidate_sets_import(project=project, rows=tinyworld_rows(16, random.Random(1)))
    annotators = sim.sim_annotators(
        n=4,
        password=PASSWORD,
        behaviours={Behaviour.ALWAYS_FIRST: 1, Behaviour.TOO_FAST: 1, Behaviour.RANDOM: 1},
    )
    sim.sim_accounts_ensure(annotators=annotators)

    summary = simulate(live_server.url, project.pk, annotators=annotators, noise=0.0, seed=1)

    assert [a.behaviour for a in summary.annotators] == [
        Behaviour.HONEST,
        Behaviour.ALWAYS_FIRST,
        Behaviour.TOO_FAST,
        Behaviour.RANDOM,
    ]
    assert [a.submitted for a in summary.annotators] == [len(sets)] * 4
    assert summary.skipped == summary.errors == 0 and not summary.failures
    assert summary.submitted == 4 * len(sets) and summary.rankings_per_second > 0
    by_behaviour = {
        a.behaviour: list(
            Ranking.objects.filter(pk__in=a.ranking_ids).select_related(
                "assignment", "candidate_set__prompt"
            )
        )
        for a in summary.annotators
    }
    assert all(len(rankings) == len(sets) for rankings in by_behaviour.values())

    honest = by_behaviour[Behaviour.HONEST]
    assert all(r.qc_flags == [] and follows_rule(r) for r in honest)
    lazy = by_behaviour[Behaviour.ALWAYS_FIRST]
    assert all(r.tiers == [[c] for c in r.assignment.display_order] for r in lazy)
    assert all(r.qc_flags == [QC_DISPLAY_ORDER] for r in lazy)
    hasty = by_behaviour[Behaviour.TOO_FAST]
    assert all(r.qc_flags == [QC_TOO_FAST] and follows_rule(r) for r in hasty)
    careless = by_behaviour[Behaviour.RANDOM]
    assert all(r.qc_flags == [] and all(len(t) == 1 for t in r.tiers) for r in careless)
    assert not all(follows_rule(r) for r in careless)


@pytest.mark.django_db(transaction=True)
def test_max_tasks_and_seconds_stop_the_run(live_server, make_project, make_sets):
    project = make_project(k=K, annotations_per_set=1)
    make_sets(project, 12)
    annotators = sim.sim_annotators(n=3, password=PASSWORD)
    sim.sim_accounts_ensure(annotators=annotators)

    summary = simulate(live_server.url, project.pk, annotators=annotators, max_tasks=5)
    assert summary.submitted == Ranking.objects.count() == 5

    summary = simulate(live_server.url, project.pk, annotators=annotators, seconds=0)
    assert summary.submitted == 0 and Ranking.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_lost_lease_is_skipped_and_a_503_is_retried(live_server, make_project, monkeypatch):
    """The first submit answers 409 (as if the lease had run out) and the first next-task 503:
    the annotator retries the 503, moves on from the 409, and still ranks every set."""
    from annotation.apis import tasks
    from flywheel.errors import ApplicationError

    class Unavailable(APIException):
        status_code = 503

    real_next, real_submit = tasks.task_next, tasks.ranking_submit
    refused = {"next": False, "submit": False}

    def flaky_next(**kwargs):
        if not refused["next"]:
            refused["next"] = True
            raise Unavailable()
        return real_next(**kwargs)

    def lost_lease(**kwargs):
        if not refused["submit"]:
            refused["submit"] = True
            raise ApplicationError("Your lease expired.", code="lease_expired", status=409)
        return real_submit(**kwargs)

    monkeypatch.setattr(tasks, "task_next", flaky_next)
    monkeypatch.setattr(tasks, "ranking_submit", lost_lease)
    monkeypatch.setattr(sim, "RETRY_DELAYS_SECONDS", (0.0, 0.0))
    project = make_project(k=K, annotations_per_set=1)
    sets = candidate_sets_import(project=project, rows=tinyworld_rows(6, random.Random(2)))
    annotators = sim.sim_annotators(n=1, password=PASSWORD)
    sim.sim_accounts_ensure(annotators=annotators)

    summary = simulate(live_server.url, project.pk, annotators=annotators, noise=0.0)

    assert refused == {"next": True, "submit": True}
    (annotator,) = summary.annotators
    assert (annotator.submitted, annotator.skipped, annotator.errors) == (len(sets), 1, 0)
    assert annotator.failure is None
    assert Ranking.objects.count() == len(sets)


def test_no_server_is_a_command_error_that_says_to_start_the_demo(make_project):
    project = make_project()
    with pytest.raises(CommandError, match=r"No Flywheel server answers at .*`make demo` first"):
        call_command(
            "simulate_annotators", "--project", str(project.pk), "--url", "http://127.0.0.1:1"
        )


def test_a_server_that_goes_away_stops_every_annotator_with_a_command_error(
    make_project, monkeypatch
):
    """The server answered the command's first check and is gone when the annotators start."""
    from tinyworld.management.commands import simulate_annotators as command

    monkeypatch.setattr(sim, "RETRY_DELAYS_SECONDS", (0.0, 0.0))
    monkeypatch.setattr(command.httpx, "get", lambda *args, **kwargs: None)
    project = make_project()
    out = StringIO()
    with pytest.raises(CommandError, match="Every annotator stopped early"):
        call_command(
            "simulate_annotators",
            "--project",
            str(project.pk),
            "--n",
            "2",
            "--url",
            "http://127.0.0.1:1",
            stdout=out,
        )
    assert "stopped: POST /api/v1/auth/token/" in out.getvalue()


def test_accounts_are_created_as_annotators_and_get_the_runs_password(db, make_user):
    from django.contrib.auth import get_user_model

    from annotation.roles import user_role

    make_user(Role.ANNOTATOR, username="sim-annotator-1")  # left by an earlier run
    annotators = sim.sim_annotators(n=2, password="another-long-passphrase-42")
    sim.sim_accounts_ensure(annotators=annotators)

    users = get_user_model().objects.filter(username__startswith="sim-annotator-")
    assert sorted(u.username for u in users) == ["sim-annotator-1", "sim-annotator-2"]
    assert all(user_role(u) == Role.ANNOTATOR for u in users)
    assert all(u.check_password("another-long-passphrase-42") for u in users)


def test_a_sim_account_with_another_role_is_refused(db, make_user, make_project):
    project = make_project()
    make_user(Role.REVIEWER, username="sim-annotator-1")
    with pytest.raises(CommandError, match="sim-annotator-1 exists and is not an annotator"):
        call_command("simulate_annotators", "--project", project.slug, "--n", "1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "no-such-project"], "No project with id or slug 'no-such-project'"),
        (["--project", "999999"], "No project with id or slug '999999'"),
        (["--n", "1", "--behaviour", "random=2"], "2 annotators with a behaviour, but only 1"),
        (["--behaviour", "sloppy=1"], "unknown behaviour 'sloppy'"),
        (["--noise", "1.5"], "must be between 0 and 1"),
    ],
)
def test_bad_arguments_are_clear_command_errors(db, make_project, args, message):
    project = make_project(slug="real")
    args = args if args[0] == "--project" else ["--project", project.slug, *args]
    with pytest.raises(CommandError, match=message):
        call_command("simulate_annotators", *args)


def test_judge_is_deterministic_per_annotator_and_set_whatever_the_display_order():
    rng = random.Random(3)
    prompt = all_prompts()[0]
    texts = candidate_responses(prompt, K, rng)
    candidates = [{"id": 10 + i, "text": t} for i, t in enumerate(texts)]
    task = {"prompt": prompt, "candidates": candidates}
    shuffled = {"prompt": prompt, "candidates": candidates[::-1]}

    first = sim.judge(task, behaviour=Behaviour.HONEST, noise=0.5, rng=random.Random("s/a/1"))
    again = sim.judge(shuffled, behaviour=Behaviour.HONEST, noise=0.5, rng=random.Random("s/a/1"))
    assert first.tiers == again.tiers
    no_ties = sim.judge(
        task, behaviour=Behaviour.HONEST, noise=0.0, rng=random.Random(0), allow_ties=False
    )
    assert all(len(tier) == 1 for tier in no_ties.tiers) and len(no_ties.tiers) == K


@pytest.mark.parametrize(
    ("tiers", "moves"),
    [
        ([[1], [2], [3], [4]], 0),  # the starting layout
        ([[4], [1], [2], [3]], 1),  # one response dragged to the top
        ([[4], [3], [2], [1]], 3),
        ([[1, 2], [3], [4]], 1),  # one response dropped onto another's tier
        ([[2, 1], [4, 3]], 2),  # two drops; the order inside a tier is no move
        ([[3, 4], [1, 2]], 3),  # tiers are not dragged whole: one of each pair moves
    ],
)
def test_reorder_moves_counts_the_drags_from_the_display_order(tiers, moves):
    assert sim.reorder_moves([1, 2, 3, 4], tiers) == moves

"""Synthetic honeypots (issue #3): the degradations of ``annotation.honeypots`` (pure), and
``POST /api/v1/projects/{id}/honeypots/``, which turns the consensus-best response of ranked
sets into gold sets ``[[original], [degraded copies…]]``."""

import math
import random
import threading

import pytest

from annotation.enums import CandidateSetState, GoldSource, Role
from annotation.honeypots import (
    DEGRADATIONS,
    WRONG_LANGUAGE_TEXTS,
    degraded_copies,
    duplicate,
    sentences,
    shuffle_sentences,
    truncate,
    wrong_language,
)
from annotation.models import Candidate, CandidateSet
from annotation.services.imports import candidate_sets_import

LONG = (
    "The river rises in the northern hills. It flows east for two hundred miles. "
    "Farmers along its banks grow rice with its water. In spring it often floods the valley. "
    "A dam was built upstream in 1962 to stop that."
)


def assert_degraded_as_named(name: str, original: str, text: str) -> None:
    """``text`` is ``original`` degraded the way the module docstring says ``name`` does."""
    assert text != original
    words, parts = original.split(), sentences(original)
    if name == "truncate":
        cut = text.split()
        assert cut == words[: len(cut)]
        assert len(cut) < len(words)
    elif name == "shuffle_sentences":
        assert sorted(sentences(text)) == sorted(parts)
        assert sentences(text) != parts
    elif name == "duplicate":
        repeated = sentences(text)
        assert repeated[: len(parts)] == parts
        assert len(repeated) == len(parts) + 2 + max(1, len(parts) // 2)
        assert set(repeated) == set(parts)
    elif name == "wrong_language":
        assert text in WRONG_LANGUAGE_TEXTS
    else:
        pytest.fail(f"unknown degradation {name!r}")


def returns_within(seconds: float, function, *args):
    """Call ``function`` in a daemon thread; fail (instead of hanging) if it never returns.
    An exception it raises is re-raised here."""
    outcome: dict = {}

    def call():
        try:
            outcome["value"] = function(*args)
        except Exception as exc:  # handed to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__}{args!r} did not return in {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --- degradations (pure) -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_truncate_keeps_a_prefix_of_30_to_50_percent_of_the_words(seed):
    words = LONG.split()
    cut = truncate(LONG, random.Random(seed)).split()
    assert cut == words[: len(cut)]
    assert int(len(words) * 0.3) <= len(cut) <= int(len(words) * 0.5)


def test_truncate_of_a_short_text_keeps_its_first_word():
    assert truncate("Yes, certainly.", random.Random(0)) == "Yes,"


@pytest.mark.parametrize("seed", range(10))
def test_shuffle_sentences_keeps_the_sentences_in_another_order(seed):
    shuffled = shuffle_sentences(LONG, random.Random(seed))
    assert sorted(sentences(shuffled)) == sorted(sentences(LONG))
    assert sentences(shuffled) != sentences(LONG)


def test_shuffle_of_one_sentence_scrambles_its_words():
    text = "Rice needs a great deal of water to grow"
    shuffled = shuffle_sentences(text, random.Random(3))
    assert sorted(shuffled.split()) == sorted(text.split())
    assert shuffled != text


@pytest.mark.parametrize("text", ["No. No.", "ha ha ha", "Yes", "Same. Same. Same."])
def test_shuffle_of_a_text_with_nothing_to_reorder_returns_it_unchanged(text):
    # Regression: reshuffling until the order changed never ended for these.
    assert returns_within(5, shuffle_sentences, text, random.Random(0)) == text


@pytest.mark.parametrize("seed", range(5))
def test_duplicate_repeats_sentences_after_the_original_ones(seed):
    repeated = sentences(duplicate(LONG, random.Random(seed)))
    original = sentences(LONG)
    assert repeated[:5] == original
    assert len(repeated) == 5 + 2 + 2  # one sentence twice, then the first half again
    assert repeated[5] == repeated[6] and repeated[5] in original
    assert repeated[7:] == original[:2]


def test_wrong_language_is_finnish_filler():
    text = wrong_language(LONG, random.Random(0))
    assert text in WRONG_LANGUAGE_TEXTS
    assert "ä" in text
    assert not set(text.lower().split()) & set(LONG.lower().split())


@pytest.mark.parametrize("k", [2, 3, 5, 9])
def test_degraded_copies_are_k_minus_1_distinct_degradations_of_the_original(k):
    copies = degraded_copies(LONG, k, seed=11)
    assert len(copies) == k - 1
    texts = [text for _, text in copies]
    assert len(set(texts)) == k - 1
    assert LONG not in texts
    for name, text in copies:
        assert name in DEGRADATIONS
        assert_degraded_as_named(name, LONG, text)


def test_degraded_copies_cycle_through_every_degradation():
    assert {name for name, _ in degraded_copies(LONG, 5, seed=4)} == set(DEGRADATIONS)


def test_degraded_copies_are_deterministic_per_seed():
    assert degraded_copies(LONG, 4, seed=7) == degraded_copies(LONG, 4, seed=7)
    assert len({tuple(degraded_copies(LONG, 4, seed=s)) for s in range(10)}) > 1


@pytest.mark.parametrize(("text", "k"), [("Hi", 9), ("No. No.", 9), ("Yes", 6)])
def test_degraded_copies_raise_when_a_text_cannot_be_degraded_enough_ways(text, k):
    # "Hi" has 4 distinct degradations: "Hi Hi Hi Hi" and the three Finnish texts.
    with pytest.raises(ValueError, match="Cannot make enough distinct degraded copies"):
        returns_within(10, degraded_copies, text, k, 0)


def test_degraded_copies_of_a_repeated_sentence_still_finish():
    copies = returns_within(5, degraded_copies, "No. No.", 3, 0)
    assert len({text for _, text in copies}) == 2


# --- the endpoint --------------------------------------------------------------------------


def long_set_rows(n: int, k: int) -> list[tuple[int, dict]]:
    return [
        (
            i + 1,
            {
                "prompt": f"Explain topic {i}.",
                "candidates": [
                    {
                        "text": f"Answer {j} to topic {i} starts here. It explains the point "
                        f"in plain words. Then it gives example {j}. Finally it sums up."
                    }
                    for j in range(k)
                ],
            },
        )
        for i in range(n)
    ]


def canonical(candidate_set_id: int) -> list[int]:
    return list(
        CandidateSet.objects.get(pk=candidate_set_id)
        .members.order_by("position")
        .values_list("candidate_id", flat=True)
    )


def second_best(task):
    """Rank the set's second canonical candidate first (so "best" is not just the first)."""
    ids = canonical(task["candidate_set"])
    return [[ids[1]], [ids[0]], *[[c] for c in ids[2:]]]


@pytest.fixture
def ranked_project(make_project, client_for, take_and_rank):
    """K=3, overlap 1: four sets of long answers; the first three ranked with the second
    canonical answer on top, the fourth still open."""
    project = make_project(k=3, annotations_per_set=1)
    sets = candidate_sets_import(project=project, rows=long_set_rows(4, 3))
    annotator = client_for(Role.ANNOTATOR)
    for _ in range(3):
        take_and_rank(annotator, project, second_best)
    project.best_by_prompt = {s.prompt_id: canonical(s.pk)[1] for s in sets[:3]}
    return project


def make_honeypots(client, project, body):
    return client.post(f"/api/v1/projects/{project.pk}/honeypots/", body, format="json")


def honeypot_summary(set_ids) -> list[tuple[int, str, list[str], list[str]]]:
    """Per honeypot: prompt, original text, degraded texts, and the shown order of texts."""
    rows = []
    for hp in CandidateSet.objects.filter(pk__in=set_ids).order_by("id"):
        texts = dict(Candidate.objects.filter(candidate_sets=hp).values_list("id", "text"))
        shown = [
            texts[cid]
            for cid in hp.members.order_by("position").values_list("candidate_id", flat=True)
        ]
        degraded = sorted(texts[cid] for cid in hp.gold_tiers[1])
        rows.append((hp.prompt_id, texts[hp.gold_tiers[0][0]], degraded, shown))
    return rows


def test_honeypots_degrade_the_consensus_best_response_of_ranked_sets(admin_client, ranked_project):
    response = make_honeypots(admin_client, ranked_project, {"count": 3, "seed": 7})
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 3
    honeypots = CandidateSet.objects.filter(pk__in=response.json()["ids"])
    assert {hp.prompt_id for hp in honeypots} == set(ranked_project.best_by_prompt)
    for hp in honeypots:
        assert hp.gold_source == GoldSource.HONEYPOT
        assert hp.state == CandidateSetState.OPEN
        source = ranked_project.best_by_prompt[hp.prompt_id]
        members = set(hp.candidates.values_list("id", flat=True))
        assert len(members) == 3
        (original,) = hp.gold_tiers[0]
        assert len(hp.gold_tiers) == 2
        assert set(hp.gold_tiers[1]) == members - {original}
        copy_of_best = Candidate.objects.get(pk=original)
        original_text = Candidate.objects.get(pk=source).text
        assert copy_of_best.text == original_text
        assert copy_of_best.sampling_params == {"honeypot_of": source}
        assert not members & {source}  # fresh rows: no old id gives the original away
        for copy in Candidate.objects.filter(pk__in=hp.gold_tiers[1]):
            assert copy.prompt_id == hp.prompt_id
            name = copy.model_name.removeprefix("honeypot:")
            assert copy.model_name == f"honeypot:{name}"
            assert_degraded_as_named(name, original_text, copy.text)
    body = admin_client.get(f"/api/v1/projects/{ranked_project.pk}/").json()
    assert body["set_count"] == 4  # honeypots are gold: not counted


def test_honeypots_are_deterministic_per_seed(admin_client, ranked_project):
    first = make_honeypots(admin_client, ranked_project, {"count": 2, "seed": 5}).json()["ids"]
    again = make_honeypots(admin_client, ranked_project, {"count": 2, "seed": 5}).json()["ids"]
    assert set(first).isdisjoint(again)
    assert honeypot_summary(first) == honeypot_summary(again)


def test_honeypots_refused_when_the_project_has_no_ranked_sets(
    admin_client, make_project, make_sets
):
    project = make_project(k=3)
    make_sets(project, 2)
    before = (CandidateSet.objects.count(), Candidate.objects.count())
    response = make_honeypots(admin_client, project, {"count": 1})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "count": ["Honeypots are made from ranked sets; this project has none yet."]
    }
    assert (CandidateSet.objects.count(), Candidate.objects.count()) == before


def test_not_rankable_rankings_give_no_honeypot_source(
    admin_client, client_for, make_project, take_and_rank
):
    project = make_project(k=3)
    candidate_sets_import(project=project, rows=long_set_rows(1, 3))
    take_and_rank(client_for(Role.ANNOTATOR), project, None, not_rankable=True)
    response = make_honeypots(admin_client, project, {"count": 1})
    assert response.status_code == 400
    assert "none yet" in response.json()["errors"]["count"][0]
    assert not CandidateSet.objects.filter(gold_tiers__isnull=False).exists()


def test_asking_for_more_honeypots_than_ranked_sets_writes_nothing(admin_client, ranked_project):
    before = (CandidateSet.objects.count(), Candidate.objects.count())
    response = make_honeypots(admin_client, ranked_project, {"count": 4})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "count": ["Only 3 ranked set(s) have a response long enough to degrade; asked for 4."]
    }
    # The three honeypots made before the shortfall was found are rolled back.
    assert (CandidateSet.objects.count(), Candidate.objects.count()) == before


def test_sets_whose_best_response_is_too_short_to_degrade_are_passed_over(
    admin_client, client_for, make_project, take_and_rank
):
    project = make_project(k=9)
    words = ["Yes", "No", "Maybe", "Sure", "Never", "Often", "Rarely", "Always", "Perhaps"]
    candidate_sets_import(
        project=project,
        rows=[(1, {"prompt": "One word?", "candidates": [{"text": w} for w in words]})],
    )
    take_and_rank(client_for(Role.ANNOTATOR), project, lambda t: [[i] for i in t["shown"]])
    before = (CandidateSet.objects.count(), Candidate.objects.count())
    response = make_honeypots(admin_client, project, {"count": 1})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "count": ["Only 0 ranked set(s) have a response long enough to degrade; asked for 1."]
    }
    assert (CandidateSet.objects.count(), Candidate.objects.count()) == before


@pytest.mark.parametrize("body", [{"count": 0}, {"count": 1001}, {"count": "many"}, {}])
def test_honeypot_count_out_of_range_is_refused(admin_client, ranked_project, body):
    before = CandidateSet.objects.count()
    response = make_honeypots(admin_client, ranked_project, body)
    assert response.status_code == 400
    assert "count" in response.json()["errors"]
    assert CandidateSet.objects.count() == before


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR])
def test_only_admins_make_honeypots(client_for, ranked_project, role):
    before = CandidateSet.objects.count()
    assert make_honeypots(client_for(role), ranked_project, {"count": 1}).status_code == 403
    assert CandidateSet.objects.count() == before


def test_a_honeypot_is_served_as_gold_and_scores_who_ranks_the_original_first(
    admin_client, client_for, ranked_project, gold_draw, take_and_rank
):
    ids = make_honeypots(admin_client, ranked_project, {"count": 1, "seed": 1}).json()["ids"]
    honeypot = CandidateSet.objects.get(pk=ids[0])
    (original,) = honeypot.gold_tiers[0]
    patch = admin_client.patch(
        f"/api/v1/projects/{ranked_project.pk}/", {"gold_rate": 0.5}, format="json"
    )
    assert patch.status_code == 200
    gold_draw(0.0)
    careful, careless = client_for(Role.ANNOTATOR), client_for(Role.ANNOTATOR)
    for client, original_first in ((careful, True), (careless, False)):

        def rank(task, original_first=original_first):
            rest = [[c] for c in task["shown"] if c != original]
            return [[original], *rest] if original_first else [*rest, [original]]

        task, _ = take_and_rank(client, ranked_project, rank)
        assert task["candidate_set"] == honeypot.pk
        assert task["prompt"] == honeypot.prompt.messages
    stats = {
        row["annotator_id"]: row
        for row in admin_client.get(f"/api/v1/projects/{ranked_project.pk}/annotators/").json()[
            "results"
        ]
    }
    # Strict ranking vs. [[original], [copy, copy]]: τ-b = ±2 / √(3·2).
    assert stats[careful.user.pk]["gold_accuracy"] == pytest.approx(1.0)
    assert stats[careful.user.pk]["gold_tau"] == pytest.approx(2 / math.sqrt(6))
    assert stats[careful.user.pk]["fails_gold"] is False
    assert stats[careless.user.pk]["gold_accuracy"] == pytest.approx(0.0)
    assert stats[careless.user.pk]["gold_tau"] == pytest.approx(-2 / math.sqrt(6))
    assert stats[careless.user.pk]["fails_gold"] is True


def test_ranked_gold_sets_are_not_honeypot_sources(
    admin_client, client_for, make_project, gold_draw, take_and_rank
):
    project = make_project(k=3)
    candidate_sets_import(project=project, rows=long_set_rows(1, 3))  # stays unranked
    gold = admin_client.post(
        f"/api/v1/projects/{project.pk}/gold-sets/",
        [{**long_set_rows(1, 3)[0][1], "prompt": "Gold topic.", "gold_ranking": [[0], [1, 2]]}],
        format="json",
    )
    assert gold.status_code == 201, gold.content
    admin_client.patch(f"/api/v1/projects/{project.pk}/", {"gold_rate": 0.5}, format="json")
    gold_draw(0.0)
    task, _ = take_and_rank(
        client_for(Role.ANNOTATOR), project, lambda t: [[i] for i in t["shown"]]
    )
    assert task["candidate_set"] == gold.json()["ids"][0]
    response = make_honeypots(admin_client, project, {"count": 1})
    assert response.status_code == 400
    assert "none yet" in response.json()["errors"]["count"][0]

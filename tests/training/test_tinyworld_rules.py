"""The tiny world's named hidden rules (issue 17): which closing each prefers for which prompt,
the simulated annotators and the oracle under each, and `polite` as the unchanged default."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotation.models import Ranking
from annotation.services.imports import candidate_sets_import
from tinyworld import annotators as sim
from tinyworld.annotators import Behaviour
from tinyworld.management.commands.seed_demo import tinyworld_guidelines
from tinyworld.oracle import ORACLE_OF_RULE, trait_rates
from tinyworld.presets import tinyworld_loop_settings
from tinyworld.scorer import (
    NEUTRAL_TEMPLATES,
    RULES,
    has_preferred_trait,
    hidden_rule_score,
    rule_named,
    simulated_preference_pairs,
    simulated_ranking,
)
from tinyworld.world import (
    NEUTRAL_CLOSINGS,
    POLITE_CLOSINGS,
    PROMPT_TEMPLATES,
    TOPICS,
    all_prompts,
    make_response,
    prompt_template,
    prompt_topic,
    user_prompt,
)
from training.evaluation import length_baseline_accuracy

POLITE = frozenset(POLITE_CLOSINGS)
NEUTRAL = frozenset(NEUTRAL_CLOSINGS)
OUTSIDE = [
    "What is the capital of France?",
    "Explain quantum physics to me.",  # a template's words, not a tiny-world topic
    "Tell me about owls. Explain owls to me.",  # two templates' words, neither whole
    "Please explain owls to me.",
    "explain owls to me.",
    "",
]


def expected_by_template(prompt) -> frozenset[str]:
    return NEUTRAL if prompt_template(prompt) in NEUTRAL_TEMPLATES else POLITE


# --- which closings each rule prefers -------------------------------------------------------


def test_the_registry_names_the_three_rules_each_with_a_one_line_description() -> None:
    assert list(RULES) == ["polite", "topic", "template"]
    assert all(name == rule.name and "\n" not in rule.description for name, rule in RULES.items())
    assert rule_named("topic") is RULES["topic"]
    with pytest.raises(ValueError, match="unknown rule 'kind'.*polite, topic, template"):
        rule_named("kind")


def test_polite_rule_prefers_the_polite_closings_for_every_prompt() -> None:
    prompts = all_prompts() + [user_prompt(text) for text in OUTSIDE]
    assert {RULES["polite"].preferred_closings(p) for p in prompts} == {POLITE}


def test_topic_rule_prefers_polite_at_even_topic_positions_and_neutral_at_odd() -> None:
    assert RULES["topic"].preferred_closings("Tell me about owls.") == POLITE  # TOPICS[0]
    assert RULES["topic"].preferred_closings("Tell me about volcanoes.") == NEUTRAL  # TOPICS[1]
    for prompt in all_prompts():
        position = TOPICS.index(prompt_topic(prompt))
        expected = POLITE if position % 2 == 0 else NEUTRAL
        assert RULES["topic"].preferred_closings(prompt) == expected, prompt
    halves = [RULES["topic"].preferred_closings(p) for p in all_prompts()]
    assert halves.count(POLITE) == halves.count(NEUTRAL)


def test_template_rule_prefers_neutral_for_three_templates_and_polite_for_the_others() -> None:
    assert set(PROMPT_TEMPLATES) > NEUTRAL_TEMPLATES and len(NEUTRAL_TEMPLATES) == 3
    for text, expected in [
        ("Tell me about owls.", POLITE),
        ("Describe owls.", POLITE),
        ("What do you know about owls?", POLITE),
        ("Write a few lines about owls.", NEUTRAL),
        ("Explain owls to me.", NEUTRAL),
        ("Say something about owls.", NEUTRAL),
        ("  Explain volcanoes to me.\n", NEUTRAL),
    ]:
        assert RULES["template"].preferred_closings(text) == expected, text
    for prompt in all_prompts():
        template = prompt_template(prompt)
        assert (
            template is not None and template.format(t=prompt_topic(prompt)) == prompt[0]["content"]
        )
        assert RULES["template"].preferred_closings(prompt) == expected_by_template(prompt)


@pytest.mark.parametrize("text", OUTSIDE)
def test_a_prompt_from_outside_the_tiny_world_gets_the_polite_default(text: str) -> None:
    assert prompt_template(text) is None
    assert {rule.preferred_closings(user_prompt(text)) for rule in RULES.values()} == {POLITE}


def test_rules_read_the_last_user_message_of_a_conversation() -> None:
    conversation = [
        {"role": "user", "content": "Tell me about owls."},
        {"role": "assistant", "content": "Owls hoot. Hope this helps!"},
        {"role": "user", "content": "Explain volcanoes to me."},
    ]
    assert RULES["topic"].preferred_closings(conversation) == NEUTRAL
    assert RULES["template"].preferred_closings(conversation) == NEUTRAL


def test_trait_and_score_follow_the_rule_and_default_to_polite() -> None:
    volcanoes = user_prompt("Tell me about volcanoes.")
    neutral = "Many people think volcanoes are quiet. That covers it."
    polite = "Many people think volcanoes are quiet. Hope this helps!"

    assert has_preferred_trait(volcanoes, polite) and not has_preferred_trait(volcanoes, neutral)
    assert has_preferred_trait(volcanoes, polite, rule="polite")
    assert has_preferred_trait(volcanoes, neutral, rule="topic")
    assert not has_preferred_trait(volcanoes, polite, rule="topic")
    assert hidden_rule_score(volcanoes, neutral, rule="topic") == 1.25
    assert hidden_rule_score(volcanoes, polite, rule="topic") == 0.25
    assert hidden_rule_score(volcanoes, polite) == 1.25
    with pytest.raises(ValueError, match="unknown rule"):
        has_preferred_trait(volcanoes, polite, rule="nope")


# --- the simulated annotator under each rule -------------------------------------------------


@pytest.mark.parametrize("rule", list(RULES))
def test_noise_free_ranking_puts_the_preferred_closing_in_a_better_tier(rule: str) -> None:
    rng = random.Random(rule)
    for prompt in all_prompts():
        topic = prompt_topic(prompt)
        other = TOPICS[(TOPICS.index(topic) + 1) % len(TOPICS)]
        responses = [
            make_response(t, rng, polite=polite) for t in (topic, other) for polite in (True, False)
        ]  # each closing on topic and off topic: relevance never outweighs the closing
        tiers = simulated_ranking(prompt, responses, noise=0.0, rng=rng, rule=rule)

        tier_of = {i: n for n, tier in enumerate(tiers) for i in tier}
        preferred = [
            i for i, r in enumerate(responses) if has_preferred_trait(prompt, r, rule=rule)
        ]
        others = [i for i in range(len(responses)) if i not in preferred]
        assert len(preferred) == 2
        assert max(tier_of[i] for i in preferred) < min(tier_of[i] for i in others), prompt
        closing = responses[tiers[0][0]].rsplit(". ", 1)[-1]
        assert closing in RULES[rule].preferred_closings(prompt)


def test_simulated_pairs_follow_the_rule_per_prompt_and_length_stays_at_chance() -> None:
    rows = simulated_preference_pairs(all_prompts(), random.Random(0), noise=0.0, rule="topic")
    closing_pairs = []
    for row in rows:
        prompt, chosen, rejected = row["prompt"], row["chosen"][0], row["rejected"][0]
        chosen_trait = has_preferred_trait(prompt, chosen["content"], rule="topic")
        rejected_trait = has_preferred_trait(prompt, rejected["content"], rule="topic")
        assert chosen_trait >= rejected_trait
        if chosen_trait > rejected_trait:
            closing_pairs.append((chosen["content"], rejected["content"]))

    assert len(closing_pairs) > 300
    assert 0.4 < length_baseline_accuracy(closing_pairs) < 0.6
    # Both closings win about half of these pairs: no closing is right for every prompt.
    polite_wins = sum(c.endswith(tuple(POLITE_CLOSINGS)) for c, _ in closing_pairs)
    assert 0.4 < polite_wins / len(closing_pairs) < 0.6


@pytest.mark.parametrize("rule", list(RULES))
def test_judge_ranks_honestly_by_the_rule_it_is_given(rule: str) -> None:
    prompt = user_prompt("Explain volcanoes to me.")  # topic and template: neutral
    texts = [
        "Many people think volcanoes are quiet. Hope this helps!",
        "Many people think volcanoes are quiet. That covers it.",
    ]
    task = {"prompt": prompt, "candidates": [{"id": 7 + i, "text": t} for i, t in enumerate(texts)]}

    judgement = sim.judge(
        task, behaviour=Behaviour.HONEST, noise=0.0, rng=random.Random(0), rule=rule
    )

    assert judgement.tiers == ([[7], [8]] if rule == "polite" else [[8], [7]])


def test_simulate_refuses_an_unknown_rule_before_any_request() -> None:
    with pytest.raises(ValueError, match="unknown rule"):
        sim.simulate("http://127.0.0.1:9", 1, annotators=[], rule="nope")


@pytest.mark.django_db(transaction=True)
def test_simulate_annotators_command_ranks_by_the_rule_it_is_given(live_server, make_project):
    project = make_project(k=4, annotations_per_set=1)
    rng = random.Random(5)
    rows = []
    for number, prompt in enumerate(all_prompts()[:12], start=1):
        topic = prompt_topic(prompt)
        texts = [make_response(topic, rng, polite=i % 2 == 0) for i in range(4)]
        while len(set(texts)) < 4:
            texts = [make_response(topic, rng, polite=i % 2 == 0) for i in range(4)]
        rows.append((number, {"messages": prompt, "candidates": [{"text": t} for t in texts]}))
    candidate_sets_import(project=project, rows=rows)
    out = StringIO()

    call_command(
        "simulate_annotators",
        *("--project", project.slug, "--n", "2", "--noise", "0", "--rule", "template"),
        *("--url", live_server.url),
        stdout=out,
    )

    rankings = list(Ranking.objects.select_related("candidate_set__prompt"))
    assert len(rankings) == 12 and "rule template" in out.getvalue()
    for ranking in rankings:
        messages = ranking.candidate_set.prompt.messages
        texts = dict(ranking.candidate_set.candidates.values_list("pk", "text"))
        top = [texts[pk] for pk in ranking.tiers[0]]
        assert all(has_preferred_trait(messages, t, rule="template") for t in top)
        assert len(ranking.tiers) == 2
    assert {
        RULES["template"].preferred_closings(r.candidate_set.prompt.messages) for r in rankings
    } == {
        POLITE,
        NEUTRAL,
    }  # the 12 prompts include both halves of the rule


@pytest.mark.django_db
def test_simulate_annotators_command_refuses_an_unknown_rule(make_project) -> None:
    project = make_project()
    with pytest.raises(CommandError, match="invalid choice: 'nope'"):
        call_command("simulate_annotators", "--project", project.slug, "--rule", "nope")


# --- the oracle and the loop settings per rule ----------------------------------------------

OWLS = user_prompt("Tell me about owls.")  # polite under every rule
VOLCANOES = user_prompt("Tell me about volcanoes.")  # neutral under topic only
EXPLAIN_OWLS = user_prompt("Explain owls to me.")  # neutral under template only
SAMPLES = [
    ["Many people think owls are quiet. Hope this helps!"],
    ["Many people think volcanoes are quiet. Hope this helps!"],
    [
        "Many people think owls are quiet. That covers it.",
        "Owls hoot. Happy to help!",
        "That is all I know.",  # the trait under `template`, but not well formed nor relevant
    ],
]


@pytest.mark.parametrize(
    ("rule", "trait_rate"),
    [("polite", 3 / 5), ("topic", 2 / 5), ("template", 4 / 5)],
)
def test_oracle_trait_rate_counts_the_closing_the_rule_prefers_per_prompt(
    rule: str, trait_rate: float
) -> None:
    rates = trait_rates([OWLS, VOLCANOES, EXPLAIN_OWLS], SAMPLES, rule=rule)

    assert rates == {"trait_rate": trait_rate, "well_formed_rate": 4 / 5, "relevance_rate": 4 / 5}


def test_oracle_defaults_to_the_polite_rule_and_refuses_an_unknown_one() -> None:
    prompts = [OWLS, VOLCANOES, EXPLAIN_OWLS]
    assert trait_rates(prompts, SAMPLES) == trait_rates(prompts, SAMPLES, rule="polite")
    with pytest.raises(ValueError, match="unknown rule"):
        trait_rates(prompts, SAMPLES, rule="nope")


@pytest.mark.parametrize("rule", list(RULES))
def test_loop_settings_and_guidelines_name_the_rule(rule: str) -> None:
    assert tinyworld_loop_settings(rule=rule)["oracle"] == ORACLE_OF_RULE[rule]
    guidelines = tinyworld_guidelines(rule)
    assert "On topic first" in guidelines
    if rule == "polite":
        assert '*"Hope this helps!"*' in guidelines
    else:
        assert RULES[rule].description in guidelines

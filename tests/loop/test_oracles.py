"""A loop's oracle is the function ``settings.FLYWHEEL_ORACLES`` names for it, imported when a
round is evaluated: the product names the tiny world's hidden rule only by that path."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.utils.module_loading import import_string

from loop.models import Oracle
from loop.services.evaluation import _oracle_rates

OWLS = [{"role": "user", "content": "Tell me about owls."}]
WHALES = [{"role": "user", "content": "Tell me about whales."}]


def constant_oracle(prompts, samples):
    return {"trait_rate": 0.25, "well_formed_rate": 0.5, "relevance_rate": 0.75}


def test_the_tinyworld_oracle_scores_samples_by_the_hidden_rule() -> None:
    samples = [
        ["Many people think owls are quiet. Hope this helps!", "Owls owls"],
        ["Many people think whales are quiet. That covers it."],
    ]

    rates = _oracle_rates("tinyworld", [OWLS, WHALES], samples)

    assert rates == {"trait_rate": 1 / 3, "well_formed_rate": 2 / 3, "relevance_rate": 1.0}


def test_the_oracle_is_the_function_the_setting_names(settings) -> None:
    settings.FLYWHEEL_ORACLES = {"tinyworld": f"{__name__}.constant_oracle"}

    rates = _oracle_rates("tinyworld", [OWLS], [["anything"]])

    assert rates == {"trait_rate": 0.25, "well_formed_rate": 0.5, "relevance_rate": 0.75}


def test_the_tinyworld_rule_oracles_score_by_the_closing_each_prompt_calls_for() -> None:
    volcanoes = [{"role": "user", "content": "Tell me about volcanoes."}]  # an odd topic
    explain_owls = [{"role": "user", "content": "Explain owls to me."}]  # a "neutral" template
    prompts = [OWLS, volcanoes, explain_owls]
    samples = [
        ["Many people think owls are quiet. Hope this helps!"],
        ["Many people think volcanoes are quiet. That covers it."],
        ["Many people think owls are quiet. That covers it."],
    ]
    others = {"well_formed_rate": 1.0, "relevance_rate": 1.0}

    assert _oracle_rates("tinyworld", prompts, samples) == {"trait_rate": 1 / 3} | others
    assert _oracle_rates("tinyworld-topic", prompts, samples) == {"trait_rate": 2 / 3} | others
    assert _oracle_rates("tinyworld-template", prompts, samples) == {"trait_rate": 2 / 3} | others
    assert _oracle_rates("tinyworld-topic", [OWLS], [samples[2]])["trait_rate"] == 0.0
    assert _oracle_rates("tinyworld-template", [volcanoes], [samples[1]])["trait_rate"] == 0.0


def test_every_oracle_a_loop_can_choose_names_a_function_in_the_setting() -> None:
    chosen = {value for value in Oracle.values if value != Oracle.NONE}
    assert chosen == {"tinyworld", "tinyworld-topic", "tinyworld-template"}
    assert chosen == set(django_settings.FLYWHEEL_ORACLES)
    oracles = django_settings.FLYWHEEL_ORACLES.values()
    assert all(callable(import_string(path)) for path in oracles)

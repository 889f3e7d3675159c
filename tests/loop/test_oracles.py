"""A loop's oracle is the function ``settings.FLYWHEEL_ORACLES`` names for it, imported when a
round is evaluated: the product names the tiny world's hidden rule only by that path."""

from __future__ import annotations

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

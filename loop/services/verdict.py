"""Whether a round's gain is confirmed by something that did not train the policy (issue 17).

A round's own reward model judged its own policy: a reward model that learned nothing still
reports a win-rate well above 0.5 against the previous policy (0.67 in the issue), because the
policy was optimised against that very model. The verdict asks the independent evaluation
(``LoopRound.evaluation``, loop/services/evaluation.py) instead. A round is **unconfirmed**
when any of these holds, each with a reason a person can read:

1. the round's reward model is within noise of its length baseline on the held-out pairs:
   ``accuracy − length_baseline ≤ max(MIN_MARGIN, 2 standard errors)`` (the binomial standard
   error of the accuracy on that many pairs), or there were no held-out pairs to measure it;
2. there is no judge (the snapshot's test split was empty, or the judge run failed), or the
   judge itself is within noise of its length baseline on the round's train pairs (by the same
   rule): a judge that cannot tell the annotators' preferences apart confirms nothing;
3. the judge's win-rate of the new policy over the previous one has a 95 % interval that does
   not lie above 0.5;
4. the length-controlled win-rate is at most 0.5: at equal lengths the judge does not prefer
   the new policy (what it preferred, if anything, was the length).

Reasons 2–4 are the judge's. With a blind human evaluation (``human_win_rate``,
loop/services/human_eval.py) the annotators are a second independent judge:

5. their win-rate's 95 % interval lies below 0.5 (they preferred the previous policy): always
   unconfirmed;
6. their interval lies above 0.5: the gain is confirmed by people, and the judge's reasons
   (2–4) no longer stand against it (a judge trained on the small held-out split cannot learn
   every rule: bench/RESULTS.md, the topic rule); otherwise (interval across 0.5, or no
   comparison) the judge's reasons stand, with the annotators' beside them.

Reason 1 holds whatever the annotators say: a reward model that learned only length trained a
policy nobody should build the next round on. Otherwise it is **confirmed**. Pure: reads the
evaluation dict only.
"""

from __future__ import annotations

from typing import Any

from ..models import Verdict
from .win_rates import accuracy_margin_noise

# The least margin over the length baseline that counts as learning, whatever the pair count:
# "longer is better" alone reaches ≈ 55 % on human data (RLHF-NOTES), so a few points above it
# on a large held-out set are still not a preference model worth trusting.
MIN_MARGIN = 0.05


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def _within_noise(measure: dict[str, Any] | None) -> bool:
    if not measure or measure.get("accuracy") is None or not measure.get("pairs"):
        return True
    margin = measure["accuracy"] - measure["length_baseline"]
    return margin <= max(MIN_MARGIN, accuracy_margin_noise(measure["accuracy"], measure["pairs"]))


def _accuracy_text(measure: dict[str, Any]) -> str:
    return (
        f"{_percent(measure['accuracy'])} against {_percent(measure['length_baseline'])} for "
        f'"longer is better" on {measure["pairs"]} pairs'
    )


def round_verdict(evaluation: dict[str, Any]) -> tuple[str, list[str]]:
    """(``confirmed`` | ``unconfirmed``, the reasons it is not confirmed)."""
    reasons = _reward_reasons(evaluation)
    judge_reasons = _judge_reasons(evaluation)
    human = evaluation.get("human_win_rate")
    human_reasons: list[str] = []
    if human is not None:
        if human.get("win_rate") is None:
            human_reasons.append(f"No human evaluation: {human.get('reason', 'no rankings')}.")
        else:
            text = (
                f"{_percent(human['win_rate'])} (95 % interval {_percent(human['ci_low'])}–"
                f"{_percent(human['ci_high'])}, {human['comparisons']} comparisons on "
                f"{human['prompts']} held-out prompts)"
            )
            if human["ci_high"] < 0.5:
                reasons.append(
                    f"In the blind A/B the annotators preferred the previous policy: {text}."
                )
            elif human["ci_low"] > 0.5:
                judge_reasons = []  # people confirmed it
            else:
                human_reasons.append(
                    f"The annotators' win-rate of the new policy in the blind A/B is {text}: "
                    "not above 0.5."
                )
    if judge_reasons:
        reasons += judge_reasons + human_reasons
    return (Verdict.UNCONFIRMED if reasons else Verdict.CONFIRMED).value, reasons


def _reward_reasons(evaluation: dict[str, Any]) -> list[str]:
    reasons: list[str] = []
    reward = evaluation.get("reward")
    if not reward or not reward.get("pairs"):
        reasons.append("The reward model had no held-out pairs to be measured on.")
    elif _within_noise(reward):
        reasons.append(
            "The reward model is within noise of its length baseline on held-out pairs: "
            f"{_accuracy_text(reward)}."
        )
    return reasons


def _judge_reasons(evaluation: dict[str, Any]) -> list[str]:
    reasons: list[str] = []
    judge = evaluation.get("judge") or {}
    if judge.get("model_version") is None:
        reasons.append(f"No independent judge: {judge.get('reason') or 'none was trained'}.")
    elif _within_noise(judge):
        reasons.append(
            "The judge reward model is within noise of its length baseline on the round's "
            f"train pairs ({_accuracy_text(judge)}): it cannot confirm anything."
            if judge.get("pairs")
            else "The judge reward model had no pairs to be measured on."
        )
    win = evaluation.get("independent_win_rate")
    if win is None:
        if judge.get("model_version") is not None:
            reasons.append("The judge compared no samples (no evaluation prompts).")
    elif win["ci_low"] <= 0.5:
        reasons.append(
            f"The judge's win-rate of the new policy over the previous one is "
            f"{_percent(win['win_rate'])} (95 % interval {_percent(win['ci_low'])}–"
            f"{_percent(win['ci_high'])}): not above 0.5."
        )
    lc = evaluation.get("length_controlled_win_rate")
    if lc is not None and lc["win_rate"] <= 0.5:
        reasons.append(
            f"The length-controlled win-rate is {_percent(lc['win_rate'])}: at equal lengths "
            "the judge does not prefer the new policy."
        )
    return reasons

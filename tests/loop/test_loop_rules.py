"""A hidden rule whose preferred answer depends on the prompt, through the whole loop (issue 17):
the tiny world's ``template`` rule (a neutral closing for three of the six prompt templates, a
polite one for the others) with the tiny world's loop preset, a real Celery worker, Redis,
PostgreSQL and a live server; one simulated annotator ranks every set by the rule with 10 %
noise. One DPO round must learn it: with one set per prompt and the old preset the reward model
memorised prompts (held-out accuracy 0.55 against a length baseline of 0.54). The round then
asks for a blind human A/B on held-out prompts, which the same annotator ranks, and is
confirmed by it. The ``topic`` rule
is measured in bench/loop.py (bench/RESULTS.md); it is not pinned here: its reward model's
held-out accuracy varied 0.57–0.71 between runs of the same round."""

from __future__ import annotations

import pytest

from annotation.services.imports import prompts_import
from loop.models import LoopRound, RoundStatus
from loop.services.rounds import round_advance
from loop.services.triggers import loop_tick
from tinyworld.annotators import sim_accounts_ensure, sim_annotators, simulate
from tinyworld.presets import TINYWORLD_SETS_PER_PROMPT, tinyworld_loop_settings
from tinyworld.world import prompt_metadata
from training.models import GenerationJob

from .test_loop_rounds import wait_for

HUMAN_EVAL_PROMPTS = 24  # of the ~35 prompts of the snapshot's test split
ROUND_TIMEOUT = 30 * 60  # three sets per prompt and six DPO epochs: 18 min on a loaded machine


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_one_dpo_round_learns_a_closing_that_depends_on_the_prompt_template(
    celery_worker, live_server, admin_client, make_project, tinyworld, sft_policy
):
    project = make_project(k=4)
    prompts_import(
        project=project,
        rows=[
            (i, {"messages": p, "metadata": prompt_metadata(p)})
            for i, p in enumerate(tinyworld.train_prompts(), start=1)
        ],
    )
    project.current_policy = sft_policy
    project.save(update_fields=["current_policy"])
    settings = tinyworld_loop_settings(rule="template", eval_prompts=tinyworld.heldout_prompts())
    settings["human_eval_prompts"] = HUMAN_EVAL_PROMPTS
    assert settings["sets_per_prompt"] == TINYWORLD_SETS_PER_PROMPT == 3
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/loop/", settings | {"auto": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/generate/",
        {
            "model": sft_policy.pk,
            "prompts": "pending",
            "sampling": settings["sampling"],
            "sets_per_prompt": settings["sets_per_prompt"],
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    job = wait_for(
        lambda: GenerationJob.objects.filter(pk=response.json()["id"], status="succeeded").first(),
        "the round-0 generation job",
        timeout=ROUND_TIMEOUT,
    )
    assert job.sets_created > 2 * len(tinyworld.train_prompts())

    annotators = sim_annotators(n=1, password="tiny-world-rules-5521")
    sim_accounts_ensure(annotators=annotators)
    summary = simulate(
        live_server.url, project.pk, annotators=annotators, noise=0.1, seed=0, rule="template"
    )
    assert summary.errors == 0 and summary.submitted == job.sets_created, summary.table()
    assert len(loop_tick()) == 1

    def at_human_eval():
        found = LoopRound.objects.filter(loop__project=project, number=1).first()
        if found and found.status != RoundStatus.RUNNING:
            return found  # failed (asserted below)
        job = found and found.human_eval_job
        return found if job and job.status == "succeeded" else None

    loop_round = wait_for(at_human_eval, "round 1's A/B sets", timeout=ROUND_TIMEOUT)
    assert loop_round.status != RoundStatus.FAILED, (loop_round.step, loop_round.error)
    assert loop_round.step == "human_eval" and loop_round.verdict  # the judge's verdict so far
    project.refresh_from_db()
    assert project.current_policy_id == sft_policy.pk  # nothing promoted while people judge
    judge_verdict = loop_round.verdict
    # The same annotator ranks the blind A/B sets by the same rule (the new policy against SFT
    # on held-out prompts, in an order drawn for them), and the round concludes.
    ab = simulate(
        live_server.url, project.pk, annotators=annotators, noise=0.1, seed=1, rule="template"
    )
    assert ab.errors == 0 and ab.submitted == loop_round.human_eval_job.sets_created, ab.table()
    round_advance(round_id=loop_round.pk)  # the periodic sweep's call

    def finished():
        found = LoopRound.objects.get(pk=loop_round.pk)
        return found if found.status != RoundStatus.RUNNING else None

    loop_round = wait_for(finished, "round 1", timeout=ROUND_TIMEOUT)
    assert loop_round.status != RoundStatus.FAILED, (loop_round.step, loop_round.error)

    # The reward model learned the rule, not the length of the answers …
    diagnostics = loop_round.reward_run.diagnostics
    heldout = diagnostics["heldout"]
    assert heldout["accuracy"] >= heldout["length_baseline"] + 0.15, diagnostics
    by_template = next(g for g in diagnostics["groups"] if g["key"] == "template")
    assert by_template["values"] == 6, by_template  # every template among the held-out pairs
    worst = min(g["accuracy"] for g in by_template["groups"])
    assert worst >= heldout["length_baseline"], by_template  # on either side of the rule
    # … and the DPO policy writes the closing each held-out prompt's template asks for.
    evaluation = loop_round.evaluation
    before, after = evaluation["base_policy"], evaluation["policy"]
    print(
        f"template rule: RM held-out {heldout['accuracy']:.3f} (length baseline "
        f"{heldout['length_baseline']:.3f}); trait {before['trait_rate']:.3f} → "
        f"{after['trait_rate']:.3f}; on-topic {before['relevance_rate']:.3f} → "
        f"{after['relevance_rate']:.3f}; steps {loop_round.step_seconds}"
    )
    assert after["trait_rate"] >= before["trait_rate"] + 0.25, evaluation
    assert after["relevance_rate"] >= before["relevance_rate"] - 0.02, evaluation
    assert after["well_formed_rate"] >= 0.9, evaluation
    # The judge trained on the 20 % held-out split cannot always confirm a prompt-dependent rule
    # from that little data (bench/RESULTS.md); the annotators' blind A/B on held-out prompts
    # can, and the round promotes itself.
    human = evaluation["human_win_rate"]
    print(
        f"judge alone: {judge_verdict}; independent {evaluation['independent_win_rate']}; "
        f"human A/B {human}"
    )
    assert human["ci_low"] > 0.5 and human["rankings"] == ab.submitted, human
    assert (loop_round.verdict, loop_round.verdict_reasons) == ("confirmed", [])
    assert (loop_round.status, loop_round.decision) == (RoundStatus.SUCCEEDED, "promoted")
    project.refresh_from_db()
    assert project.current_policy_id == loop_round.policy_model_id
    assert loop_round.generation_job.model_version_id == loop_round.policy_model_id

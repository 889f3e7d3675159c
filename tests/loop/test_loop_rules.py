"""A hidden rule whose preferred answer depends on the prompt, through the whole loop (issue 17):
the tiny world's ``topic`` rule (a polite closing for topics at even positions, a neutral one for
the others) with the tiny world's loop preset, a real Celery worker, Redis, PostgreSQL and a live
server; one simulated annotator ranks every set by the rule with 10 % noise. One DPO round must
learn it: before the preset drew three sets per prompt and trained longer, the reward model's
held-out accuracy stayed at its length baseline and the policy's trait rate did not move
(0.48 → 0.46), while the round reported a win-rate of 0.67 judged by that reward model."""

from __future__ import annotations

import time

import pytest

from annotation.services.imports import prompts_import
from loop.models import LoopRound, RoundStatus
from loop.services.triggers import loop_tick
from tinyworld.annotators import sim_accounts_ensure, sim_annotators, simulate
from tinyworld.presets import TINYWORLD_SETS_PER_PROMPT, tinyworld_loop_settings
from tinyworld.world import prompt_metadata
from training.models import GenerationJob

ROUND_TIMEOUT = 30 * 60


def wait_for(predicate, what: str, timeout: float = ROUND_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1.0)
    return value


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_one_dpo_round_learns_a_closing_that_depends_on_the_topic(
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
    settings = tinyworld_loop_settings(rule="topic", eval_prompts=tinyworld.heldout_prompts())
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
    )
    assert job.sets_created > 2 * len(tinyworld.train_prompts())

    annotators = sim_annotators(n=1, password="tiny-world-rules-5521")
    sim_accounts_ensure(annotators=annotators)
    summary = simulate(
        live_server.url, project.pk, annotators=annotators, noise=0.1, seed=0, rule="topic"
    )
    assert summary.errors == 0 and summary.submitted == job.sets_created, summary.table()
    assert len(loop_tick()) == 1

    def finished():
        found = LoopRound.objects.filter(loop__project=project, number=1).first()
        return found if found and found.status != RoundStatus.RUNNING else None

    loop_round = wait_for(finished, "round 1")
    assert loop_round.status == RoundStatus.SUCCEEDED, (loop_round.step, loop_round.error)

    # The reward model learned the rule, not the length of the answers …
    diagnostics = loop_round.reward_run.diagnostics
    heldout = diagnostics["heldout"]
    assert heldout["accuracy"] >= heldout["length_baseline"] + 0.15, diagnostics
    by_topic = next(g for g in diagnostics["groups"] if g["key"] == "topic")
    assert by_topic["values"] >= 20, by_topic  # the held-out pairs cover most topics
    # … and the DPO policy writes the closing each held-out prompt's topic asks for.
    evaluation = loop_round.evaluation
    before, after = evaluation["base_policy"], evaluation["policy"]
    print(
        f"topic rule: RM held-out {heldout['accuracy']:.3f} (length baseline "
        f"{heldout['length_baseline']:.3f}); trait {before['trait_rate']:.3f} → "
        f"{after['trait_rate']:.3f}; on-topic {before['relevance_rate']:.3f} → "
        f"{after['relevance_rate']:.3f}; steps {loop_round.step_seconds}"
    )
    assert after["trait_rate"] >= before["trait_rate"] + 0.25, evaluation
    assert after["relevance_rate"] >= before["relevance_rate"] - 0.02, evaluation
    assert after["well_formed_rate"] >= 0.9, evaluation

"""The feedback loop's page in a real browser: rounds with their steps and errors, the
evaluation table and chart, the leaderboard, starting and retrying a round, the settings form
and its refusals, and the AI suggestion in the annotator's workspace.

Nothing is trained here: the rounds, their runs, models, snapshots and generation jobs are rows
made directly (the round state machine runs on a real worker in tests/loop/test_loop_rounds.py),
and a worker's progress is simulated by updating a round's row, as the page polls it."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from annotation.models import (
    Candidate,
    CandidateSet,
    CandidateSetMember,
    DatasetSnapshot,
    Project,
    Prompt,
    Ranking,
)
from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create
from loop.models import Loop, LoopRound
from loop.services.settings import loop_for
from training.models import GenerationJob, ModelVersion, TrainingRun

from .support import PASSWORD, assert_tiers, board_tiers, display_order, sign_in
from .test_accessibility import AXE, axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


EVAL_PROMPTS = [
    [{"role": "user", "content": f"Tell me about the owl of hill {i}."}] for i in range(12)
]
SAMPLES_PER_PROMPT = 4


def _snapshot(project: Project, name: str, rankings: int) -> DatasetSnapshot:
    test = rankings // 5
    return DatasetSnapshot.objects.create(
        project=project,
        name=name,
        content_hash=f"{abs(hash(name)):064x}"[:64],
        counts={"rankings": {"train": rankings - test, "test": test}},
        card=f"# {name}",
    )


def _run(
    kind: str, snapshot: DatasetSnapshot, base: ModelVersion, status: str = "succeeded", **fields
) -> TrainingRun:
    return TrainingRun.objects.create(
        kind=kind,
        dataset=snapshot,
        base_model=base,
        config={},
        status=status,
        step=10,
        total_steps=10,
        finished_at=timezone.now(),
        **fields,
    )


def _comparisons(new: ModelVersion, old: ModelVersion, p_win: float, seed: int) -> list:
    """The reward model's judgement of each held-out sample of `new` against `old`'s."""
    rng = random.Random(seed)
    rows = []
    for i in range(len(EVAL_PROMPTS) * SAMPLES_PER_PROMPT):
        u = rng.random()
        outcome = 1.0 if u < p_win else 0.5 if u < p_win + 0.03 else 0.0
        rows.append([new.pk, old.pk, outcome, i // SAMPLES_PER_PROMPT])
    return rows


def _evaluation(
    *,
    accuracy: float,
    baseline: float,
    base: ModelVersion,
    policy: ModelVersion,
    trait: tuple[float, float],
    reward: tuple[float, float],
    win: tuple[int, int, int],
    comparisons: list,
) -> dict:
    """What loop/services/evaluation.py stores: base → new policy, by the round's reward model."""
    n = len(EVAL_PROMPTS) * SAMPLES_PER_PROMPT
    wins, losses, ties = win

    def summary(model: ModelVersion, trait_rate: float, mean_reward: float) -> dict:
        return {
            "model_version": model.pk,
            "samples": n,
            "mean_reward": mean_reward,
            "trait_rate": trait_rate,
            "well_formed_rate": 1.0,
            "relevance_rate": 0.96,
        }

    return {
        "reward": {"pairs": 24, "accuracy": accuracy, "length_baseline": baseline},
        "policy": summary(policy, trait[1], reward[1]),
        "base_policy": summary(base, trait[0], reward[0]),
        "win_rate": {
            "n": n,
            "wins": wins,
            "losses": losses,
            "ties": ties,
            "win_rate": (wins + ties / 2) / n,
        },
        "prompts": EVAL_PROMPTS,
        "comparisons": comparisons,
        "samples": {},
    }


def seed_loop(name: str = "Tiny world", k: int = 4) -> dict:
    """A project two rounds into its loop (SFT → DPO round 1 → DPO round 2), the third round
    failed at its reward step."""
    project = project_create(name=name, k=k)
    sft = ModelVersion.objects.create(name="tw-sft", kind="sft")
    s1 = _snapshot(project, "tiny-world-r1", 48)
    s2 = _snapshot(project, "tiny-world-r2", 40)
    s3 = _snapshot(project, "tiny-world-r3", 44)
    r1 = _run("reward", s1, sft)
    rm1 = ModelVersion.objects.create(name="tw-rm-r1", kind="reward", parent=sft, produced_by=r1)
    p1 = _run("dpo", s1, sft)
    dpo1 = ModelVersion.objects.create(name="tw-dpo-r1", kind="policy", parent=sft, produced_by=p1)
    r2 = _run("reward", s2, dpo1)
    rm2 = ModelVersion.objects.create(name="tw-rm-r2", kind="reward", parent=dpo1, produced_by=r2)
    p2 = _run("dpo", s2, dpo1)
    dpo2 = ModelVersion.objects.create(name="tw-dpo-r2", kind="policy", parent=dpo1, produced_by=p2)
    r3 = _run(
        "reward",
        s3,
        dpo2,
        status="failed",
        error="Traceback (most recent call last): …\nRuntimeError: CUDA out of memory",
    )
    jobs = [
        GenerationJob.objects.create(
            project=project,
            model_version=model,
            prompt_ids=[],
            k=k,
            sampling={},
            round=number,
            status="succeeded",
            finished_at=timezone.now(),
        )
        for number, model in [(1, dpo1), (2, dpo2)]
    ]
    Project.objects.filter(pk=project.pk).update(current_policy=dpo2)
    loop = loop_for(project)
    Loop.objects.filter(pk=loop.pk).update(
        oracle="tinyworld", eval_prompts=EVAL_PROMPTS, ai_feedback=True
    )
    timings = {"snapshot": 0.4, "reward": 41.8, "policy": 73.2, "evaluate": 18.9, "generate": 24.6}
    round1 = LoopRound.objects.create(
        loop=loop,
        number=1,
        status="succeeded",
        step="done",
        policy_kind="dpo",
        base_policy=sft,
        snapshot=s1,
        reward_run=r1,
        reward_model=rm1,
        policy_run=p1,
        policy_model=dpo1,
        generation_job=jobs[0],
        selection={
            "method": "uncertainty",
            "pool": 60,
            "chosen": 20,
            "mean_margin_chosen": 0.12,
            "mean_margin_pool": 0.57,
        },
        evaluation=_evaluation(
            accuracy=0.86,
            baseline=0.52,
            base=sft,
            policy=dpo1,
            trait=(0.18, 0.93),
            reward=(-0.62, 1.41),
            win=(41, 5, 2),
            comparisons=_comparisons(dpo1, sft, 0.84, seed=1),
        ),
        step_seconds=timings,
        finished_at=timezone.now(),
    )
    round2 = LoopRound.objects.create(
        loop=loop,
        number=2,
        status="succeeded",
        step="done",
        policy_kind="dpo",
        base_policy=dpo1,
        snapshot=s2,
        reward_run=r2,
        reward_model=rm2,
        policy_run=p2,
        policy_model=dpo2,
        generation_job=jobs[1],
        selection={"method": "uncertainty", "pool": 40, "chosen": 20},
        evaluation=_evaluation(
            accuracy=0.91,
            baseline=0.55,
            base=dpo1,
            policy=dpo2,
            trait=(0.93, 0.97),
            reward=(1.41, 1.88),
            win=(30, 16, 2),
            comparisons=_comparisons(dpo2, dpo1, 0.62, seed=2)
            + _comparisons(dpo2, sft, 0.9, seed=3),
        ),
        step_seconds=timings | {"ai_feedback": 6.1},
        finished_at=timezone.now(),
    )
    round3 = LoopRound.objects.create(
        loop=loop,
        number=3,
        status="failed",
        step="reward",
        policy_kind="dpo",
        base_policy=dpo2,
        snapshot=s3,
        reward_run=r3,
        error=f"reward run {r3.pk} failed: RuntimeError: CUDA out of memory",
        step_seconds={"snapshot": 0.5, "reward": 12.0},
        finished_at=timezone.now(),
    )
    return {
        "project": project,
        "models": {"sft": sft, "rm1": rm1, "dpo1": dpo1, "rm2": rm2, "dpo2": dpo2},
        "snapshots": [s1, s2, s3],
        "runs": {"r1": r1, "p1": p1, "r2": r2, "p2": p2, "r3": r3},
        "jobs": jobs,
        "rounds": [round1, round2, round3],
    }


def open_loop_page(page: Page, base_url: str, username: str, project: Project) -> None:
    sign_in(page, base_url, username)
    page.get_by_role("link", name=f"Loop: {project.name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{project.name}: loop")


def test_an_admin_sees_rounds_evaluation_and_leaderboard_and_drives_a_round(
    live_server, page: Page
):
    if not AXE.exists():
        pytest.fail("frontend/node_modules/axe-core is missing: run `npm ci` in frontend/.")
    user_create(username="root", password=PASSWORD, role="admin")
    seeded = seed_loop()
    project, models, rounds = seeded["project"], seeded["models"], seeded["rounds"]
    runs, s1 = seeded["runs"], seeded["snapshots"][0]

    page.set_viewport_size({"width": 1280, "height": 900})
    open_loop_page(page, live_server.url, "root", project)
    current = page.locator("[data-current-policy]")
    expect(current).to_have_text("tw-dpo-r2")
    expect(current.get_by_role("link")).to_have_attribute("href", f"#/models/{models['dpo2'].pk}")

    # Rounds, newest first, each with its steps and what it made.
    expect(page.locator(".rounds-table tr[data-round]")).to_have_count(3)
    first = page.locator('tr[data-round="1"]')
    expect(first.locator('[data-col="status"]')).to_have_text("succeeded")
    expect(first.locator("[data-step]")).to_have_count(6)  # no AI pre-ranking in round 1
    expect(first.locator('[data-step][data-state="done"]')).to_have_count(6)
    expect(first.get_by_role("link", name=f"Snapshot #{s1.pk}")).to_have_attribute(
        "href", f"#/datasets/{s1.pk}"
    )
    expect(first.get_by_role("link", name=f"Run #{runs['r1'].pk}")).to_have_attribute(
        "href", f"#/runs/{runs['r1'].pk}"
    )
    expect(
        first.locator('[data-col="reward"]').get_by_role("link", name="tw-rm-r1")
    ).to_have_attribute("href", f"#/models/{models['rm1'].pk}")
    expect(
        first.locator('[data-col="policy"]').get_by_role("link", name="tw-dpo-r1")
    ).to_be_visible()
    expect(first.get_by_role("link", name=f"Job #{seeded['jobs'][0].pk}")).to_have_attribute(
        "href", f"#/projects/{project.pk}/generate"
    )
    expect(first.locator('[data-col="wall"]')).to_contain_text("2 min 39 s")
    expect(page.locator('tr[data-round="2"] [data-step="ai_feedback"]')).to_have_attribute(
        "data-state", "done"
    )
    failed = page.locator('tr[data-round="3"]')
    expect(failed.locator('[data-step="snapshot"]')).to_have_attribute("data-state", "done")
    expect(failed.locator('[data-step="reward"]')).to_have_attribute("data-state", "failed")
    expect(failed.get_by_role("list")).to_have_accessible_name(
        "Round 3 steps: Step 2 of 6: Reward model (failed)"
    )
    error = page.locator('[data-round-error="3"]')
    expect(error.get_by_role("alert")).to_contain_text("Round 3 failed at the reward step")
    expect(error).to_contain_text("CUDA out of memory")
    expect(error.get_by_role("button", name="Retry round 3")).to_be_visible()

    # The evaluation of each evaluated round, and the chart across rounds.
    row = page.locator('tr[data-eval-round="1"]')
    expect(row.locator('[data-col="rm_accuracy"]')).to_contain_text("86% (52%)")
    expect(row.locator('[data-col="rm_accuracy"]')).to_contain_text("24 held-out pairs")
    expect(row.locator('[data-col="trait_rate"]')).to_contain_text("18% → 93%")
    expect(row.locator('[data-col="mean_reward"]')).to_contain_text("-0.62 → 1.41")
    expect(row.locator('[data-col="win_rate"]')).to_have_text("88% (41 / 5 / 2)")
    expect(row.locator('[data-col="selection"]')).to_have_text(
        "20 of 60, least certain (margin 0.12 vs 0.57 in the pool)"
    )
    expect(row.locator('[data-col="step_seconds"] li')).to_have_count(5)
    expect(row.locator('[data-col="step_seconds"] li').first).to_have_text("Snapshot 0.4 s")
    expect(row.locator('[data-col="ai_agreement"]')).to_have_text("–")
    expect(page.locator('tr[data-eval-round="2"] [data-col="trait_rate"]')).to_contain_text(
        "93% → 97%"
    )
    expect(page.locator('tr[data-eval-round="3"]')).to_have_count(0)  # never evaluated
    chart = page.locator(".rounds-chart")
    expect(chart.locator('[data-series="trait_rate"]')).to_have_attribute("data-points", "3")
    expect(chart.locator('[data-series="rm_accuracy"] .marker')).to_have_count(2)
    expect(chart.get_by_role("img")).to_have_accessible_name(
        re.compile(r"Trait rate of the policy: base 18%, round 1 93%, round 2 97%")
    )

    # The leaderboard as the API ranks it: three versions judged by the reward models.
    board = page.request.get(
        f"{live_server.url}/api/v1/projects/{project.pk}/leaderboard/?source=rm"
    ).json()
    entries = sorted(board["entries"], key=lambda e: -e["rating"])
    assert [e["name"] for e in entries] == ["tw-dpo-r2", "tw-dpo-r1", "tw-sft"]
    assert board["comparisons"] == 3 * len(EVAL_PROMPTS) * SAMPLES_PER_PROMPT
    rows = page.locator(".leaderboard-table tbody tr")
    expect(rows).to_have_count(3)
    for rank, entry in enumerate(entries, start=1):
        tr = page.locator(f'.leaderboard-table tr[data-model="{entry["model_version"]}"]')
        expect(tr.locator('[data-col="rank"]')).to_have_text(str(rank))
        expect(tr.get_by_role("link", name=entry["name"])).to_have_attribute(
            "href", f"#/models/{entry['model_version']}"
        )
        expect(tr.locator('[data-col="rating"]')).to_have_text(str(round(entry["rating"])))
        expect(tr.locator('[data-col="ci"]')).to_have_text(
            f"{round(entry['ci_low'])} – {round(entry['ci_high'])}"
        )
        expect(tr.locator('[data-col="wlt"]')).to_have_text(
            f"{entry['wins']:g} / {entry['losses']:g} / {entry['ties']:g}"
        )
        expect(tr.locator('[data-col="comparisons"]')).to_have_text(str(entry["comparisons"]))
    expect(rows.first.locator("th")).to_have_text("tw-dpo-r2")
    lb_chart = page.locator(".leaderboard-chart")
    expect(lb_chart.locator("circle.rating-dot")).to_have_count(3)
    expect(lb_chart.locator("line.whisker")).to_have_count(3)
    expect(lb_chart.get_by_role("img")).to_have_accessible_name(
        re.compile(r"^Bradley–Terry ratings from reward-model judgements: 1\. tw-dpo-r2 ")
    )

    assert axe_violations(page) == []

    # Humans have compared no mixed sets yet.
    page.get_by_role("radio", name="Humans").check()
    expect(page.get_by_text("No comparisons yet.")).to_be_visible()
    expect(page.locator(".leaderboard-table")).to_have_count(0)
    page.get_by_role("radio", name="Reward model").check()
    expect(rows).to_have_count(3)

    # Starting a round needs rankings: the API's 400 is shown.
    page.get_by_role("button", name="Start round now").click()
    expect(page.get_by_role("alert").filter(has_text="Could not start a round")).to_have_text(
        "Could not start a round: The project has no rankings yet."
    )
    assert LoopRound.objects.count() == 3

    # Retry resumes the failed round at its step; the page follows it live.
    error.get_by_role("button", name="Retry round 3").click()
    expect(page.get_by_role("status").filter(has_text="resumes")).to_have_text(
        "Round 3 resumes at the reward step."
    )
    expect(failed.locator('[data-col="status"]')).to_have_text("running")
    expect(failed.locator('[data-step="reward"]')).to_have_attribute("data-state", "current")
    expect(page.locator('[data-round-error="3"]')).to_have_count(0)
    expect(page.get_by_text("live, updates every 2 s")).to_be_visible()
    expect(page.get_by_role("button", name="Start round now")).to_be_disabled()
    round3 = rounds[2]
    round3.refresh_from_db()
    assert (round3.status, round3.step, round3.reward_run_id) == ("running", "reward", None)

    # The "worker" trains the reward model and starts on the policy.
    dpo2, s3 = models["dpo2"], seeded["snapshots"][2]
    reward_run = _run("reward", s3, dpo2)
    rm3 = ModelVersion.objects.create(name="tw-rm-r3", kind="reward", produced_by=reward_run)
    policy_run = _run("dpo", s3, dpo2, status="running")
    LoopRound.objects.filter(pk=round3.pk).update(
        step="policy",
        reward_run=reward_run,
        reward_model=rm3,
        policy_run=policy_run,
        step_seconds={"snapshot": 0.5, "reward": 52.0},
    )
    expect(failed.locator('[data-step="reward"]')).to_have_attribute("data-state", "done")
    expect(failed.locator('[data-step="policy"]')).to_have_attribute("data-state", "current")
    expect(failed.locator('[data-col="policy"]')).to_contain_text(f"Run #{policy_run.pk}")
    expect(failed.locator('[data-col="policy"] .status')).to_have_text("running")
    expect(failed.locator('[data-col="reward"]')).to_contain_text("tw-rm-r3")

    LoopRound.objects.filter(pk=round3.pk).update(
        status="failed", error="policy run failed: RuntimeError: loss is NaN"
    )
    expect(page.locator('[data-round-error="3"]')).to_contain_text("loss is NaN")
    expect(page.get_by_text("live, updates every 2 s")).to_be_hidden()


def seed_unconfirmed_round(seeded: dict) -> LoopRound:
    """Round 4 after the failed round 3: issue 17's round, whose own reward model learned
    nothing and still judged its policy the winner; the judge says 50 %, so it waits."""
    project, dpo2 = seeded["project"], seeded["models"]["dpo2"]
    s4 = _snapshot(project, "tiny-world-r4", 40)
    r4 = _run("reward", s4, dpo2)
    rm4 = ModelVersion.objects.create(name="tw-rm-r4", kind="reward", parent=dpo2, produced_by=r4)
    judge_run = _run("reward", s4, dpo2)
    judge = ModelVersion.objects.create(name="tw-judge-r4", kind="reward", produced_by=judge_run)
    p4 = _run("dpo", s4, dpo2)
    dpo4 = ModelVersion.objects.create(name="tw-dpo-r4", kind="policy", parent=dpo2, produced_by=p4)
    evaluation = _evaluation(
        accuracy=0.52,
        baseline=0.5,
        base=dpo2,
        policy=dpo4,
        trait=(0.97, 0.96),
        reward=(1.88, 2.1),
        win=(31, 15, 2),
        comparisons=[],
    )
    evaluation["win_rate"] |= {"ci_low": 0.55, "ci_high": 0.77}
    evaluation |= {
        "judge": {"model_version": judge.pk, "pairs": 32, "accuracy": 0.81, "length_baseline": 0.5},
        "independent_win_rate": {
            "n": 48,
            "wins": 22,
            "losses": 22,
            "ties": 4,
            "win_rate": 0.5,
            "ci_low": 0.38,
            "ci_high": 0.62,
        },
        "length_controlled_win_rate": {"n": 48, "win_rate": 0.48, "ci_low": 0.35, "ci_high": 0.6},
    }
    return LoopRound.objects.create(
        loop=loop_for(project),
        number=4,
        status="awaiting_decision",
        step="decide",
        policy_kind="dpo",
        base_policy=dpo2,
        snapshot=s4,
        reward_run=r4,
        reward_model=rm4,
        judge_run=judge_run,
        judge_model=judge,
        policy_run=p4,
        policy_model=dpo4,
        evaluation=evaluation,
        verdict="unconfirmed",
        verdict_reasons=[
            "The reward model is within noise of its length baseline on held-out pairs: 52 % "
            'against 50 % for "longer is better" on 24 pairs.',
            "The judge's win-rate of the new policy over the previous one is 50 % (95 % "
            "interval 38 %–62 %): not above 0.5.",
        ],
        step_seconds={"snapshot": 0.4, "reward": 40.0, "policy": 70.0, "evaluate": 19.0},
        step_started_at=timezone.now(),
    )


def test_an_admin_sees_an_unconfirmed_round_with_its_reasons_and_promotes_its_policy(
    live_server, page: Page
):
    admin = user_create(username="root", password=PASSWORD, role="admin")
    seeded = seed_loop()
    project = seeded["project"]
    unconfirmed = seed_unconfirmed_round(seeded)

    page.set_viewport_size({"width": 1280, "height": 900})
    open_loop_page(page, live_server.url, "root", project)
    expect(page.locator("[data-current-policy]")).to_have_text("tw-dpo-r2")
    row = page.locator('tr[data-round="4"]')
    expect(row.locator('[data-col="status"]')).to_have_text("awaiting_decision")
    expect(row.locator('[data-col="verdict"]')).to_contain_text("unconfirmed: awaiting a decision")
    expect(row.locator('[data-step="decide"]')).to_have_attribute("data-state", "waiting")
    expect(row.get_by_role("list").first).to_have_accessible_name(
        "Round 4 steps: Step 5 of 7: Decision (waiting for a person)"
    )
    expect(page.locator('tr[data-round="1"] [data-col="verdict"]')).to_have_text("–")
    verdict = page.locator('[data-round-verdict="4"]')
    expect(verdict.get_by_role("alert")).to_contain_text(
        "Round 4 is unconfirmed: its policy was not promoted, and the loop waits for a decision."
    )
    expect(verdict.locator(".verdict-reasons li")).to_have_count(2)
    expect(verdict.locator(".verdict-reasons li").first).to_contain_text("within noise")
    expect(page.locator("[data-awaiting-decision]")).to_contain_text("Round 4 is unconfirmed")
    expect(page.get_by_role("button", name="Start round now")).to_be_disabled()
    expect(page.get_by_text("live, updates every 2 s")).to_be_hidden()  # nothing runs

    # Self-judged beside independent and length-controlled.
    evaluated = page.locator('tr[data-eval-round="4"]')
    expect(evaluated.locator('[data-col="win_rate"]')).to_contain_text("67% (31 / 15 / 2)")
    expect(evaluated.locator('[data-col="win_rate"]')).to_contain_text("95 % 55%–77%")
    expect(evaluated.locator('[data-col="independent_win_rate"]')).to_contain_text(
        "50% (95 % 38%–62%) (22 / 22 / 4)"
    )
    expect(evaluated.locator('[data-col="independent_win_rate"]')).to_contain_text(
        "judge 81% (50%) on 32 train pairs"
    )
    expect(evaluated.locator('[data-col="lc_win_rate"]')).to_have_text("48% (95 % 35%–60%)")
    expect(page.locator('tr[data-eval-round="1"] [data-col="independent_win_rate"]')).to_have_text(
        "–"
    )
    assert axe_violations(page) == []

    # Promote: the round's policy becomes the current policy and the round goes on.
    verdict.get_by_role("button", name="Promote round 4's policy").click()
    expect(page.get_by_role("status").filter(has_text="current policy")).to_have_text(
        "Round 4's policy is now the current policy; the round goes on to generate."
    )
    expect(page.locator("[data-current-policy]")).to_have_text("tw-dpo-r4")
    expect(row.locator('[data-col="verdict"]')).to_contain_text("promoted")
    expect(verdict.get_by_role("button")).to_have_count(0)
    expect(verdict).to_contain_text("a person promoted its policy")
    unconfirmed.refresh_from_db()
    assert (unconfirmed.decision, unconfirmed.decided_by_id) == ("promoted", admin.pk)
    assert unconfirmed.status == "running" and unconfirmed.step == "generate"
    assert Project.objects.get(pk=project.pk).current_policy_id == unconfirmed.policy_model_id


def seed_round_at_human_eval(seeded: dict) -> LoopRound:
    """Round 4 waiting for its blind human A/B: three A/B sets (its policy against round 2's)
    written, one of them complete; the judge alone does not confirm the round."""
    loop_round = seed_unconfirmed_round(seeded)
    project, old = seeded["project"], seeded["models"]["dpo2"]
    job = GenerationJob.objects.create(
        project=project,
        model_version=loop_round.policy_model,
        mix_model_version=old,
        mix_count=1,
        purpose="evaluation",
        prompt_ids=[],
        k=2,
        sampling={},
        round=4,
        status="succeeded",
        finished_at=timezone.now(),
    )
    for i, state in enumerate(["complete", "open", "open"]):
        prompt = Prompt.objects.create(
            project=project, messages=[{"role": "user", "content": f"A/B prompt {i}"}]
        )
        ab = CandidateSet.objects.create(
            project=project, prompt=prompt, round=4, state=state, purpose="evaluation"
        )
        for position, model in enumerate([loop_round.policy_model, old]):
            candidate = Candidate.objects.create(
                prompt=prompt, text=f"reply {position}", model_version=model, generation_job=job
            )
            CandidateSetMember.objects.create(
                candidate_set=ab, candidate=candidate, position=position
            )
    Loop.objects.filter(pk=loop_round.loop_id).update(human_eval_prompts=3)
    LoopRound.objects.filter(pk=loop_round.pk).update(
        status="running", step="human_eval", human_eval_job=job
    )
    loop_round.refresh_from_db()
    return loop_round


def test_an_admin_promotes_a_round_without_waiting_for_its_blind_human_evaluation(
    live_server, page: Page
):
    user_create(username="root", password=PASSWORD, role="admin")
    seeded = seed_loop()
    waiting = seed_round_at_human_eval(seeded)

    page.set_viewport_size({"width": 1280, "height": 900})
    open_loop_page(page, live_server.url, "root", seeded["project"])
    row = page.locator('tr[data-round="4"]')
    expect(row.locator('[data-step="human_eval"]')).to_have_attribute("data-state", "waiting")
    expect(row.get_by_role("list").first).to_have_accessible_name(
        "Round 4 steps: Step 5 of 7: Human A/B (waiting for a person)"
    )
    expect(row.locator('[data-col="verdict"]')).to_contain_text("awaiting the blind A/B")
    human = page.locator('[data-round-human-eval="4"]')
    expect(human).to_contain_text(
        "Round 4 waits for its blind human evaluation: 1 of 3 A/B sets ranked (0 rankings)."
    )
    expect(page.locator('[data-round-verdict="4"]')).to_have_count(0)
    evaluated = page.locator('tr[data-eval-round="4"] [data-col="human_win_rate"]')
    expect(evaluated).to_have_text("waiting: 1 of 3 A/B sets ranked (0 rankings)")
    assert axe_violations(page) == []
    if os.environ.get("FLYWHEEL_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator('tr[data-round="4"]').scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "loop-human-eval.png"))

    human.get_by_role("button", name="Promote round 4's policy now").click()
    expect(page.locator("[data-current-policy]")).to_have_text("tw-dpo-r4")
    expect(human).to_have_count(0)
    # What the annotators said so far is kept, marked partial: here, nothing compared them.
    expect(evaluated).to_contain_text("no figure: no ranking compared the two policies")
    expect(evaluated).to_contain_text("partial: decided before every A/B set was ranked")
    expect(page.locator('[data-round-verdict="4"]')).to_contain_text("a person promoted its policy")
    waiting.refresh_from_db()
    assert (waiting.decision, waiting.step) == ("promoted", "generate")
    assert waiting.evaluation["human_win_rate"]["partial"] is True


def test_an_admin_changes_the_loop_settings_and_sees_each_refusal_at_its_field(
    live_server, page: Page, browser: Browser
):
    user_create(username="root", password=PASSWORD, role="admin")
    user_create(username="rita", password=PASSWORD, role="reviewer")
    seeded = seed_loop(k=4)
    project = seeded["project"]

    open_loop_page(page, live_server.url, "root", project)
    expect(page.get_by_role("heading", name="Loop settings")).to_be_visible()
    expect(page.locator('[data-value="eval_prompts"]')).to_have_text(str(len(EVAL_PROMPTS)))
    expect(page.get_by_label("Oracle")).to_have_value("tinyworld")
    expect(page.get_by_label("AI pre-ranking")).to_be_checked()

    page.get_by_label("Start rounds automatically").check()
    page.get_by_label("Policy algorithm").select_option("ppo")
    page.locator("summary").filter(has_text="Policy config (PPO)").click()
    kl = page.locator("#loop-policy-kl_coef")
    expect(kl).to_have_value("0.05")
    kl.fill("0.1")
    page.get_by_label("Prompts per round", exact=True).fill("20")
    page.locator("#loop-sampling-temperature").fill("0.8")
    with page.expect_request(
        lambda r: r.url.endswith(f"/api/v1/projects/{project.pk}/loop/") and r.method == "PATCH"
    ) as sent:
        page.get_by_role("button", name="Save settings").click()
    assert sent.value.post_data_json == {
        "auto": True,
        "policy_kind": "ppo",
        "policy_config": {"kl_coef": 0.1},
        "prompts_per_round": 20,
        "sampling": {"temperature": 0.8},
    }
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_text(
        "Saved: auto, prompts_per_round, sampling, policy_kind, policy_config."
    )
    loop = Loop.objects.get(project=project)
    assert (loop.auto, loop.policy_kind, loop.policy_config) == (True, "ppo", {"kl_coef": 0.1})
    assert (loop.prompts_per_round, loop.sampling) == (20, {"temperature": 0.8})
    expect(page.locator(".loop-facts")).to_contain_text("rounds start automatically")

    # Nothing changed: nothing sent.
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Nothing changed.")).to_be_visible()

    # The API's refusals, one at a time, each next to its field; nothing is saved.
    before = page.request.get(f"{live_server.url}/api/v1/projects/{project.pk}/loop/").json()
    fraction = page.get_by_label("Test fraction")
    fraction.fill("1.5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#loop-err-test_fraction")).to_have_text("Must be above 0 and below 1.")
    expect(fraction).to_have_attribute("aria-invalid", "true")
    expect(fraction).to_have_accessible_description(
        re.compile(r"^Must be above 0 and below 1\. Held-out share")
    )
    fraction.fill("0.25")
    mixed = page.get_by_label("Previous policy's candidates per set")
    mixed.fill("4")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#loop-err-compare_with_previous")).to_have_text(
        "Must be below the project's K (4)."
    )
    expect(fraction).not_to_have_attribute("aria-invalid", "true")
    mixed.fill("1")
    blind = page.get_by_label("Blind human A/B prompts per round")
    blind.fill("1001")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#loop-err-human_eval_prompts")).to_contain_text("1000")
    expect(blind).to_have_attribute("aria-invalid", "true")
    blind.fill("0")
    kl.fill("-1")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#loop-policy-kl_coef-err")).to_have_text("must be >= 0")
    expect(kl).to_be_visible()  # its section opened to show the error
    expect(kl).to_have_attribute("aria-invalid", "true")
    # A wrong type is caught before anything is sent.
    page.get_by_label("New rankings (N)").fill("")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#loop-err-min_new_rankings")).to_have_text("Must be a whole number.")
    assert (
        page.request.get(f"{live_server.url}/api/v1/projects/{project.pk}/loop/").json() == before
    )

    page.get_by_role("button", name="Undo changes").click()
    expect(kl).to_have_value("0.1")
    expect(page.locator(".field-error")).to_have_count(0)

    # A reviewer reads the settings and the rounds, and can change nothing.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        reviewer = context.new_page()
        open_loop_page(reviewer, live_server.url, "rita", project)
        summary = reviewer.locator(".settings-summary")
        expect(summary).to_contain_text("PPO")
        expect(summary).to_contain_text("kl_coef = 0.1")
        expect(reviewer.get_by_role("button", name="Save settings")).to_have_count(0)
        expect(reviewer.get_by_role("button", name="Start round now")).to_have_count(0)
        expect(reviewer.get_by_role("button", name="Retry round 3")).to_have_count(0)
        expect(reviewer.locator('[data-round-error="3"]')).to_contain_text("CUDA out of memory")
        # Runs and models are admin pages (their API too): named by id, not linked.
        reward = reviewer.locator('tr[data-round="1"] [data-col="reward"]')
        expect(reward).to_contain_text(f"Run #{seeded['runs']['r1'].pk}")
        expect(reward).to_contain_text(f"model #{seeded['models']['rm1'].pk}")
        expect(reward.get_by_role("link")).to_have_count(0)
        expect(reviewer.locator(".leaderboard-table tbody tr")).to_have_count(3)
        expect(
            reviewer.get_by_text("Annotators do not see the reward model's suggested order.")
        ).to_be_visible()
        assert axe_violations(reviewer) == []
    finally:
        context.close()


def test_an_admin_turns_on_adapters_for_the_rounds_and_sees_a_bad_rank_refused_at_its_field(
    live_server, page: Page
):
    user_create(username="root", password=PASSWORD, role="admin")
    project = seed_loop()["project"]
    loop_url = f"/api/v1/projects/{project.pk}/loop/"

    open_loop_page(page, live_server.url, "root", project)
    expect(page.locator(".loop-facts [data-adapter]")).to_have_text("full fine-tuning")
    switch = page.get_by_label("Adapters (LoRA)")
    expect(switch).not_to_be_checked()
    rank = page.get_by_label("adapter.r", exact=True)
    expect(rank).to_have_count(0)

    # On: the block's fields show with the API's defaults and help.
    switch.check()
    expect(rank).to_have_value("16")
    expect(rank).to_have_accessible_description(re.compile(r"^Default 16\. LoRA rank"))
    expect(page.get_by_label("adapter.alpha", exact=True)).to_have_value("32")
    expect(page.get_by_label("adapter.quantization", exact=True)).to_have_value("none")
    expect(page.get_by_label("adapter.train_head", exact=True)).not_to_be_checked()
    if os.environ.get("FLYWHEEL_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.locator(".loop-settings").screenshot(path=str(SCREENSHOTS / "loop-settings.png"))

    # The adapter is the loop's own setting, not a key of the policy's config.
    page.locator("summary").filter(has_text="Policy config (DPO)").click()
    expect(
        page.locator('[data-config="policy_config"] [data-config-field^="adapter"]')
    ).to_have_count(0)

    rank.fill("8")
    with page.expect_request(lambda r: r.url.endswith(loop_url) and r.method == "PATCH") as sent:
        page.get_by_role("button", name="Save settings").click()
    block = {
        "r": 8,
        "alpha": 32,
        "dropout": 0.05,
        "target_modules": "all-linear",
        "train_head": False,
        "quantization": "none",
    }
    assert sent.value.post_data_json == {"adapter": block}
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_text("Saved: adapter.")
    assert Loop.objects.get(project=project).adapter == block
    expect(page.locator(".loop-facts [data-adapter]")).to_have_text("LoRA r=8, α=32")

    # A rank the API refuses: its message next to the field, nothing saved.
    rank.fill("0")
    page.get_by_role("button", name="Save settings").click()
    error = page.locator('[id="loop-adapter.r-err"]')
    expect(error).to_have_text("Must be between 1 and 1024.")
    expect(rank).to_have_attribute("aria-invalid", "true")
    expect(rank).to_have_accessible_description(
        re.compile(r"^Must be between 1 and 1024\. Default 16")
    )
    assert Loop.objects.get(project=project).adapter == block

    # Off again: full fine-tuning (null).
    switch.uncheck()
    expect(rank).to_have_count(0)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_text("Saved: adapter.")
    assert Loop.objects.get(project=project).adapter is None
    expect(page.locator(".loop-facts [data-adapter]")).to_have_text("full fine-tuning")


def test_an_annotator_applies_the_ai_suggestion_and_the_ranking_records_it(
    live_server, page: Page, browser: Browser
):
    user_create(username="root", password=PASSWORD, role="admin")
    ann = user_create(username="ann", password=PASSWORD, role="annotator")
    seeded = seed_loop(k=4)
    project, models, job = seeded["project"], seeded["models"], seeded["jobs"][0]
    (candidate_set,) = candidate_sets_import(
        project=project,
        rows=[
            (
                1,
                {
                    "prompt": "Tell me about the owls of the hill.",
                    "candidates": [{"text": f"Owl answer {i}."} for i in range(4)],
                },
            )
        ],
    )
    ids = list(candidate_set.members.order_by("position").values_list("candidate", flat=True))
    # Round 1's generation job wrote the set; its reward model pre-ranked it.
    Candidate.objects.filter(pk__in=ids).update(generation_job=job, model_version=models["dpo1"])
    suggestion = [[ids[2]], [ids[0], ids[3]], [ids[1]]]
    CandidateSet.objects.filter(pk=candidate_set.pk).update(
        ai_suggestion={"model_version": models["rm1"].pk, "tiers": suggestion, "scores": {}}
    )

    # The admin turns the suggestion on for annotators (off by default).
    open_loop_page(page, live_server.url, "root", project)
    toggle = page.get_by_label("Show annotators the reward model's suggested order")
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(page.get_by_role("status").filter(has_text="Annotators now see")).to_be_visible()
    expect(toggle).to_be_checked()
    assert Project.objects.get(pk=project.pk).show_ai_suggestion is True

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        annotator = context.new_page()
        sign_in(annotator, live_server.url, "ann")
        annotator.goto(f"{live_server.url}/#/projects/{project.pk}/rank")
        line = annotator.get_by_role("group", name="Reward model's suggestion (not a person's):")
        expect(line).to_be_visible()
        order = display_order(annotator)
        expected = " > ".join(
            " = ".join(f"#{order.index(c) + 1}" for c in tier) for tier in suggestion
        )
        expect(line.locator(".suggestion-order")).to_have_text(expected)
        assert board_tiers(annotator) == [[c] for c in order]  # not applied by itself

        line.get_by_role("button", name="Apply suggestion").click()
        assert_tiers(annotator, suggestion)
        expect(line).to_contain_text("applied")
        expect(line.get_by_role("button", name="Apply suggestion")).to_be_disabled()
        assert axe_violations(annotator) == []
        annotator.get_by_role("button", name="Submit ranking").click()
        expect(annotator.get_by_text("Ranking submitted.")).to_be_visible()
    finally:
        context.close()

    ranking = Ranking.objects.get(annotator=ann)
    assert ranking.tiers == suggestion
    assert ranking.interaction["applied_suggestion"] is True
    assert ranking.interaction["suggestion_shown"] is True
    assert ranking.interaction["moves"] == 0

    # The round that pre-ranked the set now reports how the human agreed with it.
    page.reload()
    agreement = page.locator('tr[data-eval-round="1"] [data-col="ai_agreement"]')
    expect(agreement).to_contain_text("τ 1.00, top 100%")
    expect(agreement).to_contain_text("1 human rankings of 1 sets")

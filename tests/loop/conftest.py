"""Fixtures for the feedback loop: a tiny-world project whose current policy is the SFT model."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from annotation.enums import Role
from annotation.models import Project
from annotation.services.imports import candidate_sets_import, prompts_import
from training.models import ModelVersion
from training.services.registry import model_version_register


@pytest.fixture
def sft_policy(db, tinyworld) -> ModelVersion:
    base = model_version_register(name="tw-base", path=str(tinyworld.base_model_dir))
    return model_version_register(
        name="tw-sft", path=str(tinyworld.sft_model_dir), kind="sft", parent=base
    )


@pytest.fixture
def tinyworld_project(make_project, sft_policy, tinyworld) -> Callable[..., Project]:
    """A K = 4 project holding the tiny world's train prompts (the first `n`), its current
    policy the SFT model."""

    def make(n: int | None = None, **fields) -> Project:
        project = make_project(k=4, **fields)
        prompts = tinyworld.train_prompts()[:n]
        if prompts:
            prompts_import(
                project=project,
                rows=[(i, {"messages": p}) for i, p in enumerate(prompts, start=1)],
            )
        Project.objects.filter(pk=project.pk).update(current_policy=sft_policy)
        project.refresh_from_db()
        return project

    return make


def templated_sets(project: Project, tinyworld, n: int, seed: int = 0) -> list:
    """`n` sets of four distinct templated responses to the project's first prompts (quick
    data for tests that need rankings but not a policy's samples)."""
    from tinyworld.world import candidate_responses

    rng = random.Random(seed)
    rows = []
    for i, prompt in enumerate(tinyworld.train_prompts()[:n], start=1):
        texts = candidate_responses(prompt, 4, rng, off_topic_probability=0.0)
        while len(set(texts)) < 4:
            texts = candidate_responses(prompt, 4, rng, off_topic_probability=0.0)
        rows.append((i, {"messages": prompt, "candidates": [{"text": t} for t in texts]}))
    return candidate_sets_import(project=project, rows=rows)


def _seed_with_split(project: Project, fraction: float) -> int:
    """The first loop seed whose prompt-hash split of the project's prompts has what the test
    asks for: some held-out prompts (and some to train on) when ``fraction`` ≥ 0.1, none below
    (the split hashes prompt ids, which differ run to run: a fixed seed would leave e.g. 6
    prompts at 0.5 without a held-out one once in 64 runs)."""
    from annotation.enums import SnapshotSplit
    from annotation.services.snapshots import prompt_split

    ids = list(project.prompts.values_list("id", flat=True))
    for seed in range(10_000):
        held_out = sum(
            prompt_split(i, seed=seed, test_fraction=fraction) == SnapshotSplit.TEST for i in ids
        )
        if (0 < held_out < len(ids)) if fraction >= 0.1 else held_out == 0:
            return seed
    raise AssertionError(f"no seed splits {len(ids)} prompts as asked at {fraction}")


@pytest.fixture
def evaluated_round(client_for, tinyworld_project, tinyworld, monkeypatch):
    """A round whose policy has trained, its evaluation about to report ``result`` (the real
    state machine from there on; the evaluation itself runs on a worker elsewhere)."""
    from loop.models import Loop, LoopRound, RoundStep
    from loop.services import evaluation
    from loop.services.rounds import round_advance, round_run_worker_step, round_start

    from .test_loop_api import rank_all

    def make(result: dict, **loop_fields) -> LoopRound:
        project = tinyworld_project(n=0)
        templated_sets(project, tinyworld, 6)
        rank_all(client_for(Role.ANNOTATOR), project)
        if "test_fraction" in loop_fields and "seed" not in loop_fields:
            loop_fields["seed"] = _seed_with_split(project, loop_fields["test_fraction"])
        Loop.objects.update_or_create(project=project, defaults=loop_fields)
        loop_round = round_start(project=project)
        round_advance(round_id=loop_round.pk)  # snapshot, then the reward runs are queued
        policy = model_version_register(
            name=f"tw-dpo-p{project.pk}", path=str(tinyworld.sft_model_dir), kind="policy"
        )
        LoopRound.objects.filter(pk=loop_round.pk).update(
            step=RoundStep.EVALUATE, policy_model=policy
        )
        prompts = list(project.prompts.order_by("id").values_list("id", flat=True)[:2])
        monkeypatch.setattr(evaluation, "evaluate", lambda loop_round: result)
        selection = {"method": "random", "pool": 6, "chosen": 2}
        monkeypatch.setattr(evaluation, "select_prompts", lambda loop_round: (prompts, selection))
        assert round_run_worker_step(round_id=loop_round.pk, step=RoundStep.EVALUATE) == (
            "evaluated"
        )
        return LoopRound.objects.get(pk=loop_round.pk)

    return make

"""Several candidate sets per prompt (``GenerationJob.sets_per_prompt``, issue 17): each an
independent draw, a resumed job drawing exactly what an uninterrupted one would, never more
than N sets per prompt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.enums import Role
from annotation.models import CandidateSet, Prompt
from annotation.services.imports import prompts_import
from training.models import GenerationJob, JobStatus, ModelKind
from training.services.generation import (
    candidate_set_from_generation,
    generation_job_create,
    generation_job_execute,
)
from training.services.registry import model_version_register

SAMPLING = {"max_new_tokens": 8, "batch_size": 2, "temperature": 1.0}


@pytest.fixture
def policy(db, tiny_model_dir):
    return model_version_register(
        name="tiny-policy", path=str(tiny_model_dir), kind=ModelKind.POLICY
    )


@pytest.fixture
def make_prompts(make_project):
    def make():
        project = make_project(k=3)
        prompts_import(
            project=project,
            rows=[(i + 1, {"prompt": f"Describe the number {i}."}) for i in range(3)],
        )
        return project

    return make


def sets_by_prompt(job: GenerationJob) -> dict[int, list[tuple[str, ...]]]:
    """Each prompt's sets from this job, in the order written, as tuples of texts."""
    sets: dict[int, list[tuple[str, ...]]] = {}
    for candidate_set in (
        CandidateSet.objects.filter(members__candidate__generation_job=job)
        .distinct()
        .order_by("id")
    ):
        texts = tuple(
            candidate_set.members.order_by("position").values_list("candidate__text", flat=True)
        )
        sets.setdefault(candidate_set.prompt_id, []).append(texts)
    return sets


def redeliver(job: GenerationJob, **fields) -> None:
    """As after a dead worker: running, its heartbeat stale, so the next attempt takes it."""
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1), **fields
    )


@pytest.mark.django_db
def test_a_job_with_three_sets_per_prompt_writes_three_independent_sets(
    policy, make_prompts, client_for
):
    project = make_prompts()
    job = generation_job_create(
        project=project, model_version=policy, sampling=SAMPLING, seed=5, sets_per_prompt=3
    )
    assert generation_job_execute(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.done == 9 and job.sets_created + job.prompts_skipped == 9
    sets = sets_by_prompt(job)
    assert set(sets) == set(Prompt.objects.filter(project=project).values_list("id", flat=True))
    for prompt_sets in sets.values():
        assert 2 <= len(prompt_sets) <= 3  # a tiny random model rarely repeats itself
        assert len(set(prompt_sets)) == len(prompt_sets)  # different draws, different texts
    seeds = set(
        CandidateSet.objects.filter(project=project).values_list("members__candidate__seed")
    )
    assert len(seeds) >= 3  # each draw has its own seeds
    output = client_for(Role.ADMIN).get(f"/api/v1/generation-jobs/{job.pk}/").json()
    assert (output["sets_per_prompt"], output["prompts"], output["sets_total"]) == (3, 3, 9)


@pytest.mark.django_db
def test_a_resumed_job_ends_with_the_sets_an_uninterrupted_job_writes(policy, make_prompts):
    """The resumed job had written draw 0 of every prompt (as if its worker died after that):
    it draws 1 and 2 with their own seeds, the same texts as a job that never stopped."""
    project = make_prompts()
    options = {"project": project, "model_version": policy, "prompts": "all", "seed": 5}
    whole = generation_job_create(**options, sampling=SAMPLING, sets_per_prompt=3)
    assert generation_job_execute(job_id=whole.pk) == "succeeded"

    resumed = generation_job_create(**options, sampling=SAMPLING, sets_per_prompt=1)
    assert generation_job_execute(job_id=resumed.pk) == "succeeded"
    redeliver(resumed, sets_per_prompt=3)
    assert generation_job_execute(job_id=resumed.pk) == "succeeded"
    resumed.refresh_from_db()
    assert resumed.done == 9
    assert list(sets_by_prompt(resumed).values()) == list(sets_by_prompt(whole).values())
    # Run again (a redelivery): nothing more is written.
    redeliver(resumed)
    count = CandidateSet.objects.filter(members__candidate__generation_job=resumed).count()
    assert generation_job_execute(job_id=resumed.pk) == "succeeded"
    assert CandidateSet.objects.filter(members__candidate__generation_job=resumed).count() == count


@pytest.mark.django_db
def test_a_prompt_never_gets_more_sets_than_the_job_asks_for(policy, make_prompts):
    """A racing attempt that writes after the prompt already has its N sets writes nothing."""
    project = make_prompts()
    job = generation_job_create(
        project=project, model_version=policy, sampling=SAMPLING, sets_per_prompt=2
    )
    prompt_id = job.prompt_ids[0]
    written = [
        candidate_set_from_generation(
            job=job, prompt_id=prompt_id, texts=[f"{i}a", f"{i}b", f"{i}c"], seed=i
        )
        for i in range(3)
    ]
    assert [s is not None for s in written] == [True, True, False]
    job.refresh_from_db()
    assert job.sets_created == 2


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, 9, "three", 1.5, None])
def test_bad_sets_per_prompt_is_400_and_nothing_is_queued(client_for, policy, make_prompts, value):
    project = make_prompts()
    response = client_for(Role.ADMIN).post(
        f"/api/v1/projects/{project.pk}/generate/",
        {"model": policy.pk, "sets_per_prompt": value},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert "sets_per_prompt" in response.json()["errors"], response.json()
    assert GenerationJob.objects.count() == 0


@pytest.mark.django_db
def test_the_service_refuses_sets_per_prompt_out_of_range(policy, make_prompts):
    from flywheel.errors import ApplicationError

    with pytest.raises(ApplicationError) as error:
        generation_job_create(project=make_prompts(), model_version=policy, sets_per_prompt=0)
    assert "sets_per_prompt" in error.value.errors


@pytest.mark.django_db
def test_a_mixed_job_mixes_each_of_its_sets(make_prompts, tiny_model_dir, tinyworld):
    new = model_version_register(name="new", path=str(tiny_model_dir), kind=ModelKind.POLICY)
    old = model_version_register(name="old", path=str(tinyworld.sft_model_dir), kind="sft")
    job = generation_job_create(
        project=make_prompts(),
        model_version=new,
        mix_model_version=old,
        mix_count=1,
        sampling=SAMPLING | {"max_new_tokens": 24},
        sets_per_prompt=2,
    )
    assert generation_job_execute(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.done == 6 and job.sets_created >= 4
    for candidate_set in CandidateSet.objects.filter(members__candidate__generation_job=job):
        versions = sorted(candidate_set.candidates.values_list("model_version_id", flat=True))
        assert versions == sorted([new.pk, new.pk, old.pk])

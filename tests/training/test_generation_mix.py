"""Mixed generation jobs: a second model writes `mix_count` of each set's K candidates, so that
annotators rank two models' responses side by side (the loop's human leaderboard)."""

from __future__ import annotations

import pytest

from annotation.enums import Role
from annotation.models import Candidate, CandidateSet, Prompt
from annotation.services.imports import prompts_import
from training.generation import generate_mixed_sets
from training.models import GenerationJob, ModelKind
from training.services.generation import generation_job_create, generation_job_execute
from training.services.registry import model_version_register

SAMPLING = {"max_new_tokens": 8, "batch_size": 4, "temperature": 1.0}


@pytest.fixture
def two_policies(db, tiny_model_dir, tinyworld):
    new = model_version_register(name="new", path=str(tiny_model_dir), kind=ModelKind.POLICY)
    old = model_version_register(name="old", path=str(tinyworld.sft_model_dir), kind="sft")
    return new, old


@pytest.fixture
def project(make_project):
    project = make_project(k=4)
    prompts_import(
        project=project, rows=[(i + 1, {"prompt": f"Tell me about owls {i}."}) for i in range(5)]
    )
    return project


@pytest.mark.django_db(transaction=True)
def test_each_set_holds_k_minus_m_from_the_model_and_m_from_the_mix_model(project, two_policies):
    new, old = two_policies
    job = generation_job_create(
        project=project,
        model_version=new,
        mix_model_version=old,
        mix_count=1,
        sampling=SAMPLING | {"max_new_tokens": 24},
        seed=1,
    )
    assert generation_job_execute(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.sets_created + job.prompts_skipped == Prompt.objects.filter(project=project).count()
    assert job.sets_created >= 4
    for candidate_set in CandidateSet.objects.filter(project=project):
        candidates = list(candidate_set.candidates.all())
        assert len(candidates) == 4 and len({c.text for c in candidates}) == 4
        versions = sorted(c.model_version_id for c in candidates)
        assert versions == sorted([new.pk] * 3 + [old.pk]), versions
        assert {c.generation_job_id for c in candidates} == {job.pk}
        assert {c.model_name for c in candidates} == {"new", "old"}


class FixedBackend:
    """A stand-in sampler whose texts are known (the mixing logic, not a model, is under test):
    it writes ``{prefix}{i}`` and, for the first prompt, repeats the other backend's text."""

    name = "test"

    def __init__(self, prefix: str, clash: str | None = None) -> None:
        self.prefix, self.clash = prefix, clash

    def sample(self, prompts, n, sampling, seed):
        rows = []
        for p, _ in enumerate(prompts):
            texts = [f"{self.prefix}{i}" for i in range(n)]
            if self.clash and p == 0:
                texts[0] = self.clash
            rows.append(texts)
        return rows


def test_mixed_texts_stay_distinct_across_the_two_models():
    prompts = [(1, [{"role": "user", "content": "a"}]), (2, [{"role": "user", "content": "b"}])]
    batches = list(
        generate_mixed_sets(
            FixedBackend("new-"),
            FixedBackend("old-", clash="new-0"),
            prompts,
            k=4,
            mix=2,
            sampling={"batch_size": 8},
            seed=0,
        )
    )
    (first, second) = batches[0]
    assert first[1] == [("new-0", False), ("new-1", False), ("old-1", True), ("old-2", True)]
    assert second[1] == [("new-0", False), ("new-1", False), ("old-0", True), ("old-1", True)]
    with pytest.raises(ValueError, match="mix"):
        list(generate_mixed_sets(FixedBackend("a"), FixedBackend("b"), prompts, k=4, mix=4,
                                 sampling={"batch_size": 8}, seed=0))  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mix_count": 1}, "mix_count"),
        ({"mix_model": "old", "mix_count": 4}, "mix_count"),
        ({"mix_model": "old", "mix_count": 0}, "mix_count"),
        ({"mix_model": "new", "mix_count": 1}, "mix_model_version"),
        ({"mix_model": 999_999, "mix_count": 1}, "mix_model"),
    ],
)
@pytest.mark.django_db
def test_bad_mix_requests_are_400_and_queue_nothing(client_for, project, two_policies, body, field):
    new, old = two_policies
    names = {"old": old.pk, "new": new.pk}
    if isinstance(body.get("mix_model"), str):
        body = body | {"mix_model": names[body["mix_model"]]}
    response = client_for(Role.ADMIN).post(
        f"/api/v1/projects/{project.pk}/generate/", {"model": new.pk} | body, format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not GenerationJob.objects.exists() and not Candidate.objects.exists()

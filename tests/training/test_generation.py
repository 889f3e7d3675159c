"""Generation jobs: K distinct candidates per prompt from a registered model, through a real
Celery worker and Redis, written as candidate sets with full lineage."""

from __future__ import annotations

import time

import pytest

from annotation.enums import Role
from annotation.models import Candidate, CandidateSet, Prompt
from annotation.services.imports import prompts_import
from training.generation import generate_sets
from training.models import GenerationJob, JobStatus, ModelKind, ModelVersion
from training.services.generation import generation_job_create, generation_job_execute
from training.services.registry import model_version_register

SAMPLING = {"max_new_tokens": 8, "batch_size": 4, "temperature": 1.0}


@pytest.fixture
def policy(db, tiny_model_dir):
    return model_version_register(
        name="tiny-policy", path=str(tiny_model_dir), kind=ModelKind.POLICY
    )


@pytest.fixture
def project_with_prompts(make_project):
    project = make_project(k=3)
    prompts_import(
        project=project,
        rows=[(i + 1, {"prompt": f"Describe the number {i}."}) for i in range(6)],
    )
    return project


def wait_for(job_id: int, timeout: float = 120) -> GenerationJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = GenerationJob.objects.get(pk=job_id)
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            return job
        time.sleep(0.5)
    raise AssertionError(f"generation job {job_id} did not finish in {timeout} s")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("executor", ["", "local"], ids=["inline", "local"])
def test_generate_endpoint_writes_k_distinct_candidates_per_prompt_via_a_worker(
    celery_worker, client_for, policy, project_with_prompts, executor
):
    """In the worker's own process (the default for small models), and in a child process
    forked from the worker's warm process (``local``)."""
    project = project_with_prompts
    admin = client_for(Role.ADMIN)
    response = admin.post(
        f"/api/v1/projects/{project.pk}/generate/",
        {"model": policy.pk, "sampling": SAMPLING, "seed": 11, "executor": executor},
        format="json",
    )
    assert response.status_code == 202, response.json()
    job = wait_for(response.json()["id"])
    assert job.status == JobStatus.SUCCEEDED, job.error + job.log_tail
    assert job.executor == executor
    assert job.log_tail.count("hf: 6 prompts to generate, 0 already written\n") == 1
    assert job.done == 6 and job.sets_created + job.prompts_skipped == 6
    assert job.sets_created >= 5  # a random tiny model rarely repeats itself 3 × 4 times
    assert job.backend == "hf"
    for candidate_set in CandidateSet.objects.filter(project=project):
        texts = list(candidate_set.candidates.values_list("text", flat=True))
        assert len(texts) == 3 and len(set(texts)) == 3 and all(t.strip() for t in texts)
        assert candidate_set.round == 0
    candidate = Candidate.objects.filter(generation_job=job).first()
    assert candidate.model_version == policy
    assert candidate.sampling_params == {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 8}
    assert candidate.seed is not None
    status = admin.get(f"/api/v1/generation-jobs/{job.pk}/").json()
    assert status["status"] == "succeeded" and status["prompts"] == 6
    models = {m["id"]: m for m in admin.get("/api/v1/models/").json()["results"]}
    assert models[policy.pk]["generation_jobs"] == [job.pk]
    assert models[policy.pk]["candidates_generated"] == 3 * job.sets_created
    # The next job for "pending" prompts has only the skipped ones left, in a new round.
    if job.prompts_skipped == 0:
        again = admin.post(
            f"/api/v1/projects/{project.pk}/generate/", {"model": policy.pk}, format="json"
        )
        assert again.status_code == 400
        assert again.json()["errors"] == {"prompts": ["No prompts to generate for."]}


@pytest.mark.django_db
def test_a_redelivered_job_writes_nothing_twice(policy, project_with_prompts):
    """The worker side run twice (as after a redelivery): the second call finds the job
    finished; reset to running with a stale heartbeat, it skips every prompt already written."""
    from datetime import timedelta

    from django.utils import timezone

    from training.services.generation import generation_job_create

    job = generation_job_create(
        project=project_with_prompts, model_version=policy, sampling=SAMPLING, seed=3
    )
    assert generation_job_execute(job_id=job.pk) == "succeeded"
    sets = CandidateSet.objects.filter(project=project_with_prompts).count()
    assert generation_job_execute(job_id=job.pk).startswith("skipped")
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert generation_job_execute(job_id=job.pk) == "succeeded"
    assert CandidateSet.objects.filter(project=project_with_prompts).count() == sets


class RepeatingBackend:
    """A stand-in for a model that keeps repeating itself (to test de-duplication without
    relying on a real model's sampling): the first draw for a prompt repeats one text."""

    name = "test"

    def __init__(self, distinct_after_redraw: bool) -> None:
        self.distinct_after_redraw = distinct_after_redraw
        self.calls = 0

    def sample(self, prompts, n, sampling, seed):
        self.calls += 1
        if self.calls == 1 or not self.distinct_after_redraw:
            return [["same answer"] * n for _ in prompts]
        return [[f"answer {seed}-{i}" for i in range(n)] for _ in prompts]


def test_identical_samples_are_redrawn_then_the_prompt_is_skipped():
    prompts = [(1, [{"role": "user", "content": "hi"}])]
    sampling = {"batch_size": 4}
    (batch,) = generate_sets(RepeatingBackend(True), prompts, k=3, sampling=sampling, seed=0)
    ((prompt_id, texts, _),) = batch
    assert prompt_id == 1 and len(texts) == 3 and len(set(texts)) == 3
    assert texts[0] == "same answer"
    (batch,) = generate_sets(RepeatingBackend(False), prompts, k=3, sampling=sampling, seed=0)
    assert batch[0][1] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompts": "some"}, "prompts"),
        ({"prompts": [999999]}, "prompts"),
        ({"sampling": {"temperature": 0}}, "sampling.temperature"),
        ({"sampling": {"top_k": 5}}, "sampling.top_k"),
        ({"sampling": {"max_new_tokens": "many"}}, "sampling.max_new_tokens"),
        ({"model": 999999}, "model"),
        ({}, "model_version"),  # no model given and the project has no current policy
    ],
)
def test_bad_generate_request_is_400_and_nothing_is_queued(
    client_for, policy, project_with_prompts, body, field
):
    body = {"model": policy.pk} | body if field != "model_version" else body
    response = client_for(Role.ADMIN).post(
        f"/api/v1/projects/{project_with_prompts.pk}/generate/", body, format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert GenerationJob.objects.count() == 0


@pytest.mark.django_db
def test_generation_uses_the_models_chat_template(policy, project_with_prompts):
    from transformers import AutoTokenizer

    prompt = Prompt.objects.filter(project=project_with_prompts).first()
    tokenizer = AutoTokenizer.from_pretrained(policy.storage_path)
    rendered = tokenizer.apply_chat_template(
        prompt.messages, add_generation_prompt=True, tokenize=False
    )
    assert rendered.endswith("<|im_start|>assistant\n")
    assert policy.chat_template and "im_start" in policy.chat_template


class NulBackend:
    """A stand-in for a model emitting U+0000 (byte-level tokenizers can), which PostgreSQL
    text cannot store."""

    name = "test"

    def sample(self, prompts, n, sampling, seed):
        return [[f"answer\x00 {i}" for i in range(n)] for _ in prompts]


def test_nul_characters_are_stripped_from_generated_text():
    prompts = [(1, [{"role": "user", "content": "hi"}])]
    (batch,) = generate_sets(NulBackend(), prompts, k=2, sampling={"batch_size": 1}, seed=0)
    assert batch[0][1] == ["answer 0", "answer 1"]


@pytest.mark.django_db
def test_big_models_generate_on_the_gpu_queue(policy, settings):
    from training.services import generation

    assert generation.generation_queue(policy) == "generation"
    settings.FLYWHEEL_GPU_GENERATION_BYTES = 1
    assert generation.generation_queue(policy) == "gpu"


@pytest.mark.django_db
def test_a_big_model_generates_in_a_child_process_unless_told(
    policy, project_with_prompts, settings
):
    """On the gpu queue the job's process is a child (``local``), so its CUDA memory dies with
    it; small models generate in the worker itself (``inline``, the setting's default)."""
    small = generation_job_create(project=project_with_prompts, model_version=policy)
    assert small.executor == ""  # FLYWHEEL_DEFAULT_EXECUTORS: inline
    settings.FLYWHEEL_GPU_GENERATION_BYTES = 1
    big = generation_job_create(project=project_with_prompts, model_version=policy, prompts="all")
    assert big.executor == "local"
    told = generation_job_create(
        project=project_with_prompts, model_version=policy, prompts="all", executor="inline"
    )
    assert told.executor == "inline"


@pytest.mark.django_db
def test_generation_jobs_are_listed_newest_first_per_project(client_for, make_project):
    model = ModelVersion.objects.create(name="listed-policy", kind=ModelKind.POLICY)
    first, other = make_project(k=2), make_project(k=2)
    for project in (first, other):
        prompts_import(project=project, rows=[(i + 1, {"prompt": f"Q{i}"}) for i in range(3)])
    older = generation_job_create(project=first, model_version=model, prompts="all")
    newer = generation_job_create(project=first, model_version=model, prompts="all", seed=2)
    generation_job_create(project=other, model_version=model, prompts="all")

    reviewer = client_for(Role.REVIEWER)
    page = reviewer.get(f"/api/v1/generation-jobs/?project={first.pk}&limit=1").json()
    assert page["count"] == 2 and page["next"] is not None
    (row,) = page["results"]
    assert row["id"] == newer.pk and row["seed"] == 2
    assert (row["prompts"], row["done"], row["status"]) == (3, 0, "queued")
    assert row["model_name"] == "listed-policy" and row["k"] == 2
    rest = reviewer.get(page["next"]).json()["results"]
    assert [r["id"] for r in rest] == [older.pk]
    assert reviewer.get("/api/v1/generation-jobs/").json()["count"] == 3
    assert client_for(Role.ANNOTATOR).get("/api/v1/generation-jobs/").status_code == 403


@pytest.mark.django_db
def test_a_running_job_that_is_cancelled_stops_after_its_current_batch(
    policy, project_with_prompts
):
    """The job's reporter sees the cancel (its heartbeat reads ``cancel_requested``); the job
    ends cancelled after the batch it was writing, and the sets already written stay."""
    from training.engine.jobs import job_type
    from training.engine.lifecycle import job_acquire
    from training.engine.reporting import JobReporter
    from training.services.generation import generation_job_cancel, generation_process

    job = generation_job_create(
        project=project_with_prompts,
        model_version=policy,
        sampling=SAMPLING | {"batch_size": 1},
        seed=3,
    )
    jobs = job_type("generation_job")
    assert job_acquire(jobs, job.pk)
    generation_job_cancel(job=job)
    reporter = JobReporter(jobs, job.pk)  # what a heartbeat reads once the cancel is asked
    assert reporter.should_stop()
    assert generation_process(job.pk, reporter) == 0
    job.refresh_from_db()
    assert (job.status, job.sets_created, job.done) == (JobStatus.CANCELLED, 1, 1)
    assert len(job.prompt_ids) > 1
    assert CandidateSet.objects.filter(project=project_with_prompts).count() == 1

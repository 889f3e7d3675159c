"""A model served by an OpenAI-compatible endpoint as a generator (issue 16): registered over
REST, sampled by ``training.endpoint.EndpointBackend`` from a real HTTP server in its own
process (``tests/servers/openai_compatible.py``, the tiny model behind the chat-completions
protocol), through generation jobs that write candidate sets."""

from __future__ import annotations

import os
import secrets
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotation.enums import Role
from annotation.models import Candidate, CandidateSet
from annotation.services.imports import prompts_import
from training.endpoint import EndpointBackend, EndpointError, prompt_seed
from training.models import GenerationJob, JobStatus, ModelVersion, TrainingRun
from training.services.generation import generation_job_create, generation_job_execute

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "FW_TEST_ENDPOINT_KEY"
KEY = f"sk-test-{secrets.token_hex(8)}"
SAMPLING = {"max_new_tokens": 8, "batch_size": 4, "temperature": 1.0}


class Server:
    """``python -m tests.servers.openai_compatible`` on a free port of 127.0.0.1."""

    def __init__(self, model_dir: Path, log: Path, *options: str) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.servers.openai_compatible", str(model_dir), *options],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
            env=os.environ | {"HF_HUB_OFFLINE": "1"},
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 1)
            if ready:
                line = self.process.stdout.readline()
                if line.startswith("listening on "):
                    self.base_url = f"http://127.0.0.1:{int(line.split()[-1])}/v1"
                    return
            if self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"the endpoint server did not start:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory) -> Iterator[Server]:
    """The tiny model behind a chat-completions server that wants the bearer key ``KEY``."""
    started = Server(tiny_model_dir, tmp_path_factory.mktemp("server") / "log", "--api-key", KEY)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def terse_server(tiny_model_dir, tmp_path_factory) -> Iterator[Server]:
    """A busy server that ignores ``n``: its first two answers are 503s, then one choice each."""
    started = Server(
        tiny_model_dir,
        tmp_path_factory.mktemp("terse") / "log",
        "--max-choices",
        "1",
        "--fail-first",
        "2",
    )
    yield started
    started.stop()


@pytest.fixture(scope="module")
def tiny_backend(tiny_model_dir):
    """The tiny model in this process, to compare the endpoint's samples with."""
    from training.generation import HFBackend

    return HFBackend.load(str(tiny_model_dir))


def register(client, server: Server, **fields):
    body = {
        "name": "tiny-endpoint",
        "kind": "policy",
        "endpoint": {"base_url": server.base_url, "model": "tiny", "api_key_env": KEY_ENV},
    } | fields
    return client.post("/api/v1/models/endpoints/", body, format="json")


@pytest.fixture
def endpoint_model(client_for, server) -> ModelVersion:
    response = register(client_for(Role.ADMIN), server)
    assert response.status_code == 201, response.json()
    return ModelVersion.objects.get(pk=response.json()["id"])


@pytest.fixture
def project(make_project):
    project = make_project(k=3)
    prompts_import(
        project=project, rows=[(i + 1, {"prompt": f"Describe the number {i}."}) for i in range(6)]
    )
    return project


def texts_by_prompt(job: GenerationJob) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for candidate in Candidate.objects.filter(generation_job=job).order_by("id"):
        found.setdefault(candidate.prompt_id, []).append(candidate.text)
    return found


@pytest.mark.django_db
def test_an_admin_registers_an_endpoint_model_and_only_the_key_variable_is_stored(
    client_for, server
):
    admin = client_for(Role.ADMIN)
    response = register(
        admin,
        server,
        endpoint={"base_url": server.base_url + "/", "model": " tiny ", "api_key_env": KEY_ENV},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["endpoint"] == {
        "base_url": server.base_url,
        "model": "tiny",
        "api_key_env": KEY_ENV,
    }
    assert body["kind"] == "policy" and body["storage_path"] == ""
    model = ModelVersion.objects.get(pk=body["id"])
    assert model.endpoint == body["endpoint"]
    assert KEY not in str(model.__dict__)
    listed = admin.get("/api/v1/models/").json()["results"]
    assert [m["name"] for m in listed] == ["tiny-endpoint"]
    # Without a key variable: a server that needs no key.
    keyless = register(
        admin, server, name="keyless", endpoint={"base_url": server.base_url, "model": "tiny"}
    )
    assert keyless.status_code == 201 and keyless.json()["endpoint"]["api_key_env"] == ""
    refused = register(client_for(Role.REVIEWER), server, name="other")
    assert refused.status_code == 403
    assert not ModelVersion.objects.filter(name="other").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base_url": "ftp://127.0.0.1/v1"}, "endpoint.base_url"),
        ({"base_url": "not a url"}, "endpoint.base_url"),
        ({"base_url": "http:///v1"}, "endpoint.base_url"),
        ({"base_url": "https://user:sk-secret@api.example.com/v1"}, "endpoint.base_url"),
        ({"base_url": "https://api.example.com/v1?api_key=sk-secret"}, "endpoint.base_url"),
        ({"base_url": "http://127.0.0.1:99999/v1"}, "endpoint.base_url"),
        ({"base_url": ""}, "endpoint.base_url"),
        ({"model": "  "}, "endpoint.model"),
        ({"model": None}, "endpoint.model"),
        ({"api_key_env": "sk-0123456789abcdef"}, "endpoint.api_key_env"),
        ({"api_key_env": "1KEY"}, "endpoint.api_key_env"),
        ({"api_key_env": "DATABASE_URL"}, "endpoint.api_key_env"),
        ({"api_key_env": "FLYWHEEL_SECRET"}, "endpoint.api_key_env"),
        ({"api_key_env": "secret_key"}, "endpoint.api_key_env"),
        ({"kind": "reward"}, "kind"),
        ({"parent": 999999}, "parent"),
        ({"endpoint": None}, "endpoint"),
        ({"name": "tiny-sft"}, "name"),
    ],
)
def test_a_bad_endpoint_registration_is_a_400_naming_the_field(
    client_for, server, tiny_model_dir, change, field
):
    from training.services.registry import model_version_register

    model_version_register(name="tiny-sft", path=str(tiny_model_dir), kind="sft")
    endpoint = {"base_url": server.base_url, "model": "tiny", "api_key_env": KEY_ENV}
    top = {k: v for k, v in change.items() if k in ("kind", "parent", "endpoint", "name")}
    endpoint |= {k: v for k, v in change.items() if k not in top}
    response = register(client_for(Role.ADMIN), server, **({"endpoint": endpoint} | top))
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert list(ModelVersion.objects.values_list("name", flat=True)) == ["tiny-sft"]


@pytest.mark.django_db
def test_a_generation_job_on_an_endpoint_model_writes_its_candidate_sets(
    client_for, endpoint_model, project, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, KEY)
    job = generation_job_create(
        project=project, model_version=endpoint_model, sampling=SAMPLING, seed=11
    )
    assert generation_job_execute(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.backend == "endpoint"
    assert "endpoint: 6 prompts to generate, 0 already written" in job.log_tail
    assert job.done == 6 and job.sets_created + job.prompts_skipped == 6
    assert job.sets_created >= 5  # a random tiny model rarely repeats itself 3 × 4 times
    for candidate_set in CandidateSet.objects.filter(project=project):
        texts = list(candidate_set.candidates.values_list("text", flat=True))
        assert len(texts) == 3 and len(set(texts)) == 3 and all(t.strip() for t in texts)
    candidates = Candidate.objects.filter(generation_job=job)
    assert {c.model_version_id for c in candidates} == {endpoint_model.pk}
    assert {c.model_name for c in candidates} == {"tiny-endpoint"}
    models = {m["id"]: m for m in client_for(Role.ADMIN).get("/api/v1/models/").json()["results"]}
    assert models[endpoint_model.pk]["generation_jobs"] == [job.pk]
    assert models[endpoint_model.pk]["candidates_generated"] == 3 * job.sets_created


@pytest.mark.django_db
def test_the_same_seed_draws_the_same_candidates_from_the_endpoint(
    endpoint_model, project, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, KEY)
    drawn = []
    for seed in (5, 5, 6):
        job = generation_job_create(
            project=project,
            model_version=endpoint_model,
            prompts="all",
            sampling=SAMPLING,
            seed=seed,
        )
        assert generation_job_execute(job_id=job.pk) == "succeeded", job.error
        drawn.append(texts_by_prompt(job))
    assert len(drawn[0]) >= 5
    assert drawn[0] == drawn[1]
    assert drawn[0] != drawn[2]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, f"The endpoint's API key variable {KEY_ENV} is not set"),
        ("sk-wrong", f"refused the request with the key in {KEY_ENV}: HTTP 401: Incorrect API key"),
    ],
    ids=["missing", "wrong"],
)
def test_a_missing_or_wrong_key_fails_the_job_with_a_clear_error(
    endpoint_model, project, monkeypatch, key, message
):
    if key is None:
        monkeypatch.delenv(KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(KEY_ENV, key)
    job = generation_job_create(project=project, model_version=endpoint_model, sampling=SAMPLING)
    assert generation_job_execute(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("EndpointError: ") and message in job.error, job.error
    assert "sk-wrong" not in job.error and KEY not in job.error
    assert not CandidateSet.objects.filter(project=project).exists()


def test_the_endpoint_samples_what_the_model_samples_with_each_prompts_seed(server, tiny_backend):
    """n, temperature, top_p, max_tokens and the derived seed all reach the server: its answer
    is the tiny model's own ``sample_chat`` with those arguments."""
    from training.generation import sample_chat

    backend = EndpointBackend(server.base_url, "tiny", KEY)
    prompts = [[{"role": "user", "content": f"Count to {i}."}] for i in range(3)]
    sampling = {"temperature": 0.7, "top_p": 0.9, "max_new_tokens": 6}
    got = backend.sample(prompts, 3, sampling, seed=42)
    expected = [
        sample_chat(
            tiny_backend.model,
            tiny_backend.tokenizer,
            [messages],
            n=3,
            max_new_tokens=6,
            sampling={"temperature": 0.7, "top_p": 0.9},
            seed=prompt_seed(42, i),
        )[0][0]
        for i, messages in enumerate(prompts)
    ]
    assert got == expected
    assert backend.sample(prompts, 3, sampling, seed=42) == got
    assert not backend.single_choice


def test_a_busy_server_is_retried_and_one_that_ignores_n_is_asked_one_sample_at_a_time(
    terse_server, tiny_backend
):
    from training.generation import sample_chat

    backend = EndpointBackend(terse_server.base_url, "tiny", backoff=0.01)
    messages = [{"role": "user", "content": "Name a colour."}]
    got = backend.sample([messages], 3, {"max_new_tokens": 6}, seed=9)
    assert backend.single_choice
    seed = prompt_seed(9, 0)

    def first_of(n: int, seed: int) -> str:
        texts, _ = sample_chat(
            tiny_backend.model, tiny_backend.tokenizer, [messages], n=n, max_new_tokens=6, seed=seed
        )
        return texts[0][0]

    # The first answer is the first of the n the server drew; the missing two are asked for
    # one at a time, each with its own seed.
    expected = [
        first_of(3, seed),
        first_of(1, prompt_seed(seed, 1)),
        first_of(1, prompt_seed(seed, 2)),
    ]
    assert got == [expected]
    log = terse_server.log.read_text()
    assert log.count("POST /v1/chat/completions 503") == 2
    assert log.count("POST /v1/chat/completions 200") == 3


def test_an_unreachable_endpoint_fails_after_its_retries():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = EndpointBackend(f"http://127.0.0.1:{port}/v1", "tiny", max_retries=2, backoff=0.01)
    with pytest.raises(EndpointError, match=r"failed after 3 attempts: ConnectError"):
        backend.sample([[{"role": "user", "content": "hi"}]], 2, {"max_new_tokens": 4}, seed=0)


def test_a_wrong_model_name_is_a_clear_error(server):
    backend = EndpointBackend(server.base_url, "gpt-unknown", KEY, backoff=0.01)
    with pytest.raises(EndpointError, match=r"HTTP 404: The model `gpt-unknown` does not exist"):
        backend.sample([[{"role": "user", "content": "hi"}]], 2, {"max_new_tokens": 4}, seed=0)


@pytest.mark.django_db
def test_a_training_run_cannot_start_from_an_endpoint_model(client_for, world, endpoint_model):
    snapshot, _, _ = world
    response = client_for(Role.ADMIN).post(
        "/api/v1/training-runs/",
        {"kind": "sft", "dataset": snapshot.pk, "base_model": endpoint_model.pk},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert "served by an endpoint" in response.json()["errors"]["base_model"][0]
    assert not TrainingRun.objects.exists()

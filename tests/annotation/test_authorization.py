"""Authorization matrix: every endpoint × {anonymous, annotator, reviewer, admin}, and the
per-project dimension: the annotator and reviewer of project A against everything of project B.

The matrix must cover every operation in the OpenAPI schema, so a new endpoint cannot ship
without a row here."""

import pytest
from rest_framework.test import APIClient

from annotation.exports.stream import ExportFilters
from annotation.models import Project, ProjectMembership
from annotation.services.rankings import Submission, ranking_submit
from annotation.services.snapshots import snapshot_create
from annotation.services.users import token_for
from flywheel.accounts.services import token_create
from loop.models import LoopRound, RoundStatus, RoundStep
from loop.services.settings import loop_for
from tests.annotation.ranking_helpers import assignment_next
from training.models import GenerationJob, MergeJob, ModelKind, ModelVersion, TrainingRun
from webhooks.enums import DeliveryStatus
from webhooks.models import Delivery, Webhook, WebhookEvent

pytestmark = pytest.mark.django_db

ANON, ANNOTATOR, REVIEWER, ADMIN = "anonymous", "annotator", "reviewer", "admin"
ROLES = [ANON, ANNOTATOR, REVIEWER, ADMIN]


def prompt_rows():
    return [{"prompt": "New prompt"}]


def gold_rows():
    return [
        {"prompt": "G", "candidates": [{"text": "a"}, {"text": "b"}], "gold_ranking": [[0], [1]]}
    ]


def set_rows():
    return [{"prompt": "Q", "candidates": [{"text": "a"}, {"text": "b"}]}]


REVIEWER_READS = {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200}
ADMIN_ONLY = {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200}

# (method, path template, body factory, {role: expected status})
MATRIX = [
    ("post", "/api/v1/auth/token/", lambda ctx: {}, dict.fromkeys(ROLES, 400)),
    (
        "post",
        "/api/v1/auth/token/revoke/",
        None,
        {ANON: 401, ANNOTATOR: 204, REVIEWER: 204, ADMIN: 204},
    ),
    ("get", "/api/v1/auth/tokens/", None, {ANON: 401, ANNOTATOR: 200, REVIEWER: 200, ADMIN: 200}),
    (
        "post",
        "/api/v1/auth/tokens/",
        lambda ctx: {"name": "script"},
        {ANON: 401, ANNOTATOR: 201, REVIEWER: 201, ADMIN: 201},
    ),
    (  # the admin's own token; an admin may revoke anyone's, the others only their own
        "delete",
        "/api/v1/auth/tokens/{token}/",
        None,
        {ANON: 401, ANNOTATOR: 404, REVIEWER: 404, ADMIN: 204},
    ),
    (
        "post",
        "/api/v1/auth/password/",
        lambda ctx: {},
        {ANON: 401, ANNOTATOR: 400, REVIEWER: 400, ADMIN: 400},
    ),
    ("get", "/api/v1/auth/csrf/", None, dict.fromkeys(ROLES, 204)),
    ("post", "/api/v1/auth/login/", lambda ctx: {}, dict.fromkeys(ROLES, 400)),
    ("post", "/api/v1/auth/logout/", None, {ANON: 401, ANNOTATOR: 204, REVIEWER: 204, ADMIN: 204}),
    ("get", "/api/v1/me/", None, {ANON: 401, ANNOTATOR: 200, REVIEWER: 200, ADMIN: 200}),
    ("get", "/api/v1/me/reviews/", None, {ANON: 401, ANNOTATOR: 200, REVIEWER: 200, ADMIN: 200}),
    ("get", "/api/v1/projects/{project}/review-queue/", None, REVIEWER_READS),
    (
        "post",
        "/api/v1/projects/{project}/rankings/{review_ranking}/review/",
        lambda ctx: {"action": "accept"},
        REVIEWER_READS,
    ),
    (
        "post",
        "/api/v1/projects/{project}/candidate-sets/{candidate_set}/adjudication/",
        lambda ctx: {"tiers": ctx["set_order"]},
        REVIEWER_READS,
    ),
    ("get", "/api/v1/users/", None, {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200}),
    (
        "post",
        "/api/v1/users/",
        lambda ctx: {
            "username": f"new-{ctx['role']}",
            "password": "a-long-passphrase-1",
            "role": "annotator",
        },
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "patch",
        "/api/v1/users/{user}/",
        lambda ctx: {"is_active": True},
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200},
    ),
    ("get", "/api/v1/projects/", None, {ANON: 401, ANNOTATOR: 200, REVIEWER: 200, ADMIN: 200}),
    (
        "post",
        "/api/v1/projects/",
        lambda ctx: {"name": f"P {ctx['role']}", "k": 3},
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "get",
        "/api/v1/projects/{project}/",
        None,
        {ANON: 401, ANNOTATOR: 200, REVIEWER: 200, ADMIN: 200},
    ),
    (
        "patch",
        "/api/v1/projects/{project}/",
        lambda ctx: {"guidelines": "Be kind."},
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200},
    ),
    (
        "get",
        "/api/v1/projects/{project}/prompts/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200},
    ),
    (
        "post",
        "/api/v1/projects/{project}/prompts/",
        lambda ctx: prompt_rows(),
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "get",
        "/api/v1/projects/{project}/candidate-sets/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200},
    ),
    (
        "post",
        "/api/v1/projects/{project}/candidate-sets/",
        lambda ctx: set_rows(),
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "post",
        "/api/v1/projects/{project}/next-task/",
        None,
        {ANON: 401, ANNOTATOR: 200, REVIEWER: 403, ADMIN: 403},
    ),
    ("get", "/api/v1/projects/{project}/members/", None, REVIEWER_READS),
    (
        "post",
        "/api/v1/projects/{project}/members/",
        lambda ctx: {"users": [ctx["user"]], "role": "annotator"},
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "patch",
        "/api/v1/projects/{project}/members/{user}/",
        lambda ctx: {"role": "annotator"},
        ADMIN_ONLY,
    ),
    (
        "delete",
        "/api/v1/projects/{project}/members/{user}/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 204},
    ),
    (
        "post",
        "/api/v1/assignments/{assignment}/submit/",
        lambda ctx: {"ranking": ctx["ranking"]},
        {ANON: 401, ANNOTATOR: 201, REVIEWER: 403, ADMIN: 403},
    ),
    (
        "post",
        "/api/v1/assignments/{assignment}/skip/",
        None,
        {ANON: 401, ANNOTATOR: 200, REVIEWER: 403, ADMIN: 403},
    ),
    (
        "post",
        "/api/v1/assignments/{assignment}/release/",
        None,
        {ANON: 401, ANNOTATOR: 200, REVIEWER: 403, ADMIN: 403},
    ),
    (
        "get",
        "/api/v1/projects/{project}/export/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200},
    ),
    (
        "get",
        "/api/v1/projects/{project}/progress/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200},
    ),
    (
        "get",
        "/api/v1/projects/{project}/annotators/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200},
    ),
    (
        "post",
        "/api/v1/projects/{project}/gold-sets/",
        lambda ctx: gold_rows(),
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "post",
        "/api/v1/projects/{project}/honeypots/",
        lambda ctx: {"count": 1},
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "post",
        "/api/v1/projects/{project}/preferences/?source=trl",
        lambda ctx: [{"prompt": "Q", "chosen": "good", "rejected": "bad"}],
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    ("get", "/api/v1/datasets/", None, {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200}),
    (
        "post",
        "/api/v1/datasets/",
        lambda ctx: {"project": ctx["project"]},
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "get",
        "/api/v1/datasets/{snapshot}/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200},
    ),
    (
        "get",
        "/api/v1/datasets/{snapshot}/export/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200},
    ),
    (
        "get",
        "/api/v1/candidate-sets/{candidate_set}/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200},
    ),
    ("get", "/api/v1/models/", None, {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200}),
    (  # the world's models have no directory on this server's storage
        "get",
        "/api/v1/models/{adapter}/download/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 409},
    ),
    (
        "post",
        "/api/v1/models/",
        lambda ctx: {"name": f"m-{ctx['role']}", "path": "/nonexistent"},
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 400},
    ),
    (
        "post",
        "/api/v1/models/endpoints/",
        lambda ctx: {
            "name": f"e-{ctx['role']}",
            "endpoint": {"base_url": "http://127.0.0.1:9/v1", "model": "tiny"},
        },
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "post",
        "/api/v1/models/{adapter}/merge/",
        lambda ctx: {"name": f"merged-{ctx['role']}"},
        ADMIN_ONLY | {ADMIN: 202},
    ),
    ("get", "/api/v1/merge-jobs/{merge_job}/", None, ADMIN_ONLY),
    ("get", "/api/v1/training-runs/", None, {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200}),
    (
        "post",
        "/api/v1/training-runs/",
        lambda ctx: {"kind": "sft", "dataset": ctx["snapshot"], "base_model": ctx["model"]},
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 201},
    ),
    (
        "get",
        "/api/v1/training-runs/{run}/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200},
    ),
    (
        "post",
        "/api/v1/training-runs/{run}/cancel/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200},
    ),
    (
        "post",
        "/api/v1/projects/{project}/generate/",
        lambda ctx: {"model": ctx["model"], "prompts": "all"},
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 202},
    ),
    (
        "get",
        "/api/v1/generation-jobs/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200},
    ),
    ("get", "/api/v1/run-kinds/", None, {ANON: 401, ANNOTATOR: 403, REVIEWER: 200, ADMIN: 200}),
    (
        "get",
        "/api/v1/generation-jobs/{job}/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200},
    ),
    (
        "post",
        "/api/v1/generation-jobs/{job}/cancel/",
        None,
        {ANON: 401, ANNOTATOR: 403, REVIEWER: 403, ADMIN: 200},
    ),
    ("get", "/api/v1/projects/{project}/loop/", None, REVIEWER_READS),
    ("patch", "/api/v1/projects/{project}/loop/", lambda ctx: {"auto": False}, ADMIN_ONLY),
    ("get", "/api/v1/projects/{project}/rounds/", None, REVIEWER_READS),
    ("post", "/api/v1/projects/{project}/rounds/", None, ADMIN_ONLY | {ADMIN: 201}),
    ("get", "/api/v1/projects/{project}/leaderboard/", None, REVIEWER_READS),
    ("get", "/api/v1/projects/{project}/loop/waiting/", None, REVIEWER_READS),
    ("get", "/api/v1/rounds/{round}/", None, REVIEWER_READS),
    ("post", "/api/v1/rounds/{round}/retry/", None, ADMIN_ONLY),
    (
        "post",
        "/api/v1/rounds/{round}/decision/",
        lambda ctx: {"promote": False},
        ADMIN_ONLY | {ADMIN: 409},
    ),
    ("get", "/api/v1/webhooks/", None, ADMIN_ONLY),
    (
        "post",
        "/api/v1/webhooks/",
        # A public address literal: checked without a DNS lookup.
        lambda ctx: {"url": "https://93.184.215.14/hook", "events": ["set.completed"]},
        ADMIN_ONLY | {ADMIN: 201},
    ),
    ("get", "/api/v1/webhooks/{webhook}/", None, ADMIN_ONLY),
    ("patch", "/api/v1/webhooks/{webhook}/", lambda ctx: {"active": False}, ADMIN_ONLY),
    ("delete", "/api/v1/webhooks/{webhook}/", None, ADMIN_ONLY | {ADMIN: 204}),
    ("get", "/api/v1/webhooks/{webhook}/deliveries/", None, ADMIN_ONLY),
    (
        "post",
        "/api/v1/webhook-deliveries/{delivery}/redeliver/",
        None,
        ADMIN_ONLY | {ADMIN: 202},
    ),
    ("get", "/api/v1/health/", None, dict.fromkeys(ROLES, 200)),
    ("get", "/api/v1/schema/", None, dict.fromkeys(ROLES, 200)),
    ("get", "/api/v1/docs/", None, dict.fromkeys(ROLES, 200)),
]


def rank_one(project, annotator):
    """The annotator takes the project's next set and submits it in the order shown."""
    leased = assignment_next(project=project, annotator=annotator)
    ranking, _ = ranking_submit(
        assignment_id=leased.pk,
        annotator=annotator,
        submission=Submission(ranking=[[c] for c in leased.display_order]),
    )
    return ranking


@pytest.fixture
def world(make_user, make_project, make_sets):
    """A project with sets, one ranked, a snapshot, one user per role; each test also leases
    a fresh set to the annotator."""
    project = make_project(k=2, annotations_per_set=1)
    make_sets(project, 4)
    users = {role: make_user(role) for role in (ANNOTATOR, REVIEWER, ADMIN)}
    review_ranking = rank_one(project, users[ANNOTATOR])
    snapshot = snapshot_create(project=project, name="s", filters=ExportFilters())
    model = ModelVersion.objects.create(name="policy", kind=ModelKind.POLICY)
    Project.objects.filter(pk=project.pk).update(current_policy=model)
    failed_round = LoopRound.objects.create(
        loop=loop_for(project),
        number=1,
        policy_kind="dpo",
        base_policy=model,
        status=RoundStatus.FAILED,
        step=RoundStep.REWARD,
    )
    run = TrainingRun.objects.create(kind="sft", dataset=snapshot, base_model=model)
    job = GenerationJob.objects.create(
        project=project, model_version=model, prompt_ids=[1], k=2, sampling={}
    )
    adapter = ModelVersion.objects.create(
        name="policy-lora", kind=ModelKind.POLICY, parent=model, adapter_base=model
    )
    merge_job = MergeJob.objects.create(adapter=adapter, name="merged")
    webhook = Webhook.objects.create(url="https://93.184.215.14/hook", events=["set.completed"])
    event = WebhookEvent.objects.create(type="set.completed", project=project)
    delivery = Delivery.objects.create(
        event=event, webhook=webhook, status=DeliveryStatus.FAILED, attempts=8
    )
    ids = {
        "model": model.pk,
        "run": run.pk,
        "job": job.pk,
        "round": failed_round.pk,
        "adapter": adapter.pk,
        "merge_job": merge_job.pk,
        "webhook": webhook.pk,
        "delivery": delivery.pk,
        "token": token_create(user=users[ADMIN], name="matrix")[0].pk,
        "user": users[ANNOTATOR].pk,
        "review_ranking": review_ranking.pk,
        "set_order": [
            [m.candidate_id] for m in project.candidate_sets.first().members.order_by("position")
        ],
    }
    return project, users, snapshot, ids


def client_as(role, users):
    client = APIClient()
    if role != ANON:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=users[role])}")
    return client


def fresh_assignment(project, users):
    task = client_as(ANNOTATOR, users).post(f"/api/v1/projects/{project.pk}/next-task/").json()
    return task["assignment"], [[c["id"]] for c in task["candidates"]]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "template", "body", "expected"),
    MATRIX,
    ids=[f"{m.upper()} {t}" for m, t, _, _ in MATRIX],
)
def test_authorization_matrix(world, role, method, template, body, expected):
    project, users, snapshot, training = world
    assignment, ranking = fresh_assignment(project, users)
    context = {
        "project": project.pk,
        "assignment": assignment,
        "ranking": ranking,
        "snapshot": snapshot.pk,
        "candidate_set": project.candidate_sets.first().pk,
        "role": role,
        **training,
    }
    url = template.format(**context)
    client = client_as(role, users)
    data = body(context) if body else None
    kwargs = {"format": "json"} if data is not None else {}
    response = getattr(client, method)(url, data, **kwargs)
    assert response.status_code == expected[role], (role, url, response.content[:300])


def test_matrix_covers_every_operation_in_the_schema(admin_client):
    schema = admin_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    documented = {
        (method, path)
        for path, operations in schema.json()["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }

    def as_schema_path(template):
        return (
            template.split("?")[0]
            .replace("{project}", "{project_id}")
            .replace("{assignment}", "{assignment_id}")
            .replace("{snapshot}", "{snapshot_id}")
            .replace("{run}", "{run_id}")
            .replace("{candidate_set}", "{set_id}")
            .replace("{job}", "{job_id}")
            .replace("{round}", "{round_id}")
            .replace("{adapter}", "{model_id}")
            .replace("{merge_job}", "{job_id}")
            .replace("{webhook}", "{webhook_id}")
            .replace("{delivery}", "{delivery_id}")
            .replace("{token}", "{token_id}")
            .replace("{user}", "{user_id}")
            .replace("{review_ranking}", "{ranking_id}")
        )

    covered = {(m, as_schema_path(t)) for m, t, _, _ in MATRIX}
    assert documented - covered == set()


# What names an object of a project: these rows are tried against another project's objects.
PROJECT_SCOPED = ("{project}", "{snapshot}", "{candidate_set}", "{round}", "{job}")
OTHER_PROJECT_ROWS = [row for row in MATRIX if any(key in row[1] for key in PROJECT_SCOPED)]


@pytest.fixture
def other_project(world, make_project, make_sets):
    """Project B, where the world's annotator and reviewer are not members: its sets, a
    snapshot, a failed round and a generation job."""
    _, users, _, ids = world
    project = make_project(k=2, annotations_per_set=1)
    make_sets(project, 2)
    rank_one(project, users[ANNOTATOR])
    ProjectMembership.objects.filter(project=project).delete()  # ranked before leaving B
    model = ModelVersion.objects.get(pk=ids["model"])
    return {
        "project": project.pk,
        "snapshot": snapshot_create(project=project, name="b", filters=ExportFilters()).pk,
        "candidate_set": project.candidate_sets.first().pk,
        "round": LoopRound.objects.create(
            loop=loop_for(project),
            number=1,
            policy_kind="dpo",
            base_policy=model,
            status=RoundStatus.FAILED,
            step=RoundStep.REWARD,
        ).pk,
        "job": GenerationJob.objects.create(
            project=project, model_version=model, prompt_ids=[1], k=2, sampling={}
        ).pk,
    }


@pytest.mark.parametrize("role", [ANNOTATOR, REVIEWER])
@pytest.mark.parametrize(
    ("method", "template", "body", "expected"),
    OTHER_PROJECT_ROWS,
    ids=[f"{m.upper()} {t}" for m, t, _, _ in OTHER_PROJECT_ROWS],
)
def test_a_member_of_one_project_gets_404_on_everything_of_another(
    world, other_project, role, method, template, body, expected
):
    """The project-scoped URLs of B answer 404 (B is not shown to exist), whatever the role may
    do in A; an object of B reached by its own id answers 404 too, except where the role may
    not use that endpoint in any project (the annotator on a snapshot): the 403 it gets
    everywhere. Nothing is written."""
    project, users, snapshot, training = world
    context = {
        "assignment": 1,
        "ranking": [],
        "role": role,
        **training,
        **other_project,
    }
    url = template.format(**context)
    data = body(context) if body else None
    kwargs = {"format": "json"} if data is not None else {}
    counts = (ProjectMembership.objects.count(), GenerationJob.objects.count())
    response = getattr(client_as(role, users), method)(url, data, **kwargs)
    scoped_by_url = "{project}" in template
    wanted = 404 if scoped_by_url or expected[role] != 403 else 403
    assert response.status_code == wanted, (role, url, response.content[:300])
    if wanted == 404:
        assert response.json()["code"] == "not_found"
    assert counts == (ProjectMembership.objects.count(), GenerationJob.objects.count())

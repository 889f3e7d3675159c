"""Every model has a working Django admin, usable by a user with the admin role."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotation.enums import Role
from annotation.exports.stream import ExportFilters
from annotation.services.rankings import Submission, ranking_submit
from annotation.services.snapshots import snapshot_create
from loop.models import Loop, LoopRound, RoundStepJob
from tests.annotation.ranking_helpers import assignment_next
from training.models import (
    GenerationJob,
    MergeJob,
    ModelKind,
    ModelVersion,
    RunMetric,
    TrainingRun,
)
from training.workers import WorkerNode

pytestmark = pytest.mark.django_db

MODELS = [
    m for app in ("annotation", "training", "loop") for m in apps.get_app_config(app).get_models()
]


@pytest.fixture
def populated(make_user, make_project, make_sets):
    ModelVersion.objects.create(name="sft-0", kind=ModelKind.SFT)
    project = make_project(k=2)
    make_sets(project, 1)
    annotator = make_user(Role.ANNOTATOR)
    assignment = assignment_next(project=project, annotator=annotator)
    ranking_submit(
        assignment_id=assignment.pk,
        annotator=annotator,
        submission=Submission(ranking=[[c] for c in assignment.display_order]),
    )
    snapshot = snapshot_create(project=project, name="snap", filters=ExportFilters())
    sft = ModelVersion.objects.get(name="sft-0")
    run = TrainingRun.objects.create(kind="dpo", dataset=snapshot, base_model=sft)
    RunMetric.objects.create(run=run, step=1, values={"loss": 0.7})
    GenerationJob.objects.create(
        project=project, model_version=sft, prompt_ids=[1], k=2, sampling={}
    )
    loop = Loop.objects.create(project=project)
    loop_round = LoopRound.objects.create(loop=loop, number=1, policy_kind="dpo", base_policy=sft)
    RoundStepJob.objects.create(round=loop_round, step="evaluate")
    adapter = ModelVersion.objects.create(name="sft-0-lora", kind=ModelKind.SFT, adapter_base=sft)
    MergeJob.objects.create(adapter=adapter, name="sft-0-merged")
    WorkerNode.objects.create(name="gpu@node", queues=["gpu"], gpus=1, seen_at=timezone.now())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_role_can_browse_and_open_every_model(make_user, populated, model):
    assert admin.site.is_registered(model), f"{model.__name__} has no admin"
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    meta = model._meta
    listing = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert listing.status_code == 200
    obj = model.objects.first()
    change = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200


def test_annotators_cannot_use_the_admin(make_user):
    client = Client()
    client.force_login(make_user(Role.ANNOTATOR))
    response = client.get(reverse("admin:annotation_ranking_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

"""Webhooks (issue 18): subscriptions over REST, signed deliveries to a real HTTP receiver on
127.0.0.1 by a real Celery worker, retries with backoff, the delivery log, redelivery by hand,
no event lost to a broker outage, and refused private destinations."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

import pytest
from django.db import transaction

from annotation.enums import Role
from annotation.exports.stream import ExportFilters
from annotation.services.snapshots import snapshot_create
from flywheel.celery import app
from loop.models import LoopRound, RoundStatus, RoundStep
from loop.services.settings import loop_for
from loop.services.transitions import fail_round
from tests.conftest import _point_celery_at
from training.models import JobStatus, ModelKind, ModelVersion, TrainingRun
from training.signals import job_finished
from webhooks.enums import DeliveryStatus
from webhooks.models import Delivery, Webhook, WebhookEvent
from webhooks.services import deliveries_sweep, delivery_attempt

pytestmark = pytest.mark.django_db

ALL_EVENTS = [
    "set.completed",
    "ranking.submitted",
    "snapshot.created",
    "training_run.succeeded",
    "training_run.failed",
    "round.finished",
]


def create_hook(admin_client, url, events=None, project=None) -> dict:
    body = {"url": url, "events": events or ALL_EVENTS}
    if project is not None:
        body["project"] = project.pk
    response = admin_client.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def rank_everything(client_for, project, *, sets: int) -> None:
    annotator = client_for(Role.ANNOTATOR)
    for _ in range(sets):
        task = annotator.post(f"/api/v1/projects/{project.pk}/next-task/").json()
        response = annotator.post(
            f"/api/v1/assignments/{task['assignment']}/submit/",
            {"ranking": [[c["id"]] for c in task["candidates"]]},
            format="json",
        )
        assert response.status_code == 201, response.content


def assert_signed(request, secret: str) -> None:
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Flywheel-Signature"] == f"sha256={expected}"
    payload = request.json()
    assert request.headers["X-Flywheel-Event"] == payload["type"]
    assert request.headers["X-Flywheel-Event-Id"] == payload["id"]
    assert request.headers["Content-Type"] == "application/json"
    uuid.UUID(payload["id"])


def test_create_answers_the_secret_once_and_no_read_carries_it(admin_client, make_project):
    project = make_project()
    created = create_hook(admin_client, "https://example.com/hook", ["snapshot.created"], project)
    assert len(created["secret"]) == 64
    assert Webhook.objects.get(pk=created["id"]).secret == created["secret"]
    listed = admin_client.get("/api/v1/webhooks/").json()["results"]
    detail = admin_client.get(f"/api/v1/webhooks/{created['id']}/").json()
    changed = admin_client.patch(
        f"/api/v1/webhooks/{created['id']}/", {"active": False}, format="json"
    ).json()
    for answer in (*listed, detail, changed):
        assert "secret" not in answer
    assert changed["active"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://example.com/h", "events": ["set.exploded"]}, "events"),
        ({"url": "https://example.com/h", "events": []}, "events"),
        ({"url": "ftp://example.com/h", "events": ["set.completed"]}, "url"),
        ({"url": "https://user:pw@example.com/h", "events": ["set.completed"]}, "url"),
        ({"url": "not a url", "events": ["set.completed"]}, "url"),
        ({"url": "https://example.com/h", "events": ["set.completed"], "project": 9**9}, "project"),
        ({"url": "https://example.com/h", "events": ["set.completed"], "tint": "red"}, "tint"),
        ({"events": ["set.completed"]}, "url"),
    ],
)
def test_bad_subscription_is_400_naming_the_field_and_writes_nothing(admin_client, body, field):
    response = admin_client.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/h",
        "http://localhost/h",
        "http://10.1.2.3/h",
        "http://192.168.0.10/h",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/h",
        "http://[::ffff:127.0.0.1]/h",
        "http://0.0.0.0/h",
    ],
)
def test_private_destinations_are_refused_unless_the_setting_allows_them(
    admin_client, settings, url
):
    settings.FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE = False
    response = admin_client.post(
        "/api/v1/webhooks/", {"url": url, "events": ["set.completed"]}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "refused" in response.json()["errors"]["url"][0]
    assert not Webhook.objects.exists()
    settings.FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE = True
    assert (
        admin_client.post(
            "/api/v1/webhooks/", {"url": url, "events": ["set.completed"]}, format="json"
        ).status_code
        == 201
    )


def test_a_destination_turned_private_fails_at_delivery_without_retrying(
    admin_client, make_project, make_sets, client_for, settings, receiver
):
    project = make_project(k=2)
    make_sets(project, 1)
    create_hook(admin_client, receiver.url, ["ranking.submitted"], project)
    rank_everything(client_for, project, sets=1)
    settings.FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE = False
    delivery = Delivery.objects.get()
    assert delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "loopback" in delivery.last_error
    assert receiver.requests == []


def test_events_only_reach_the_hooks_that_subscribe_to_them(
    admin_client, make_project, make_sets, client_for
):
    project, other = make_project(k=2), make_project(k=2)
    make_sets(project, 2)
    mine = create_hook(admin_client, "https://example.com/a", ["set.completed"], project)
    create_hook(admin_client, "https://example.com/b", ["set.completed"], other)
    everywhere = create_hook(admin_client, "https://example.com/c", ["ranking.submitted"])
    rank_everything(client_for, project, sets=2)
    assert sorted(Delivery.objects.values_list("webhook_id", "event__type")) == sorted(
        [(mine["id"], "set.completed")] * 2 + [(everywhere["id"], "ranking.submitted")] * 2
    )


def test_run_and_round_ends_are_recorded_for_their_project(
    admin_client, make_project, make_sets, client_for
):
    project = make_project(k=2)
    make_sets(project, 1)
    rank_everything(client_for, project, sets=1)
    hook = create_hook(admin_client, "https://example.com/h", ALL_EVENTS, project)
    snapshot = snapshot_create(project=project, name="s", filters=ExportFilters())
    model = ModelVersion.objects.create(name="base", kind=ModelKind.POLICY)
    ok = TrainingRun.objects.create(
        kind="sft", dataset=snapshot, base_model=model, status=JobStatus.SUCCEEDED
    )
    bad = TrainingRun.objects.create(
        kind="sft", dataset=snapshot, base_model=model, status=JobStatus.FAILED, error="OOM"
    )
    for run in (ok, bad):
        job_finished.send(sender=None, kind="training_run", job_id=run.pk)
    loop_round = LoopRound.objects.create(
        loop=loop_for(project), number=1, policy_kind="dpo", base_policy=model,
        status=RoundStatus.RUNNING, step=RoundStep.REWARD,
    )  # fmt: skip
    with transaction.atomic():
        fail_round(loop_round, "The reward run failed.")
    events = {e.type: e for e in WebhookEvent.objects.filter(deliveries__webhook_id=hook["id"])}
    assert set(events) == {
        "snapshot.created",
        "training_run.succeeded",
        "training_run.failed",
        "round.finished",
    }
    assert all(e.project_id == project.pk for e in events.values())
    assert events["snapshot.created"].data["snapshot"] == snapshot.pk
    assert (
        events["training_run.failed"].data | {"error": "OOM"} == events["training_run.failed"].data
    )
    assert events["round.finished"].data["status"] == "failed"


def test_events_reach_a_real_receiver_signed(
    webhook_worker, admin_client, make_project, make_sets, client_for, receiver
):
    webhook_worker.start()
    project = make_project(k=2, annotations_per_set=1)
    make_sets(project, 2)
    hook = create_hook(
        admin_client, receiver.url, ["ranking.submitted", "set.completed", "snapshot.created"]
    )
    rank_everything(client_for, project, sets=2)
    snapshot_create(project=project, name="s", filters=ExportFilters())
    requests = receiver.wait_for(5)
    for request in requests:
        assert_signed(request, hook["secret"])
        assert request.json()["project"] == project.pk
    types = sorted(r.json()["type"] for r in requests)
    assert types == ["ranking.submitted"] * 2 + ["set.completed"] * 2 + ["snapshot.created"]
    deadline = time.monotonic() + 10
    while Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    log = admin_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/").json()["results"]
    assert len(log) == 5
    assert {(d["status"], d["attempts"], d["response_code"]) for d in log} == {
        ("delivered", 1, 204)
    }


def test_failed_deliveries_are_retried_with_exponential_backoff(
    webhook_worker, admin_client, make_project, make_sets, client_for, receiver
):
    receiver.fail_first = 3
    webhook_worker.start()
    project = make_project(k=2)
    make_sets(project, 1)
    hook = create_hook(admin_client, receiver.url, ["ranking.submitted"], project)
    rank_everything(client_for, project, sets=1)
    requests = receiver.wait_for(4)
    assert len({r.body for r in requests}) == 1  # the same event, the same bytes
    assert_signed(requests[-1], hook["secret"])
    gaps = [b.at - a.at for a, b in zip(requests, requests[1:], strict=False)]
    # 0.2, 0.4, 0.8 s: each wait at least its backoff and longer than the one before.
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.8, gaps
    deadline = time.monotonic() + 10
    while (delivery := Delivery.objects.get()).status != DeliveryStatus.DELIVERED:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert (delivery.attempts, delivery.response_code, delivery.last_error) == (4, 204, "")


def test_a_delivery_gives_up_after_its_attempts_and_an_admin_redelivers_it(
    webhook_worker, admin_client, make_project, make_sets, client_for, receiver
):
    receiver.fail_first = 4  # every attempt the worker makes (FLYWHEEL_WEBHOOK_MAX_ATTEMPTS)
    webhook_worker.start()
    project = make_project(k=2)
    make_sets(project, 1)
    hook = create_hook(admin_client, receiver.url, ["ranking.submitted"], project)
    rank_everything(client_for, project, sets=1)
    receiver.wait_for(4)
    deadline = time.monotonic() + 10
    while (delivery := Delivery.objects.get()).status != DeliveryStatus.FAILED:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert (delivery.attempts, delivery.response_code) == (4, 500)
    assert delivery.last_error.startswith("HTTP 500")
    failed = admin_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/?status=failed")
    assert [d["id"] for d in failed.json()["results"]] == [delivery.pk]

    response = admin_client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202, response.content
    requests = receiver.wait_for(5)
    assert requests[-1].body == requests[0].body
    deadline = time.monotonic() + 10
    while (delivery := Delivery.objects.get()).status != DeliveryStatus.DELIVERED:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert (delivery.attempts, delivery.response_code) == (1, 204)


def test_events_recorded_while_the_broker_is_down_are_sent_by_the_sweep(
    webhook_worker, admin_client, make_project, make_sets, client_for, receiver
):
    project = make_project(k=2)
    make_sets(project, 2)
    hook = create_hook(admin_client, receiver.url, ["ranking.submitted"], project)
    saved = app.conf.broker_url, app.conf.result_backend
    _point_celery_at(app, "redis://127.0.0.1:1/0", "redis://127.0.0.1:1/0")  # nothing listens
    try:
        rank_everything(client_for, project, sets=2)  # the submits succeed meanwhile
    finally:
        _point_celery_at(app, *saved)
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 2
    webhook_worker.start()
    time.sleep(1)
    assert receiver.requests == []  # nothing was queued
    assert deliveries_sweep(overdue_seconds=0) == 2
    requests = receiver.wait_for(2)
    assert {r.json()["data"]["ranking"] for r in requests} == set(
        WebhookEvent.objects.values_list("data__ranking", flat=True)
    )
    for request in requests:
        assert_signed(request, hook["secret"])

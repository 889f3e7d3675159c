"""The Webhooks page (issue 18): an admin subscribes a 127.0.0.1 receiver to a project's
snapshots in the browser (a refused destination's message next to the URL field first), sees the
secret once, reads the delivery log after an event, filters it, redelivers, pauses and deletes
the hook.

No Celery worker runs: this process points Celery at a broker nobody listens on (the dispatch
fails fast and leaves deliveries pending, as in a broker outage), and the test makes each
attempt itself with ``delivery_attempt``, so the only destination ever contacted is the
receiver on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from annotation.services.projects import project_create
from annotation.services.users import user_create
from flywheel.events import Event, send_events
from tests.conftest import _point_celery_at
from tests.webhooks.conftest import receiver  # noqa: F401 — the fixture, a real HTTP receiver
from webhooks.enums import DeliveryStatus
from webhooks.models import Delivery, Webhook
from webhooks.services import _cache_key, delivery_attempt

from .support import PASSWORD, sign_in
from .test_accessibility import AXE, axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def no_broker():
    from flywheel.celery import app

    saved = app.conf.broker_url, app.conf.result_backend
    _point_celery_at(app, "redis://127.0.0.1:1/0", "redis://127.0.0.1:1/0")  # nothing listens
    cache.delete(_cache_key())
    try:
        yield
    finally:
        cache.delete(_cache_key())
        _point_celery_at(app, *saved)


def test_an_admin_subscribes_a_hook_sees_its_secret_once_and_redelivers_from_its_log(
    live_server,
    page: Page,
    settings,
    receiver,  # noqa: F811 — the imported fixture
    no_broker,
):
    if not AXE.exists():
        pytest.fail("frontend/node_modules/axe-core is missing: run `npm ci` in frontend/.")
    settings.FLYWHEEL_WEBHOOK_MAX_ATTEMPTS = 1
    settings.FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE = False
    receiver.fail_first = 1
    user_create(username="hookadmin", password=PASSWORD, role="admin")
    project = project_create(name="Owls", k=2)
    project_create(name="Larks", k=2)

    sign_in(page, live_server.url, "hookadmin")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.get_by_text("No webhooks.")).to_be_visible()

    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Project").select_option(label="Owls")
    page.get_by_role("checkbox", name="snapshot.created").check()
    page.get_by_label("Description").fill("the nightly export")
    page.get_by_role("button", name="Add webhook").click()
    refusal = page.locator("#webhook-err-url")
    expect(refusal).to_contain_text("loopback")
    expect(page.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
    assert not Webhook.objects.exists()

    settings.FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE = True  # a receiver on this host, as in the tests
    page.get_by_role("button", name="Add webhook").click()
    secret = page.get_by_test_id("new-webhook-secret")
    expect(secret).to_be_visible()
    expect(page.get_by_text("Store it now: it is not shown again.")).to_be_visible()
    hook = Webhook.objects.get()
    assert secret.inner_text() == hook.secret
    assert (hook.project_id, hook.url) == (project.pk, receiver.url)
    assert hook.events == ["snapshot.created"]
    row = page.locator(f"tr[data-webhook-id='{hook.pk}']")
    expect(row.locator('[data-col="project"]')).to_have_text("Owls")
    expect(row.locator('[data-col="active"]')).to_have_text("yes")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("new-webhook-secret")).to_have_count(0)  # shown once
    assert hook.secret not in page.content()

    # An event of the hook's project: its delivery is recorded; the (absent) broker leaves it
    # pending, and this test makes the attempt the worker would: the receiver answers 500.
    send_events(Event("snapshot.created", project.pk, {"snapshot": 1, "name": "s1"}))
    delivery = Delivery.objects.get()
    assert delivery_attempt(delivery_id=delivery.pk) is None
    assert receiver.wait_for(1)[0].headers["X-Flywheel-Event"] == "snapshot.created"

    log = page.get_by_role("region", name=f"Deliveries to {receiver.url}")
    log.get_by_role("button", name="Refresh").click()
    entry = log.locator(f"tr[data-delivery-id='{delivery.pk}']")
    expect(entry.locator('[data-col="status"]')).to_have_text("failed")
    expect(entry.locator('[data-col="response"]')).to_have_text("500")
    expect(entry.locator('[data-col="attempts"]')).to_have_text("1")
    expect(entry.locator('[data-col="error"]')).to_contain_text("HTTP 500")
    log.get_by_label("Status").select_option("delivered")
    expect(log.get_by_text("No deliveries delivered yet.")).to_be_visible()
    log.get_by_label("Status").select_option("failed")
    expect(entry).to_be_visible()
    assert axe_violations(page) == []

    entry.get_by_role("button", name=f"Redeliver delivery {delivery.pk}").click()
    expect(log.get_by_text(f"Delivery {delivery.pk} queued again.")).to_be_visible()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert delivery_attempt(delivery_id=delivery.pk) is None
    requests = receiver.wait_for(2)
    assert requests[1].body == requests[0].body
    log.get_by_label("Status").select_option("")
    log.get_by_role("button", name="Refresh").click()
    expect(entry.locator('[data-col="status"]')).to_have_text("delivered")
    expect(entry.locator('[data-col="response"]')).to_have_text("204")
    expect(entry.locator('[data-col="error"]')).to_have_text("–")
    assert axe_violations(page) == []
    if os.environ.get("FLYWHEEL_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "webhooks.png"), full_page=True)

    row.get_by_role("button", name=f"Pause {receiver.url}").click()
    expect(row.locator('[data-col="active"]')).to_have_text("paused")
    hook.refresh_from_db()
    assert hook.active is False
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Delete {receiver.url}").click()
    expect(page.get_by_text("No webhooks.")).to_be_visible()
    assert not Webhook.objects.exists()

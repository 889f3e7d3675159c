"""The Celery app against a real worker and a real Redis broker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.enums import AssignmentState, Role
from annotation.models import Assignment
from annotation.tasks import release_expired_leases
from flywheel.celery import app
from tests.annotation.ranking_helpers import assignment_next


def test_celery_app_declares_the_three_queues_and_reliability_settings():
    assert {q.name for q in app.conf.task_queues} == {"default", "generation", "gpu"}
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] >= 24 * 3600


@pytest.mark.django_db(transaction=True)
def test_worker_releases_expired_leases(celery_worker, make_user, make_project, make_sets):
    project = make_project(k=2, annotations_per_set=1)
    make_sets(project, 2)
    expired = assignment_next(project=project, annotator=make_user(Role.ANNOTATOR))
    live = assignment_next(project=project, annotator=make_user(Role.ANNOTATOR))
    Assignment.objects.filter(pk=expired.pk).update(
        lease_expires_at=timezone.now() - timedelta(minutes=1)
    )
    result = release_expired_leases.apply_async(queue="default")
    assert result.get(timeout=60) == 1
    assert Assignment.objects.get(pk=expired.pk).state == AssignmentState.EXPIRED
    assert Assignment.objects.get(pk=live.pk).state == AssignmentState.LEASED

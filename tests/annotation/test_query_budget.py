"""Round-trip budgets of the annotator's hot path (issue #7): next-task and submit make a fixed
number of database round trips whatever the project's size and history, so an N+1, a new
per-row lookup or a statement split in two fails here before it shows in ``bench/load.py``.

Next-task and submit run no transaction block of their own: each statement batch is a
transaction. One round trip may carry two statements (``flywheel.sql``): a lock and the
statement that must follow it."""

import uuid

import pytest
from django.conf import settings

from annotation.enums import CandidateSetState, Role
from annotation.models import CandidateSet
from webhooks.services import subscriptions_changed

pytestmark = pytest.mark.django_db

# Token with role, the caller's membership of the project (issue 18), then ``flywheel_next_task``
# (project, annotator lock, live lease, set choice and lock, lease, the task: one call).
NEXT_TASK_QUERIES = 3
# Token with role, the read (the assignment with all that validation and QC need), the set lock
# + the checking write (ranking, assignment, set) in one round trip.
SUBMIT_QUERIES = 3


def take(client, project) -> dict:
    response = client.post(f"/api/v1/projects/{project.pk}/next-task/")
    assert response.status_code == 200, response.content
    return response.json()


def submit(client, task):
    return client.post(
        f"/api/v1/assignments/{task['assignment']}/submit/",
        {"ranking": [[c["id"]] for c in task["candidates"]], "time_spent_seconds": 30.0},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


@pytest.fixture
def busy_project(client_for, make_project, make_sets):
    """More open sets than next-task ranks at once, some started and some finished by others.
    The submits below also warm the webhook subscription cache, as traffic does: a cache that an
    earlier test's rolled-back hooks filled is dropped first."""
    subscriptions_changed()
    project = make_project(k=4, annotations_per_set=2)
    make_sets(project, settings.FLYWHEEL_NEXT_TASK_WINDOW + 20)
    for _ in range(3):
        other = client_for(Role.ANNOTATOR)
        for _ in range(2):
            assert submit(other, take(other, project)).status_code == 201
        take(other, project)  # and a live lease
    return project


def test_next_task_runs_a_fixed_number_of_queries_whatever_the_backlog(
    busy_project, client_for, django_assert_max_num_queries
):
    client = client_for(Role.ANNOTATOR)
    with django_assert_max_num_queries(NEXT_TASK_QUERIES):
        take(client, busy_project)
    assert submit(client, take(client, busy_project)).status_code == 201
    with django_assert_max_num_queries(NEXT_TASK_QUERIES):
        take(client, busy_project)  # with a history of their own


def test_submit_that_completes_a_set_runs_a_fixed_number_of_queries(
    busy_project, client_for, django_assert_max_num_queries
):
    client = client_for(Role.ANNOTATOR)
    task = take(client, busy_project)  # a set someone started: this ranking completes it
    with django_assert_max_num_queries(SUBMIT_QUERIES):
        response = submit(client, task)
    assert response.status_code == 201
    assert CandidateSet.objects.get(pk=task["candidate_set"]).state == CandidateSetState.COMPLETE

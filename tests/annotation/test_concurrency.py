"""Assignment and submit under real concurrency: many annotators hitting a live server (real
HTTP, real PostgreSQL, one database connection per request thread), and next-task while another
transaction holds a set's row lock."""

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import httpx
import psycopg2
import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.enums import Role
from annotation.models import Assignment, CandidateSet, Ranking
from annotation.services.users import token_for

pytestmark = pytest.mark.django_db(transaction=True)

ANNOTATORS, SETS, OVERLAP = 30, 20, 3


def annotate_until_done(base_url: str, token: str, project_id: int, barrier) -> list[int]:
    """One annotator: take tasks and submit them until the project has nothing left."""
    done = []
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        barrier.wait()
        while True:
            response = client.post(f"/api/v1/projects/{project_id}/next-task/")
            if response.status_code == 204:
                return done
            assert response.status_code == 200, response.text
            task = response.json()
            ranking = [[c["id"]] for c in task["candidates"]]
            submitted = client.post(
                f"/api/v1/assignments/{task['assignment']}/submit/",
                json={"ranking": ranking},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert submitted.status_code == 201, submitted.text
            done.append(task["candidate_set"])


def test_thirty_annotators_fill_twenty_sets_exactly_to_overlap(
    live_server, make_user, make_project, make_sets
):
    project = make_project(k=3, annotations_per_set=OVERLAP)
    make_sets(project, SETS)
    tokens = [token_for(user=make_user(Role.ANNOTATOR)) for _ in range(ANNOTATORS)]
    barrier = threading.Barrier(ANNOTATORS)
    with ThreadPoolExecutor(ANNOTATORS) as pool:
        results = list(
            pool.map(lambda t: annotate_until_done(live_server.url, t, project.pk, barrier), tokens)
        )

    for done in results:  # nobody annotated a set twice
        assert len(done) == len(set(done))
    per_set = Counter(s for done in results for s in done)
    assert len(per_set) == SETS and set(per_set.values()) == {OVERLAP}
    db_counts = Counter(Ranking.objects.values_list("candidate_set_id", flat=True))
    assert set(db_counts.values()) == {OVERLAP} and len(db_counts) == SETS
    assert Ranking.objects.count() == SETS * OVERLAP
    assert not CandidateSet.objects.filter(project=project).exclude(state="complete").exists()
    pairs = Counter(Ranking.objects.values_list("candidate_set_id", "annotator_id"))
    assert max(pairs.values()) == 1
    assert Assignment.objects.filter(state="leased").count() == 0


# --- next-task while a set's row is locked by another request (issue #7) -------------------


@contextmanager
def set_locked_elsewhere(set_id: int) -> Iterator:
    """Another session's open transaction holding the set's row lock, as an in-flight submit or
    lease does; the transaction commits when the block ends. Yields its cursor."""
    db = connection.settings_dict
    other = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
    )
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM annotation_candidateset WHERE id = %s FOR UPDATE", [set_id]
            )
            yield cursor
        other.commit()
    finally:
        other.close()


def post_in_thread(client: APIClient, path: str, body=None) -> tuple[threading.Thread, dict]:
    """POST from another thread (its own database connection); the response lands in the
    returned dict once the thread ends."""
    result: dict = {}

    def call() -> None:
        try:
            result["response"] = client.post(path, body, format="json")
        finally:
            connections.close_all()  # this thread's own connection to the test database

    thread = threading.Thread(target=call)
    thread.start()
    return thread, result


def next_task_in_thread(client: APIClient, project_id: int) -> tuple[threading.Thread, dict]:
    return post_in_thread(client, f"/api/v1/projects/{project_id}/next-task/")


def wait_until_blocked_on_a_lock(thread: threading.Thread) -> None:
    """Return once some session of this database waits for a lock, or fail if the thread
    finished without ever waiting (that is the bug: it answered without waiting)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        if not thread.is_alive():
            pytest.fail("next-task answered at once instead of waiting for the locked set")
        time.sleep(0.01)
    pytest.fail("next-task neither answered nor waited for a lock within 30 s")


def test_next_task_waits_for_a_set_locked_by_another_request_instead_of_answering_204(
    client_for, make_project, make_sets
):
    project = make_project(k=2, annotations_per_set=2)
    (only,) = make_sets(project, 1)
    first = client_for(Role.ANNOTATOR)
    assert first.post(f"/api/v1/projects/{project.pk}/next-task/").status_code == 200
    second = client_for(Role.ANNOTATOR)

    with set_locked_elsewhere(only.pk):  # e.g. the first annotator's submit, in flight
        thread, result = next_task_in_thread(second, project.pk)
        wait_until_blocked_on_a_lock(thread)
    thread.join(30)

    response = result["response"]
    assert response.status_code == 200, response.content
    assert response.json()["candidate_set"] == only.pk
    assert Assignment.objects.filter(candidate_set=only).count() == 2


def test_next_task_that_waited_recounts_and_does_not_overfill_the_set(
    client_for, make_user, make_project, make_sets
):
    project = make_project(k=2, annotations_per_set=1)
    (only,) = make_sets(project, 1)
    other_annotator = make_user(Role.ANNOTATOR)
    second = client_for(Role.ANNOTATOR)

    # Someone else's next-task, in flight: it holds the lock and takes the only slot.
    with set_locked_elsewhere(only.pk) as cursor:
        now = timezone.now()
        cursor.execute(
            "INSERT INTO annotation_assignment (candidate_set_id, annotator_id, display_order, "
            "state, leased_at, lease_expires_at) VALUES (%s, %s, %s, 'leased', %s, %s)",
            [only.pk, other_annotator.pk, json.dumps([]), now, now + timedelta(hours=1)],
        )
        thread, result = next_task_in_thread(second, project.pk)
        wait_until_blocked_on_a_lock(thread)
    thread.join(30)

    assert result["response"].status_code == 204
    assert list(Assignment.objects.values_list("annotator_id", flat=True)) == [other_annotator.pk]


def test_submit_rechecks_under_the_set_lock_what_changed_since_its_read(
    client_for, make_project, make_sets
):
    """Submit reads and validates without a lock, then writes under the set's lock, checking
    again that the assignment is still the caller's live lease: a skip committed meanwhile (from
    the annotator's other tab) wins, and nothing is written."""
    project = make_project(k=2, annotations_per_set=2)
    (only,) = make_sets(project, 1)
    annotator = client_for(Role.ANNOTATOR)
    task = annotator.post(f"/api/v1/projects/{project.pk}/next-task/").json()

    with set_locked_elsewhere(only.pk) as cursor:  # the other tab's skip, in flight
        cursor.execute(
            "UPDATE annotation_assignment SET state = 'skipped' WHERE id = %s",
            [task["assignment"]],
        )
        thread, result = post_in_thread(
            annotator,
            f"/api/v1/assignments/{task['assignment']}/submit/",
            {"ranking": [[c["id"]] for c in task["candidates"]]},
        )
        wait_until_blocked_on_a_lock(thread)
    thread.join(30)

    response = result["response"]
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "skipped"
    assert not Ranking.objects.exists()
    assert Assignment.objects.get(pk=task["assignment"]).state == "skipped"
    assert CandidateSet.objects.get(pk=only.pk).state == "open"

"""Assignment and submit under real concurrency: many annotators hitting a live server (real
HTTP, real PostgreSQL, one database connection per request thread)."""

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

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

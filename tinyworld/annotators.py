"""Simulated annotators: real API clients that rank candidate sets by the tiny world's hidden rule.

Each simulated annotator does what a person in the browser does, over HTTP and nothing else: it
signs in (``POST /api/v1/auth/token/``), reads the project (whether ties are allowed), then
loops ``POST /api/v1/projects/{id}/next-task/`` → judge → ``POST /api/v1/assignments/{id}/submit/``
with an ``Idempotency-Key`` until next-task answers 204. Going through the API rather than the
services is the point: the loop orchestrator, the load benchmark and the QC tests then exercise
leases, idempotent retries, gold sets and QC exactly as production traffic does.

How an annotator judges a task (the hidden rule with noise, or a bad behaviour QC must
catch) and the time it reports are in `judging`.

Determinism: each judgement draws from ``random.Random(f"{seed}/{username}/{candidate_set}")``
over the candidates sorted by id, so an annotator's verdict on a set does not depend on which
thread got which task first, nor on the server's random display order. Which sets each
annotator gets is up to the server and the scheduler. Idempotency keys are random UUIDs: a
seeded key would collide with the first run's keys when the same accounts run again.

Accounts: `annotator_accounts.sim_accounts_ensure` creates (or re-passwords) the
``sim-annotator-<i>`` users; this module needs only a base URL.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from .annotator_accounts import SimAnnotator, sim_accounts_ensure, sim_annotators
from .judging import Behaviour, judge, reorder_moves
from .scorer import DEFAULT_RULE, rule_named

# The simulation's API, wherever each part lives (the accounts and the judging of one task have
# their own modules).
__all__ = [
    "AnnotatorSummary",
    "Behaviour",
    "SimAnnotator",
    "SimulationSummary",
    "judge",
    "reorder_moves",
    "sim_accounts_ensure",
    "sim_annotators",
    "simulate",
]

logger = logging.getLogger(__name__)

# Transient failures worth retrying: the connection (refused while a server restarts, reset
# under load) and a proxy or server saying "try again". Every call here is safe to repeat:
# next-task returns the caller's live lease, and submit carries an Idempotency-Key.
RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_DELAYS_SECONDS = (0.2, 0.5, 1.0)
# next-task passes over sets whose rows another request holds locked at that instant (SELECT …
# SKIP LOCKED in annotation/services/assignments.py), so a 204 can mean "what is left for you is
# being submitted by someone else right now" rather than "nothing is left". An annotator asks
# again after these pauses before it stops; without them, one whose last set was locked at the
# wrong moment would leave that set short of its overlap.
NOTHING_LEFT_RECHECK_DELAYS_SECONDS = (0.05, 0.2, 0.5)
# An annotator that gets this many refusals in a row (409s, rejected submits) stops rather than
# spin: something other than an occasional lost lease is wrong.
MAX_CONSECUTIVE_FAILURES = 5


@dataclass
class AnnotatorSummary:
    """One annotator's run. ``submitted``: rankings stored (an idempotent replay after a retry
    counts once); ``skipped``: tasks given up on a 409 (lease expired, set already submitted);
    ``errors``: submits the server refused as invalid (the set is then skipped); ``failure``:
    why the annotator stopped early, if it did (bad credentials, server unreachable…)."""

    username: str
    behaviour: Behaviour
    submitted: int = 0
    skipped: int = 0
    errors: int = 0
    seconds: float = 0.0
    ranking_ids: list[int] = field(default_factory=list)
    failure: str | None = None


@dataclass
class SimulationSummary:
    annotators: list[AnnotatorSummary]
    wall_seconds: float

    @property
    def submitted(self) -> int:
        return sum(a.submitted for a in self.annotators)

    @property
    def skipped(self) -> int:
        return sum(a.skipped for a in self.annotators)

    @property
    def errors(self) -> int:
        return sum(a.errors for a in self.annotators)

    @property
    def failures(self) -> list[AnnotatorSummary]:
        return [a for a in self.annotators if a.failure is not None]

    @property
    def rankings_per_second(self) -> float:
        return self.submitted / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def table(self) -> list[str]:
        """The summary as aligned text lines: one per annotator, then the totals and the rate."""
        width = max([len("annotator")] + [len(a.username) for a in self.annotators])
        head = f"{'annotator':<{width}}  {'behaviour':<12} {'submitted':>9} {'skipped':>7} "
        lines = [head + f"{'errors':>6}"]
        for a in self.annotators:
            line = f"{a.username:<{width}}  {a.behaviour.value:<12} {a.submitted:>9} "
            line += f"{a.skipped:>7} {a.errors:>6}"
            lines.append(line + (f"  stopped: {a.failure}" if a.failure else ""))
        total = f"{'total':<{width}}  {'':<12} {self.submitted:>9} {self.skipped:>7} "
        lines.append(total + f"{self.errors:>6}")
        lines.append(
            f"{self.submitted} rankings in {self.wall_seconds:.1f} s: "
            f"{self.rankings_per_second:.1f} rankings/s"
        )
        return lines


class SimulationError(Exception):
    """The server answered something a well-behaved client cannot carry on from."""


# --- the HTTP loop ------------------------------------------------------------------------


class _Budget:
    """The run's remaining ``max_tasks``, shared by the annotator threads. A task is claimed
    before next-task, so the run never stores more than ``max_tasks`` rankings, and given back
    when it does not end in a stored ranking, for whichever annotator is still working."""

    def __init__(self, total: int | None) -> None:
        self._left = total
        self._lock = threading.Lock()

    def claim(self) -> bool:
        with self._lock:
            if self._left is None:
                return True
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def give_back(self) -> None:
        with self._lock:
            if self._left is not None:
                self._left += 1


def _send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request, retried on connection errors and 502/503/504 (see ``RETRY_STATUSES``)."""
    for attempt, delay in enumerate((*RETRY_DELAYS_SECONDS, None)):
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            if delay is None:
                raise SimulationError(f"{method} {url}: {exc!r}") from exc
            logger.info("%s %s failed (%r); retry %d", method, url, exc, attempt + 1)
        else:
            if response.status_code not in RETRY_STATUSES or delay is None:
                return response
            logger.info(
                "%s %s answered %d; retry %d", method, url, response.status_code, attempt + 1
            )
        time.sleep(delay)
    raise AssertionError("unreachable")


def _refusal(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail", "") if isinstance(body, dict) else ""
    return f"HTTP {response.status_code}: {detail or body}"


def _sign_in(client: httpx.Client, annotator: SimAnnotator) -> None:
    response = _send(
        client,
        "POST",
        "/api/v1/auth/token/",
        json={"username": annotator.username, "password": annotator.password},
    )
    if response.status_code != 200:
        raise SimulationError(f"sign-in refused ({_refusal(response)})")
    client.headers["Authorization"] = f"Token {response.json()['token']}"


def _allow_ties(client: httpx.Client, project_id: int) -> bool:
    response = _send(client, "GET", f"/api/v1/projects/{project_id}/")
    if response.status_code != 200:
        raise SimulationError(f"cannot read project {project_id} ({_refusal(response)})")
    return bool(response.json()["allow_ties"])


def _annotate(
    base_url: str,
    project_id: int,
    annotator: SimAnnotator,
    *,
    noise: float,
    seed: int,
    rule: str,
    budget: _Budget,
    out_of_time: Callable[[], bool],
    timeout: float,
) -> AnnotatorSummary:
    """One annotator's whole session. Never raises for what the server or network does; the
    reason it stopped early goes in ``failure``."""
    summary = AnnotatorSummary(annotator.username, annotator.behaviour)
    started = time.monotonic()
    try:
        with httpx.Client(base_url=base_url, timeout=timeout) as client:
            _sign_in(client, annotator)
            allow_ties = _allow_ties(client, project_id)
            failures_in_a_row = 0
            while not out_of_time() and budget.claim():
                stored = _one_task(
                    client,
                    project_id,
                    annotator,
                    summary,
                    noise=noise,
                    seed=seed,
                    rule=rule,
                    allow_ties=allow_ties,
                )
                if stored is None:  # nothing left for this annotator
                    budget.give_back()
                    break
                if stored:
                    failures_in_a_row = 0
                    continue
                budget.give_back()
                failures_in_a_row += 1
                if failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
                    raise SimulationError(f"{failures_in_a_row} tasks in a row were refused")
    except SimulationError as exc:
        summary.failure = str(exc)
        logger.warning("%s stopped: %s", annotator.username, exc)
    summary.seconds = time.monotonic() - started
    return summary


def _one_task(
    client: httpx.Client,
    project_id: int,
    annotator: SimAnnotator,
    summary: AnnotatorSummary,
    *,
    noise: float,
    seed: int,
    rule: str,
    allow_ties: bool,
) -> bool | None:
    """Take the next task and submit a judgement. True: a ranking was stored; False: the task
    was given up (counted in ``summary``); None: next-task had nothing left."""
    response = _send(client, "POST", f"/api/v1/projects/{project_id}/next-task/")
    for delay in NOTHING_LEFT_RECHECK_DELAYS_SECONDS:
        if response.status_code != 204:
            break
        time.sleep(delay)
        response = _send(client, "POST", f"/api/v1/projects/{project_id}/next-task/")
    if response.status_code == 204:
        return None
    if response.status_code != 200:
        raise SimulationError(f"next-task refused ({_refusal(response)})")
    task = response.json()
    rng = random.Random(f"{seed}/{annotator.username}/{task['candidate_set']}")
    judgement = judge(
        task, behaviour=annotator.behaviour, noise=noise, rng=rng, allow_ties=allow_ties, rule=rule
    )
    assignment = task["assignment"]
    # One key per task, reused by every retry of this submit: a retry after a lost response
    # replays the stored ranking instead of storing a second one.
    key = str(uuid.uuid4())
    response = _send(
        client,
        "POST",
        f"/api/v1/assignments/{assignment}/submit/",
        json=judgement.payload(),
        headers={"Idempotency-Key": key},
    )
    if response.status_code == 201:
        summary.submitted += 1
        summary.ranking_ids.append(response.json()["id"])
        return True
    if response.status_code == 409:  # the lease ran out or the set went elsewhere: move on
        summary.skipped += 1
        logger.info("%s: assignment %s %s", annotator.username, assignment, _refusal(response))
        return False
    if response.status_code == 400:
        # The server refused this judgement; give the set back so that next-task does not hand
        # the same lease over again, and carry on with the next one.
        summary.errors += 1
        logger.warning("%s: submit refused (%s)", annotator.username, _refusal(response))
        skipped = _send(client, "POST", f"/api/v1/assignments/{assignment}/skip/")
        if skipped.status_code != 200:
            raise SimulationError(f"skip refused ({_refusal(skipped)})")
        return False
    raise SimulationError(f"submit refused ({_refusal(response)})")


def simulate(
    base_url: str,
    project_id: int,
    *,
    annotators: Sequence[SimAnnotator],
    noise: float = 0.1,
    seed: int = 0,
    rule: str = DEFAULT_RULE,
    max_tasks: int | None = None,
    seconds: float | None = None,
    timeout: float = 60.0,
) -> SimulationSummary:
    """Run ``annotators`` concurrently (one thread and one HTTP connection each) on
    ``project_id`` at ``base_url`` until next-task has nothing left for each of them, the run
    has stored ``max_tasks`` rankings in all, or ``seconds`` have passed (no new task is taken
    after that; the one in hand is finished). Honest annotators rank by the hidden rule ``rule``
    (`scorer.RULES`). ``timeout``: seconds per HTTP request.

    The accounts must already exist (`sim_accounts_ensure`)."""
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise}")
    rule_named(rule)
    started = time.monotonic()
    deadline = None if seconds is None else started + seconds
    budget = _Budget(max_tasks)

    def out_of_time() -> bool:
        return deadline is not None and time.monotonic() >= deadline

    def run(annotator: SimAnnotator) -> AnnotatorSummary:
        return _annotate(
            base_url.rstrip("/"),
            project_id,
            annotator,
            noise=noise,
            seed=seed,
            rule=rule,
            budget=budget,
            out_of_time=out_of_time,
            timeout=timeout,
        )

    if not annotators:
        return SimulationSummary(annotators=[], wall_seconds=0.0)
    with ThreadPoolExecutor(len(annotators), thread_name_prefix="sim-annotator") as pool:
        results = list(pool.map(run, annotators))
    return SimulationSummary(annotators=results, wall_seconds=time.monotonic() - started)

"""``manage.py simulate_annotators``: simulated annotators rank a project's sets over the API.

A thin adapter over ``tinyworld.annotators``: resolve the project, make the
``sim-annotator-<i>`` accounts, run them against ``--url``, print the summary.

Then, while a set of the newest round is still open because someone else (a person in the
browser) holds its lease, it says which set, whose lease and until when, and waits: when the
lease comes back (they submit, skip or leave the page) or runs out, the annotators take the
set, so the round's last sets do not wait for a second ``make simulate`` (issue 18).
"""

from __future__ import annotations

import argparse
import secrets
import time
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from annotation.management.cli import refusals_as_command_errors, resolve_project
from tinyworld.annotators import (
    Behaviour,
    sim_accounts_ensure,
    sim_annotators,
    simulate,
)
from tinyworld.scorer import DEFAULT_RULE, RULES

# How often the annotators look again at a set someone else holds.
WAIT_POLL_SECONDS = 2.0
NOT_RUNNING = "No Flywheel server answers at {url}: start `make demo` first (in another terminal)."


def held_by_others(project_id: int, usernames: set[str]) -> list[tuple[int, str, Any]]:
    """The newest round's open sets that someone other than ``usernames`` holds a live lease
    on: (set id, username, lease end), soonest to end first."""
    from annotation.models import Project
    from loop.selectors import loop_waiting_for
    from loop.services.settings import loop_for

    waiting = loop_waiting_for(loop_for(Project.objects.get(pk=project_id)))
    held = [
        (s["candidate_set"], lease["annotator"], lease["expires_at"])
        for s in waiting["open_sets"]
        for lease in s["leases"]
        if lease["annotator"] not in usernames
    ]
    return sorted(held, key=lambda h: h[2])


def behaviour_count(value: str) -> tuple[Behaviour, int]:
    """``NAME=COUNT`` (``COUNT`` defaults to 1) → (behaviour, count)."""
    name, _, count = value.partition("=")
    try:
        behaviour = Behaviour(name)
    except ValueError:
        bad = ", ".join(b.value for b in Behaviour if b != Behaviour.HONEST)
        raise argparse.ArgumentTypeError(f"unknown behaviour {name!r} (one of {bad})") from None
    if not (count or "1").isdigit():
        raise argparse.ArgumentTypeError(f"{value!r}: COUNT must be a non-negative integer")
    return behaviour, int(count or 1)


def noise_level(value: str) -> float:
    noise = float(value)
    if not 0.0 <= noise <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return noise


class Command(BaseCommand):
    help = (
        "Simulated annotators: sign in over the REST API as sim-annotator-1…N (created as "
        "annotators if missing), take tasks from the project and rank them by the tiny world's "
        "hidden rule plus noise, until nothing is left. The web server at --url must be running."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--project", required=True, help="Project id or slug.")
        parser.add_argument("--n", type=int, default=5, help="Number of annotators (default 5).")
        parser.add_argument(
            "--noise",
            type=noise_level,
            default=0.1,
            help="Chance that an annotator guesses a response's score instead of applying the "
            "hidden rule (0: exact, 1: random; default 0.1).",
        )
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="Base URL of the Flywheel server."
        )
        parser.add_argument(
            "--max-tasks", type=int, default=None, help="Stop after this many rankings in all."
        )
        parser.add_argument(
            "--seconds", type=float, default=None, help="Take no new task after this long."
        )
        parser.add_argument(
            "--behaviour",
            type=behaviour_count,
            nargs="+",
            action="extend",
            default=[],
            metavar="NAME=COUNT",
            help="Bad annotators among the N: random, always-first, too-fast "
            "(e.g. --behaviour always-first=1 too-fast=1). The rest are honest.",
        )
        parser.add_argument(
            "--rule",
            choices=list(RULES),
            default=DEFAULT_RULE,
            help="The hidden rule honest annotators rank by: "
            + "; ".join(f"{r.name}: {r.description}" for r in RULES.values())
            + f" (default {DEFAULT_RULE}).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of the judgements.")
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="Stop when nothing is left for the annotators, even while a set of the newest "
            "round is held by someone else's lease (default: wait for it to come back).",
        )
        parser.add_argument(
            "--password",
            default=None,
            help="Password of the simulated accounts (set on them; default: a random one).",
        )

    def handle(
        self,
        *args: Any,
        project: str,
        n: int,
        noise: float,
        url: str,
        max_tasks: int | None,
        seconds: float | None,
        behaviour: list[tuple[Behaviour, int]],
        rule: str,
        seed: int,
        password: str | None,
        no_wait: bool = False,
        **options: Any,
    ) -> None:
        target = resolve_project(str(project))
        if n < 1:
            raise CommandError("--n must be at least 1.")
        counts: dict[Behaviour, int] = {}
        for kind, count in behaviour:
            counts[kind] = counts.get(kind, 0) + count
        try:
            annotators = sim_annotators(
                n=n, password=password or secrets.token_urlsafe(24), behaviours=counts
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        with refusals_as_command_errors():
            sim_accounts_ensure(annotators=annotators, project=target)
        try:  # after the local checks, so a bad argument is named as such
            httpx.get(f"{url.rstrip('/')}/api/v1/health/", timeout=10.0)
        except httpx.TransportError:
            raise CommandError(NOT_RUNNING.format(url=url)) from None

        self.stdout.write(
            f"{n} simulated annotators on project {target.slug} (id {target.pk}) at {url}, "
            f"noise {noise}, rule {rule}, seed {seed}"
        )
        started = time.monotonic()
        ours = {a.username for a in annotators}
        waited_for = None
        while True:
            left = None if seconds is None else seconds - (time.monotonic() - started)
            summary = simulate(
                url,
                target.pk,
                annotators=annotators,
                noise=noise,
                seed=seed,
                rule=rule,
                max_tasks=max_tasks,
                seconds=left,
            )
            if summary.submitted or waited_for is None:
                for line in summary.table():
                    self.stdout.write(line)
            if len(summary.failures) == len(annotators):
                raise CommandError(f"Every annotator stopped early: {summary.failures[0].failure}")
            if max_tasks is not None:
                max_tasks -= summary.submitted
            if no_wait or (max_tasks is not None and max_tasks <= 0):
                return
            held = self.wait_for_held_sets(target.pk, ours, started, seconds)
            if not held:
                return
            waited_for = held

    def wait_for_held_sets(
        self, project_id: int, ours: set[str], started: float, seconds: float | None
    ) -> list[tuple[int, str, Any]]:
        """Wait while someone else holds a set of the newest round; the sets that were held
        when one came back (empty: none was held, or time ran out)."""
        held = held_by_others(project_id, ours)
        if not held:
            return []
        ids = ", ".join(f"#{set_id}" for set_id, _, _ in held[:5])
        set_id, who, until = held[0]
        self.stdout.write(
            f"Waiting for {len(held)} set(s) of the newest round held by someone else ({ids}; "
            f"#{set_id}: {who} until {timezone.localtime(until):%H:%M:%S}). Submit, skip or "
            "leave it in the browser and the annotators take it; Ctrl-C stops."
        )
        while True:
            if seconds is not None and time.monotonic() - started >= seconds:
                return []
            time.sleep(WAIT_POLL_SECONDS)
            now_held = held_by_others(project_id, ours)
            if len(now_held) < len(held):
                return held

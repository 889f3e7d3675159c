"""Celery adapters for the loop: each task takes an id and calls one service."""

from __future__ import annotations

from celery import shared_task

from .services.rounds import round_advance, rounds_sweep
from .services.triggers import loop_tick

# ignore_result: see training/tasks.py (a round's state lives in its row).


@shared_task(name="loop.tasks.advance_round", acks_late=True, ignore_result=True)
def advance_round(round_id: int) -> str:
    """Move a round to its next step if the one it waits on is done (idempotent)."""
    return round_advance(round_id=round_id)


@shared_task(name="loop.tasks.tick", ignore_result=True)
def tick() -> dict:
    """Periodic: start rounds whose trigger fired, and advance running ones (safety net)."""
    started = loop_tick()
    swept = rounds_sweep()
    return {"started": started, "running": swept}

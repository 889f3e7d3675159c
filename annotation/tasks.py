"""Celery adapters for the annotation domain."""

from celery import shared_task

from .services.assignments import assignment_release_expired


@shared_task(name="annotation.tasks.release_expired_leases")
def release_expired_leases() -> int:
    return assignment_release_expired()

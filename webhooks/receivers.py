"""Record the events webhooks subscribe to: the domain events other apps send
(``flywheel.events``) and a training run's end (``training.signals.job_finished``)."""

from __future__ import annotations

from collections.abc import Sequence

from django.dispatch import receiver

from flywheel.events import Event, domain_events
from training.models import JobStatus, ModelVersion, TrainingRun
from training.signals import job_finished

from .enums import EventType
from .services import events_record, subscribed_pairs


@receiver(domain_events)
def record_domain_events(sender, *, events: Sequence[Event], **kwargs) -> None:
    events_record(events=events)


@receiver(job_finished)
def record_training_run_end(sender, *, kind: str, job_id: int, **kwargs) -> None:
    if kind != "training_run":
        return
    types = {EventType.TRAINING_RUN_SUCCEEDED, EventType.TRAINING_RUN_FAILED}
    if not any(pair.endswith(tuple(f":{t}" for t in types)) for pair in subscribed_pairs()):
        return
    run = TrainingRun.objects.select_related("dataset").filter(pk=job_id).first()
    if run is None:
        return
    succeeded = run.status == JobStatus.SUCCEEDED
    data = {
        "training_run": run.pk,
        "kind": run.kind,
        "status": run.status,
        "error": run.error,
        "dataset": run.dataset_id,
        "base_model": run.base_model_id,
        "model": ModelVersion.objects.filter(produced_by=run).values_list("id", flat=True).first(),
        "final_metrics": run.final_metrics,
        "finished_at": run.finished_at,
    }
    event_type = EventType.TRAINING_RUN_SUCCEEDED if succeeded else EventType.TRAINING_RUN_FAILED
    events_record(events=[Event(event_type.value, run.dataset.project_id, data)])

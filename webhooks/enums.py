from django.db import models


class EventType(models.TextChoices):
    """What a webhook can subscribe to (issue 18), and where each is sent from."""

    SET_COMPLETED = "set.completed", "Candidate set completed (overlap reached)"  # ranking submit
    RANKING_SUBMITTED = "ranking.submitted", "Ranking submitted"  # ranking submit
    SNAPSHOT_CREATED = "snapshot.created", "Dataset snapshot created"  # snapshot services
    TRAINING_RUN_SUCCEEDED = "training_run.succeeded", "Training run succeeded"  # job_finished
    TRAINING_RUN_FAILED = "training_run.failed", "Training run failed or cancelled"
    ROUND_FINISHED = "round.finished", "Loop round finished (succeeded or failed)"  # loop


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # not sent yet, or waiting for its next attempt
    DELIVERED = "delivered", "Delivered"  # the receiver answered 2xx
    FAILED = "failed", "Failed"  # attempts used up, or a destination that is refused

"""The Celery app. Queues: ``default`` (CPU work, exports), ``generation`` (candidate
generation), ``gpu`` (training and large generation, one job per GPU node)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flywheel.settings")

app = Celery("flywheel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "generation", "gpu")]
app.autodiscover_tasks()

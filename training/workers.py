"""The Celery workers the platform has seen, and what each can run.

Each worker records itself when it starts and every ``FLYWHEEL_WORKER_REPORT_SECONDS`` after,
from a daemon thread (which runs while the worker's job does): its name, the queues it consumes,
its GPUs, and whether bitsandbytes and vLLM are installed. Run creation reads these rows to
refuse, with a 400 that says why, what no live worker could run (a QLoRA run when every worker
on the training queue is CPU-only) instead of accepting a run that would fail on the worker.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, models
from django.utils import timezone

from flywheel.errors import ApplicationError

logger = logging.getLogger(__name__)


class WorkerNode(models.Model):
    name = models.CharField(max_length=200, unique=True, help_text="The Celery worker's name.")
    queues = models.JSONField(default=list, help_text="The queues it consumes.")
    gpus = models.PositiveIntegerField(default=0, help_text="CUDA devices it sees.")
    bitsandbytes = models.BooleanField(default=False, help_text="4-bit loading (QLoRA) works.")
    vllm = models.BooleanField(default=False, help_text="vLLM is installed.")
    seen_at = models.DateTimeField(help_text="Its last report.")

    class Meta:
        app_label = "training"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def gpu_count() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip()])
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return len([line for line in out.stdout.splitlines() if line.startswith("GPU ")])


def local_capabilities() -> dict:
    """What this machine offers, found without initialising CUDA (the warm process forks)."""
    return {
        "gpus": gpu_count(),
        "bitsandbytes": importlib.util.find_spec("bitsandbytes") is not None,
        "vllm": importlib.util.find_spec("vllm") is not None,
    }


def worker_report(name: str, queues: list[str], capabilities: dict) -> WorkerNode:
    node, _ = WorkerNode.objects.update_or_create(
        name=name,
        defaults={"queues": sorted(queues), "seen_at": timezone.now(), **capabilities},
    )
    return node


def start_reporting(name: str, queues: list[str]) -> threading.Thread:
    """Report now and then every ``FLYWHEEL_WORKER_REPORT_SECONDS``; a failed report (the
    database down) is logged and tried again at the next beat."""
    capabilities = local_capabilities()

    def beat() -> None:
        while True:
            try:
                worker_report(name, queues, capabilities)
            except Exception:  # noqa: BLE001 — a missed report is retried; the worker goes on
                logger.exception("worker report failed")
            finally:
                close_old_connections()
            time.sleep(settings.FLYWHEEL_WORKER_REPORT_SECONDS)

    thread = threading.Thread(target=beat, name="worker-report", daemon=True)
    thread.start()
    return thread


def live_workers(queue: str):
    """Workers that consume ``queue`` and reported within three report intervals."""
    since = timezone.now() - timedelta(seconds=3 * settings.FLYWHEEL_WORKER_REPORT_SECONDS)
    return WorkerNode.objects.filter(seen_at__gte=since, queues__contains=[queue])


def check_quantization(adapter: dict | None, *, queue: str, field: str) -> None:
    """Refuse a 4-bit (QLoRA) adapter when no live worker on ``queue`` has a GPU and
    bitsandbytes: it names the workers seen and what each lacks."""
    if not adapter or adapter.get("quantization", "none") == "none":
        return
    workers = list(live_workers(queue))
    if any(w.gpus > 0 and w.bitsandbytes for w in workers):
        return
    seen = "; ".join(f"{w.name}: {'no GPU' if not w.gpus else 'no bitsandbytes'}" for w in workers)
    raise ApplicationError(
        "QLoRA (4bit) needs a worker with a CUDA GPU and bitsandbytes (pip install "
        f"'flywheel[gpu]') on the {queue!r} queue; "
        + (f"the workers there have none ({seen})." if workers else "no worker there reported.")
        + " Use quantization none (LoRA on the full-precision base).",
        field=field,
    )

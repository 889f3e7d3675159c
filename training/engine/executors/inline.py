"""The ``inline`` executor: the job's process is the Celery worker's own process."""

from __future__ import annotations

from collections.abc import Callable

from . import Executor, Launch, register_executor


@register_executor
class InlineExecutor(Executor):
    name = "inline"

    def run(self, launch: Launch, on_output: Callable[[str], None]) -> int:
        from training.engine.process import run_job

        # Its output is the worker's log; nothing to stream.
        return run_job(launch.job_type, launch.job_id)

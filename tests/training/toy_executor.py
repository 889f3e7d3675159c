"""A toy executor in one file: a fresh interpreter per job, which says so in the job's log."""

import sys
from collections.abc import Callable

from training.engine.executors import Executor, Launch, register_executor
from training.engine.executors.local import run_process


@register_executor
class AnnouncingExecutor(Executor):
    name = "announcing"

    def run(self, launch: Launch, on_output: Callable[[str], None]) -> int:
        on_output(f"announcing executor: {launch.job_type} {launch.job_id}\n")
        entry = ["-m", "training.engine.process", launch.job_type, str(launch.job_id)]
        return run_process([sys.executable, *entry], on_output)

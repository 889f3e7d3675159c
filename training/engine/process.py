"""The job's process: ``python -m training.engine.process <job_type> <job_id>``, a child forked
from the warm process, or the worker itself (``inline``). Builds the reporter and calls the job
type's process function, which records the job's outcome through it. In a multi-process launch
(``executors.local``) each rank is one of these, with torchrun's ``RANK`` / ``WORLD_SIZE``."""

from __future__ import annotations

import logging
import os
import sys


def run_job(job_type_name: str, job_id: int) -> int:
    from .jobs import job_type
    from .reporting import JobReporter

    kind = job_type(job_type_name)
    with JobReporter(kind, job_id) as reporter:
        return kind.process_function()(job_id, reporter)


def prepare_process() -> None:
    """Django, logging and torch's thread count, once per job process (or warm process)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flywheel.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    django.setup()


def set_torch_threads() -> None:
    from django.conf import settings

    if settings.FLYWHEEL_TORCH_THREADS > 0:  # small models on a shared CPU train faster so
        import torch

        torch.set_num_threads(settings.FLYWHEEL_TORCH_THREADS)


def main() -> None:
    prepare_process()
    set_torch_threads()
    from .reporting import output_goes_to_worker

    output_goes_to_worker()
    if "FLYWHEEL_LAUNCH_ID" in os.environ:  # a rank of a multi-process launch (executors.local)
        logging.getLogger(__name__).info(
            "rank %s of %s", os.environ["RANK"], os.environ["WORLD_SIZE"]
        )
    sys.exit(run_job(sys.argv[1], int(sys.argv[2])))


if __name__ == "__main__":
    main()

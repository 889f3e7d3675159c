"""A training run that cannot write its files fails with an error that says what failed and
where, and its status is ``failed`` — never left ``running``.

- the models directory cannot be created (``FLYWHEEL_MODELS_DIR`` lies under a regular file:
  unwritable even for root, which a read-only directory would not be);
- the disk fills up while the run writes its first checkpoint. Without root there is no tiny
  filesystem to fill, so the worker runs under ``RLIMIT_FSIZE`` (``ulimit -f``): a write past
  the limit fails with EFBIG ("File too large") where a full disk fails with ENOSPC; both are
  the same ``OSError`` to the code under test.

Real worker, real training process; nothing is mocked."""

from __future__ import annotations

import resource

import pytest

from training.models import JobStatus, TrainingRun
from training.services.runs import training_run_create

from .conftest import QUICK, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FILE_SIZE_LIMIT = 1024 * 1024  # the data files fit; the tiny model's 4.8 MB checkpoint does not


def finished_run(run_id: int) -> TrainingRun | None:
    run = TrainingRun.objects.get(pk=run_id)
    return run if run.status not in (JobStatus.QUEUED, JobStatus.RUNNING) else None


def failed_run_error(ranked_project, sft_policy) -> str:
    """Start a quick SFT run, wait for it to finish, check it failed; its error's first line."""
    run = training_run_create(
        kind="sft", dataset=ranked_project.snapshot, base_model=sft_policy, config=QUICK
    )
    run = wait_for(lambda: finished_run(run.pk), "the run to finish")
    assert run.status == JobStatus.FAILED
    return run.error.splitlines()[0]


@pytest.mark.slow
def test_a_models_dir_that_cannot_be_created_fails_the_run_naming_the_path(
    celery_workers, ranked_project, sft_policy, tmp_path
):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    models_dir = blocker / "models"
    celery_workers.env["FLYWHEEL_MODELS_DIR"] = str(models_dir)
    celery_workers.start()
    first_line = failed_run_error(ranked_project, sft_policy)
    print(f"unwritable models dir: {first_line}")
    assert str(models_dir) in first_line and "Not a directory" in first_line


@pytest.mark.slow
def test_a_disk_that_fills_up_during_a_run_fails_it_with_a_clear_error(
    celery_workers, ranked_project, sft_policy
):
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, hard))
    try:
        celery_workers.start()  # inherits the limit, and its training process after it
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    first_line = failed_run_error(ranked_project, sft_policy)
    print(f"disk full: {first_line}")
    assert "File too large" in first_line
    assert str(celery_workers.env["FLYWHEEL_MODELS_DIR"]) in first_line

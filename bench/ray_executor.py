"""The ray executor's overhead: the same tiny DPO run executed by the engine with ``local`` and
with ``ray``, wall time of ``job_execute`` (acquire → the job's process → its outcome).

    python bench/ray_executor.py [--steps 8] [--repeat 3] [--processes 1]

Sides, alternating each repeat, best time counts:

- ``local``: the local executor with warm start (a child forked from the worker's warm process,
  which imported torch / transformers / TRL once; it is started before timing);
- ``local-fresh``: the local executor with ``FLYWHEEL_WARM_START=0`` (a fresh interpreter per
  job, as a Ray worker is);
- ``ray``: the ray executor on a two-node Ray cluster on loopback started here
  (``tests/training/ray_cluster.py``: 127.0.0.2 + 127.0.0.3, one CPU each), or the cluster at
  ``FLYWHEEL_RAY_ADDRESS`` when set. ``--processes 2``: the Ray side trains with two Ray Train
  workers, the local sides with two local processes.

The database is a scratch one (Django's test database machinery on DATABASE_URL's server,
named ``flywheel_bench_ray``), dropped at the end. This script is the worker: runs are
executed here, not sent to Celery. Prints each time and the overhead ray − local in seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flywheel.settings")
os.environ.setdefault("FLYWHEEL_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flywheel")
os.environ.setdefault("FLYWHEEL_TORCH_THREADS", "1")
os.environ.setdefault("FLYWHEEL_WARM_AT_BOOT", "0")
os.environ.setdefault("FLYWHEEL_VAR_DIR", tempfile.mkdtemp(prefix="bench-ray-var-"))


def seed(work: Path):
    """A snapshot of 12 ranked K = 2 sets and the tiny model, as the tests' ``world``."""
    from annotation.enums import Role
    from annotation.services.projects import project_create
    from annotation.services.users import user_create
    from tests.annotation.ranking_helpers import good_over_bad_snapshot
    from tests.training.conftest import tiny_corpus
    from tinyworld.model import build_tiny_model
    from training.models import ModelKind
    from training.services.registry import model_version_register

    project = project_create(name="bench", k=2, annotations_per_set=1)
    annotator = user_create(username="bench-annotator", password="x" * 12, role=Role.ANNOTATOR)
    snapshot = good_over_bad_snapshot(project, annotator, sets=12, ranked=12)
    model_dir = build_tiny_model(work / "tiny-model", texts=tiny_corpus())
    sft = model_version_register(name="tiny-sft", path=str(model_dir), kind=ModelKind.SFT)
    return snapshot, sft


def execute(side: str, snapshot, sft, config: dict) -> float:
    from django.conf import settings

    from training.engine.execution import job_execute
    from training.models import JobStatus, TrainingRun
    from training.services.runs import training_run_create

    settings.FLYWHEEL_WARM_START = side != "local-fresh"
    executor = "ray" if side == "ray" else "local"
    run = training_run_create(
        kind="dpo", dataset=snapshot, base_model=sft, config=config, executor=executor
    )
    started = time.perf_counter()
    status = job_execute(job_type_name="training_run", job_id=run.pk)
    elapsed = time.perf_counter() - started
    run = TrainingRun.objects.get(pk=run.pk)
    if status != JobStatus.SUCCEEDED:
        raise SystemExit(f"{side}: {status}\n{run.error[-3000:]}\n{run.log_tail[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from training.engine import lifecycle
    from training.engine.executors.local import _warm

    lifecycle.job_dispatch = lambda job_type, job_id: None  # this script is the worker
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "flywheel_bench_ray"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    from training.engine.executors.ray import database_url

    os.environ["DATABASE_URL"] = database_url()  # the local sides' job processes read it
    cluster = None
    try:
        if not os.environ.get("FLYWHEEL_RAY_ADDRESS"):
            from tests.training.ray_cluster import start_cluster

            started = time.perf_counter()
            cluster = start_cluster(dict(os.environ, PYTHONPATH=str(ROOT)))
            print(f"loopback Ray cluster up in {time.perf_counter() - started:.1f} s")
        settings.FLYWHEEL_RAY_ADDRESS = os.environ.get("FLYWHEEL_RAY_ADDRESS") or cluster.address
        settings.FLYWHEEL_EXECUTORS = ["training.engine.executors.ray"]
        settings.FLYWHEEL_RAY_RESOURCES = {"CPU": 1.0}
        # Under the models directory: the registry takes models from the model roots only.
        Path(settings.FLYWHEEL_MODELS_DIR).mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="bench-ray-", dir=settings.FLYWHEEL_MODELS_DIR))
        snapshot, sft = seed(work)
        config = {
            "max_steps": args.steps,
            "per_device_train_batch_size": 4,
            "learning_rate": 1e-3,
            "logging_steps": 1,
            "save_steps": 1000,
            "processes": args.processes,
        }
        _warm.start()
        sides = ["local", "local-fresh", "ray"]
        times: dict[str, list[float]] = {side: [] for side in sides}
        execute("ray", snapshot, sft, config)  # the cluster's first worker start, untimed
        for i in range(args.repeat):
            for side in sides if i % 2 == 0 else sides[::-1]:
                times[side].append(execute(side, snapshot, sft, config))
                print(f"{side:12s} {times[side][-1]:6.2f} s", flush=True)
        best = {side: min(values) for side, values in times.items()}
        print(
            f"DPO, {args.steps} steps, processes {args.processes}, best of {args.repeat}: "
            + ", ".join(f"{side} {t:.2f} s" for side, t in best.items())
        )
        print(
            f"ray overhead: {best['ray'] - best['local']:+.2f} s over local (warm), "
            f"{best['ray'] - best['local-fresh']:+.2f} s over local-fresh"
        )
    finally:
        _warm.close()
        if cluster is not None:
            import ray

            ray.shutdown()
            cluster.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

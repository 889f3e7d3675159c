"""A training run's work, in the job's process (``training.jobs``'s process function).

Export the run's snapshot in the view its algorithm reads (``training.algorithms.registry``),
call the algorithm's ``train(config, inputs, hooks)``, and report through the job's reporter:
metrics and progress as they come, the resumed checkpoint, and the result (the output model
registered, then the final state). Re-running the same run id resumes from the latest
checkpoint in the run's directory.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from training.algorithms.base import TrainInputs, latest_checkpoint
from training.algorithms.diagnostics import PROMPT_METADATA_FILE
from training.algorithms.registry import Algorithm, algorithm
from training.engine.reporting import JobReporter, RunHooksAdapter, main_process_first
from training.engine.storage import run_dir, storage_failure
from training.models import JobStatus, TrainingRun
from training.services.diagnostics import snapshot_prompt_metadata, training_run_diagnostics
from training.weights import weights_path

logger = logging.getLogger(__name__)


def prepare_inputs(
    run: TrainingRun, spec: Algorithm, directory: Path, *, export: bool = True
) -> TrainInputs:
    """Export the snapshot's splits in the algorithm's view (prompts for those that sample
    their own responses); ``export=False`` (a multi-process launch's other ranks) reads the
    main process's export instead."""
    from annotation.exports.rows import ExportOptions
    from annotation.exports.stream import export_rows, snapshot_rankings
    from annotation.exports.writers import jsonl_chunks

    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    snapshot = run.dataset

    def write(split: str) -> Path | None:
        path = data / f"{split}.jsonl"
        if not export:
            return path if path.stat().st_size else None
        rankings = snapshot_rankings(snapshot=snapshot, split=split)
        if spec.view == "prompts":
            rows = _prompt_rows(rankings)
        else:
            rows = export_rows(
                project=snapshot.project, rankings=rankings, options=ExportOptions(view=spec.view)
            )
        with path.open("wb") as out:
            for chunk in jsonl_chunks(rows):
                out.write(chunk)
        return path if path.stat().st_size else None

    train_file = write("train")
    if export:  # what the algorithm may group its pairs by (``PROMPT_METADATA_FILE``)
        metadata = snapshot_prompt_metadata(snapshot=snapshot)
        (data / PROMPT_METADATA_FILE).write_text(json.dumps(metadata))
    if train_file is None:
        raise RuntimeError("The snapshot's train split has no rows for this kind of run.")
    import torch

    return TrainInputs(
        base_model=weights_path(run.base_model),
        output_dir=directory / "model",
        checkpoint_dir=directory / "checkpoints",
        train_file=train_file,
        eval_file=write("test"),
        reward_model=weights_path(run.reward_model) if run.reward_model else None,
        seed=int(run.config.get("seed") or 0),
        use_cpu=not torch.cuda.is_available(),
    )


def _prompt_rows(rankings):
    """One row per distinct prompt of the rankings: ``{"prompt": messages, "prompt_id"}``."""
    from annotation.models import Prompt

    prompt_ids = rankings.values_list("candidate_set__prompt_id", flat=True).distinct()
    for prompt_id, messages in (
        Prompt.objects.filter(pk__in=prompt_ids).order_by("id").values_list("id", "messages")
    ):
        yield {"prompt": messages, "prompt_id": prompt_id}


def run_process(run_id: int, reporter: JobReporter) -> int:
    from training.services.registry import model_version_from_run

    run = TrainingRun.objects.select_related("dataset__project", "base_model", "reward_model").get(
        pk=run_id
    )
    directory = run_dir(run_id)
    try:
        spec = algorithm(run.kind)
        with main_process_first(directory / "data" / "exported"):
            inputs = prepare_inputs(run, spec, directory, export=reporter.main)
        checkpoint = latest_checkpoint(inputs.checkpoint_dir)
        if checkpoint is not None:
            reporter.checkpoint_resumed(int(checkpoint.name.split("-")[-1]))
        result = spec.train_function()(
            spec.build_config(run.config), inputs, RunHooksAdapter(reporter)
        )
        if not reporter.main:
            return 0
        if result.cancelled:
            reporter.finish(JobStatus.CANCELLED, final_metrics=result.metrics)
            return 0
        diagnostics = training_run_diagnostics(snapshot=run.dataset, output_dir=result.output_dir)
        model_version_from_run(run=run, path=result.output_dir, metrics=result.metrics)
        reporter.finish(JobStatus.SUCCEEDED, final_metrics=result.metrics, diagnostics=diagnostics)
        return 0
    except Exception as exc:  # noqa: BLE001 — every failure is recorded on the run
        logger.exception("training run %s failed", run_id)
        reporter.fail(exc, reason=storage_failure(exc, directory))
        return 1

"""Reward model: a pairwise Bradley–Terry ranker trained on Flywheel's preference export.

InstructGPT (Ouyang et al. 2022, §3.5, App. C.2): the policy's backbone with its LM head replaced
by a scalar head read at the last token of prompt + response, trained on every (better, worse)
pair of a K-way ranking with

    loss = −E_{(x, y_w, y_l)} [log σ(r(x, y_w) − r(x, y_l) − m)]

where the margin ``m`` (Llama 2, Touvron et al. 2023, §3.2.2) is the export's ``margin`` column,
``(j − i)/(T − 1)`` for tiers i < j of T; ``use_margin=False`` gives InstructGPT's loss (m = 0).
TRL's ``RewardTrainer`` does the work; this module picks the paper's defaults, keeps a set's
comparisons together and reports what TRL does not: how many rows it dropped for length, the
exact held-out pairwise accuracy, and the diagnostics that say what that accuracy means (beside
the length baseline, the train accuracy, calibration, per prompt group:
``training.algorithms.diagnostics``), written beside the model as ``reward_diagnostics.json``.

Departures from the paper:
- InstructGPT puts all C(K, 2) comparisons of a prompt in one batch element (one forward per
  response) because shuffling them across batches overfits within one epoch. TRL batches pairs,
  so instead the sets are shuffled as units and read in order (``group_comparisons_by_set``):
  a set's pairs land in the same or adjacent batches.
- Rows where prompt + response exceeds ``max_length`` tokens are dropped, not truncated (TRL):
  ``rows_dropped_for_length`` in the result says how many.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import torch
import torch.nn.functional as F

from training.algorithms.adapters import SEQ_CLS
from training.algorithms.base import (
    RunHooks,
    TrainInputs,
    TrainResult,
)
from training.algorithms.configs import RewardRunConfig
from training.algorithms.diagnostics import (
    DIAGNOSTICS_FILE,
    PROMPT_METADATA_FILE,
    reward_diagnostics,
    scored_pairs,
    train_sample,
)
from training.algorithms.trainer import fit, load_splits, trl_trainer

logger = logging.getLogger(__name__)


def pairwise_rm_loss(
    rewards_chosen: torch.Tensor,
    rewards_rejected: torch.Tensor,
    margin: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean of ``−log σ(r_w − r_l − m)`` over the batch: ``(B,), (B,), (B,) → ()``. The loss
    TRL's ``RewardTrainer.compute_loss`` computes (without ``center_rewards_coefficient``)."""
    diff = rewards_chosen - rewards_rejected
    if margin is not None:
        diff = diff - margin
    return -F.logsigmoid(diff).mean()


def train(config: RewardRunConfig, inputs: TrainInputs, hooks: RunHooks) -> TrainResult:
    """Train a scalar reward head on ``inputs.base_model`` with the preference export."""
    from trl import RewardConfig, RewardTrainer

    if hooks.should_stop():
        return TrainResult(inputs.output_dir, cancelled=True)
    seed = inputs.seed if config.seed is None else config.seed
    splits = load_splits(inputs, prepare=lambda rows: _prepared(rows, config, seed))
    train_rows, eval_rows = splits

    args = RewardConfig(
        **config.trainer_arguments(inputs, has_eval=eval_rows is not None),
        max_length=config.max_length,
        center_rewards_coefficient=config.center_rewards_coefficient,
        train_sampling_strategy="sequential" if config.group_comparisons_by_set else "random",
    )
    # By path: TRL seeds before it loads the model, so the fresh scalar head is reproducible.
    trainer, callback = trl_trainer(
        RewardTrainer, args, inputs, hooks, splits, adapter=config.adapter, task_type=SEQ_CLS
    )
    dropped = len(train_rows) - len(trainer.train_dataset)
    if train_rows and not len(trainer.train_dataset):
        raise ValueError(
            f"all {len(train_rows)} training pairs are longer than max_length="
            f"{config.max_length} tokens (prompt + response), and TRL drops such pairs: nothing "
            "is left to train on. Raise config.max_length or shorten the responses."
        )
    if dropped:
        logger.warning(
            "dropped %d of %d pairs longer than %s tokens",
            dropped,
            len(train_rows),
            config.max_length,
        )

    # The held-out pass is ours alone (``heldout_metrics``), not TRL's ``evaluate`` as well.
    result = fit(trainer, callback, inputs, evaluate=False)
    result.metrics |= {
        "train_rows": float(len(trainer.train_dataset)),
        "rows_dropped_for_length": float(dropped),
    }
    if eval_rows is not None:
        result.metrics["eval_rows_dropped_for_length"] = float(
            len(eval_rows) - len(trainer.eval_dataset)
        )
    if result.cancelled:
        return result
    heldout = pair_rewards(trainer, trainer.eval_dataset) if eval_rows is not None else None
    if heldout is not None:
        result.metrics |= heldout_metrics(*heldout, config)
    _write_diagnostics(trainer, inputs, heldout, seed)
    return result


def pair_rewards(trainer, dataset) -> tuple[torch.Tensor, ...] | None:
    """One pass over ``dataset`` (tokenized pairs) in order: r(chosen), r(rejected) and the
    margin of each pair (0 without a margin column), ``(N,)`` each; None when it is empty."""
    model = trainer.model
    model.eval()
    chosen_all, rejected_all, margins = [], [], []
    with torch.no_grad():
        for batch in trainer.get_test_dataloader(dataset):
            rewards = model(
                input_ids=batch["input_ids"].to(model.device),
                attention_mask=batch["attention_mask"].to(model.device),
            ).logits.squeeze(-1)  # (2B,): chosen rows first, then rejected
            chosen, rejected = (trainer.accelerator.gather_for_metrics(r) for r in rewards.chunk(2))
            chosen_all.append(chosen.float())
            rejected_all.append(rejected.float())
            margin = batch.get("margin")
            margins.append(
                torch.zeros_like(chosen_all[-1])
                if margin is None
                else trainer.accelerator.gather_for_metrics(margin.to(model.device)).float()
            )
    if not chosen_all:
        return None
    return torch.cat(chosen_all), torch.cat(rejected_all), torch.cat(margins)


def heldout_metrics(
    chosen: torch.Tensor, rejected: torch.Tensor, margins: torch.Tensor, config: RewardRunConfig
) -> dict[str, float]:
    """Over every eval pair: ``eval_accuracy``, the share with r(chosen) > r(rejected) (TRL's
    logged accuracy is a mean of per-batch means); ``eval_loss``, the training loss (margin and
    centring included); ``eval_margin``, the mean r(chosen) − r(rejected)."""
    loss = pairwise_rm_loss(chosen, rejected, margins)
    if config.center_rewards_coefficient:
        loss = loss + config.center_rewards_coefficient * torch.mean((chosen + rejected) ** 2)
    return {
        "eval_accuracy": (chosen > rejected).float().mean().item(),
        "eval_loss": loss.item(),
        "eval_margin": (chosen - rejected).mean().item(),
    }


def _write_diagnostics(trainer, inputs: TrainInputs, heldout, seed: int) -> None:
    """Score a seeded sample of the train pairs too, and write the diagnostics beside the
    model (the main process; every process scores, as each holds a shard of the batches)."""
    dataset = trainer.train_dataset
    sample = dataset.select(train_sample(len(dataset), seed))
    train = pair_rewards(trainer, sample)
    if not trainer.is_world_process_zero():
        return
    metadata_file = Path(inputs.train_file).parent / PROMPT_METADATA_FILE
    metadata = json.loads(metadata_file.read_text()) if metadata_file.exists() else {}
    diagnostics = reward_diagnostics(
        heldout=[] if heldout is None else _pairs(heldout, trainer.eval_dataset),
        train=[] if train is None else _pairs(train, sample),
        train_pairs=len(dataset),
        metadata=metadata,
    )
    (Path(inputs.output_dir) / DIAGNOSTICS_FILE).write_text(json.dumps(diagnostics))


def _pairs(rewards, dataset):
    """The pairs' rewards with their rows' lengths and prompt ids. TRL's tokenizer prefixes
    ``chosen`` and ``rejected`` with the same prompt, which does not change which is longer."""
    chosen, rejected, _ = rewards
    columns = [c for c in ("chosen", "rejected", "prompt_id") if c in dataset.column_names]
    return scored_pairs(chosen.tolist(), rejected.tolist(), dataset.select_columns(columns))


def _prepared(dataset, config: RewardRunConfig, seed: int):
    if not config.use_margin and "margin" in dataset.column_names:
        dataset = dataset.remove_columns("margin")
    if config.group_comparisons_by_set and "set_id" in dataset.column_names:
        dataset = dataset.select(_set_grouped_order(dataset["set_id"], seed))
    return dataset


def _set_grouped_order(set_ids: list, seed: int) -> list[int]:
    """Row indices with the sets in a seeded random order and each set's rows together."""
    rows_of: dict = {}
    for index, set_id in enumerate(set_ids):
        rows_of.setdefault(set_id, []).append(index)
    sets = list(rows_of)
    random.Random(seed).shuffle(sets)
    return [index for set_id in sets for index in rows_of[set_id]]

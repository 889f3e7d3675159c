"""The pairwise reward-model loss and the DPO family, checked against numbers worked out by hand
from the formulas (RLHF-NOTES.md) and against what TRL 1.16's trainers compute on a real batch
of the tiny world's model. TRL inlines these losses in ``compute_loss``; the modules restate
them as pure functions (``reward.pairwise_rm_loss``, ``dpo.dpo_loss``) so the math is pinned."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from datasets import Dataset

from training.algorithms.dpo import dpo_loss
from training.algorithms.reward import pairwise_rm_loss

pytestmark = pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing`:FutureWarning")


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def softplus(x: float) -> float:
    """−log σ(x) = log(1 + e^(−x))."""
    return math.log1p(math.exp(-x))


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


# --- Reward model: −log σ(r_w − r_l − m) ------------------------------------------------------


def test_pairwise_rm_loss_by_hand() -> None:
    chosen, rejected = t(1.0, 0.5, -2.0), t(0.0, 1.5, -2.5)
    expected = (softplus(1.0) + softplus(-1.0) + softplus(0.5)) / 3
    assert pairwise_rm_loss(chosen, rejected).item() == pytest.approx(expected, abs=1e-6)


def test_pairwise_rm_loss_with_margin_by_hand() -> None:
    """Llama 2's margin asks the chosen reward to lead by at least m."""
    chosen, rejected, margin = t(1.0, 0.5, -2.0), t(0.0, 1.5, -2.5), t(0.5, 1.0, 0.0)
    expected = (softplus(1.0 - 0.5) + softplus(-1.0 - 1.0) + softplus(0.5)) / 3
    assert pairwise_rm_loss(chosen, rejected, margin).item() == pytest.approx(expected, abs=1e-6)
    # Equal rewards with margin 0 cost log 2; a margin makes a tie cost more.
    assert pairwise_rm_loss(t(0.3), t(0.3)).item() == pytest.approx(math.log(2), abs=1e-6)
    assert pairwise_rm_loss(t(0.3), t(0.3), t(1.0)).item() == pytest.approx(softplus(-1.0))


def preference_dataset(n: int = 4) -> Dataset:
    return Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": f"Question {i}"}],
                "chosen": [{"role": "assistant", "content": "The fox explains it politely."}],
                "rejected": [{"role": "assistant", "content": f"Nothing useful {i} at all."}],
                "margin": 0.25 * i,
            }
            for i in range(n)
        ]
    )


def trl_args(tmp_path: Path) -> dict:
    return {
        "output_dir": str(tmp_path),
        "per_device_train_batch_size": 4,
        "use_cpu": True,
        "bf16": False,
        "activation_checkpointing": False,
        "report_to": [],
        "seed": 0,
    }


@pytest.mark.parametrize("use_margin", [True, False])
def test_pairwise_rm_loss_is_what_reward_trainer_computes(
    use_margin: bool, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from trl import RewardConfig, RewardTrainer

    dataset = preference_dataset()
    if not use_margin:
        dataset = dataset.remove_columns("margin")
    trainer = RewardTrainer(
        model=str(tiny_model_dir), args=RewardConfig(**trl_args(tmp_path)), train_dataset=dataset
    )
    batch = next(iter(trainer.get_train_dataloader()))
    assert ("margin" in batch) == use_margin

    with torch.no_grad():
        trl_loss = trainer.compute_loss(trainer.model, dict(batch))
        rewards = trainer.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).logits.squeeze(-1)
        chosen, rejected = rewards.chunk(2)  # the collator stacks all chosen, then all rejected
        ours = pairwise_rm_loss(chosen, rejected, batch.get("margin"))

    assert chosen.sub(rejected).abs().max() > 1e-3  # a real comparison, not a tie
    assert ours.item() == pytest.approx(trl_loss.item(), abs=1e-6)


# --- DPO family -------------------------------------------------------------------------------

# Sequence log-probs (sums over response tokens): the policy moved towards y_w and away from y_l.
POLICY_W, POLICY_L, REF_W, REF_L = -5.0, -9.0, -6.0, -8.0
H = (POLICY_W - REF_W) - (POLICY_L - REF_L)  # = 1 − (−1) = 2
BETA = 0.1


def batch_logps() -> tuple[torch.Tensor, ...]:
    return t(POLICY_W), t(POLICY_L), t(REF_W), t(REF_L)


def test_dpo_sigmoid_by_hand() -> None:
    """−log σ(β·((π_w − ref_w) − (π_l − ref_l))) = log(1 + e^(−0.2))."""
    loss = dpo_loss(*batch_logps(), beta=BETA, loss_type="sigmoid")
    assert loss.item() == pytest.approx(math.log1p(math.exp(-0.2)), abs=1e-6)
    assert loss.item() == pytest.approx(0.598138869381, abs=1e-6)


def test_dpo_hinge_by_hand() -> None:
    """relu(1 − β·h): 1 − 0.2 = 0.8; zero once β·h ≥ 1 (h = 20 at β = 0.1)."""
    assert dpo_loss(*batch_logps(), beta=BETA, loss_type="hinge").item() == pytest.approx(0.8)
    far = dpo_loss(t(0.0), t(-20.0), t(0.0), t(0.0), beta=BETA, loss_type="hinge")
    assert far.item() == 0.0


def test_dpo_ipo_by_hand() -> None:
    """(h − 1/(2β))² = (2 − 5)² = 9; TRL's per-token form: (1/2 − (−1)/4 − 5)² = 4.25²."""
    assert dpo_loss(*batch_logps(), beta=BETA, loss_type="ipo").item() == pytest.approx(9.0)
    per_token = dpo_loss(
        *batch_logps(), beta=BETA, loss_type="ipo", chosen_lengths=t(2), rejected_lengths=t(4)
    )
    assert per_token.item() == pytest.approx((0.5 + 0.25 - 5) ** 2, abs=1e-6)


def test_dpo_robust_by_hand() -> None:
    """((1 − ε)·(−log σ(βh)) − ε·(−log σ(−βh))) / (1 − 2ε); ε = 0 is plain DPO."""
    eps = 0.1
    expected = ((1 - eps) * softplus(0.2) - eps * softplus(-0.2)) / (1 - 2 * eps)
    loss = dpo_loss(*batch_logps(), beta=BETA, loss_type="robust", label_smoothing=eps)
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    plain = dpo_loss(*batch_logps(), beta=BETA, loss_type="robust", label_smoothing=0.0)
    assert plain.item() == pytest.approx(softplus(0.2), abs=1e-6)


def sequence_logps(model, batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Σ_t log π(x_{t+1} | x_≤t) over the response tokens, and the response lengths."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    per_token = logits[:, :-1].log_softmax(-1)  # (2B, T−1, V)
    per_token = per_token.gather(-1, batch["input_ids"][:, 1:, None]).squeeze(-1)  # (2B, T−1)
    mask = batch["completion_mask"][:, 1:]
    return (per_token * mask).sum(-1), batch["completion_mask"].sum(-1)


@pytest.mark.parametrize(
    ("loss_type", "label_smoothing"),
    [("sigmoid", 0.0), ("hinge", 0.0), ("ipo", 0.0), ("robust", 0.2)],
)
def test_dpo_loss_is_what_dpo_trainer_computes(
    loss_type: str, label_smoothing: float, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(
        **trl_args(tmp_path), beta=0.5, loss_type=[loss_type], label_smoothing=label_smoothing
    )
    trainer = DPOTrainer(model=str(tiny_model_dir), args=args, train_dataset=preference_dataset())
    with torch.no_grad(), torch.random.fork_rng(devices=[]):  # move the policy off the reference
        torch.manual_seed(0)
        for param in trainer.model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    batch = next(iter(trainer.get_train_dataloader()))

    with torch.no_grad():
        trl_loss = trainer.compute_loss(trainer.model, dict(batch))
        policy, lengths = sequence_logps(trainer.model, batch)
        reference, _ = sequence_logps(trainer.ref_model, batch)
        ours = dpo_loss(
            *policy.chunk(2),
            *reference.chunk(2),
            beta=0.5,
            loss_type=loss_type,
            label_smoothing=label_smoothing,
            chosen_lengths=lengths.chunk(2)[0],
            rejected_lengths=lengths.chunk(2)[1],
        ).mean()

    assert (policy - reference).abs().max() > 0.1  # the policy really differs from the reference
    assert ours.item() == pytest.approx(trl_loss.item(), rel=1e-5, abs=1e-5)

"""PPO for RLHF: InstructGPT's "PPO-ptx" on Hugging Face causal LMs.

Papers: PPO (Schulman et al. 2017, arXiv:1707.06347); GAE (Schulman et al. 2016,
arXiv:1506.02438); per-token KL penalty to the SFT model (Ziegler et al. 2019, arXiv:1909.08593;
Stiennon et al. 2020); PPO-ptx (Ouyang et al. 2022, arXiv:2203.02155, eq. 2). Implementation
details follow TRL's former PPOTrainer (removed from TRL 1.13+) and Huang et al. 2024, "The N
Implementation Details of RLHF with PPO".

One iteration (``step``) collects a rollout batch, then makes ``ppo_epochs`` passes over it:

    y ~ π_old(·|x)                                   one sampled response per prompt
    r_t = −β (log π_old(a_t|s_t) − log π_ref(a_t|s_t)),  plus R(x, y) at the final token
    δ_t = r_t + γ V(s_{t+1}) − V(s_t),   Â_t = Σ_l (γλ)^l δ_{t+l},   R̂_t = Â_t + V(s_t)
    L = −E[min(ρ_t Â_t, clip(ρ_t, 1−ε, 1+ε) Â_t)]          ρ_t = π_θ(a_t|s_t) / π_old(a_t|s_t)
        + c_vf · ½ E[max((V − R̂)², (V_old + clip(V − V_old, ±ε_v) − R̂)²)]
        − γ_ptx · E_sft[log π_θ(x)]

Four models: the actor π_θ (trained, from ``inputs.base_model``), the reference π_ref (a frozen
copy of the same weights), the reward model R (a frozen sequence classifier, read at the last
token of prompt + response) and the critic V (trained: a sequence classifier whose scalar head
is applied at every token). The critic starts from the reward model, as in InstructGPT
(``critic_init="reward_model"``), or from the base model with a fresh head. The reward model
must share the base model's tokenizer.

Departures from the papers:
- The ptx term uses ``inputs.sft_file`` chat rows instead of pretraining text, with the loss on
  the assistant tokens as in SFT (all tokens if the chat template marks no assistant span).
- Actor and critic are separate networks trained by one AdamW on the summed loss, at a constant
  learning rate (TRL); losses are token-level means over a minibatch; advantages are whitened
  per rollout batch; β is fixed (no adaptive KL controller).
- Dropout is off in every model (all stay in eval mode) so that ρ = 1 on the first minibatch.
- Logprobs are taken from logits / temperature, so sampling at any temperature is on-policy;
  top_p < 1 makes the sampler differ from π (keep 1.0 unless you accept that bias).
- Responses that run out of ``max_new_tokens`` without EOS keep their score (bootstrapping is
  not done); ``missing_eos_penalty`` (TRL) lowers it instead.
- ``train(..., reward_fn=...)`` replaces the reward model by a rule on the decoded responses
  (tests, the tiny world's hidden rule).
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    GenerationConfig,
)

from training.algorithms.adapters import (
    lora_config,
    model_init_kwargs,
    parameter_metrics,
    peak_memory_metrics,
)
from training.algorithms.base import (
    CHECKPOINT_COMPLETE_MARKER,
    RunHooks,
    TrainInputs,
    TrainResult,
    latest_checkpoint,
)
from training.algorithms.configs import PpoRunConfig

logger = logging.getLogger(__name__)

RewardFn = Callable[[list[str]], list[float]]
"""Decoded responses (special tokens removed, no prompt), one per prompt → one score each."""


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    if dim is None:
        return (x * mask).sum() / mask.sum().clamp(min=1)
    return (x * mask).sum(dim) / mask.sum(dim).clamp(min=1)


def masked_whiten(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(x − mean) / std over the unmasked entries (unbiased variance, as TRL); masked entries
    become 0."""
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask) * mask.sum() / (mask.sum() - 1).clamp(min=1)
    whitened = (x - mean) * torch.rsqrt(var + 1e-8)
    return whitened * mask


def per_token_rewards(
    logprobs: torch.Tensor,  # (B, T) log π_old(a_t|s_t)
    ref_logprobs: torch.Tensor,  # (B, T) log π_ref(a_t|s_t)
    scores: torch.Tensor,  # (B,) R(x, y)
    mask: torch.Tensor,  # (B, T) 1 on response tokens up to and including EOS
    kl_coef: float,
) -> torch.Tensor:  # (B, T)
    """r_t = −β (log π − log π_ref), plus the score at each row's last unmasked token."""
    rewards = -kl_coef * (logprobs - ref_logprobs) * mask
    positions = torch.arange(mask.shape[1], device=mask.device)
    last = (positions * mask).argmax(dim=1)  # (B,)
    rewards[torch.arange(len(scores), device=mask.device), last] += scores
    return rewards


def compute_gae(
    rewards: torch.Tensor,  # (B, T)
    values: torch.Tensor,  # (B, T) V(s_t)
    mask: torch.Tensor,  # (B, T) a prefix of ones per row: masked tokens follow the last one
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE (Schulman et al. 2016, eq. 16): δ_t = r_t + γ V(s_{t+1}) − V(s_t) with V = 0 past the
    last unmasked token (the episode ends there), Â_t = δ_t + γλ Â_{t+1}; returns R̂ = Â + V.
    Both are 0 on masked tokens."""
    rewards, values = rewards * mask, values * mask
    next_values = F.pad(values[:, 1:], (0, 1))  # (B, T) V(s_{t+1}), 0 after the last token
    deltas = rewards + gamma * next_values - values  # (B, T)
    advantages = torch.zeros_like(deltas)
    running = torch.zeros_like(deltas[:, 0])  # (B,) Â_{t+1}; 0 on the masked tail
    for t in reversed(range(deltas.shape[1])):
        running = deltas[:, t] + gamma * lam * running
        advantages[:, t] = running
    return advantages * mask, (advantages + values) * mask


def policy_loss(
    logprobs: torch.Tensor,  # (B, T) log π_θ
    old_logprobs: torch.Tensor,  # (B, T) log π_old
    advantages: torch.Tensor,  # (B, T)
    mask: torch.Tensor,  # (B, T)
    clip_range: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clipped surrogate −min(ρA, clip(ρ, 1−ε, 1+ε)A), token mean; and the fraction clipped."""
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
    loss = masked_mean(torch.max(unclipped, clipped), mask)
    return loss, masked_mean((clipped > unclipped).float(), mask)


def value_loss(
    values: torch.Tensor,  # (B, T) V_θ(s_t)
    old_values: torch.Tensor,  # (B, T) V_old(s_t), from the rollout
    returns: torch.Tensor,  # (B, T) R̂_t
    mask: torch.Tensor,  # (B, T)
    clip_range_value: float | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """½ max((V − R̂)², (V_clip − R̂)²), V_clip = V_old + clip(V − V_old, ±ε_v), token mean (the
    OpenAI baselines / TRL form; plain ½(V − R̂)² when ε_v is None); and the fraction clipped."""
    unclipped = (values - returns) ** 2
    if clip_range_value is None:
        return 0.5 * masked_mean(unclipped, mask), torch.zeros(())
    clipped_values = old_values + torch.clamp(
        values - old_values, -clip_range_value, clip_range_value
    )
    clipped = (clipped_values - returns) ** 2
    loss = 0.5 * masked_mean(torch.max(unclipped, clipped), mask)
    return loss, masked_mean((clipped > unclipped).float(), mask)


# ---------------------------------------------------------------------------- model passes


def _masks(attention_mask: torch.Tensor) -> dict:
    """Forward kwargs for left-padded rows: positions count real tokens only."""
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # (B, L)
    return {"attention_mask": attention_mask, "position_ids": position_ids, "use_cache": False}


def response_logprobs(model, input_ids, attention_mask, prompt_len: int, temperature: float):
    """log π(a_t|s_t) of the response tokens ``input_ids[:, prompt_len:]`` → (B, R)."""
    response = input_ids[:, prompt_len:]  # (B, R)
    out = model(input_ids, logits_to_keep=response.shape[1] + 1, **_masks(attention_mask))
    logits = out.logits[:, :-1].float() / temperature  # (B, R, V): position t predicts t + 1
    return logits.gather(-1, response.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)


def _scalar_head(model, input_ids, attention_mask) -> torch.Tensor:  # (B, L)
    backbone = getattr(model, model.base_model_prefix)
    hidden = backbone(input_ids, **_masks(attention_mask)).last_hidden_state  # (B, L, H)
    return model.score(hidden).squeeze(-1).float()


def token_values(critic, input_ids, attention_mask, prompt_len: int) -> torch.Tensor:
    """V(s_t) for the state before each response token → (B, R)."""
    return _scalar_head(critic, input_ids, attention_mask)[:, prompt_len - 1 : -1]


# ---------------------------------------------------------------------------- data


def _read_jsonl(path: Path) -> list[dict]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def _tokenize_prompts(path: Path, tokenizer, max_length: int) -> list[list[int]]:
    prompts = []
    for row in _read_jsonl(path):
        encoded = tokenizer.apply_chat_template(
            row["prompt"], add_generation_prompt=True, return_dict=True
        )
        prompts.append(list(encoded["input_ids"]))
    kept = [p for p in prompts if len(p) <= max_length]
    if dropped := len(prompts) - len(kept):
        logger.warning("dropped %d prompts longer than %d tokens", dropped, max_length)
    if not kept:
        raise ValueError(f"train_file: no prompt fits in max_prompt_length={max_length}")
    return kept


def _tokenize_sft(path: Path, tokenizer, max_length: int) -> list[tuple[list[int], list[int]]]:
    rows = []
    for row in _read_jsonl(path):
        encoded = tokenizer.apply_chat_template(
            row["messages"], return_dict=True, return_assistant_tokens_mask=True
        )
        ids, loss_mask = list(encoded["input_ids"]), list(encoded["assistant_masks"])
        if not any(loss_mask):  # no {% generation %} markers: train on every token
            loss_mask = [1] * len(ids)
        rows.append((ids[:max_length], loss_mask[:max_length]))
    if not rows:
        raise ValueError("sft_file: no rows")
    return rows


def turn_suffix(tokenizer, stop_ids: set[int]) -> list[int]:
    """The tokens a chat template writes after an assistant turn's end-of-turn token (ChatML:
    "\\n"; Llama 3: none), found by rendering a one-turn conversation."""
    prompt = [{"role": "user", "content": "Hi"}]
    reply = [{"role": "assistant", "content": "Hello"}]
    head = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_dict=True)
    full = tokenizer.apply_chat_template(prompt + reply, return_dict=True)
    head, full = list(head["input_ids"]), list(full["input_ids"])
    ends = [i for i, t in enumerate(full) if i >= len(head) and t in stop_ids]
    return full[ends[0] + 1 :] if full[: len(head)] == head and ends else []


def append_turn_suffix(response, mask, ended, suffix: torch.Tensor, pad_id: int):
    """(B, R) → (B, R + S): ``suffix`` (S,) written after each response that ended with EOS.
    Reward training (TRL's RewardTrainer) scores whole rendered conversations, so the reward
    model learnt to read its score at the token after the EOS (ChatML's "\\n"), not at the EOS."""
    if len(suffix) == 0:
        return response, mask
    cols = mask.sum(1, keepdim=True).long() + torch.arange(len(suffix), device=mask.device)
    tokens = torch.where(ended[:, None], suffix, pad_id)  # (B, S)
    response = F.pad(response, (0, len(suffix)), value=pad_id).scatter(1, cols, tokens)
    mask = F.pad(mask, (0, len(suffix))).scatter(1, cols, ended[:, None].expand_as(tokens).to(mask))
    return response, mask  # (B, R + S)


def _pad(rows: list[list[int]], value: int, left: bool) -> torch.Tensor:
    width = max(len(r) for r in rows)
    fill = [[value] * (width - len(r)) for r in rows]
    return torch.tensor([f + r if left else r + f for r, f in zip(rows, fill, strict=True)])


def _sample_indices(n: int, start: int, count: int, seed: int) -> list[int]:
    """Items ``start .. start + count`` of an endless stream of shuffled epochs over range(n):
    a pure function of the step, so a resumed run sees the same prompts as an unbroken one."""
    epochs: dict[int, list[int]] = {}
    out = []
    for k in range(start, start + count):
        epoch, pos = divmod(k, n)
        if epoch not in epochs:
            generator = torch.Generator().manual_seed(seed + epoch)
            epochs[epoch] = torch.randperm(n, generator=generator).tolist()
        out.append(epochs[epoch][pos])
    return out


# ---------------------------------------------------------------------------- checkpoints


def _save_checkpoint(root: Path, step: int, actor, critic, optimizer, keep: int | None) -> None:
    """Written under a temporary name and renamed, so a crash never leaves a partial
    ``checkpoint-<step>`` for ``latest_checkpoint`` to pick."""
    final, tmp = root / f"checkpoint-{step}", root / f"checkpoint-{step}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    actor.save_pretrained(tmp / "actor")
    critic.save_pretrained(tmp / "critic")
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    rng = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save(rng, tmp / "rng.pt")
    (tmp / "trainer_state.json").write_text(json.dumps({"step": step}))
    (tmp / CHECKPOINT_COMPLETE_MARKER).touch()
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    if keep is not None:
        steps = sorted(int(p.name.split("-")[-1]) for p in root.glob("checkpoint-*[0-9]"))
        for old in steps[:-keep]:
            shutil.rmtree(root / f"checkpoint-{old}", ignore_errors=True)


def _restore_rng(path: Path) -> None:
    rng = torch.load(path)
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


# ---------------------------------------------------------------------------- training


@dataclass
class Rollout:
    input_ids: torch.Tensor  # (B, P + R) left-padded prompt, then the response
    attention_mask: torch.Tensor  # (B, P + R)
    prompt_len: int  # P
    mask: torch.Tensor  # (B, R) 1 on response tokens up to and including the first EOS
    ended: torch.Tensor  # (B,) the response has an EOS
    logprobs: torch.Tensor  # (B, R) log π_old
    ref_logprobs: torch.Tensor  # (B, R) log π_ref
    values: torch.Tensor  # (B, R) V_old
    scores: torch.Tensor  # (B,) R(x, y), before clipping / penalties / whitening


@torch.no_grad()
def _rollout(
    models, prompts, *, tokenizer, generation_config, stop_ids, rm_suffix, config, reward_fn
):
    """Sample one response per prompt and score it with every model, in minibatch chunks."""
    actor, reference, critic, reward_model = models
    pad_id, device = generation_config.pad_token_id, actor.device
    query = _pad(prompts, pad_id, left=True).to(device)  # (B, P)
    query_mask = _pad([[1] * len(p) for p in prompts], 0, left=True).to(device)  # (B, P)
    P = query.shape[1]
    out = actor.generate(
        input_ids=query, attention_mask=query_mask, generation_config=generation_config
    )
    response = out[:, P:]  # (B, R)
    is_stop = torch.isin(response, stop_ids)  # (B, R)
    after_stop = (is_stop.cumsum(1) - is_stop.long()) > 0  # strictly after the first EOS
    response = response.masked_fill(after_stop, pad_id)
    mask = (~after_stop).float()  # (B, R)
    ended = is_stop.any(1)  # (B,)
    input_ids = torch.cat([query, response], dim=1)  # (B, P + R)
    attention_mask = torch.cat([query_mask, mask.long()], dim=1)  # (B, P + R)
    rm_response, rm_mask = append_turn_suffix(response, mask, ended, rm_suffix, pad_id)
    rm_ids = torch.cat([query, rm_response], dim=1)  # (B, P + R + S)
    rm_attention_mask = torch.cat([query_mask, rm_mask.long()], dim=1)  # (B, P + R + S)
    parts: dict[str, list[torch.Tensor]] = {"lp": [], "ref": [], "v": [], "score": []}
    for rows in torch.arange(len(prompts), device=device).split(config.minibatch_size):
        ids, am = input_ids[rows], attention_mask[rows]
        parts["lp"].append(response_logprobs(actor, ids, am, P, config.temperature))
        parts["ref"].append(response_logprobs(reference, ids, am, P, config.temperature))
        parts["v"].append(token_values(critic, ids, am, P))
        if reward_fn is None:
            last = P + rm_mask[rows].sum(1).long() - 1  # (b,) the final token
            head = _scalar_head(reward_model, rm_ids[rows], rm_attention_mask[rows])
            parts["score"].append(head[torch.arange(len(rows), device=device), last])
    if reward_fn is None:
        scores = torch.cat(parts["score"])
    else:
        texts = tokenizer.batch_decode(response, skip_special_tokens=True)
        scores = torch.tensor(reward_fn(texts), dtype=torch.float32, device=device)
    return Rollout(
        input_ids, attention_mask, P, mask, ended,
        torch.cat(parts["lp"]), torch.cat(parts["ref"]), torch.cat(parts["v"]), scores,
    )  # fmt: skip


def _shape_scores(scores: torch.Tensor, ended: torch.Tensor, config: PpoRunConfig):
    if config.missing_eos_penalty is not None:
        scores = scores - config.missing_eos_penalty * (~ended).float()
    if config.score_clip is not None:
        scores = scores.clamp(-config.score_clip, config.score_clip)
    if config.whiten_scores:
        scores = masked_whiten(scores, torch.ones_like(scores))
    return scores


def _ptx_loss(actor, rows: list[tuple[list[int], list[int]]], pad_id: int) -> torch.Tensor:
    """−E[log π(x)] on SFT rows (right-padded), over the tokens their loss masks mark."""
    device = actor.device
    ids = _pad([r[0] for r in rows], pad_id, left=False).to(device)  # (b, L)
    attention_mask = _pad([[1] * len(r[0]) for r in rows], 0, left=False).to(device)  # (b, L)
    loss_mask = _pad([r[1] for r in rows], 0, left=False).to(device).float()  # (b, L)
    logits = actor(input_ids=ids, attention_mask=attention_mask, use_cache=False).logits
    nll = F.cross_entropy(  # (b, L − 1): −log π(x_{t+1} | x_≤t)
        logits[:, :-1].float().transpose(1, 2), ids[:, 1:], reduction="none"
    )
    return masked_mean(nll, loss_mask[:, 1:])


def train(
    config: PpoRunConfig,
    inputs: TrainInputs,
    hooks: RunHooks,
    *,
    reward_fn: RewardFn | None = None,
) -> TrainResult:
    """Run PPO iterations ``start + 1 .. config.max_steps``, where ``start`` is the step of the
    latest checkpoint in ``inputs.checkpoint_dir`` (0 without one), then save the actor and
    tokenizer to ``inputs.output_dir``. ``reward_fn`` scores the decoded responses in place of
    ``inputs.reward_model`` (which may then be None)."""
    config.validate()
    if reward_fn is None and inputs.reward_model is None:
        raise ValueError("reward_model: required unless a reward_fn is given")
    if config.ptx_coef > 0 and inputs.sft_file is None:
        raise ValueError("sft_file: required when ptx_coef > 0")
    seed = inputs.seed if config.seed is None else config.seed
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() and not inputs.use_cpu else "cpu")
    on_gpu = device.type == "cuda"
    frozen_dtype = torch.bfloat16 if on_gpu else torch.float32

    tokenizer = AutoTokenizer.from_pretrained(inputs.base_model)
    pad_id = tokenizer.pad_token_id
    pad_id = tokenizer.eos_token_id if pad_id is None else pad_id
    use_rm_critic = config.critic_init == "reward_model" and inputs.reward_model is not None
    loads_rm = inputs.reward_model is not None and (reward_fn is None or use_rm_critic)
    if loads_rm and AutoTokenizer.from_pretrained(inputs.reward_model).vocab != tokenizer.vocab:
        raise ValueError("reward_model: its tokenizer differs from the base model's")
    prompts = _tokenize_prompts(inputs.train_file, tokenizer, config.max_prompt_length)
    sft_rows = []
    if config.ptx_coef > 0:
        max_len = config.max_prompt_length + config.max_new_tokens
        sft_rows = _tokenize_sft(inputs.sft_file, tokenizer, max_len)

    checkpoint = latest_checkpoint(inputs.checkpoint_dir)
    critic_init = inputs.reward_model if use_rm_critic else inputs.base_model
    if config.adapter is None:
        actor = AutoModelForCausalLM.from_pretrained(
            checkpoint / "actor" if checkpoint else inputs.base_model, dtype=torch.float32
        )
        reference = AutoModelForCausalLM.from_pretrained(inputs.base_model, dtype=frozen_dtype)
    else:  # a LoRA actor; the reference is the same weights with the adapter disabled
        actor = _lora_actor(config, inputs.base_model, checkpoint)
        reference = AdapterDisabled(actor)
    critic = AutoModelForSequenceClassification.from_pretrained(
        checkpoint / "critic" if checkpoint else critic_init, num_labels=1, dtype=torch.float32
    )
    reward_model = None
    if reward_fn is None:
        reward_model = AutoModelForSequenceClassification.from_pretrained(
            inputs.reward_model, num_labels=1, dtype=frozen_dtype
        )
    for model in filter(None, [actor, critic, reward_model]):
        model.to(device).eval()  # eval: no dropout, so ρ = 1 before the first update
    if config.adapter is None:
        reference.to(device).eval().requires_grad_(False)
    if reward_model is not None:
        reward_model.requires_grad_(False)
    params = [p for p in (*actor.parameters(), *critic.parameters()) if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    start = 0
    if checkpoint is not None:
        optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt"))
        start = json.loads((checkpoint / "trainer_state.json").read_text())["step"]
        _restore_rng(checkpoint / "rng.pt")
        logger.info("resuming PPO from %s (step %d)", checkpoint, start)

    eos = actor.generation_config.eos_token_id
    stop = {tokenizer.eos_token_id, *(eos if isinstance(eos, list) else [eos])} - {None}
    stop_ids = torch.tensor(sorted(stop), device=device)
    generation_config = GenerationConfig(
        do_sample=True,
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=0,  # transformers defaults to 50; PPO samples from π itself
        max_new_tokens=config.max_new_tokens,
        pad_token_id=pad_id,
        eos_token_id=sorted(stop),
    )
    rm_suffix = torch.tensor(turn_suffix(tokenizer, stop), dtype=torch.long, device=device)
    rollout = functools.partial(
        _rollout,
        (actor, reference, critic, reward_model),
        tokenizer=tokenizer,
        generation_config=generation_config,
        stop_ids=stop_ids,
        rm_suffix=rm_suffix,
        config=config,
        reward_fn=reward_fn,
    )
    B, mb_size = config.rollout_batch_size, config.minibatch_size
    updates_per_step = config.ppo_epochs * B // mb_size
    metrics: dict[str, float] = {}

    for step in range(start + 1, config.max_steps + 1):
        batch = [prompts[i] for i in _sample_indices(len(prompts), (step - 1) * B, B, seed)]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_gpu):
            ro = rollout(batch)
        scores = _shape_scores(ro.scores, ro.ended, config)  # (B,)
        rewards = per_token_rewards(ro.logprobs, ro.ref_logprobs, scores, ro.mask, config.kl_coef)
        advantages, returns = compute_gae(rewards, ro.values, ro.mask, config.gamma, config.lam)
        advantages = masked_whiten(advantages, ro.mask)  # (B, R), over the whole rollout

        stats: dict[str, list[float]] = {}
        update = (step - 1) * updates_per_step
        for _ in range(config.ppo_epochs):
            for mb in torch.randperm(B, device=device).split(mb_size):
                ids, am, m = ro.input_ids[mb], ro.attention_mask[mb], ro.mask[mb]
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_gpu):
                    logprobs = response_logprobs(actor, ids, am, ro.prompt_len, config.temperature)
                    values = token_values(critic, ids, am, ro.prompt_len)
                    ptx_loss = torch.zeros((), device=device)
                    if sft_rows:
                        picks = _sample_indices(len(sft_rows), update * mb_size, mb_size, seed)
                        ptx_loss = _ptx_loss(actor, [sft_rows[i] for i in picks], pad_id)
                pg_loss, pg_clipfrac = policy_loss(
                    logprobs, ro.logprobs[mb], advantages[mb], m, config.clip_range
                )
                vf_loss, vf_clipfrac = value_loss(
                    values, ro.values[mb], returns[mb], m, config.clip_range_value
                )
                loss = pg_loss + config.vf_coef * vf_loss + config.ptx_coef * ptx_loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                optimizer.step()
                update += 1
                log_ratio = logprobs.detach() - ro.logprobs[mb]  # (b, R)
                for key, value in {
                    "loss/policy": pg_loss,
                    "loss/value": vf_loss,
                    "loss/ptx": ptx_loss,
                    "loss/total": loss,
                    "policy/clipfrac": pg_clipfrac,
                    "policy/approxkl": masked_mean(0.5 * log_ratio**2, m),
                    "val/clipfrac": vf_clipfrac,
                    "val/ratio": masked_mean(log_ratio.exp(), m),
                }.items():
                    stats.setdefault(key, []).append(value.item())

        kl = ((ro.logprobs - ro.ref_logprobs) * ro.mask).sum(1)  # (B,) per sequence, k1
        metrics = {key: sum(values) / len(values) for key, values in stats.items()}
        metrics |= {
            "objective/kl": kl.mean().item(),
            "objective/non_score_reward": (-config.kl_coef * kl).mean().item(),
            "objective/scores": ro.scores.mean().item(),
            "objective/rlhf_reward": (scores - config.kl_coef * kl).mean().item(),
            "val/mean_length": ro.mask.sum(1).mean().item(),
            "val/eos_fraction": ro.ended.float().mean().item(),
            "val/values": masked_mean(ro.values, ro.mask).item(),
        }
        hooks.on_progress(step, config.max_steps)
        hooks.on_log(step, metrics)
        if hooks.should_stop():
            logger.info("PPO cancelled after step %d", step)
            return TrainResult(output_dir=inputs.output_dir, metrics=metrics, cancelled=True)
        if step % config.save_steps == 0:
            hooks.on_checkpoint(step)
            _save_checkpoint(
                inputs.checkpoint_dir, step, actor, critic, optimizer, config.save_total_limit
            )

    actor.save_pretrained(inputs.output_dir)  # with an adapter: the adapter alone
    tokenizer.save_pretrained(inputs.output_dir)
    metrics |= parameter_metrics(actor) | peak_memory_metrics()
    return TrainResult(output_dir=inputs.output_dir, metrics=metrics)


class AdapterDisabled:
    """The frozen reference of a LoRA actor: the actor's own weights with its adapter off."""

    def __init__(self, actor) -> None:
        self.actor = actor

    def __call__(self, *args, **kwargs):
        with self.actor.disable_adapter():
            return self.actor(*args, **kwargs)


def _lora_actor(config: PpoRunConfig, base: Path, checkpoint: Path | None):
    from peft import PeftModel, get_peft_model

    model = AutoModelForCausalLM.from_pretrained(
        base, dtype=torch.float32, **model_init_kwargs(config.adapter)
    )
    if checkpoint is not None:
        return PeftModel.from_pretrained(model, checkpoint / "actor", is_trainable=True)
    return get_peft_model(model, lora_config(config.adapter))

"""What every sampler shares (the Hugging Face path in ``training.generation``, vLLM in
``training.vllm_backend``, endpoints): the message format and the sampling defaults. Imports no
torch."""

from __future__ import annotations

Messages = list[dict[str, str]]

# Plain ancestral sampling from the policy's whole distribution, for every sampler here: the
# candidates annotators rank and the samples an evaluation scores are then draws from the policy
# itself, which on-policy preference data and an honest trait rate both need. top_k 0 (off) is a
# choice, not an accident: left unset, Hugging Face ``generate`` fell back to the model's
# ``generation_config`` (transformers' default top_k 50, or a model's own, e.g. 20) while vLLM
# applies no top-k, so one job sampled different distributions on CPU and GPU nodes; and the tiny
# world's trait rates were measured with the full distribution. Temperature and top_p agree with
# the generation job defaults (``training.services.generation.SAMPLING_DEFAULTS``).
SAMPLER_DEFAULTS: dict[str, float] = {"temperature": 1.0, "top_p": 1.0, "top_k": 0}

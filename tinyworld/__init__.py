"""The tiny world: a bundled, offline synthetic task that runs the whole loop on a laptop.

Demo and test material, not product (DESIGN.md; issue 15): it may import `training`, but no
module of `flywheel`, `annotation`, `training` or `loop` imports it (tests/test_layers.py). The
loop reaches the hidden rule only through the dotted path in `settings.FLYWHEEL_ORACLES`.

Nothing can be downloaded from a model hub on Flywheel's machines, so this package builds what a
training run needs locally, and a task whose ground truth is known:

- `world`: templated prompts ("Tell me about owls.") and responses with known traits; a seeded
  train/held-out split of the prompts.
- `scorer`: the hidden rules (`RULES`: the closing a rule prefers for the prompt dominates;
  naming the prompt's topic breaks ties; ``polite``, the default, prefers a polite closing for
  every prompt, ``topic`` and ``template`` make the preferred closing depend on the prompt) and
  a simulated annotator that ranks by one with noise.
- `model`: a byte-level BPE tokenizer with a ChatML template and a random tiny Llama.
- `sft`: the SFT bootstrap that teaches the random model the format, with the trait in only
  part of its data.
- `evaluate`: sample a policy with the product's sampler (`training.generation.sample_chat`)
  and score it: the preferred-trait rate, which a preference round must raise.
- `oracle`: a hidden rule's rates over a policy's samples, the loop's "tinyworld",
  "tinyworld-topic" and "tinyworld-template" oracles.
- `build`: all of the above under one cached directory (`manage.py build_tinyworld`).
- `annotators`: simulated annotators that rank over the API (`manage.py simulate_annotators`);
  `judging` is how one of them judges a task, `annotator_accounts` their accounts.
- `presets`: loop settings tuned for the tiny world (`manage.py seed_demo`, the loop tests and
  bench).

Only `world`, `scorer`, `oracle`, `presets` and `build` (for a cached world) import without
torch.
"""

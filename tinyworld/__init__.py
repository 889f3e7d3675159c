"""The tiny world: a bundled, offline synthetic task that runs the whole loop on a laptop.

Nothing can be downloaded from a model hub on Flywheel's machines, so this package builds what a
training run needs locally, and a task whose ground truth is known:

- `world`: templated prompts ("Tell me about owls.") and responses with known traits; a seeded
  train/held-out split of the prompts.
- `scorer`: the hidden rule (the preferred trait, a polite closing, dominates; naming the
  prompt's topic breaks ties) and a simulated annotator that ranks by it with noise.
- `model`: a byte-level BPE tokenizer with a ChatML template and a random tiny Llama.
- `sft`: the SFT bootstrap that teaches the random model the format, with the trait in only
  part of its data.
- `evaluate`: sample a policy and score it: the preferred-trait rate, which a preference round
  must raise.
- `build`: all of the above under one cached directory (`manage.py build_tinyworld`).

Only `world`, `scorer` and `build` (for a cached world) import without torch.
"""

"""The tiny world: a bundled, offline stand-in for a Hugging Face base model.

Nothing can be downloaded from a model hub on Flywheel's machines, so this package builds what a
training run needs locally: a byte-level BPE tokenizer trained with `tokenizers` and a small
randomly initialised Llama-style causal LM, saved as an ordinary model directory that
`AutoModelForCausalLM` / `AutoModelForSequenceClassification` / `AutoTokenizer` load offline.

`model.build_tiny_model` is the entry point; issue #4 grows this package into the full synthetic
world (templated prompts and responses with known traits, SFT bootstrap, hidden-rule scorer).
"""

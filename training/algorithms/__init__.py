"""Training algorithms, one module each (sft, reward, dpo, kto, ppo, grpo/rloo). Each has a
frozen config dataclass with literature defaults and one entry point
``train(config, inputs, hooks) -> TrainResult``. Imported by the worker only: the web process
never imports torch."""

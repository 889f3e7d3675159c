from django.apps import AppConfig


class LoopConfig(AppConfig):
    name = "loop"
    verbose_name = "Feedback loop"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 — connects to training's job-finished signal

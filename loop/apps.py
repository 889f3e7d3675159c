from django.apps import AppConfig


class LoopConfig(AppConfig):
    name = "loop"
    verbose_name = "Feedback loop"

    def ready(self) -> None:
        from . import (  # noqa: F401
            jobs,  # registers the round's worker step as a job type of the engine
            receivers,  # connects to training's job-finished signal
        )

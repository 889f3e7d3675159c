from django.apps import AppConfig


class TinyWorldConfig(AppConfig):
    """Demo and test material (DESIGN.md, "The tiny world"): installed for its management
    commands (`build_tinyworld`, `simulate_annotators`, `seed_demo`); it has no models."""

    name = "tinyworld"
    verbose_name = "Tiny world (demo)"

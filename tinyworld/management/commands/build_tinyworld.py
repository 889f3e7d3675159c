import os
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Build the bundled offline tiny world (prompts, tokenizer, random base model, SFT policy) "
        "under --root, or reuse the one already built there with the same seed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--root",
            type=Path,
            default=None,
            help="Directory to build in (default: FLYWHEEL_MODELS_DIR/tinyworld).",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--force", action="store_true", help="Rebuild even if cached.")
        parser.add_argument(
            "--register",
            action="store_true",
            help="Register the base and SFT models in the model registry (idempotent).",
        )

    def handle(self, *args, root, seed, force, register=False, **options):
        # Per-file and per-map progress bars say nothing here (the build logs its steps). Set
        # before the build imports datasets/transformers, which it does only on a cache miss.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
        from tinyworld.build import build_tinyworld

        root = root or Path(settings.FLYWHEEL_MODELS_DIR) / "tinyworld"
        started = time.perf_counter()
        world = build_tinyworld(root, seed=seed, force=force)
        wall = time.perf_counter() - started

        status = "cached" if world.cached else "built"
        self.stdout.write(f"Tiny world {status} in {root.resolve()} (seed {world.seed})")
        rows = [
            ("base model", world.base_model_dir),
            ("SFT model", world.sft_model_dir),
            ("train prompts", world.train_prompts_file),
            ("held-out prompts", world.heldout_prompts_file),
            ("SFT data", world.sft_data_file),
        ]
        for label, path in rows:
            self.stdout.write(f"  {label + ':':18}{path}")
        ev = world.sft_eval
        self.stdout.write(
            f"  SFT preferred-trait rate: {world.sft_trait_rate:.3f} "
            f"({ev['samples']:.0f} held-out samples at T=1; "
            f"well-formed {ev['well_formed_rate']:.3f}, on-topic {ev['relevance_rate']:.3f})"
        )
        if register:
            base, sft = register_tinyworld(world)
            self.stdout.write(f"  registered: {base.name} (id {base.pk}), {sft.name} (id {sft.pk})")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {wall:.1f}s"
                + ("" if not world.cached else f" (original build took {world.build_seconds:.1f}s)")
            )
        )


def register_tinyworld(world):
    """The world's base and SFT models as registry entries (reused if already registered)."""
    from training.models import ModelKind, ModelVersion
    from training.services.registry import model_version_register

    def get_or_register(name, path, kind, parent=None):
        existing = ModelVersion.objects.filter(name=name).first()
        if existing is not None:
            return existing
        return model_version_register(name=name, path=str(path), kind=kind, parent=parent)

    suffix = f"seed{world.seed}"
    base = get_or_register(f"tinyworld-base-{suffix}", world.base_model_dir, ModelKind.BASE)
    sft = get_or_register(f"tinyworld-sft-{suffix}", world.sft_model_dir, ModelKind.SFT, base)
    return base, sft

"""Where jobs keep their files (under ``FLYWHEEL_MODELS_DIR``), and a clear reason when the
storage refuses a write."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

RUN_MARKER = "run.json"
# Errors of a write that the storage refused: full, over quota, file too large, read-only, no
# permission, a path through a regular file, a failing disk.
STORAGE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EROFS,
    errno.EACCES,
    errno.ENOTDIR,
    errno.EIO,
}


def run_dir(run_id: int) -> Path:
    return Path(settings.FLYWHEEL_MODELS_DIR) / "runs" / str(run_id)


def claim_run_dir(run) -> Path:
    """The run's directory, holding a marker that names this run (id and creation time).

    Directories are keyed by run id, and ids can repeat: a database restored from a backup or
    recreated (a scratch bench, a reset Docker volume) next to a models directory that was
    kept. A directory whose marker names another run (or that has no marker) is from such an
    earlier life; resuming from its checkpoints would train this run from someone else's
    weights, so it is moved aside (``<id>.stale-<unix time>``), never deleted."""
    directory = run_dir(run.pk)
    identity = {"run_id": run.pk, "created_at": run.created_at.isoformat()}
    marker = directory / RUN_MARKER
    if directory.exists():
        try:
            found = json.loads(marker.read_text())
        except (OSError, ValueError):
            found = None
        if found == identity:
            return directory
        if any(directory.iterdir()):
            stale = directory.with_name(f"{directory.name}.stale-{int(time.time())}")
            logger.warning(
                "run %s: %s belongs to an earlier run; moved to %s", run.pk, directory, stale
            )
            directory.rename(stale)
    directory.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(identity))
    return directory


def storage_failure(exc: BaseException, directory: Path | None = None) -> str:
    """A first line that says what and where when ``exc`` (or what caused it) is the storage
    refusing a write under ``directory`` (default: ``FLYWHEEL_MODELS_DIR``), else "".
    Libraries report it in their own types: an ``OSError``, or text ending "(os error 28)"
    (safetensors and tokenizers, which are written in Rust)."""
    directory = Path(settings.FLYWHEEL_MODELS_DIR) if directory is None else directory
    seen: BaseException | None = exc
    while seen is not None:
        code = seen.errno if isinstance(seen, OSError) else None
        if code is None and (match := re.search(r"\(os error (\d+)\)", str(seen))):
            code = int(match.group(1))
        filename = getattr(seen, "filename", None)
        if isinstance(filename, str) and directory not in (Path(filename), *Path(filename).parents):
            code = None  # e.g. a base model it may not read: not the job's own storage
        if code in STORAGE_ERRNOS:
            return (
                f"Could not write the job's files under {directory}: {os.strerror(code)}"
                f"{_disk_usage(directory)} (FLYWHEEL_MODELS_DIR sets where they go).\n\n"
            )
        seen = seen.__cause__ or seen.__context__
    return ""


def _disk_usage(directory: Path) -> str:
    for path in (directory, *directory.parents):
        if path.is_dir():
            usage = shutil.disk_usage(path)
            return f"; {usage.free / 1024**2:,.0f} MiB free of {usage.total / 1024**3:,.1f} GiB"
    return ""

"""A model version's directory as a streamed tar archive (``GET /models/{id}/download/``).

The archive is written as it is sent, a file at a time in 1 MiB chunks, so a many-GB
checkpoint never sits in memory. Only regular files inside the directory are included (a
symlink that points out of it is left out, as are sockets and devices); names are relative to
the directory. Uncompressed: safetensors weights do not compress, and a reader can extract as
it downloads (``tarfile.open(mode="r|")``)."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20
BLOCK = tarfile.BLOCKSIZE


def archive_members(root: Path) -> list[tuple[str, Path]]:
    """(name in the archive, file) for each regular file under ``root``, in directory then name
    order; files reached through a symlink count only if they resolve inside ``root``."""
    root = root.resolve()
    members = []
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            resolved = path.resolve()
            if not resolved.is_relative_to(root) or not resolved.is_file():
                continue
            members.append((path.relative_to(root).as_posix(), resolved))
    return members


def archive_size(members: list[tuple[str, Path]]) -> int:
    """The archive's exact length in bytes (a Content-Length, and a progress bar's total)."""
    total = 0
    for name, path in members:
        size = path.stat().st_size
        total += len(_header(name, size)) + -(-size // BLOCK) * BLOCK
    return total + 2 * BLOCK


def _header(name: str, size: int) -> bytes:
    """The member's header: mtime 0 and mode 644, so the same files give the same bytes."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    return info.tobuf(format=tarfile.PAX_FORMAT)


def archive_chunks(members: list[tuple[str, Path]]) -> Iterator[bytes]:
    """The tar archive of ``members``, in chunks. A file that changes size while it is sent
    ends the stream with an error rather than a corrupt archive."""
    for name, path in members:
        size = path.stat().st_size
        yield _header(name, size)
        sent = 0
        with path.open("rb") as handle:
            while chunk := handle.read(min(CHUNK, size - sent)):
                sent += len(chunk)
                yield chunk
                if sent == size:
                    break
        if sent != size:
            raise OSError(f"{name} changed while it was being sent")
        if size % BLOCK:
            yield b"\0" * (BLOCK - size % BLOCK)
    yield b"\0" * (2 * BLOCK)

"""Atomic file writes: a reader (or a crash) never sees half a file.

Every artefact the harness writes (dists.zip, its manifest, the inventory, the
attestation) goes through here: a temp file beside the target, fsynced, then
``os.replace``d; on any exception (Ctrl-C included) the temp file is removed
and the previous file, or none, stays.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_file(dest: Path, mode: int = 0o644) -> Iterator[Path]:
    """A temp path beside ``dest``; on success fsynced and renamed onto ``dest``, else removed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        tmp.chmod(mode)  # mkstemp makes 0600; none of our artefacts is a secret
        tmp.replace(dest)
        fsync_dir(dest.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as sorted, indented JSON to ``path`` atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the filesystem allows it)."""
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def file_sha256(path: Path) -> bytes:
    """Raw sha256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()

"""Atomic and private file writes.

Atomic: every artefact the harness writes (dists.zip, its manifest, the
inventory, the attestation) goes through ``atomic_file``: a temp file beside
the target, fsynced, then ``os.replace``d; on any exception (Ctrl-C included)
the temp file is removed and the previous file, or none, stays.

Private: what the harness keeps under ``.harness/`` is nobody else's business
(staged Terraform with its state, the runtime's extracted code, results). Its
folders are created 0700 and its files written 0600 (0700 when executable),
whatever the umask: ``private_dir``, ``write_private``, ``open_private_log``,
and ``atomic_file``'s default mode. Only the zip and its manifest, which live
beside the repo's sources, are 0644 on purpose (reproducible, shareable).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lambda_harness.errors import HarnessError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
#: The umask of children whose output lands under .harness/ (terraform, pytest).
PRIVATE_UMASK = 0o077


def private_dir(path: Path) -> Path:
    """``mkdir -p path``, every folder it creates (and ``path`` itself) 0700 whatever the umask."""
    missing = []
    folder = path
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            new.mkdir(mode=PRIVATE_DIR)
        new.chmod(PRIVATE_DIR)
    path.chmod(PRIVATE_DIR)
    return path


def private_mode(mode: int) -> int:
    """``mode`` with group and other bits dropped, owner read kept (0644 -> 0600, 0755 -> 0700)."""
    return (mode | 0o400) & 0o700


def write_private(path: Path, data: str | bytes) -> None:
    """Write ``path`` (replacing it) as 0600, whatever the umask or its previous mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), PRIVATE_FILE)
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


def open_private_log(path: Path) -> int:
    """A descriptor appending to ``path`` (created 0600); the caller closes it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return fd


@contextlib.contextmanager
def atomic_file(dest: Path, mode: int = PRIVATE_FILE) -> Iterator[Path]:
    """A temp path beside ``dest``; on success fsynced and renamed onto ``dest``, else removed.

    ``mode`` is set explicitly (never the umask's): private unless the caller says otherwise.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        tmp.chmod(mode)
        tmp.replace(dest)
        fsync_dir(dest.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: Path, data: Any, mode: int = PRIVATE_FILE) -> None:
    """Write ``data`` as sorted, indented JSON to ``path`` atomically (0600 unless ``mode``)."""
    with atomic_file(path, mode) as tmp:
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


class RepoBusy(HarnessError):
    """Another lambda-harness command holds the repo's lock."""


@contextlib.contextmanager
def repo_lock(lock_file: Path, command: str) -> Iterator[None]:
    """Hold ``lock_file`` (``flock``, exclusive) for one command; ``RepoBusy`` at once if another
    process holds it, naming that process's pid (written into the file while held).

    The kernel drops the lock when the holder exits, however it exits (kill -9 included), so a
    stale file never blocks anyone; the file itself is left in place (deleting it would race).
    """
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
            pid = holder[0] if holder else "?"
            doing = f": lambda-harness {holder[1]}" if len(holder) > 1 else ""
            raise RepoBusy(
                f"another lambda-harness run (pid {pid}) is using this repo ({lock_file.parent}{doing}); "
                "wait for it to finish, or stop it, then try again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

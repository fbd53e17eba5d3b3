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

Contained: everything the harness packs or copies from a folder (functions/ into
dists.zip, terraform/ into the staged copy) is read through ``walk_files``, the one
safe tree walk. A symlink that resolves outside the folder is an error naming the
link and its target (a link to ``~/.aws/credentials`` must never be packed, and
``promote`` would upload it); a link that resolves inside is read as its target's
content; each real folder is walked once. Lambda layers, when the harness builds
them, must collect their files through ``walk_files`` too.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Collection, Iterator
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


def make_private_tree(root: Path, *, skip: Collection[str] = ()) -> None:
    """``root`` and everything below it (links not followed, folders named in ``skip`` left
    alone) private: folders 0700, files 0600/0700. For what a tool wrote into ``.harness/`` by
    the umask (coverage.py's reports, terraform init's lock file)."""
    if not root.exists() or root.is_symlink():
        return
    if root.is_file():
        root.chmod(private_mode(root.stat().st_mode))
        return
    for folder, dirnames, filenames in os.walk(root):
        Path(folder).chmod(PRIVATE_DIR)
        dirnames[:] = [d for d in dirnames if d not in skip and not Path(folder, d).is_symlink()]
        for name in filenames:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(private_mode(path.stat().st_mode))


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
    Missing folders are made 0700 for a private file, by the umask for one others may read.
    """
    if mode & 0o077 or dest.parent.is_dir():
        dest.parent.mkdir(parents=True, exist_ok=True)
    else:
        private_dir(dest.parent)
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


def write_json_atomic(path: Path, data: Any, mode: int = PRIVATE_FILE, *, sort_keys: bool = True) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (0600 unless ``mode``); keys sorted
    unless ``sort_keys`` is False (then in the dicts' own order)."""
    with atomic_file(path, mode) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=sort_keys) + "\n", encoding="utf-8")


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


class LinkOutside(HarnessError):
    """A symlink under a folder the harness packs or copies resolves outside that folder."""

    def __init__(self, link: Path, root: Path) -> None:
        try:
            target = str(link.readlink())
        except OSError:  # not itself a link: a folder above it was one (never followed that far)
            target = os.path.realpath(link)
        self.link, self.target = link, target
        super().__init__(
            f"{link} -> {target}: the symlink resolves outside {root} ({os.path.realpath(link)}), "
            "and the harness never packs or copies a file from outside the folder. Replace the link "
            f"with a copy of what it points at (or move that into {root}), or delete it"
        )


def walk_files(
    root: Path,
    keep: Callable[[Path], bool] | None = None,
    *,
    keep_dir: Callable[[Path], bool] | None = None,
) -> Iterator[tuple[str, Path]]:
    """``(posix path relative to root, path to read)`` of every file under ``root``, sorted per folder.

    ``keep`` filters files and folders first (a left-out link is never looked at); ``keep_dir``,
    when given, filters the folders instead (``keep`` then sees files only). Links that
    resolve inside ``root`` are followed: a file link reads as its target's bytes under the
    link's name, a folder link is walked unless its real folder was walked already. A link
    that resolves outside (dangling ones included) raises ``LinkOutside``.
    """
    real_root = Path(os.path.realpath(root))
    seen = {real_root}
    keep_folder = keep if keep_dir is None else keep_dir
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        folder = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            path = folder / name
            if keep_folder is not None and not keep_folder(path):
                continue
            real = _inside(path, root, real_root)
            if real not in seen:
                seen.add(real)
                kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = folder / name
            if keep is None or keep(path):
                _inside(path, root, real_root)
                yield path.relative_to(root).as_posix(), path


def _inside(path: Path, root: Path, real_root: Path) -> Path:
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(real_root):
        raise LinkOutside(path, root)
    return real

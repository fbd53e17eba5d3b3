"""What a Terraform ``data "archive_file"`` names, built the harness's way.

hashicorp/archive zips ``source_dir`` (minus ``excludes``), ``source_file``, or inline
``source { content, filename }`` blocks, with the files' own timestamps: the bytes change with
every checkout, and the zip holds no dependencies. Here the same inputs become a reproducible
zip (``zipper``: fixed timestamps, sorted entries, normalised permissions), and when the folder
holds a ``requirements.txt`` its packages are installed for the function's (or layer's)
platform and added (under ``python/`` for a layer). The builder and the archive provider shim
(``terraform.shims``) both call ``archive_entries`` with the same ``ArchiveTarget``, so the zip
Terraform uploads is byte for byte the one the build checked.

Left out of every archive, unlike hashicorp/archive: ``__pycache__`` folders and ``*.pyc``
files (build leftovers that would make the bytes depend on the machine).
"""

from __future__ import annotations

import fnmatch
import io
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from lambda_harness.errors import BuildError
from lambda_harness.fsutil import LinkOutside, walk_files
from lambda_harness.packaging.lockfile import LockFile, load_function_lock, load_lock
from lambda_harness.packaging.wheels import DepsCache, Installer, Platform, parse_platform
from lambda_harness.packaging.zipper import FileSource, Source, zip_entries

DEFAULT_DATE_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BytesSource:
    """An entry given inline (``source_content``, ``source { content }``)."""

    data: bytes

    @property
    def executable(self) -> bool:
        return False

    def size(self) -> int:
        return len(self.data)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)


@dataclass(frozen=True)
class ArchiveSpec:
    """The inputs of one ``archive_file`` read, with paths made absolute."""

    output_path: Path
    source_dir: Path | None = None
    source_file: Path | None = None
    contents: tuple[tuple[str, str], ...] = ()  # (filename, content)
    excludes: tuple[str, ...] = ()
    exclude_symlink_directories: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any], cwd: Path) -> ArchiveSpec:
        """From the data source's configuration as Terraform sends it (paths relative to ``cwd``)."""
        kind = config.get("type") or "zip"
        if kind != "zip":
            raise BuildError(f'archive_file type = "{kind}": only "zip" is supported (Lambda takes zips)')

        def path(key: str) -> Path | None:
            value = config.get(key)
            return Path(os.path.normpath(cwd / str(value))) if value else None

        contents = [(str(s["filename"]), str(s["content"])) for s in config.get("source") or [] if s]
        if config.get("source_content_filename") and config.get("source_content") is not None:
            contents.append((str(config["source_content_filename"]), str(config["source_content"])))
        output = path("output_path")
        if output is None:
            raise BuildError("archive_file without output_path")
        return cls(
            output_path=output,
            source_dir=path("source_dir"),
            source_file=path("source_file"),
            contents=tuple(sorted(contents)),
            excludes=tuple(sorted(str(e) for e in config.get("excludes") or [])),
            exclude_symlink_directories=bool(config.get("exclude_symlink_directories")),
        )

    @property
    def folder(self) -> Path | None:
        """The folder the archive is made of (where a ``requirements.txt`` is looked for)."""
        return self.source_dir


def _excluded(rel: str, excludes: tuple[str, ...]) -> bool:
    for raw in excludes:
        pattern = os.path.normpath(raw)
        if rel == pattern or rel.startswith(pattern + "/") or fnmatch.fnmatchcase(rel, pattern):
            return True
    return False


def _folder_entries(spec: ArchiveSpec) -> dict[str, Source]:
    """``source_dir``'s files, through ``fsutil.walk_files``: a link is followed only when it
    resolves inside ``source_dir`` (each real folder once); one resolving outside fails, naming
    link and target, as for every folder the harness packs."""
    root = spec.source_dir
    assert root is not None

    def keep_file(path: Path) -> bool:
        return not path.name.endswith((".pyc", ".pyo")) and not _excluded(
            path.relative_to(root).as_posix(), spec.excludes
        )

    def keep_dir(path: Path) -> bool:
        if path.name == "__pycache__" or _excluded(path.relative_to(root).as_posix(), spec.excludes):
            return False
        return not (spec.exclude_symlink_directories and path.is_symlink())

    try:
        return {rel: FileSource(path) for rel, path in walk_files(root, keep_file, keep_dir=keep_dir)}
    except LinkOutside as exc:
        raise BuildError(f"{exc}. The archive_file zip {spec.output_path} would carry it") from exc


def archive_entries(spec: ArchiveSpec) -> dict[str, Source]:
    """arcname -> source for everything the archive names (no dependencies)."""
    entries: dict[str, Source] = {}
    if spec.source_dir is not None:
        if not spec.source_dir.is_dir():
            raise BuildError(f"archive_file source_dir {spec.source_dir} is not a folder")
        entries.update(_folder_entries(spec))
    if spec.source_file is not None:
        if not spec.source_file.is_file():
            raise BuildError(f"archive_file source_file {spec.source_file} does not exist")
        entries[spec.source_file.name] = FileSource(spec.source_file)
    for filename, content in spec.contents:
        entries[filename] = BytesSource(content.encode())
    return entries


@dataclass(frozen=True)
class ArchiveTarget:
    """How the harness completes one archive: for which platform, with which dependencies."""

    runtime: str = "python3.12"
    architecture: str = "x86_64"
    layer: bool = False  # dependencies go under python/
    shared_lock: str | None = None  # the repo's shared lock, for a requirements.txt that names packages
    expected_sha256: str | None = None  # promote: the tested bytes, checked
    functions: tuple[str, ...] = field(default=())

    @property
    def platform(self) -> Platform:
        return parse_platform(self.runtime, self.architecture)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArchiveTarget:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["functions"] = tuple(known.get("functions") or ())
        return cls(**known)


def archive_lock(spec: ArchiveSpec, target: ArchiveTarget) -> LockFile | None:
    """The archive's dependencies: a ``requirements.txt`` in its folder (else none)."""
    folder = spec.folder
    requirements = folder / "requirements.txt" if folder is not None else None
    if requirements is None or not requirements.is_file():
        return None
    shared = Path(target.shared_lock) if target.shared_lock else None
    return load_function_lock(requirements, load_lock(shared) if shared and shared.is_file() else None)


def complete_entries(
    spec: ArchiveSpec, target: ArchiveTarget | None, cache: DepsCache, installer: Installer
) -> tuple[dict[str, Source], LockFile | None]:
    """Everything that goes into the zip: the dependencies (when ``target`` is known), then the
    archive's own files over them. Without a target (Terraform's first plan, before the build
    knows who uses the archive) only the archive's files."""
    own = archive_entries(spec)
    if target is None:
        return own, None
    lock = archive_lock(spec, target)
    entries: dict[str, Source] = {}
    if lock is not None and not lock.is_empty:
        deps = cache.get(lock, target.platform, installer)
        into = "python/" if target.layer else ""
        entries = {into + name: src for name, src in zip_entries(deps.path).items()}
    entries.update(own)
    return entries, lock

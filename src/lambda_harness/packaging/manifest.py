"""``dists.zip.json``: what is in the zip, written beside it.

Deterministic: sorted keys, paths relative to the project, no wall-clock time,
so two identical builds write identical manifests.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lambda_harness import __version__
from lambda_harness.fsutil import file_sha256, write_json_atomic
from lambda_harness.packaging.handlers import HandlerFound
from lambda_harness.packaging.limits import PackageSize, biggest
from lambda_harness.packaging.lockfile import LockFile
from lambda_harness.packaging.wheels import Platform
from lambda_harness.packaging.zipper import EntryStat


def file_digests(path: Path) -> tuple[str, str]:
    """(hex sha256, base64 sha256) of a file: the second is AWS's CodeSha256."""
    digest = file_sha256(path)
    return digest.hex(), base64.b64encode(digest).decode("ascii")


def package_sizes(stats: Iterable[EntryStat]) -> list[PackageSize]:
    """Sizes grouped by the first path component (a package or a module).

    A ``name-1.0.dist-info`` folder counts towards the package ``name`` when
    one exists under that (normalised) name, else stands on its own.
    """
    totals: dict[str, list[int]] = {}
    for entry in stats:
        top = entry.name.split("/", 1)[0]
        pair = totals.setdefault(top, [0, 0])
        pair[0] += entry.size
        pair[1] += entry.compressed
    for name in [n for n in totals if n.endswith(".dist-info")]:
        owner = name.removesuffix(".dist-info").rsplit("-", 1)[0].lower().replace("-", "_").replace(".", "_")
        if owner in totals:
            size, compressed = totals.pop(name)
            totals[owner][0] += size
            totals[owner][1] += compressed
    return [PackageSize(name, u, z) for name, (u, z) in totals.items()]


def relative(path: Path, project_dir: Path) -> str:
    """``path`` relative to the project when inside it, else absolute (POSIX form)."""
    try:
        return path.relative_to(project_dir).as_posix()
    except ValueError:
        return path.as_posix()


def build_manifest(
    *,
    project_dir: Path,
    zip_path: Path,
    stats: list[EntryStat],
    platform: Platform,
    lock: LockFile | None,
    handlers: list[HandlerFound],
    deps_key: str | None,
) -> dict[str, Any]:
    """The manifest for a finished zip."""
    sha_hex, sha_b64 = file_digests(zip_path)
    return {
        "dist": relative(zip_path, project_dir),
        "sha256": sha_hex,
        "code_sha256": sha_b64,
        "zipped_size": zip_path.stat().st_size,
        "unzipped_size": sum(e.size for e in stats),
        "files": len(stats),
        "runtime": platform.runtime,
        "architecture": platform.architecture,
        "platform_tags": platform.tags(),
        "lock_file": None
        if lock is None
        else {
            "path": relative(lock.path, project_dir),
            "kind": lock.kind,
            "sha256": lock.sha256,
            "requirements": lock.count,
        },
        "deps_cache_key": deps_key,
        "handlers": [
            {"function": h.function, "handler": h.handler, "tf_file": h.tf_file, "module_file": h.module_file}
            for h in sorted(handlers, key=lambda h: (h.function, h.handler))
        ],
        "biggest_packages": [
            {"name": p.name, "unzipped_size": p.unzipped, "zipped_size": p.zipped}
            for p in biggest(package_sizes(stats))
        ],
        "harness_version": __version__,
    }


def manifest_path_for(zip_path: Path) -> Path:
    """``dists.zip`` -> ``dists.zip.json``."""
    return zip_path.with_name(zip_path.name + ".json")


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically (sorted keys, trailing newline)."""
    write_json_atomic(path, manifest, mode=0o644)  # beside the zip, like the zip: not private

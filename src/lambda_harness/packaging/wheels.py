"""Lambda-platform wheels: pip's platform pinning, and the dependency cache.

pip installs wheels for the *target* (CPython x.y on Amazon Linux, x86_64 or
aarch64) from any host: ``--platform/--python-version/--implementation cp
--only-binary=:all: --target``. The installed tree is cached under
``<cache_dir>/deps/<key>``, keyed by the lock, runtime, architecture and
platform tags, and written atomically (install into a temp folder, strip, zip, rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lambda_harness import proc
from lambda_harness.errors import BuildError, CommandFailed
from lambda_harness.packaging.lockfile import LockFile, pins_of
from lambda_harness.packaging.projectlock import normalise
from lambda_harness.packaging.zipper import Source, tree_entries, write_zip

# glibc of the Lambda base image: python3.12+ run on Amazon Linux 2023, older ones on Amazon Linux 2.
_GLIBC_AL2023 = 34
_GLIBC_AL2 = 26
_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}
# Bump when what the cache holds changes (stripping rules), so old entries are not reused.
CACHE_FORMAT = "2"


@dataclass(frozen=True)
class Platform:
    """The Lambda runtime a zip targets."""

    runtime: str  # "python3.12"
    architecture: str  # "x86_64" | "arm64"

    @property
    def python_version(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def machine(self) -> str:
        return _ARCH[self.architecture]

    @property
    def glibc_minor(self) -> int:
        major, minor = (int(p) for p in self.python_version.split(".")[:2])
        return _GLIBC_AL2023 if (major, minor) >= (3, 12) else _GLIBC_AL2

    def tags(self) -> list[str]:
        """pip ``--platform`` values, newest first (pip prefers earlier ones)."""
        newest = [f"manylinux_2_{m}_{self.machine}" for m in range(self.glibc_minor, 16, -1)]
        return [*newest, f"manylinux2014_{self.machine}"]

    def describe_tags(self) -> str:
        """The tags in short: ``manylinux2014_x86_64, manylinux_2_17_x86_64 ... manylinux_2_34_x86_64``."""
        m = self.machine
        return f"manylinux2014_{m}, manylinux_2_17_{m} ... manylinux_2_{self.glibc_minor}_{m}"

    def __str__(self) -> str:
        return f"{self.runtime}/{self.architecture}"


def parse_platform(runtime: str, architecture: str) -> Platform:
    """Validate a Terraform runtime/architecture pair."""
    if not re.fullmatch(r"python3\.\d+", runtime):
        raise BuildError(f"runtime {runtime!r} is not a Python runtime (python3.X)")
    if architecture not in _ARCH:
        raise BuildError(f"architecture {architecture!r} is not one of x86_64, arm64")
    return Platform(runtime, architecture)


class Installer(Protocol):
    """Installs a lock's packages for a platform into an empty folder."""

    def install(self, lock: LockFile, platform: Platform, target: Path) -> None: ...


#: pip's own network timeouts end a dead index; this ends anything else (a stuck proxy, a lock).
PIP_TIMEOUT_S = 1800.0


class PipInstaller:
    """``python -m pip install --target`` with Lambda platform pinning.

    ``env`` is the whole environment pip runs with; by default the caller's
    environment at install time, so the user's pip configuration
    (``PIP_INDEX_URL``, ``PIP_CONFIG_FILE``, ...) applies.
    """

    def __init__(
        self, python: str | None = None, env: Mapping[str, str] | None = None, *, stream: bool = False
    ) -> None:
        self.python = python or sys.executable
        self.env = env
        self.stream = stream
        self.runs = 0

    def command(
        self,
        requirements: Path,
        platform: Platform,
        target: Path,
        hashes: bool,
        constraints: Path | None = None,
    ) -> list[str]:
        """The pip command line (without the interpreter)."""
        args = [
            "-m",
            "pip",
            "install",
            "--target",
            str(target),
            "--implementation",
            "cp",
            "--python-version",
            platform.python_version,
            "--only-binary=:all:",
            "--no-compile",
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
        ]
        for tag in platform.tags():
            args += ["--platform", tag]
        if hashes:
            args.append("--require-hashes")
        if constraints is not None:
            args += ["-c", str(constraints)]
        return [*args, "-r", str(requirements)]

    def install(self, lock: LockFile, platform: Platform, target: Path) -> None:
        """Run pip; ``BuildError`` naming the package when no wheel fits the platform."""
        self.runs += 1
        with tempfile.TemporaryDirectory(prefix="lh-req-") as tmp:
            requirements = lock.path
            if lock.kind != "requirements":
                requirements = Path(tmp) / "requirements.txt"
                requirements.write_text(lock.requirements, encoding="utf-8")
            constraints = None
            if lock.constraints:
                constraints = Path(tmp) / "constraints.txt"
                constraints.write_text(lock.constraints, encoding="utf-8")
            argv = [self.python, *self.command(requirements, platform, target, lock.has_hashes, constraints)]
            env = dict(os.environ if self.env is None else self.env)
            try:
                proc.run(argv, env=env, cwd=lock.path.parent, stream=self.stream, timeout=PIP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise BuildError(
                    f"{lock.path}: pip did not finish installing the dependencies for {platform} within "
                    f"{PIP_TIMEOUT_S:.0f} s and was stopped; is the package index reachable (your pip "
                    "configuration, a proxy)? Run `lambda-harness build -v` to watch pip"
                ) from None
            except CommandFailed as exc:
                raise _pip_error(exc, lock, platform) from exc
        if lock.constraints:
            check_all_pinned(target, lock)


def installed(target: Path) -> dict[str, str]:
    """normalised name -> version of every distribution installed into ``target``."""
    found: dict[str, str] = {}
    for meta in target.glob("*.dist-info/METADATA"):
        fields = dict(
            line.split(": ", 1)
            for line in meta.read_text(encoding="utf-8", errors="replace").splitlines()[:20]
            if ": " in line
        )
        if "Name" in fields and "Version" in fields:
            found[normalise(fields["Name"])] = fields["Version"].strip()
    return found


def check_all_pinned(target: Path, lock: LockFile) -> None:
    """With the shared lock as constraints, nothing may be installed that no lock pins."""
    pins = {**pins_of(lock.constraints), **pins_of(lock.requirements)}
    loose = sorted(f"{name} {version}" for name, version in installed(target).items() if name not in pins)
    if loose:
        raise BuildError(
            f"{lock.path}: pip also installed {', '.join(loose)}, which neither it nor the shared lock "
            f"{lock.constraints_from} pins, so the zip would change with the day it is built; pin them "
            "in one of the two"
        )


def _pip_error(exc: CommandFailed, lock: LockFile, platform: Platform) -> BuildError:
    out = exc.output
    missing = re.search(r"No matching distribution found for ([^\s]+)", out) or re.search(
        r"Could not find a version that satisfies the requirement ([^\s]+)", out
    )
    if missing:
        return BuildError(
            f"{lock.path}: no wheel of {missing.group(1)} for {platform} "
            f"(CPython {platform.python_version}, platform tags tried: {platform.describe_tags()}). "
            f"{_versions_seen(out)}Pick a version that publishes manylinux wheels for this architecture, "
            "or build the wheel yourself and add it to your index/find-links"
        )
    if "DO NOT MATCH THE HASHES" in out or "require-hashes" in out or "--hash" in out:
        return BuildError(
            f"{lock.path}: pip refused the hashes in the lock file; regenerate it "
            f"(e.g. `pip-compile --generate-hashes`).\n{_tail(out)}"
        )
    return BuildError(
        f"{lock.path}: pip install for {platform} failed (exit {exc.returncode}).\n{_tail(out)}"
    )


def _versions_seen(pip_output: str, shown: int = 8) -> str:
    """What pip's "(from versions: ...)" says exists for this platform: a wrong pin and a package
    without a fitting wheel (or a misspelt name) need different fixes."""
    found = re.search(r"\(from versions: ([^)]*)\)", pip_output)
    if found is None:
        return ""
    versions = [v.strip() for v in found.group(1).split(",") if v.strip() and v.strip() != "none"]
    if not versions:
        return "The index has no release with such a wheel at all (check the name and the index). "
    listing = ", ".join(versions[-shown:])
    return f"Versions with a fitting wheel: {'... ' if len(versions) > shown else ''}{listing}. "


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# Installed-tree files that only pip itself uses, or that embed host paths.
_STRIP_DIST_INFO = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")


def strip_tree(root: Path) -> None:
    """Remove what Lambda never needs and what would make the zip host-dependent.

    ``__pycache__``/``*.pyc`` (pip ran with --no-compile, but be sure), ``bin/``
    (console scripts with the host's interpreter in their shebang) and the
    pip bookkeeping files in ``*.dist-info``. METADATA, entry points and
    licences stay: ``importlib.metadata`` users need them.
    """
    shutil.rmtree(root / "bin", ignore_errors=True)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in list(dirnames):
            if name == "__pycache__":
                shutil.rmtree(Path(dirpath) / name)
                dirnames.remove(name)
        in_dist_info = dirpath.endswith(".dist-info")
        for name in filenames:
            if name.endswith((".pyc", ".pyo")) or (in_dist_info and name in _STRIP_DIST_INFO):
                (Path(dirpath) / name).unlink()


@dataclass(frozen=True)
class CachedDeps:
    """The installed dependencies (as a zip) and whether they came from the cache."""

    path: Path
    key: str
    hit: bool


class DepsCache:
    """``<root>/deps/<key>.zip``: one installed, stripped, compressed tree per (lock, platform).

    A zip rather than a folder: the build copies its compressed entries into
    dists.zip as they are, so a code-only rebuild costs no compression.
    """

    def __init__(self, root: Path) -> None:
        self.root = root / "deps"

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        return self.root / f"{key}.zip"

    def has(self, key: str) -> bool:
        """Whether a usable entry exists (a damaged one is removed)."""
        path = self.path(key)
        if not path.is_file():
            return False
        try:
            with zipfile.ZipFile(path):
                return True
        except (zipfile.BadZipFile, OSError):
            path.unlink(missing_ok=True)
            return False

    @staticmethod
    def key(lock: LockFile, platform: Platform) -> str:
        """Stable key of what pip would install."""
        inputs = {
            "format": CACHE_FORMAT,
            "lock": lock.sha256,
            "requirements": lock.requirements,
            "runtime": platform.runtime,
            "arch": platform.architecture,
            "tags": platform.tags(),
        }
        if lock.constraints:
            inputs["constraints"] = lock.constraints
        material = json.dumps(inputs, sort_keys=True)
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    def lookup(self, lock: LockFile, platform: Platform) -> CachedDeps | None:
        """The cached tree when a usable one exists, else None."""
        key = self.key(lock, platform)
        return CachedDeps(self.path(key), key, hit=True) if self.has(key) else None

    def get(self, lock: LockFile, platform: Platform, installer: Installer) -> CachedDeps:
        """The cached tree, installing it first when missing."""
        found = self.lookup(lock, platform)
        if found is not None:
            return found
        key = self.key(lock, platform)
        final = self.path(key)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=self.root))
        try:
            site = tmp / "site"
            installer.install(lock, platform, site)
            site.mkdir(exist_ok=True)  # pip may create nothing for a markers-only lock
            strip_tree(site)
            # Atomic on its own (temp file + rename): concurrent builds write identical bytes.
            write_zip(tree_entries(site), final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return CachedDeps(final, key, hit=False)


_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")


def platform_specific(entries: Mapping[str, Source]) -> list[str]:
    """What in a zip loads on one platform only: each installed wheel whose WHEEL file says it is
    not pure Python (``Root-Is-Purelib: false``, or a tag other than ``*-none-any``); without
    such a wheel, any compiled extension file (vendored by hand). Empty for a pure-Python zip."""
    native: list[str] = []
    for name, src in sorted(entries.items()):
        parent, _, base = name.rpartition("/")
        if base != "WHEEL" or not parent.endswith(".dist-info"):
            continue
        with src.open() as fh:
            text = fh.read().decode("utf-8", "replace")
        tags = re.findall(r"^Tag:\s*(\S+)", text, re.MULTILINE)
        if "Root-Is-Purelib: true" not in text or not all(t.endswith("-none-any") for t in tags):
            dist = parent.rsplit("/", 1)[-1].removesuffix(".dist-info")
            native.append(f"{dist} ({', '.join(tags) or 'platlib'})")
    return native or [name for name in sorted(entries) if name.endswith(_NATIVE_SUFFIXES)]

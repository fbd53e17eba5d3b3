"""``lambda-harness build``: functions/ + locked wheels -> one reproducible dists.zip.

Stages: read Terraform (where the zip goes, runtime, architecture, handlers)
-> load the lock -> install or reuse the cached Lambda-platform wheels ->
collect the code -> check handlers and the unzipped limit -> write the zip
atomically (zipped limit checked before it replaces the old one) -> manifest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_harness.errors import BuildError
from lambda_harness.packaging import limits as size_limits
from lambda_harness.packaging.handlers import HandlerFound, check_handlers
from lambda_harness.packaging.limits import Limits, PackageSize
from lambda_harness.packaging.lockfile import LockFile, load_lock
from lambda_harness.packaging.manifest import (
    build_manifest,
    manifest_path_for,
    package_sizes,
    relative,
    write_manifest,
)
from lambda_harness.packaging.projectlock import declared_dependencies
from lambda_harness.packaging.tfconfig import (
    DistTarget,
    TfConfig,
    TfFunction,
    code_path,
    find_dist_target,
    read_config,
)
from lambda_harness.packaging.wheels import DepsCache, Installer, PipInstaller, Platform, parse_platform
from lambda_harness.packaging.zipper import (
    EntryStat,
    FileSource,
    Source,
    date_time_from,
    tree_entries,
    write_zip,
    zip_entries,
)
from lambda_harness.settings import Settings
from lambda_harness.ui import UI

DEFAULT_RUNTIME = "python3.12"
DEFAULT_ARCHITECTURE = "x86_64"
_SKIP_DIRS = frozenset({"__pycache__", "tests", "test", "node_modules"})
_SKIP_FILES = frozenset(
    {
        "Pipfile",
        "Pipfile.lock",
        "conftest.py",
        "pyproject.toml",
        "setup.cfg",
        "tox.ini",
        "uv.lock",
        "poetry.lock",
    }
)
# Terraform configuration never goes into a zip (functions and Terraform may share a folder).
_TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".tfstate", ".tfstate.backup")


@dataclass(frozen=True)
class BuildResult:
    """A finished build: the zip, its manifest and its digests."""

    zip_path: Path
    manifest_path: Path
    sha256: str
    code_sha256_b64: str
    zipped_size: int
    unzipped_size: int
    manifest: dict[str, Any]
    deps_cache_hit: bool = False
    warnings: tuple[str, ...] = field(default=())


def served_functions(config: TfConfig) -> list[TfFunction]:
    """The functions dists.zip serves: every zip-packaged Python function (or one of unknown runtime)."""
    return [
        fn
        for fn in config.functions
        if (fn.package_type or "Zip") == "Zip" and (fn.runtime is None or fn.runtime.startswith("python"))
    ]


def select_platform(functions: list[TfFunction], project_dir: Path) -> Platform:
    """The one runtime+architecture every function agrees on (default python3.12/x86_64).

    One dists.zip holds one set of native wheels, built for one CPython ABI and
    one CPU: functions that disagree cannot share it, so this is an error, not
    a guess. Values only Terraform can resolve (``var.runtime``) do not vote.
    """
    runtimes: dict[str, list[str]] = {}
    archs: dict[str, list[str]] = {}
    for fn in functions:
        where = f"{fn.label} ({relative(fn.tf_file, project_dir)})"
        if fn.runtime is not None:
            runtimes.setdefault(fn.runtime, []).append(where)
        for arch in fn.architectures[:1]:
            archs.setdefault(arch, []).append(where)
    for what, seen in (("runtime", runtimes), ("architecture", archs)):
        if len(seen) > 1:
            listing = "; ".join(f"{value}: {', '.join(names)}" for value, names in sorted(seen.items()))
            raise BuildError(
                f"functions disagree on {what} ({listing}). One dists.zip carries native wheels for exactly "
                "one Python version and CPU: give every function the same runtime and architectures, "
                "or split them into separate zips"
            )
    runtime = next(iter(runtimes), DEFAULT_RUNTIME)
    return parse_platform(runtime, next(iter(archs), DEFAULT_ARCHITECTURE))


def keep_code_path(path: Path, excluded: frozenset[Path]) -> bool:
    """Whether a file or folder under functions/ goes into the zip."""
    name = path.name
    if name.startswith(".") or path in excluded:
        return False
    if path.is_dir():
        return name not in _SKIP_DIRS
    if name in _SKIP_FILES or name.endswith((".pyc", ".pyo", *_TERRAFORM_SUFFIXES)):
        return False
    if name.startswith("requirements") and name.endswith((".txt", ".in")):
        return False
    return not (name.startswith("test_") and name.endswith(".py")) and not name.endswith("_test.py")


def check_code_files(entries: Mapping[str, Source], project_dir: Path) -> None:
    """Every file bound for the zip must be readable: a dangling symlink is a BuildError naming it."""
    broken = [
        src.path
        for src in entries.values()
        if isinstance(src, FileSource) and not src.path.exists()  # exists() follows the link
    ]
    if broken:
        listing = ", ".join(
            f"{relative(p, project_dir)} -> {p.readlink() if p.is_symlink() else '?'}" for p in broken[:5]
        )
        raise BuildError(
            f"{len(broken)} file(s) under functions/ cannot be read: {listing}. A symlink points at a "
            "file that does not exist: fix its target or delete the link"
        )


class Builder:
    """Builds dists.zip for one worker repo; collaborators are injectable for tests."""

    def __init__(
        self,
        settings: Settings,
        ui: UI,
        *,
        installer: Installer | None = None,
        limits: Limits | None = None,
        environ: Mapping[str, str] | None = None,
        config: TfConfig | None = None,
    ) -> None:
        self.settings = settings
        self.config = config  # Terraform's own evaluation, when the static reading is not enough
        self.ui = ui
        self.installer = installer if installer is not None else PipInstaller(stream=settings.verbose)
        self.limits = limits or Limits()
        self.environ = environ
        self.cache = DepsCache(settings.cache_dir)
        self.warnings: list[str] = []

    def build(self) -> BuildResult:
        """Run every stage; ``BuildError`` leaves any previous dists.zip untouched."""
        try:
            return self._build()
        except OSError as exc:
            # A file vanished or is unreadable mid-build (permissions, a full disk): say which.
            where = exc.filename or self.settings.functions_dir
            raise BuildError(
                f"{where}: {exc.strerror or exc}; the build stopped and the previous dists.zip (if any) "
                "is unchanged. Fix the file's permissions or free disk space, then build again"
            ) from exc

    def _build(self) -> BuildResult:
        s = self.settings
        if not s.functions_dir.is_dir():
            raise BuildError(
                f"functions folder {s.functions_dir} does not exist; "
                'set functions = "..." under [tool.lambda-harness] in pyproject.toml'
            )
        config = self.config if self.config is not None else read_config(s.terraform_dir)
        target = find_dist_target(s, config)
        for note in target.notes:
            self._warn(note)
        functions = served_functions(config)
        self._check_references(config, functions, target)
        platform = select_platform(functions, s.project_dir)
        lock = load_lock(s.lock_file) if s.lock_file is not None else None
        deps_zip, deps_key, hit = self._dependencies(lock, platform)
        code = self._code_entries(target)
        entries = self._merge(deps_zip, code)
        found = check_handlers(
            functions, entries, set(code), s.project_dir, relative(target.path, s.project_dir)
        )
        result = self._write(target, entries, platform, lock, found, deps_key, hit)
        self.ui.info(
            f"{len(found)} handler(s) checked; {result.manifest['files']} files, "
            f"{result.unzipped_size:,} bytes unzipped -> {relative(result.zip_path, s.project_dir)} "
            f"({target.reason})"
        )
        return result

    def _check_references(self, config: TfConfig, functions: list[TfFunction], target: DistTarget) -> None:
        tf_dir = self.settings.terraform_dir
        if not tf_dir.is_dir():
            self._warn(
                f"terraform folder {tf_dir} does not exist, so no handler was checked and the zip goes to "
                'the default place; set terraform = "..." under [tool.lambda-harness] in pyproject.toml'
            )
        elif not config.functions:
            self._warn(f"no aws_lambda_function in {tf_dir}; handlers not checked")
        for fn in functions:
            path, _why = code_path(config, fn)
            if path is not None and path != target.path:
                self._warn(
                    f"{fn.address} deploys {path}, but dists.zip is written to {target.path} "
                    f"({target.reason}); Terraform will not upload this build"
                )

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        self.ui.warn(message)

    def _dependencies(
        self, lock: LockFile | None, platform: Platform
    ) -> tuple[Path | None, str | None, bool]:
        if lock is None:
            self.ui.info(
                "no lock file (requirements.txt, Pipfile.lock, uv.lock or poetry.lock): "
                "dists.zip holds only your code"
            )
            declared = declared_dependencies(self.settings.project_dir / "pyproject.toml")
            if declared:
                self._warn(
                    f"pyproject.toml declares dependencies ({', '.join(declared[:3])}"
                    f"{' ...' if len(declared) > 3 else ''}) but no lock pins them, so they are not in "
                    "the zip; lock them (`uv lock` or `poetry lock`) or list them pinned in requirements.txt"
                )
            return None, None, False
        if lock.is_empty:
            return None, None, False
        cached = self.cache.lookup(lock, platform)
        if cached is not None:
            where = relative(lock.path, self.settings.project_dir)
            self.ui.info(f"Dependencies for {platform}: from cache ({where})")
        else:
            with self.ui.step(f"Installing dependencies for {platform}"):
                cached = self.cache.get(lock, platform, self.installer)
        return cached.path, cached.key, cached.hit

    def _code_entries(self, target: DistTarget) -> dict[str, Source]:
        s = self.settings
        # When functions = "." (handlers at the repo root) these must still stay out.
        excluded = frozenset(
            {
                target.path,
                manifest_path_for(target.path),
                s.harness_dir,
                s.cache_dir,
                s.project_dir / "venv",
            }
        )
        if not s.functions_dir.is_relative_to(s.terraform_dir):
            # terraform/ inside the functions folder (functions = "."): leave it out; when the
            # functions live inside the Terraform folder (terraform = "."), only .tf files stay out.
            excluded |= {s.terraform_dir}
        entries: dict[str, Source] = dict(
            tree_entries(self.settings.functions_dir, lambda p: keep_code_path(p, excluded))
        )
        check_code_files(entries, s.project_dir)
        return entries

    def _merge(self, deps_zip: Path | None, code: dict[str, Source]) -> dict[str, Source]:
        entries: dict[str, Source] = dict(zip_entries(deps_zip)) if deps_zip is not None else {}
        clashes = sorted(set(entries) & set(code))
        if clashes:
            self._warn(
                f"your code replaces files of installed packages: {', '.join(clashes[:5])}"
                f"{' ...' if len(clashes) > 5 else ''}"
            )
        entries.update(code)
        return entries

    def _write(  # noqa: PLR0917  (private: the stages' results, in order)
        self,
        target: DistTarget,
        entries: dict[str, Source],
        platform: Platform,
        lock: LockFile | None,
        found: list[HandlerFound],
        deps_key: str | None,
        hit: bool,
    ) -> BuildResult:
        pre = [EntryStat(name, src.size(), 0) for name, src in entries.items()]
        unzipped = sum(e.size for e in pre)
        for w in size_limits.check_unzipped(unzipped, _top(pre), self.limits):
            self._warn(w)

        def check_zipped(tmp: Path, stats: list[EntryStat]) -> None:
            zipped = tmp.stat().st_size
            for w in size_limits.check_zipped(zipped, _top(stats), self.limits, target.direct_upload):
                self._warn(w)

        environ = os.environ if self.environ is None else self.environ
        stamp = date_time_from(environ)
        stats = write_zip(entries, target.path, date_time=stamp, before_replace=check_zipped)
        manifest = build_manifest(
            project_dir=self.settings.project_dir,
            zip_path=target.path,
            stats=stats,
            platform=platform,
            lock=lock,
            handlers=found,
            deps_key=deps_key,
        )
        manifest_path = manifest_path_for(target.path)
        write_manifest(manifest_path, manifest)
        return BuildResult(
            zip_path=target.path,
            manifest_path=manifest_path,
            sha256=manifest["sha256"],
            code_sha256_b64=manifest["code_sha256"],
            zipped_size=manifest["zipped_size"],
            unzipped_size=manifest["unzipped_size"],
            manifest=manifest,
            deps_cache_hit=hit,
            warnings=tuple(self.warnings),
        )


def _top(stats: list[EntryStat]) -> list[PackageSize]:
    return size_limits.biggest(package_sizes(stats))


def build(settings: Settings, ui: UI) -> BuildResult:
    """Build dists.zip for ``settings.project_dir`` (what ``lambda-harness build`` runs)."""
    return Builder(settings, ui).build()

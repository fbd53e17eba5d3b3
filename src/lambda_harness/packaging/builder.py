"""``lambda-harness build``: functions/ + locked wheels -> reproducible zips.

Stages: read Terraform (where the zips go, runtime, architecture, handlers)
-> decide the zips (``artifacts``: one dists.zip, or one per function and layer)
-> load each lock -> install or reuse the cached Lambda-platform wheels ->
collect the code -> check handlers and the unzipped limit (with the function's
layers) -> write each zip atomically (zipped limit checked before it replaces the
old one) -> its manifest -> ``.harness/build.json``, the list of every zip built.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lambda_harness.errors import BuildError
from lambda_harness.fsutil import LinkOutside, write_json_atomic
from lambda_harness.packaging import limits as size_limits
from lambda_harness.packaging.archives import (
    ArchiveSpec,
    ArchiveTarget,
    archive_entries,
    archive_lock,
    complete_entries,
)
from lambda_harness.packaging.artifacts import KIND_DIST, KIND_LAYER, KIND_PREBUILT, Unit, plan_artifacts
from lambda_harness.packaging.handlers import HandlerFound, check_handlers
from lambda_harness.packaging.limits import Limits, PackageSize
from lambda_harness.packaging.lockfile import LockFile, load_function_lock, load_lock
from lambda_harness.packaging.manifest import (
    build_manifest,
    file_digests,
    manifest_path_for,
    package_sizes,
    relative,
    write_manifest,
)
from lambda_harness.packaging.projectlock import declared_dependencies
from lambda_harness.packaging.selection import (
    LayerPlatform,
    check_code_files,
    keep_code_path,
    layer_compatibility_warnings,
    layer_platform,
    mixed_layer_error,
    select_platform,
    served_functions,
)
from lambda_harness.packaging.tfconfig import (
    DistTarget,
    TfConfig,
    TfFunction,
    code_path,
    find_dist_target,
    read_config,
)
from lambda_harness.packaging.wheels import DepsCache, Installer, PipInstaller, Platform, platform_specific
from lambda_harness.packaging.zipper import (
    EntryStat,
    Source,
    date_time_from,
    tree_entries,
    write_zip,
    zip_entries,
)
from lambda_harness.settings import Settings
from lambda_harness.ui import UI

# One zip's contents: entries, the repo's own files among them, its lock, the deps cache key, hit.
_Entries = tuple[dict[str, "Source"], dict[str, "Source"], "LockFile | None", "str | None", bool]


@dataclass(frozen=True)
class BuildResult:
    """A finished build: the zip, its manifest and its digests.

    With several zips (per function, layers) this describes the first (dists.zip when there
    is one) and ``artifacts`` holds every zip's own result.
    """

    zip_path: Path
    manifest_path: Path
    sha256: str
    code_sha256_b64: str
    zipped_size: int
    unzipped_size: int
    manifest: dict[str, Any]
    deps_cache_hit: bool = False
    warnings: tuple[str, ...] = field(default=())
    kind: str = KIND_DIST
    functions: tuple[str, ...] = ()
    artifacts: tuple[BuildResult, ...] = ()
    source: Path | None = None  # the folder it was built from: its zip root (a layer's: python/)
    used_by: tuple[str, ...] = ()  # a layer: the functions that name it

    def all(self) -> tuple[BuildResult, ...]:
        """Every zip of the build (just this one for a single dists.zip)."""
        return self.artifacts or (self,)


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
        self._lock: LockFile | None = None
        self._archive_targets: dict[str, ArchiveTarget] = {}
        self._warned_unlocked = False
        # Zips and manifests written beside their targets under a temporary name, moved into
        # place only when every artifact of the build succeeded (else removed).
        self._pending: list[tuple[Path, Path]] = []

    def build(self) -> BuildResult:
        """Run every stage; ``BuildError`` leaves every previous zip untouched: the zips of a
        build are moved into place together, once all of them are built."""
        try:
            try:
                result = self._build()
            except BaseException:
                self._discard_pending()
                raise
            self._commit_pending()
            return result
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
        functions = served_functions(config)
        self._report_not_run(config, functions)
        plan = plan_artifacts(s, config, functions)
        if not plan.units:
            result = self._build_dist(config, functions)
            self._write_archive_targets()
            self._record([result])
            return result
        results: list[BuildResult] = []
        layer_sizes: dict[Path, int] = {}
        for unit in plan.layers:
            built = self._build_unit(unit, {}, config)
            layer_sizes[unit.path] = built.unzipped_size
            results.append(built)
        if plan.dist_functions:
            dist_config = replace(config, functions=plan.dist_functions)
            results.append(self._build_dist(dist_config, plan.dist_functions, layer_sizes))
        results += [self._build_unit(unit, layer_sizes, config) for unit in plan.function_units]
        self._write_archive_targets()
        self._record(results)
        primary = next((r for r in results if r.kind != KIND_PREBUILT and r.functions), results[0])
        return replace(primary, artifacts=tuple(results), warnings=tuple(self.warnings))

    def _pending_path(self, final: Path) -> Path:
        tmp = final.with_name(f".{final.name}.lambda-harness-new")
        self._pending.append((tmp, final))
        return tmp

    def _commit_pending(self) -> None:
        for tmp, final in self._pending:
            tmp.replace(final)
        self._pending.clear()

    def _discard_pending(self) -> None:
        for tmp, _final in self._pending:
            tmp.unlink(missing_ok=True)
        self._pending.clear()

    def _build_dist(
        self, config: TfConfig, functions: list[TfFunction], layer_sizes: Mapping[Path, int] | None = None
    ) -> BuildResult:
        """The whole functions folder as one zip (dists.zip, or what the Terraform names)."""
        s = self.settings
        target = find_dist_target(s, config)
        for note in target.notes:
            self._warn(note)
        self._check_references(config, functions, target)
        platform = select_platform(functions, s.project_dir)
        lock = self._shared_lock()
        deps_zip, deps_key, hit = self._dependencies(lock, platform)
        code = self._code_entries(target)
        entries = self._merge(deps_zip, code)
        found = check_handlers(
            functions, entries, set(code), s.project_dir, relative(target.path, s.project_dir)
        )
        self._check_with_layers(target.path, entries, functions, layer_sizes or {})
        result = self._write(target, entries, platform, lock, found, deps_key, hit)
        self.ui.info(
            f"{len(found)} handler(s) checked; {result.manifest['files']} files, "
            f"{result.unzipped_size:,} bytes unzipped -> {relative(result.zip_path, s.project_dir)} "
            f"({target.reason})"
        )
        return replace(result, functions=tuple(fn.label for fn in functions), source=s.functions_dir)

    def _shared_lock(self) -> LockFile | None:
        lock_file = self.settings.lock_file
        if lock_file is None:
            return None
        if self._lock is None or self._lock.path != lock_file:
            self._lock = load_lock(lock_file)
        return self._lock

    def _build_unit(self, unit: Unit, layer_sizes: Mapping[Path, int], config: TfConfig) -> BuildResult:
        """One function's or one layer's zip, from its own folder (or a prebuilt layer, checked)."""
        s = self.settings
        users = tuple(sorted(self._layer_platform(unit, config).users)) if unit.layer is not None else ()
        if unit.kind == KIND_PREBUILT:
            return replace(self._prebuilt(unit), used_by=users)
        platform = self._unit_platform(unit, config)
        if unit.archive is not None:
            entries, code, lock, deps_key, hit = self._archive_entries(unit, platform)
        else:
            entries, code, lock, deps_key, hit = self._folder_entries(unit, platform)
        if unit.layer is not None:
            self._check_layer(unit, config, entries)
        name = relative(unit.path, s.project_dir)
        found = check_handlers(list(unit.functions), entries, set(code), s.project_dir, name)
        self._check_with_layers(unit.path, entries, list(unit.functions), layer_sizes)
        direct = any(fn.filename_expr is not None for fn in unit.functions) or unit.layer is not None
        target = DistTarget(unit.path, unit.reason, (), direct)
        result = self._write(target, entries, platform, lock, found, deps_key, hit)
        what = f"{len(found)} handler(s) checked" if unit.functions else f"layer {unit.label}"
        self.ui.info(
            f"{what}; {result.manifest['files']} files, {result.unzipped_size:,} bytes unzipped -> "
            f"{name} ({unit.reason})"
        )
        functions = tuple(fn.label for fn in unit.functions)
        return replace(result, kind=unit.kind, functions=functions, source=_source(unit), used_by=users)

    def _folder_entries(self, unit: Unit, platform: Platform) -> _Entries:
        """A function's or layer's folder, and the dependencies of its requirements (or the shared lock)."""
        s = self.settings
        assert unit.root is not None
        shared = self._shared_lock()
        lock = load_function_lock(unit.requirements, shared) if unit.requirements else shared
        deps_zip, deps_key, hit = self._dependencies(lock, platform, relative(unit.path, s.project_dir))
        deps: dict[str, Source] = {}
        if deps_zip is not None:
            into = "python/" if unit.kind == KIND_LAYER else ""
            deps = {into + name: src for name, src in zip_entries(deps_zip).items()}
        excluded = frozenset({unit.path, manifest_path_for(unit.path), s.harness_dir, s.cache_dir})
        try:
            found = tree_entries(unit.root, lambda p: keep_code_path(p, excluded))
        except LinkOutside as exc:
            zip_name = relative(unit.path, s.project_dir)
            raise BuildError(f"{exc}. {zip_name} would carry it (and promote would upload it)") from None
        code: dict[str, Source] = {unit.prefix + name: src for name, src in found.items()}
        check_code_files(code, s.project_dir)
        return self._merge_into(deps, code), code, lock, deps_key, hit

    def _archive_entries(self, unit: Unit, platform: Platform) -> _Entries:
        """What a ``data "archive_file"`` names, completed as the provider shim will (same target)."""
        assert unit.archive is not None
        spec = ArchiveSpec.from_config(unit.archive.config, unit.archive.output_path.parent)
        lock_file = self.settings.lock_file
        target = ArchiveTarget(
            runtime=platform.runtime,
            architecture=platform.architecture,
            layer=unit.layer is not None,
            shared_lock=str(lock_file) if lock_file is not None else None,
            functions=tuple(fn.label for fn in unit.functions),
        )
        self._archive_targets[relative(unit.path, self.settings.project_dir)] = target
        lock = archive_lock(spec, target)
        hit = lock is not None and self.cache.lookup(lock, platform) is not None
        with self.ui.step(f"Building {unit.reason} for {platform}"):
            entries, lock = complete_entries(spec, target, self.cache, self.installer)
        deps_key = self.cache.key(lock, platform) if lock is not None and not lock.is_empty else None
        return entries, archive_entries(spec), lock, deps_key, hit

    def _write_archive_targets(self) -> None:
        """``.harness/archives.json``: what the provider shim needs to build each archive the same way."""
        path = self.settings.paths.archive_targets
        if not self._archive_targets:
            path.unlink(missing_ok=True)
            return
        environ = os.environ if self.environ is None else self.environ
        write_json_atomic(
            path,
            {
                "date_time": list(date_time_from(environ)),
                "cache_dir": str(self.cache.root.parent),
                "targets": {k: t.to_json() for k, t in sorted(self._archive_targets.items())},
            },
        )

    def _prebuilt(self, unit: Unit) -> BuildResult:
        """A layer zip the repo ships as it is: hashed and measured, never rewritten."""
        try:
            with zipfile.ZipFile(unit.path) as zf:
                unzipped = sum(i.file_size for i in zf.infolist())
                importable = any(i.filename.startswith("python/") for i in zf.infolist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise BuildError(
                f"{unit.path}: {unit.label} uploads it, but it is not a readable zip ({exc})"
            ) from exc
        if not importable:
            self._warn(
                f"{relative(unit.path, self.settings.project_dir)} ({unit.label}) has nothing under python/: "
                "Lambda puts /opt/python and /opt/python/lib/python3.X/site-packages on the import path, "
                "so its modules will not import"
            )
        sha_hex, sha_b64 = file_digests(unit.path)
        name = relative(unit.path, self.settings.project_dir)
        self.ui.info(f"layer {unit.label}: {name} ({unit.reason}), {unzipped:,} bytes unzipped")
        manifest = {"dist": name, "sha256": sha_hex, "code_sha256": sha_b64, "unzipped_size": unzipped}
        return BuildResult(
            zip_path=unit.path,
            manifest_path=unit.path,
            sha256=sha_hex,
            code_sha256_b64=sha_b64,
            zipped_size=unit.path.stat().st_size,
            unzipped_size=unzipped,
            manifest=manifest,
            kind=KIND_PREBUILT,
        )

    def _unit_platform(self, unit: Unit, config: TfConfig) -> Platform:
        """A function zip: its functions' platform. A layer: its users' (``layer_platform``)."""
        if unit.functions:
            return select_platform(list(unit.functions), self.settings.project_dir)
        return self._layer_platform(unit, config).platform

    def _layer_platform(self, unit: Unit, config: TfConfig) -> LayerPlatform:
        users = [fn for fn in served_functions(config) if unit.path in fn.layer_files]
        return layer_platform(unit.layer, users)

    def _check_layer(self, unit: Unit, config: TfConfig, entries: Mapping[str, Source]) -> None:
        """Users on several platforms share a layer only when nothing in it is platform-specific;
        a user the layer's compatible_* lists leave out is a warning (AWS allows it)."""
        chosen = self._layer_platform(unit, config)
        project = self.settings.project_dir
        if chosen.mixed:
            native = platform_specific(entries)
            if native:
                raise mixed_layer_error(unit.layer, unit.label, chosen, native, project)
        if unit.layer is not None:
            for message in layer_compatibility_warnings(unit.layer, chosen, project):
                self._warn(message)

    def _check_with_layers(
        self,
        path: Path,
        entries: Mapping[str, Source],
        functions: list[TfFunction],
        layers: Mapping[Path, int],
    ) -> None:
        """250 MB unzipped counts the function's code and every layer it names, together."""
        project, mb = self.settings.project_dir, size_limits.MB
        own = sum(src.size() for src in entries.values())
        for fn in functions:
            sizes = {p: layers[p] for p in fn.layer_files if p in layers}
            total = own + sum(sizes.values())
            if sizes and total > self.limits.unzipped_max:
                listing = ", ".join(f"{relative(p, project)} {n / mb:.1f} MB" for p, n in sizes.items())
                raise BuildError(
                    f"{fn.label}: {relative(path, project)} ({own / mb:.1f} MB) with its layers ({listing}) "
                    f"unzips to {total / mb:.1f} MB, over the Lambda limit of "
                    f"{self.limits.unzipped_max / mb:.1f} MB for a function and its layers together; drop "
                    "packages the runtime already has (boto3, botocore), or split the function"
                )

    def _record(self, results: list[BuildResult]) -> None:
        """``.harness/build.json``: every zip of this build (the attestation reads it)."""
        project = self.settings.project_dir
        write_json_atomic(
            self.settings.paths.build_record,
            {
                "functions_dir": relative(self.settings.functions_dir, project),
                "artifacts": [
                    {
                        "path": relative(r.zip_path, project),
                        "kind": r.kind,
                        "sha256": r.sha256,
                        "code_sha256": r.code_sha256_b64,
                        "unzipped_size": r.unzipped_size,
                        "functions": sorted(r.functions),
                        # what the test stage needs to explain an ImportModuleError
                        "runtime": r.manifest.get("runtime"),
                        "architecture": r.manifest.get("architecture"),
                        "source": relative(r.source, project) if r.source is not None else None,
                        "used_by": list(r.used_by),
                    }
                    for r in results
                ],
            },
        )

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

    def _report_not_run(self, config: TfConfig, served: list[TfFunction]) -> None:
        """One line per function dists.zip does not serve: the harness neither checks nor runs it."""
        skip = self.settings.skip_functions
        for fn in config.functions:
            if fn in served:
                continue
            what = "a container image" if fn.package_type == "Image" else f"runtime {fn.runtime}"
            where = f"{relative(fn.tf_file, self.settings.project_dir)}:{fn.line or '?'}"
            line = f"function {fn.label} ({where}): {what}, not run by lambda-harness"
            if fn.label in skip:
                self.ui.info(f"{line}; excluded by {self.settings.source_of('skip_functions')}")
            else:
                self._warn(
                    f"{line}; `run` reports it untested (a failure) unless you exclude it: "
                    f'skip-functions = ["{fn.label}"] in [tool.lambda-harness] or --skip-function {fn.label}'
                )

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        self.ui.warn(message)

    def _dependencies(
        self, lock: LockFile | None, platform: Platform, zip_name: str = "dists.zip"
    ) -> tuple[Path | None, str | None, bool]:
        if lock is None:
            self.ui.info(
                "no lock file (requirements.txt, Pipfile.lock, uv.lock or poetry.lock): "
                f"{zip_name} holds only your code"
            )
            declared = declared_dependencies(self.settings.project_dir / "pyproject.toml")
            if declared and not self._warned_unlocked:
                self._warned_unlocked = True
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
        try:
            entries: dict[str, Source] = dict(
                tree_entries(self.settings.functions_dir, lambda p: keep_code_path(p, excluded))
            )
        except LinkOutside as exc:
            raise BuildError(f"{exc}. dists.zip would carry it (and promote would upload it)") from None
        check_code_files(entries, s.project_dir)
        return entries

    def _merge(self, deps_zip: Path | None, code: dict[str, Source]) -> dict[str, Source]:
        deps: dict[str, Source] = dict(zip_entries(deps_zip)) if deps_zip is not None else {}
        return self._merge_into(deps, code)

    def _merge_into(self, entries: dict[str, Source], code: dict[str, Source]) -> dict[str, Source]:
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
        name = relative(target.path, self.settings.project_dir)
        for w in size_limits.check_unzipped(unzipped, _top(pre), self.limits, name):
            self._warn(w)

        def check_zipped(tmp: Path, stats: list[EntryStat]) -> None:
            zipped = tmp.stat().st_size
            for w in size_limits.check_zipped(zipped, _top(stats), self.limits, target.direct_upload, name):
                self._warn(w)

        environ = os.environ if self.environ is None else self.environ
        stamp = date_time_from(environ)
        target.path.parent.mkdir(parents=True, exist_ok=True)
        zip_tmp = self._pending_path(target.path)
        stats = write_zip(entries, zip_tmp, date_time=stamp, before_replace=check_zipped)
        manifest = build_manifest(
            project_dir=self.settings.project_dir,
            zip_path=zip_tmp,
            stats=stats,
            platform=platform,
            lock=lock,
            handlers=found,
            deps_key=deps_key,
        )
        manifest["dist"] = name
        manifest_path = manifest_path_for(target.path)
        write_manifest(self._pending_path(manifest_path), manifest)
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


def _source(unit: Unit) -> Path | None:
    """The folder a unit's zip is made of (an archive's ``source_dir``)."""
    if unit.archive is not None and unit.archive.config.get("source_dir"):
        return Path(str(unit.archive.config["source_dir"]))
    return unit.root


def _top(stats: list[EntryStat]) -> list[PackageSize]:
    return size_limits.biggest(package_sizes(stats))


def build(settings: Settings, ui: UI) -> BuildResult:
    """Build dists.zip for ``settings.project_dir`` (what ``lambda-harness build`` runs)."""
    return Builder(settings, ui).build()

"""What the build takes from the repo: which functions it serves, for which platform, which files.

Shared by every zip the build writes (dists.zip, per-function and layer zips): the functions a
zip serves (Python, zip-packaged), the one runtime and architecture they must agree on, and the
files of a folder that go into a zip (no tests, caches, locks or Terraform).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_harness.errors import BuildError
from lambda_harness.packaging.manifest import relative
from lambda_harness.packaging.tfconfig import TfConfig, TfFunction, TfLayer
from lambda_harness.packaging.wheels import Platform, parse_platform
from lambda_harness.packaging.zipper import FileSource, Source

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


@dataclass(frozen=True)
class LayerPlatform:
    """The platform a layer is built for, and the platform of each function that uses it."""

    platform: Platform
    users: dict[str, Platform]  # function label -> its runtime/architecture

    @property
    def mixed(self) -> bool:
        """Whether the users need more than one platform (native wheels then fit only some)."""
        return len(set(self.users.values())) > 1


def _version(runtime: str) -> tuple[int, ...]:
    return tuple(int(p) for p in runtime.removeprefix("python").split(".") if p.isdigit())


def _preferred(values: Sequence[str], default: str) -> str | None:
    """``default`` when listed, else the first value (declared order, or sorted by Terraform)."""
    return default if default in values else next(iter(values), None)


def layer_platform(layer: TfLayer | None, users: Sequence[TfFunction]) -> LayerPlatform:
    """What a layer's wheels are built for: the platform of the functions that use it.

    ``compatible_runtimes``/``compatible_architectures`` are labels (AWS uses them to filter
    ``ListLayers``) and Terraform returns them sorted, so their first value says nothing about
    who loads the layer. Users on several platforms: the oldest runtime (pure-Python wheels
    chosen for it also run on newer ones) and x86_64 when one of them is; the builder then
    refuses the layer if it holds native wheels (``mixed_layer_error``). No users: the declared
    value matching the default (python3.12, x86_64) when listed, else the first.
    """
    seen: dict[str, Platform] = {}
    for fn in users:
        runtime = fn.runtime or _declared_runtime(layer) or DEFAULT_RUNTIME
        arch = next(iter(fn.architectures), DEFAULT_ARCHITECTURE)  # AWS's default: x86_64
        seen[fn.label] = parse_platform(runtime, arch)
    if seen:
        runtime = min((p.runtime for p in seen.values()), key=_version)
        archs = sorted({p.architecture for p in seen.values()})
        arch = _preferred(archs, DEFAULT_ARCHITECTURE) or DEFAULT_ARCHITECTURE
        return LayerPlatform(parse_platform(runtime, arch), seen)
    declared_arch = _preferred(layer.compatible_architectures if layer else (), DEFAULT_ARCHITECTURE)
    runtime = _declared_runtime(layer) or DEFAULT_RUNTIME
    return LayerPlatform(parse_platform(runtime, declared_arch or DEFAULT_ARCHITECTURE), {})


def _declared_runtime(layer: TfLayer | None) -> str | None:
    pythons = [r for r in (layer.compatible_runtimes if layer else ()) if r.startswith("python")]
    return _preferred(pythons, DEFAULT_RUNTIME)


def layer_where(layer: TfLayer, project_dir: Path) -> str:
    """``terraform/main.tf:12: aws_lambda_layer_version.deps`` (the file alone without a line)."""
    where = relative(layer.tf_file, project_dir) + (f":{layer.line}" if layer.line else "")
    return f"{where}: {layer.address}"


def mixed_layer_error(
    layer: TfLayer | None, label: str, chosen: LayerPlatform, native: Sequence[str], project_dir: Path
) -> BuildError:
    """A layer with native wheels used by functions on several platforms: it can serve only one."""
    groups: dict[Platform, list[str]] = {}
    for fn, platform in sorted(chosen.users.items()):
        groups.setdefault(platform, []).append(fn)
    listing = "; ".join(f"{p}: {', '.join(fns)}" for p, fns in sorted(groups.items(), key=str))
    shown = ", ".join(native[:3]) + (" ..." if len(native) > 3 else "")
    where = layer_where(layer, project_dir) if layer is not None else label
    return BuildError(
        f"{where} is used by functions on different platforms ({listing}) and holds platform-specific "
        f"files ({shown}). Native wheels load on exactly one Python version and CPU, so one layer zip "
        "cannot serve them all: split the layer per platform (one aws_lambda_layer_version for each "
        "runtime/architecture, each function naming its own), or make the layer's dependencies pure Python"
    )


def layer_compatibility_warnings(layer: TfLayer, chosen: LayerPlatform, project_dir: Path) -> list[str]:
    """A user whose runtime or architecture the layer's compatible_* lists leave out.

    Only a warning: AWS does not refuse it (the lists filter ``ListLayers``/``ListLayerVersions``;
    its docs ask you to make sure a layer fits the function), but the layer says it was not made
    for that function.
    """
    out: list[str] = []
    for fn, platform in sorted(chosen.users.items()):
        for what, value, listed in (
            ("runtime", platform.runtime, layer.compatible_runtimes),
            ("architecture", platform.architecture, layer.compatible_architectures),
        ):
            if listed and value not in listed:
                out.append(
                    f"{layer_where(layer, project_dir)}: function {fn} ({platform}) uses this layer, but its "
                    f"compatible_{what}s ({', '.join(listed)}) do not list {value}. AWS does not refuse it "
                    "(the list only filters ListLayers), and the layer is built for its users; add "
                    f"{value} to compatible_{what}s, or give {fn} a listed {what}"
                )
    return out


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

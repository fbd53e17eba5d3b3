"""What the build takes from the repo: which functions it serves, for which platform, which files.

Shared by every zip the build writes (dists.zip, per-function and layer zips): the functions a
zip serves (Python, zip-packaged), the one runtime and architecture they must agree on, and the
files of a folder that go into a zip (no tests, caches, locks or Terraform).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lambda_harness.errors import BuildError
from lambda_harness.packaging.manifest import relative
from lambda_harness.packaging.tfconfig import TfConfig, TfFunction
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

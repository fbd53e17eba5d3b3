"""Which zips the build writes, and from what: one dists.zip, or one zip per function and layer.

Teams package Lambda code two ways. The reference layout: every function in one zip of the
whole functions folder (``dists.zip``). The other common one: a zip per function,
``filename = "build/<name>.zip"``, built from ``functions/<name>/`` with that function's own
``requirements.txt``; and layers, ``aws_lambda_layer_version`` from ``build/<layer>.zip``
built from ``layers/<layer>/``. ``plan_artifacts`` tells them apart by the zips the
Terraform names:

* a zip whose name (without ``.zip``) is a folder under the functions folder is that folder's
  zip (``functions/payments/`` -> ``build/payments.zip``), unless the handlers only resolve
  from the functions folder itself (then it is a dists.zip under another name);
* a layer zip whose name is a folder under ``layers/`` (or the repo root) is built from it: its
  files under ``python/`` (or as they are when it has a ``python/`` folder), its
  ``requirements.txt`` installed there as Lambda-platform wheels;
* a layer zip that exists and has no such folder is taken as it is (a prebuilt layer);
* every other function shares dists.zip, as before.

Each function zip gets the function folder's ``requirements.txt`` when it has one (pinned, or
naming packages the shared lock pins), else the shared lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lambda_harness.errors import BuildError
from lambda_harness.packaging.tfconfig import TfArchive, TfConfig, TfFunction, TfLayer, code_path
from lambda_harness.settings import Settings

KIND_FUNCTION = "function"
KIND_LAYER = "layer"
KIND_PREBUILT = "prebuilt-layer"
KIND_DIST = "dist"
KIND_ARCHIVE = "archive"  # made by a data "archive_file" (see packaging.archives)


@dataclass(frozen=True)
class Unit:
    """One zip the build writes from one folder (or checks, when prebuilt)."""

    kind: str
    path: Path
    root: Path | None
    prefix: str
    requirements: Path | None
    functions: tuple[TfFunction, ...] = ()
    layer: TfLayer | None = None
    reason: str = ""
    archive: TfArchive | None = None

    @property
    def label(self) -> str:
        if self.layer is not None:
            return self.layer.address
        return ", ".join(fn.label for fn in self.functions)


@dataclass
class ArtifactPlan:
    """Layers first (their sizes count towards the functions'), then function zips; the
    functions left share dists.zip."""

    units: list[Unit] = field(default_factory=list)
    dist_functions: list[TfFunction] = field(default_factory=list)

    @property
    def layers(self) -> list[Unit]:
        return [u for u in self.units if u.layer is not None]

    @property
    def function_units(self) -> list[Unit]:
        return [u for u in self.units if u.layer is None]


def _module_file(root: Path, handler: str | None) -> bool:
    """Whether ``handler``'s module is a file under ``root``."""
    if not handler or "." not in handler:
        return False
    module = handler.replace("/", ".").rsplit(".", 1)[0].replace(".", "/")
    return (root / f"{module}.py").is_file() or (root / module / "__init__.py").is_file()


def function_folder(settings: Settings, path: Path, functions: Sequence[TfFunction]) -> Path | None:
    """The folder a function zip is built from, or None (it is a dists.zip)."""
    folder = settings.functions_dir / path.stem
    if path.suffix != ".zip" or not folder.is_dir() or folder == settings.functions_dir:
        return None
    in_folder = all(_module_file(folder, fn.handler) for fn in functions)
    from_root = all(_module_file(settings.functions_dir, fn.handler) for fn in functions)
    if from_root and not in_folder:
        return None  # handlers like "payments.app.handler": the zip root is the functions folder
    return folder


def layer_folder(settings: Settings, layer: TfLayer) -> Path | None:
    """The folder a layer zip is built from, or None."""
    if layer.filename is None:
        return None
    stem = layer.filename.stem
    for base in (
        settings.project_dir / "layers",
        settings.functions_dir.parent / "layers",
        settings.project_dir,
    ):
        folder = base / stem
        if folder.is_dir() and folder != settings.functions_dir:
            return folder
    return None


def _requirements(folder: Path) -> Path | None:
    path = folder / "requirements.txt"
    return path if path.is_file() else None


def plan_artifacts(settings: Settings, config: TfConfig, functions: Sequence[TfFunction]) -> ArtifactPlan:
    """Decide every zip (see the module docstring). ``functions`` are the ones the build serves."""
    plan = ArtifactPlan()
    if settings.dist is not None:  # the dist setting: one zip for all, as it says
        plan.dist_functions = list(functions)
        return plan
    archives = {a.output_path: a for a in config.archives}
    for layer in config.layers:
        archive = archives.get(layer.filename) if layer.filename else None
        unit = _archive_unit(archive, layer=layer) if archive else _layer_unit(settings, layer)
        if unit is not None:
            plan.units.append(unit)
    groups: dict[Path, list[TfFunction]] = {}
    for fn in functions:
        path, _why = code_path(config, fn)
        if path is None:
            plan.dist_functions.append(fn)
        else:
            groups.setdefault(path, []).append(fn)
    for path, members in groups.items():
        if path in archives:
            plan.units.append(_archive_unit(archives[path], functions=tuple(members)))
            continue
        folder = function_folder(settings, path, members)
        if folder is None:
            plan.dist_functions += members
            continue
        reason = f"from {_rel(folder, settings.project_dir)}/, named by the zip"
        plan.units.append(
            Unit(KIND_FUNCTION, path, folder, "", _requirements(folder), tuple(members), reason=reason)
        )
    return plan


def _archive_unit(
    archive: TfArchive, *, functions: tuple[TfFunction, ...] = (), layer: TfLayer | None = None
) -> Unit:
    reason = f"{archive.address}"
    return Unit(KIND_ARCHIVE, archive.output_path, None, "", None, functions, layer, reason, archive)


def _layer_unit(settings: Settings, layer: TfLayer) -> Unit | None:
    if layer.filename is None:
        return None
    folder = layer_folder(settings, layer)
    if folder is not None:
        prefix = "" if (folder / "python").is_dir() else "python/"
        reason = f"built from {_rel(folder, settings.project_dir)}/"
        return Unit(
            KIND_LAYER, layer.filename, folder, prefix, _requirements(folder), layer=layer, reason=reason
        )
    if layer.filename.is_file():
        return Unit(
            KIND_PREBUILT, layer.filename, None, "", None, layer=layer, reason="prebuilt, used as it is"
        )
    where = f"{_rel(layer.tf_file, settings.project_dir)}:{layer.line}" if layer.line else str(layer.tf_file)
    stem = layer.filename.stem
    raise BuildError(
        f"{where}: {layer.address} uploads {_rel(layer.filename, settings.project_dir)}, which does not "
        f"exist, and there is no folder to build it from (looked for layers/{stem}/ and {stem}/). "
        f"Put the layer's files in layers/{stem}/ (python/ or modules, and a requirements.txt), or "
        "build it with "
        'data "archive_file"'
    )


def _rel(path: Path, project_dir: Path) -> str:
    try:
        return path.relative_to(project_dir).as_posix()
    except ValueError:
        return path.as_posix()

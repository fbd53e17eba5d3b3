"""Which zips a deployed function loads, read from the build record, and where a module is in them.

An ``ImportModuleError`` says only that a module did not import. Whether the package is missing
(pin it, or move your code) or present but unloadable (a native extension built for another
platform) decides the fix; the build record (``.harness/build.json``: every zip, what it was
built from and for which platform, the layers each function uses) tells the two apart.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambda_harness.paths import HarnessPaths

if TYPE_CHECKING:
    from lambda_harness.terraform.inventory import DeployedFunction


@dataclass(frozen=True)
class Artifact:
    """One zip of the build: where it is, what it is, and the platform it was built for."""

    path: str  # relative to the repo, as the build printed it
    zip_path: Path
    layer: bool  # a layer (modules under python/), else the function's own zip
    platform: str | None  # "python3.12/x86_64"; None for a prebuilt layer
    source: str | None  # the folder it was built from (the zip root), relative

    def holds(self, package: str) -> bool:
        """Whether the zip has the top-level module ``package`` where Lambda imports it from
        (the zip root; for a layer ``python/`` or ``python/lib/python3.X/site-packages/``)."""
        try:
            with zipfile.ZipFile(self.zip_path) as zf:
                names = zf.namelist()
        except (OSError, zipfile.BadZipFile):
            return False
        for name in names:
            rest: str | None = name
            if self.layer:
                rest = name.removeprefix("python/") if name.startswith("python/") else None
                if rest is not None and rest.startswith("lib/python"):
                    rest = rest.split("/site-packages/", 1)[1] if "/site-packages/" in rest else None
            if rest is not None and _is_module(rest, package):
                return True
        return False

    def describe(self) -> str:
        what = "layer" if self.layer else "the function's zip"
        built = f", built for {self.platform}" if self.platform else ""
        return f"{self.path} ({what}{built})"


def _is_module(rest: str, package: str) -> bool:
    """``package/...`` (a package), or ``package.py`` / ``package.cpython-312-...so`` (one file)."""
    head, sep, _ = rest.partition("/")
    return head == package if sep else head.startswith(f"{package}.")


@dataclass(frozen=True)
class ImportContext:
    """What a function loads: its code zip, its layers, its platform and the functions folder."""

    platform: str  # the function's "python3.12/x86_64"
    functions_dir: str
    code: Artifact | None
    layers: tuple[Artifact, ...] = ()


class BuildRecord:
    """``.harness/build.json`` as the test stage reads it (empty when there is none)."""

    def __init__(self, data: Mapping[str, Any], project_dir: Path) -> None:
        self.functions_dir = str(data.get("functions_dir") or "functions")
        self.project_dir = project_dir
        self.entries = [e for e in data.get("artifacts") or [] if isinstance(e, Mapping)]

    @classmethod
    def load(cls, path: Path, project_dir: Path) -> BuildRecord | None:
        """The record at ``path``; None when there is none or it is unreadable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return cls(data, project_dir) if isinstance(data, Mapping) else None

    def _artifact(self, entry: Mapping[str, Any], *, layer: bool) -> Artifact:
        runtime, arch = entry.get("runtime"), entry.get("architecture")
        path = str(entry.get("path") or "")
        return Artifact(
            path=path,
            zip_path=self.project_dir / path,
            layer=layer,
            platform=f"{runtime}/{arch}" if runtime and arch else None,
            source=str(entry["source"]) if entry.get("source") else None,
        )

    def context(self, name: str, runtime: str, architecture: str, code_sha256: str = "") -> ImportContext:
        """The zips function ``name`` loads: its own (by name, else by the deployed CodeSha256)
        and the layers the build recorded it using."""
        code = next((e for e in self.entries if name in (e.get("functions") or [])), None)
        if code is None and code_sha256:
            code = next((e for e in self.entries if e.get("code_sha256") == code_sha256), None)
        used = [e for e in self.entries if name in (e.get("used_by") or [])]
        layers = tuple(self._artifact(e, layer=True) for e in used)
        return ImportContext(
            platform=f"{runtime}/{architecture}",
            functions_dir=self.functions_dir,
            code=self._artifact(code, layer=False) if code is not None else None,
            layers=layers,
        )


def import_context(harness_dir: Path, project_dir: Path, fn: DeployedFunction) -> ImportContext | None:
    """What ``fn`` loads, from the build record under ``harness_dir`` (None without one)."""
    record = BuildRecord.load(HarnessPaths(harness_dir).build_record, project_dir)
    if record is None:
        return None
    return record.context(fn.name, fn.runtime, fn.architecture, fn.code_sha256)

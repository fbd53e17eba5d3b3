"""Questions about a module folder's Terraform, answered with files and lines (``hcl`` reads them).

Terraform's own evaluation (``plan``/``show -json``) knows every value but no file or line.
``ModuleSource`` asks ``hcl``'s blocks (each content parsed once): where is
``module "fn"`` declared, which local modules does this folder call, which providers does it
require and where; ``module_tree`` follows local modules from the root; ``find_literal``
finds the ``.tf``/``.tfvars`` line that holds a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from lambda_harness.terraform import hcl
from lambda_harness.terraform.hcl import Block, config_files


def shown(path: Path, project_dir: Path | None) -> str:
    """A path relative to the project when inside it (POSIX form), else as is."""
    if project_dir is not None:
        try:
            return path.relative_to(project_dir).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def read_blocks(path: Path) -> tuple[Block, ...]:
    """Every top-level block of one file, in line order (each content parsed once: ``hcl``)."""
    return tuple(sorted(hcl.read_blocks(path, path.read_text(encoding="utf-8")), key=lambda b: b.line))


class ModuleSource:
    """The ``*.tf``/``*.tf.json`` files of one module folder, as blocks."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.blocks: list[Block] = []
        if folder.is_dir():
            for path in config_files(folder):
                self.blocks.extend(read_blocks(path))

    def of_kind(self, kind: str) -> list[Block]:
        """Blocks of one kind, in file and line order."""
        return [b for b in self.blocks if b.kind == kind]

    def find(self, kind: str, *labels: str) -> Block | None:
        """The first block of ``kind`` whose labels start with ``labels``."""
        for block in self.blocks:
            if block.kind == kind and block.labels[: len(labels)] == labels:
                return block
        return None

    def module_calls(self) -> list[Block]:
        """Every ``module`` block."""
        return self.of_kind("module")

    def local_module_dirs(self) -> list[tuple[Block, Path]]:
        """(call, folder) of every module called with a local path (``./x``, ``../x``)."""
        out = []
        for call in self.module_calls():
            source = str(call.body.get("source", ""))
            if is_local_source(source):
                out.append((call, Path(os.path.normpath(self.folder / source))))
        return out

    def required_providers(self) -> dict[str, tuple[str, str | None, Block]]:
        """Local name -> (source address, version constraint, the ``terraform`` block)."""
        found: dict[str, tuple[str, str | None, Block]] = {}
        for block in self.of_kind("terraform"):
            entries = block.body.get("required_providers") or []
            for entry in entries if isinstance(entries, list) else [entries]:
                for name, spec in (entry or {}).items():
                    if isinstance(spec, Mapping):
                        source = str(spec.get("source") or f"hashicorp/{name}")
                        version = spec.get("version")
                        found[name] = (source, str(version) if version is not None else None, block)
                    else:  # the pre-0.13 shorthand: aws = "~> 5.0"
                        found[name] = (f"hashicorp/{name}", str(spec), block)
        return found


def is_local_source(source: str) -> bool:
    """Terraform treats a module source as a local path only when it starts with ``./`` or ``../``."""
    return source.startswith(("./", "../", ".\\", "..\\"))


def module_tree(root: Path) -> list[Path]:
    """The root module folder and every local module folder it calls, transitively, in order found."""
    seen: list[Path] = [Path(os.path.normpath(root))]
    queue = [seen[0]]
    while queue:
        folder = queue.pop(0)
        for _call, child in ModuleSource(folder).local_module_dirs():
            if child not in seen and child.is_dir():
                seen.append(child)
                queue.append(child)
    return seen


def find_literal(
    folders: list[Path], value: str, extra_files: tuple[Path, ...] = ()
) -> list[tuple[Path, int]]:
    """(file, line) of every line holding ``"value"`` in the folders' ``.tf``/``.tfvars`` files."""
    hits: list[tuple[Path, int]] = []
    needle = f'"{value}"'
    files: list[Path] = []
    for folder in folders:
        files += sorted([*folder.glob("*.tf"), *folder.glob("*.tfvars"), *folder.glob("*.tfvars.json")])
    for path in [*files, *extra_files]:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        hits += [(path, n) for n, line in enumerate(lines, 1) if needle in line]
    return hits

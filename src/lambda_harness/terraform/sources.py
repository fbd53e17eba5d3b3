"""The Terraform source files of a module folder, read as blocks with their lines.

Terraform's own evaluation (``plan``/``show -json``) knows every value but no
file or line; python-hcl2 knows the lines. ``ModuleSource`` reads one folder's
``*.tf`` files once and answers "where is ``module "fn"`` declared", "which
local modules does this folder call", "which provider blocks are there". The
values come from python-hcl2's dict form (``packaging.tfconfig``'s parser), the
lines from its lark tree (``meta.line``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

from lambda_harness.errors import ConfigError
from lambda_harness.packaging.tfconfig import config_files, parse_file


@dataclass(frozen=True)
class Block:
    """One top-level block: ``kind`` (``module``, ``resource``...), its labels, body and lines."""

    kind: str
    labels: tuple[str, ...]
    body: Mapping[str, Any]
    file: Path
    line: int
    end_line: int
    attribute_lines: Mapping[str, int] = field(default_factory=dict)

    def where(self, project_dir: Path | None = None, attribute: str | None = None) -> str:
        """``terraform/main.tf:25`` (the attribute's line when known)."""
        line = self.attribute_lines.get(attribute, self.line) if attribute else self.line
        return f"{shown(self.file, project_dir)}:{line}"


def shown(path: Path, project_dir: Path | None) -> str:
    """A path relative to the project when inside it (POSIX form), else as is."""
    if project_dir is not None:
        try:
            return path.relative_to(project_dir).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _labels(node: Any) -> tuple[str, ...]:
    out = []
    for child in node.children[1:]:
        if getattr(child, "data", None) == "string":
            parts = [
                str(tok)
                for part in child.children
                if getattr(part, "data", None) == "string_part"
                for tok in part.children
            ]
            out.append("".join(parts))
        elif getattr(child, "data", None) == "identifier":
            out.append(str(child.children[0]))
    return tuple(out)


def _lines(path: Path, text: str) -> list[tuple[str, tuple[str, ...], int, int, dict[str, int]]]:
    """(kind, labels, line, end_line, attribute lines) of every top-level block, in file order."""
    if path.name.endswith(".json"):
        return []  # JSON syntax: values only (no lines)
    try:
        tree = hcl2.parses_to_tree(text)
    except Exception as exc:  # lark raises many exception types for bad syntax
        raise ConfigError(f"{path}: cannot parse Terraform ({exc}); run `terraform validate`") from exc
    found = []
    for node in tree.children[0].children:
        if getattr(node, "data", None) != "block":
            continue
        kind = str(node.children[0].children[0])
        attrs: dict[str, int] = {}
        for body in node.children:
            if getattr(body, "data", None) != "body":
                continue
            for item in body.children:
                data = getattr(item, "data", None)
                if data in {"attribute", "block"}:
                    attrs.setdefault(str(item.children[0].children[0]), item.meta.line)
        found.append((kind, _labels(node), node.meta.line, node.meta.end_line, attrs))
    return found


def _bodies(data: Mapping[str, Any], kind: str, depth: int) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(labels, body) of every ``kind`` block in hcl2's dict form; ``depth`` = number of labels."""
    blocks = data.get(kind, [])
    for block in blocks if isinstance(blocks, list) else [blocks]:
        if depth == 0:
            yield (), block
            continue
        yield from _nested(block, depth, ())


def _nested(node: Any, depth: int, labels: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if not isinstance(node, Mapping):
        return
    for name, body in node.items():
        if depth == 1:
            for item in body if isinstance(body, list) else [body]:
                yield (*labels, str(name)), item
        else:
            yield from _nested(body, depth - 1, (*labels, str(name)))


_LABELS = {"resource": 2, "data": 2, "module": 1, "provider": 1, "variable": 1, "output": 1}
_LABELS.update({"locals": 0, "terraform": 0, "moved": 0, "import": 0, "removed": 0, "check": 1})


@cache
def _read(path: Path, mtime_ns: int, size: int) -> tuple[Block, ...]:
    text = path.read_text(encoding="utf-8")
    data = parse_file(path, text)
    lines = _lines(path, text)
    blocks: list[Block] = []
    used: set[int] = set()
    for kind, depth in _LABELS.items():
        for labels, body in _bodies(data, kind, depth):
            line, end, attrs = 0, 0, {}
            for index, (k, labs, start, stop, attr_lines) in enumerate(lines):
                if index not in used and k == kind and labs == labels:
                    used.add(index)
                    line, end, attrs = start, stop, attr_lines
                    break
            blocks.append(
                Block(kind, labels, body if isinstance(body, Mapping) else {}, path, line, end, attrs)
            )
    blocks.sort(key=lambda b: b.line)
    return tuple(blocks)


def read_blocks(path: Path) -> tuple[Block, ...]:
    """Every top-level block of one file (cached while the file is unchanged)."""
    st = path.stat()
    return _read(path, st.st_mtime_ns, st.st_size)


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

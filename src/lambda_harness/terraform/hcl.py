"""The top-level blocks of one Terraform module folder, with the file and lines of each.

``show -json`` and plan output carry no source ranges for most things the harness
reports (a missing variable's declaration, a lookup, an import block), so they are
read here once: python-hcl2's lark tree gives each block's first and last line, its
serialised form gives the body as plain values (``"${...}"`` for expressions, the
same shape ``packaging.tfconfig`` reads). JSON syntax (``*.tf.json``) has bodies but
no end lines.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_harness.errors import ConfigError
from lambda_harness.packaging.tfconfig import loads_hcl, parsed_hcl

# Block kinds whose labels name their entries in the serialised body (``{type: {name: body}}``).
_LABELS = {"resource": 2, "data": 2, "module": 1, "variable": 1, "output": 1, "provider": 1}


@dataclass(frozen=True)
class Block:
    """One top-level block: ``data "aws_vpc" "shared" { ... }`` at ``file:line``-``end_line``."""

    kind: str
    labels: tuple[str, ...]
    body: Mapping[str, Any]
    file: Path
    line: int
    end_line: int | None = None
    # The first line of each top-level attribute or nested block of the body (native syntax).
    attribute_lines: Mapping[str, int] = field(default_factory=dict)

    def where(self, project_dir: Path | None = None, attribute: str | None = None) -> str:
        """``terraform/main.tf:25`` (the attribute's own line when it is known)."""
        line = self.attribute_lines.get(attribute, self.line) if attribute else self.line
        name = self.file.as_posix()
        if project_dir is not None:
            with contextlib.suppress(ValueError):
                name = self.file.relative_to(project_dir).as_posix()
        return f"{name}:{line}"

    @property
    def address(self) -> str:
        """``data.aws_vpc.shared``, ``aws_lambda_function.x``, ``variable.env`` (root module form)."""
        if self.kind == "resource":
            return ".".join(self.labels)
        return ".".join((self.kind, *self.labels))

    @property
    def header(self) -> str:
        """``data "aws_vpc" "shared"``: the block as its first line names it."""
        return " ".join([self.kind, *(f'"{label}"' for label in self.labels)])


@dataclass
class Module:
    """Every top-level block of one folder's ``*.tf`` and ``*.tf.json`` files, in file order."""

    folder: Path
    blocks: list[Block] = field(default_factory=list)
    texts: dict[Path, str] = field(default_factory=dict)

    def of(self, kind: str, first_label: str | None = None) -> Iterator[Block]:
        """Blocks of one kind (and first label: a resource or data source type)."""
        for block in self.blocks:
            if block.kind == kind and (first_label is None or block.labels[:1] == (first_label,)):
                yield block


def config_files(folder: Path) -> list[Path]:
    """A module folder's configuration files, native and JSON syntax, in name order."""
    return sorted([*folder.glob("*.tf"), *folder.glob("*.tf.json")], key=lambda p: p.name)


def read_module(folder: Path) -> Module:
    """Parse every configuration file of ``folder`` (not its sub-folders)."""
    module = Module(folder)
    for path in config_files(folder):
        text = path.read_text(encoding="utf-8")
        module.texts[path] = text
        module.blocks += read_blocks(path, text)
    return module


def read_blocks(path: Path, text: str) -> list[Block]:
    """The top-level blocks of one file's ``text`` (JSON syntax when the name ends in ``.json``).

    The pre-checks read the same module several times, and python-hcl2 takes ~20 ms a file
    (200 functions: 1005 parses, ~20 s of the apply stage in bench/pipeline.py --curve):
    ``tfconfig.parsed_hcl`` parses each content once, and the blocks are made from its
    result (well under 1 ms a file). Bodies are that shared data: never modify them.
    """
    return _json_blocks(path, text) if path.name.endswith(".json") else _hcl_blocks(path, text)


def _parsed(path: Path, text: str) -> tuple[Any, dict[str, Any]]:
    try:
        return parsed_hcl(text)
    except Exception as exc:  # lark raises many exception types for bad syntax
        raise ConfigError(f"{path}: cannot parse Terraform ({exc}); run `terraform validate`") from exc


def parse_tree(path: Path, text: str) -> Any:
    """python-hcl2's lark tree of one file (ConfigError naming the file when it is not HCL)."""
    return _parsed(path, text)[0]


def _hcl_blocks(path: Path, text: str) -> list[Block]:
    tree, data = _parsed(path, text)
    heads = [node for node in tree.children[0].children if getattr(node, "data", None) == "block"]
    bodies = _bodies_in_order(data)
    blocks = []
    for node in heads:
        kind, labels = _head(node)
        queue = bodies.get((kind, labels))
        body = queue.pop(0) if queue else {}
        blocks.append(
            Block(kind, labels, body, path, node.meta.line, node.meta.end_line, _attribute_lines(node))
        )
    return blocks


def _attribute_lines(node: Any) -> dict[str, int]:
    """Name -> first line of each attribute and nested block in a block node's body."""
    lines: dict[str, int] = {}
    for body in node.children:
        if getattr(body, "data", None) != "body":
            continue
        for item in body.children:
            if getattr(item, "data", None) in {"attribute", "block"}:
                lines.setdefault(str(item.children[0].children[0]), item.meta.line)
    return lines


def _head(node: Any) -> tuple[str, tuple[str, ...]]:
    """A block node's identifier and string labels."""
    kind = str(node.children[0].children[0])
    labels = []
    for child in node.children[1:]:
        if getattr(child, "data", None) == "string":
            labels.append("".join(str(t) for part in child.children[1:-1] for t in part.children))
        elif getattr(child, "data", None) == "identifier":  # labels may be bare identifiers
            labels.append(str(child.children[0]))
    return kind, tuple(labels)


def _bodies_in_order(data: Mapping[str, Any]) -> dict[tuple[str, tuple[str, ...]], list[Mapping[str, Any]]]:
    """(kind, labels) -> the bodies of blocks so labelled, in file order."""
    out: dict[tuple[str, tuple[str, ...]], list[Mapping[str, Any]]] = {}
    for kind, entries in data.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            for labels, body in _unlabel(entry, _LABELS.get(kind, 0)):
                out.setdefault((kind, labels), []).append(body)
    return out


def _unlabel(entry: Any, depth: int) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    if depth == 0:
        yield (), entry if isinstance(entry, Mapping) else {}
        return
    if not isinstance(entry, Mapping):
        return
    for label, inner in entry.items():
        for rest, body in _unlabel(inner, depth - 1):
            yield (str(label), *rest), body


def _json_blocks(path: Path, text: str) -> list[Block]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}); run `terraform validate`") from exc
    blocks = []
    for (kind, labels), bodies in _bodies_in_order(data if isinstance(data, dict) else {}).items():
        for body in bodies:
            needle = f'"{labels[-1]}"' if labels else f'"{kind}"'
            blocks.append(Block(kind, labels, body, path, line_of(text, re.escape(needle)) or 1))
    return sorted(blocks, key=lambda b: b.line)


def line_of(text: str, pattern: str, start: int = 0) -> int | None:
    """1-based line of the first match of ``pattern`` at or after offset ``start``."""
    match = re.compile(pattern, re.MULTILINE).search(text, start)
    return text.count("\n", 0, match.start()) + 1 if match else None


def read_values(path: Path) -> dict[str, Any]:
    """A ``.tfvars`` / ``.tfvars.json`` file as a dict of variable -> value."""
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
        return dict(data) if isinstance(data, dict) else {}
    try:
        return loads_hcl(text)
    except Exception as exc:  # lark raises many exception types for bad syntax
        raise ConfigError(f"{path}: cannot parse Terraform ({exc}); run `terraform validate`") from exc


def auto_var_files(folder: Path) -> list[Path]:
    """The variable files Terraform loads by itself from the root module folder, in its order."""
    return [
        p
        for p in [
            folder / "terraform.tfvars",
            folder / "terraform.tfvars.json",
            *sorted(folder.glob("*.auto.tfvars")),
            *sorted(folder.glob("*.auto.tfvars.json")),
        ]
        if p.is_file()
    ]


def shown_root(terraform_dir: Path, project_dir: Path) -> str:
    """How a message opens on the root module: ``terraform``, or ``the Terraform root (.)`` when
    it is the repo itself (a bare ``.`` reads as punctuation)."""
    text = shown(terraform_dir, project_dir)
    return "the Terraform root (.)" if text == "." else text


def shown(path: Path, project_dir: Path) -> str:
    """``path`` relative to the project when below it (how messages name files)."""
    try:
        return str(path.resolve().relative_to(project_dir.resolve()))
    except ValueError:
        return str(path)

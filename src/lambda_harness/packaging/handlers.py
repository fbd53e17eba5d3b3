"""Every Terraform ``handler`` must name a module and a function in dists.zip.

Checked statically with ``ast`` on the files that go into the zip (never by
importing them): a module ``a/b.py`` or ``a/b/__init__.py`` (or a compiled
extension) and, in it, a top-level ``def``, class, assignment or import of the
name. Failures suggest the nearest existing handler (difflib).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lambda_harness.errors import BuildError
from lambda_harness.packaging.tfconfig import TfFunction
from lambda_harness.packaging.zipper import Source

_EXTENSION_SUFFIXES = (".so", ".pyd")


@dataclass(frozen=True)
class HandlerFound:
    """A function whose handler resolved."""

    function: str
    handler: str
    tf_file: str
    module_file: str


def _module_files(entries: Mapping[str, Source]) -> dict[str, str]:
    """dotted module name -> arcname, for every importable module in the zip."""
    modules: dict[str, str] = {}
    for name in entries:
        if name.endswith("/__init__.py"):
            modules[name[: -len("/__init__.py")].replace("/", ".")] = name
        elif name.endswith(".py"):
            modules.setdefault(name[:-3].replace("/", "."), name)
        elif name.endswith(_EXTENSION_SUFFIXES):
            stem = name.rsplit("/", 1)[-1].split(".", 1)[0]
            folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
            modules.setdefault((folder + stem).replace("/", "."), name)
    return modules


def top_level_names(source: bytes) -> set[str] | None:
    """Names a module defines at top level, or None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


class HandlerIndex:
    """Looks up handler strings against the zip's entries (parses each module once)."""

    def __init__(self, entries: Mapping[str, Source], code_names: set[str]) -> None:
        self.entries = entries
        self.modules = _module_files(entries)
        self.code_modules = sorted(m for m, arc in self.modules.items() if arc in code_names)
        self._names: dict[str, set[str] | None] = {}

    def names(self, module: str) -> set[str] | None:
        """Top-level names of a module (None when unknown: extension or syntax error)."""
        if module not in self._names:
            arc = self.modules[module]
            if arc.endswith(_EXTENSION_SUFFIXES):
                self._names[module] = None
            else:
                with self.entries[arc].open() as fh:
                    self._names[module] = top_level_names(fh.read())
        return self._names[module]

    def candidates(self) -> list[str]:
        """Every ``module.function`` of the repo's own code (for suggestions)."""
        out: list[str] = []
        for module in self.code_modules:
            out.extend(f"{module}.{n}" for n in sorted(self.names(module) or ()) if not n.startswith("_"))
        return out

    def problem(self, handler: str) -> str | None:
        """Why ``handler`` does not resolve, or None when it does."""
        dotted = handler.replace("/", ".")
        if "." not in dotted or dotted.startswith(".") or dotted.endswith("."):
            return "(a handler is written module.function, e.g. app.handler)"
        module, func = dotted.rsplit(".", 1)
        if module not in self.modules:
            return f"(no module {module.replace('.', '/')}.py)"
        names = self.names(module)
        if names is not None and func not in names:
            return f"(module {self.modules[module]} has no top-level {func})"
        return None

    def suggestion(self, handler: str) -> str | None:
        """The nearest existing handler string, if any is close."""
        matches = difflib.get_close_matches(handler.replace("/", "."), self.candidates(), n=1, cutoff=0.6)
        return matches[0] if matches else None


def check_handlers(
    functions: list[TfFunction],
    entries: Mapping[str, Source],
    code_names: set[str],
    project_dir: Path,
    zip_name: str = "dists.zip",
) -> list[HandlerFound]:
    """Resolve every function's handler; ``BuildError`` listing each one that does not."""
    index = HandlerIndex(entries, code_names)
    found: list[HandlerFound] = []
    problems: list[str] = []
    for fn in functions:
        where = _where(fn, project_dir)
        if fn.handler is None:
            problems.append(
                f'{where}: function "{fn.label}" handler cannot be resolved statically; '
                "write it as a literal string"
            )
            continue
        why = index.problem(fn.handler)
        if why is None:
            module = fn.handler.replace("/", ".").rsplit(".", 1)[0]
            tf_file = _rel(fn.tf_file, project_dir)
            found.append(HandlerFound(fn.label, fn.handler, tf_file, index.modules[module]))
            continue
        msg = f'{where}: function "{fn.label}" handler "{fn.handler}" not found in {zip_name} {why}.'
        if fn.declared:  # found through Terraform's plan: where the team declares it
            at = f" (set at {fn.handler_at})" if fn.handler_at else ""
            msg = f'{fn.declared} with handler "{fn.handler}"{at}: not found in {zip_name} {why}.'
        near = index.suggestion(fn.handler)
        if near and near != fn.handler:
            msg += f' Did you mean "{near}"?'
        problems.append(msg)
    if problems:
        raise BuildError("\n".join(problems))
    return found


def _rel(path: Path, project_dir: Path) -> str:
    try:
        return path.relative_to(project_dir).as_posix()
    except ValueError:
        return str(path)


def _where(fn: TfFunction, project_dir: Path) -> str:
    line = fn.handler_line or fn.line
    return f"{_rel(fn.tf_file, project_dir)}:{line}" if line else _rel(fn.tf_file, project_dir)

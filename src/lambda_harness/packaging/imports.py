"""The static import graph of the functions folder: which functions a changed file reaches.

The functions folder is the zip root, so ``functions/worker_lib/ddb.py`` is the module
``worker_lib.ddb``. Every ``.py`` file is parsed (``ast``, never imported) for its
``import``/``from ... import`` statements, absolute and relative, anywhere in the file
(an import inside a function still runs when the handler does). A module also depends on
each package above it (importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py``).

``affected`` answers ``watch``: a handler file reruns its function; a shared module reruns
every function whose handler imports it, directly or through others; a file that is not
Python (data, templates) counts as part of the package folder it sits in. Imports the
parser cannot see (``importlib.import_module(name)``) are not followed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


def module_name(path: Path, root: Path) -> str | None:
    """``root/a/b/c.py`` -> ``a.b.c``; ``root/a/__init__.py`` -> ``a``; None outside ``root``."""
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    parts = list(rel.with_suffix("").parts) if rel.suffix == ".py" else list(rel.parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) if parts else None


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module name an import statement in ``tree`` may load (candidates, resolved later)."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".") if package else []
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join([*anchor, base] if base else anchor)
            if base:
                names.add(base)
            # ``from pkg import sub``: sub may be a module of pkg.
            names.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    return names


def _with_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[: i + 1]) for i in range(len(parts))}


@dataclass
class ImportGraph:
    """Module -> the modules of the functions folder it imports (parents included)."""

    root: Path
    edges: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def scan(cls, root: Path) -> ImportGraph:
        """Parse every ``.py`` under ``root`` (files that do not parse import nothing we can see)."""
        sources = {
            name: path
            for path in sorted(root.rglob("*.py"))
            if "__pycache__" not in path.parts and (name := module_name(path, root)) is not None
        }
        # Names under a local top-level package count even when no file has them (any more):
        # a deleted module must still rerun the functions that import it.
        local = {name.split(".")[0] for name in sources}
        graph = cls(root)
        for name, path in sources.items():
            try:
                tree = ast.parse(path.read_bytes(), filename=str(path))
            except (SyntaxError, ValueError, OSError):
                tree = ast.Module(body=[], type_ignores=[])
            found: set[str] = set()
            for imported in _imported(tree, name, path.name == "__init__.py"):
                found.update(n for n in _with_parents(imported) if n.split(".")[0] in local)
            found.update(n for n in _with_parents(name) if n in sources and n != name)
            graph.edges[name] = found
        return graph

    def reached_from(self, module: str) -> set[str]:
        """``module`` and everything it imports, transitively (parent packages included)."""
        seen: set[str] = set()
        todo = list(_with_parents(module))
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo += self.edges.get(name, ())
        return seen

    def affected(self, changed: Iterable[Path], handlers: Mapping[str, str]) -> set[str]:
        """Function names (of ``handlers``: name -> ``module.function``) that a changed file reaches.

        A file that is no longer there counts by its name, so deleting a module reruns its users.
        """
        touched: set[str] = set()
        everything = False
        for path in changed:
            if path.suffix == ".py":
                name = module_name(path, self.root)
            else:
                name = module_name(path.parent, self.root)  # a data file belongs to its package
            if name is None:
                everything = everything or path.parent.resolve() == self.root.resolve()
                continue
            touched.add(name)
        if everything:
            return set(handlers)
        out = set()
        for function, handler in handlers.items():
            module = handler.rpartition(".")[0]
            if module and touched & self.reached_from(module):
                out.add(function)
        return out

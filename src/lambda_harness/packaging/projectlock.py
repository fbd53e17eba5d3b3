"""Dependencies declared in ``pyproject.toml`` and pinned by ``uv.lock`` or ``poetry.lock``.

Both locks list every package of the whole project (runtime and development) with its
version, its dependencies and the hashes of its files. The zip needs the runtime ones
only: the closure of the project's main dependencies (``[project] dependencies``, or
Poetry's ``main`` group), never dev groups. Each becomes a pinned ``name==version``
line with every hash the lock records, so pip installs exactly what was locked.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.errors import BuildError


@dataclass(frozen=True)
class Pinned:
    """One locked package: name, version, PEP 508 marker (or ""), sha256 hashes."""

    name: str
    version: str
    marker: str
    hashes: tuple[str, ...]

    def line(self) -> str:
        text = f"{self.name}=={self.version}"
        if self.marker:
            text += f" ; {self.marker}"
        return text + "".join(f" --hash={h}" for h in self.hashes)


def normalise(name: str) -> str:
    """PEP 503 normalised package name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"{path}: cannot read it as TOML ({exc}); regenerate it") from exc


def digest_of(*paths: Path) -> str:
    """sha256 over the files' names and bytes (the lock and the pyproject beside it)."""
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------- uv.lock


def uv_requirements(lock_path: Path) -> list[Pinned]:
    """The runtime closure of the project in ``uv.lock`` (the package whose source is ``.``)."""
    data = _toml(lock_path)
    packages = data.get("package") or []
    by_name: dict[str, list[dict[str, Any]]] = {}
    for pkg in packages:
        by_name.setdefault(normalise(str(pkg.get("name", ""))), []).append(pkg)
    roots = [p for p in packages if _uv_is_project(p)]
    if not roots:
        raise BuildError(
            f'{lock_path}: no project package (source = {{ virtual = "." }} or {{ editable = "." }}); '
            "run `uv lock` in the folder of the pyproject.toml that declares the functions' dependencies"
        )
    markers: dict[tuple[str, str], set[str]] = {}
    queue: list[tuple[dict[str, Any], str]] = [(dep, "") for root in roots for dep in _uv_edges(root, set())]
    while queue:
        dep, via = queue.pop()
        name = normalise(str(dep.get("name", "")))
        pkg = _uv_pick(by_name.get(name, []), dep, lock_path)
        marker = _and(via, str(dep.get("marker") or ""))
        key = (name, str(pkg.get("version")))
        seen = markers.setdefault(key, set())
        if marker in seen or "" in seen:
            continue
        seen.add(marker)
        queue += [(sub, marker) for sub in _uv_edges(pkg, set(dep.get("extra") or []))]
    out = []
    for (name, version), marks in sorted(markers.items()):
        pkg = next(p for p in by_name[name] if str(p.get("version")) == version)
        _uv_check_source(pkg, lock_path)
        hashes = [f.get("hash") for f in [*(pkg.get("wheels") or []), pkg.get("sdist") or {}]]
        marker = "" if "" in marks else " or ".join(f"({m})" if len(marks) > 1 else m for m in sorted(marks))
        out.append(Pinned(str(pkg["name"]), version, marker, tuple(sorted(h for h in hashes if h))))
    return out


def _uv_is_project(pkg: Mapping[str, Any]) -> bool:
    source = pkg.get("source") or {}
    return source.get("virtual") == "." or source.get("editable") == "."


def _uv_edges(pkg: Mapping[str, Any], extras: set[str]) -> list[dict[str, Any]]:
    edges = list(pkg.get("dependencies") or [])
    optional = pkg.get("optional-dependencies") or {}
    for extra in sorted(extras):
        edges += list(optional.get(extra) or [])
    return edges


def _uv_pick(candidates: list[dict[str, Any]], dep: Mapping[str, Any], lock_path: Path) -> dict[str, Any]:
    wanted = dep.get("version")
    for pkg in candidates:
        if wanted is None or str(pkg.get("version")) == str(wanted):
            return pkg
    raise BuildError(f"{lock_path}: {dep.get('name')} {wanted or ''} is not in the lock; run `uv lock`")


def _uv_check_source(pkg: Mapping[str, Any], lock_path: Path) -> None:
    source = pkg.get("source") or {}
    if "registry" in source or "url" in source:
        return
    kind = next(iter(source), "unknown")
    raise BuildError(
        f"{lock_path}: {pkg.get('name')} comes from a {kind} source ({source.get(kind)}), which has no "
        "pinned wheel for the Lambda platform; publish it as a wheel to your index, or vendor its code "
        "into the functions folder"
    )


def _and(a: str, b: str) -> str:
    if a and b:
        return f"({a}) and ({b})"
    return a or b


# ---------------------------------------------------------------- poetry.lock


def poetry_requirements(lock_path: Path, pyproject: Path) -> list[Pinned]:
    """The ``main`` group of ``poetry.lock`` (Poetry 2 ``groups``, Poetry 1 ``category``, or the closure)."""
    data = _toml(lock_path)
    packages = [p for p in data.get("package") or [] if isinstance(p, Mapping)]
    chosen = [p for p in packages if _poetry_in_main(p)]
    if not any("groups" in p or "category" in p for p in packages):
        chosen = _poetry_closure(packages, _poetry_roots(pyproject), lock_path)
    out = []
    for pkg in sorted(chosen, key=lambda p: normalise(str(p.get("name")))):
        source = pkg.get("source") or {}
        if source.get("type") in ("directory", "file", "git"):
            raise BuildError(
                f"{lock_path}: {pkg.get('name')} comes from a {source.get('type')} source "
                f"({source.get('url')}); publish it as a wheel to your index, or vendor it into the "
                "functions folder"
            )
        hashes = tuple(sorted(str(f.get("hash")) for f in pkg.get("files") or [] if f.get("hash")))
        out.append(Pinned(str(pkg["name"]), str(pkg["version"]), str(pkg.get("markers") or ""), hashes))
    return out


def _poetry_in_main(pkg: Mapping[str, Any]) -> bool:
    if "groups" in pkg:
        return "main" in (pkg.get("groups") or [])
    return pkg.get("category") == "main"


def _poetry_roots(pyproject: Path) -> list[str]:
    data = _toml(pyproject) if pyproject.is_file() else {}
    names = [
        _requirement_name(r)
        for r in (data.get("project", {}).get("dependencies") or [])
        if isinstance(r, str)
    ]
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies") or {}
    names += [normalise(n) for n in poetry if n.lower() != "python"]
    return names


def _poetry_closure(packages: list[Mapping[str, Any]], roots: Iterable[str], lock_path: Path) -> list[Any]:
    by_name = {normalise(str(p.get("name"))): p for p in packages}
    seen: dict[str, Mapping[str, Any]] = {}
    queue = list(roots)
    while queue:
        name = queue.pop()
        if name in seen:
            continue
        if name not in by_name:
            raise BuildError(f"{lock_path}: {name} is declared but not locked; run `poetry lock`")
        seen[name] = by_name[name]
        for dep, spec in (by_name[name].get("dependencies") or {}).items():
            if not (isinstance(spec, Mapping) and spec.get("optional")):
                queue.append(normalise(dep))
    return list(seen.values())


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return normalise(match.group(1)) if match else requirement


def declared_dependencies(pyproject: Path) -> list[str]:
    """``[project] dependencies`` of a pyproject.toml (empty when none or unreadable)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return []
    deps = data.get("project", {}).get("dependencies") or []
    poetry = [n for n in data.get("tool", {}).get("poetry", {}).get("dependencies") or {} if n != "python"]
    return [str(d) for d in deps] + poetry

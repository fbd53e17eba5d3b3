"""The dependency lock: a pinned ``requirements.txt``, a ``Pipfile.lock``, or the
dependencies of a ``pyproject.toml`` pinned by ``uv.lock`` or ``poetry.lock``.

Each becomes one requirements text that pip installs. Every requirement must be
pinned (``name==version``, a direct URL or a wheel file), else the build stops
naming the file and line: an unpinned lock would make dists.zip depend on the
day it was built. Supported formats, in the order they are looked for in each
folder: ``requirements.txt``, ``Pipfile.lock``, ``uv.lock``, ``poetry.lock``
(the last two only beside a ``pyproject.toml``; ``projectlock``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.errors import BuildError
from lambda_harness.packaging.projectlock import digest_of, normalise, poetry_requirements, uv_requirements

# name[extras] (== | ===) version, then optional markers; PEP 508 names.
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s;,*]+\s*(;.*)?$")
_DIRECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*@\s*\S+")
_WHEEL_FILE = re.compile(r"\S+\.whl(\s*;.*)?$")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)")


@dataclass(frozen=True)
class LockFile:
    """A lock ready for pip: the text to install and what identifies it."""

    path: Path
    kind: str  # "requirements" | "pipfile" | "uv" | "poetry"
    requirements: str  # requirements-file text pip installs (for requirements.txt: the file itself)
    has_hashes: bool
    sha256: str  # of the file and everything it includes
    count: int  # number of requirements
    # A function's own requirements naming packages the shared lock pins: pip installs them
    # with the shared lock as constraints (pip -c), and every installed package must be pinned.
    constraints: str = ""
    constraints_from: Path | None = None

    @property
    def is_empty(self) -> bool:
        return self.count == 0


def load_lock(path: Path) -> LockFile:
    """Read and check a lock file; ``BuildError`` naming the line when a requirement is unpinned."""
    if not path.is_file():
        raise BuildError(
            f'{path}: lock file not found; create it or set lock-file = "..." under [tool.lambda-harness]'
        )
    if path.name in ("uv.lock", "poetry.lock"):
        return _load_project_lock(path)
    if path.name.endswith(".lock") or path.suffix == ".json":
        return _load_pipfile_lock(path)
    digest = hashlib.sha256()
    count, hashes = _check_requirements(path, digest, seen=set())
    return LockFile(path, "requirements", path.read_text(encoding="utf-8"), hashes, digest.hexdigest(), count)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, joined line) with continuations joined and comments removed."""
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buf:
            start = number
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            out.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        out.append((start, buf.strip()))
    return out


def _check_requirements(path: Path, digest: Any, seen: set[Path]) -> tuple[int, bool]:
    real = path.resolve()
    if real in seen:
        return 0, False
    seen.add(real)
    text = path.read_text(encoding="utf-8")
    digest.update(f"{path.name}\0{text}\0".encode())
    count, hashes = 0, False
    for number, line in _logical_lines(text):
        include = _INCLUDE.match(line)
        if include:
            sub = path.parent / include.group(2)
            sub_count, sub_hashes = _check_requirements(sub, digest, seen)
            count += sub_count if include.group(1) in ("-r", "--requirement") else 0
            hashes = hashes or sub_hashes
            continue
        if line.startswith(("-e", "--editable")):
            raise BuildError(
                f"{path}:{number}: editable requirement {line!r} cannot go into dists.zip; "
                "pin it as name==version"
            )
        if line.startswith("-"):
            continue  # an option line (--index-url, --find-links, ...): pip reads it
        requirement = re.split(r"\s--hash", line, maxsplit=1)[0].strip()
        hashes = hashes or "--hash" in line
        if not (_PINNED.match(requirement) or _DIRECT.match(requirement) or _WHEEL_FILE.match(requirement)):
            raise BuildError(
                f"{path}:{number}: requirement {requirement!r} is not pinned; pin it as name==version "
                "(e.g. with `pip-compile --generate-hashes` or `pip freeze`) so every build installs the same"
            )
        count += 1
    return count, hashes


def _load_pipfile_lock(path: Path) -> LockFile:
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
        default: dict[str, Any] = data["default"]
        if not isinstance(default, dict):
            raise TypeError(f'"default" is a {type(default).__name__}, not an object')
    except (ValueError, KeyError, TypeError) as exc:
        raise BuildError(
            f'{path}: not a Pipfile.lock (no "default" section): {exc}; regenerate it with `pipenv lock`'
        ) from exc
    lines: list[str] = []
    for name in sorted(default):
        lines.append(_pipfile_entry(path, name, default[name]))
    text = "".join(line + "\n" for line in lines)
    has_hashes = all("--hash=" in line for line in lines) and bool(lines)
    return LockFile(path, "pipfile", text, has_hashes, hashlib.sha256(raw).hexdigest(), len(lines))


def _pipfile_entry(path: Path, name: str, entry: Any) -> str:
    if not isinstance(entry, dict) or not str(entry.get("version", "")).startswith("=="):
        raise BuildError(
            f'{path}: package {name!r} in "default" has no pinned version (git, path or editable entry); '
            "dists.zip needs name==version: publish it as a wheel or vendor it into functions/"
        )
    extras = entry.get("extras") or []
    line = f"{name}{'[' + ','.join(sorted(extras)) + ']' if extras else ''}{entry['version']}"
    if entry.get("markers"):
        line += f" ; {entry['markers']}"
    for digest in sorted(entry.get("hashes") or []):
        line += f" --hash={digest}"
    return line


def _load_project_lock(path: Path) -> LockFile:
    """``uv.lock``/``poetry.lock``: the runtime dependencies of the pyproject.toml beside it."""
    pyproject = path.parent / "pyproject.toml"
    if not pyproject.is_file():
        raise BuildError(
            f"{path}: no pyproject.toml beside it, so which dependencies are the functions' is unknown; "
            "keep the lock next to its pyproject.toml, or export a requirements.txt and point lock-file at it"
        )
    if path.name == "uv.lock":
        pinned, kind = uv_requirements(path), "uv"
    else:
        pinned, kind = poetry_requirements(path, pyproject), "poetry"
    lines = [p.line() for p in pinned]
    has_hashes = bool(lines) and all(p.hashes for p in pinned)
    text = "".join(line + "\n" for line in lines)
    return LockFile(path, kind, text, has_hashes, digest_of(path, pyproject), len(lines))


def pins_of(text: str) -> dict[str, str]:
    """normalised name -> version of every ``name==version`` line (markers and hashes dropped)."""
    pins: dict[str, str] = {}
    for _number, line in _logical_lines(text):
        requirement = re.split(r"\s--hash", line, maxsplit=1)[0].split(";", 1)[0].strip()
        found = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*===?\s*([^\s;,*]+)$", requirement)
        if found:
            pins[normalise(found.group(1))] = found.group(3)
    return pins


def load_function_lock(path: Path, shared: LockFile | None) -> LockFile:
    """A function folder's ``requirements.txt``: pinned on its own, or pinned by the shared lock.

    Lines it pins itself are installed as they are; names it leaves unpinned must be pinned
    by the shared lock, which then constrains the whole install (``pip -c``): the function gets
    only what it names, at the versions the repo locked.
    """
    text = path.read_text(encoding="utf-8")
    unpinned = []
    for number, line in _logical_lines(text):
        if line.startswith("-"):
            continue
        requirement = re.split(r"\s--hash", line, maxsplit=1)[0].strip()
        if not (_PINNED.match(requirement) or _DIRECT.match(requirement) or _WHEEL_FILE.match(requirement)):
            unpinned.append((number, requirement))
    if not unpinned:
        return load_lock(path)
    if shared is None:
        number, requirement = unpinned[0]
        raise BuildError(
            f"{path}:{number}: requirement {requirement!r} is not pinned and the repo has no shared lock "
            "to pin it; pin it as name==version here, or in a lock file at the repo root"
        )
    pins = pins_of(shared.requirements)
    for number, requirement in unpinned:
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if name is None or normalise(name.group(0)) not in pins:
            raise BuildError(
                f"{path}:{number}: {requirement!r} is pinned neither here nor in the shared lock "
                f"{shared.path}; pin it in one of them"
            )
    constraints = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    digest = hashlib.sha256(f"{path.name}\0{text}\0{shared.sha256}".encode()).hexdigest()
    count = len([line for _n, line in _logical_lines(text) if not line.startswith("-")])
    return LockFile(path, "requirements", text, False, digest, count, constraints, shared.path)

"""Find the CPython that matches a function's runtime (python3.12 -> a CPython 3.12).

Looked for on PATH (``python3.12``), in pyenv (``$PYENV_ROOT/versions/3.12.*``) and in
/usr/bin and /usr/local/bin. Each candidate is run once with ``-c`` to confirm its
version and to learn its real executable (pyenv shims resolve to the binary, so
workers start without the shim's cost); answers are cached.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_harness import proc
from lambda_harness.endpoint.runtime.model import SUPPORTED_RUNTIMES, InterpreterNotFound, python_version_of
from lambda_harness.errors import CommandFailed

logger = logging.getLogger(__name__)

_PROBE_CODE = (
    "import sys;print(tuple(sys.version_info[:3]));print(sys.implementation.name);print(sys.executable)"
)


@dataclass(frozen=True)
class Interpreter:
    """A verified CPython: its real executable and its (major, minor) version."""

    path: Path
    version: tuple[int, int]
    micro: int = 0

    @property
    def label(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


Probe = Callable[[Path], Interpreter | None]


def probe(candidate: Path) -> Interpreter | None:
    """Run ``candidate`` once; None unless it is a working CPython."""
    try:
        done = proc.run([candidate, "-c", _PROBE_CODE], check=True, timeout=20)
    except (OSError, CommandFailed, subprocess.TimeoutExpired) as exc:
        logger.debug("interpreter probe %s failed: %s", candidate, exc)
        return None
    lines = done.stdout.strip().splitlines()
    if len(lines) != 3 or lines[1] != "cpython":
        return None
    try:
        major, minor, micro = (int(part) for part in lines[0].strip("()").split(","))
    except ValueError:
        return None
    return Interpreter(Path(lines[2]), (major, minor), micro)


class InterpreterFinder:
    """Where to look for CPythons, injectable for tests (``path_env``, ``pyenv_root``, ``probe``)."""

    def __init__(
        self,
        *,
        path_env: str | None,
        pyenv_root: Path | None,
        system_dirs: Sequence[Path] = (Path("/usr/local/bin"), Path("/usr/bin")),
        probe: Probe = probe,
    ) -> None:
        self.path_env = path_env
        self.pyenv_root = pyenv_root
        self.system_dirs = tuple(system_dirs)
        self._probe = probe
        self._cache: dict[tuple[int, int], Interpreter | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> InterpreterFinder:
        """Search the given PATH and ``$PYENV_ROOT`` (default ``~/.pyenv``)."""
        root = environ.get("PYENV_ROOT") or (
            str(Path(environ["HOME"]) / ".pyenv") if "HOME" in environ else None
        )
        return cls(path_env=environ.get("PATH", ""), pyenv_root=Path(root) if root else None)

    def places(self) -> str:
        """The searched places, for error messages."""
        spots = ["PATH"]
        spots.append(f"{self.pyenv_root}/versions" if self.pyenv_root else "$PYENV_ROOT/versions")
        spots += [str(d) for d in self.system_dirs]
        return ", ".join(spots)

    def candidates(self, version: tuple[int, int]) -> list[Path]:
        """Existing files that may be CPython ``version``, in preference order."""
        name = f"python{version[0]}.{version[1]}"
        found: list[Path] = []
        for folder in (self.path_env or "").split(os.pathsep):
            if folder:
                found.append(Path(folder) / name)
        if self.pyenv_root is not None:
            prefix = f"{version[0]}.{version[1]}."
            versions = self.pyenv_root / "versions"
            if versions.is_dir():
                for sub in sorted(versions.iterdir(), key=lambda p: p.name, reverse=True):
                    if sub.name.startswith(prefix):
                        found.append(sub / "bin" / name)
        found += [d / name for d in self.system_dirs]
        unique: list[Path] = []
        for path in found:
            if path not in unique and path.is_file() and os.access(path, os.X_OK):
                unique.append(path)
        return unique

    def find(self, version: tuple[int, int]) -> Interpreter | None:
        """The first candidate that really is CPython ``version`` (cached)."""
        with self._lock:
            if version in self._cache:
                return self._cache[version]
        result = None
        for candidate in self.candidates(version):
            got = self._probe(candidate)
            if got is not None and got.version == version:
                result = got
                break
        with self._lock:
            self._cache[version] = result
        return result

    def fallback_order(self, version: tuple[int, int]) -> list[tuple[int, int]]:
        """Other supported versions, nearest first, newer before older at equal distance."""
        others = [v for v in SUPPORTED_RUNTIMES.values() if v != version]
        return sorted(others, key=lambda v: (abs(v[1] - version[1]), v[1] < version[1]))

    def resolve(self, fn_name: str, runtime: str, allow_fallback: bool) -> tuple[Interpreter, str | None]:
        """The interpreter for ``runtime`` and a warning when it is a fallback.

        Raises ``InterpreterNotFound`` naming the function, the places searched and the fix.
        """
        wanted = python_version_of(fn_name, runtime)
        exact = self.find(wanted)
        if exact is not None:
            return exact, None
        nearest = next((i for v in self.fallback_order(wanted) if (i := self.find(v)) is not None), None)
        label = f"{wanted[0]}.{wanted[1]}"
        if nearest is not None and allow_fallback:
            return nearest, (
                f"function {fn_name} declares runtime {runtime} but no CPython {label} was found; "
                f"running it under CPython {nearest.label} ({nearest.path}) "
                "because runtime fallback is allowed"
            )
        fix = f"Install it (pyenv install {label})"
        if nearest is None:
            fix += ". No other CPython 3.9-3.14 was found either"
        else:
            fix += (
                " or set allow-runtime-fallback = true / LAMBDA_HARNESS_ALLOW_RUNTIME_FALLBACK=1 "
                f"to run it under {nearest.label}"
            )
        raise InterpreterNotFound(
            f"function {fn_name} declares runtime {runtime} but no CPython {label} was found "
            f"(looked in {self.places()}). {fix}"
        )

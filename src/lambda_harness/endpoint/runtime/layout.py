"""Files of an execution environment: the runtime folder, the task root and /opt.

- Runtime folder (Lambda's /var/runtime): awslambdaric and the SDK, installed once per
  (Python version, host machine) under ``cache_dir/runtimes/python3.X-<machine>/``.
- Task root (/var/task): the deployment package, extracted once per code hash under
  ``work_dir/code/<hex sha256>/``.
- /opt: the function's layers, extracted in order into one folder per layer set under
  ``work_dir/opt/<hash>/``.

Every folder is built in a temporary sibling and renamed into place, so a reader
never sees half a folder; a file lock (``fcntl.flock``) serialises installs
between processes and a thread lock between threads.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import io
import logging
import platform
import shutil
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lambda_harness import proc
from lambda_harness.endpoint.runtime.interpreters import Interpreter
from lambda_harness.endpoint.runtime.model import FunctionConfig
from lambda_harness.errors import CommandFailed, EndpointError

logger = logging.getLogger(__name__)

#: awslambdaric as AWS's own Python base images use it.
AWSLAMBDARIC = "awslambdaric==4.2.2"
#: awslambdaric 4.1+ has no CPython 3.9 wheels; 4.0.4 is the last release that has them.
AWSLAMBDARIC_FOR: dict[tuple[int, int], str] = {(3, 9): "awslambdaric==4.0.4"}
#: The SDK the managed python3.12/3.13 runtimes shipped in the second half of 2025
#: (boto3-1.40.4 botocore-1.40.4 in the Lambda runtimes table); a function that
#: bundles its own boto3 in the zip shadows it, as in Lambda.
SDK = ("boto3==1.40.4", "botocore==1.40.4")

#: Written into the runtime folder: hides the host interpreter's own site-packages,
#: which Lambda's /var/lang does not have, so a module that is only installed on this
#: machine fails to import here as it would in AWS.
_SITECUSTOMIZE = '''\
"""lambda-harness: drop the host interpreter's site-packages from sys.path (Lambda has none of it)."""
import site as _site
import sys as _sys

_hidden = set(_site.getsitepackages())
_sys.path[:] = [_p for _p in _sys.path if _p not in _hidden]
del _site, _sys, _hidden
'''


def ric_version(interpreter: Interpreter) -> str:
    """The awslambdaric requirement a runtime folder for ``interpreter`` holds."""
    return AWSLAMBDARIC_FOR.get(interpreter.version, AWSLAMBDARIC)


def host_machine() -> str:
    """``x86_64`` or ``aarch64`` (what native wheels must be built for)."""
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _publish(build: Callable[[Path], None], target: Path) -> Path:
    """Build into a temporary sibling of ``target`` and rename it into place.

    ``target`` only ever appears complete (rename is atomic), so its existence is
    the completeness marker; when another process won the race its copy is kept.
    """
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


class RuntimeFolders:
    """Installs awslambdaric + the SDK per (Python version, machine), once."""

    def __init__(self, cache_dir: Path, *, pip_python: Path | None = None) -> None:
        self.root = cache_dir / "runtimes"
        self.pip_python = pip_python or Path(sys.executable)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path_for(self, version: tuple[int, int], machine: str) -> Path:
        return self.root / f"python{version[0]}.{version[1]}-{machine}"

    def ensure(self, interpreter: Interpreter, machine: str | None = None) -> Path:
        """The runtime folder for ``interpreter``'s version, installed if missing."""
        machine = machine or host_machine()
        target = self.path_for(interpreter.version, machine)
        if target.is_dir():
            return target
        with self._guard:
            lock = self._locks.setdefault(target.name, threading.Lock())
        with lock, _file_lock(self.root / f".{target.name}.lock"):
            if target.is_dir():
                return target
            logger.info(
                "installing %s and %s into %s",
                AWSLAMBDARIC_FOR.get(interpreter.version, AWSLAMBDARIC),
                " ".join(SDK),
                target,
            )
            _publish(lambda tmp: self._install(tmp, interpreter.version, machine), target)
            self._compile(target, interpreter)
        return target

    def _install(self, into: Path, version: tuple[int, int], machine: str) -> None:
        args: list[str | Path] = [
            self.pip_python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--no-compile",
            "--target",
            into,
            "--python-version",
            f"{version[0]}.{version[1]}",
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--platform",
            f"manylinux2014_{machine}",
            AWSLAMBDARIC_FOR.get(version, AWSLAMBDARIC),
            *SDK,
        ]
        try:
            proc.run(args, timeout=600)
        except CommandFailed as exc:
            raise EndpointError(
                f"could not install the Lambda runtime for Python {version[0]}.{version[1]} "
                f"into {into.parent}: pip failed (is PyPI reachable, or a pip index configured?)\n{exc}"
            ) from exc
        (into / "sitecustomize.py").write_text(_SITECUSTOMIZE)

    def _compile(self, target: Path, interpreter: Interpreter) -> None:
        """Byte-compile with the target interpreter: cold starts then skip compiling boto3."""
        try:
            proc.run(
                [interpreter.path, "-m", "compileall", "-q", "-j", "0", target], check=False, timeout=600
            )
        except Exception as exc:  # an optimisation only; workers compile on demand otherwise
            logger.debug("compileall in %s failed: %s", target, exc)


def sha256_hex(code_sha256_b64: str, fn_name: str) -> str:
    """AWS's base64 CodeSha256 as hex (a folder name)."""
    try:
        raw = base64.b64decode(code_sha256_b64, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise EndpointError(f"function {fn_name}: CodeSha256 {code_sha256_b64!r} is not a base64 SHA-256")
    return raw.hex()


def _extract(data: bytes, into: Path, what: str) -> None:
    """Unzip keeping Unix permission bits (Lambda keeps them; scripts stay executable)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                dest = Path(zf.extract(info, into))
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    dest.chmod(mode | 0o400)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise EndpointError(f"{what} is not a readable zip archive: {exc}") from exc


class CodeStore:
    """Task roots and /opt folders under ``work_dir``, extracted once per hash."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self._verified: dict[tuple[str, int], str] = {}
        self._layer_digests: dict[int, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def verify(self, fn: FunctionConfig) -> str:
        """The code's hex digest; ``EndpointError`` unless the bytes match ``code_sha256``."""
        key = (fn.code_sha256, len(fn.code_zip))
        with self._lock:
            if key in self._verified:
                return self._verified[key]
        expected = sha256_hex(fn.code_sha256, fn.name)
        actual = hashlib.sha256(fn.code_zip).digest()
        if actual.hex() != expected:
            raise EndpointError(
                f"function {fn.name}: the deployment package does not match its CodeSha256 "
                f"(expected {fn.code_sha256}, got {base64.b64encode(actual).decode()}); "
                "the code changed after upload: redeploy it"
            )
        with self._lock:
            self._verified[key] = expected
        return expected

    def task_root(self, fn: FunctionConfig) -> Path:
        """``work_dir/code/<hex>/``, the extracted deployment package."""
        digest = self.verify(fn)
        target = self.work_dir / "code" / digest
        if target.is_dir():
            return target
        with self._key_lock(f"code/{digest}"):
            return _publish(
                lambda tmp: _extract(fn.code_zip, tmp, f"function {fn.name}: deployment package"), target
            )

    def layer_digests(self, layers: Sequence[bytes]) -> tuple[str, ...]:
        """SHA-256 of each layer, memoised per bytes object (layers are hashed once)."""
        out = []
        for layer in layers:
            with self._lock:
                hit = self._layer_digests.get(id(layer))
            if hit is not None and hit[0] is layer:
                out.append(hit[1])
                continue
            digest = hashlib.sha256(layer).hexdigest()
            with self._lock:
                self._layer_digests[id(layer)] = (layer, digest)
            out.append(digest)
        return tuple(out)

    def opt_dir(self, fn: FunctionConfig) -> Path | None:
        """``work_dir/opt/<hash>/`` with every layer extracted in order (later ones win), or None."""
        if not fn.layers:
            return None
        digests = self.layer_digests(fn.layers)
        key = hashlib.sha256("\n".join(digests).encode()).hexdigest()[:32]
        target = self.work_dir / "opt" / key

        def build(tmp: Path) -> None:
            for index, layer in enumerate(fn.layers, start=1):
                _extract(layer, tmp, f"function {fn.name}: layer {index}")

        if target.is_dir():
            return target
        with self._key_lock(f"opt/{key}"):
            return _publish(build, target)

"""Coverage of handler code, measured inside each execution environment.

When coverage is on, a worker starts ``lambda_harness_coverage_boot`` instead of
``-m awslambdaric``: it starts coverage.py (one data file per process, the
function's name as the static context) before awslambdaric imports the handler,
and flushes the data to its file each time the runtime asks for its next event.

Line coverage (the default) runs on coverage.py's ``sysmon`` core on Python 3.12+:
``sys.monitoring`` stops calling back into code outside the functions folder after
its first event, so importing boto3 costs what it costs without coverage. Branch
coverage cannot use it before Python 3.14 (coverage.py falls back to its C tracer,
which is called on every call of every frame: a boto3 import takes 2.5-3.5x as long).
So every environment parked in ``GET /next`` has its data on disk, and stopping it
loses nothing; an environment killed mid-invocation (timeout, memory) loses that
invocation's lines only.

coverage.py is installed once per (coverage version, Python version, machine)
beside the runtime folders, never into the runtime folder itself: with coverage
off, handlers cannot import it, as on AWS.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_harness import proc
from lambda_harness.endpoint.runtime.interpreters import Interpreter
from lambda_harness.endpoint.runtime.layout import _file_lock, _publish
from lambda_harness.errors import CommandFailed, EndpointError

logger = logging.getLogger(__name__)

BOOT_MODULE = "lambda_harness_coverage_boot"

#: Runs in the worker, as ``python -s -m lambda_harness_coverage_boot <handler>``.
BOOT_SOURCE = '''\
"""lambda-harness: measure coverage of this execution environment, then run awslambdaric."""
import os
import runpy
import sys

import coverage

_cov = coverage.Coverage(
    config_file=os.environ.pop("LAMBDA_HARNESS_COVERAGE_RC"),
    data_suffix=True,
    context=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
)
if sys.version_info >= (3, 12) and not _cov.get_option("run:branch"):
    # sys.monitoring: code outside `include` costs nothing after its first call (the C tracer
    # is called on every call of every frame). Branch coverage needs 3.14 for it.
    _cov.set_option("run:core", "sysmon")
_cov.start()

try:
    from awslambdaric.lambda_runtime_client import LambdaRuntimeClient as _Client
except ImportError:  # an awslambdaric without that class: data is saved at exit only
    _Client = None

if _Client is not None:
    _next = _Client.wait_next_invocation

    def _save_then_wait(self):
        # Flushed into the data file before asking for the next event: an environment waiting
        # for work has nothing unsaved, so stopping it (even with SIGKILL) loses nothing.
        # get_data() writes the new lines to the SQLite file (under 1 ms when little is new);
        # save() would also hash the whole file to rename it, ~9 ms per invocation.
        _cov.get_data()
        return _next(self)

    _Client.wait_next_invocation = _save_then_wait

sys.argv[0] = "awslambdaric"
try:
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
finally:
    _cov.stop()
    _cov.save()
'''


@dataclass(frozen=True)
class CoverageSpec:
    """What to measure: the top-level modules and packages of the functions folder, and where to write.

    ``sources`` are names at the zip root (``risk_ingest``, ``worker_lib``, ``lambda_fine.py``):
    only files under them are measured, never the dependencies beside them.
    """

    data_dir: Path
    sources: tuple[str, ...]
    branch: bool = False

    @property
    def token(self) -> str:
        """A short hash of the spec: part of a worker's fingerprint (a new spec retires old workers)."""
        text = "\n".join([str(self.data_dir), str(self.branch), *self.sources])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def include_patterns(code_root: Path, sources: Sequence[str]) -> list[str]:
    """coverage.py ``include`` globs for ``sources`` in any extracted zip under ``code_root``.

    coverage's ``*`` matches one path component and a trailing ``/*`` everything below.
    """
    patterns = []
    for name in sources:
        if name.endswith(".py"):
            patterns.append(f"{code_root}/*/{name}")
        else:
            patterns.append(f"{code_root}/*/{name}/*")
    return patterns


def worker_rc(spec: CoverageSpec, code_root: Path) -> str:
    """The coverage configuration every worker of this spec reads."""
    include = "\n".join(f"    {p}" for p in include_patterns(code_root, spec.sources))
    return (
        "# Written by lambda-harness for the execution environments; do not edit.\n"
        "[run]\n"
        f"branch = {'True' if spec.branch else 'False'}\n"
        "parallel = True\n"
        f"data_file = {spec.data_dir / '.coverage'}\n"
        "disable_warnings = no-data-collected, module-not-measured, couldnt-parse\n"
        f"include =\n{include}\n"
    )


def write_worker_rc(spec: CoverageSpec, code_root: Path) -> Path:
    """Write the workers' configuration into the data folder; its path."""
    spec.data_dir.mkdir(parents=True, exist_ok=True)
    path = spec.data_dir / f"worker-{spec.token}.coveragerc"
    path.write_text(worker_rc(spec, code_root), encoding="utf-8")
    return path


def coverage_version() -> str:
    """The coverage.py version of the harness itself: workers use the same one, so data combines."""
    try:
        import coverage
    except ImportError as exc:  # a dependency of lambda-harness; only a broken install lacks it
        raise EndpointError(
            "coverage.py is not installed next to lambda-harness; reinstall lambda-harness "
            "(it depends on coverage) to measure coverage"
        ) from exc
    return str(coverage.__version__)


class CoverageFolders:
    """coverage.py + the boot module per (coverage version, Python version, machine), installed once."""

    def __init__(self, cache_dir: Path, *, pip_python: Path, version: str | None = None) -> None:
        self.root = cache_dir / "runtimes"
        self.pip_python = pip_python
        self.version = version or coverage_version()

    def path_for(self, python: tuple[int, int], machine: str) -> Path:
        # The boot module's hash in the name: a harness with another boot module gets its own folder.
        boot = hashlib.sha256(BOOT_SOURCE.encode()).hexdigest()[:8]
        return self.root / f"coverage-{self.version}-{boot}-python{python[0]}.{python[1]}-{machine}"

    def ensure(self, interpreter: Interpreter, machine: str) -> Path:
        """The folder for ``interpreter``'s version, installed if missing."""
        target = self.path_for(interpreter.version, machine)
        if target.is_dir():
            return target
        with _file_lock(self.root / f".{target.name}.lock"):
            if target.is_dir():
                return target
            logger.info("installing coverage==%s into %s", self.version, target)
            _publish(lambda tmp: self._install(tmp, interpreter.version, machine), target)
        return target

    def _install(self, into: Path, python: tuple[int, int], machine: str) -> None:
        args: list[str | Path] = [
            self.pip_python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--no-deps",
            "--target",
            into,
            "--python-version",
            f"{python[0]}.{python[1]}",
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--platform",
            f"manylinux2014_{machine}",
            f"coverage=={self.version}",
        ]
        try:
            proc.run(args, timeout=600)
        except CommandFailed as exc:
            raise EndpointError(
                f"could not install coverage=={self.version} for Python {python[0]}.{python[1]} into "
                f"{into.parent}: pip failed (is PyPI reachable, or a pip index configured?)\n{exc}"
            ) from exc
        (into / f"{BOOT_MODULE}.py").write_text(BOOT_SOURCE, encoding="utf-8")

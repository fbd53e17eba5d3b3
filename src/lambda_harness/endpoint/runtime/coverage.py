"""Coverage of handler code, measured inside each execution environment.

When coverage is on, the worker's ``bootstrap.py`` imports ``lambda_harness_coverage_boot``
(from the coverage folder, told by ``boot.config``) and calls its ``start`` just before
awslambdaric imports the handler (so module-level code counts). It measures with the
function's name as the context, and flushes what it measured to its own file each
time the runtime asks for its next event. So every environment parked in ``GET /next``
has its data on disk, and stopping it loses nothing; an environment killed
mid-invocation (timeout, memory) loses that invocation's lines only. A measuring
environment sees host paths (``filesystem = host``): AWS's layout covers ``/tmp`` and
``/var`` with private mounts, and the data must reach the project's folder.

What measures depends on the mode and the function's Python:

* line coverage (the default) on Python 3.12+: the boot module's own collector on
  ``sys.monitoring``, recording exactly what coverage.py's ``sysmon`` core records for
  line coverage (of the task root's own modules and packages), into
  ``lines.<pid>.<random>.jsonl``. It never imports coverage.py:
  that import alone costs about 100 ms of CPU per cold start, more than a trivial
  handler's whole cold start, and most test suites are mostly cold starts.
  ``stop_coverage`` turns these files into coverage.py data files
  (``lines_to_coverage_data``);
* branch coverage, or Python 3.11: coverage.py itself (``.coverage.<host>.<pid>.<random>``).
  Branch coverage runs on its C tracer before Python 3.14, which is called for every
  call of every frame: importing boto3 takes 2.5-3.5x as long under it.

coverage.py and the boot module are installed once per (coverage version, boot
module, Python version, machine) beside the runtime folders, never into the runtime
folder itself: with coverage off, handlers cannot import them, as on AWS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_harness import proc
from lambda_harness.endpoint.runtime.interpreters import Interpreter
from lambda_harness.endpoint.runtime.layout import _file_lock, _publish
from lambda_harness.errors import CommandFailed, EndpointError

logger = logging.getLogger(__name__)

BOOT_MODULE = "lambda_harness_coverage_boot"
#: The worker bootstrap of this package: measuring workers run their coverage folder's copy, so
#: the coverage hook is there whatever version of the harness last wrote the runtime folder's.
BOOTSTRAP = Path(__file__).with_name("bootstrap.py")

#: Installed beside coverage.py; ``bootstrap.py`` imports it and calls ``start(spec)`` just
#: before it imports awslambdaric (and with it, the handler).
BOOT_SOURCE = '''\
"""lambda-harness: measure coverage in this execution environment (started by bootstrap.py).

Line coverage on Python 3.12+ is recorded here with sys.monitoring, the way coverage.py's
sysmon core records it, without importing coverage.py (about 100 ms of CPU per cold
start). Branch coverage, and line coverage before 3.12, run coverage.py itself.
"""
import atexit
import json
import os
import sys


class _Lines:
    """Executed lines of the functions folder's files (the task root's, not its dependencies').

    A PY_START event per new code object decides whether its file is measured, switches
    LINE events on for that code object only, and disables itself; a LINE event records
    its line once and disables itself. So code outside the functions folder costs one
    callback per code object, and a measured line one callback in all.
    """

    def __init__(self, spec, task_root, context):
        import _thread

        self.roots = tuple({task_root.rstrip("/") + "/", os.path.realpath(task_root).rstrip("/") + "/"})
        self.sources = frozenset(spec["sources"])
        self.context = context
        name = "lines.%d.%s.jsonl" % (os.getpid(), os.urandom(6).hex())
        self.path = os.path.join(spec["data_dir"], name)
        self.names = {}  # co_filename -> the measured file's real path, or "" if not measured
        self.new = {}  # real path -> lines recorded since the last flush
        self.lock = _thread.allocate_lock()
        self.mon = None
        self.tool = None

    def start(self):
        mon = self.mon = sys.monitoring
        for tool in range(mon.COVERAGE_ID, 6):
            try:
                mon.use_tool_id(tool, "lambda-harness coverage")
            except ValueError:  # taken (coverage.py run by the handler itself?): the next one
                continue
            self.tool = tool
            break
        else:
            raise RuntimeError("lambda-harness coverage: no sys.monitoring tool id is free")
        mon.register_callback(self.tool, mon.events.PY_START, self._start)
        mon.register_callback(self.tool, mon.events.LINE, self._line)
        mon.set_events(self.tool, mon.events.PY_START)

    def measured(self, filename):
        """The real path of a file of the functions folder under the task root, else ''."""
        for root in self.roots:
            if filename.startswith(root):
                parts = filename[len(root):].split("/")
                module = len(parts) == 1  # <module>.py, else <package>/...
                if parts[0] in self.sources and module == parts[0].endswith(".py"):
                    return os.path.realpath(filename)
        return ""

    def _start(self, code, offset):
        name = self.names.get(code.co_filename)
        if name is None:
            name = self.names[code.co_filename] = self.measured(code.co_filename)
        if name and code.co_name != "__annotate__":  # 3.14's annotation functions never run
            self.mon.set_local_events(self.tool, code, self.mon.events.LINE)
        return self.mon.DISABLE

    def _line(self, code, line):
        name = self.names.get(code.co_filename)
        if name:
            with self.lock:
                lines = self.new.get(name)
                if lines is None:
                    lines = self.new[name] = set()
                lines.add(line)
        return self.mon.DISABLE

    def flush(self):
        """Append the lines recorded since the last flush: {"context", "lines": {file: [...]}}."""
        with self.lock:
            new, self.new = self.new, {}
        if not new:
            return
        record = {"context": self.context, "lines": {name: sorted(lines) for name, lines in new.items()}}
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, (json.dumps(record) + "\\n").encode())
        finally:
            os.close(fd)


def start(spec_path):
    """Start measuring as ``spec_path`` (JSON: rc, branch, data_dir, sources) says."""
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    context = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
    if sys.version_info >= (3, 12) and not spec["branch"]:
        lines = _Lines(spec, os.environ["LAMBDA_TASK_ROOT"], context)
        lines.start()
        save = finish = lines.flush
    else:
        import coverage

        cov = coverage.Coverage(config_file=spec["rc"], data_suffix=True, context=context)
        cov.start()
        # get_data() writes the new lines to the SQLite file (under 1 ms when little is new);
        # save() would also hash the whole file to rename it, ~9 ms per invocation.
        save = cov.get_data

        def finish():
            cov.stop()
            cov.save()

    atexit.register(finish)
    try:
        from awslambdaric.lambda_runtime_client import LambdaRuntimeClient
    except ImportError:  # an awslambdaric without that class: data is saved at exit only
        return
    wait = LambdaRuntimeClient.wait_next_invocation

    def save_then_wait(self):
        # Flushed into the data file before asking for the next event: an environment waiting
        # for work has nothing unsaved, so stopping it (even with SIGKILL) loses nothing.
        save()
        return wait(self)

    LambdaRuntimeClient.wait_next_invocation = save_then_wait
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


def write_worker_files(spec: CoverageSpec, code_root: Path) -> Path:
    """Write what the workers of ``spec`` read into the data folder: coverage.py's configuration
    and the boot module's spec (``worker-<token>.json``, whose path they get); the spec's path."""
    spec.data_dir.mkdir(parents=True, exist_ok=True)
    rc = spec.data_dir / f"worker-{spec.token}.coveragerc"
    rc.write_text(worker_rc(spec, code_root), encoding="utf-8")
    path = spec.data_dir / f"worker-{spec.token}.json"
    boot = {
        "rc": str(rc),
        "branch": spec.branch,
        "data_dir": str(spec.data_dir),
        "code_root": str(code_root),
        "sources": list(spec.sources),
    }
    path.write_text(json.dumps(boot, indent=2) + "\n", encoding="utf-8")
    return path


def lines_to_coverage_data(data_dir: Path) -> list[Path]:
    """Turn the line collector's ``lines.*.jsonl`` files into coverage.py data files beside
    them (``.coverage.lines.<pid>.<random>``, each line under its function's context); the
    files written. A record cut short (the worker was killed while writing) is skipped."""
    import coverage  # the harness's own: the same version as the workers' coverage folders

    written = []
    for path in sorted(data_dir.glob("lines.*.jsonl")):
        data = coverage.CoverageData(basename=str(data_dir / ".coverage"), suffix=path.stem)
        for raw in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(raw)
                lines = {str(name): [int(n) for n in numbers] for name, numbers in record["lines"].items()}
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            data.set_context(str(record.get("context") or ""))
            data.add_lines(lines)
        data.write()
        path.unlink()
        written.append(Path(data.data_filename()))
    return written


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
        # The boot module's and the bootstrap's hash in the name: another harness version gets its
        # own folder (the runtime folders' bootstrap.py is rewritten by whichever version ran last).
        digest = hashlib.sha256(BOOT_SOURCE.encode() + BOOTSTRAP.read_bytes()).hexdigest()[:8]
        return self.root / f"coverage-{self.version}-{digest}-python{python[0]}.{python[1]}-{machine}"

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
        shutil.copyfile(BOOTSTRAP, into / BOOTSTRAP.name)

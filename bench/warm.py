"""The warm loop and ``watch`` on the reference repo (this repository's own functions and Terraform).

    .venv/bin/python bench/warm.py [--edits 5] [--keep]

Copies the reference worker repo (functions/, terraform/, tests/integration/, the lock file,
pyproject) into a temp folder and starts a detached endpoint on a free port (``up
--detach``), then:

1. ``lambda-harness run`` (the CLI, a child process): fresh, applied from scratch;
2. one handler edited, ``lambda-harness run`` again: warm, Terraform skipped, the code pushed;
3. ``lambda-harness run`` with nothing changed: warm, nothing pushed;
4. ``watch`` (in this process, against the same endpoint, with the real file watcher):
   ``--edits`` saves of a handler, each timed from the save to the table of its result.

It prints each figure, the warm/fresh ratio (issue 13's target: <= 0.1x) and the save to
result times (target: <= 2 s). Figures only: nothing is asserted. The endpoint is stopped
and the temp folder removed (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lambda_harness import proc
from lambda_harness.endpoint import control
from lambda_harness.endpoint.ports import free_port
from lambda_harness.settings import Settings, default_cache_dir, load_settings
from lambda_harness.watch import FileWatch, watch

REPO = Path(__file__).resolve().parents[1]
HANDLER = Path("functions") / "alert_enricher" / "app.py"  # a handler with several event cases
TARGET_WARM_RATIO = 0.1
TARGET_SAVE_TO_RESULT_S = 2.0


def copy_reference(dst: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", ".terraform", "*.tfstate*", ".terraform.lock.hcl")
    for name in ("functions", "terraform"):
        shutil.copytree(REPO / name, dst / name, ignore=ignore)
    shutil.copytree(REPO / "tests" / "integration", dst / "tests" / "integration", ignore=ignore)
    for name in ("requirements.txt", "pyproject.toml"):
        shutil.copy(REPO / name, dst / name)
    return dst


def load1() -> float:
    return os.getloadavg()[0]


def cli_run(project: Path, port: int, env: dict[str, str], timeout: float) -> tuple[float, str, int]:
    """``lambda-harness run`` as a child process: (seconds, its output, exit code)."""
    argv = [sys.executable, "-m", "lambda_harness", "run", "--project", str(project), "--port", str(port)]
    start = time.perf_counter()
    done = proc.run(argv, cwd=project, env={**env, "CI": "1"}, check=False, timeout=timeout)
    return time.perf_counter() - start, done.output, done.returncode


def steps_of(output: str) -> list[tuple[str, float]]:
    """The CLI's own step timings (``<step>: done in 1.2s`` lines) from a run's output."""
    steps = []
    for line in output.splitlines():
        head, sep, tail = line.partition(": done in ")
        if sep and tail.endswith("s"):
            steps.append((head.split(" against ")[0][:36], float(tail[:-1])))
    return steps


def edit(path: Path, n: int) -> None:
    """A real code change (the module's text differs every time)."""
    path.write_text(path.read_text(encoding="utf-8") + f"\n# benchmark edit {n}\n", encoding="utf-8")


class TimingUI:
    """The library's UI for watch: remembers when each table was printed."""

    def __init__(self) -> None:
        self.tables: list[float] = []
        self.warnings: list[str] = []
        self.infos: list[str] = []

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def fail(self, message: str) -> None:
        self.warnings.append(message)

    def emit(self, text: str) -> None:
        self.infos.append(text)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        yield

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.tables.append(time.perf_counter())


def bench_watch(settings: Settings, edits: int) -> tuple[list[float], list[str]]:
    """Save the handler ``edits`` times under ``watch``; seconds from each save to its table."""
    ui = TimingUI()
    watcher = FileWatch(settings)
    saved: list[float] = []
    handler = settings.project_dir / HANDLER

    def saves() -> Iterator[set[Path]]:
        for n in range(edits):
            time.sleep(0.3)  # a pause between saves, as a person makes (not a wait for a condition)
            saved.append(time.perf_counter())
            edit(handler, 100 + n)
            batch = watcher.next(timeout=30) or set()
            while handler not in batch:  # late events of the previous save: take the next batch
                more = watcher.next(timeout=30)
                if more is None:
                    break
                batch |= more
            yield batch

    watcher.start()
    try:
        watch(settings, ui, changes=saves(), max_batches=edits)
    finally:
        watcher.close()
    tables = ui.tables[1:]  # the first table is watch's start
    return [t - s for s, t in zip(saved, tables, strict=False)], [w for w in ui.warnings if "failed" in w]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--edits", type=int, default=5, help="handler saves timed under watch")
    parser.add_argument("--timeout", type=float, default=600.0, help="deadline of each run (s)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (printed)")
    args = parser.parse_args(argv)
    one, five, fifteen = os.getloadavg()
    print(
        f"lambda-harness warm-loop benchmark on the reference repo; {os.cpu_count()} CPUs; "
        f"load average {one:.2f} {five:.2f} {fifteen:.2f}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    base = Path(tempfile.mkdtemp(prefix="lh-bench-warm-"))
    project = copy_reference(base / "repo")
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_HARNESS_")}
    environ["LAMBDA_HARNESS_CACHE_DIR"] = str(default_cache_dir(os.environ))
    if "LAMBDA_HARNESS_TF_PLUGIN_DIR" in os.environ:
        environ["LAMBDA_HARNESS_TF_PLUGIN_DIR"] = os.environ["LAMBDA_HARNESS_TF_PLUGIN_DIR"]
    settings = load_settings(project, {"port": port}, environ=environ)
    rows: list[tuple[str, float | None, float, str]] = []
    try:
        control.start_detached(settings)
        control.wait_healthy(settings.endpoint_url, 60.0)
        load = load1()
        fresh, out, code = cli_run(project, port, environ, args.timeout)
        rows.append(("run, fresh (applied from scratch)", fresh, load, f"exit {code}"))
        if code != 0:
            print(out[-3000:])
            return 1
        edit(project / HANDLER, 1)
        load = load1()
        warm, out, code = cli_run(project, port, environ, args.timeout)
        pushed = next((ln for ln in out.splitlines() if "warm: terraform skipped" in ln), "?")
        rows.append(("run, warm, after a handler edit", warm, load, f"exit {code}; {pushed.strip()[:90]}"))
        rows += [(f"  {step}", took, load, "") for step, took in steps_of(out)]
        load = load1()
        same, out, code = cli_run(project, port, environ, args.timeout)
        rows.append(("run, warm, nothing changed", same, load, f"exit {code}"))
        load = load1()
        times, failures = bench_watch(settings, args.edits)
        for n, seconds in enumerate(times, 1):
            rows.append(
                (f"watch: save {n} -> result", seconds, load, "failed: " + failures[0] if failures else "")
            )
    finally:
        control.stop_detached(settings)
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(f"\n{'what':40}{'seconds':>9}  {'load1':>5}  note")
    for label, took, at, note in rows:
        shown = "-" if took is None else f"{took:9.2f}"
        print(f"{label:40}{shown:>9}  {at:5.2f}  {note}")
    ratio = warm / fresh
    verdict = "MET" if ratio <= TARGET_WARM_RATIO else "NOT met"
    print(
        f"warm run after a handler edit / fresh run: {ratio:.3f}x (target <= {TARGET_WARM_RATIO}x: {verdict})"
    )
    if times:
        worst = max(times)
        verdict = "MET" if worst <= TARGET_SAVE_TO_RESULT_S else "NOT met"
        print(
            f"watch, save to result: median {statistics.median(times):.2f} s, max {worst:.2f} s "
            f"(target <= {TARGET_SAVE_TO_RESULT_S} s: {verdict})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the whole pipeline on a generated 50-function worker repo.

    .venv/bin/python bench/pipeline.py [--functions 50] [--skip-filename] [--skip-cli-run] [--keep]

Generates a worker repo (bench/_genrepo.py) in a temp folder, then runs the real stages
exactly as ``lambda-harness run`` wires them (``lambda_harness.pipeline``) against the
embedded endpoint on a free loopback port, and prints the time of each:

* build: a first build fills the dependency cache (not counted), then one handler is
  edited and the code-only rebuild is timed;
* up: the in-process embedded endpoint (moto import included) until it serves;
* apply: ``terraform.deploy``: init, apply, second (must be empty) plan, show, inventory;
* tests: pytest over the generated event cases through the harness's plugin, with the
  arguments and environment ``run`` uses;
* tests with coverage (line), (branch): the same pytest run again against the same endpoint
  with coverage measured in every execution environment (what ``run --coverage`` and
  ``run --coverage=branch`` do: start, pytest, stop, combine, per-function numbers, XML +
  HTML); the ratio to the tests row is printed (target <= 1.3x);
* down: endpoint and every function worker stopped.

Then (unless skipped) ``lambda-harness run`` end to end as a subprocess on a fresh copy,
and the apply of the SAME functions laid out with ``filename = "${path.module}/../dists.zip"``
(no S3 object) against a fresh endpoint, for the ratio of the two layouts.

Figures only: nothing is asserted. Every stage has a deadline (SIGALRM; a running
terraform/pytest child is interrupted, then killed), every process started is stopped,
and the temp folder is removed unless ``--keep``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from xml.etree import ElementTree

import _genrepo

from lambda_harness import proc
from lambda_harness.endpoint.ports import free_port
from lambda_harness.endpoint.session import endpoint_session
from lambda_harness.errors import HarnessError
from lambda_harness.net import endpoint_healthy
from lambda_harness.packaging.builder import BuildResult, build
from lambda_harness.pipeline import prestart
from lambda_harness.settings import Settings, default_cache_dir, load_settings
from lambda_harness.terraform.deploy import deploy, deploy_for_run
from lambda_harness.terraform.inventory import Inventory
from lambda_harness.terraform.runner import Terraform
from lambda_harness.testing.invoker import deployed_region
from lambda_harness.testing.results import load_results
from lambda_harness.testing.session import harness_test_env, pytest_arguments, run_pytest

#: Issue 13: the whole pipeline within 1.3x of the `terraform apply` command alone (50 functions),
#: and beyond Terraform's own commands at most 0.25 s per added function (the cost curve).
TARGET_RATIO = 1.3
TARGET_MARGINAL_S = 0.25
FILENAME_LABEL = "apply, filename = (no S3 object)"
#: The stages that make up the total (the "prepare" rows warm caches and are not counted).
COUNTED = (
    "build (warm, code-only)",
    "up",
    "apply",
    "prestart",
    "tests",
    "second plan: waited for after the tests",
    "second plan before the tests (--plan-first)",
    "down",
)
PLAN_FIRST = COUNTED[-2]
#: The second plan timed again after everything, alone on the machine (not counted).
PLAN_ALONE = "  second plan alone, after the tests (not counted)"


class StageTimeout(Exception):
    """A stage ran past its deadline (raised in the main thread by SIGALRM)."""


@dataclass
class Row:
    """One line of the result table."""

    label: str
    seconds: float | None
    note: str = ""
    load1: float | None = None


@dataclass
class BenchUI:
    """The library's UI: keeps info lines and step timings; warnings go to stderr at once."""

    verbose: bool = False
    steps: list[tuple[str, float]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def info(self, message: str) -> None:
        self.lines.append(message)
        if self.verbose:
            print(f"    | {message}", file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        print(f"    warning: {message}", file=sys.stderr, flush=True)

    def fail(self, message: str) -> None:
        print(f"    failed: {message}", file=sys.stderr, flush=True)

    def emit(self, text: str) -> None:
        self.info(text)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.steps.append((title, time.perf_counter() - start))

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.info(f"{title}: {len(rows)} rows")

    def take_steps(self) -> list[tuple[str, float]]:
        """The step timings recorded since the last call."""
        steps, self.steps = self.steps, []
        return steps


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise StageTimeout in the main thread after ``seconds`` (children are stopped by proc.run)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise StageTimeout(f"{what} did not finish within {seconds:.0f}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load1() -> float:
    """The 1-minute load average (the machine is shared with other test runs)."""
    return os.getloadavg()[0]


def clean_environ() -> dict[str, str]:
    """This environment without LAMBDA_HARNESS_* (the bench sets what it needs explicitly)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_HARNESS_")}


def bench_settings(project: Path, cache_dir: Path, port: int, verbose: bool) -> Settings:
    """Settings for a generated repo: its own port, the shared cache."""
    return load_settings(project, {"cache_dir": cache_dir, "port": port, "verbose": verbose}, clean_environ())


def timed_build(settings: Settings, ui: BenchUI, label: str, timeout: float) -> tuple[Row, BuildResult]:
    """One ``build`` call as a table row."""
    start_load, start = load1(), time.perf_counter()
    with deadline(timeout, label):
        result = build(settings, ui)
    seconds = time.perf_counter() - start
    ui.take_steps()
    deps = "deps from cache" if result.deps_cache_hit else "deps installed"
    handlers = len(result.manifest.get("handlers", []))
    note = f"{deps}; {handlers} handlers, {result.zipped_size / 1024:.0f} KiB zip"
    return Row(label, seconds, note, start_load), result


def warm_runtime(cache_dir: Path) -> Row:
    """Install the python3.12 Lambda runtime folder if missing (one-time, not counted)."""
    from lambda_harness.endpoint.runtime.interpreters import InterpreterFinder
    from lambda_harness.endpoint.runtime.layout import RuntimeFolders

    start = time.perf_counter()
    interpreter = InterpreterFinder.from_environ(os.environ).find((3, 12))
    if interpreter is None:
        return Row("prepare: runtime python3.12", None, "no CPython 3.12 found: tests will fail")
    folders = RuntimeFolders(cache_dir)
    present = folders.path_for((3, 12), _host_machine()).is_dir()
    folders.ensure(interpreter)
    note = "already in cache" if present else "installed awslambdaric + SDK"
    from lambda_harness.endpoint.runtime.coverage import CoverageFolders

    CoverageFolders(cache_dir, pip_python=Path(sys.executable)).ensure(interpreter, _host_machine())
    return Row("prepare: runtime python3.12", time.perf_counter() - start, note + " (not counted)")


def _host_machine() -> str:
    from lambda_harness.endpoint.runtime.layout import host_machine

    return host_machine()


def deploy_with(settings: Settings, ui: BenchUI, url: str) -> Inventory:
    """``terraform.deploy``: apply and the second plan, one after the other (the filename= layout)."""
    return deploy(settings, ui, url)


def apply_rows(ui: BenchUI, seconds: float, start_load: float, functions: int) -> list[Row]:
    """The apply row and its breakdown from the library's steps (init / apply / the rest)."""
    steps = ui.take_steps()
    rows = [Row("apply", seconds, f"{functions} functions deployed", start_load)]
    named = 0.0
    for title, took in steps:
        short = title.split(" against ")[0].replace(" (terraform)", "")
        rows.append(Row(f"  {short}", took))
        named += took
    rows.append(Row("  inventory + warm record + the rest", max(seconds - named, 0.0)))
    return rows


def tests_note(settings: Settings, code: int) -> str:
    """Pass/fail counts and cold-start figures from the plugin's results file."""
    path = settings.harness_dir / "results.json"
    if not path.is_file():
        return f"pytest exit {code}, no results file"
    functions = load_results(path).get("functions", {})
    passed = sum(int(f.get("passed", 0)) for f in functions.values())
    failed = sum(int(f.get("failed", 0)) for f in functions.values())
    cold = [float(f["cold_ms"]) for f in functions.values() if f.get("cold_ms") is not None]
    cold_text = ""
    if cold:
        cold_text = f"; cold start median {statistics.median(cold):.0f} ms, max {max(cold):.0f} ms"
    return f"pytest exit {code}: {passed} cases passed, {failed} failed{cold_text}{junit_time(settings)}"


def junit_time(settings: Settings) -> str:
    """pytest's own session time (the rest of the stage is interpreter and plugin start-up)."""
    try:
        root = ElementTree.parse(settings.harness_dir / "junit.xml").getroot()  # our own junit file
    except (OSError, ElementTree.ParseError):
        return ""
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    return "" if suite is None else f"; test session {float(suite.get('time', 0)):.1f} s"


def coverage_row(
    settings: Settings,
    url: str,
    inventory: Inventory,
    run_tests: Callable[[], int],
    tests_s: float,
    mode: str,
    timeout: float,
) -> Row:
    """The tests stage again, with coverage in every execution environment (not counted in the total)."""
    from lambda_harness.endpoint import control
    from lambda_harness.testing.coverage import RunCoverage, zip_sources

    parts, out = settings.paths.coverage_parts, settings.paths
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True)
    start_load, start = load1(), time.perf_counter()
    marks = [start]
    with deadline(timeout, f"tests with coverage ({mode})"):
        sources = zip_sources(settings.functions_dir)
        code_root = control.start_coverage(url, parts, sources, branch=mode == "branch")
        code = run_tests()
        marks.append(time.perf_counter())
        control.stop_coverage(url)
        marks.append(time.perf_counter())
        run = RunCoverage.combine(
            [parts], functions_dir=settings.functions_dir, code_roots=[code_root], data_file=out.coverage_data
        )
        marks.append(time.perf_counter())
        numbers = run.function_numbers({fn.name: fn.handler for fn in inventory.functions})
        run.total()
        marks.append(time.perf_counter())
        run.write_reports(out.coverage_xml, out.coverage_html)
        marks.append(time.perf_counter())
    seconds = time.perf_counter() - start
    split = "/".join(f"{b - a:.1f}" for a, b in itertools.pairwise(marks))
    covered = sum(1 for n in numbers.values() if n.covered_lines)
    note = (
        f"pytest exit {code}; {covered} functions with covered lines; pytest/stop/combine/numbers/reports "
        f"{split} s; ratio to tests {seconds / tests_s:.2f}x (target <= 1.3x; not counted in the total)"
    )
    return Row(f"tests with coverage ({mode})", seconds, note, start_load)


@dataclass
class PipelineRun:
    """Rows of the main pipeline and whether it got through."""

    rows: list[Row] = field(default_factory=list)
    ok: bool = False
    apply_s: float | None = None
    total_s: float | None = None
    failures: list[str] = field(default_factory=list)


def run_stages(settings: Settings, ui: BenchUI, args: argparse.Namespace, out: PipelineRun) -> None:
    """up -> apply -> prestart -> tests (second plan beside them) -> down, as ``pipeline.run`` does."""
    with ExitStack() as stack:
        start_load, start = load1(), time.perf_counter()
        with deadline(args.stage_timeout, "up"):
            url = stack.enter_context(endpoint_session(settings, ui))
            if not endpoint_healthy(url):  # "up" ends when the health check answers
                raise StageTimeout(f"{url}/_harness/health does not answer 200 after start")
        out.rows.append(Row("up", time.perf_counter() - start, f"embedded endpoint at {url}", start_load))
        ui.take_steps()
        start_load, start = load1(), time.perf_counter()
        with deadline(args.stage_timeout, "apply"):
            deployment = deploy_for_run(settings, ui, url)  # a fresh endpoint: applied from scratch
        stack.callback(deployment.cancel)
        out.apply_s = time.perf_counter() - start
        out.rows += apply_rows(ui, out.apply_s, start_load, len(deployment.inventory.functions))
        if args.plan_first:  # what-if: the second plan before the tests, as before issue 13
            start = time.perf_counter()
            deployment.finish(ui)
            out.rows.append(
                Row("  second plan (before the tests: --plan-first)", time.perf_counter() - start)
            )
        start_load, start = load1(), time.perf_counter()
        if not args.no_prestart:
            prestart(url, deployment.inventory)
        note = "skipped (--no-prestart)" if args.no_prestart else "every first environment started"
        out.rows.append(Row("prestart", time.perf_counter() - start, note, start_load))
        start_load, start = load1(), time.perf_counter()
        pytest_args = pytest_arguments(settings, url)
        env = harness_test_env(os.environ, url, deployed_region(deployment.inventory))
        with deadline(args.stage_timeout, "tests"):
            code = run_pytest(pytest_args, settings.project_dir, env, settings.verbose, settings.test_timeout)
        note = tests_note(settings, code)
        tests_s = time.perf_counter() - start
        out.rows.append(Row("tests", tests_s, note, start_load))
        start = time.perf_counter()
        with deadline(args.stage_timeout, "second plan"):
            deployment.finish(ui)
        waited = time.perf_counter() - start
        out.rows.append(Row("  second plan (ran beside the tests)", deployment.check_seconds, "empty"))
        out.rows.append(Row("second plan: waited for after the tests", waited))
        out.ok = code == 0 and deployment.attestable
        if not args.skip_coverage:

            def run_tests() -> int:
                return run_pytest(pytest_args, settings.project_dir, env, settings.verbose)

            for mode in ("line", "branch"):
                row = coverage_row(
                    settings, url, deployment.inventory, run_tests, tests_s, mode, args.stage_timeout
                )
                out.rows.append(row)
        start_load = load1()
        with deadline(args.stage_timeout, "second plan alone"):
            alone_s, note = plan_alone(settings, ui, url)
        out.rows.append(Row(PLAN_ALONE, alone_s, note, start_load))
        start_load, start = load1(), time.perf_counter()
        stack.close()
        out.rows.append(Row("down", time.perf_counter() - start, "endpoint + workers stopped", start_load))


def plan_alone(settings: Settings, ui: BenchUI, url: str) -> tuple[float, str]:
    """The second plan once more, with nothing beside it (not counted in the total).

    What Terraform alone needs after its apply, whatever the harness does: (apply + this) / apply
    is the floor of the issue-13 ratio on this machine.
    """
    tf = Terraform(settings, ui, url, report=False)
    tf.init()  # stages the same copy again and inits offline: not timed
    ui.take_steps()
    start = time.perf_counter()
    changes = tf.plan_changes(announce=False)
    seconds = time.perf_counter() - start
    return seconds, "empty" if not changes else f"NOT empty: {len(changes)} change(s)"


def bench_pipeline(
    base: Path, cache_dir: Path, args: argparse.Namespace, ui: BenchUI, functions: int | None = None
) -> PipelineRun:
    """Generate the S3-layout repo, warm the caches, then time the pipeline stages."""
    out = PipelineRun()
    count = functions or args.functions
    project = _genrepo.generate(base / f"s3-{count}" / "project", count, with_deps=not args.no_deps)
    settings = bench_settings(project, cache_dir, free_port(), args.verbose)
    try:
        row, _ = timed_build(settings, ui, "prepare: first build", args.stage_timeout)
        row.note += " (fills the cache; not counted)"
        out.rows += [row, warm_runtime(cache_dir)]
        _genrepo.touch_handler(project)
        row, _ = timed_build(settings, ui, "build (warm, code-only)", args.stage_timeout)
        out.rows.append(row)
        run_stages(settings, ui, args, out)
    except (HarnessError, StageTimeout) as exc:
        out.failures.append(f"{type(exc).__name__}: {exc}")
    if not out.failures:  # every stage ran (the tests may still have failed: see out.ok)
        out.total_s = sum(r.seconds or 0.0 for r in out.rows if r.label in COUNTED)
    return out


def bench_detached_up(base: Path, cache_dir: Path, args: argparse.Namespace) -> list[Row]:
    """``up --detach`` (what ``lambda-harness apply`` starts when nothing answers) and ``down``."""
    from lambda_harness.endpoint import control

    project = _genrepo.generate(base / "detached" / "project", 1, with_deps=not args.no_deps)
    settings = bench_settings(project, cache_dir, free_port(), args.verbose)
    start_load, start = load1(), time.perf_counter()
    try:
        with deadline(args.stage_timeout, "up --detach"):
            pid = control.start_detached(settings)
        up_s = time.perf_counter() - start
    except (HarnessError, StageTimeout) as exc:
        control.stop_detached(settings)
        return [Row("up --detach (child process)", None, f"{type(exc).__name__}: {exc}", start_load)]
    start = time.perf_counter()
    control.stop_detached(settings)
    note = f"pid {pid}: python start + imports + bind, until healthy"
    up = Row("up --detach (child process)", up_s, note, start_load)
    return [up, Row("down (detached)", time.perf_counter() - start, "SIGINT, exit awaited")]


def bench_cli_run(base: Path, cache_dir: Path, args: argparse.Namespace) -> Row:
    """``lambda-harness run`` end to end as a subprocess, on a fresh copy (deps cache warm)."""
    project = _genrepo.generate(base / "cli" / "project", args.functions, with_deps=not args.no_deps)
    env = {**clean_environ(), "LAMBDA_HARNESS_CACHE_DIR": str(cache_dir)}
    argv = [
        sys.executable,
        "-m",
        "lambda_harness",
        "run",
        "--project",
        str(project),
        "--port",
        str(free_port()),
        "-q",
    ]
    start_load, start = load1(), time.perf_counter()
    try:
        done = proc.run(argv, cwd=project, env=env, check=False, timeout=args.stage_timeout * 3)
    except Exception as exc:  # subprocess.TimeoutExpired: the child was stopped by proc.run
        return Row("`lambda-harness run` (CLI, end to end)", None, f"{type(exc).__name__}: {exc}", start_load)
    seconds = time.perf_counter() - start
    note = f"exit {done.returncode}; includes its own warm build and python start-up"
    if done.returncode != 0:
        note += "\n" + "\n".join("      " + line for line in done.output.strip().splitlines()[-15:])
    return Row("`lambda-harness run` (CLI, end to end)", seconds, note, start_load)


def bench_filename_apply(base: Path, cache_dir: Path, args: argparse.Namespace, ui: BenchUI) -> list[Row]:
    """Apply the same functions with ``filename = ...`` (no S3 object) to a fresh endpoint."""
    project = _genrepo.generate(
        base / "filename" / "project", args.functions, code_from="filename", with_deps=not args.no_deps
    )
    settings = bench_settings(project, cache_dir, free_port(), args.verbose)
    label = FILENAME_LABEL
    try:
        with deadline(args.stage_timeout, "build (filename layout)"):
            build(settings, ui)
        with endpoint_session(settings, ui) as url:
            ui.take_steps()
            start_load, start = load1(), time.perf_counter()
            with deadline(args.filename_timeout, label):
                inventory = deploy_with(settings, ui, url)
            seconds = time.perf_counter() - start
    except (HarnessError, StageTimeout) as exc:
        return [Row(label, None, f"{type(exc).__name__}: {exc}")]
    rows = apply_rows(ui, seconds, start_load, len(inventory.functions))
    rows[0].label, rows[0].note = label, rows[0].note + "; fresh endpoint"
    return rows


def seconds_of(rows: list[Row], label: str) -> float | None:
    """The seconds of the first row labelled ``label`` (stripped), if any."""
    return next((r.seconds for r in rows if r.label.strip() == label), None)


def fmt_seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:7.2f}"


def print_table(rows: list[Row]) -> None:
    """The figures, one stage per line."""
    width = max(len(r.label) for r in rows) + 2
    print(f"\n{'stage'.ljust(width)}{'seconds':>8}  {'load1':>5}  note")
    for r in rows:
        load = "" if r.load1 is None else f"{r.load1:5.2f}"
        print(f"{r.label.ljust(width)}{fmt_seconds(r.seconds):>8}  {load:>5}  {r.note}")


def summary_rows(run: PipelineRun, cli: Row | None, filename: list[Row]) -> list[Row]:
    """Total, target verdict and ratios."""
    rows: list[Row] = []
    label = "total (build+up+apply+prestart+tests+plan wait+down)"
    apply_cmd = seconds_of(run.rows, "terraform apply")
    if run.total_s is None or not apply_cmd:
        rows.append(Row(label, None, "pipeline failed: no total"))
    else:
        ratio = run.total_s / apply_cmd
        verdict = "MET" if ratio <= TARGET_RATIO else "NOT met"
        verdict += "" if run.ok else " (but the tests FAILED)"
        note = f"{ratio:.2f}x the terraform apply command ({apply_cmd:.1f} s)"
        rows.append(Row(label, run.total_s, note))
        note = f"{ratio:.2f}x, target <= {TARGET_RATIO}x: {verdict}"
        rows.append(Row("ratio total / terraform apply", None, note))
        alone = seconds_of(run.rows, PLAN_ALONE.strip())
        if alone:
            floor = (apply_cmd + alone) / apply_cmd
            note = f"{floor:.2f}x: (apply + second plan alone) / apply, before anything of the harness"
            rows.append(Row("Terraform's own floor for that ratio", None, note))
    if cli is not None and cli.seconds is not None and run.total_s:
        rows.append(Row("ratio CLI run / sum of stages", None, f"{cli.seconds / run.total_s:.2f}x"))
    for label, what in (("apply", FILENAME_LABEL), ("terraform apply", "terraform apply")):
        s3_s = seconds_of(run.rows, label)
        file_s = seconds_of(filename, what)
        if s3_s and file_s:
            rows.append(
                Row(
                    f"ratio {label}: filename= / S3 object",
                    None,
                    f"{file_s / s3_s:.1f}x ({file_s:.1f} s vs {s3_s:.1f} s)",
                )
            )
    return rows


# --- the cost curve ----------------------------------------------------------------------------

#: The curve's rows: (label in the run's rows, what the table calls it).
CURVE_ROWS = (
    ("build (warm, code-only)", "build (warm)"),
    ("up", "up"),
    ("terraform init", "terraform init"),
    ("terraform apply", "terraform apply (command)"),
    ("inventory + warm record + the rest", "inventory + record"),
    ("prestart", "prestart"),
    ("tests", "tests (pytest)"),
    ("second plan (ran beside the tests)", "second plan (beside tests)"),
    ("second plan: waited for after the tests", "plan wait after tests"),
    ("down", "down"),
)


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares seconds per added function."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def curve_figures(run: PipelineRun) -> dict[str, float]:
    """One point of the curve: each stage, the total, and what is beyond Terraform's own commands."""
    out = {label: seconds_of(run.rows, label) or 0.0 for label, _ in CURVE_ROWS}
    out["total"] = run.total_s or 0.0
    terraform = (
        out["terraform init"] + out["terraform apply"] + out["second plan: waited for after the tests"]
    )
    out["beyond terraform"] = out["total"] - terraform
    return out


def bench_curve(base: Path, cache_dir: Path, args: argparse.Namespace, ui: BenchUI) -> int:
    """Run the pipeline for each N of ``--curve``; print each stage per N and per added function."""
    counts = sorted(int(n) for n in args.curve.split(",") if n.strip())
    points: dict[int, dict[str, float]] = {}
    loads: dict[int, float] = {}
    for count in counts:
        print(f"... {count} functions", file=sys.stderr, flush=True)
        loads[count] = load1()
        run = bench_pipeline(base, cache_dir, args, ui, functions=count)
        if run.failures or not run.ok:
            print(f"  {count} functions: the pipeline failed: {run.failures or 'tests red'}")
            continue
        points[count] = curve_figures(run)
    if len(points) < 2:
        print("fewer than two points: no curve")
        return 1
    xs = sorted(points)
    labels = [*CURVE_ROWS, ("total", "total"), ("beyond terraform", "beyond Terraform's commands")]
    head = "".join(f"{f'N={n}':>9}" for n in xs)
    print(f"\n{'seconds':30}{head}{'per added fn':>14}")
    for key, shown in labels:
        values = [points[n][key] for n in xs]
        cells = "".join(f"{v:9.2f}" for v in values)
        print(f"{shown:30}{cells}{slope([float(n) for n in xs], values):13.3f}s")
    print(f"{'load1 at start':30}" + "".join(f"{loads[n]:9.2f}" for n in xs))
    marginal = slope([float(n) for n in xs], [points[n]["beyond terraform"] for n in xs])
    verdict = "MET" if marginal <= TARGET_MARGINAL_S else "NOT met"
    print(
        f"beyond Terraform's own commands: {marginal:.3f} s per added function, target <= "
        f"{TARGET_MARGINAL_S} s: {verdict}"
    )
    for n in xs:
        ratio = points[n]["total"] / points[n]["terraform apply"] if points[n]["terraform apply"] else 0.0
        print(f"  N={n}: total {points[n]['total']:.1f} s = {ratio:.2f}x the terraform apply command")
    if args.plot is not None:
        draw(points, args.plot)
        print(f"plot: {args.plot}")
    return 0


def draw(points: dict[int, dict[str, float]], path: Path) -> None:
    """The curve as a PNG: total, Terraform's commands and the harness's own share, per N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = sorted(points)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    series = (
        ("total", "whole pipeline", "-", "o"),
        ("terraform apply", "terraform apply (command)", "--", "s"),
        ("beyond terraform", "beyond Terraform's own commands", "-", "^"),
        ("tests", "tests (pytest)", ":", "v"),
        ("second plan (ran beside the tests)", "second plan (beside the tests)", ":", "d"),
    )
    for key, label, style, marker in series:
        ax.plot(xs, [points[n][key] for n in xs], style, marker=marker, label=label)
    ax.set_xlabel("functions in the repo")
    ax.set_ylabel("seconds")
    ax.set_title("lambda-harness run, fresh endpoint: cost per number of functions")
    ax.set_xticks(xs)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--functions", type=int, default=50, help="how many functions to generate (1-1000)")
    parser.add_argument("--skip-filename", action="store_true", help="skip the slow filename= apply (~5 min)")
    parser.add_argument("--skip-cli-run", action="store_true", help="skip `lambda-harness run` end to end")
    parser.add_argument("--no-deps", action="store_true", help="generate no requirements.txt")
    parser.add_argument(
        "--skip-coverage", action="store_true", help="skip the tests stage again with --coverage"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="harness cache (default: the user's, ~/.cache/lambda-harness)",
    )
    parser.add_argument("--stage-timeout", type=float, default=300.0, help="deadline of each stage (s)")
    parser.add_argument(
        "--filename-timeout", type=float, default=900.0, help="deadline of the filename= apply (s)"
    )
    parser.add_argument(
        "--curve",
        default="",
        help="comma-separated function counts (e.g. 10,50,100,200): the cost curve instead of one run",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="with --curve: draw the curve into this PNG (matplotlib): docs/development/pipeline-cost.png",
    )
    parser.add_argument(
        "--no-prestart", action="store_true", help="what-if: no environment started ahead of the tests"
    )
    parser.add_argument(
        "--plan-first", action="store_true", help="what-if: the second plan before the tests, not beside them"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (printed)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the library's progress lines")
    return parser.parse_args(argv)


def header(args: argparse.Namespace, cache_dir: Path) -> None:
    one, five, fifteen = os.getloadavg()
    what = f"the cost curve for {args.curve}" if args.curve else str(args.functions)
    print(
        f"lambda-harness pipeline benchmark: {what} generated functions; python "
        f"{sys.version.split()[0]}; {os.cpu_count()} CPUs; load average {one:.2f} {five:.2f} {fifteen:.2f}"
    )
    print(f"cache {cache_dir}; started {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when the pipeline passed (figures are printed either way)."""
    args = parse_args(argv)
    cache_dir = (args.cache_dir or default_cache_dir(os.environ)).resolve()
    header(args, cache_dir)
    base = Path(tempfile.mkdtemp(prefix="lh-bench-pipeline-"))
    ui = BenchUI(verbose=args.verbose)
    if args.curve:
        try:
            return bench_curve(base, cache_dir, args, ui)
        finally:
            shutil.rmtree(base, ignore_errors=True)
    cli: Row | None = None
    extra: list[Row] = []
    filename: list[Row] = []
    try:
        run = bench_pipeline(base, cache_dir, args, ui)
        extra += bench_detached_up(base, cache_dir, args)
        if not args.skip_cli_run:
            print("... `lambda-harness run` end to end", file=sys.stderr, flush=True)
            cli = bench_cli_run(base, cache_dir, args)
        if not args.skip_filename:
            print(
                "... apply with filename= (slow: the provider creates them one at a time)",
                file=sys.stderr,
                flush=True,
            )
            filename = bench_filename_apply(base, cache_dir, args, ui)
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    rows = run.rows + extra + ([cli] if cli is not None else []) + filename
    print_table(rows + summary_rows(run, cli, filename))
    for text in run.failures:
        print(f"pipeline failure: {text}")
    one, five, fifteen = os.getloadavg()
    print(f"load average at the end {one:.2f} {five:.2f} {fifteen:.2f}")
    return 0 if run.ok else 1


if __name__ == "__main__":
    sys.exit(main())

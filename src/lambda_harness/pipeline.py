"""One command for the whole proof: build -> up -> apply -> pytest -> down -> table -> attestation.

``run`` is ``lambda-harness run``; ``smoke`` initialises every deployed
function instead of running event cases; ``apply_only`` deploys and leaves a
detached endpoint running for manual poking (``lambda-harness down`` stops it).

The stages are injected (``Stages``) so tests can drive the orchestration
with fakes; ``default_stages`` wires the real build, emulator and Terraform.
"""

from __future__ import annotations

import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_harness import proc
from lambda_harness.errors import HarnessError, InvocationError
from lambda_harness.promote.attestation import attestation_path, write_attestation
from lambda_harness.settings import Settings
from lambda_harness.terraform.inventory import Inventory
from lambda_harness.testing.invoker import Invocation, Invoker, deployed_region
from lambda_harness.testing.results import (
    SUMMARY_COLUMNS,
    failure_texts,
    init_error_hint,
    init_failed,
    load_results,
    summary_rows,
)
from lambda_harness.ui import UI

HEALTH_PATHS = ("/_harness/health", "/_localstack/health")
SMOKE_EVENT = {"__lambda_harness_smoke__": True}
PYTEST_NO_TESTS = 5

EndpointFactory = Callable[[Settings, UI], AbstractContextManager[str]]


@dataclass(frozen=True)
class Stages:
    """The pipeline's collaborators (real ones from ``default_stages``; fakes in tests)."""

    build: Callable[[Settings, UI], Any]
    endpoint: EndpointFactory
    deploy: Callable[[Settings, UI, str], Inventory]
    pytest: Callable[[Sequence[str], Path, Mapping[str, str], bool], int]
    attest: Callable[[Settings, Path, Mapping[str, object]], Path]
    invoker: Callable[[str, str], Invoker] = Invoker


@dataclass
class RunReport:
    """What ``run`` did: overall verdict, per-function results and where the evidence is."""

    ok: bool
    endpoint_url: str = ""
    build: Any = None
    inventory: Inventory | None = None
    pytest_exit_code: int | None = None
    results: dict[str, Any] = field(default_factory=dict)
    junit_path: Path | None = None
    results_path: Path | None = None
    attestation: Path | None = None
    failures: list[str] = field(default_factory=list)


@dataclass
class SmokeReport:
    """What ``smoke`` found: one row per deployed function."""

    ok: bool
    rows: list[list[str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


# --- the endpoint ---------------------------------------------------------------------------------


def endpoint_healthy(url: str, timeout: float = 1.0) -> bool:
    """True when ``url`` answers one of the health paths with 200 (ours or LocalStack's)."""
    for path in HEALTH_PATHS:
        try:
            with urllib.request.urlopen(url.rstrip("/") + path, timeout=timeout) as resp:  # noqa: S310 (loopback URL)
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError, ValueError):
            continue
    return False


@contextmanager
def embedded_endpoint(settings: Settings, ui: UI) -> Iterator[str]:
    """Use an endpoint that already answers (and leave it running), else run ours in-process."""
    if endpoint_healthy(settings.endpoint_url):
        ui.info(f"using the endpoint already running at {settings.endpoint_url} (left running)")
        yield settings.endpoint_url
        return
    if settings.backend == "localstack":
        # Nothing answers: start the repo's compose `localstack` service, and stop it when we end.
        from lambda_harness.endpoint.localstack import localstack_endpoint

        with localstack_endpoint(settings, ui) as url:
            yield url
        return
    # Late imports: the emulator pulls in moto, which costs a second the other commands need not pay.
    from lambda_harness.endpoint.runtime import LambdaRuntime
    from lambda_harness.endpoint.server import EmbeddedEndpoint

    runtime = LambdaRuntime(
        cache_dir=settings.cache_dir,
        work_dir=settings.harness_dir / "runtime",
        max_concurrency=settings.max_concurrency,
        allow_runtime_fallback=settings.allow_runtime_fallback,
        ui=ui,
    )
    try:
        emulator = EmbeddedEndpoint(settings, runtime, ui)
        with ui.step(f"start the embedded endpoint on {settings.endpoint_url}"):
            emulator.start()
        try:
            yield str(emulator.url)
        finally:
            emulator.stop()
    finally:
        runtime.shutdown()


def _real_build(settings: Settings, ui: UI) -> Any:
    from lambda_harness.packaging.builder import build

    return build(settings, ui)


def _real_deploy(settings: Settings, ui: UI, endpoint_url: str) -> Inventory:
    from lambda_harness.terraform.deploy import deploy

    return deploy(settings, ui, endpoint_url)


def _real_attest(settings: Settings, zip_path: Path, results: Mapping[str, object]) -> Path:
    return write_attestation(settings, zip_path, results)


def run_pytest(args: Sequence[str], cwd: Path, env: Mapping[str, str], stream: bool) -> int:
    """``python -m pytest ARGS`` in ``cwd``; its exit code (output streamed when verbose)."""
    done = proc.run([sys.executable, "-m", "pytest", *args], cwd=cwd, env=env, stream=stream, check=False)
    if done.returncode not in (0, 1) and not stream:
        # Usage errors and crashes print nothing into the results file: keep their words.
        tail = "\n".join(done.output.strip().splitlines()[-30:])
        raise_for_pytest(done.returncode, tail)
    return done.returncode


def raise_for_pytest(code: int, tail: str) -> None:
    """pytest exit codes other than 0/1 are harness-level failures."""
    if code == PYTEST_NO_TESTS:
        return
    raise HarnessError(f"pytest could not run the tests (exit code {code}):\n{tail}")


def default_stages() -> Stages:
    """The real build, embedded endpoint, Terraform deploy, pytest and attestation."""
    return Stages(
        build=_real_build,
        endpoint=embedded_endpoint,
        deploy=_real_deploy,
        pytest=run_pytest,
        attest=_real_attest,
    )


# --- run ------------------------------------------------------------------------------------------


def harness_test_env(environ: Mapping[str, str], endpoint_url: str, region: str) -> dict[str, str]:
    """The tests' environment: every AWS SDK call goes to the endpoint with fake credentials."""
    env = {
        k: v
        for k, v in environ.items()
        if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
        and not k.startswith("LAMBDA_HARNESS_")
    }
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "LAMBDA_HARNESS_ENDPOINT": endpoint_url,
        }
    )
    return env


def pytest_arguments(settings: Settings, endpoint_url: str, extra: Sequence[str] = ()) -> list[str]:
    """Test paths and ``--harness-*`` options for the integration run."""
    out = settings.harness_dir
    tests_dir = settings.project_dir / "tests" / "integration"
    paths = [str(tests_dir)] if tests_dir.is_dir() else []
    if not paths or not settings.events_dir.resolve().is_relative_to(tests_dir.resolve()):
        paths.append(str(settings.events_dir))
    return [
        *paths,
        "--harness-inventory",
        str(out / "inventory.json"),
        "--harness-endpoint",
        endpoint_url,
        "--harness-events",
        str(settings.events_dir),
        "--harness-results",
        str(out / "results.json"),
        "--junitxml",
        str(out / "junit.xml"),
        "-p",
        "no:cacheprovider",
        *extra,
    ]


def run(
    settings: Settings, ui: UI, *, pytest_args: Sequence[str] = (), stages: Stages | None = None
) -> RunReport:
    """``lambda-harness run``: build, up, apply, test every function, down, table, attestation."""
    stages = stages or default_stages()
    report = RunReport(
        ok=False,
        junit_path=settings.harness_dir / "junit.xml",
        results_path=settings.harness_dir / "results.json",
    )
    report.build = stages.build(settings, ui)
    assert report.results_path is not None
    # Never read a previous run's verdict, and never leave a green attestation behind a red run.
    report.results_path.unlink(missing_ok=True)
    attestation_path(settings).unlink(missing_ok=True)
    with stages.endpoint(settings, ui) as url:
        report.endpoint_url = url
        report.inventory = stages.deploy(settings, ui, url)
        args = pytest_arguments(settings, url, pytest_args)
        env = harness_test_env(os.environ, url, deployed_region(report.inventory))
        with ui.step(f"pytest: {len(report.inventory.functions)} functions against {url}"):
            report.pytest_exit_code = stages.pytest(args, settings.project_dir, env, settings.verbose)
    _judge(report, settings, ui)
    ui.info(f"JUnit: {report.junit_path}  results: {report.results_path}")
    if report.ok:
        report.attestation = stages.attest(settings, Path(report.build.zip_path), per_function_counts(report))
        ui.info(f"all functions passed; attestation: {report.attestation}")
    return report


def _judge(report: RunReport, settings: Settings, ui: UI) -> None:
    assert report.results_path is not None and report.inventory is not None
    names = [fn.name for fn in report.inventory.functions]
    report.results = load_results(report.results_path) if report.results_path.is_file() else {}
    ui.table("functions", list(SUMMARY_COLUMNS), summary_rows(report.results, names))
    report.failures = [source_paths(text, settings) for text in failure_texts(report.results)]
    if report.pytest_exit_code == PYTEST_NO_TESTS:
        report.failures.append(
            f"pytest collected no tests: add {settings.events_dir}/<function>/<case>.json for each function"
        )
    elif report.pytest_exit_code != 0 and not report.failures:
        code = report.pytest_exit_code
        report.failures.append(f"pytest failed (exit code {code}), see {report.junit_path}")
    if not names:
        report.failures.append(f"no aws_lambda_function was deployed from {settings.terraform_dir}")
    for text in report.failures:
        ui.warn(text)
    report.ok = report.pytest_exit_code == 0 and not report.failures


def source_paths(text: str, settings: Settings) -> str:
    """Point tracebacks at functions/ instead of the runtime's extracted copy of the zip.

    The runtime runs each zip from ``.harness/runtime/code/<sha256>/``; a file that also
    exists under functions/ is shown there, where the user edits it. Dependencies
    (not under functions/) keep their extracted path.
    """
    code_root = re.escape(str(settings.harness_dir / "runtime" / "code")) + r"/[0-9a-f]{64}/([^\s\"',:]+)"

    def swap(match: re.Match[str]) -> str:
        source = settings.functions_dir / match.group(1)
        if not source.is_file():
            return match.group(0)
        try:
            return str(source.relative_to(settings.project_dir))
        except ValueError:
            return str(source)

    return re.sub(code_root, swap, text)


def per_function_counts(report: RunReport) -> dict[str, dict[str, int]]:
    """Function name -> {"passed", "failed"} for every deployed function (what the attestation records)."""
    functions = report.results.get("functions", {})
    names = [fn.name for fn in report.inventory.functions] if report.inventory else []
    return {
        name: {
            "passed": int(functions.get(name, {}).get("passed", 0)),
            "failed": int(functions.get(name, {}).get("failed", 0)),
        }
        for name in sorted(set(names) | set(functions))
    }


def run_command(settings: Settings, ui: UI, pytest_args: Sequence[str] = ()) -> int:
    """CLI adapter for ``run``: 0 when every function passed, 1 otherwise."""
    return 0 if run(settings, ui, pytest_args=pytest_args).ok else 1


# --- smoke ----------------------------------------------------------------------------------------


def classify_smoke(inv: Invocation, tf_file: object) -> tuple[bool, str]:
    """(initialised?, detail): only an init failure (import, handler lookup) fails the smoke test."""
    if inv.ok:
        return True, "initialised, handler returned"
    if init_failed(inv.error_type, inv.log_tail):
        where = f" (declared in {tf_file})" if tf_file else ""
        hint = init_error_hint(inv.error_type, inv.error_message, at_init=True)
        return False, f"{inv.error_type}: {inv.error_message or ''}{where}" + (f"; {hint}" if hint else "")
    return True, f"initialised; handler raised {inv.error_type or inv.function_error} on the probe event"


def smoke(settings: Settings, ui: UI, *, stages: Stages | None = None) -> SmokeReport:
    """``lambda-harness smoke``: build, up, apply, then load every function once (no event cases)."""
    stages = stages or default_stages()
    stages.build(settings, ui)
    report = SmokeReport(ok=True)
    with stages.endpoint(settings, ui) as url:
        inventory = stages.deploy(settings, ui, url)
        invoker = stages.invoker(url, deployed_region(inventory))
        with ui.step(f"initialise {len(inventory.functions)} functions"):
            for fn in inventory.functions:
                _smoke_one(invoker, fn, report)
    ui.table("smoke", ["function", "init", "init ms", "detail"], report.rows)
    for text in report.failures:
        ui.warn(text)
    report.ok = not report.failures and bool(inventory.functions)
    return report


def _smoke_one(invoker: Invoker, fn: Any, report: SmokeReport) -> None:
    try:
        inv = invoker.invoke(fn.name, SMOKE_EVENT)
    except InvocationError as exc:
        report.rows.append([fn.name, "FAILED", "-", str(exc)])
        report.failures.append(f"{fn.name}: {exc}")
        return
    good, detail = classify_smoke(inv, fn.tf_file)
    init = "-" if inv.init_ms is None else f"{inv.init_ms:.1f}"
    report.rows.append([fn.name, "ok" if good else "FAILED", init, detail])
    if not good:
        report.failures.append(f"{fn.name}: {detail}")


def smoke_command(settings: Settings, ui: UI) -> int:
    """CLI adapter for ``smoke``."""
    return 0 if smoke(settings, ui).ok else 1


# --- apply / destroy ------------------------------------------------------------------------------


def apply_only(
    settings: Settings,
    ui: UI,
    *,
    deploy: Callable[[Settings, UI, str], Inventory] | None = None,
    build: Callable[[Settings, UI], Any] | None = None,
) -> Inventory:
    """``lambda-harness apply``: build, then deploy to a running endpoint (a detached one is
    started when none answers).

    The zip is rebuilt first (seconds, from the wheel cache) so what is deployed is
    what is in functions/ now. The endpoint is left running (the point is to poke
    at the deployment); ``lambda-harness down`` stops it.
    """
    (build or _real_build)(settings, ui)
    if not endpoint_healthy(settings.endpoint_url):
        if settings.backend == "localstack":
            from lambda_harness.endpoint.localstack import SERVICE, start_localstack

            started = start_localstack(settings, ui)  # left running, like the detached endpoint
            if started is not None:
                ui.info(f"LocalStack left running; stop it with: {started.describe()} stop {SERVICE}")
        else:
            from lambda_harness.endpoint import control

            with ui.step(f"start a detached endpoint on {settings.endpoint_url}"):
                pid = control.start_detached(settings)
                control.wait_healthy(settings.endpoint_url, 30.0)
            down = control.down_command(settings)
            ui.info(f"endpoint running in the background (pid {pid}); stop it with: {down}")
    return (deploy or _real_deploy)(settings, ui, settings.endpoint_url)


def apply_command(settings: Settings, ui: UI) -> int:
    """CLI adapter for ``apply``."""
    apply_only(settings, ui)
    return 0


def destroy_command(settings: Settings, ui: UI) -> int:
    """CLI adapter for ``destroy``: ``terraform destroy`` of the harness deployment."""
    from lambda_harness.terraform.deploy import destroy

    destroy(settings, ui, settings.endpoint_url)
    return 0

"""The stage wiring, and nothing else: build -> up -> apply -> test -> promote.

``run`` is ``lambda-harness run`` (build, endpoint, apply, pytest, table,
attestation); ``smoke`` initialises every deployed function instead of running
event cases; ``apply_only`` deploys and leaves a detached endpoint running for
manual poking (``lambda-harness down`` stops it). How each stage works lives in
its subpackage; this module only decides the order and what flows between them.

The stages are injected (``Stages``) so tests can drive the orchestration
with fakes; ``default_stages`` wires the real build, endpoint and Terraform.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_harness.endpoint.session import endpoint_session
from lambda_harness.net import endpoint_healthy
from lambda_harness.promote.attestation import attestation_path, write_attestation
from lambda_harness.settings import Settings
from lambda_harness.terraform.inventory import Inventory
from lambda_harness.testing.iam import LEAST_PRIVILEGE_COLUMNS, least_privilege_rows, role_findings
from lambda_harness.testing.invoker import Invoker, deployed_region
from lambda_harness.testing.results import SUMMARY_COLUMNS, failure_texts, load_results, summary_rows
from lambda_harness.testing.session import (
    PYTEST_NO_TESTS,
    harness_test_env,
    pytest_arguments,
    run_pytest,
    source_paths,
)
from lambda_harness.testing.smoke import SmokeReport, smoke_one
from lambda_harness.ui import UI

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


def build(settings: Settings, ui: UI) -> Any:
    """``lambda-harness build``: what Terraform accepts first (runtimes the provider may not know),
    then what it deploys (read statically, or from its own plan when modules, for_each or
    archive_file hide it), then the zip(s)."""
    from lambda_harness.packaging.builder import Builder
    from lambda_harness.terraform.discovery import discover
    from lambda_harness.terraform.runtimes import check_runtimes

    check_runtimes(settings, ui)
    config = discover(settings, ui, lambda: _plan_endpoint(settings, ui))
    return Builder(settings, ui, config=config).build()


@contextmanager
def _plan_endpoint(settings: Settings, ui: UI) -> Iterator[str]:
    """An endpoint for a plan's data sources: the one already answering, else a private one.

    Planning creates nothing, so a running endpoint is only read; otherwise the embedded
    endpoint runs in-process on a free port for the plan's few seconds.
    """
    if endpoint_healthy(settings.endpoint_url):
        yield settings.endpoint_url
        return
    from lambda_harness.endpoint.runtime import make_runtime
    from lambda_harness.endpoint.server import EmbeddedEndpoint

    private = settings.with_(host="127.0.0.1", port=0)
    runtime = make_runtime(private, ui)
    endpoint = EmbeddedEndpoint(private, runtime, ui)
    try:
        endpoint.start()
        try:
            yield endpoint.url
        finally:
            endpoint.stop()
    finally:
        runtime.shutdown()


_real_build = build


def _real_deploy(settings: Settings, ui: UI, endpoint_url: str) -> Inventory:
    from lambda_harness.terraform.deploy import deploy

    return deploy(settings, ui, endpoint_url)


def _real_attest(settings: Settings, zip_path: Path, results: Mapping[str, object]) -> Path:
    return write_attestation(settings, zip_path, results)


def default_stages() -> Stages:
    """The real build, embedded endpoint, Terraform deploy, pytest and attestation."""
    return Stages(
        build=_real_build,
        endpoint=endpoint_session,
        deploy=_real_deploy,
        pytest=run_pytest,
        attest=_real_attest,
    )


# --- run ------------------------------------------------------------------------------------------


def run(
    settings: Settings, ui: UI, *, pytest_args: Sequence[str] = (), stages: Stages | None = None
) -> RunReport:
    """``lambda-harness run``: build, up, apply, test every function, down, table, attestation."""
    stages = stages or default_stages()
    report = RunReport(
        ok=False,
        junit_path=settings.paths.junit,
        results_path=settings.paths.results,
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
    _show_iam(report.results, ui)
    report.failures = [source_paths(text, settings) for text in failure_texts(report.results)]
    if report.pytest_exit_code == PYTEST_NO_TESTS:
        report.failures.append(
            f"pytest collected no tests: add {settings.cases_dir}/<function>/<case>.json for each function"
        )
    elif report.pytest_exit_code != 0 and not report.failures:
        code = report.pytest_exit_code
        report.failures.append(f"pytest failed (exit code {code}), see {report.junit_path}")
    if not names:
        report.failures.append(f"no aws_lambda_function was deployed from {settings.terraform_dir}")
    for text in report.failures:
        ui.warn(text)
    report.ok = report.pytest_exit_code == 0 and not report.failures


def _show_iam(results: dict[str, Any], ui: UI) -> None:
    """Least privilege per function, then each role's findings; in warn mode also the denials."""
    functions = results.get("functions", {})
    rows = least_privilege_rows(functions)
    if not rows:
        return
    iam = results.get("iam") or {}
    ui.table(f"IAM (iam = {iam.get('mode')}): least privilege", list(LEAST_PRIVILEGE_COLUMNS), rows)
    for text in role_findings(functions):
        ui.info(text)
    if iam.get("mode") == "warn":
        for fn in functions.values():
            for case in fn.get("cases", []):
                for denial in case.get("iam_denials", []):
                    ui.warn(f"iam = warn, not enforced: {denial.get('message')}")
        for text in iam.get("denials_outside_cases_text", []):
            ui.warn(f"iam = warn, not enforced: {text}")


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


# --- smoke ----------------------------------------------------------------------------------------


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
                smoke_one(invoker, fn, report)
    ui.table("smoke", ["function", "init", "init ms", "detail"], report.rows)
    for text in report.failures:
        ui.warn(text)
    report.ok = not report.failures and bool(inventory.functions)
    return report


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

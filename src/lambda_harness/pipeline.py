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
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_harness import net
from lambda_harness.endpoint import control
from lambda_harness.endpoint.session import endpoint_session
from lambda_harness.errors import ShardError, TerraformError
from lambda_harness.fsutil import file_sha256, private_dir, write_json_atomic
from lambda_harness.net import endpoint_healthy
from lambda_harness.promote.attestation import (
    Exemptions,
    attestation_path,
    terraform_files,
    terraform_hash,
    write_attestation,
)
from lambda_harness.settings import Settings
from lambda_harness.terraform.deploy import Deployment
from lambda_harness.terraform.discovery import will_plan
from lambda_harness.terraform.inventory import DeployedFunction, Inventory
from lambda_harness.terraform.sources import shown
from lambda_harness.testing.advice import thresholds
from lambda_harness.testing.artifacts import import_context
from lambda_harness.testing.cases import discover as discover_cases
from lambda_harness.testing.cases import untested_message
from lambda_harness.testing.coverage import RunCoverage, coverage_summary, zip_sources
from lambda_harness.testing.iam import (
    LEAST_PRIVILEGE_COLUMNS,
    IamLedger,
    least_privilege_rows,
    role_findings,
)
from lambda_harness.testing.invoker import Invoker, deployed_region
from lambda_harness.testing.junit import merge_junit
from lambda_harness.testing.report_html import write_report
from lambda_harness.testing.results import (
    SUMMARY_COLUMNS,
    advice_lines,
    failure_texts,
    load_results,
    summary_rows,
)
from lambda_harness.testing.session import (
    PYTEST_NO_TESTS,
    harness_test_env,
    pytest_arguments,
    run_pytest,
    source_paths,
)
from lambda_harness.testing.shard import Shard, ShardFolder, check_shards, merge_results
from lambda_harness.testing.smoke import SmokeReport, smoke_one
from lambda_harness.ui import UI

EndpointFactory = Callable[[Settings, UI], AbstractContextManager[str]]


@dataclass(frozen=True)
class Stages:
    """The pipeline's collaborators (real ones from ``default_stages``; fakes in tests)."""

    build: Callable[[Settings, UI], Any]
    endpoint: EndpointFactory
    deploy: Callable[[Settings, UI, str], Deployment | Inventory]  # an Inventory: applied from scratch
    pytest: Callable[[Sequence[str], Path, Mapping[str, str], bool, float], int]
    attest: Callable[[Settings, Path, Mapping[str, object], Exemptions], Path]
    invoker: Callable[[str, Inventory], Invoker] = Invoker.for_inventory
    coverage_start: Callable[..., Path] = control.start_coverage
    coverage_stop: Callable[[str], dict[str, Any]] = control.stop_coverage


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
    #: Deployed functions excluded from testing on purpose -> why (listed in the attestation).
    skipped: dict[str, str] = field(default_factory=dict)
    deployment: Deployment | None = None
    not_attested: str = ""  # why a green run wrote no attestation (a warm run, ...)
    coverage: RunCoverage | None = None


def build(settings: Settings, ui: UI) -> Any:
    """``lambda-harness build``: what Terraform accepts first (providers no mirror holds, runtimes
    the provider may not know), then what it deploys (read statically, or from its own plan when
    modules, for_each or archive_file hide it), then the zip(s)."""
    from lambda_harness.packaging.builder import Builder
    from lambda_harness.terraform.discovery import discover
    from lambda_harness.terraform.providers import check_providers
    from lambda_harness.terraform.runtimes import check_runtimes

    check_providers(settings, ui)
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


def _real_deploy(settings: Settings, ui: UI, endpoint_url: str) -> Deployment:
    from lambda_harness.terraform.deploy import deploy_for_run

    return deploy_for_run(settings, ui, endpoint_url, warm=settings.warm)


def _as_deployment(deployed: Deployment | Inventory) -> Deployment:
    """A stage that returns a bare Inventory applied from scratch and checked the second plan."""
    return (
        deployed if isinstance(deployed, Deployment) else Deployment(deployed, "from-scratch", checked=True)
    )


def _finish_deployment(deployment: Deployment, ui: UI) -> str:
    """Wait for the second plan that ran beside the tests; the failure text when it was not empty."""
    try:
        deployment.finish(ui)
    except TerraformError as exc:
        return str(exc)
    return ""


def _real_attest(
    settings: Settings, zip_path: Path, results: Mapping[str, object], exemptions: Exemptions
) -> Path:
    return write_attestation(settings, zip_path, results, exemptions)


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
    settings: Settings,
    ui: UI,
    *,
    pytest_args: Sequence[str] = (),
    stages: Stages | None = None,
    shard: str | None = None,
    durations: Path | None = None,
) -> RunReport:
    """``lambda-harness run``: build, up, apply, test every function, down, table, attestation."""
    stages = stages or default_stages()
    report = RunReport(
        ok=False,
        junit_path=settings.paths.junit,
        results_path=settings.paths.results,
    )
    discover_cases(settings.cases_dir)  # a malformed case file stops the run now, not after the apply
    code_root: Path | None = None
    with ExitStack() as stack:
        url = report.endpoint_url = _build_then_endpoint(settings, ui, stages, stack, report)
        # A reused endpoint (up --detach, the warm loop) still holds earlier runs' IAM evidence:
        # this run's starts here, before the apply (trust refusals) and the prestarted inits.
        iam_run = IamLedger(url).mark()
        deployment = report.deployment = _as_deployment(stages.deploy(settings, ui, url))
        try:
            report.inventory = deployment.inventory
            if settings.measures_coverage:
                code_root = _start_coverage(settings, stages, url)
            prestart(url, report.inventory)  # after coverage starts: these environments measure too
            args = _test_args(
                settings, url, shard=shard, durations=durations, iam_run=iam_run, pytest_args=pytest_args
            )
            env = harness_test_env(os.environ, url, deployed_region(report.inventory))
            try:
                with ui.step(f"pytest: {len(report.inventory.functions)} functions against {url}"):
                    report.pytest_exit_code = stages.pytest(
                        args, settings.project_dir, env, settings.verbose, settings.test_timeout
                    )
            finally:
                unsaved = stages.coverage_stop(url).get("unsaved", []) if code_root is not None else []
            plan_problem = _finish_deployment(deployment, ui)
        finally:
            deployment.cancel()  # a second plan still running (Ctrl-C, pytest blew up) stops here
    assert report.results_path is not None
    pytest_wrote = report.results_path.is_file()
    report.results = load_results(report.results_path) if pytest_wrote else {}
    if code_root is not None:
        with ui.step("combine handler coverage"):
            report.coverage = _add_coverage(report, settings, code_root, unsaved)
    _judge(report, settings, ui)
    if plan_problem:
        report.failures.append(plan_problem)
        ui.fail(plan_problem)
        report.ok = False
    write_report(settings.paths.report_html, report.results)
    ui.info(
        f"JUnit: {report.junit_path}  results: {report.results_path}  report: {settings.paths.report_html}"
    )
    if not report.ok:
        ui.fail(verdict(report.failures))
    if shard is not None:
        _record_shard_inputs(report, settings)
    # What the run added to the plugin's results.json (coverage, a shard's inputs), in one write.
    if shard is not None or (code_root is not None and pytest_wrote):
        write_json_atomic(report.results_path, report.results)
    if shard is None:  # a shard's verdict is partial: `merge` writes the attestation
        _attest(report, settings, stages, deployment, ui)
    return report


def _attest(report: RunReport, settings: Settings, stages: Stages, deployment: Deployment, ui: UI) -> None:
    """The attestation of a green run applied from scratch, with what it did not check on the
    user's word (functions skipped, attributes waived); a warm run is never attested."""
    if not report.ok:
        return
    if not deployment.attestable:
        report.not_attested = deployment.not_attested_reason()
        ui.info(f"all functions passed; not attested: {report.not_attested}")
        return
    exemptions = Exemptions(skipped=report.skipped, idempotency_waived=deployment.inventory.waived)
    counts = per_function_counts(report)
    report.attestation = stages.attest(settings, Path(report.build.zip_path), counts, exemptions)
    ui.info(f"all functions passed; attestation: {report.attestation}")


def prestart(url: str, inventory: Inventory) -> None:
    """Ask the endpoint to start every function's first execution environment now: their cold
    inits then run side by side while pytest starts. Best effort: an endpoint without the route
    (LocalStack) or with no free slot just starts them on first use, as before."""
    arns = [fn.arn for fn in inventory.functions if fn.arn and fn.runnable]
    if arns:
        net.post_json(url.rstrip("/") + net.HARNESS_PRESTART, {"functions": arns}, timeout=60.0)


def _build_then_endpoint(
    settings: Settings, ui: UI, stages: Stages, stack: ExitStack, report: RunReport
) -> str:
    """Build, then the run's endpoint (entered on ``stack``); its URL."""
    url: str | None = None
    if will_plan(settings):
        # The build asks Terraform what it deploys, and that plan's lookups need the world
        # applied on an endpoint: let it be this run's (found on the configured port), so the
        # world is applied once, not on a private endpoint and then again here.
        url = stack.enter_context(stages.endpoint(settings, ui))
    report.build = stages.build(settings, ui)
    # Never read a previous run's verdict, and never leave a green attestation behind a red run.
    settings.paths.results.unlink(missing_ok=True)
    attestation_path(settings).unlink(missing_ok=True)
    return url if url is not None else stack.enter_context(stages.endpoint(settings, ui))


def _judge(report: RunReport, settings: Settings, ui: UI) -> None:
    assert report.results_path is not None and report.inventory is not None
    names = [fn.name for fn in report.inventory.functions]
    report.skipped = skipped_functions(settings, report.inventory)
    columns = list(SUMMARY_COLUMNS) + (["cover %"] if report.coverage is not None else [])
    ui.table("functions", columns, summary_rows(report.results, names, list(report.skipped)))
    source = settings.source_of("skip_functions")
    for fn in report.inventory.functions:
        if fn.name in report.skipped:
            ui.info(f"not tested, excluded by {source}: {fn.name} (runtime {_runtime(fn)})")
    for line in advice_lines(report.results):
        ui.info(f"advice: {line}")
    _show_iam(report.results, ui)
    report.failures = [source_paths(text, settings) for text in failure_texts(report.results)]
    report.failures += thresholds(
        report.results.get("functions", {}),
        memory_headroom=settings.fail_on_memory_headroom,
        timeout_ratio=settings.fail_on_timeout_ratio,
    )
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
        ui.fail(text)
    report.ok = report.pytest_exit_code == 0 and not report.failures


def verdict(failures: Sequence[str]) -> str:
    """The last line of a failed run: how many problems, the first few by their first line."""
    heads = [text.splitlines()[0] if text else "?" for text in failures]
    shown = [h if len(h) <= 120 else h[:117] + "..." for h in heads[:5]]
    more = f"; and {len(heads) - 5} more" if len(heads) > 5 else ""
    count = f"{len(heads)} problem(s)" if heads else "the tests failed"
    return f"{count}, not attested: " + "; ".join(shown) + more if heads else f"{count}, not attested"


def skipped_functions(settings: Settings, inventory: Inventory) -> dict[str, str]:
    """Deployed functions the user excluded from testing -> ``excluded by <source> (runtime X)``."""
    source = settings.source_of("skip_functions")
    return {
        fn.name: f"excluded by {source} (runtime {_runtime(fn)})"
        for fn in inventory.functions
        if fn.name in settings.skip_functions
    }


def _runtime(fn: DeployedFunction) -> str:
    return fn.runtime or "none: a container image"


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


def _test_args(
    settings: Settings,
    url: str,
    *,
    shard: str | None,
    durations: Path | None,
    iam_run: int,
    pytest_args: Sequence[str],
) -> list[str]:
    """pytest's arguments for the run: the shard's, the IAM run's, then the caller's."""
    iam = ["--harness-iam-run", str(iam_run)] if iam_run else []
    args = pytest_arguments(settings, url, [*_shard_args(settings, shard, durations), *iam, *pytest_args])
    if shard is not None and Shard.parse(shard).index > 1:
        # Hand-written tests run on shard 1 only (each once across the shards).
        tests_dir = str(settings.project_dir / "tests" / "integration")
        args = [str(settings.cases_dir) if a == tests_dir else a for a in args]
    return args


def _shard_args(settings: Settings, shard: str | None, durations: Path | None) -> list[str]:
    if shard is None:
        return []
    args = ["--harness-shard", str(Shard.parse(shard))]
    if durations is not None:
        args += ["--harness-durations", str(durations.resolve())]
    return args


def _record_shard_inputs(report: RunReport, settings: Settings) -> None:
    """What this shard tested (every zip's and the Terraform's hashes), for ``merge`` to check
    (into ``report.results``: ``run`` writes the file)."""
    info = report.results.setdefault("shard", {})
    zips = report.build.all() if hasattr(report.build, "all") else [report.build]
    hashes = {Path(z.zip_path): file_sha256(Path(z.zip_path)).hex() for z in zips}  # each zip read once
    main_zip = Path(report.build.zip_path)
    info["zip_sha256"] = hashes.get(main_zip) or file_sha256(main_zip).hex()
    info["zips"] = {_relative(path, settings.project_dir): digest for path, digest in hashes.items()}
    info["terraform_sha256"] = terraform_hash(terraform_files(settings.terraform_dir))
    info["ok"] = report.ok
    # What merge's attestation must list as not checked (issue 9: exclusions and waivers are attested).
    info["skipped"] = dict(report.skipped)
    info["idempotency_waived"] = list(report.deployment.inventory.waived) if report.deployment else []
    # A warm (or incremental) shard proves nothing a from-scratch apply would: merge then attests nothing.
    info["not_attested"] = report.deployment.not_attested_reason() if report.deployment else ""


def _start_coverage(settings: Settings, stages: Stages, url: str) -> Path:
    """Clear the previous run's data and ask the endpoint to measure the functions folder."""
    parts = settings.paths.coverage_parts
    if parts.exists():
        shutil.rmtree(parts)
    private_dir(parts)
    return stages.coverage_start(
        url, parts, zip_sources(settings.functions_dir), branch=settings.coverage == "branch"
    )


def _add_coverage(report: RunReport, settings: Settings, code_root: Path, unsaved: list[str]) -> RunCoverage:
    """Combine the environments' data, write .coverage, XML and HTML, and put the numbers in
    ``report.results`` (``run`` writes results.json)."""
    out = settings.paths
    run = RunCoverage.combine(
        [out.coverage_parts],
        functions_dir=settings.functions_dir,
        code_roots=[code_root],
        data_file=out.coverage_data,
        project_dir=settings.project_dir,
    )
    run.write_reports(out.coverage_xml, out.coverage_html)
    assert report.inventory is not None
    part = (report.results.get("shard") or {}).get("functions")  # a shard reports on its part only
    handlers = {fn.name: fn.handler for fn in report.inventory.functions if part is None or fn.name in part}
    functions = report.results.setdefault("functions", {})
    report.results["coverage"] = coverage_summary(
        run, handlers, functions, settings, mode=settings.coverage, unsaved=unsaved
    )
    shutil.rmtree(out.coverage_parts, ignore_errors=True)
    return run


def per_function_counts(report: RunReport) -> dict[str, dict[str, int]]:
    """Function name -> {"passed", "failed"} for every tested deployed function (what the attestation
    records; the ones excluded on purpose are in ``report.skipped`` instead)."""
    functions = report.results.get("functions", {})
    names = [fn.name for fn in report.inventory.functions] if report.inventory else []
    return {
        name: {
            "passed": int(functions.get(name, {}).get("passed", 0)),
            "failed": int(functions.get(name, {}).get("failed", 0)),
        }
        for name in sorted((set(names) | set(functions)) - set(report.skipped))
    }


# --- smoke ----------------------------------------------------------------------------------------


def smoke(settings: Settings, ui: UI, *, stages: Stages | None = None) -> SmokeReport:
    """``lambda-harness smoke``: build, up, apply, then load every function once (no event cases)."""
    stages = stages or default_stages()
    stages.build(settings, ui)
    report = SmokeReport(ok=True)
    with stages.endpoint(settings, ui) as url:
        deployment = _as_deployment(stages.deploy(settings, ui, url))
        try:
            inventory = deployment.inventory
            invoker = stages.invoker(url, inventory)  # each function in its ARN's region
            with ui.step(f"initialise {len(inventory.functions)} functions"):
                for fn in inventory.functions:
                    if fn.name in settings.skip_functions:
                        why = f"excluded by {settings.source_of('skip_functions')}"
                        report.rows.append([fn.name, "skipped", "-", f"{why} (runtime {_runtime(fn)})"])
                    elif not fn.runnable:
                        report.rows.append([fn.name, "UNTESTED", "-", f"runtime {_runtime(fn)}"])
                        report.failures.append(untested_message(fn.name, fn.runtime))
                    else:
                        context = import_context(settings.harness_dir, settings.project_dir, fn)
                        smoke_one(invoker, fn, report, context)
            plan_problem = _finish_deployment(deployment, ui)
        finally:
            deployment.cancel()
    if plan_problem:
        report.failures.append(plan_problem)
    ui.table("smoke", ["function", "init", "init ms", "detail"], report.rows)
    for text in report.failures:
        ui.fail(text)
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
    left_running = ""
    if not endpoint_healthy(settings.endpoint_url):
        if settings.backend == "localstack":
            from lambda_harness.endpoint.localstack import SERVICE, start_localstack

            started = start_localstack(settings, ui)  # left running, like the detached endpoint
            if started is not None:
                left_running = f"LocalStack left running; stop it with: {started.describe()} stop {SERVICE}"
        else:
            from lambda_harness.endpoint import control

            down = control.down_command(settings)
            ui.warn(
                f"no endpoint answers on {settings.endpoint_url}: apply starts one in the background and "
                f"LEAVES IT RUNNING after it finishes (the deployment lives in it); stop it with: {down}"
            )
            with ui.step(f"start a detached endpoint on {settings.endpoint_url}"):
                pid = control.start_detached(settings)
                control.wait_healthy(settings.endpoint_url, 30.0)
            log = shown(settings.paths.endpoint_log, settings.project_dir)
            left_running = (
                f"the endpoint this apply started is still running in the background (pid {pid}, log "
                f"{log}); stop it with: {down}"
            )
    if deploy is None:
        from lambda_harness.terraform.deploy import deploy as deploy_always

        deploy = deploy_always
    inventory = deploy(settings, ui, settings.endpoint_url)
    if left_running:
        ui.warn(left_running)  # again at the end, where it is seen
    return inventory


# --- merge ----------------------------------------------------------------------------------------


def merge(settings: Settings, ui: UI, dirs: Sequence[Path]) -> RunReport:
    """``lambda-harness merge DIR...``: one results.json, JUnit file, coverage and report from every
    shard's uploaded files; the attestation only when every shard passed on this zip and this
    Terraform."""
    # First: a refused or red merge must not leave an earlier merge's attestation behind.
    attestation_path(settings).unlink(missing_ok=True)
    shards = sorted((ShardFolder.load(folder) for folder in dirs), key=lambda s: s.index)
    zip_path = settings.dist or settings.project_dir / "dists.zip"
    problems = _merge_problems(settings, shards, zip_path)
    if problems:
        raise ShardError("cannot merge the shards: " + "; ".join(problems))
    out = settings.paths
    merged = merge_results([s.results for s in shards])
    merge_junit([(s.index, s.total, s.file("junit.xml")) for s in shards], out.junit)
    report = RunReport(ok=False, results=merged, results_path=out.results, junit_path=out.junit)
    mode = shards[0].coverage_mode  # one mode across the shards (checked)
    if mode is not None:
        with ui.step("combine the shards' coverage"):
            report.coverage = _merge_coverage(report, settings, shards, mode)
    write_json_atomic(out.results, merged)
    write_report(out.report_html, merged, title="lambda-harness run (merged shards)")
    names = sorted(merged["functions"])
    columns = list(SUMMARY_COLUMNS) + (["cover %"] if report.coverage is not None else [])
    ui.table("functions", columns, summary_rows(merged, names))
    report.failures = failure_texts(merged)
    report.ok = all(s.results["shard"].get("ok") for s in shards) and not report.failures
    ui.info(f"JUnit: {out.junit}  results: {out.results}  report: {out.report_html}")
    unattested = [
        f"shard {s.index}: {why}" for s in shards if (why := s.results["shard"].get("not_attested"))
    ]
    if report.ok and unattested:
        ui.info(f"every shard passed; not attested: {'; '.join(unattested)}")
    elif report.ok:
        report.skipped = {n: w for s in shards for n, w in (s.results["shard"].get("skipped") or {}).items()}
        waived = sorted({w for s in shards for w in s.results["shard"].get("idempotency_waived") or []})
        exemptions = Exemptions(skipped=report.skipped, idempotency_waived=waived)
        report.attestation = write_attestation(settings, zip_path, per_function_counts(report), exemptions)
        ui.info(f"every shard passed; attestation: {report.attestation}")
    for text in report.failures:
        ui.fail(text)
    if not report.ok:
        ui.fail(verdict(report.failures))
    return report


def _merge_problems(settings: Settings, shards: Sequence[ShardFolder], zip_path: Path) -> list[str]:
    """Why these shards cannot be merged here (empty: they can)."""
    problems = check_shards([(s.where, s.results) for s in shards])
    problems += [p for s in shards for p in s.missing_files()]
    if problems:
        return problems
    info = shards[0].results["shard"]
    zips = info.get("zips") or {_relative(zip_path, settings.project_dir): info["zip_sha256"]}
    for name, digest in sorted(zips.items()):
        path = settings.project_dir / name
        if not path.is_file() or file_sha256(path).hex() != digest:
            problems.append(
                f"{path} is not the zip the shards tested (sha256 {digest[:12]}...); "
                "merge in a checkout of the same commit, with the zips built (lambda-harness build)"
            )
    if terraform_hash(terraform_files(settings.terraform_dir)) != info["terraform_sha256"]:
        problems.append(f"{settings.terraform_dir} is not the Terraform the shards tested")
    return problems


def _merge_coverage(
    report: RunReport, settings: Settings, shards: Sequence[ShardFolder], mode: str
) -> RunCoverage:
    """Combine the shards' ``.coverage`` files (each mapped from its machine's functions folder to
    this checkout's) and put the numbers, XML and HTML where ``run`` puts them."""
    out = settings.paths
    run = RunCoverage.combine(
        [s.file(".coverage") for s in shards],
        functions_dir=settings.functions_dir,
        other_functions_dirs=[Path(d) for s in shards if (d := s.functions_dir) is not None],
        data_file=out.coverage_data,
        project_dir=settings.project_dir,
    )
    run.write_reports(out.coverage_xml, out.coverage_html)
    functions = report.results["functions"]
    handlers = {name: str(fn.get("handler") or "") for name, fn in functions.items() if fn.get("handler")}
    unsaved = sorted({n for s in shards for n in (s.results.get("coverage") or {}).get("unsaved", [])})
    report.results["coverage"] = coverage_summary(
        run, handlers, functions, settings, mode=mode, unsaved=unsaved
    )
    return run


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)

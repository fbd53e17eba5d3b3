"""pytest plugin: fixtures for the deployed functions and APIs, one test per event case, and the gate.

An event case is a file ``<cases folder>/<function>/<case>.json``: the event a function
is invoked with, plus what it must return (``.expected.json``) or raise (``.error.json``).

Loaded in every pytest run through the ``pytest11`` entry point, so it stays
passive unless asked: the generated event-case tests and the gate only exist
when an inventory is given (``--harness-inventory PATH``,
``LAMBDA_HARNESS_INVENTORY``, or ``--harness`` for ``.harness/inventory.json``
under the rootdir). The fixtures are always there; ``deployed_functions``
skips when no inventory is configured, so hand-written integration tests skip
in a plain ``pytest`` run of unit tests. Nor does it slow every run down: boto3
(``testing.invoker``) is imported only when a test invokes or asks for a client.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from lambda_harness import net
from lambda_harness.errors import ConfigError, HarnessError, InvocationError
from lambda_harness.paths import HARNESS_DIR, HarnessPaths
from lambda_harness.terraform.inventory import DeployedApi, Inventory
from lambda_harness.testing import iam as iam_report
from lambda_harness.testing.api_cases import HttpAnswer, is_http_case, load_request, route_gate, run_http_case
from lambda_harness.testing.artifacts import ImportContext, import_context
from lambda_harness.testing.cases import (
    MISSING,
    CaseFiles,
    EventCase,
    GateProblem,
    check_case,
    discover,
    gate,
)
from lambda_harness.testing.prefetch import CasePrefetcher
from lambda_harness.testing.results import (
    CaseResult,
    ResultsRecorder,
    deployed_meta,
    failure_details,
    failure_message,
    init_error_hint,
    init_failed,
    load_results,
    log_excerpt,
)
from lambda_harness.testing.shard import Shard, part_of, weights

if TYPE_CHECKING:  # testing.invoker imports boto3 (~0.5 s): only when a test needs it
    from lambda_harness.testing.invoker import Invocation, Invoker

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
ALLOW_OPTION = "--harness-allow-non-loopback"
DEFAULT_INVENTORY = HarnessPaths(Path(HARNESS_DIR)).inventory
DEFAULT_CASES_DIR = Path("tests") / "integration" / "events"


def load_inventory(path: Path) -> Inventory:
    """The inventory ``lambda-harness apply`` wrote (ConfigError saying how to make it)."""
    if not path.is_file():
        raise ConfigError(f"inventory {path} does not exist: deploy first (lambda-harness apply, or run)")
    return Inventory.load(path)


@dataclass
class HarnessState:
    """Per-session plugin state, kept in ``config.stash``."""

    active: bool
    endpoint_url: str
    region: str
    cases_dir: Path
    inventory_path: Path | None
    results_path: Path | None
    inventory: Inventory | None = None
    endpoint_source: str = "the default"
    skipped: tuple[str, ...] = ()
    shard: Shard | None = None
    durations: dict[str, Any] | None = None
    recorder: ResultsRecorder = field(default_factory=ResultsRecorder)
    generated: set[str] = field(default_factory=set)  # node ids of the event-case and gate items
    case_requests: set[str] = field(default_factory=set)  # request ids of the event-case invocations
    workers: int = 1  # how many functions' cases are invoked side by side (--harness-workers)
    prefetch: CasePrefetcher | None = None
    prefetch_decided: bool = False  # start_prefetch looked at the session's items once
    case_files: CaseFiles = field(default_factory=CaseFiles)  # each case file parsed once
    _invoker: Invoker | None = None
    _iam: iam_report.IamLedger | None = None

    def api_base_url(self, name: str, stage: str | None = None) -> str:
        """The URL (ending in ``/``) of an API's stage on this session's endpoint."""
        assert self.inventory is not None
        url = self.inventory.api(name).stage(stage).url
        deployed_to = self.inventory.endpoint_url.rstrip("/")
        if deployed_to and url.startswith(deployed_to):  # --harness-endpoint may point elsewhere
            url = self.endpoint_url + url[len(deployed_to) :]
        return url

    @property
    def invoker(self) -> Invoker:
        """One Invoker for the session (lazily: unit-test runs never build a boto3 client)."""
        if self._invoker is None:
            from lambda_harness.testing.invoker import Invoker

            if self.inventory is not None:  # each function in the region of its ARN
                self._invoker = Invoker.for_inventory(self.endpoint_url, self.inventory, self.region)
            else:
                self._invoker = Invoker(self.endpoint_url, self.region)
        return self._invoker

    @property
    def iam(self) -> iam_report.IamLedger:
        """The endpoint's IAM ledger (reads are None on an endpoint without one)."""
        if self._iam is None:
            self._iam = iam_report.IamLedger(self.endpoint_url)
        return self._iam

    def import_context(self, name: str) -> ImportContext | None:
        """The zips function ``name`` loads (``testing.artifacts``), when the build left a record."""
        project = self.project_dir()
        if project is None or self.inventory_path is None or self.inventory is None:
            return None
        fn = next((f for f in self.inventory.functions if f.name == name), None)
        return import_context(self.inventory_path.parent, project, fn) if fn is not None else None

    def project_dir(self) -> Path | None:
        """The worker repo (where .harness/inventory.json lives), for relative .tf paths."""
        if self.inventory_path is None:
            return None
        return self.inventory_path.parent.parent


STATE = pytest.StashKey[HarnessState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--harness-*`` options."""
    group = parser.getgroup("lambda-harness", "lambda-harness: test deployed Lambda functions")
    group.addoption(
        "--harness",
        action="store_true",
        default=False,
        help=f"activate with the default inventory ({DEFAULT_INVENTORY} under the rootdir)",
    )
    group.addoption(
        "--harness-inventory",
        metavar="PATH",
        default=None,
        help="inventory JSON written by `lambda-harness apply`; activates the event-case "
        "tests and the gate (env LAMBDA_HARNESS_INVENTORY)",
    )
    group.addoption(
        "--harness-endpoint",
        metavar="URL",
        default=None,
        help=f"AWS endpoint (env LAMBDA_HARNESS_ENDPOINT, else the inventory's, else {DEFAULT_ENDPOINT})",
    )
    group.addoption(
        ALLOW_OPTION,
        action="store_true",
        default=False,
        help="permit a --harness-endpoint that is not loopback (also env "
        f"{net.ALLOW_ENV}=1; not read from the repo's pytest configuration)",
    )
    group.addoption(
        "--harness-skip-function",
        dest="harness_skip_functions",
        action="append",
        metavar="NAME",
        default=None,
        help="a deployed function not to test, on purpose (repeatable; env LAMBDA_HARNESS_SKIP_FUNCTIONS, "
        "comma-separated): no case of it runs and the gate does not ask for one",
    )
    group.addoption(
        "--harness-region",
        metavar="REGION",
        default=None,
        help="AWS region (env LAMBDA_HARNESS_REGION, else the inventory's, else us-east-1)",
    )
    group.addoption(
        "--harness-cases",
        "--harness-events",  # its former name
        dest="harness_cases",
        metavar="DIR",
        default=None,
        help=f"event cases folder (env LAMBDA_HARNESS_CASES, default {DEFAULT_CASES_DIR})",
    )
    group.addoption(
        "--harness-workers",
        metavar="N",
        type=int,
        default=None,
        help="invoke up to N functions' event cases side by side, each function's in order "
        "(default: the number of CPUs; 1: one case at a time)",
    )
    group.addoption(
        "--harness-shard",
        metavar="K/N",
        default=None,
        help="test only part K of N of the deployed functions (the gate covers only that part)",
    )
    group.addoption(
        "--harness-durations",
        metavar="PATH",
        default=None,
        help="a previous results.json: balance --harness-shard by its durations (else by case count)",
    )
    group.addoption(
        "--harness-results",
        metavar="PATH",
        default=None,
        help="write per-function results (JSON) here at the end of the session",
    )
    group.addoption(
        "--harness-iam-run",
        metavar="N",
        type=int,
        default=None,
        help="read the endpoint's IAM evidence from its run N on (`lambda-harness run` starts one "
        "before the apply); default: start a run when the session starts",
    )


def _resolve(config: pytest.Config, value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else (Path(config.invocation_params.dir) / path).resolve()


def pytest_configure(config: pytest.Config) -> None:
    """Resolve options (flag > environment > inventory > default) and load the inventory."""
    env = os.environ
    given = config.getoption("harness_inventory") or env.get("LAMBDA_HARNESS_INVENTORY")
    inventory_path = _resolve(config, given)
    if inventory_path is None and config.getoption("harness"):
        inventory_path = config.rootpath / DEFAULT_INVENTORY
    inventory = None
    if inventory_path is not None:
        try:
            inventory = load_inventory(inventory_path)
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from exc
    endpoint, source = _endpoint(config, inventory, inventory_path)
    allowed = _allow_non_loopback(config)
    try:  # before a single request: the endpoint must be this machine unless the user opted in
        net.require_loopback(
            net.url_host(endpoint),
            source=source,
            allowed=allowed,
            opt_in=f"{ALLOW_OPTION} on the pytest command line or {net.ALLOW_ENV}=1",
        )
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    region = (
        config.getoption("harness_region")
        or env.get("LAMBDA_HARNESS_REGION")
        or (_deployed_region(inventory) if inventory else None)
        or env.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )
    cases_dir = _resolve(
        config,
        config.getoption("harness_cases")
        or env.get("LAMBDA_HARNESS_CASES")
        or env.get("LAMBDA_HARNESS_EVENTS"),  # the former name
    )
    state = HarnessState(
        active=inventory is not None,
        endpoint_url=str(endpoint).rstrip("/"),
        region=str(region),
        cases_dir=cases_dir or config.rootpath / DEFAULT_CASES_DIR,
        inventory_path=inventory_path,
        results_path=_resolve(config, config.getoption("harness_results")),
        inventory=inventory,
        endpoint_source=source,
        skipped=_skipped(config),
        workers=max(1, config.getoption("harness_workers") or os.cpu_count() or 1),
    )
    if inventory is not None and not state.cases_dir.is_dir():
        raise pytest.UsageError(
            f"event cases folder {state.cases_dir} does not exist: add "
            f"{state.cases_dir}/<function>/<case>.json for each deployed function "
            f"({', '.join(fn.name for fn in inventory.functions) or 'none'})"
        )
    _configure_shard(config, state)
    state.recorder.endpoint_url = state.endpoint_url
    state.recorder.region = state.region
    if inventory is not None:
        state.recorder.deployed = deployed_meta(inventory, config.rootpath)
    config.stash[STATE] = state
    config.pluginmanager.register(_OutcomeCounter(state.recorder, state.generated), "lambda_harness_outcomes")


def _endpoint(config: pytest.Config, inventory: Inventory | None, path: Path | None) -> tuple[str, str]:
    """(URL, where it came from): flag > environment > inventory > default."""
    for value, source in (
        (config.getoption("harness_endpoint"), "--harness-endpoint"),
        (os.environ.get("LAMBDA_HARNESS_ENDPOINT"), "LAMBDA_HARNESS_ENDPOINT"),
        (inventory.endpoint_url if inventory else None, f"the inventory {path}"),
    ):
        if value:
            return str(value), source
    return DEFAULT_ENDPOINT, "the default"


def _allow_non_loopback(config: pytest.Config) -> bool:
    """The opt-in from the command line or the environment; an error when the repo's ini sets it."""
    if ALLOW_OPTION in config.getini("addopts"):
        raise pytest.UsageError(
            f"{ALLOW_OPTION} is not read from the repo's pytest configuration ({config.inipath}): a pull "
            f"request can change that file. Pass it on the command line or set {net.ALLOW_ENV}=1."
        )
    env = os.environ.get(net.ALLOW_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return bool(config.getoption("harness_allow_non_loopback")) or env


def _skipped(config: pytest.Config) -> tuple[str, ...]:
    given = config.getoption("harness_skip_functions")
    if given:
        return tuple(given)
    return tuple(
        n.strip() for n in os.environ.get("LAMBDA_HARNESS_SKIP_FUNCTIONS", "").split(",") if n.strip()
    )


def _deployed_region(inventory: Inventory) -> str:
    from lambda_harness.testing.invoker import deployed_region  # active runs invoke anyway

    return deployed_region(inventory)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Read only this session's IAM evidence: an endpoint reused across runs keeps earlier ones."""
    state = session.config.stash.get(STATE, None)
    if state is None or not state.active:
        return
    given = session.config.getoption("harness_iam_run")
    if given is not None:
        state.iam.run = given
    else:
        state.iam.mark()


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Say where the tests go, so a run against the wrong endpoint is obvious."""
    state = config.stash.get(STATE, None)
    if state is None or not state.active:
        return None
    lines = [
        f"lambda-harness: endpoint {state.endpoint_url}, inventory {state.inventory_path}, "
        f"event cases {state.cases_dir}"
    ]
    if not net.is_loopback(net.url_host(state.endpoint_url)):
        address = state.endpoint_url.split("://", 1)[-1]
        lines.append("lambda-harness: WARNING " + net.exposure_warning(address, state.endpoint_source))
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The event cases folder becomes one collector of generated tests (only when active)."""
    state = parent.config.stash.get(STATE, None)
    if state is None or not state.active or path.resolve() != state.cases_dir.resolve():
        return None
    return CasesDirectory.from_parent(parent, path=path)


class CasesDirectory(pytest.Directory):
    """The event cases folder: one item per deployed function and case, plus the gate."""

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        state = self.config.stash[STATE]
        assert state.inventory is not None  # only collected when active
        read = state.case_files.load  # each case file parsed once this session
        try:
            cases = discover(self.path, read)
        except ConfigError as exc:
            raise self.CollectError(str(exc)) from exc
        every_function = {fn.name for fn in state.inventory.functions}
        not_runnable = {fn.name: fn.runtime for fn in state.inventory.functions if not fn.runnable}
        state.recorder.skipped = sorted(set(state.skipped) & every_function)
        apis = {api.name: api for api in state.inventory.apis}
        api_cases = {
            name: [c for c in cases.get(name, []) if name not in every_function or is_http_case(c, read)]
            for name in apis
        }
        # With --harness-shard: this shard's functions; API cases run on shard 1 (once across shards).
        deployed, own = shard_view(state, cases)
        runs_apis = state.shard is None or state.shard.index == 1
        items: list[pytest.Item] = []
        for name in sorted(deployed):
            if name in state.skipped or name in not_runnable:
                continue  # excluded on purpose, or nothing the harness can run (the gate says so)
            for case in own.get(name, []):
                if name not in apis or not is_http_case(case, read):
                    items.append(EventCaseItem.from_parent(self, name=case.id, case=case))
        for name, api in sorted(apis.items()) if runs_apis else ():
            for case in api_cases[name]:
                items.append(HttpCaseItem.from_parent(self, name=case.id, case=case, api=api))
        try:
            problems = gate(
                deployed,
                own,
                self.path,
                apis=apis,
                not_runnable={n: r for n, r in not_runnable.items() if n in deployed},
                skipped=state.skipped,
                elsewhere=every_function - set(deployed),
            )
            if runs_apis:
                problems += route_gate(list(apis.values()), api_cases, self.path, read)
        except ConfigError as exc:
            raise self.CollectError(str(exc)) from exc
        for problem in problems:
            items.append(GateItem.from_parent(self, name=problem.id, problem=problem))
        if not problems:
            items.append(GateItem.from_parent(self, name="gate", problem=None))
        state.generated.update(item.nodeid for item in items)
        return items


def _configure_shard(config: pytest.Config, state: HarnessState) -> None:
    """Read ``--harness-shard`` and ``--harness-durations`` (a usage error names what is wrong)."""
    spec = config.getoption("harness_shard")
    if not spec or state.inventory is None:
        return
    try:
        state.shard = Shard.parse(spec)
        durations = _resolve(config, config.getoption("harness_durations"))
        state.durations = load_results(durations) if durations is not None else None
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from exc


def shard_view(
    state: HarnessState, cases: dict[str, list[EventCase]]
) -> tuple[list[str], dict[str, list[EventCase]]]:
    """The deployed functions this session tests and the case folders its gate looks at.

    Without a shard: all of them. With one: its part; case folders of no deployed function
    are reported by shard 1 only (each problem once across the shards).
    """
    assert state.inventory is not None
    deployed = [fn.name for fn in state.inventory.functions]
    if state.shard is None:
        return deployed, cases
    weight = weights(deployed, {n: len(c) for n, c in cases.items()}, state.durations)
    part = part_of(state.shard, weight)
    kept = {n: c for n, c in cases.items() if n in part or (n not in deployed and state.shard.index == 1)}
    state.recorder.deployed = {n: m for n, m in state.recorder.deployed.items() if n in part}
    state.recorder.shard = {
        "index": state.shard.index,
        "total": state.shard.total,
        "functions": part,
        "deployed": sorted(deployed),
    }
    return part, kept


class CaseFailed(Exception):
    """An event case's outcome did not match its expectation."""

    def __init__(self, problems: list[str], invocation: Invocation | None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.invocation = invocation


class EventCaseItem(pytest.Item):
    """Invoke one function with one event file and check the outcome."""

    def __init__(self, *, case: EventCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        state = self.config.stash[STATE]
        result = CaseResult(function=self.case.function, case=self.case.name, outcome="failed")
        state.recorder.cases.append(result)
        try:
            inv = invocation_for(self)
        except InvocationError as exc:
            result.problems = [str(exc)]
            raise CaseFailed([str(exc)], None) from exc
        problems = check_case(self.case, inv.payload, inv.error_type or inv.function_error, inv.error_message)
        problems += self._iam_problems(state, inv, result)
        result.cold, result.duration_ms, result.init_ms = inv.cold, inv.duration_ms, inv.init_ms
        result.wall_ms, result.max_memory_mb = inv.wall_ms, inv.max_memory_mb
        result.error_type = inv.error_type
        if problems and init_failed(inv.error_type, inv.log_tail):
            context = state.import_context(self.case.function)
            problems.append(init_error_hint(inv.error_type, inv.error_message, at_init=True, context=context))
        result.problems = problems
        if problems:
            result.log_excerpt = log_excerpt(inv.log_tail)
            result.details = case_details(self.case, inv)
            raise CaseFailed(problems, inv)
        result.outcome = "passed"

    def _iam_problems(self, state: HarnessState, inv: Invocation, result: CaseResult) -> list[str]:
        """Every call the function's role was refused during this invocation (enforce: a failure,
        even when the handler caught the error itself)."""
        if not inv.request_id:
            return []
        state.case_requests.add(inv.request_id)
        assert state.inventory is not None
        result.iam_denials, problems = iam_report.case_denials(
            state.iam, inv.request_id, inv.ok, state.inventory.iam, state.project_dir()
        )
        return problems

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        exc = excinfo.value
        if isinstance(exc, CaseFailed):
            lines = [f"event case {self.case.id} ({self.case.event_path}) failed:"]
            lines += [f"  - {p}" for p in exc.problems]
            if exc.invocation is not None and exc.invocation.log_tail:
                lines += ["--- log tail ---", exc.invocation.log_tail.rstrip()]
            return "\n".join(lines)
        if isinstance(exc, HarnessError):
            return f"event case {self.case.id}: {exc}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.case.event_path, None, f"event case {self.case.id}"


def invocation_for(item: EventCaseItem) -> Invocation:
    """The item's invocation: made ahead by the session's prefetcher when there is one, else now."""
    state = item.config.stash[STATE]
    prefetch = start_prefetch(item.session, state)
    if prefetch is not None and prefetch.covers(item.case):
        return cast("Invocation", prefetch.result(item.case))
    return state.invoker.invoke(item.case.function, item.case.event_bytes())


def start_prefetch(session: pytest.Session, state: HarnessState) -> CasePrefetcher | None:
    """At the first event-case item, start invoking every selected case ahead (see ``prefetch``)."""
    if not state.prefetch_decided and state.workers > 1:
        state.prefetch_decided = True
        cases = [item.case for item in session.items if isinstance(item, EventCaseItem)]
        if len({case.function for case in cases}) > 1:
            invoker = state.invoker  # built here, on the main thread; boto3 clients are thread-safe
            state.prefetch = CasePrefetcher(
                lambda case: invoker.invoke(case.function, case.event_bytes()), cases, state.workers
            )
    return state.prefetch


def case_details(case: EventCase, inv: Invocation) -> dict[str, Any]:
    """The failed case's event, expected subset and actual payload, for the report."""
    expected = case.expected()
    return failure_details(case.event_bytes(), None if expected is MISSING else expected, inv.payload)


class HttpCaseFailed(Exception):
    """An API case's answer did not match its expectation."""

    def __init__(self, problems: list[str], url: str, answer: HttpAnswer | None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.url = url
        self.answer = answer


class HttpCaseItem(pytest.Item):
    """Send one API case's request to the deployed API and check the answer."""

    def __init__(self, *, case: EventCase, api: DeployedApi, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.api = api

    def runtest(self) -> None:
        state = self.config.stash[STATE]
        result = CaseResult(function=f"api:{self.api.name}", case=self.case.name, outcome="failed")
        state.recorder.cases.append(result)
        spec = load_request(self.case, state.case_files.load)
        outcome = run_http_case(self.case, spec, spec.url(state.api_base_url(self.api.name, spec.stage)))
        result.wall_ms, result.problems = outcome.wall_ms, outcome.problems
        if outcome.problems:
            result.log_excerpt = outcome.answer.body[:2000].decode("utf-8", "replace")
            raise HttpCaseFailed(outcome.problems, f"{spec.method} {outcome.url}", outcome.answer)
        result.outcome = "passed"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        exc = excinfo.value
        if isinstance(exc, HttpCaseFailed):
            lines = [f"API case {self.case.id} ({self.case.event_path}) failed: {exc.url}"]
            lines += [f"  - {p}" for p in exc.problems]
            if exc.answer is not None and exc.answer.body:
                lines += ["--- response body ---", exc.answer.body[:2000].decode("utf-8", "replace")]
            return "\n".join(lines)
        if isinstance(exc, HarnessError):
            return f"API case {self.case.id}: {exc}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.case.event_path, None, f"API case {self.case.id}"


class GateFailed(Exception):
    """A function without event cases, or cases without a function."""


class GateItem(pytest.Item):
    """One gate problem as a failing test (so it shows in JUnit), or the passing ``gate``."""

    def __init__(self, *, problem: GateProblem | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problem = problem

    def runtest(self) -> None:
        if self.problem is not None:
            self.config.stash[STATE].recorder.gate.append(
                {"kind": self.problem.kind, "name": self.problem.name, "message": self.problem.message}
            )
            raise GateFailed(self.problem.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, GateFailed):
            return f"gate: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


class _OutcomeCounter:
    """Counts every test's outcome for the results file (setup/teardown failures are errors),
    and keeps what each failed hand-written test said, so ``run`` can name it."""

    def __init__(self, recorder: ResultsRecorder, generated: set[str]) -> None:
        self.recorder = recorder
        self.generated = generated

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.recorder.count(report.outcome)
        elif report.outcome == "failed":
            self.recorder.count("error")
        elif report.outcome == "skipped":
            self.recorder.count("skipped")
        if report.failed and report.nodeid not in self.generated:
            self.recorder.others.append(
                {
                    "nodeid": report.nodeid,
                    "when": report.when or "call",
                    "message": failure_message(report.longreprtext),
                }
            )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.recorder.others.append(
                {
                    "nodeid": report.nodeid or "(collection)",
                    "when": "collect",
                    "message": failure_message(report.longreprtext),
                }
            )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop invoking cases ahead (-x, Ctrl-C); write ``--harness-results`` when asked."""
    state = session.config.stash.get(STATE, None)
    if state is not None and state.prefetch is not None:
        state.prefetch.stop()
    if state is None or state.results_path is None:
        return
    if state.active and state.inventory is not None:
        _record_iam(state)
    state.recorder.write(state.results_path, int(exitstatus))


def _record_iam(state: HarnessState) -> None:
    """The endpoint's IAM evidence into results.json: per function, and denials outside event cases."""
    snapshot = state.iam.snapshot()
    if snapshot is None:
        return
    assert state.inventory is not None
    deployed = {fn.name for fn in state.inventory.functions}
    if state.recorder.shard is not None:  # a shard reports its own part (merge joins the parts)
        deployed &= set(state.recorder.shard["functions"])
    deployed -= set(state.skipped)  # a function excluded on purpose gets no entry (issue 9)
    if snapshot.get("mode") != "off":  # off: nothing was evaluated, so nothing is "unused" either
        entries = iam_report.function_entries(snapshot, state.inventory.iam, state.project_dir())
        state.recorder.iam_functions = {name: e for name, e in entries.items() if name in deployed}
    outside = iam_report.outside_cases(snapshot, state.case_requests)
    state.recorder.iam = {
        "mode": snapshot.get("mode"),
        "catalog": snapshot.get("catalog"),
        "denials_outside_cases": outside,
        "denials_outside_cases_text": iam_report.denial_texts(
            outside, state.inventory.iam, state.project_dir()
        ),
        "trust": snapshot.get("trust", []),
    }


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def harness_endpoint(pytestconfig: pytest.Config) -> str:
    """The endpoint URL the functions are deployed to."""
    return pytestconfig.stash[STATE].endpoint_url


@pytest.fixture(scope="session")
def harness_region(pytestconfig: pytest.Config) -> str:
    """The region of the deployment."""
    return pytestconfig.stash[STATE].region


@pytest.fixture(scope="session")
def aws_session(harness_region: str) -> Any:
    """A boto3 Session with fake credentials (never the caller's) in the harness region."""
    from lambda_harness.testing.invoker import make_session

    return make_session(harness_region)


@pytest.fixture(scope="session")
def aws_client(aws_session: Any, harness_endpoint: str) -> Callable[..., Any]:
    """Factory: ``aws_client("s3")`` is a boto3 client bound to the endpoint (no retries)."""
    from lambda_harness.testing.invoker import client_config

    def make(service: str, **kwargs: Any) -> Any:
        kwargs.setdefault("config", client_config(read_timeout=120.0, endpoint_url=harness_endpoint))
        return aws_session.client(service, endpoint_url=harness_endpoint, **kwargs)

    return make


@pytest.fixture(scope="session")
def deployed_functions(pytestconfig: pytest.Config) -> Inventory:
    """The deployed functions (``Inventory``); skips the test when no inventory is configured."""
    state = pytestconfig.stash[STATE]
    if state.inventory is None:
        pytest.skip("no deployment: run `lambda-harness run`, or pass --harness-inventory PATH")
    return state.inventory


@pytest.fixture(scope="session")
def api_url(pytestconfig: pytest.Config) -> Callable[..., str]:
    """``api_url("alerts", stage=None)`` -> the URL (ending in ``/``) of a deployed API's stage.

    ``"alerts"`` is the API's Terraform name (``aws_apigatewayv2_api.alerts``), its ``name``,
    or its id; without ``stage``: ``$default``, else the API's only stage. Skips the test
    when no inventory is configured.
    """
    state = pytestconfig.stash[STATE]
    if state.inventory is None:
        pytest.skip("no deployment: run `lambda-harness run`, or pass --harness-inventory PATH")

    def url(name: str, stage: str | None = None) -> str:
        return state.api_base_url(name, stage)

    return url


@pytest.fixture(scope="session")
def invoke(pytestconfig: pytest.Config) -> Callable[..., Invocation]:
    """``invoke(name, event, *, qualifier=None)`` -> ``Invocation`` (a handler error is a result)."""
    state = pytestconfig.stash[STATE]

    def call(name: str, event: object = None, **kwargs: Any) -> Invocation:
        return state.invoker.invoke(name, event, **kwargs)

    return call

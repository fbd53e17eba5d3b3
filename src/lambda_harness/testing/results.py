"""Per-function results of a test run: recorded by the pytest plugin, read by the pipeline.

The plugin writes one JSON file (``--harness-results``); the pipeline turns it
into the summary table and hands it to the attestation. The JSON is the
contract between the two processes, so it is plain data with a version.
"""

from __future__ import annotations

import json
import platform as host
import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambda_harness.errors import ConfigError
from lambda_harness.fsutil import write_json_atomic
from lambda_harness.testing.advice import TIMEOUT_ERRORS, Limits, advise
from lambda_harness.testing.artifacts import Artifact, ImportContext

if TYPE_CHECKING:
    from lambda_harness.terraform.inventory import Inventory

RESULTS_VERSION = 1
_EXCERPT_LINES = 20
_EXCERPT_CHARS = 2000


# awslambdaric's init failures: the module or handler could not be loaded at all.
INIT_FAILURES = frozenset(
    {
        "Runtime.ImportModuleError",
        "Runtime.HandlerNotFound",
        "Runtime.MalformedHandlerName",
        "Runtime.UserCodeSyntaxError",
        "Runtime.InvalidEntrypoint",
    }
)
# awslambdaric prints this paragraph before every unhandled error; it says nothing about the cause.
_RUNTIME_BOILERPLATE = "LAMBDA_WARNING: Unhandled exception."
_NO_MODULE = re.compile(r"No module named '([^']+)'")


def host_machine() -> str:
    """This machine's CPU as the kernel names it (``x86_64``, ``aarch64``)."""
    return host.machine()


_INIT_REPORT_ERROR = re.compile(r"^INIT_REPORT .*Status: error", re.MULTILINE)


def log_excerpt(log: str) -> str:
    """The last lines of a log, without the START/END/REPORT bookkeeping and runtime boilerplate."""
    bookkeeping = ("START RequestId", "END RequestId", "REPORT ")
    lines = [
        ln for ln in log.splitlines() if not ln.startswith(bookkeeping) and _RUNTIME_BOILERPLATE not in ln
    ]
    text = "\n".join(lines[-_EXCERPT_LINES:])
    return text[-_EXCERPT_CHARS:]


def init_failed(error_type: str | None, log: str | None) -> bool:
    """Whether the function failed to load: a Runtime.* init error, or top-level code that raised
    (awslambdaric then reports the exception's own type, and Lambda logs ``INIT_REPORT ... Status: error``).
    """
    return error_type in INIT_FAILURES or bool(_INIT_REPORT_ERROR.search(log or ""))


_FIXED_HINTS = {
    "Runtime.ImportModuleError": (
        "fix: the module raised while it was imported; the log above names the file and line"
    ),
    "Runtime.HandlerNotFound": (
        'fix: the module has no such function; correct the handler = "module.function" in the '
        "function's .tf file, or the function's name in the module"
    ),
    "Runtime.MalformedHandlerName": (
        'fix: write the handler as "module.function" (e.g. "app.handler") in the .tf file'
    ),
    "Runtime.UserCodeSyntaxError": (
        "fix: the syntax error in the file named above (it must parse under the function's runtime)"
    ),
}


def init_error_hint(
    error_type: str | None,
    message: str | None,
    *,
    at_init: bool = False,
    context: ImportContext | None = None,
) -> str:
    """What to fix when a function could not even load (empty for any other error).

    ``at_init``: the error happened while loading the module (see ``init_failed``).
    ``context``: the zips the function loads, to tell a missing package from one that is
    there but does not load (a native module built for another platform).
    """
    if at_init and error_type not in INIT_FAILURES:
        return (
            f"fix: the module's top-level code raised {error_type or 'an error'} while it was imported "
            "(at init, before any event); the log names the file and line"
        )
    missing = _NO_MODULE.search(message or "")
    if error_type == "Runtime.ImportModuleError" and missing:
        return _missing_module_hint(missing.group(1), context)
    return _FIXED_HINTS.get(error_type or "", "")


_PIN_IT = "pin it in the lock file (requirements.txt, Pipfile.lock, uv.lock or poetry.lock) and rebuild"


def _missing_module_hint(module: str, context: ImportContext | None) -> str:
    top = module.split(".", maxsplit=1)[0]
    if context is None or context.code is None:
        return (
            f"fix: {top!r} is not in the function's zip or its layers. If it is a dependency, {_PIN_IT}; "
            "if it is your own code, it belongs under the functions folder (the zip root), imported by "
            "its path from there"
        )
    zips = (context.code, *context.layers)
    found = next((a for a in zips if a.holds(top)), None)
    if found is not None:
        return _present_hint(module, top, found, context.platform)
    listing = context.code.path + "".join(f", layer {a.path}" for a in context.layers)
    root = context.code.source or context.functions_dir
    return (
        f"fix: {top!r} is not in {listing}. If it is a dependency, {_PIN_IT}; if it is your own code, "
        f"it belongs under {root}/ (the zip root), imported by its path from there"
    )


def _present_hint(module: str, top: str, found: Artifact, platform: str) -> str:
    """The package is in a zip the function loads, yet ``module`` did not import."""
    what = f"its module {module!r}" if module != top else "it"
    text = f"fix: {top!r} is in {found.describe()}, but {what} did not load for the function, {platform}"
    if found.platform and found.platform != platform:
        return f"{text}: a native module built for another platform; rebuild {found.path} for {platform}"
    if platform.endswith("/arm64") and host_machine() != "aarch64":
        return (
            f"{text}: an aarch64 native module cannot load on this {host_machine()} host "
            "(lambda-harness docs/reference/fidelity.md#architecture-arm64-functions-on-an-x86_64-host)"
        )
    return (
        f"{text}: present but failed to import, a wheel for another platform? Check the wheel's tags "
        "(manylinux for the function's architecture, cpXY for its Python) in the lock and rebuild"
    )


@dataclass
class CaseResult:
    """The outcome of one generated event-case test."""

    function: str
    case: str
    outcome: str  # "passed" | "failed"
    problems: list[str] = field(default_factory=list)
    cold: bool | None = None
    duration_ms: float | None = None
    init_ms: float | None = None
    wall_ms: float | None = None
    max_memory_mb: int | None = None
    error_type: str | None = None
    log_excerpt: str = ""
    # For a failed case: the event, the expected subset and the actual payload (for the HTML report).
    details: dict[str, Any] = field(default_factory=dict)
    iam_denials: list[dict[str, Any]] = field(default_factory=list)  # what the role was refused


@dataclass
class ResultsRecorder:
    """Collects case results, gate problems and test outcome counts during a pytest session."""

    endpoint_url: str = ""
    region: str = ""
    cases: list[CaseResult] = field(default_factory=list)
    gate: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Failures of hand-written tests (node id, phase, message): the run's table must name them too.
    others: list[dict[str, str]] = field(default_factory=list)
    # Deployed functions excluded from testing on purpose (--harness-skip-function).
    skipped: list[str] = field(default_factory=list)
    # What the Terraform declares for each function this session tests (``deployed_meta``).
    deployed: dict[str, dict[str, Any]] = field(default_factory=dict)
    # ``run --shard K/N``: {"index", "total", "functions" (this part), "deployed" (all)}.
    shard: dict[str, Any] | None = None
    # IAM (testing.iam): the run's mode and denials outside event cases; per-function entries.
    iam: dict[str, Any] = field(default_factory=dict)
    iam_functions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        """Count one test outcome (passed, failed, skipped, error)."""
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def to_dict(self, exitstatus: int | None = None) -> dict[str, Any]:
        """The JSON document: per-function summaries, every case, the gate, the counts."""
        by_function: dict[str, list[CaseResult]] = {name: [] for name in self.iam_functions}
        for case in self.cases:
            by_function.setdefault(case.function, []).append(case)
        functions = {
            name: function_entry(by_function.get(name, []), self.deployed.get(name))
            # a function excluded on purpose has no entry: it is listed in skipped_functions
            for name in sorted(set(by_function) | (set(self.deployed) - set(self.skipped)))
        }
        for name, entry in self.iam_functions.items():
            if name in functions:
                functions[name]["iam"] = entry
        return {
            "version": RESULTS_VERSION,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "exitstatus": exitstatus,
            "functions": functions,
            "gate": list(self.gate),
            "tests": dict(sorted(self.counts.items())),
            "other_failures": list(self.others),
            "skipped_functions": list(self.skipped),
            **({"shard": dict(self.shard)} if self.shard else {}),
            "iam": dict(self.iam),
        }

    def write(self, path: Path, exitstatus: int | None = None) -> None:
        """Write the results JSON atomically, 0600 (folders created as needed), keys in
        ``to_dict``'s order (the file reads top-down: version, endpoint, functions, ...)."""
        write_json_atomic(path, self.to_dict(exitstatus), sort_keys=False)


def summarize(cases: Sequence[CaseResult]) -> dict[str, Any]:
    """One function's line: pass/fail counts, cold and warm times, peak memory, its cases.

    A case that ran into the timeout says how long the timeout is, not how fast the function
    is: it counts for neither time (its failure and the timeout advice say what happened).
    """
    timed = [c for c in cases if c.duration_ms is not None and (c.error_type or "") not in TIMEOUT_ERRORS]
    cold = [c for c in timed if c.cold]
    warm = [c.duration_ms for c in timed if c.cold is False and c.duration_ms is not None]
    memories = [c.max_memory_mb for c in cases if c.max_memory_mb is not None]
    cold_ms = None
    if cold:
        first = cold[0]
        cold_ms = round((first.init_ms or 0.0) + (first.duration_ms or 0.0), 2)
    return {
        "passed": sum(c.outcome == "passed" for c in cases),
        "failed": sum(c.outcome != "passed" for c in cases),
        "cold_ms": cold_ms,
        "warm_ms": round(statistics.median(warm), 2) if warm else None,
        "max_memory_mb": max(memories) if memories else None,
        "cases": [asdict(c) for c in cases],
    }


_DETAIL_CHARS = 4000


def _clipped(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[:_DETAIL_CHARS] + "\n... (clipped)"


def failure_details(event: bytes, expected: Any, payload: Any) -> dict[str, Any]:
    """What the report shows of a failed case: event, expected subset, actual payload (clipped text)."""
    actual = (
        payload.decode("utf-8", "replace") if isinstance(payload, bytes) else json.dumps(payload, indent=2)
    )
    return {
        "event": _clipped(event.decode("utf-8", "replace")),
        "expected": None if expected is None else _clipped(json.dumps(expected, indent=2)),
        "actual": _clipped(actual),
    }


def function_entry(cases: Sequence[CaseResult], meta: dict[str, Any] | None) -> dict[str, Any]:
    """One function's results: ``summarize`` plus, when deployed here, its declaration and advice."""
    entry = summarize(cases)
    if meta is not None:
        entry.update({k: meta[k] for k in ("handler", "runtime", "tf_file", "tf_line", "triggers")})
        entry["limits"] = advise(Limits(meta["memory_mb"], meta["timeout_s"]), entry["cases"])
    return entry


def deployed_meta(inventory: Inventory, root: Path) -> dict[str, dict[str, Any]]:
    """Per deployed function: handler, runtime, declared memory and timeout, its .tf file, its triggers."""
    meta = {}
    for fn in inventory.functions:
        tf_file = None
        if fn.tf_file is not None:
            tf_path = Path(fn.tf_file)
            tf_file = tf_path.relative_to(root).as_posix() if tf_path.is_relative_to(root) else str(tf_path)
        meta[fn.name] = {
            "handler": fn.handler,
            "runtime": fn.runtime,
            "memory_mb": fn.memory_size,
            "timeout_s": fn.timeout,
            "tf_file": tf_file,
            "tf_line": fn.tf_line,
            "triggers": [{"kind": t.kind, "source": t.source} for t in fn.triggers],
        }
    return meta


def advice_lines(results: dict[str, Any]) -> list[str]:
    """``name: advice`` for every function with advice (what ``run`` prints under the table)."""
    lines = []
    for name, fn in sorted(results.get("functions", {}).items()):
        for item in (fn.get("limits") or {}).get("advice", []):
            lines.append(f"{name}: {item['text']}")
    return lines


def load_results(path: Path) -> dict[str, Any]:
    """Read a results file written by the plugin."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: no readable test results ({exc}); did pytest run with the lambda-harness plugin?"
        ) from exc
    if not isinstance(data, dict) or data.get("version") != RESULTS_VERSION:
        raise ConfigError(f"{path}: not a lambda-harness results file (version {RESULTS_VERSION})")
    return data


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


SUMMARY_COLUMNS = ("function", "passed", "failed", "cold ms", "warm ms", "max MB")


def summary_rows(
    results: dict[str, Any], deployed: Sequence[str] = (), skipped: Sequence[str] = ()
) -> list[list[str]]:
    """Rows of the per-function table; deployed functions without results show as not run,
    the ones excluded on purpose as skipped."""
    functions: dict[str, Any] = results.get("functions", {})
    with_coverage = "coverage" in results
    rows = []
    for name in sorted(set(functions) | set(deployed)):
        if name in skipped:
            rows.append([name, "skipped", "-", "-", "-", "-"] + (["-"] if with_coverage else []))
            continue
        fn = functions.get(name) or {}
        mem = fn.get("max_memory_mb")
        row = [
            name,
            str(fn.get("passed", 0)),
            str(fn.get("failed", 0)),
            _ms(fn.get("cold_ms")),
            _ms(fn.get("warm_ms")),
            "-" if mem is None else str(mem),
        ]
        if with_coverage:
            row.append(cover_text(fn.get("coverage")))
        rows.append(row)
    return rows


def cover_text(numbers: dict[str, Any] | None) -> str:
    """``71.4`` for a function's coverage entry, ``-`` without one."""
    if not numbers:
        return "-"
    return f"{float(numbers['percent']):.1f}"


def failure_texts(results: dict[str, Any]) -> list[str]:
    """One paragraph per failed case (problems + log excerpt) and per gate problem."""
    texts = [str(g["message"]) for g in results.get("gate", [])]
    for name, fn in sorted(results.get("functions", {}).items()):
        for case in fn.get("cases", []):
            if case["outcome"] == "passed":
                continue
            problems = [str(p) for p in case.get("problems") or ["failed"]]
            # A multi-line problem (an IAM fix with its statement) keeps its lines.
            joiner = "\n" if any("\n" in p for p in problems) else "; "
            text = f"{name}/{case['case']}: " + joiner.join(problems)
            if case.get("log_excerpt"):
                indented = "\n".join("    " + ln for ln in str(case["log_excerpt"]).splitlines())
                text += f"\n  log:\n{indented}"
            texts.append(text)
    for other in results.get("other_failures", []):
        phase = "" if other.get("when") in (None, "call") else f" (in {other['when']})"
        texts.append(f"{other.get('nodeid', '?')}{phase}: {other.get('message') or 'failed'}")
    iam = results.get("iam") or {}
    if iam.get("mode") == "enforce":
        texts += [str(t) for t in iam.get("denials_outside_cases_text", [])]
    return texts


def failure_message(longrepr: str, limit: int = 5) -> str:
    """The lines of a pytest failure report that say what went wrong (its ``E`` lines), briefly."""
    lines = [ln[1:].strip() for ln in longrepr.splitlines() if ln.startswith("E ") and ln[1:].strip()]
    if not lines:
        lines = [ln.strip() for ln in longrepr.strip().splitlines()[-1:]]
    shown = "\n    ".join(lines[:limit])
    return shown + ("\n    ..." if len(lines) > limit else "")

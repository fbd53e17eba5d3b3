"""How an invocation ended, as AWS reports it: a pure function of what was observed.

The worker watches the process and hands over a ``Snapshot`` (what the runtime
posted to the Runtime API, or how the platform ended it, exit status, memory,
elapsed times, the captured output); ``build_result`` turns it into the
``InvokeResult`` with no process, clock or file involved.

Platform-detected ends use AWS's payloads and log lines:

- timeout: ``{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: <id> Error: Task timed out
  after 3.00 seconds"}``; the environment is destroyed, the next call cold-starts;
- process exit: ``Runtime.ExitError`` ``RequestId: <id> Error: Runtime exited with error: exit status 1``
  (status 0, e.g. ``sys.exit(0)``: ``... Error: Runtime exited without providing a reason``);
- memory over MemorySize: ``Runtime.OutOfMemory`` ``... Runtime exited with error: signal: killed``.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from lambda_harness.endpoint.runtime import logs
from lambda_harness.endpoint.runtime.model import FunctionConfig, InvokeResult
from lambda_harness.endpoint.runtime.output import LogEvent, as_text

PostKind = Literal["response", "error", "init_error"]
#: How the platform ended an invocation the runtime did not answer.
PlatformEnd = Literal["timeout", "init_timeout", "oom", "exit"]

_SIGNAL_TEXT = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGINT: "interrupt",
}


def exit_text(returncode: int) -> str:
    """How Lambda (Go's os.ProcessState) words a runtime's exit: ``exit status 1``, ``signal: killed``."""
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        sig = signal.Signals(-returncode)
    except ValueError:
        return f"signal: {-returncode}"
    return f"signal: {_SIGNAL_TEXT.get(sig, sig.name.lower())}"


def error_json(error_type: str, message: str) -> bytes:
    """AWS's compact error payload for platform errors (errorType first)."""
    return json.dumps({"errorType": error_type, "errorMessage": message}, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Posted:
    """What the runtime posted to the Runtime API to end an invocation (or its init)."""

    kind: PostKind
    body: bytes
    error_type: str | None = None  # the Lambda-Runtime-Function-Error-Type header


@dataclass(frozen=True)
class Snapshot:
    """Everything observed about one invocation once it ended.

    ``posted`` is None when the platform ended the invocation; ``end`` then says how
    (``exit_status`` is the process's return code for ``exit``, negative for a signal).
    ``elapsed_s`` runs from the hand-over to the runtime (or the invoke, if it never
    got that far) to the end; ``init_s`` (cold starts only) from the spawn to the
    runtime's first ``GET /next``. ``peak_mb`` is the highest resident memory seen.
    ``init_events`` are what a cold start logged before the invocation (INIT_START, the
    harness's warnings, the module import's output), ``events`` what the invocation
    logged; ``started_ms`` stamps START, ``ended_at`` the platform's lines (timeout, END,
    REPORT). ``log_stream`` is the environment's stream (AWS_LAMBDA_LOG_STREAM_NAME).
    """

    request_id: str
    cold: bool
    posted: Posted | None
    ended_at: datetime
    end: PlatformEnd | None = None
    exit_status: int | None = None
    elapsed_s: float = 0.0
    init_s: float | None = None
    peak_mb: int = 0
    init_events: tuple[LogEvent, ...] = ()
    events: tuple[LogEvent, ...] = ()
    init_done: bool = True  # the runtime asked for its first invocation (GET /next)
    started_ms: int = 0
    log_stream: str = ""


@dataclass(frozen=True)
class _Ending:
    payload: bytes
    error_type: str | None
    platform_lines: tuple[str, ...] = ()
    status: str | None = None  # the REPORT line's Status


def _platform_end(fn: FunctionConfig, snap: Snapshot) -> _Ending:
    """The payload, errorType, Lambda's own log lines and REPORT status of a platform-detected end."""
    rid = snap.request_id
    if snap.end in ("timeout", "init_timeout"):
        text = f"Task timed out after {fn.timeout_s:.2f} seconds"
        line = f"{logs.timestamp(snap.ended_at)} {rid} {text}"
        payload = error_json("Sandbox.Timedout", f"RequestId: {rid} Error: {text}")
        return _Ending(payload, "Sandbox.Timedout", (line,), "timeout")
    oom = snap.end == "oom"
    error_type = "Runtime.OutOfMemory" if oom else "Runtime.ExitError"
    if not oom and snap.exit_status == 0:
        message = f"RequestId: {rid} Error: Runtime exited without providing a reason"
    else:
        how = "signal: killed" if oom else exit_text(snap.exit_status if snap.exit_status is not None else -9)
        message = f"RequestId: {rid} Error: Runtime exited with error: {how}"
    return _Ending(error_json(error_type, message), error_type, (message, error_type), "error")


def _error_type(posted: Posted) -> str | None:
    if posted.error_type:
        return posted.error_type
    try:
        value = json.loads(posted.body).get("errorType")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _ending(fn: FunctionConfig, snap: Snapshot) -> _Ending:
    posted = snap.posted
    if posted is None:
        return _platform_end(fn, snap)
    if posted.kind == "response":
        return _Ending(posted.body, None)
    return _Ending(posted.body, _error_type(posted), status="error" if posted.kind == "init_error" else None)


def _init_failed(snap: Snapshot) -> bool:
    """The runtime reported an init error, or exited before it asked for work (a wrapper's exit 127)."""
    if snap.posted is not None:
        return snap.posted.kind == "init_error"
    return snap.cold and snap.end == "exit" and not snap.init_done


def build_result(fn: FunctionConfig, snap: Snapshot) -> InvokeResult:
    """Payload, error fields, timings and the log events (and their text) of one invocation."""
    # Lambda's figure comes from a cgroup that cannot exceed MemorySize; our samples can overshoot.
    peak = fn.memory_mb if snap.end == "oom" else min(snap.peak_mb, fn.memory_mb)
    init_ms = snap.init_s * 1000 if snap.cold and snap.init_s is not None else None
    ending = _ending(fn, snap)
    ended_ms = int(snap.ended_at.timestamp() * 1000)
    init_events, events = list(snap.init_events), list(snap.events)
    if _init_failed(snap):
        # Everything the runtime printed belongs to the failed init, before START.
        init_report = logs.init_report_line(init_ms or 0.0, ending.error_type)
        init_events += [*events, LogEvent(ended_ms, init_report + "\n")]
        events = []
    duration_ms = max(0.0, snap.elapsed_s * 1000)
    report = logs.Report(
        snap.request_id, duration_ms, logs.billed_ms(duration_ms), fn.memory_mb, peak, init_ms
    )
    if ending.status is not None:
        error_type = ending.error_type if ending.status == "error" else None
        report = replace(report, status=ending.status, error_type=error_type)
    log_events = logs.invocation_log(
        version=fn.version,
        init_events=init_events,
        events=events,
        platform_lines=ending.platform_lines,
        report=report,
        started_ms=snap.started_ms or ended_ms,
        ended_ms=ended_ms,
    )
    answered = snap.posted is not None and snap.posted.kind == "response"
    return InvokeResult(
        request_id=snap.request_id,
        payload=ending.payload,
        function_error=None if answered else "Unhandled",
        error_type=ending.error_type,
        log=as_text(log_events),
        events=tuple(log_events),
        log_stream=snap.log_stream,
        duration_ms=duration_ms,
        billed_ms=report.billed_ms,
        init_ms=init_ms,
        max_memory_mb=peak,
        cold=snap.cold,
    )

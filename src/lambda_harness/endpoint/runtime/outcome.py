"""Watching a running invocation and turning how it ended into an ``InvokeResult``.

Platform-detected ends use AWS's payloads and log lines:

- timeout: ``{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: <id> Error: Task timed out
  after 3.00 seconds"}``; the environment is destroyed, the next call cold-starts;
- process exit: ``Runtime.ExitError`` ``RequestId: <id> Error: Runtime exited with error: exit status 1``;
- memory over MemorySize: ``Runtime.OutOfMemory`` ``... Runtime exited with error: signal: killed``.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from lambda_harness.endpoint.runtime import logs, memory
from lambda_harness.endpoint.runtime.model import InvokeResult

if TYPE_CHECKING:
    from lambda_harness.endpoint.runtime.worker import Worker

#: Lambda gives the init phase 10 s (on-demand functions) before it gives up on it.
INIT_LIMIT_S = 10.0
#: Sampling period of the memory watch while an invocation runs.
SAMPLE_S = 0.01

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


@dataclass(frozen=True)
class Outcome:
    """How the runtime ended an invocation (through the Runtime API)."""

    kind: str  # "response" | "error" | "init_error"
    body: bytes
    error_type: str | None


#: How long an exiting runtime (after an init error) gets to finish writing its output.
EXIT_GRACE_S = 2.0


def error_json(error_type: str, message: str) -> bytes:
    """AWS's compact error payload for platform errors (errorType first)."""
    return json.dumps({"errorType": error_type, "errorMessage": message}, separators=(",", ":")).encode()


class Watch:
    """Waits for an invocation's outcome while enforcing the deadline and MemorySize."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.fn = worker.spec.fn
        # Lambda gives init 10 s, then retries it inside the invoke under the function's timeout.
        self.init_limit_s = worker.spec.init_limit_s + self.fn.timeout_s
        self.started = time.perf_counter()
        self.finished = self.started
        self.handed_at: float | None = None
        self.peak_mb = 0
        self.end: str | None = None  # "timeout" | "init_timeout" | "oom" | "exit"
        self.returncode: int | None = None

    def wait(self) -> Outcome | None:
        """The runtime's outcome, or None when the platform ended the invocation (see ``end``)."""
        while True:
            outcome, self.handed_at = self.worker.wait_outcome(SAMPLE_S)
            if outcome is not None:
                self.finished = time.perf_counter()
                return outcome
            if self._ended():
                self.finished = time.perf_counter()
                return None

    def _ended(self) -> bool:
        worker = self.worker
        assert worker.proc is not None
        rc = worker.proc.poll()
        if rc is not None:
            self.end, self.returncode = "exit", rc
            worker.mark_dead()
            return True
        rss = memory.rss_bytes(worker.proc.pid)
        if rss is not None:
            self.peak_mb = max(self.peak_mb, memory.to_mb(rss))
            if rss > self.fn.memory_mb * 1024 * 1024:
                self.end = "oom"
                self.peak_mb = max(self.peak_mb, self.fn.memory_mb)
                worker.kill()
                return True
        now = time.perf_counter()
        initialising = self.handed_at is None and worker.init_done_at is None
        if initialising and now > worker.spawned_at + self.init_limit_s:
            self.end = "init_timeout"
        elif self.handed_at is not None and now > self.handed_at + self.fn.timeout_s:
            self.end = "timeout"
        else:
            return False
        worker.kill()
        return True


def _peak(worker: Worker, watch: Watch) -> int:
    pid = worker.pid
    hwm = memory.peak_rss_mb(pid) if pid is not None and worker.alive else None
    # Lambda's figure comes from a cgroup that cannot exceed MemorySize; our samples can overshoot.
    return min(max(watch.peak_mb, hwm or 0), watch.fn.memory_mb)


def _platform_end(watch: Watch, request_id: str) -> tuple[bytes, str, list[str], str]:
    """(payload, errorType, log lines, REPORT status) for an end the platform detected."""
    if watch.end in ("timeout", "init_timeout"):
        limit = watch.fn.timeout_s
        text = f"Task timed out after {limit:.2f} seconds"
        line = f"{logs.timestamp()} {request_id} {text}"
        payload = error_json("Sandbox.Timedout", f"RequestId: {request_id} Error: {text}")
        return payload, "Sandbox.Timedout", [line], "timeout"
    error_type = "Runtime.OutOfMemory" if watch.end == "oom" else "Runtime.ExitError"
    how = "signal: killed" if watch.end == "oom" else worker_exit_text(watch.returncode)
    message = f"RequestId: {request_id} Error: Runtime exited with error: {how}"
    return error_json(error_type, message), error_type, [message, error_type], "error"


def worker_exit_text(returncode: int | None) -> str:
    return exit_text(returncode if returncode is not None else -9)


def _error_type(outcome: Outcome) -> str | None:
    if outcome.error_type:
        return outcome.error_type
    try:
        value = json.loads(outcome.body).get("errorType")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _settle_init_failure(worker: Worker) -> None:
    """awslambdaric exits right after reporting an init error: let it, then make sure."""
    assert worker.proc is not None
    # Still running after the grace: it goes anyway.
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.proc.wait(timeout=EXIT_GRACE_S)
    worker.kill()


def _init_ms(worker: Worker, watch: Watch, cold: bool) -> float | None:
    """Init Duration: process start to the runtime's first GET /next (cold starts only)."""
    if not cold:
        return None
    return ((worker.init_done_at or watch.finished) - worker.spawned_at) * 1000


def _ending(
    watch: Watch, outcome: Outcome | None, request_id: str
) -> tuple[bytes, str | None, list[str], str | None]:
    """(payload, errorType, Lambda's own log lines, REPORT status) of how the invocation ended."""
    if outcome is None:
        return _platform_end(watch, request_id)
    if outcome.kind == "response":
        return outcome.body, None, [], None
    return outcome.body, _error_type(outcome), [], "error" if outcome.kind == "init_error" else None


def build_result(
    worker: Worker, watch: Watch, outcome: Outcome | None, request_id: str, cold: bool
) -> InvokeResult:
    """Payload, error fields, timings and the formatted log of one invocation."""
    fn = worker.spec.fn
    peak = _peak(worker, watch)
    init_failed = outcome is not None and outcome.kind == "init_error"
    if init_failed:
        _settle_init_failure(worker)
    init_lines = [*worker.spec.notes, *worker.take_init_lines()] if cold else []
    lines = worker.take_output()
    init_ms = _init_ms(worker, watch, cold)
    payload, error_type, platform_lines, status = _ending(watch, outcome, request_id)
    if init_failed:
        # Everything the runtime printed belongs to the failed init, before START.
        init_lines, lines = [*init_lines, *lines, logs.init_report_line(init_ms or 0.0, error_type)], []
    begin = watch.handed_at if watch.handed_at is not None else watch.started
    duration_ms = max(0.0, (watch.finished - begin) * 1000)
    report = logs.Report(request_id, duration_ms, logs.billed_ms(duration_ms), fn.memory_mb, peak, init_ms)
    if status is not None:
        report = replace(report, status=status, error_type=error_type if status == "error" else None)
    text = logs.invocation_log(
        version=fn.version, init_lines=init_lines, lines=lines, platform_lines=platform_lines, report=report
    )
    return InvokeResult(
        request_id=request_id,
        payload=payload,
        function_error=None if outcome is not None and outcome.kind == "response" else "Unhandled",
        error_type=error_type,
        log=text,
        duration_ms=duration_ms,
        billed_ms=report.billed_ms,
        init_ms=init_ms,
        max_memory_mb=peak,
        cold=cold,
    )

"""One execution environment: a process running awslambdaric against its own Runtime API.

A worker serves one invocation at a time. The invoking thread hands the event to
the Runtime API (GET /next picks it up) and waits for the runtime's answer, sampling
the process's memory every 10 ms, checking the deadline and noticing process death;
what it saw becomes a ``Snapshot`` that ``outcome.build_result`` turns into the result.
stdout/stderr share one pipe, read by a thread into a buffer; the invoking thread
drains what is left under the same lock once the runtime has answered. awslambdaric
flushes every write before it posts, so at that point the invocation's output is
already in the pipe: no fixed wait is needed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from lambda_harness import proc
from lambda_harness.endpoint.runtime import logs, memory
from lambda_harness.endpoint.runtime.api import NextInvocation, RuntimeApiServer
from lambda_harness.endpoint.runtime.env import Paths, build_env
from lambda_harness.endpoint.runtime.model import (
    INIT_LIMIT_S,
    MAX_RESPONSE_BYTES,
    CredentialSource,
    FunctionConfig,
    InvokeResult,
)
from lambda_harness.endpoint.runtime.outcome import PlatformEnd, Posted, Snapshot, build_result
from lambda_harness.errors import EndpointError

logger = logging.getLogger(__name__)

#: Sampling period of the memory watch while an invocation runs.
SAMPLE_S = 0.01
#: How long an exiting runtime (after an init error) gets to finish writing its output.
EXIT_GRACE_S = 2.0


def trace_id() -> str:
    """An X-Ray style trace header for _X_AMZN_TRACE_ID."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


@dataclass(frozen=True)
class WorkerSpec:
    """Everything needed to start an environment for one function configuration."""

    fn: FunctionConfig
    paths: Paths
    fingerprint: str
    notes: tuple[str, ...] = ()  # warnings printed at the top of the cold start's log
    init_limit_s: float = INIT_LIMIT_S


@dataclass(frozen=True)
class _Job:
    request_id: str
    payload: bytes
    client_context: str | None
    cognito_identity: str | None


class Worker:
    """A Lambda execution environment backed by one OS process."""

    def __init__(self, spec: WorkerSpec, credentials: CredentialSource | None = None) -> None:
        self.spec = spec
        self.credentials = credentials
        self.fingerprint = spec.fingerprint
        self._environment_id = f"{spec.fn.name}-{secrets.token_hex(6)}"
        self.api = RuntimeApiServer(self)
        self.proc: subprocess.Popen[bytes] | None = None
        self.invocations = 0
        self.last_used = 0.0
        self._cond = threading.Condition()
        self._job: _Job | None = None
        self._current: str | None = None
        self._posted: Posted | None = None
        self._handed_at: float | None = None
        self._spawned_at = 0.0
        self._init_done_at: float | None = None
        self._init_lines: list[str] = []
        self._closing = False
        self._dead = False
        self._log_lock = threading.Lock()
        self._log = bytearray()
        self._fd = -1
        self._pump_thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def alive(self) -> bool:
        return not self._dead and self.proc is not None and self.proc.poll() is None

    @property
    def environment_id(self) -> str:
        """This environment's id (its credentials are issued to it)."""
        return self._environment_id

    @property
    def current_request_id(self) -> str | None:
        """The invocation running now, or the last one (what its AWS calls are attributed to)."""
        return self._current

    def start(self) -> None:
        """Start the Runtime API and the awslambdaric process (the cold start begins)."""
        fn, paths = self.spec.fn, self.spec.paths
        # Like Lambda: one role session per execution environment, issued before init runs.
        issued = self.credentials.issue(fn, self) if self.credentials is not None else None
        self.api.start()
        env = build_env(
            fn,
            paths,
            api_address=self.api.address,
            log_stream=logs.log_stream_name(fn.version),
            credentials=issued,
        )
        self._spawned_at = time.perf_counter()
        try:
            self.proc = proc.spawn(
                [paths.interpreter, "-s", "-m", "awslambdaric", fn.handler],
                cwd=paths.task_root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            self.api.close()
            if self.credentials is not None:
                self.credentials.forget(self)
            raise EndpointError(
                f"function {fn.name}: could not start {paths.interpreter} in {paths.task_root}: {exc}; "
                "was the interpreter removed? Restart the endpoint to search again"
            ) from exc
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._pump_thread = threading.Thread(
            target=self._pump, name=f"worker-{self.proc.pid}-out", daemon=True
        )
        self._pump_thread.start()

    def close(self) -> None:
        """Kill the process (and anything it started) and stop its Runtime API; idempotent."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._kill()
        self.api.close()
        if self.credentials is not None:
            self.credentials.forget(self)
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=2.0)

    def _kill(self) -> None:
        self._dead = True
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # start_new_session made the worker a group leader: end its children too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        proc.kill_now(self.proc)

    # -- output capture --------------------------------------------------------------

    def _pump(self) -> None:
        """Copy the worker's output into the buffer until EOF (or close), then close the pipe."""
        # poll, not select: select cannot watch descriptors numbered 1024 and up.
        poller = select.poll()
        poller.register(self._fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        try:
            while not self._closing or self.alive:
                try:
                    ready = poller.poll(500)
                except OSError:
                    return
                if ready and not self._read_available():
                    return
        finally:
            with self._log_lock:
                # Forget the number before closing it: a reused fd must never be read as ours.
                self._fd = -1
                if self.proc is not None and self.proc.stdout is not None:
                    self.proc.stdout.close()

    def _read_available(self) -> bool:
        """Read what the pipe holds now; False at EOF."""
        with self._log_lock:
            while self._fd >= 0:
                try:
                    chunk = os.read(self._fd, 65536)
                except BlockingIOError:
                    return True
                except OSError:
                    return False
                if not chunk:
                    return False
                self._log += chunk
            return False

    def _take_output(self) -> list[str]:
        self._read_available()
        with self._log_lock:
            raw = bytes(self._log)
            self._log.clear()
        return logs.decode_output(raw)

    # -- Runtime API callbacks (server threads) ------------------------------------------

    def next_invocation(self) -> NextInvocation | None:
        if self._init_done_at is None:
            self._init_done_at = time.perf_counter()
            self._init_lines = self._take_output()
        with self._cond:
            self._cond.wait_for(lambda: self._job is not None or self._closing)
            job, self._job = self._job, None
            if job is None:
                return None
            self._handed_at = time.perf_counter()
            self._cond.notify_all()
        fn = self.spec.fn
        return NextInvocation(
            request_id=job.request_id,
            body=job.payload,
            deadline_ms=int(time.time() * 1000 + fn.timeout_s * 1000),
            function_arn=fn.arn,
            trace_id=trace_id(),
            client_context=job.client_context,
            cognito_identity=job.cognito_identity,
        )

    def _finish(self, request_id: str | None, posted: Posted) -> bool:
        with self._cond:
            if request_id is not None and request_id != self._current:
                return False
            if self._posted is None:
                self._posted = posted
            self._cond.notify_all()
        return True

    def invocation_response(self, request_id: str, body: bytes) -> bool:
        if len(body) > MAX_RESPONSE_BYTES:
            limit = f"({MAX_RESPONSE_BYTES} bytes)."
            err = {
                "errorMessage": f"Response payload size exceeded maximum allowed payload size {limit}",
                "errorType": "Function.ResponseSizeTooLarge",
            }
            return self._finish(request_id, Posted("error", json.dumps(err).encode(), err["errorType"]))
        return self._finish(request_id, Posted("response", body))

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        return self._finish(request_id, Posted("error", body, error_type))

    def init_error(self, body: bytes, error_type: str | None) -> None:
        self._finish(None, Posted("init_error", body, error_type))

    # -- invoke --------------------------------------------------------------------------

    def invoke(
        self,
        request_id: str,
        payload: bytes,
        *,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> InvokeResult:
        """Run one invocation to its end (response, error, timeout, crash or OOM)."""
        cold = self.invocations == 0
        self.invocations += 1
        with self._cond:
            self._posted, self._current, self._handed_at = None, request_id, None
            self._job = _Job(request_id, payload, client_context, cognito_identity)
            self._cond.notify_all()
        watch = _Watch(self)
        posted = watch.wait()
        return build_result(self.spec.fn, self._snapshot(watch, posted, request_id, cold))

    def _snapshot(self, watch: _Watch, posted: Posted | None, request_id: str, cold: bool) -> Snapshot:
        """What was observed of the invocation that just ended."""
        pid = self.pid
        hwm = memory.peak_rss_mb(pid) if pid is not None and self.alive else None
        if posted is not None and posted.kind == "init_error":
            self._settle_init_failure()  # before reading the output: it may still be writing
        init_lines = [*self.spec.notes, *self._take_init_lines()] if cold else []
        lines = self._take_output()
        init_s = (self._init_done_at or watch.finished) - self._spawned_at if cold else None
        begin = watch.handed_at if watch.handed_at is not None else watch.started
        return Snapshot(
            request_id=request_id,
            cold=cold,
            posted=posted,
            ended_at=datetime.now(UTC),
            end=watch.end,
            exit_status=watch.returncode,
            elapsed_s=watch.finished - begin,
            init_s=init_s,
            peak_mb=max(watch.peak_mb, hwm or 0),
            init_lines=tuple(init_lines),
            lines=tuple(lines),
        )

    def _settle_init_failure(self) -> None:
        """awslambdaric exits right after reporting an init error: let it, then make sure."""
        assert self.proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):  # still running after the grace: it goes
            self.proc.wait(timeout=EXIT_GRACE_S)
        self._kill()

    def _take_init_lines(self) -> list[str]:
        lines, self._init_lines = self._init_lines, []
        return lines

    def _wait_posted(self, timeout: float) -> tuple[Posted | None, float | None]:
        with self._cond:
            if self._posted is None:
                self._cond.wait(timeout)
            return self._posted, self._handed_at


class _Watch:
    """Waits for the runtime's answer while enforcing the deadline and MemorySize."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.fn = worker.spec.fn
        # Lambda gives init 10 s, then retries it inside the invoke under the function's timeout.
        self.init_limit_s = worker.spec.init_limit_s + self.fn.timeout_s
        self.started = time.perf_counter()
        self.finished = self.started
        self.handed_at: float | None = None
        self.peak_mb = 0
        self.end: PlatformEnd | None = None
        self.returncode: int | None = None

    def wait(self) -> Posted | None:
        """What the runtime posted, or None when the platform ended the invocation (see ``end``)."""
        while True:
            posted, self.handed_at = self.worker._wait_posted(SAMPLE_S)
            if posted is not None or self._ended():
                self.finished = time.perf_counter()
                return posted

    def _ended(self) -> bool:
        worker = self.worker
        assert worker.proc is not None
        rc = worker.proc.poll()
        if rc is not None:
            self.end, self.returncode = "exit", rc
            worker._dead = True
            return True
        rss = memory.rss_bytes(worker.proc.pid)
        if rss is not None:
            self.peak_mb = max(self.peak_mb, memory.to_mb(rss))
            if rss > self.fn.memory_mb * 1024 * 1024:
                self.end = "oom"
                worker._kill()
                return True
        now = time.perf_counter()
        initialising = self.handed_at is None and worker._init_done_at is None
        if initialising and now > worker._spawned_at + self.init_limit_s:
            self.end = "init_timeout"
        elif self.handed_at is not None and now > self.handed_at + self.fn.timeout_s:
            self.end = "timeout"
        else:
            return False
        worker._kill()
        return True

"""One execution environment: a process running awslambdaric against its own Runtime API.

A worker serves one invocation at a time. The invoking thread hands the event to
the Runtime API (GET /next picks it up) and waits for the runtime's answer, sampling
the process's memory every 10 ms, checking the deadline and noticing process death;
what it saw becomes a ``Snapshot`` that ``outcome.build_result`` turns into the result.
stdout/stderr share one pipe and awslambdaric's framed log records (``logging``, error
reports) another, as on AWS; a thread (``output.Pump``) reads both into log events and
the invoking thread drains what is left under the same lock once the runtime has
answered. awslambdaric flushes every write before it posts, so at that point the
invocation's output is already in the pipes: no fixed wait is needed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from lambda_harness import proc
from lambda_harness.endpoint.runtime import boot, logs, memory
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
from lambda_harness.endpoint.runtime.output import LogEvent, Pump
from lambda_harness.errors import EndpointError
from lambda_harness.fsutil import PRIVATE_UMASK

logger = logging.getLogger(__name__)

#: Sampling period of the memory watch while an invocation runs.
SAMPLE_S = 0.01
#: How long an exiting runtime (after an init error) gets to finish writing its output.
EXIT_GRACE_S = 2.0
#: Where awslambdaric writes its framed log records (it removes the variable before user code).
TELEMETRY_FD_VAR = "_LAMBDA_TELEMETRY_LOG_FD"
DEFAULT_RUNTIME_VERSION = logs.RuntimeVersion("python:3.12.v0", "0" * 64)


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
    runtime_version: logs.RuntimeVersion = DEFAULT_RUNTIME_VERSION  # what INIT_START names


@dataclass(frozen=True)
class _Job:
    request_id: str
    payload: bytes
    client_context: str | None
    cognito_identity: str | None
    invoked_arn: str


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
        self._init_events: list[LogEvent] = []
        self._closing = False
        self._dead = False
        self._parked = False  # waiting in GET /next: nothing running, coverage data saved
        self._pump: Pump | None = None
        self.log_stream = logs.log_stream_name(spec.fn.version)

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
        if self._closing:  # closed before it started (the runtime shut down meanwhile)
            raise EndpointError(f"function {fn.name}: the Lambda runtime is shut down")
        # Like Lambda: one role session per execution environment, issued before init runs.
        issued = self.credentials.issue(fn, self) if self.credentials is not None else None
        self.api.start()
        env = build_env(
            fn, paths, api_address=self.api.address, log_stream=self.log_stream, credentials=issued
        )
        env[boot.CONFIG_VAR] = boot.config(paths, fn.environment.get("PYTHONPATH"), fn.ephemeral_mb)
        text_r, text_w = os.pipe()
        frames_r, frames_w = os.pipe()
        # awslambdaric frames logging records and error reports on this fd (and hides the variable).
        env[TELEMETRY_FD_VAR] = str(frames_w)
        self._spawned_at = time.perf_counter()
        self._init_events = [LogEvent(int(time.time() * 1000), line) for line in self._init_start()]
        try:
            self.proc = proc.spawn(
                boot.command(paths),
                cwd=paths.task_root,
                env=env,
                stdout=text_w,
                stderr=subprocess.STDOUT,
                umask=PRIVATE_UMASK,  # its __pycache__ (under .harness/) and /tmp files stay the user's
                pass_fds=(frames_w,),
            )
        except OSError as exc:
            for fd in (text_r, frames_r):
                os.close(fd)
            self.api.close()
            if self.credentials is not None:
                self.credentials.forget(self)
            raise EndpointError(
                f"function {fn.name}: could not start {paths.interpreter} in {paths.task_root}: {exc}; "
                "was the interpreter removed? Restart the endpoint to search again"
            ) from exc
        finally:
            for fd in (text_w, frames_w):  # the worker holds the write ends now
                os.close(fd)
        if self._closing:  # close() ran while the process was being spawned: it must not outlive us
            self._kill()
            for fd in (text_r, frames_r):
                os.close(fd)
            raise EndpointError(f"function {fn.name}: the Lambda runtime is shut down")
        self._pump = Pump(
            text_r,
            frames_r,
            name=f"worker-{self.proc.pid}-out",
            keep_going=lambda: not self._closing or self.alive,
        )
        self._pump.start()

    def _init_start(self) -> list[str]:
        """The cold start's first events: AWS's INIT_START, then the harness's warnings."""
        return [self.spec.runtime_version.init_start(self.spec.fn.region)] + [
            f"{note}\n" for note in self.spec.notes
        ]

    def close(self) -> None:
        """Kill the process (and anything it started) and stop its Runtime API; idempotent."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._kill()
        self.api.close()
        if self.credentials is not None:
            self.credentials.forget(self)
        if self._pump is not None:
            self._pump.join(timeout=2.0)

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

    def _take_output(self, *, flush: bool = False) -> list[LogEvent]:
        return self._pump.take(flush=flush) if self._pump is not None else []

    # -- Runtime API callbacks (server threads) ------------------------------------------

    def next_invocation(self) -> NextInvocation | None:
        if self._init_done_at is None:
            self._init_events += self._take_output(flush=True)
            with self._cond:
                self._init_done_at = time.perf_counter()
                self._cond.notify_all()  # wait_initialised
        with self._cond:
            self._parked = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._job is not None or self._closing)
            job, self._job = self._job, None
            if job is None:
                return None
            self._parked = False
            self._handed_at = time.perf_counter()
            self._cond.notify_all()
        fn = self.spec.fn
        return NextInvocation(
            request_id=job.request_id,
            body=job.payload,
            deadline_ms=int(time.time() * 1000 + fn.timeout_s * 1000),
            function_arn=job.invoked_arn,
            trace_id=trace_id(),
            client_context=job.client_context,
            cognito_identity=job.cognito_identity,
        )

    def wait_initialised(self, timeout: float) -> bool:
        """Until the runtime asks for its first event (its init is done); False if it failed or timed out."""

        def settled() -> bool:  # init done, an init error posted, closing, or the process gone
            done = self._init_done_at is not None or self._posted is not None or self._closing
            return done or not self.alive

        return self._wait_until(settled, timeout, SAMPLE_S * 5) and self._init_done_at is not None

    def _wait_until(self, ready: Callable[[], bool], timeout: float, slice_s: float) -> bool:
        """Until ``ready()`` (checked under the lock); False when ``timeout`` passes first.

        Process death notifies nobody: ``ready`` looks at ``alive`` itself, again every ``slice_s``.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, slice_s))
            return True

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
        invoked_arn: str | None = None,
    ) -> InvokeResult:
        """Run one invocation to its end (response, error, timeout, crash or OOM)."""
        cold = self.invocations == 0
        self.invocations += 1
        with self._cond:
            # A prestarted environment may have failed its init before this first invocation:
            # that report is this invocation's answer, as it would be had the init run now.
            early = (
                self._posted
                if cold and self._posted is not None and self._posted.kind == "init_error"
                else None
            )
            self._posted, self._current, self._handed_at = early, request_id, None
            arn = invoked_arn or self.spec.fn.arn
            self._job = _Job(request_id, payload, client_context, cognito_identity, arn)
            self._parked = False
            self._cond.notify_all()
        watch = _Watch(self)
        posted = watch.wait()
        return build_result(self.spec.fn, self._snapshot(watch, posted, request_id, cold))

    def wait_parked(self, timeout: float, *, slice_s: float = 0.05) -> bool:
        """Wait until the runtime asks for its next event (or the process is gone); False on timeout.

        A coverage worker saves its data just before it asks, so a parked worker has nothing unsaved.
        """
        return self._wait_until(lambda: self._parked or not self.alive, timeout, slice_s)

    @property
    def measures_coverage(self) -> bool:
        """Whether this environment measures coverage."""
        return self.spec.paths.coverage_spec is not None

    def _snapshot(self, watch: _Watch, posted: Posted | None, request_id: str, cold: bool) -> Snapshot:
        """What was observed of the invocation that just ended."""
        pid = self.pid
        hwm = memory.peak_rss_mb(pid) if pid is not None and self.alive else None
        if posted is not None and posted.kind == "init_error":
            self._settle_init_failure()  # before reading the output: it may still be writing
        init_events = self._take_init_events() if cold else []
        events = self._take_output(flush=True)
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
            init_events=tuple(init_events),
            events=tuple(events),
            init_done=self._init_done_at is not None,
            started_ms=watch.started_ms,
            log_stream=self.log_stream,
        )

    def _settle_init_failure(self) -> None:
        """awslambdaric exits right after reporting an init error: let it, then make sure."""
        assert self.proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):  # still running after the grace: it goes
            self.proc.wait(timeout=EXIT_GRACE_S)
        self._kill()

    def _take_init_events(self) -> list[LogEvent]:
        events, self._init_events = self._init_events, []
        return events

    def _wait_posted(self, timeout: float) -> tuple[Posted | None, float | None]:
        with self._cond:
            # wait_for, not wait: handing the job over notifies too, and waking for that would
            # cost a memory sample on every warm invocation for nothing.
            self._cond.wait_for(lambda: self._posted is not None or self._closing, timeout)
            return self._posted, self._handed_at


class _Watch:
    """Waits for the runtime's answer while enforcing the deadline and MemorySize."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.fn = worker.spec.fn
        # Lambda gives init 10 s, then retries it inside the invoke under the function's timeout.
        self.init_limit_s = worker.spec.init_limit_s + self.fn.timeout_s
        self.started = time.perf_counter()
        self.started_ms = int(time.time() * 1000)
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

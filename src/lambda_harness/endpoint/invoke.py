"""AWS Invoke semantics on top of the runtime: sync runs, async queue with retries, logs.

The runtime runs one invocation and knows nothing of AWS's invocation types; this
module adds them. ``Event`` invocations go to a thread pool and, when the handler
fails (or is throttled), are retried twice like AWS: after ``retry_delays_s``
(AWS waits about 1 then 2 minutes; tests pass short delays). A function's
``MaximumRetryAttempts`` (put-function-event-invoke-config) lowers the count.
Each attempt keeps the same request id, as on AWS.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from lambda_harness.endpoint.cloudwatch import LogWriter
from lambda_harness.endpoint.lookup import MotoFunction, function_config
from lambda_harness.endpoint.runtime.model import (
    CredentialSource,
    FunctionConfig,
    InvokeResult,
    ThrottledError,
)
from lambda_harness.errors import EndpointError

logger = logging.getLogger(__name__)

#: AWS's request payload limits for Invoke (bytes).
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
#: ``X-Amz-Log-Result`` carries the last 4 KB of the log.
LOG_TAIL_BYTES = 4096


class Runtime(Protocol):
    """What the endpoint needs of ``lambda_harness.endpoint.runtime.LambdaRuntime``."""

    def invoke(
        self,
        fn: FunctionConfig,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
    ) -> InvokeResult: ...

    def shutdown(self) -> None: ...

    def use_credentials(self, source: CredentialSource | None) -> None:
        """Where new execution environments get their credentials (None: test credentials)."""
        ...


@dataclass(frozen=True)
class AsyncPolicy:
    """How ``Event`` invocations are queued and retried."""

    retry_delays_s: tuple[float, ...] = (60.0, 120.0)
    workers: int = 16


@dataclass
class _Job:
    fn: MotoFunction
    payload: bytes
    request_id: str
    source: str
    max_attempts: int
    attempt: int = 0


def new_request_id() -> str:
    """A Lambda request id (a UUID4, as AWS's)."""
    return str(uuid.uuid4())


def log_tail(log: str) -> bytes:
    """The last 4 KB of a log, as ``X-Amz-Log-Result`` carries it (before base64)."""
    return log.encode("utf-8", "replace")[-LOG_TAIL_BYTES:]


class InvokeService:
    """Runs moto functions on our runtime: ``run`` (sync) and ``submit`` (async with retries)."""

    def __init__(
        self,
        runtime: Runtime,
        logs: LogWriter,
        *,
        endpoint_url: str,
        policy: AsyncPolicy | None = None,
        timer: Callable[[float, Callable[[], None]], threading.Timer] | None = None,
        configure: Callable[[MotoFunction, str], FunctionConfig] = function_config,
    ) -> None:
        self.runtime = runtime
        self.logs = logs
        self.configure = configure
        self.endpoint_url = endpoint_url
        self.policy = policy or AsyncPolicy()
        self._executor = ThreadPoolExecutor(max_workers=self.policy.workers, thread_name_prefix="lh-async")
        self._timer = timer or threading.Timer
        self._timers: set[threading.Timer] = set()
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False

    def run(
        self,
        fn: MotoFunction,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
    ) -> InvokeResult:
        """One synchronous invocation, logged to CloudWatch Logs. Raises ThrottledError/EndpointError."""
        config = self.configure(fn, self.endpoint_url)
        result = self.runtime.invoke(
            config, payload, request_id=request_id or new_request_id(), client_context=client_context
        )
        self.logs.write(
            account_id=config.account_id,
            region=config.region,
            function_name=config.name,
            version=config.version,
            log=result.log,
        )
        return result

    def submit(self, fn: MotoFunction, payload: bytes, *, source: str = "invoke") -> str:
        """Queue an ``Event`` invocation; returns its request id at once."""
        job = _Job(fn, payload, new_request_id(), source, 1 + self._retries_for(fn))
        with self._idle:
            if self._closed:
                raise EndpointError("the endpoint is shutting down; it takes no more async invocations")
            self._pending += 1
        self._executor.submit(self._attempt, job)
        return job.request_id

    def wait_idle(self, timeout: float) -> bool:
        """Block until no async invocation is queued, running or waiting for a retry."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self) -> None:
        """Cancel pending retries and stop the pool (running invocations finish)."""
        with self._idle:
            self._closed = True
            timers, self._timers = list(self._timers), set()
        for timer in timers:
            timer.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _retries_for(self, fn: MotoFunction) -> int:
        retries = len(self.policy.retry_delays_s)
        for config in getattr(fn, "event_invoke_config", None) or ():
            if "MaximumRetryAttempts" in config.config:
                retries = min(retries, int(config.config["MaximumRetryAttempts"]))
        return retries

    def _attempt(self, job: _Job) -> None:
        try:
            failed = self._run_once(job)
            if failed and job.attempt + 1 < job.max_attempts and self._retry_later(job):
                return
            if failed:
                logger.warning(
                    "asynchronous invocation %s of %s (%s) failed after %d attempt(s); AWS would now send it "
                    "to the function's on-failure destination or DLQ (the embedded endpoint does not)",
                    job.request_id,
                    job.fn.function_name,
                    job.source,
                    job.attempt + 1,
                )
        except Exception:
            logger.exception("asynchronous invocation %s of %s crashed", job.request_id, job.fn.function_name)
        self._done()

    def _run_once(self, job: _Job) -> bool:
        """True when the attempt failed in a way AWS retries (handler error, throttling)."""
        try:
            result = self.run(job.fn, job.payload, request_id=job.request_id)
        except ThrottledError as exc:
            logger.info("async invocation %s of %s throttled: %s", job.request_id, job.fn.function_name, exc)
            return True
        except EndpointError as exc:
            logger.error("asynchronous invocation %s of %s: %s", job.request_id, job.fn.function_name, exc)
            return False
        return result.function_error is not None

    def _retry_later(self, job: _Job) -> bool:
        delays = self.policy.retry_delays_s
        delay = delays[min(job.attempt, len(delays) - 1)] if delays else 0.0
        job.attempt += 1
        with self._idle:
            if self._closed:
                return False
            timer = self._timer(delay, lambda: self._resubmit(job, timer))
            timer.daemon = True
            self._timers.add(timer)
        timer.start()
        return True

    def _resubmit(self, job: _Job, timer: threading.Timer) -> None:
        with self._idle:
            self._timers.discard(timer)
            if self._closed:
                self._pending -= 1
                self._idle.notify_all()
                return
        self._executor.submit(self._attempt, job)

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

"""AWS Invoke semantics on top of the runtime: sync runs, the async queue, logs.

The runtime runs one invocation and knows nothing of AWS's invocation types; this
module adds them. ``Event`` invocations go to ``eventqueue.EventQueue``: retries after
about 1 and 2 minutes (``AsyncPolicy.retry_delays_s``; tests inject a timer and a
clock), the function's event invoke config (retries, maximum age, destinations) and
its dead-letter queue (``invokeconfig``, ``destinations``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from lambda_harness.endpoint.cloudwatch import LogWriter
from lambda_harness.endpoint.destinations import Destinations
from lambda_harness.endpoint.eventqueue import AsyncPolicy, EventQueue, Timer
from lambda_harness.endpoint.invokeconfig import AsyncConfig
from lambda_harness.endpoint.lookup import MotoFunction, Target, function_config
from lambda_harness.endpoint.runtime.model import (
    CredentialSource,
    FunctionConfig,
    InvokeResult,
    ThrottledError,
)
from lambda_harness.errors import EndpointError

__all__ = ["AsyncPolicy", "InvokeService", "Runtime", "log_tail", "new_request_id"]

logger = logging.getLogger(__name__)

#: AWS's request payload limits for Invoke (bytes).
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
#: How long a prestart lane waits for one environment's init before starting the next (Lambda's limit).
PRESTART_INIT_WAIT_S = 10.0
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
        invoked_arn: str | None = None,
    ) -> InvokeResult: ...

    def shutdown(self) -> None: ...

    def use_credentials(self, source: CredentialSource | None) -> None:
        """Where new execution environments get their credentials (None: test credentials)."""
        ...


def new_request_id() -> str:
    """A Lambda request id (a UUID4, as AWS's)."""
    return str(uuid.uuid4())


def log_tail(log: str) -> bytes:
    """The last 4 KB of a log, as ``X-Amz-Log-Result`` carries it (before base64)."""
    return log.encode("utf-8", "replace")[-LOG_TAIL_BYTES:]


class InvokeService:
    """Runs moto functions on our runtime: ``run`` (sync) and ``submit`` (async, ``eventqueue``)."""

    def __init__(
        self,
        runtime: Runtime,
        logs: LogWriter,
        *,
        endpoint_url: str,
        policy: AsyncPolicy | None = None,
        timer: Timer | None = None,
        configure: Callable[[MotoFunction, str], FunctionConfig] = function_config,
        clock: Callable[[], float] = time.monotonic,
        async_configs: Callable[[Target], AsyncConfig] = AsyncConfig.of,
        destinations: Destinations | None = None,
    ) -> None:
        self.runtime = runtime
        self.logs = logs
        self.configure = configure
        self.endpoint_url = endpoint_url
        self.events = EventQueue(
            self._attempt,
            destinations or Destinations(self.submit),
            policy=policy,
            configs=async_configs,
            timer=timer,
            clock=clock,
        )

    @property
    def policy(self) -> AsyncPolicy:
        return self.events.policy

    def run(
        self,
        target: Target,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
    ) -> InvokeResult:
        """One synchronous invocation, logged to CloudWatch Logs. Raises ThrottledError/EndpointError."""
        config = self.configure(target.fn, self.endpoint_url)
        result = self.runtime.invoke(
            config,
            payload,
            request_id=request_id or new_request_id(),
            client_context=client_context,
            invoked_arn=target.invoked_arn,
        )
        self.logs.write(
            account_id=config.account_id,
            region=config.region,
            function_name=config.name,
            stream=result.log_stream,
            events=result.events,
        )
        return result

    def prestart(self, functions: Sequence[MotoFunction], *, lanes: int | None = None) -> int:
        """Start each function's first execution environment now, ``lanes`` inits at a time (default:
        the CPUs; all of them at once would starve the second plan that runs meanwhile); how many."""
        start = getattr(self.runtime, "prestart", None)
        if start is None:  # a runtime without environments to start ahead
            return 0
        todo = list(functions)
        lock = threading.Lock()
        started = [0]

        def lane() -> None:
            while True:
                with lock:
                    if not todo:
                        return
                    fn = todo.pop(0)
                try:
                    ok = start(self.configure(fn, self.endpoint_url), wait_s=PRESTART_INIT_WAIT_S)
                except (EndpointError, ThrottledError) as exc:  # the first invocation will say it properly
                    logger.info("prestart of %s skipped: %s", fn.function_name, exc)
                    continue
                with lock:
                    started[0] += bool(ok)

        threads = [
            threading.Thread(target=lane, name="lh-prestart-lane", daemon=True)
            for _ in range(max(1, lanes or os.cpu_count() or 1))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return started[0]

    def _attempt(self, target: Target, payload: bytes, *, request_id: str) -> InvokeResult:
        return self.run(target, payload, request_id=request_id)

    def submit(self, target: Target, payload: bytes, *, source: str = "invoke") -> str:
        """Queue an ``Event`` invocation; returns its request id at once."""
        request_id = new_request_id()
        self.events.submit(target, payload, request_id, source)
        return request_id

    def wait_idle(self, timeout: float) -> bool:
        """Block until no async invocation is queued, running or waiting for a retry."""
        return self.events.wait_idle(timeout)

    def shutdown(self) -> None:
        """Cancel pending retries and stop the pool (running invocations finish)."""
        self.events.shutdown()

"""Asynchronous (``Event``) invocations as AWS runs them: queue, retries, event age, destinations.

AWS (invocation-async-error-handling, invocation-async-configuring): a function error
(handler exception, timeout, crash) is retried ``MaximumRetryAttempts`` times (0-2,
default 2), the first retry about 1 minute after the failure, the second about 2
minutes after the first retry (``AsyncPolicy.retry_delays_s``), the same request id
each time. Throttles are not attempts: the event goes back to the queue with a backoff
from 1 second to 5 minutes, for as long as the event is younger than
``MaximumEventAgeInSeconds`` (default 6 hours). Then:

- success -> the on-success destination, condition ``Success``;
- no retry left -> ``RetriesExhausted``; the next try would be too old -> ``EventAgeExceeded``
  (``approximateInvokeCount`` = the attempts made): the on-failure destination and the
  function's dead-letter queue.

The clock and the timer are injected (``clock``, ``timer``): tests run a 3-minute
schedule in milliseconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from lambda_harness.endpoint import destinations
from lambda_harness.endpoint.destinations import Condition, Destinations
from lambda_harness.endpoint.invokeconfig import AsyncConfig
from lambda_harness.endpoint.lookup import Target
from lambda_harness.endpoint.runtime.model import InvokeResult, ThrottledError
from lambda_harness.errors import EndpointError

logger = logging.getLogger(__name__)

#: ``timer(delay_s, action)``: a started-on-``start()`` one-shot timer, like threading.Timer.
Timer = Callable[[float, Callable[[], None]], threading.Timer]


class Runner(Protocol):
    """One attempt: ``run(target, payload, request_id=...)`` (``InvokeService.run``)."""

    def __call__(self, target: Target, payload: bytes, *, request_id: str) -> InvokeResult: ...


@dataclass(frozen=True)
class AsyncPolicy:
    """How ``Event`` invocations are queued, retried and backed off."""

    retry_delays_s: tuple[float, ...] = (60.0, 120.0)
    throttle_backoff_s: tuple[float, float] = (1.0, 300.0)  # first delay, cap (doubling)
    workers: int = 16

    def retry_delay(self, attempts: int) -> float:
        """The wait before retry number ``attempts`` (1 = the first retry)."""
        delays = self.retry_delays_s
        return delays[min(attempts, len(delays)) - 1] if delays else 0.0

    def throttle_delay(self, throttles: int) -> float:
        first, cap = self.throttle_backoff_s
        return float(min(first * 2 ** (throttles - 1), cap))


@dataclass
class _Job:
    target: Target
    payload: bytes
    request_id: str
    source: str
    config: AsyncConfig
    enqueued_at: float
    attempts: int = 0  # function runs that ended (AWS's approximateInvokeCount)
    throttles: int = 0
    last: InvokeResult | None = None


class EventQueue:
    """Runs queued Event invocations on a thread pool and follows them to their end."""

    def __init__(
        self,
        run: Runner,
        destinations: Destinations,
        *,
        policy: AsyncPolicy | None = None,
        configs: Callable[[Target], AsyncConfig] = AsyncConfig.of,
        timer: Timer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._run = run
        self.destinations = destinations
        self.policy = policy or AsyncPolicy()
        self._configs = configs
        self._timer = timer or threading.Timer
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=self.policy.workers, thread_name_prefix="lh-async")
        self._timers: set[threading.Timer] = set()
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False

    def submit(self, target: Target, payload: bytes, request_id: str, source: str) -> None:
        """Queue one Event invocation (its config is read now, as AWS reads it on enqueue)."""
        job = _Job(target, payload, request_id, source, self._configs(target), self._clock())
        with self._idle:
            if self._closed:
                raise EndpointError("the endpoint is shutting down; it takes no more async invocations")
            self._pending += 1
        self._executor.submit(self._attempt, job)

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

    # -- one attempt ------------------------------------------------------------------------

    def _attempt(self, job: _Job) -> None:
        try:
            if self._step(job):
                return  # scheduled again: not done yet
        except Exception:
            logger.exception(
                "asynchronous invocation %s of %s crashed", job.request_id, job.target.fn.function_name
            )
        self._done()

    def _step(self, job: _Job) -> bool:
        """Run once and decide what comes next; True when the job was scheduled again."""
        try:
            result = self._run(job.target, job.payload, request_id=job.request_id)
        except ThrottledError as exc:
            return self._after_throttle(job, exc)
        except EndpointError as exc:  # a harness fault, not the function's: nothing to retry
            logger.error(
                "asynchronous invocation %s of %s: %s", job.request_id, job.target.fn.function_name, exc
            )
            return False
        return self._after_run(job, result)

    def _after_throttle(self, job: _Job, exc: ThrottledError) -> bool:
        """Not an attempt: back to the queue with a backoff, while the event is young enough."""
        logger.info(
            "async invocation %s of %s throttled: %s", job.request_id, job.target.fn.function_name, exc
        )
        job.throttles += 1
        delay = self.policy.throttle_delay(job.throttles)
        if self._young_enough(job, delay):
            return self._later(job, delay)
        self._failed(job, "EventAgeExceeded", throttled=str(exc))
        return False

    def _after_run(self, job: _Job, result: InvokeResult) -> bool:
        job.attempts += 1
        job.last = result
        if result.function_error is None:
            self._succeeded(job)
            return False
        if job.attempts > job.config.max_retries:
            self._failed(job, "RetriesExhausted")
            return False
        delay = self.policy.retry_delay(job.attempts)
        if self._young_enough(job, delay):
            return self._later(job, delay)
        self._failed(job, "EventAgeExceeded")
        return False

    def _young_enough(self, job: _Job, delay: float) -> bool:
        """Whether the event is still younger than its maximum age when the next try starts."""
        return self._clock() + delay - job.enqueued_at < job.config.max_age_s

    # -- the outcome --------------------------------------------------------------------------

    def _succeeded(self, job: _Job) -> None:
        arn = job.config.on_success
        if arn is not None and job.last is not None:
            self.destinations.send(arn, self._record(job, "Success"), job.target, success=True)

    def _failed(self, job: _Job, condition: Condition, throttled: str | None = None) -> None:
        config, name = job.config, job.target.fn.function_name
        if throttled is not None:  # never ran: the record carries the throttle
            job.last = _throttled_result(job.request_id, throttled)
        if config.on_failure is None and config.dead_letter is None:
            logger.warning(
                "asynchronous invocation %s of %s (%s) failed: %s after %d attempt(s); "
                "no on-failure destination or DLQ is configured, the event is dropped (as on AWS)",
                job.request_id,
                name,
                job.source,
                condition,
                job.attempts,
            )
            return
        assert job.last is not None
        if config.on_failure is not None:
            status = 429 if throttled is not None else 200
            body = self._record(job, condition, status)
            self.destinations.send(config.on_failure, body, job.target, success=False)
        if config.dead_letter is not None:
            self.destinations.dead_letter(
                config.dead_letter, job.target, job.request_id, job.payload, job.last
            )

    def _record(self, job: _Job, condition: Condition, status: int = 200) -> dict[str, object]:
        assert job.last is not None
        return destinations.record(
            job.target,
            request_id=job.request_id,
            payload=job.payload,
            result=job.last,
            condition=condition,
            invoke_count=job.attempts,
            status_code=status,
        )

    # -- scheduling ---------------------------------------------------------------------------

    def _later(self, job: _Job, delay: float) -> bool:
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


def _throttled_result(request_id: str, message: str) -> InvokeResult:
    body = {"errorMessage": message, "errorType": "TooManyRequestsException"}
    return InvokeResult(
        request_id=request_id,
        payload=json.dumps(body).encode(),
        function_error=None,
        error_type="TooManyRequestsException",
        log="",
        duration_ms=0.0,
        billed_ms=0,
        init_ms=None,
        max_memory_mb=0,
        cold=False,
    )

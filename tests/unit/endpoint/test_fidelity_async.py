"""Fidelity 8 (the schedule): Event invocations retried, aged and reported as AWS does.

Oracle: invocation-async-error-handling (retries after ~1 and ~2 minutes, throttles are
not attempts, maximum event age), and the records recorded in test_lambda_destinations
(condition, approximateInvokeCount, the record's shape). A fake clock that the fake timer
advances by each delay: a 3-minute schedule runs in milliseconds, no process, no network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lambda_harness.endpoint import destinations
from lambda_harness.endpoint.eventqueue import AsyncPolicy, EventQueue
from lambda_harness.endpoint.invokeconfig import AsyncConfig
from lambda_harness.endpoint.lookup import Target
from lambda_harness.endpoint.runtime.model import InvokeResult, ThrottledError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
ERROR = (
    b'{"errorMessage": "intentional failure", "errorType": "Exception", "requestId": "r", "stackTrace": []}'
)


@dataclass
class Fn:
    function_name: str = "fn"
    version: str = "$LATEST"
    region: str = "us-east-1"
    account_id: str = "123456789012"


def result(error: bool) -> InvokeResult:
    return InvokeResult(
        request_id="r",
        payload=ERROR if error else b'{"ok": true}',
        function_error="Unhandled" if error else None,
        error_type="Exception" if error else None,
        log="",
        duration_ms=1.0,
        billed_ms=1,
        init_ms=None,
        max_memory_mb=1,
        cold=False,
    )


@dataclass
class World:
    """A scripted function, a clock the timer moves, and what reached the destinations."""

    script: list[str]
    now: float = 1000.0
    runs: list[float] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    sent: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)
    dead: list[tuple[str, bytes, InvokeResult]] = field(default_factory=list)

    def run(self, target: Target, payload: bytes, *, request_id: str) -> InvokeResult:
        self.runs.append(self.now)
        step = self.script.pop(0) if self.script else "ok"
        if step == "throttle":
            raise ThrottledError("Rate Exceeded.", "ReservedFunctionConcurrentInvocationLimitExceeded")
        return result(step == "error")

    def timer(self, delay: float, action: Callable[[], None]) -> threading.Thread:
        def later() -> None:
            self.delays.append(delay)
            self.now += delay
            action()

        return threading.Thread(target=later, daemon=True)

    def send(self, arn: str, body: dict[str, Any], target: Target, success: bool) -> None:
        self.sent.append((arn, body, success))

    def dead_letter(
        self, arn: str, target: Target, request_id: str, payload: bytes, res: InvokeResult
    ) -> None:
        self.dead.append((arn, payload, res))


def run_one(world: World, config: AsyncConfig, qualifier: str | None = None) -> str:
    queue = EventQueue(
        world.run,
        world,  # type: ignore[arg-type]
        policy=AsyncPolicy(),
        configs=lambda target: config,
        timer=world.timer,  # type: ignore[arg-type]
        clock=lambda: world.now,
    )
    invoked = f"{ARN}:{qualifier}" if qualifier else ARN
    queue.submit(Target(Fn(), invoked), b'{"message": "m"}', "rid-1", "invoke")
    assert queue.wait_idle(10)
    queue.shutdown()
    return "done"


FAILURE = AsyncConfig(
    on_success="arn:aws:sqs:us-east-1:123456789012:ok", on_failure="arn:aws:sqs:us-east-1:123456789012:ko"
)


def test_two_retries_after_one_then_two_minutes_then_retries_exhausted() -> None:
    world = World(["error"] * 3)
    run_one(world, FAILURE)
    assert world.delays == [60.0, 120.0]
    assert [t - 1000 for t in world.runs] == [0, 60, 180]
    [(arn, body, success)] = world.sent
    assert arn.endswith(":ko") and not success
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3


def test_no_retry_configured_means_one_attempt() -> None:
    world = World(["error"] * 3)
    run_one(world, AsyncConfig(max_retries=0, on_failure=FAILURE.on_failure))
    assert len(world.runs) == 1
    assert world.sent[0][1]["requestContext"]["approximateInvokeCount"] == 1


def test_success_after_a_retry_goes_to_on_success() -> None:
    world = World(["error", "ok"])
    run_one(world, FAILURE)
    [(arn, body, success)] = world.sent
    assert arn.endswith(":ok") and success
    assert body["requestContext"] == {
        "requestId": "rid-1",
        "functionArn": f"{ARN}:$LATEST",
        "condition": "Success",
        "approximateInvokeCount": 2,
    }
    assert body["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert body["requestPayload"] == {"message": "m"} and body["responsePayload"] == {"ok": True}


def test_event_age_stops_retries_with_event_age_exceeded() -> None:
    """AWS (test_maxeventage): age 60 s -> 1 attempt; age 120 s... -> 2 attempts, EventAgeExceeded."""
    for max_age, attempts in ((60, 1), (150, 2)):
        world = World(["error"] * 3)
        run_one(world, AsyncConfig(max_age_s=max_age, on_failure=FAILURE.on_failure))
        assert len(world.runs) == attempts
        context = world.sent[0][1]["requestContext"]
        assert (context["condition"], context["approximateInvokeCount"]) == ("EventAgeExceeded", attempts)


def test_throttles_are_not_attempts_and_back_off() -> None:
    world = World(["throttle", "throttle", "error", "error", "error"])
    run_one(world, FAILURE)
    assert world.delays == [1.0, 2.0, 60.0, 120.0]
    assert world.sent[0][1]["requestContext"]["approximateInvokeCount"] == 3


def test_a_function_that_is_only_ever_throttled_ends_event_age_exceeded() -> None:
    world = World(["throttle"] * 1000)
    run_one(world, AsyncConfig(max_age_s=600, on_failure=FAILURE.on_failure))
    assert world.delays[:4] == [1.0, 2.0, 4.0, 8.0] and max(world.delays) <= 300.0
    context = world.sent[0][1]["requestContext"]
    assert (context["condition"], context["approximateInvokeCount"]) == ("EventAgeExceeded", 0)


def test_the_dead_letter_queue_gets_the_event_itself() -> None:
    world = World(["error"] * 3)
    run_one(world, AsyncConfig(dead_letter="arn:aws:sqs:us-east-1:123456789012:dlq"))
    [(arn, payload, res)] = world.dead
    assert arn.endswith(":dlq") and payload == b'{"message": "m"}' and res.function_error == "Unhandled"
    assert world.sent == []


def test_an_alias_invocation_names_the_alias() -> None:
    world = World(["error"])
    run_one(world, AsyncConfig(max_retries=0, on_failure=FAILURE.on_failure), qualifier="live")
    assert world.sent[0][1]["requestContext"]["functionArn"] == f"{ARN}:live"


def test_the_record_matches_awss_recording() -> None:
    """test_assess_lambda_destination_invocation[payload1] (2025-11-24), timestamp aside."""
    body = destinations.record(
        Target(Fn(), ARN),
        request_id="rid",
        payload=b'{"raise_error": 1}',
        result=result(True),
        condition="RetriesExhausted",
        invoke_count=1,
    )
    assert set(body) == {
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    }
    assert body["version"] == "1.0" and body["timestamp"].endswith("Z") and len(body["timestamp"]) == 24
    assert body["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert body["responsePayload"]["errorMessage"] == "intentional failure"

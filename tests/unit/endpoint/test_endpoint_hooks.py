"""moto patches: installed once per process, removed cleanly, Invoke semantics in the class hook."""

from __future__ import annotations

from typing import Any

import pytest
from moto.awslambda.models import LambdaFunction
from moto.events.models import Rule
from moto.s3 import notifications
from moto.sqs.models import Queue

from lambda_harness.endpoint import hooks
from lambda_harness.endpoint.runtime.model import InvokeResult, ThrottledError
from lambda_harness.errors import EndpointError


class FakeService:
    def __init__(self, error: str | None = None, throttle: bool = False) -> None:
        self.error = error
        self.throttle = throttle
        self.runs: list[bytes] = []
        self.submitted: list[bytes] = []

    def run(self, fn: Any, payload: bytes, **_: Any) -> InvokeResult:
        if self.throttle:
            raise ThrottledError("too many", "ConcurrentInvocationLimitExceeded")
        self.runs.append(payload)
        return InvokeResult(
            request_id="r",
            payload=b'"out"',
            function_error=self.error,
            error_type=None,
            log="START\nEND\nREPORT",
            duration_ms=1,
            billed_ms=1,
            init_ms=None,
            max_memory_mb=1,
            cold=False,
        )

    def submit(self, fn: Any, payload: bytes, **_: Any) -> str:
        self.submitted.append(payload)
        return "r"


class FakeFn:
    version = "$LATEST"
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"


class FakeEvents:
    def make_send_to_targets(self, original: Any) -> Any:
        return original


def test_install_and_uninstall_restore_moto() -> None:
    before = (
        vars(LambdaFunction)["invoke"],
        vars(notifications)["_invoke_awslambda"],
        vars(Rule)["send_to_targets"],
        vars(Queue)["attributes"],
    )
    hooks.install(hooks.Targets(FakeService(), FakeEvents(), None))  # type: ignore[arg-type]
    try:
        assert hooks.installed()
        assert vars(LambdaFunction)["invoke"] is not before[0]
        with pytest.raises(EndpointError, match="already running in this process"):
            hooks.install(hooks.Targets(FakeService(), FakeEvents(), None))  # type: ignore[arg-type]
    finally:
        hooks.uninstall()
    after = (
        vars(LambdaFunction)["invoke"],
        vars(notifications)["_invoke_awslambda"],
        vars(Rule)["send_to_targets"],
        vars(Queue)["attributes"],
    )
    assert after == before
    assert not hooks.installed()
    hooks.uninstall()  # idempotent


def test_function_invoke_sync_sets_aws_headers() -> None:
    service = FakeService(error="Unhandled")
    invoke = hooks.make_function_invoke(service)  # type: ignore[arg-type]
    response_headers: dict[str, str] = {}
    out = invoke(FakeFn(), '{"a": 1}', {"X-Amz-Log-Type": "Tail"}, response_headers)
    assert out == b'"out"' and service.runs == [b'{"a": 1}']
    assert response_headers["x-amz-function-error"] == "Unhandled"
    assert response_headers["x-amz-executed-version"] == "$LATEST"
    assert response_headers["x-amz-log-result"]


def test_function_invoke_event_and_dry_run_do_not_block() -> None:
    service = FakeService()
    invoke = hooks.make_function_invoke(service)  # type: ignore[arg-type]
    assert invoke(FakeFn(), "", {"x-amz-invocation-type": "Event"}, {}) == b""
    assert invoke(FakeFn(), "{}", {"X-Amz-Invocation-Type": "DryRun"}, {}) == b""
    assert service.submitted == [b"{}"] and service.runs == []


def test_function_invoke_throttle_is_429() -> None:
    invoke = hooks.make_function_invoke(FakeService(throttle=True))  # type: ignore[arg-type]
    with pytest.raises(Exception) as info:
        invoke(FakeFn(), "{}", {}, {})
    assert getattr(info.value, "code", None) == 429
    assert "TooManyRequestsException" in str(getattr(info.value, "description", ""))

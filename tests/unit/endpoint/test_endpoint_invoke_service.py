"""InvokeService with a hand-written fake runtime: sync runs, async queue, retries, logs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from lambda_harness.endpoint.invoke import AsyncPolicy, InvokeService, log_tail
from lambda_harness.endpoint.invokeconfig import AsyncConfig
from lambda_harness.endpoint.lookup import Target
from lambda_harness.endpoint.runtime.model import FunctionConfig, InvokeResult, ThrottledError
from lambda_harness.endpoint.runtime.output import LogEvent
from lambda_harness.errors import EndpointError


@dataclass
class FakeFunction:
    function_name: str = "fn"
    version: str = "$LATEST"


def target(**changes: Any) -> Target:
    fn = FakeFunction(**changes)
    return Target(fn, f"arn:aws:lambda:us-east-1:123456789012:function:{fn.function_name}")


class FakeRuntime:
    """Answers from a script: each item is 'ok', 'error', 'throttle' or 'fault'."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.calls: list[tuple[str, bytes, str | None]] = []
        self.lock = threading.Lock()

    def invoke(
        self,
        fn: FunctionConfig,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        invoked_arn: str | None = None,
    ) -> InvokeResult:
        with self.lock:
            self.calls.append((fn.name, payload, request_id))
            step = self.script.pop(0) if self.script else "ok"
        if step == "throttle":
            raise ThrottledError("slow down", "ReservedFunctionConcurrentInvocationLimitExceeded")
        if step == "fault":
            raise EndpointError("no interpreter")
        failed = step == "error"
        return InvokeResult(
            request_id=request_id or "",
            payload=b'{"errorType": "E"}' if failed else b"1",
            function_error="Unhandled" if failed else None,
            error_type="E" if failed else None,
            log=f"START RequestId: {request_id}\nEND\nREPORT",
            events=(LogEvent(1, f"START RequestId: {request_id}\n"),),
            log_stream="2026/01/01/[$LATEST]ab",
            duration_ms=1,
            billed_ms=1,
            init_ms=None,
            max_memory_mb=1,
            cold=False,
        )

    def shutdown(self) -> None:
        pass


class FakeLogs:
    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []

    def write(self, **kwargs: Any) -> None:
        self.written.append(kwargs)


def configure(fn: Any, endpoint_url: str) -> FunctionConfig:
    return FunctionConfig(
        name=fn.function_name,
        version=fn.version,
        handler="app.h",
        runtime="python3.12",
        architecture="x86_64",
        memory_mb=128,
        timeout_s=3,
        environment={},
        code_sha256="x",
        code_zip=b"zip",
        layers=(),
        region="us-east-1",
        account_id="123456789012",
        role_arn="arn:aws:iam::123456789012:role/r",
        reserved_concurrency=None,
        endpoint_url=endpoint_url,
    )


class InstantTimer(threading.Thread):
    """A Timer stand-in that records the delay and fires at once (no waiting in tests)."""

    delays: ClassVar[list[float]] = []

    def __init__(self, delay: float, action: Callable[[], None]) -> None:
        super().__init__(target=action, daemon=True)
        InstantTimer.delays.append(delay)

    def cancel(self) -> None:
        pass


def service(
    script: list[str], retries: tuple[float, ...] = (60.0, 120.0), config: AsyncConfig | None = None
) -> tuple[InvokeService, FakeRuntime, FakeLogs]:
    runtime, logs = FakeRuntime(script), FakeLogs()
    InstantTimer.delays = []
    svc = InvokeService(
        runtime,
        logs,
        endpoint_url="http://127.0.0.1:1",
        configure=configure,
        policy=AsyncPolicy(retry_delays_s=retries),
        timer=InstantTimer,
        async_configs=lambda target: config or AsyncConfig(),
    )  # type: ignore[arg-type]
    return svc, runtime, logs


def test_run_invokes_and_logs() -> None:
    svc, runtime, logs = service(["ok"])
    result = svc.run(target(), b"{}", request_id="rid")
    assert result.payload == b"1"
    assert runtime.calls == [("fn", b"{}", "rid")]
    assert logs.written == [
        {
            "account_id": "123456789012",
            "region": "us-east-1",
            "function_name": "fn",
            "stream": "2026/01/01/[$LATEST]ab",
            "events": (LogEvent(1, "START RequestId: rid\n"),),
        }
    ]


def test_async_success_runs_once() -> None:
    svc, runtime, _ = service(["ok"])
    request_id = svc.submit(target(), b"{}")
    assert svc.wait_idle(5)
    assert [c[2] for c in runtime.calls] == [request_id]
    svc.shutdown()


def test_async_error_retries_twice_with_aws_delays_and_same_request_id() -> None:
    svc, runtime, _ = service(["error", "error", "error", "ok"])
    request_id = svc.submit(target(), b"{}")
    assert svc.wait_idle(5)
    assert [c[2] for c in runtime.calls] == [request_id] * 3
    assert InstantTimer.delays == [60.0, 120.0]
    svc.shutdown()


def test_async_stops_retrying_after_success() -> None:
    svc, runtime, _ = service(["throttle", "ok"])
    svc.submit(target(), b"{}")
    assert svc.wait_idle(5)
    assert len(runtime.calls) == 2


def test_async_harness_fault_is_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    svc, runtime, _ = service(["fault"])
    svc.submit(target(), b"{}")
    assert svc.wait_idle(5)
    assert len(runtime.calls) == 1
    assert "no interpreter" in caplog.text


def test_maximum_retry_attempts_lowers_retries() -> None:
    svc, runtime, _ = service(["error"] * 5, config=AsyncConfig(max_retries=1))
    svc.submit(target(), b"{}")
    assert svc.wait_idle(5)
    assert len(runtime.calls) == 2


def test_submit_after_shutdown_is_refused() -> None:
    svc, _, _ = service([])
    svc.shutdown()
    with pytest.raises(EndpointError, match="shutting down"):
        svc.submit(target(), b"{}")


def test_log_tail_is_last_4k_bytes() -> None:
    log = "x" * 5000 + "END"
    assert log_tail(log) == log.encode()[-4096:]
    assert log_tail("short") == b"short"

"""Every failure shape AWS returns, produced by real workers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lambda_harness.endpoint.runtime import FunctionConfig, LambdaRuntime

MakeFn = Callable[..., FunctionConfig]

SRC = """
import os, sys, time

def ok(event, context):
    return {"pid": os.getpid()}

def boom(event, context):
    print("about to fail")
    raise ValueError("bad value")

def slow(event, context):
    print("sleeping")
    time.sleep(30)

def exit_one(event, context):
    sys.exit(1)

def os_exit(event, context):
    os._exit(3)

def hog(event, context):
    blocks = []
    for _ in range(300):
        blocks.append(bytearray(1024 * 1024))
        blocks[-1][::4096] = b"x" * len(range(0, 1024 * 1024, 4096))
    return len(blocks)
"""


def payload(result: Any) -> dict[str, Any]:
    body = json.loads(result.payload)
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        (
            "nomodule.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'nomodule': No module named 'nomodule'",
        ),
        ("app.missing", "Runtime.HandlerNotFound", "Handler 'missing' missing on module 'app'"),
        ("nodot", "Runtime.MalformedHandlerName", "Bad handler 'nodot': not enough values to unpack"),
    ],
)
def test_init_errors_have_awslambdarics_payload_and_reinit_next_time(
    runtime: LambdaRuntime, fn_maker: MakeFn, handler: str, error_type: str, message: str
) -> None:
    fn = fn_maker({"app.py": SRC}, handler=handler)
    for _ in range(2):  # AWS re-runs init on the next invoke: same answer again
        result = runtime.invoke(fn, b"{}")
        body = payload(result)
        assert result.function_error == "Unhandled"
        assert result.error_type == error_type
        assert set(body) == {"errorMessage", "errorType", "requestId", "stackTrace"}
        assert body["errorType"] == error_type and body["errorMessage"].startswith(message)
        assert body["requestId"] == "" and body["stackTrace"] == []
        assert result.cold
        assert f"[ERROR] {error_type}: {message}" in result.log
        assert f"Status: error\tError Type: {error_type}" in result.log.splitlines()[-1]


def test_handler_exception_keeps_its_type_message_and_stack(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    fn = fn_maker({"app.py": SRC}, handler="app.boom")
    result = runtime.invoke(fn, b"{}")
    body = payload(result)
    assert result.function_error == "Unhandled" and result.error_type == "ValueError"
    assert body["errorMessage"] == "bad value" and body["requestId"] == result.request_id
    assert any('raise ValueError("bad value")' in frame for frame in body["stackTrace"])
    lines = result.log.splitlines()
    assert lines.index("about to fail") < lines.index("[ERROR] ValueError: bad value")
    # A handled-by-runtime exception does not cost the environment.
    again = runtime.invoke(fn, b"{}")
    assert not again.cold


def test_timeout_kills_the_environment_and_the_next_call_cold_starts(
    runtime: LambdaRuntime, fn_maker: MakeFn, process_gone: Callable[[int], bool]
) -> None:
    slow = fn_maker({"app.py": SRC}, handler="app.slow", timeout_s=1.0)
    result = runtime.invoke(slow, b"{}")
    assert result.function_error == "Unhandled" and result.error_type == "Sandbox.Timedout"
    assert payload(result) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }
    assert "sleeping" in result.log
    assert f"{result.request_id} Task timed out after 1.00 seconds" in result.log
    assert "Status: timeout" in result.log.splitlines()[-1]
    assert result.duration_ms >= 1000
    again = runtime.invoke(slow, b"{}")
    assert again.cold


@pytest.mark.parametrize(
    ("handler", "status"), [("app.exit_one", "exit status 1"), ("app.os_exit", "exit status 3")]
)
def test_process_death_is_runtime_exit_error(
    runtime: LambdaRuntime, fn_maker: MakeFn, handler: str, status: str
) -> None:
    fn = fn_maker({"app.py": SRC}, handler=handler)
    result = runtime.invoke(fn, b"{}")
    assert result.error_type == "Runtime.ExitError" and result.function_error == "Unhandled"
    expected = f"RequestId: {result.request_id} Error: Runtime exited with error: {status}"
    assert payload(result) == {"errorType": "Runtime.ExitError", "errorMessage": expected}
    assert expected in result.log.splitlines()
    assert runtime.invoke(fn, b"{}").cold


def test_memory_over_memory_size_is_out_of_memory_and_the_function_recovers(
    runtime: LambdaRuntime, fn_maker: MakeFn
) -> None:
    hog = fn_maker({"app.py": SRC}, handler="app.hog", memory_mb=128)
    result = runtime.invoke(hog, b"{}")
    assert result.error_type == "Runtime.OutOfMemory" and result.function_error == "Unhandled"
    assert payload(result) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: signal: killed",
    }
    assert result.max_memory_mb == 128
    assert "Status: error\tError Type: Runtime.OutOfMemory" in result.log.splitlines()[-1]
    ok = fn_maker({"app.py": SRC}, handler="app.ok", memory_mb=128)
    after = runtime.invoke(ok, b"{}")
    assert after.function_error is None and "pid" in payload(after)


def test_response_over_six_mb_is_function_response_size_too_large(
    runtime: LambdaRuntime, fn_maker: MakeFn
) -> None:
    src = "def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n"
    result = runtime.invoke(fn_maker({"app.py": src}), b"{}")
    assert result.error_type == "Function.ResponseSizeTooLarge"
    assert payload(result)["errorMessage"].startswith(
        "Response payload size exceeded maximum allowed payload size"
    )


def test_init_that_never_finishes_times_out(
    runtime_factory: Callable[..., LambdaRuntime], fn_maker: MakeFn
) -> None:
    rt = runtime_factory(init_limit_s=0.5)
    fn = fn_maker(
        {"app.py": "import time\ntime.sleep(60)\ndef handler(e, c):\n    return 1\n"}, timeout_s=1.0
    )
    result = rt.invoke(fn, b"{}")
    assert result.error_type == "Sandbox.Timedout" and result.cold
    assert (
        payload(result)["errorMessage"]
        == f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds"
    )

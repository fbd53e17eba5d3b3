"""``build_result``: how an invocation ended, from a snapshot of what was observed (no processes)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from lambda_harness.endpoint.runtime.model import FunctionConfig
from lambda_harness.endpoint.runtime.outcome import Posted, Snapshot, build_result
from lambda_harness.endpoint.runtime.output import LogEvent

FN = FunctionConfig(
    name="fn",
    version="$LATEST",
    handler="app.handler",
    runtime="python3.12",
    architecture="x86_64",
    memory_mb=128,
    timeout_s=3.0,
    environment={},
    code_sha256="",
    code_zip=b"",
    layers=(),
    region="us-east-1",
    account_id="123456789012",
    role_arn="arn:aws:iam::123456789012:role/r",
    reserved_concurrency=None,
    endpoint_url="http://127.0.0.1:9",
)
AT = datetime(2026, 11, 28, 12, 0, 0, 123000, tzinfo=UTC)


def ev(text: str) -> LogEvent:
    return LogEvent(1, text + "\n")


def evs(*texts: str) -> tuple[LogEvent, ...]:
    return tuple(ev(t) for t in texts)


def snapshot(**changes: Any) -> Snapshot:
    base = Snapshot(
        request_id="rid",
        cold=False,
        posted=Posted("response", b'{"ok": true}'),
        ended_at=AT,
        elapsed_s=0.0123,
        peak_mb=40,
        events=(ev("hello"),),
    )
    return replace(base, **changes)


def report_of(log: str) -> str:
    return next(line for line in log.splitlines() if line.startswith("REPORT "))


def test_success_returns_the_payload_and_a_plain_report() -> None:
    result = build_result(FN, snapshot())
    assert result.payload == b'{"ok": true}'
    assert result.function_error is None and result.error_type is None
    assert result.duration_ms == pytest.approx(12.3) and result.billed_ms == 13
    assert result.max_memory_mb == 40 and result.init_ms is None and not result.cold
    assert result.log.splitlines()[:3] == [
        "START RequestId: rid Version: $LATEST",
        "hello",
        "END RequestId: rid",
    ]
    assert "Status" not in report_of(result.log)


def test_handler_error_keeps_the_runtimes_error_and_type() -> None:
    body = json.dumps({"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}).encode()
    result = build_result(FN, snapshot(posted=Posted("error", body)))
    assert result.payload == body
    assert result.function_error == "Unhandled" and result.error_type == "ValueError"
    assert "Status" not in report_of(result.log)  # AWS adds no Status for a handler's own error


def test_error_type_header_wins_over_the_body() -> None:
    posted = Posted("error", b'{"errorType": "FromBody"}', "FromHeader")
    assert build_result(FN, snapshot(posted=posted)).error_type == "FromHeader"


def test_timeout_is_sandbox_timedout_with_lambdas_line() -> None:
    result = build_result(FN, snapshot(posted=None, end="timeout", elapsed_s=3.004))
    assert json.loads(result.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: rid Error: Task timed out after 3.00 seconds",
    }
    assert result.function_error == "Unhandled" and result.error_type == "Sandbox.Timedout"
    assert "2026-11-28T12:00:00.123Z rid Task timed out after 3.00 seconds" in result.log.splitlines()
    assert report_of(result.log).endswith("Status: timeout\t")


def test_out_of_memory_reports_memory_size_and_a_killed_runtime() -> None:
    result = build_result(FN, snapshot(posted=None, end="oom", peak_mb=97))
    assert result.error_type == "Runtime.OutOfMemory"
    message = "RequestId: rid Error: Runtime exited with error: signal: killed"
    assert json.loads(result.payload) == {"errorType": "Runtime.OutOfMemory", "errorMessage": message}
    assert result.max_memory_mb == 128  # AWS's cgroup figure never exceeds MemorySize
    assert "Max Memory Used: 128 MB" in report_of(result.log)
    assert report_of(result.log).endswith("Status: error\tError Type: Runtime.OutOfMemory\t")


def test_exit_before_a_result_is_runtime_exit_error_with_the_status() -> None:
    result = build_result(FN, snapshot(posted=None, end="exit", exit_status=3, events=evs("bye")))
    message = "RequestId: rid Error: Runtime exited with error: exit status 3"
    assert json.loads(result.payload) == {"errorType": "Runtime.ExitError", "errorMessage": message}
    assert result.function_error == "Unhandled"
    lines = result.log.splitlines()
    assert lines[1:4] == ["bye", message, "Runtime.ExitError"]
    assert report_of(result.log).endswith("Status: error\tError Type: Runtime.ExitError\t")


def test_exit_by_a_signal_is_worded_like_lambda() -> None:
    result = build_result(FN, snapshot(posted=None, end="exit", exit_status=-11))
    assert b"Runtime exited with error: signal: segmentation fault" in result.payload


def test_samples_above_memory_size_are_capped() -> None:
    assert build_result(FN, snapshot(peak_mb=140)).max_memory_mb == 128


def test_cold_start_prints_init_output_before_start_and_reports_init_duration() -> None:
    snap = snapshot(cold=True, init_s=0.25, init_events=evs("WARNING lambda-harness: note", "importing"))
    result = build_result(FN, snap)
    assert result.cold and result.init_ms == 250.0
    assert result.log.splitlines()[:3] == [
        "WARNING lambda-harness: note",
        "importing",
        "START RequestId: rid Version: $LATEST",
    ]
    assert "Init Duration: 250.00 ms" in report_of(result.log)


def test_init_error_puts_everything_before_start_with_an_init_report() -> None:
    body = json.dumps({"errorMessage": "No module named 'app'", "errorType": "Runtime.ImportModuleError"})
    snap = snapshot(
        cold=True,
        init_s=0.05,
        posted=Posted("init_error", body.encode(), "Runtime.ImportModuleError"),
        init_events=evs("loading"),
        events=evs("[ERROR] Runtime.ImportModuleError"),
    )
    result = build_result(FN, snap)
    assert result.function_error == "Unhandled" and result.error_type == "Runtime.ImportModuleError"
    lines = result.log.splitlines()
    assert lines[:3] == [
        "loading",
        "[ERROR] Runtime.ImportModuleError",
        "INIT_REPORT Init Duration: 50.00 ms\tPhase: init\tStatus: error\t"
        "Error Type: Runtime.ImportModuleError",
    ]
    assert lines[3] == "START RequestId: rid Version: $LATEST" and lines[4] == "END RequestId: rid"
    assert report_of(result.log).endswith("Status: error\tError Type: Runtime.ImportModuleError\t")


def test_exit_status_zero_is_exit_without_a_reason() -> None:
    """AWS (test_lambda_handler_exit, python3.12): ``sys.exit(0)`` gives no exit status."""
    result = build_result(FN, snapshot(posted=None, end="exit", exit_status=0))
    message = "RequestId: rid Error: Runtime exited without providing a reason"
    assert json.loads(result.payload) == {"errorType": "Runtime.ExitError", "errorMessage": message}
    assert report_of(result.log).endswith("Status: error\tError Type: Runtime.ExitError\t")

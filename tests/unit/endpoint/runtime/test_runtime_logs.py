"""INIT_START/START/END/REPORT events and their formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lambda_harness.endpoint.runtime import logs
from lambda_harness.endpoint.runtime.outcome import exit_text
from lambda_harness.endpoint.runtime.output import LogEvent


def test_report_line_matches_lambdas_shape() -> None:
    report = logs.Report("rid-1", 1.234, 2, 128, 40, init_ms=49.0)
    assert report.line() == (
        "REPORT RequestId: rid-1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 49.00 ms\t"
    )


def test_report_line_without_init_and_with_status() -> None:
    warm = logs.Report("rid-2", 10.0, 10, 256, 50).line()
    assert "Init Duration" not in warm and warm.endswith("Max Memory Used: 50 MB\t")
    failed = logs.Report(
        "rid-3", 3000.0, 3000, 128, 40, status="error", error_type="Runtime.ExitError"
    ).line()
    assert failed.endswith("\tStatus: error\tError Type: Runtime.ExitError\t")


def test_invocation_log_orders_init_output_start_lines_end_report() -> None:
    events = logs.invocation_log(
        version="$LATEST",
        init_events=[LogEvent(5, "loaded\n")],
        events=[LogEvent(7, "hello\n"), LogEvent(8, "world\n")],
        platform_lines=["timed out"],
        report=logs.Report("rid", 1.0, 1, 128, 30),
        started_ms=6,
        ended_ms=9,
    )
    assert [e.message for e in events][:6] == [
        "loaded\n",
        "START RequestId: rid Version: $LATEST\n",
        "hello\n",
        "world\n",
        "timed out\n",
        "END RequestId: rid\n",
    ]
    assert events[6].message.startswith("REPORT RequestId: rid\t") and events[6].message.endswith("\t\n")
    assert [e.timestamp_ms for e in events] == [5, 6, 7, 8, 9, 9, 9]


def test_init_start_names_a_stable_runtime_version() -> None:
    version = logs.RuntimeVersion.of((3, 12, 1), "awslambdaric==4.2.2")
    line = version.init_start("eu-west-1")
    assert re.fullmatch(
        r"INIT_START Runtime Version: python:3\.12\.v1\tRuntime Version ARN: "
        r"arn:aws:lambda:eu-west-1::runtime:[0-9a-f]{64}\n",
        line,
    )
    assert line == logs.RuntimeVersion.of((3, 12, 1), "awslambdaric==4.2.2").init_start("eu-west-1")


def test_billed_duration_rounds_up_to_whole_ms_at_least_one() -> None:
    assert logs.billed_ms(0.2) == 1
    assert logs.billed_ms(1.0) == 1
    assert logs.billed_ms(1.01) == 2
    assert logs.billed_ms(2999.5) == 3000


def test_log_stream_name_and_timestamp_formats() -> None:
    moment = datetime(2026, 11, 28, 9, 5, 7, 123456, tzinfo=UTC)
    assert re.fullmatch(r"2026/11/28/\[\$LATEST\][0-9a-f]{32}", logs.log_stream_name("$LATEST", moment))
    assert logs.log_stream_name("3", moment).startswith("2026/11/28/[3]")
    assert logs.timestamp(moment) == "2026-11-28T09:05:07.123Z"


def test_exit_text_words_exits_like_lambda() -> None:
    assert exit_text(1) == "exit status 1"
    assert exit_text(0) == "exit status 0"
    assert exit_text(-9) == "signal: killed"
    assert exit_text(-11) == "signal: segmentation fault"
    assert exit_text(-6) == "signal: aborted"

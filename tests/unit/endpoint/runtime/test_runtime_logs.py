"""START/END/REPORT formatting and output decoding."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lambda_harness.endpoint.runtime import logs
from lambda_harness.endpoint.runtime.outcome import exit_text


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
    text = logs.invocation_log(
        version="$LATEST",
        init_lines=["loaded"],
        lines=["hello", "world"],
        platform_lines=["timed out"],
        report=logs.Report("rid", 1.0, 1, 128, 30),
    )
    assert text.splitlines()[:6] == [
        "loaded",
        "START RequestId: rid Version: $LATEST",
        "hello",
        "world",
        "timed out",
        "END RequestId: rid",
    ]
    assert text.splitlines()[6].startswith("REPORT RequestId: rid\t")
    assert text.endswith("\n")


def test_billed_duration_rounds_up_to_whole_ms_at_least_one() -> None:
    assert logs.billed_ms(0.2) == 1
    assert logs.billed_ms(1.0) == 1
    assert logs.billed_ms(1.01) == 2
    assert logs.billed_ms(2999.5) == 3000


def test_decode_output_splits_awslambdaric_carriage_returns() -> None:
    raw = b'[ERROR] ValueError: x\rTraceback (most recent call last):\r  File "a.py"\nplain\r\n'
    assert logs.decode_output(raw) == [
        "[ERROR] ValueError: x",
        "Traceback (most recent call last):",
        '  File "a.py"',
        "plain",
    ]
    assert logs.decode_output(b"") == []
    assert logs.decode_output(b"\xff\n") == ["\ufffd"]


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


def test_output_buffer_keeps_everything_below_its_limits() -> None:
    buf = logs.OutputBuffer(head=8, tail=16)
    buf.append(b"one\ntwo\n")
    buf.append(b"three\n")
    assert buf.take() == ["one", "two", "three"]
    assert buf.take() == []


def test_output_buffer_keeps_head_and_tail_and_says_how_much_it_dropped() -> None:
    buf = logs.OutputBuffer(head=4, tail=6)
    for chunk in (b"abcd", b"0123456789", b"xy\n", b"z" * 100, b"END\n"):
        buf.append(chunk)
    total = 4 + 10 + 3 + 100 + 4
    lines = buf.take()
    assert lines[0] == "abcd"
    assert lines[1] == f"[lambda-harness: {total - 10} bytes of output dropped here]"
    assert lines[2] == "zzEND" and len(lines) == 4
    assert lines[-1].startswith(f"[lambda-harness: {total - 10} bytes of output dropped (the endpoint keeps")
    assert buf.dropped == 0 and buf.take() == []

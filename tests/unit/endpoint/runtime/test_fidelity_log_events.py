"""Fidelity 3 (pure part): a worker's bytes become CloudWatch events the way AWS makes them.

Oracles: test_multi_line_prints (stdout: one event per \\n-terminated line, \\r kept, no
empty events) and awslambdaric's FramedTelemetryLogSink (one event per frame).
"""

from __future__ import annotations

import struct

import pytest

from lambda_harness.endpoint.runtime.output import FrameError, LogEvent, Output, as_text, in_order
from support.recorded import ERROR_EVENT, MULTI_LINE_BODY

TEXT, ERROR = 0xA55A0003, 0xA55A0017


def frame(kind: int, message: str, micros: int) -> bytes:
    data = message.encode()
    return struct.pack(">IIQ", kind, len(data), micros) + data


def test_print_of_the_recorded_body_gives_awss_events() -> None:
    out = Output()
    out.feed_text((MULTI_LINE_BODY + "\n").encode(), now_ms=7)  # print() adds the last \n
    assert [e.message for e in out.take(8)] == ["multi\n", "line\n", "string\n", "another\rline\n"]


def test_lines_split_across_reads_and_an_unterminated_tail() -> None:
    out = Output()
    out.feed_text(b"hel", 1)
    out.feed_text(b"lo\nwor", 2)
    assert out.take(3) == [LogEvent(2, "hello\n")]
    assert out.take(4) == []
    assert out.take(5, flush=True) == [LogEvent(5, "wor\n")]


def test_frames_are_one_event_each_even_split_across_reads() -> None:
    data = frame(TEXT, "[INFO]\t2026-01-01T00:00:00.000Z\trid\ta\nb\n", 1_700_000_000_123_456)
    data += frame(ERROR, ERROR_EVENT, 1_700_000_000_200_000)
    out = Output()
    for i in range(0, len(data), 7):  # a pipe may deliver a frame in pieces
        out.feed_frames(data[i : i + 7])
    assert out.take(0) == [
        LogEvent(1_700_000_000_123, "[INFO]\t2026-01-01T00:00:00.000Z\trid\ta\nb\n"),
        LogEvent(1_700_000_000_200, ERROR_EVENT),
    ]


def test_bytes_that_are_not_frames_are_refused() -> None:
    with pytest.raises(FrameError):
        Output().feed_frames(b"hello world, not a frame")


def test_text_and_order() -> None:
    events = [LogEvent(5, "a\n"), LogEvent(3, ERROR_EVENT), LogEvent(9, "b\n")]
    assert as_text(events) == "a\n" + ERROR_EVENT + "\nb\n"
    assert [e.timestamp_ms for e in in_order(events)] == [5, 5, 9]

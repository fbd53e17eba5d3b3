"""A worker's output costs the endpoint a bounded amount of memory (issue 9, item 6): the first and
the last bytes of each phase are kept, the rest counted, and notes say where and how much."""

from __future__ import annotations

import struct

from lambda_harness.endpoint.runtime import output
from lambda_harness.endpoint.runtime.output import EVENT_OVERHEAD, MAX_EVENT_BYTES, Output


def messages(out: Output, *, flush: bool = True) -> list[str]:
    return [event.message for event in out.take(0, flush=flush)]


def test_everything_below_the_limits_is_kept_as_it_came() -> None:
    out = Output()
    out.feed_text(b"one\ntwo\n", 1)
    out.feed_text(b"three", 2)
    assert messages(out) == ["one\n", "two\n", "three\n"]
    assert messages(out) == []


def test_past_the_limits_the_head_and_the_tail_stay_and_notes_count_the_rest() -> None:
    head, tail = 2 * (4 + EVENT_OVERHEAD), 3 * (4 + EVENT_OVERHEAD)
    out = Output(head=head, tail=tail)
    lines = [f"{i:03d}\n".encode() for i in range(100)]
    for line in lines:
        out.feed_text(line, 0)
    got = messages(out)
    dropped = 4 * (100 - 2 - 3)
    assert got[:2] == ["000\n", "001\n"]
    assert got[2] == f"[lambda-harness: {dropped:,} bytes of output dropped here]\n"
    assert got[3:6] == ["097\n", "098\n", "099\n"]
    assert got[6].startswith(f"[lambda-harness: {dropped:,} bytes of output dropped (the endpoint keeps")
    assert messages(out) == []  # the next phase starts from nothing


def test_a_line_that_never_ends_is_cut_into_events_and_never_kept_whole() -> None:
    out = Output()
    for _ in range(64):
        out.feed_text(b"x" * 65536, 0)  # 4 MiB, no newline
    assert len(out._text) <= MAX_EVENT_BYTES
    got = messages(out)
    assert sum(len(m) for m in got) < output.OUTPUT_HEAD_BYTES + output.OUTPUT_TAIL_BYTES + 1024
    assert "bytes of output dropped" in got[-1]


def test_an_oversized_logging_frame_is_cut_and_never_buffered_whole() -> None:
    out = Output()
    size = 10 * MAX_EVENT_BYTES
    out.feed_frames(struct.pack(">IIQ", 0xA55A0003, size, 5_000_000))
    for _ in range(10):
        out.feed_frames(b"y" * MAX_EVENT_BYTES)
        assert len(out._frames) < MAX_EVENT_BYTES
    out.feed_frames(struct.pack(">IIQ", 0xA55A0003, 2, 6_000_000) + b"ok")
    big, ok = out.take(0)
    cut = size - MAX_EVENT_BYTES
    note = f"\n[lambda-harness: {cut:,} bytes of this log record dropped]"
    assert big.message == "y" * MAX_EVENT_BYTES + note
    assert big.timestamp_ms == 5000
    assert ok.message == "ok" and ok.timestamp_ms == 6000

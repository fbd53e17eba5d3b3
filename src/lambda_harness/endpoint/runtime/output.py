"""What a worker writes, as the CloudWatch Logs events AWS makes of it.

A worker has two outputs, as on AWS:

- its stdout and stderr (one pipe): ``print`` and anything else that writes there. AWS makes
  one event per ``\\n``-terminated line, the ``\\n`` kept, ``\\r`` left inside the line,
  empty lines dropped (recorded: test_multi_line_prints).
- the telemetry pipe (``_LAMBDA_TELEMETRY_LOG_FD``), where awslambdaric writes one frame per
  ``logging`` record and one per error report: ``type (4) | length (4) | timestamp in µs (8) |
  message``, big-endian. Each frame is one event, however many lines it holds, with the
  frame's timestamp (the traceback of a failed invocation is one event, no trailing ``\\n``).

``Output`` reassembles both from whatever chunks the pipes deliver (a frame larger than a
pipe write arrives in pieces) and keeps the events in arrival order.

Bounded, unlike AWS: of one phase's output (an init, an invocation) the endpoint keeps the
first ``OUTPUT_HEAD_BYTES`` and the last ``OUTPUT_TAIL_BYTES`` (``_Kept``); a line or a frame
longer than ``MAX_EVENT_BYTES`` becomes several events (a frame is cut there, never buffered
whole). What is dropped is counted, and notes in the log say where and how much: a handler
printing 1 GB costs the endpoint about 272 KiB, not 1 GB.
"""

from __future__ import annotations

import logging
import os
import select
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Frame header: type, length, timestamp (µs), big-endian.
_HEADER = struct.Struct(">IIQ")
#: awslambdaric's frame types all start 0xA55A (text and JSON, one per log level).
_MAGIC = 0xA55A0000
#: What the endpoint keeps of one phase's output: its first and its last bytes.
OUTPUT_HEAD_BYTES = 16 * 1024
OUTPUT_TAIL_BYTES = 256 * 1024
#: Counted for every kept event on top of its text (the Python objects cost more than the bytes).
EVENT_OVERHEAD = 128
#: A longer line or frame message becomes several events (CloudWatch's limit is 256 KB an event).
MAX_EVENT_BYTES = 64 * 1024


@dataclass(frozen=True)
class LogEvent:
    """One CloudWatch Logs event: milliseconds since the epoch and the message."""

    timestamp_ms: int
    message: str


class FrameError(ValueError):
    """The telemetry pipe carried bytes that are not an awslambdaric frame."""


class _Kept:
    """One phase's events within a budget: the first ones, the last ones, the bytes of the rest."""

    def __init__(self, head: int = OUTPUT_HEAD_BYTES, tail: int = OUTPUT_TAIL_BYTES) -> None:
        self.head_limit, self.tail_limit = head, tail
        self._head: list[LogEvent] = []
        self._head_used = 0
        self._tail: deque[tuple[LogEvent, int]] = deque()
        self._tail_used = 0
        self.dropped = 0  # bytes of output not kept

    def _reset(self) -> None:
        self._head, self._head_used = [], 0
        self._tail, self._tail_used = deque(), 0
        self.dropped = 0

    def add(self, event: LogEvent, size: int) -> None:
        cost = size + EVENT_OVERHEAD
        if not self._tail and not self.dropped and self._head_used + cost <= self.head_limit:
            self._head.append(event)
            self._head_used += cost
            return
        self._tail.append((event, size))
        self._tail_used += cost
        while self._tail_used > self.tail_limit and len(self._tail) > 1:
            _old, old_size = self._tail.popleft()
            self._tail_used -= old_size + EVENT_OVERHEAD
            self.dropped += old_size

    def take(self, now_ms: int) -> list[LogEvent]:
        events = [*self._head, *(event for event, _size in self._tail)]
        if self.dropped:
            cut = LogEvent(now_ms, f"[lambda-harness: {self.dropped:,} bytes of output dropped here]\n")
            end = LogEvent(
                now_ms,
                f"[lambda-harness: {self.dropped:,} bytes of output dropped (the endpoint keeps the first "
                f"{self.head_limit:,} and the last {self.tail_limit:,} bytes of each invocation's output)]\n",
            )
            events = [*self._head, cut, *(event for event, _size in self._tail), end]
        self._reset()
        return events


class Output:
    """Turns a worker's stdout bytes and telemetry frames into events (not thread-safe).

    Memory is bounded whatever the worker writes (see the module docstring).
    """

    def __init__(self, head: int = OUTPUT_HEAD_BYTES, tail: int = OUTPUT_TAIL_BYTES) -> None:
        self._text = bytearray()  # an unterminated line, waiting for its \n
        self._frames = bytearray()  # a frame not yet complete
        self._big: bytearray | None = None  # the kept start of a frame longer than MAX_EVENT_BYTES
        self._big_left = 0  # bytes of that frame still to come
        self._big_ms = 0
        self._big_cut = 0
        self._kept = _Kept(head, tail)

    def _line(self, raw: bytes, now_ms: int) -> None:
        self._kept.add(LogEvent(now_ms, _decode(raw) + "\n"), len(raw) + 1)

    def feed_text(self, chunk: bytes, now_ms: int) -> None:
        """Bytes read from stdout/stderr at ``now_ms``: every complete line is an event."""
        self._text += chunk
        if b"\n" in chunk:
            *lines, rest = bytes(self._text).split(b"\n")
            self._text = bytearray(rest)
            for line in lines:
                if line:
                    self._line(line, now_ms)
        while len(self._text) > MAX_EVENT_BYTES:  # a line that never ends: cut it into events
            self._line(bytes(self._text[:MAX_EVENT_BYTES]), now_ms)
            del self._text[:MAX_EVENT_BYTES]

    def feed_frames(self, chunk: bytes) -> None:
        """Bytes read from the telemetry pipe: every complete frame is an event."""
        self._frames += chunk
        while True:
            if self._big is not None:  # inside an oversized frame: keep its start, count the rest
                part = bytes(self._frames[: self._big_left])
                del self._frames[: len(part)]
                self._big_left -= len(part)
                room = MAX_EVENT_BYTES - len(self._big)
                self._big += part[:room]
                self._big_cut += max(0, len(part) - room)
                if self._big_left:
                    return
                note = f"\n[lambda-harness: {self._big_cut:,} bytes of this log record dropped]"
                self._kept.add(LogEvent(self._big_ms, _decode(bytes(self._big)) + note), len(self._big))
                self._big = None
                continue
            if len(self._frames) < _HEADER.size:
                return
            kind, length, micros = _HEADER.unpack_from(self._frames)
            if kind & 0xFFFF0000 != _MAGIC:
                self._frames.clear()
                raise FrameError(f"not an awslambdaric log frame (type {kind:#010x})")
            if length > MAX_EVENT_BYTES:
                del self._frames[: _HEADER.size]
                self._big, self._big_left, self._big_ms = bytearray(), length, micros // 1000
                self._big_cut = 0
                continue
            end = _HEADER.size + length
            if len(self._frames) < end:
                return
            message = _decode(bytes(self._frames[_HEADER.size : end]))
            del self._frames[:end]
            self._kept.add(LogEvent(micros // 1000, message), length)

    def take(self, now_ms: int, *, flush: bool = False) -> list[LogEvent]:
        """The events so far; ``flush`` ends an unterminated line too (the invocation is over)."""
        if flush and self._text:
            self._line(bytes(self._text), now_ms)
            self._text.clear()
        return self._kept.take(now_ms)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def as_text(events: list[LogEvent] | tuple[LogEvent, ...]) -> str:
    """The log as one text (what ``LogType=Tail`` returns the end of): each event on its line(s)."""
    return "".join(e.message if e.message.endswith("\n") else e.message + "\n" for e in events)


def in_order(events: list[LogEvent]) -> list[LogEvent]:
    """The events with timestamps made non-decreasing (CloudWatch orders a stream by timestamp)."""
    out: list[LogEvent] = []
    last = 0
    for event in events:
        last = max(last, event.timestamp_ms)
        out.append(event if event.timestamp_ms == last else LogEvent(last, event.message))
    return out


class Pump:
    """Reads a worker's two pipes on a thread into an ``Output``; the invoking thread ``take``s.

    The pipes are drained under one lock, stdout before the telemetry pipe, so a line
    printed before a frame was written is read first. ``keep_going`` says whether to go on
    after EOF-less silence (the worker may still run); the pipes are closed when it ends.
    """

    def __init__(
        self,
        text_fd: int,
        frames_fd: int,
        *,
        name: str,
        keep_going: Callable[[], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        for fd in (text_fd, frames_fd):
            os.set_blocking(fd, False)
        self._fds: dict[int, Callable[[bytes], None]] = {}
        self._out = Output()
        self._fds[text_fd] = lambda chunk: self._out.feed_text(chunk, self._now())
        self._fds[frames_fd] = self._frames
        self._clock = clock
        self._keep_going = keep_going
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def take(self, *, flush: bool = False) -> list[LogEvent]:
        """What the worker wrote so far, read to the end of what the pipes hold now."""
        with self._lock:
            for fd in list(self._fds):
                self._drain(fd)
            return self._out.take(self._now(), flush=flush)

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def _frames(self, chunk: bytes) -> None:
        try:
            self._out.feed_frames(chunk)
        except FrameError as exc:  # the runtime never does this; a handler writing to the fd might
            logger.warning("worker telemetry pipe: %s; dropped", exc)

    def _drain(self, fd: int) -> bool:
        """Under the lock: read what ``fd`` holds now; False at EOF (the fd is then closed)."""
        while fd in self._fds:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return True
            except OSError:
                chunk = b""
            if not chunk:
                # Forget the number before closing it: a reused fd must never be read as ours.
                del self._fds[fd]
                os.close(fd)
                return False
            self._fds[fd](chunk)
        return False

    def _loop(self) -> None:
        # poll, not select: select cannot watch descriptors numbered 1024 and up.
        poller = select.poll()
        with self._lock:
            order = list(self._fds)
        for fd in order:
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        try:
            while self._fds and self._keep_going():
                try:
                    ready = {fd for fd, _ in poller.poll(500)}
                except OSError:
                    return
                with self._lock:
                    for fd in order:  # stdout first: see the class docstring
                        if fd in ready and fd in self._fds and not self._drain(fd):
                            poller.unregister(fd)
        finally:
            with self._lock:
                for fd in list(self._fds):
                    del self._fds[fd]
                    os.close(fd)

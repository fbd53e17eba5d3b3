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
"""

from __future__ import annotations

import logging
import os
import select
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Frame header: type, length, timestamp (µs), big-endian.
_HEADER = struct.Struct(">IIQ")
#: awslambdaric's frame types all start 0xA55A (text and JSON, one per log level).
_MAGIC = 0xA55A0000


@dataclass(frozen=True)
class LogEvent:
    """One CloudWatch Logs event: milliseconds since the epoch and the message."""

    timestamp_ms: int
    message: str


class FrameError(ValueError):
    """The telemetry pipe carried bytes that are not an awslambdaric frame."""


class Output:
    """Turns a worker's stdout bytes and telemetry frames into events (not thread-safe)."""

    def __init__(self) -> None:
        self._text = bytearray()  # an unterminated line, waiting for its \n
        self._frames = bytearray()  # a frame not yet complete
        self._events: list[LogEvent] = []

    def feed_text(self, chunk: bytes, now_ms: int) -> None:
        """Bytes read from stdout/stderr at ``now_ms``: every complete line is an event."""
        self._text += chunk
        if b"\n" not in chunk:
            return
        *lines, rest = bytes(self._text).split(b"\n")
        self._text = bytearray(rest)
        self._events += [LogEvent(now_ms, _decode(line) + "\n") for line in lines if line]

    def feed_frames(self, chunk: bytes) -> None:
        """Bytes read from the telemetry pipe: every complete frame is an event."""
        self._frames += chunk
        while len(self._frames) >= _HEADER.size:
            kind, length, micros = _HEADER.unpack_from(self._frames)
            if kind & 0xFFFF0000 != _MAGIC:
                self._frames.clear()
                raise FrameError(f"not an awslambdaric log frame (type {kind:#010x})")
            end = _HEADER.size + length
            if len(self._frames) < end:
                return
            message = _decode(bytes(self._frames[_HEADER.size : end]))
            del self._frames[:end]
            self._events.append(LogEvent(micros // 1000, message))

    def take(self, now_ms: int, *, flush: bool = False) -> list[LogEvent]:
        """The events so far; ``flush`` ends an unterminated line too (the invocation is over)."""
        if flush and self._text:
            self._events.append(LogEvent(now_ms, _decode(bytes(self._text)) + "\n"))
            self._text.clear()
        events, self._events = self._events, []
        return events


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

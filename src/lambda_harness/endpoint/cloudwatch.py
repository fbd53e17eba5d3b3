"""Invocation logs into moto's CloudWatch Logs backend, where AWS would put them.

Group ``/aws/lambda/<name>``; the stream of the execution environment that ran the
invocation (its ``AWS_LAMBDA_LOG_STREAM_NAME``, ``YYYY/MM/DD/[<version>]<32 hex>``, so
two environments write two streams, as on AWS), one event per AWS event (a traceback or a
multi-line ``logging`` record is one event) with its own timestamp.

Bounded, unlike AWS: the endpoint keeps at most ``MAX_KEPT_LOG_BYTES`` of the events it wrote
(messages plus ``EVENT_OVERHEAD`` each), endpoint-wide. Past that the oldest are dropped, stream
by stream in the order they were written, and each stream that lost events starts with one note
saying how many events and bytes of it were dropped. A test reads the recent logs it caused; a
long session of loud handlers no longer grows the endpoint without end (issue 9, item 6).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from moto.logs.models import LogEvent as MotoLogEvent
from moto.logs.models import logs_backends

from lambda_harness.endpoint.runtime.output import LogEvent

logger = logging.getLogger(__name__)

#: PutLogEvents takes at most 10,000 events per call.
_MAX_EVENTS = 10_000
#: What the endpoint keeps of the invocation logs it wrote, all functions together.
MAX_KEPT_LOG_BYTES = 64 * 1024 * 1024
#: Counted for every kept event on top of its message (moto's event object and the str: ~200 bytes,
#: measured with tracemalloc), and for every batch (the sink's own record of it).
EVENT_OVERHEAD = 200
BATCH_OVERHEAD = 256
#: The first words of the note a trimmed stream starts with.
DROPPED_NOTE = "lambda-harness: the endpoint dropped"
#: Where a trimmed moto stream keeps its counts (_Dropped), for its note.
_DROPPED_ATTR = "_lambda_harness_dropped"


@dataclass(slots=True)
class _Written:
    """One batch the sink wrote: moto's stream, its events' ids, what they cost."""

    stream: Any
    first_id: int
    last_id: int
    cost: int


@dataclass
class _Dropped:
    events: int = 0
    bytes: int = 0


class LogWriter(Protocol):
    """Where invocation logs go (``LogSink``; tests pass a list-backed fake)."""

    def write(
        self, *, account_id: str, region: str, function_name: str, stream: str, events: Sequence[LogEvent]
    ) -> None: ...


class LogSink:
    """Writes each invocation's events into moto's logs backend."""

    def __init__(self, max_bytes: int = MAX_KEPT_LOG_BYTES) -> None:
        self._lock = threading.Lock()
        self._ensured: set[tuple[str, str, str, str]] = set()  # (account, region, group, stream)
        self.max_bytes = max_bytes
        self.kept_bytes = 0  # what the batches in _written cost
        self._written: deque[_Written] = deque()  # oldest first
        self._warned = False

    @staticmethod
    def _ensure(backend: Any, group: str, stream: str) -> None:
        backend.ensure_log_group(group)
        backend.ensure_log_stream(group, stream)

    def _put(self, backend: Any, group: str, stream: str, batch: list[dict[str, Any]]) -> None:
        for start in range(0, len(batch), _MAX_EVENTS):
            part = batch[start : start + _MAX_EVENTS]
            backend.put_log_events(group, stream, part)
            self._remember(backend.groups[group].streams[stream], part)
        self._trim()

    def _remember(self, stream: Any, part: list[dict[str, Any]]) -> None:
        events = stream.events
        if len(events) < len(part):  # someone else emptied it meanwhile: nothing to account for
            return
        cost = BATCH_OVERHEAD + sum(len(e["message"]) + EVENT_OVERHEAD for e in part)
        self._written.append(_Written(stream, events[-len(part)].event_id, events[-1].event_id, cost))
        self.kept_bytes += cost

    def _trim(self) -> None:
        """Drop the oldest batches until what is kept fits ``max_bytes`` (the newest always stays)."""
        while self.kept_bytes > self.max_bytes and len(self._written) > 1:
            oldest = self._written.popleft()
            self.kept_bytes -= oldest.cost
            self._drop(oldest)
            if not self._warned:
                self._warned = True
                logger.warning(
                    "invocation logs kept in CloudWatch Logs reached %d bytes: the oldest events are "
                    "dropped from now on (each trimmed stream starts with a note)",
                    self.max_bytes,
                )

    def _drop(self, batch: _Written) -> None:
        stream, events = batch.stream, batch.stream.events
        note = events[0] if events and str(events[0].message).startswith(DROPPED_NOTE) else None
        start = 1 if note is not None else 0
        while start < len(events) and events[start].event_id < batch.first_id:
            start += 1  # events someone else put before these (PutLogEvents from a test) stay
        end = start
        while end < len(events) and events[end].event_id <= batch.last_id:
            end += 1
        if end == start:
            return  # deleted meanwhile (delete-log-stream, or moto reset)
        removed = events[start:end]
        size = sum(len(e.message) for e in removed)
        dropped = getattr(stream, _DROPPED_ATTR, None) or _Dropped()
        dropped.events += len(removed)
        dropped.bytes += size
        setattr(stream, _DROPPED_ATTR, dropped)
        stream.stored_bytes -= size
        text = (
            f"{DROPPED_NOTE} {dropped.events:,} older event(s) ({dropped.bytes:,} bytes) of this "
            f"stream (it keeps at most {self.max_bytes:,} bytes of invocation logs, all functions together)\n"
        )
        del events[start:end]
        if note is None:
            events.insert(0, _note_like(removed[-1], text))
        else:
            note.message = text

    def write(
        self, *, account_id: str, region: str, function_name: str, stream: str, events: Sequence[LogEvent]
    ) -> None:
        """Append ``events`` to ``stream``; never raises: logs are best effort, like AWS's."""
        if not events or not stream:
            return
        group = f"/aws/lambda/{function_name}"
        batch = [{"timestamp": e.timestamp_ms, "message": e.message} for e in events]
        try:
            backend = logs_backends[account_id][region]
            # One lock: moto's log group is not thread-safe and batches must not interleave.
            with self._lock:
                where = (account_id, region, group, stream)
                try:
                    if where not in self._ensured:
                        self._ensure(backend, group, stream)
                        self._ensured.add(where)
                    self._put(backend, group, stream, batch)
                except Exception:  # deleted since (delete-log-group): create it again, once
                    self._ensured.discard(where)
                    self._ensure(backend, group, stream)
                    self._put(backend, group, stream, batch)
                    self._ensured.add(where)
        except Exception:  # a broken log write must never fail the invocation
            logger.exception("could not write the log of %s to log group %s", function_name, group)


def _note_like(event: Any, text: str) -> Any:
    """A moto log event carrying ``text``, at the time of the last event it stands for."""
    return MotoLogEvent(event.ingestion_time, {"timestamp": event.timestamp, "message": text})

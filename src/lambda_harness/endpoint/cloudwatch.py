"""Invocation logs into moto's CloudWatch Logs backend, where AWS would put them.

Group ``/aws/lambda/<name>``; the stream of the execution environment that ran the
invocation (its ``AWS_LAMBDA_LOG_STREAM_NAME``, ``YYYY/MM/DD/[<version>]<32 hex>``, so
two environments write two streams, as on AWS), one event per AWS event (a traceback or a
multi-line ``logging`` record is one event) with its own timestamp.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from moto.logs.models import logs_backends

from lambda_harness.endpoint.runtime.output import LogEvent

logger = logging.getLogger(__name__)

#: PutLogEvents takes at most 10,000 events per call.
_MAX_EVENTS = 10_000


class LogWriter(Protocol):
    """Where invocation logs go (``LogSink``; tests pass a list-backed fake)."""

    def write(
        self, *, account_id: str, region: str, function_name: str, stream: str, events: Sequence[LogEvent]
    ) -> None: ...


class LogSink:
    """Writes each invocation's events into moto's logs backend."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ensured: set[tuple[str, str, str, str]] = set()  # (account, region, group, stream)

    @staticmethod
    def _ensure(backend: Any, group: str, stream: str) -> None:
        backend.ensure_log_group(group)
        backend.ensure_log_stream(group, stream)

    @staticmethod
    def _put(backend: Any, group: str, stream: str, batch: list[dict[str, Any]]) -> None:
        for start in range(0, len(batch), _MAX_EVENTS):
            backend.put_log_events(group, stream, batch[start : start + _MAX_EVENTS])

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

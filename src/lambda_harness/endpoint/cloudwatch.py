"""Invocation logs into moto's CloudWatch Logs backend, where AWS would put them.

Group ``/aws/lambda/<name>``; one stream per function version and endpoint session
(``YYYY/MM/DD/[<version>]<hex>``, AWS's naming), so ``logs.filter_log_events`` shows
the START / ... / END / REPORT lines of every invocation.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from moto.logs.models import logs_backends

logger = logging.getLogger(__name__)

#: PutLogEvents takes at most 10,000 events per call.
_MAX_EVENTS = 10_000


class LogWriter(Protocol):
    """Where invocation logs go (``LogSink``; tests pass a list-backed fake)."""

    def write(self, *, account_id: str, region: str, function_name: str, version: str, log: str) -> None: ...


class LogSink:
    """Writes each invocation's log text into moto's logs backend."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._session = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._ensured: set[tuple[str, str, str, str]] = set()  # (account, region, group, stream)

    @staticmethod
    def _ensure(backend: Any, group: str, stream: str) -> None:
        backend.ensure_log_group(group)
        backend.ensure_log_stream(group, stream)

    def stream_name(self, version: str) -> str:
        """The stream an invocation of ``version`` writes to today."""
        day = datetime.fromtimestamp(self._clock(), tz=UTC).strftime("%Y/%m/%d")
        return f"{day}/[{version}]{self._session}"

    def write(self, *, account_id: str, region: str, function_name: str, version: str, log: str) -> None:
        """Append ``log`` (one event per line); never raises: logs are best effort, like AWS's."""
        lines = [line for line in log.splitlines() if line.strip()][-_MAX_EVENTS:]
        if not lines:
            return
        stamp = int(self._clock() * 1000)
        events = [{"timestamp": stamp, "message": line} for line in lines]
        group = f"/aws/lambda/{function_name}"
        try:
            backend = logs_backends[account_id][region]
            stream = self.stream_name(version)
            # One lock: moto's log group is not thread-safe and blocks of lines must not interleave.
            with self._lock:
                where = (account_id, region, group, stream)
                try:
                    if where not in self._ensured:
                        self._ensure(backend, group, stream)
                        self._ensured.add(where)
                    backend.put_log_events(group, stream, events)
                except Exception:  # deleted since (delete-log-group): create it again, once
                    self._ensured.discard(where)
                    self._ensure(backend, group, stream)
                    backend.put_log_events(group, stream, events)
                    self._ensured.add(where)
        except Exception:  # a broken log write must never fail the invocation
            logger.exception("could not write the log of %s to log group %s", function_name, group)

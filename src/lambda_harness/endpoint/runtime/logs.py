"""The text Lambda writes around each invocation: START, the function's lines, END, REPORT.

Shapes follow what CloudWatch shows for a managed Python runtime, e.g.::

    START RequestId: 6f1c... Version: $LATEST
    hello
    END RequestId: 6f1c...
    REPORT RequestId: 6f1c...\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t...
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime


def billed_ms(duration_ms: float) -> int:
    """Lambda bills whole milliseconds, rounded up, at least 1."""
    return max(1, math.ceil(duration_ms))


#: What the endpoint keeps of one phase's output (an init, an invocation): its first and its last
#: bytes. The rest is counted and dropped, so a handler printing 1 GB costs the endpoint ~272 KiB,
#: not 1 GB; CloudWatch and the 4 KB LogResult tail are cut from what is kept.
OUTPUT_HEAD_BYTES = 16 * 1024
OUTPUT_TAIL_BYTES = 256 * 1024


class OutputBuffer:
    """A worker's captured stdout/stderr for one phase, bounded: head + tail, a count of the rest.

    Not thread-safe on its own (the worker appends and takes under its output lock).
    """

    def __init__(self, head: int = OUTPUT_HEAD_BYTES, tail: int = OUTPUT_TAIL_BYTES) -> None:
        self.head_limit, self.tail_limit = head, tail
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def append(self, chunk: bytes) -> None:
        """Keep ``chunk`` within the limits (the oldest bytes past the head are dropped first)."""
        room = self.head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        if len(chunk) >= self.tail_limit:
            self.dropped += len(self._tail) + len(chunk) - self.tail_limit
            self._tail[:] = chunk[-self.tail_limit :]
            return
        self._tail += chunk
        excess = len(self._tail) - self.tail_limit
        if excess > 0:
            del self._tail[:excess]
            self.dropped += excess

    def take(self) -> list[str]:
        """The kept output as lines (with a note where, and how much, was dropped); then empty."""
        if not self.dropped:
            lines = decode_output(bytes(self._head + self._tail))
        else:
            cut = f"[lambda-harness: {self.dropped:,} bytes of output dropped here]"
            end = (
                f"[lambda-harness: {self.dropped:,} bytes of output dropped (the endpoint keeps the first "
                f"{self.head_limit:,} and the last {self.tail_limit:,} bytes of each invocation's output)]"
            )
            lines = [*decode_output(bytes(self._head)), cut, *decode_output(bytes(self._tail)), end]
        self._head.clear()
        self._tail.clear()
        self.dropped = 0
        return lines


def decode_output(raw: bytes) -> list[str]:
    """Split captured stdout/stderr bytes into lines.

    awslambdaric joins the lines of an error report with ``\\r`` (one CloudWatch event);
    the tail we hand back reads better with one line each.
    """
    if not raw:
        return []
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n").split("\n")


def log_stream_name(version: str, now: datetime | None = None) -> str:
    """``2026/11/28/[$LATEST]<32 hex>`` like AWS_LAMBDA_LOG_STREAM_NAME."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{secrets.token_hex(16)}"


def timestamp(now: datetime | None = None) -> str:
    """ISO-8601 with milliseconds and ``Z``, as Lambda prefixes its own messages."""
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Report:
    """The figures of one REPORT line."""

    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None = None
    status: str | None = None  # "timeout" / "error" for platform-detected failures
    error_type: str | None = None

    def line(self) -> str:
        """The REPORT line, tab-separated with a trailing tab like AWS's."""
        parts = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_ms} ms",
            f"Memory Size: {self.memory_mb} MB",
            f"Max Memory Used: {self.max_memory_mb} MB",
        ]
        if self.init_ms is not None:
            parts.append(f"Init Duration: {self.init_ms:.2f} ms")
        if self.status is not None:
            parts.append(f"Status: {self.status}")
        if self.error_type is not None:
            parts.append(f"Error Type: {self.error_type}")
        return "\t".join(parts) + "\t"


def init_report_line(init_ms: float, error_type: str | None) -> str:
    """The INIT_REPORT line Lambda writes when the init phase fails."""
    return (
        f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: error\tError Type: {error_type}"
    )


def invocation_log(
    *,
    version: str,
    init_lines: Sequence[str],
    lines: Sequence[str],
    platform_lines: Sequence[str],
    report: Report,
) -> str:
    """The full log of one invocation.

    ``init_lines`` (output of a cold start's module import) come before START, as in
    CloudWatch; ``platform_lines`` are Lambda's own messages (timeout, runtime exit).
    """
    rid = report.request_id
    out = [*init_lines, f"START RequestId: {rid} Version: {version}", *lines, *platform_lines]
    out += [f"END RequestId: {rid}", report.line()]
    return "\n".join(out) + "\n"

"""The events Lambda writes around each invocation: INIT_START, START, the function's, END, REPORT.

Shapes follow what CloudWatch shows for a managed Python runtime (one event each, ending
in ``\n``), e.g.::

    INIT_START Runtime Version: python:3.12.v1\tRuntime Version ARN: arn:aws:lambda:...
    START RequestId: 6f1c... Version: $LATEST
    hello
    END RequestId: 6f1c...
    REPORT RequestId: 6f1c...\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t...
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from lambda_harness.endpoint.runtime.output import LogEvent, in_order


def billed_ms(duration_ms: float) -> int:
    """Lambda bills whole milliseconds, rounded up, at least 1."""
    return max(1, math.ceil(duration_ms))


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


@dataclass(frozen=True)
class RuntimeVersion:
    """What INIT_START names: ``python:3.12.v1`` and a runtime version ARN.

    AWS numbers its runtime builds; the harness uses the interpreter's micro version, and
    a digest of the interpreter and awslambdaric versions as the ARN's id: stable, AWS-shaped.
    """

    label: str
    digest: str

    @classmethod
    def of(cls, python: tuple[int, int, int], ric: str) -> RuntimeVersion:
        label = f"python:{python[0]}.{python[1]}.v{python[2]}"
        return cls(label, hashlib.sha256(f"{label}|{ric}".encode()).hexdigest())

    def init_start(self, region: str) -> str:
        """AWS's first event of an execution environment."""
        arn = f"arn:aws:lambda:{region}::runtime:{self.digest}"
        return f"INIT_START Runtime Version: {self.label}\tRuntime Version ARN: {arn}\n"


def invocation_log(
    *,
    version: str,
    init_events: Sequence[LogEvent],
    events: Sequence[LogEvent],
    platform_lines: Sequence[str],
    report: Report,
    started_ms: int,
    ended_ms: int,
) -> list[LogEvent]:
    """The events one invocation adds to its environment's log stream, in CloudWatch's order.

    ``init_events`` (a cold start's INIT_START and module import output) come before START;
    ``platform_lines`` are Lambda's own messages (timeout, runtime exit). Every platform
    message ends in ``\n``, as AWS's do; timestamps never go backwards.
    """
    rid = report.request_id
    out = [
        *init_events,
        LogEvent(started_ms, f"START RequestId: {rid} Version: {version}\n"),
        *events,
        *(LogEvent(ended_ms, f"{line}\n") for line in platform_lines),
        LogEvent(ended_ms, f"END RequestId: {rid}\n"),
        LogEvent(ended_ms, report.line() + "\n"),
    ]
    return in_order(out)

"""Memory and timeout advice per function, from its cases' REPORT figures and its declared limits.

Advice is information, never a failure by itself: ``thresholds`` turns the
``fail-on-memory-headroom`` and ``fail-on-timeout-ratio`` settings into failures
when a team asks for them. Sizes follow Lambda's rules: 128 MB to 10,240 MB;
advice rounds up to a multiple of 64 MB and aims at twice the peak.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240
MEMORY_STEP_MB = 64
#: Advice aims at this much room above the peak (AWS meters the whole sandbox, not just the heap).
HEADROOM = 2.0
#: Below this factor of room the peak is close enough to the limit to say so.
TIGHT_HEADROOM = 1.25
#: A slowest case above this share of the timeout is worth a line.
TIMEOUT_SHARE = 0.5
#: Lambda's init phase limit, and the share of it worth a line.
INIT_LIMIT_MS = 10_000.0
INIT_SHARE = 0.5
TIMEOUT_ERRORS = ("Sandbox.Timedout", "Runtime.Timeout", "Task timed out")


@dataclass(frozen=True)
class Limits:
    """What the function's Terraform declares."""

    memory_mb: int
    timeout_s: float


def recommended_memory(peak_mb: float, headroom: float = HEADROOM) -> int:
    """A memory size leaving ``headroom`` above ``peak_mb``: a multiple of 64 MB within Lambda's range."""
    wanted = math.ceil(peak_mb * headroom / MEMORY_STEP_MB) * MEMORY_STEP_MB
    return max(MIN_MEMORY_MB, min(MAX_MEMORY_MB, wanted))


def seconds(ms: float) -> str:
    """``2700`` -> ``2.7 s``, ``3000`` -> ``3 s``."""
    value = round(ms / 1000.0, 1)
    return f"{value:g} s"


def _cases(n: int) -> str:
    return f"{n} case" if n == 1 else f"{n} cases"


def advise(limits: Limits, cases: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The figures behind the advice, and the advice lines (``{"kind", "level", "text"}``)."""
    cases = list(cases)
    memories = [int(c["max_memory_mb"]) for c in cases if c.get("max_memory_mb") is not None]
    durations = [float(c["duration_ms"]) for c in cases if c.get("duration_ms") is not None]
    inits = [float(c["init_ms"]) for c in cases if c.get("init_ms") is not None]
    peak = max(memories) if memories else None
    slowest = max(durations) if durations else None
    timed_out = any(str(c.get("error_type") or "") in TIMEOUT_ERRORS for c in cases)
    figures: dict[str, Any] = {
        "declared_memory_mb": limits.memory_mb,
        "declared_timeout_s": limits.timeout_s,
        "peak_memory_mb": peak,
        "memory_cases": len(memories),
        "recommended_memory_mb": recommended_memory(peak) if peak is not None else None,
        "memory_headroom": round(limits.memory_mb / peak, 2) if peak else None,
        "slowest_ms": round(slowest, 1) if slowest is not None else None,
        "timeout_ratio": round(slowest / (limits.timeout_s * 1000.0), 3) if slowest is not None else None,
        "max_init_ms": round(max(inits), 1) if inits else None,
    }
    lines = [
        *_memory_advice(limits, peak, len(memories)),
        *_timeout_advice(limits, slowest, timed_out),
        *_init_advice(max(inits) if inits else None),
    ]
    return {**figures, "advice": lines}


def _memory_advice(limits: Limits, peak: int | None, n: int) -> list[dict[str, str]]:
    if peak is None or peak <= 0:
        return []
    declared, rec = limits.memory_mb, recommended_memory(peak)
    head = f"declared {declared} MB, peak {peak} MB over {_cases(n)}"
    if peak >= declared:
        text = f"{head}: it reached the limit; {rec} MB leaves {HEADROOM:g}x headroom"
        return [{"kind": "memory", "level": "warning", "text": text}]
    if declared / peak < TIGHT_HEADROOM:
        share = round(100 * peak / declared)
        text = f"{head} ({share}% of it): {rec} MB leaves {HEADROOM:g}x headroom"
        return [{"kind": "memory", "level": "warning", "text": text}]
    if rec < declared:
        text = f"{head}: {rec} MB leaves {HEADROOM:g}x headroom"
        return [{"kind": "memory", "level": "info", "text": text}]
    return []


def _timeout_advice(limits: Limits, slowest: float | None, timed_out: bool) -> list[dict[str, str]]:
    limit_ms = limits.timeout_s * 1000.0
    if timed_out:
        text = f"a case ran into the {seconds(limit_ms)} timeout"
        return [{"kind": "timeout", "level": "warning", "text": text}]
    if slowest is None or slowest < TIMEOUT_SHARE * limit_ms:
        return []
    share = round(100 * slowest / limit_ms)
    text = f"slowest case {seconds(slowest)} of a {seconds(limit_ms)} timeout ({share}%)"
    return [{"kind": "timeout", "level": "warning", "text": text}]


def _init_advice(init_ms: float | None) -> list[dict[str, str]]:
    if init_ms is None or init_ms < INIT_SHARE * INIT_LIMIT_MS:
        return []
    text = f"init {seconds(init_ms)} of Lambda's {seconds(INIT_LIMIT_MS)} init limit"
    return [{"kind": "init", "level": "warning", "text": text}]


def thresholds(
    functions: Mapping[str, Mapping[str, Any]],
    *,
    memory_headroom: float | None,
    timeout_ratio: float | None,
) -> list[str]:
    """Failures for the ``fail-on-*`` settings (empty when none is set or every function is within)."""
    failures = []
    for name, fn in sorted(functions.items()):
        limits = fn.get("limits") or {}
        where = f" (declared in {fn['tf_file']})" if fn.get("tf_file") else ""
        headroom = limits.get("memory_headroom")
        if memory_headroom is not None and headroom is not None and headroom < memory_headroom:
            failures.append(
                f"{name}: peak memory {limits['peak_memory_mb']} MB leaves {headroom:g}x headroom under its "
                f"memory_size {limits['declared_memory_mb']} MB{where}, less than fail-on-memory-headroom = "
                f"{memory_headroom:g}; raise memory_size to "
                f"{recommended_memory(limits['peak_memory_mb'], memory_headroom)} MB"
            )
        ratio = limits.get("timeout_ratio")
        if timeout_ratio is not None and ratio is not None and ratio > timeout_ratio:
            failures.append(
                f"{name}: slowest case {seconds(limits['slowest_ms'])} is {round(100 * ratio)}% of its "
                f"timeout {seconds(limits['declared_timeout_s'] * 1000)}{where}, over fail-on-timeout-ratio "
                f"= {timeout_ratio:g}; raise the timeout or make the handler faster"
            )
    return failures

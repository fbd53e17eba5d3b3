"""Resident memory of a worker process, read from /proc (Linux only).

AWS meters the whole sandbox through a cgroup; memory cgroups are not available
to tests here, so the worker's own RSS stands in for it (FACTS: <=16 MB overshoot
at a 10 ms sampling period).
"""

from __future__ import annotations

import os
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MB = 1024 * 1024


def rss_bytes(pid: int) -> int | None:
    """Current resident set size of ``pid``, or None once the process is gone."""
    try:
        with Path(f"/proc/{pid}/statm").open("rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mb(pid: int) -> int | None:
    """High-water mark of resident memory (``VmHWM``) in MB, or None if unreadable."""
    try:
        with Path(f"/proc/{pid}/status").open("rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return (int(line.split()[1]) * 1024 + _MB - 1) // _MB
    except (OSError, ValueError, IndexError):
        return None
    return None


def to_mb(nbytes: int) -> int:
    """Bytes to whole MB, rounded up as Lambda's REPORT does."""
    return (nbytes + _MB - 1) // _MB

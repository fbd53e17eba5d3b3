"""Resident memory of a worker process, read from /proc (Linux only).

AWS meters the whole sandbox through a cgroup; memory cgroups are not available
to tests here, so the worker's own RSS stands in for it (FACTS: <=16 MB overshoot
at a 10 ms sampling period).
"""

from __future__ import annotations

import os

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MB = 1024 * 1024


def _read_proc(pid: int, name: str) -> bytes:
    # os.open/os.read, not pathlib: this runs every 10 ms of every invocation (a profile of the
    # warm path showed Path objects taking a fifth of the endpoint's own CPU time).
    fd = os.open(f"/proc/{pid}/{name}", os.O_RDONLY)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def rss_bytes(pid: int) -> int | None:
    """Current resident set size of ``pid``, or None once the process is gone."""
    try:
        return int(_read_proc(pid, "statm").split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mb(pid: int) -> int | None:
    """High-water mark of resident memory (``VmHWM``) in MB, or None if unreadable."""
    try:
        status = _read_proc(pid, "status")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(b"VmHWM:"):
            try:
                return (int(line.split()[1]) * 1024 + _MB - 1) // _MB
            except (ValueError, IndexError):
                return None
    return None


def to_mb(nbytes: int) -> int:
    """Bytes to whole MB, rounded up as Lambda's REPORT does."""
    return (nbytes + _MB - 1) // _MB

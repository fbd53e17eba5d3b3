"""The detached endpoint's record, so that ``down`` signals only the process ``up --detach`` started.

``.harness/endpoint.pid`` holds the pid (for people and scripts); ``.harness/endpoint.json``
holds ``{"pid", "boot_id", "start_ticks", "url", "log"}``. A pid alone names whichever
process has that number now (a recycled pid may be anyone's, even the shell's or a test
run's); with the boot it lives in and its start time (``/proc/<pid>/stat`` field 22, clock
ticks after boot) it names exactly one process. A record without them, or naming a
process that no longer matches, is stale: it is never signalled, only removed.
Linux only (``/proc``), like the runtime's memory watch.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.fsutil import atomic_file, write_json_atomic
from lambda_harness.paths import HarnessPaths

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class ProcessStamp:
    """One process, told apart from every other that had or will have its pid."""

    pid: int
    boot_id: str
    start_ticks: int


def parse_start_ticks(stat: str) -> tuple[str, int]:
    """(state, start time) from the text of ``/proc/<pid>/stat``.

    The command name (field 2) is in parentheses and may itself hold spaces and ``)``:
    fields are counted from the last ``)``, where field 3 (state) begins.
    """
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[22 - 3])


def stamp_of(pid: int) -> ProcessStamp | None:
    """The stamp of the running process ``pid``; None when there is none (a zombie has ended)."""
    try:
        state, ticks = parse_start_ticks(Path(f"/proc/{pid}/stat").read_text(encoding="utf-8"))
        boot_id = _BOOT_ID.read_text(encoding="utf-8").strip()
    except (OSError, ValueError, IndexError):
        return None
    return None if state == "Z" else ProcessStamp(pid, boot_id, ticks)


def is_running(stamp: ProcessStamp) -> bool:
    """Whether the very process ``stamp`` names still runs."""
    return stamp_of(stamp.pid) == stamp


def send_signal(stamp: ProcessStamp, sig: signal.Signals) -> bool:
    """Send ``sig`` to the process ``stamp`` names and to no other; False when it has gone.

    A pidfd pins the process before its stamp is checked, so a pid recycled between
    the check and the signal cannot receive it (plain ``kill`` on kernels without pidfd).
    """
    try:
        fd: int | None = os.pidfd_open(stamp.pid)
    except ProcessLookupError:
        return False
    except (AttributeError, OSError):
        fd = None
    try:
        if not is_running(stamp):
            return False
        if fd is None:
            os.kill(stamp.pid, sig)
        else:
            signal.pidfd_send_signal(fd, sig)
        return True
    except ProcessLookupError:
        return False
    finally:
        if fd is not None:
            os.close(fd)


@dataclass(frozen=True)
class Record:
    """What the files say: the process (None when it cannot be verified), url and log."""

    stamp: ProcessStamp | None
    info: dict[str, Any]

    @property
    def pid(self) -> int | None:
        return self.stamp.pid if self.stamp is not None else None


def write(paths: HarnessPaths, stamp: ProcessStamp | None, pid: int, **info: str) -> None:
    """Record the detached endpoint (pid file first; readers never see a half-written file)."""
    with atomic_file(paths.endpoint_pid) as tmp:
        tmp.write_text(f"{pid}\n", encoding="utf-8")
    record: dict[str, Any] = {"pid": pid}
    if stamp is not None:
        record.update(boot_id=stamp.boot_id, start_ticks=stamp.start_ticks)
    write_json_atomic(paths.endpoint_info, {**record, **info})


def read(paths: HarnessPaths) -> Record | None:
    """The recorded endpoint; None without a pid file, a stamp of None when it cannot be verified."""
    try:
        text = paths.endpoint_pid.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return Record(None, {})
    try:
        pid = int(text.strip())
    except ValueError:
        return Record(None, {})
    info: Any = {}
    with contextlib.suppress(OSError, ValueError):
        info = json.loads(paths.endpoint_info.read_text(encoding="utf-8"))
    if not isinstance(info, dict):
        info = {}
    boot_id, ticks = info.get("boot_id"), info.get("start_ticks")
    if info.get("pid") != pid or not isinstance(boot_id, str) or not isinstance(ticks, int):
        return Record(None, info)  # written by an older harness, or by hand: nothing to verify
    return Record(ProcessStamp(pid, boot_id, ticks), info)


def forget(paths: HarnessPaths) -> None:
    """Remove the record."""
    paths.endpoint_pid.unlink(missing_ok=True)
    paths.endpoint_info.unlink(missing_ok=True)

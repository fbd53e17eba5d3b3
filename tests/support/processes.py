"""Processes seen through /proc: the descendants of a process, and whether one still runs.

Descendants are found from every process's parent pid (``/proc/<pid>/stat``), not from
``/proc/<pid>/task/<tid>/children``: that file lists only the children a given *thread* forked,
and when that thread ends (an HTTP handler thread that started a worker, say) its children move
to another thread of the process, so a walk over the threads can miss them while it reads.
"""

from __future__ import annotations

from pathlib import Path


def _parent(stat: str) -> int:
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def descendants(pid: int) -> set[int]:
    """Every live or zombie descendant of ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = _parent((entry / "stat").read_text())
        except (OSError, ValueError):
            continue  # ended while we read
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        kids = {child for child, ppid in parents.items() if ppid == parent} - found
        found |= kids
        todo.extend(kids)
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status

"""Report background processes whose last heartbeat is too old.

Trigger: EventBridge schedule ``rate(5 minutes)``. Every worker process writes
``{"process": <name>, "last_seen": <ISO time>, "host": ...}`` to the heartbeat table; this function
scans the table and returns the stale ones (an alarm on the ``stale`` log line pages on-call).
Environment: ``HEARTBEAT_TABLE`` (required), ``STALE_AFTER_SECONDS`` (default 600).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from worker_lib import config, ddb, timeutil
from worker_lib.log import get_logger

log = get_logger("process_checker")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point: check every heartbeat against the event's time."""
    table = ddb.table(config.require("HEARTBEAT_TABLE"))
    stale_after = config.integer("STALE_AFTER_SECONDS", 600)
    result = check(ddb.scan_all(table), now=timeutil.event_time(event), stale_after_s=stale_after)
    if result["stale"]:
        log.warning("stale processes", extra={"stale": [s["process"] for s in result["stale"]]})
    else:
        log.info("all processes alive", extra={"checked": result["checked"]})
    return result


def check(heartbeats: Iterable[Mapping[str, Any]], *, now: datetime, stale_after_s: int) -> dict[str, Any]:
    """Return ``{"checked": n, "stale": [...]}`` for the given heartbeat items.

    An item whose ``last_seen`` cannot be read counts as stale: a process that writes garbage
    is as good as dead for monitoring purposes.
    """
    checked = 0
    stale: list[dict[str, Any]] = []
    for beat in heartbeats:
        checked += 1
        name = str(beat.get("process", "<unnamed>"))
        raw = beat.get("last_seen")
        try:
            seen = timeutil.parse_iso(str(raw))
        except ValueError:
            stale.append({"process": name, "last_seen": raw, "reason": "unreadable last_seen"})
            continue
        age = int((now - seen).total_seconds())
        if age > stale_after_s:
            stale.append({"process": name, "last_seen": timeutil.iso(seen), "age_seconds": age})
    stale.sort(key=lambda entry: entry["process"])
    return {
        "checked": checked,
        "stale": stale,
        "checked_at": timeutil.iso(now),
        "stale_after_seconds": stale_after_s,
    }

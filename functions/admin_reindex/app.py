"""Re-write a table's items so new indexes and projections pick them up; run by hand.

Input: ``{"table": "incidents", "dry_run": true, "limit": 1000}``. ``table`` is a logical name
from ``REINDEX_TABLES`` (``incidents=<table name>,alerts=<table name>``). A dry run (the default)
only counts what it would touch. Bad input raises ``InvalidInput`` (Lambda reports it as the
``errorType``), so an operator sees at once that the request, not the table, was wrong.
Environment: ``REINDEX_TABLES`` (required).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from worker_lib import config, ddb, timeutil
from worker_lib.errors import InvalidInput
from worker_lib.log import get_logger

log = get_logger("admin_reindex")

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
KNOWN_KEYS = frozenset({"table", "dry_run", "limit"})


@dataclass(frozen=True)
class ReindexRequest:
    """A validated request: the logical and physical table, and what to do."""

    table: str
    table_name: str
    dry_run: bool
    limit: int


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point: validate the request, then count or re-write items."""
    request = parse_request(event, tables=parse_tables(config.require("REINDEX_TABLES")))
    return reindex(request, table=ddb.table(request.table_name), now=timeutil.utcnow())


def parse_tables(setting: str) -> dict[str, str]:
    """Parse ``name=table,name=table`` into a dict."""
    tables = {}
    for pair in setting.split(","):
        name, sep, physical = pair.partition("=")
        if sep and name.strip() and physical.strip():
            tables[name.strip()] = physical.strip()
    return tables


def parse_request(event: object, *, tables: Mapping[str, str]) -> ReindexRequest:
    """Validate the input; every problem raises ``InvalidInput`` with the fix in the message."""
    if not isinstance(event, dict):
        raise InvalidInput('input must be a JSON object like {"table": "incidents", "dry_run": true}')
    unknown = sorted(set(event) - KNOWN_KEYS)
    if unknown:
        raise InvalidInput(f"unknown key(s): {', '.join(unknown)}; allowed: {', '.join(sorted(KNOWN_KEYS))}")
    table = event.get("table")
    if table not in tables:
        raise InvalidInput(f"'table' must be one of {', '.join(sorted(tables))}, got {table!r}")
    dry_run = event.get("dry_run", True)
    if not isinstance(dry_run, bool):
        raise InvalidInput(f"'dry_run' must be true or false, got {dry_run!r}")
    limit = event.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"'limit' must be an integer 1..{MAX_LIMIT}, got {limit!r}")
    return ReindexRequest(table=str(table), table_name=tables[str(table)], dry_run=dry_run, limit=limit)


def reindex(request: ReindexRequest, *, table: Any, now: datetime) -> dict[str, Any]:
    """Count (dry run) or re-write up to ``limit`` items, stamping ``reindexed_at``."""
    result: dict[str, Any] = {"table": request.table, "dry_run": request.dry_run, "limit": request.limit}
    if request.dry_run:
        result["would_reindex"] = ddb.count(table, limit=request.limit)
        log.info("reindex dry run", extra=result)
        return result
    stamp = timeutil.iso(now)
    written = 0
    with table.batch_writer() as batch:
        for item in ddb.scan_all(table, limit=request.limit):
            batch.put_item(Item={**item, "reindexed_at": stamp})
            written += 1
    result["reindexed"] = written
    log.info("reindexed", extra=result)
    return result

"""Export one day of API request logs from DynamoDB to S3 as gzipped JSON lines.

Trigger: EventBridge schedule ``cron(15 1 * * ? *)`` (01:15 UTC daily), exporting the previous
day. A manual run may name the day: ``{"day": "2026-11-27"}``.
Table layout: partition key ``day`` (``YYYY-MM-DD``), sort key ``request_key``.
Output: ``s3://$EXPORT_BUCKET/api-logs/YYYY/MM/DD/export-YYYY-MM-DD.jsonl.gz``.
Environment: ``API_LOG_TABLE``, ``EXPORT_BUCKET`` (required), ``EXPORT_PREFIX`` (default ``api-logs``).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from worker_lib import aws, config, ddb, jsonutil, timeutil
from worker_lib.errors import InvalidInput
from worker_lib.log import get_logger

log = get_logger("export_api_log")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point: export the day before the event's time (or the requested day)."""
    return export(
        event,
        table=ddb.table(config.require("API_LOG_TABLE")),
        s3=aws.client("s3"),
        bucket=config.require("EXPORT_BUCKET"),
        prefix=config.optional("EXPORT_PREFIX", "api-logs"),
    )


def export(event: Mapping[str, Any], *, table: Any, s3: Any, bucket: str, prefix: str) -> dict[str, Any]:
    """Query the day's items, write them to S3, and return where they went and how many."""
    day = export_day(event)
    items = ddb.query_all(
        table,
        KeyConditionExpression="#day = :day",
        ExpressionAttributeNames={"#day": "day"},
        ExpressionAttributeValues={":day": day.isoformat()},
    )
    body, count = render(items)
    key = export_key(prefix, day)
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/gzip")
    log.info("exported api log", extra={"bucket": bucket, "key": key, "count": count})
    return {"bucket": bucket, "key": key, "count": count, "day": day.isoformat()}


def export_day(event: Mapping[str, Any]) -> date:
    """The day to export: ``event["day"]`` when given, else the day before the event's time."""
    requested = event.get("day")
    if requested is None:
        return (timeutil.event_time(dict(event)) - timedelta(days=1)).date()
    if not isinstance(requested, str):
        raise InvalidInput(f"'day' must be a YYYY-MM-DD string, got {requested!r}")
    try:
        return date.fromisoformat(requested)
    except ValueError:
        raise InvalidInput(f"'day' must be a YYYY-MM-DD string, got {requested!r}") from None


def export_key(prefix: str, day: date) -> str:
    """``<prefix>/YYYY/MM/DD/export-YYYY-MM-DD.jsonl.gz`` (date-partitioned for Athena)."""
    return f"{prefix.strip('/')}/{day:%Y/%m/%d}/export-{day.isoformat()}.jsonl.gz"


def render(items: Iterable[Mapping[str, Any]]) -> tuple[bytes, int]:
    """Gzip the items as JSON lines; ``mtime=0`` makes equal input give byte-equal output."""
    lines = [jsonutil.dumps_bytes(item) + b"\n" for item in items]
    return gzip.compress(b"".join(lines), mtime=0), len(lines)

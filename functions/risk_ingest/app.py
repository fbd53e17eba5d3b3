"""Ingest batches of risk incidents that partners upload to the incoming bucket.

Trigger: S3 ``ObjectCreated:*`` notifications for keys under ``incoming/``. A batch is a JSON
file (a list of incidents, or ``{"incidents": [...]}``) or a CSV file with a header row. Each
incident is validated on its own: bad rows are reported in the result and logged, the good
rows are written to the incidents table. A missing or unreadable file is reported, not raised,
so S3's retries do not hammer a file that will never parse.
Environment: ``INCIDENTS_TABLE`` (required).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from worker_lib import aws, config, ddb, jsonutil, regions, timeutil
from worker_lib.errors import InvalidInput
from worker_lib.log import get_logger

log = get_logger("risk_ingest")

REQUIRED_FIELDS = ("incident_id", "region", "category", "severity", "occurred_at")
CATEGORIES = frozenset(
    {"flood", "storm", "wildfire", "earthquake", "civil_unrest", "cyber", "supply_chain", "health"}
)
MAX_SEVERITY = 5


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point: ingest every object named in the S3 event."""
    table = ddb.table(config.require("INCIDENTS_TABLE"))
    return ingest(event, s3=aws.client("s3"), table=table, now=timeutil.utcnow())


def ingest(event: Mapping[str, Any], *, s3: Any, table: Any, now: datetime) -> dict[str, Any]:
    """Read, validate and store each file; return counts and every problem found."""
    ingested = 0
    files: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for bucket, key in s3_objects(event):
        try:
            kind = batch_kind(key)  # before the download: an unsupported file is not fetched
            rows = parse_batch(kind, fetch(s3, bucket, key))
        except InvalidInput as exc:
            errors.append({"key": key, "error": str(exc)})
            log.warning("file rejected", extra={"bucket": bucket, "key": key, "error": str(exc)})
            continue
        valid = []
        for number, row in enumerate(rows, start=1):
            try:
                valid.append(validate(row, source=f"s3://{bucket}/{key}", now=now))
            except InvalidInput as exc:
                errors.append({"key": key, "row": number, "error": str(exc)})
        store(table, valid)
        ingested += len(valid)
        files.append({"key": key, "rows": len(rows), "ingested": len(valid)})
        log.info("file ingested", extra={"key": key, "rows": len(rows), "ingested": len(valid)})
    return {"ingested": ingested, "files": files, "errors": errors}


def s3_objects(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (bucket, key) pairs of an S3 notification; keys arrive URL-encoded."""
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        raise InvalidInput("not an S3 notification: no 'Records' list")
    objects = []
    for record in records:
        try:
            bucket = record["s3"]["bucket"]["name"]
            key = unquote_plus(record["s3"]["object"]["key"])
        except (KeyError, TypeError):
            raise InvalidInput("S3 record without s3.bucket.name / s3.object.key") from None
        objects.append((bucket, key))
    return objects


def fetch(s3: Any, bucket: str, key: str) -> bytes:
    """Download the object; a missing object or bucket becomes ``InvalidInput``."""
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket) as exc:
        raise InvalidInput(f"object not found: s3://{bucket}/{key} ({aws.error_code(exc)})") from None


def batch_kind(key: str) -> str:
    """``"json"`` or ``"csv"`` from the key's extension; anything else is ``InvalidInput``."""
    extension = key.rpartition(".")[2].lower()
    if extension not in ("json", "csv"):
        raise InvalidInput("unsupported file type (expected .json or .csv)")
    return extension


def parse_batch(kind: str, body: bytes) -> list[Any]:
    """Decode a JSON or CSV batch into a list of raw rows (validated later, one by one)."""
    if kind == "json":
        try:
            data = jsonutil.loads(body)
        except ValueError as exc:
            raise InvalidInput(f"not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = data.get("incidents")
        if not isinstance(data, list):
            raise InvalidInput("JSON batch must be a list or an object with an 'incidents' list")
        return data
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("CSV batch is not UTF-8") from None
    return list(csv.DictReader(io.StringIO(text)))


def validate(row: object, *, source: str, now: datetime) -> dict[str, Any]:
    """Check one incident and return the item to store; ``InvalidInput`` says what is wrong."""
    if not isinstance(row, dict):
        raise InvalidInput("incident must be an object")
    missing = [name for name in REQUIRED_FIELDS if row.get(name) in (None, "")]
    if missing:
        raise InvalidInput(f"missing field(s): {', '.join(missing)}")
    region = regions.normalise(row["region"])
    if not region:
        raise InvalidInput(f"region must be a region code, got {row['region']!r}")
    category = str(row["category"]).strip().lower()
    if category not in CATEGORIES:
        raise InvalidInput(f"unknown category {row['category']!r}")
    try:
        severity = int(row["severity"])
    except (TypeError, ValueError):
        raise InvalidInput(f"severity must be an integer, got {row['severity']!r}") from None
    if not 1 <= severity <= MAX_SEVERITY:
        raise InvalidInput(f"severity must be 1..{MAX_SEVERITY}, got {severity}")
    try:
        occurred = timeutil.parse_iso(str(row["occurred_at"]))
    except ValueError:
        raise InvalidInput(f"occurred_at is not an ISO 8601 time: {row['occurred_at']!r}") from None
    return {
        "incident_id": str(row["incident_id"]).strip(),
        "region": region,
        "category": category,
        "severity": severity,
        "occurred_at": timeutil.iso(occurred),
        "summary": str(row.get("summary") or "")[:500],
        "source": source,
        "ingested_at": timeutil.iso(now),
    }


def store(table: Any, items: Iterable[Mapping[str, Any]]) -> None:
    """Write items in batches of 25; a repeated incident_id in one file keeps the last row."""
    with table.batch_writer(overwrite_by_pkeys=["incident_id"]) as batch:
        for item in items:
            batch.put_item(Item=ddb.to_item(dict(item)))

"""Enrich raw alerts from the alerts queue and store them for the alerts API.

Trigger: SQS event source mapping (batch size 10, ``ReportBatchItemFailures``). Each message
body is an alert ``{"alert_id", "region", "category", "severity", "title", ...}``. The function
adds ``severity_score`` (0..100), ``region_name`` and ``received_at`` and writes the alert to the
alerts table (partition key ``region``, sort key ``alert_id``). A message that cannot be
processed is reported in ``batchItemFailures``: only it returns to the queue (and, after the
queue's maxReceiveCount, goes to the dead-letter queue); the rest of the batch is done.
Environment: ``ALERTS_TABLE`` (required).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from worker_lib import config, ddb, jsonutil, regions, timeutil
from worker_lib.errors import InvalidInput
from worker_lib.log import get_logger

log = get_logger("alert_enricher")

SEVERITY_BASE = {"low": 20, "medium": 45, "high": 70, "critical": 90}
# Categories whose impact tends to spread beyond the reported region weigh more.
CATEGORY_WEIGHT = {"cyber": 1.1, "supply_chain": 1.1, "wildfire": 1.05, "flood": 1.05}
MAX_SCORE = 100


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point: enrich and store each record, report the ones that failed."""
    table = ddb.table(config.require("ALERTS_TABLE"))
    return enrich_batch(event, table=table, now=timeutil.utcnow())


def enrich_batch(event: Mapping[str, Any], *, table: Any, now: datetime) -> dict[str, Any]:
    """Process every SQS record; return the partial-batch response SQS understands."""
    records = event.get("Records")
    if not isinstance(records, list):
        raise InvalidInput("not an SQS event: no 'Records' list")
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            alert = parse_alert(record.get("body"))
            table.put_item(Item=ddb.to_item(enrich(alert, received_at=received_time(record, now))))
        except InvalidInput as exc:
            log.warning("malformed alert", extra={"message_id": message_id, "error": str(exc)})
            failures.append({"itemIdentifier": message_id})
        except Exception:  # one failing write must not redeliver the whole batch
            log.exception("alert not stored", extra={"message_id": message_id})
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def parse_alert(body: object) -> dict[str, Any]:
    """Decode and check a message body; ``InvalidInput`` names what is wrong."""
    if not isinstance(body, str):
        raise InvalidInput("message body must be a string")
    try:
        alert = jsonutil.loads(body)
    except ValueError:
        raise InvalidInput("message body is not JSON") from None
    if not isinstance(alert, dict):
        raise InvalidInput("alert must be a JSON object")
    for name in ("alert_id", "region", "category", "severity", "title"):
        if not isinstance(alert.get(name), str) or not alert[name].strip():
            raise InvalidInput(f"alert field {name!r} must be a non-empty string")
    if alert["severity"].lower() not in SEVERITY_BASE:
        raise InvalidInput(f"unknown severity {alert['severity']!r}")
    return alert


def severity_score(severity: str, category: str) -> int:
    """Score 0..100 from the reported severity, weighted by how far the category spreads."""
    base = SEVERITY_BASE[severity.lower()]
    return min(MAX_SCORE, round(base * CATEGORY_WEIGHT.get(category.lower(), 1.0)))


def received_time(record: Mapping[str, Any], now: datetime) -> str:
    """When SQS received the message (``SentTimestamp``), else now."""
    sent = (record.get("attributes") or {}).get("SentTimestamp")
    try:
        return timeutil.iso(timeutil.from_epoch_ms(sent)) if sent else timeutil.iso(now)
    except (TypeError, ValueError, OverflowError):
        return timeutil.iso(now)


def enrich(alert: Mapping[str, Any], *, received_at: str) -> dict[str, Any]:
    """Return the alert with normalised keys and the added metadata."""
    region = regions.normalise(alert["region"])
    return {
        **alert,
        "region": region,
        "region_name": regions.name_of(region),
        "category": alert["category"].strip().lower(),
        "severity": alert["severity"].lower(),
        "severity_score": severity_score(alert["severity"], alert["category"]),
        "received_at": received_at,
    }

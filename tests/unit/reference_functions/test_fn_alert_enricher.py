"""alert_enricher: enrichment and the partial batch failure response."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from alert_enricher.app import enrich_batch, severity_score
from worker_lib.errors import InvalidInput

from support.fn_fakes import FakeTable

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ALERT = {
    "alert_id": "a1",
    "region": "de-by",
    "category": "Flood",
    "severity": "High",
    "title": "Danube rising",
}


def record(message_id: str, body: object, sent: str | None = "1795856400000") -> dict[str, Any]:
    attributes = {"SentTimestamp": sent} if sent else {}
    return {"messageId": message_id, "body": body, "attributes": attributes}


def test_valid_alerts_are_enriched_and_stored() -> None:
    table = FakeTable("region", "alert_id")
    result = enrich_batch({"Records": [record("m1", json.dumps(ALERT))]}, table=table, now=NOW)
    assert result == {"batchItemFailures": []}
    stored = table.items[("DE-BY", "a1")]
    assert stored["region_name"] == "Bavaria"
    assert stored["severity"] == "high"
    assert stored["severity_score"] == 74  # 70 * 1.05 for floods
    assert stored["received_at"] == "2026-11-28T09:00:00Z"
    assert stored["title"] == "Danube rising"


def test_malformed_messages_are_reported_and_the_rest_stored() -> None:
    table = FakeTable("region", "alert_id")
    records = [
        record("m1", json.dumps(ALERT)),
        record("m2", "{not json"),
        record("m3", json.dumps({**ALERT, "alert_id": "a3", "severity": "apocalyptic"})),
        record("m4", json.dumps({**ALERT, "alert_id": "a4", "title": ""})),
        record("m5", json.dumps(["a", "list"])),
        record("m6", json.dumps({**ALERT, "alert_id": "a6", "region": "XX"}), sent=None),
    ]
    result = enrich_batch({"Records": records}, table=table, now=NOW)
    assert result == {"batchItemFailures": [{"itemIdentifier": m} for m in ("m2", "m3", "m4", "m5")]}
    assert sorted(table.items) == [("DE-BY", "a1"), ("XX", "a6")]
    assert table.items[("XX", "a6")]["region_name"] == "Unknown"
    assert table.items[("XX", "a6")]["received_at"] == "2026-11-28T12:00:00Z"


def test_a_failing_write_fails_only_its_message() -> None:
    table = FakeTable("region", "alert_id")
    table.fail_puts = True
    result = enrich_batch({"Records": [record("m1", json.dumps(ALERT))]}, table=table, now=NOW)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_scores_are_clamped_and_floats_never_reach_dynamodb() -> None:
    assert severity_score("critical", "cyber") == 99
    assert severity_score("low", "health") == 20
    table = FakeTable("region", "alert_id")
    alert = {**ALERT, "confidence": 0.87}
    enrich_batch({"Records": [record("m1", json.dumps(alert))]}, table=table, now=NOW)
    assert table.items[("DE-BY", "a1")]["confidence"] == Decimal("0.87")


def test_event_without_records_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        enrich_batch({"detail": {}}, table=FakeTable("region", "alert_id"), now=NOW)

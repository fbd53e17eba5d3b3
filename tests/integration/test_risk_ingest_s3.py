"""risk_ingest: an upload under incoming/ lands valid incidents in the incidents table."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any


def test_upload_to_incoming_prefix_stores_valid_incidents(
    function: Callable[..., Any], aws_client: Callable[..., Any], wait_for: Callable[..., Any]
) -> None:
    fn = function("risk_ingest")
    s3_trigger = fn.trigger("s3")
    bucket = s3_trigger.source
    prefix = s3_trigger.detail.get("filter_prefix", "")
    table = aws_client("dynamodb")
    table_name = fn.env["INCIDENTS_TABLE"]
    run = uuid.uuid4().hex[:8]
    good = {
        "incident_id": f"it-{run}-1",
        "region": "de-by",
        "category": "Flood",
        "severity": 4,
        "occurred_at": "2026-11-27T08:00:00Z",
        "summary": "river level rising",
    }
    bad = {
        "incident_id": f"it-{run}-2",
        "region": "DE",
        "category": "alien_invasion",
        "severity": 2,
        "occurred_at": "2026-11-27T08:00:00Z",
    }
    aws_client("s3").put_object(
        Bucket=bucket, Key=f"{prefix}batch-{run}.json", Body=json.dumps({"incidents": [good, bad]}).encode()
    )

    def stored() -> dict[str, Any] | None:
        item = table.get_item(TableName=table_name, Key={"incident_id": {"S": good["incident_id"]}})
        return item.get("Item")

    item = wait_for(stored, what=f"{good['incident_id']} in {table_name}")
    assert item["region"] == {"S": "DE-BY"}
    assert item["category"] == {"S": "flood"}
    assert item["severity"] == {"N": "4"}
    assert item["source"] == {"S": f"s3://{bucket}/{prefix}batch-{run}.json"}
    # The invalid row of the same file was rejected, not stored.
    assert "Item" not in table.get_item(TableName=table_name, Key={"incident_id": {"S": bad["incident_id"]}})


def test_upload_outside_the_prefix_is_ignored(
    function: Callable[..., Any],
    aws_client: Callable[..., Any],
    wait_for: Callable[..., Any],
    log_lines: Callable[[str], list[str]],
) -> None:
    fn = function("risk_ingest")
    s3_trigger = fn.trigger("s3")
    prefix = s3_trigger.detail.get("filter_prefix", "")
    if not prefix:
        return  # every key triggers: nothing to check
    run = uuid.uuid4().hex[:8]
    outside = f"elsewhere/batch-{run}.json"
    incident = {
        "incident_id": f"it-{run}-x",
        "region": "FR",
        "category": "storm",
        "severity": 1,
        "occurred_at": "2026-11-27T08:00:00Z",
    }
    s3 = aws_client("s3")
    s3.put_object(Bucket=s3_trigger.source, Key=outside, Body=json.dumps([incident]).encode())
    # Then a file that does match: notifications are delivered in order, so once the marker has
    # been ingested, the first file would have been too if the filter let it through.
    marker = f"{prefix}marker-{run}.json"
    s3.put_object(Bucket=s3_trigger.source, Key=marker, Body=b"[]")
    wait_for(
        lambda: any(marker in line for line in log_lines("risk_ingest")), what=f"{marker} to be ingested"
    )
    assert not any(outside in line for line in log_lines("risk_ingest"))
    key = {"incident_id": {"S": incident["incident_id"]}}
    assert "Item" not in aws_client("dynamodb").get_item(TableName=fn.env["INCIDENTS_TABLE"], Key=key)

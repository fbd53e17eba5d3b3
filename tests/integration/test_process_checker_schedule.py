"""process_checker: its schedule, fired on demand, reports a stale heartbeat."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any


def fire_rule(endpoint: str, rule: str) -> list[str]:
    """POST /_harness/trigger/<rule>: the function names the rule delivered to."""
    request = urllib.request.Request(f"{endpoint}/_harness/trigger/{rule}", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as resp:
        return list(json.loads(resp.read())["delivered"])


def test_scheduled_run_reports_stale_process(
    function: Callable[..., Any],
    aws_client: Callable[..., Any],
    harness_endpoint: str,
    wait_for: Callable[..., Any],
    log_lines: Callable[[str], list[str]],
) -> None:
    fn = function("process_checker")
    process = f"it-worker-{uuid.uuid4().hex[:8]}"
    aws_client("dynamodb").put_item(
        TableName=fn.env["HEARTBEAT_TABLE"],
        Item={"process": {"S": process}, "last_seen": {"S": "2020-01-01T00:00:00Z"}, "host": {"S": "it"}},
    )
    rule = fn.trigger("schedule").source
    assert fire_rule(harness_endpoint, rule) == ["process_checker"]

    def stale_reported() -> list[dict[str, Any]]:
        found = []
        for line in log_lines("process_checker"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and process in record.get("stale", []):
                found.append(record)
        return found

    (record, *_) = wait_for(stale_reported, what=f"process_checker reporting {process} as stale")
    assert record["level"] == "WARNING"
    assert record["message"] == "stale processes"

"""alert_enricher: a queued alert is enriched into the alerts table; a malformed one is reported."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any


def queue_url(sqs: Any, arn: str) -> str:
    account, name = arn.split(":")[4], arn.split(":")[5]
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


def test_message_becomes_an_enriched_alert(
    function: Callable[..., Any], aws_client: Callable[..., Any], wait_for: Callable[..., Any]
) -> None:
    fn = function("alert_enricher")
    sqs = aws_client("sqs")
    ddb = aws_client("dynamodb")
    alert_id = f"it-{uuid.uuid4().hex[:8]}"
    alert = {
        "alert_id": alert_id,
        "region": " us-ca ",
        "category": "Wildfire",
        "severity": "HIGH",
        "title": "Fire near the data centre",
    }
    sqs.send_message(QueueUrl=queue_url(sqs, fn.trigger("sqs").source), MessageBody=json.dumps(alert))

    def stored() -> dict[str, Any] | None:
        key = {"region": {"S": "US-CA"}, "alert_id": {"S": alert_id}}
        return ddb.get_item(TableName=fn.env["ALERTS_TABLE"], Key=key).get("Item")

    item = wait_for(stored, what=f"alert {alert_id} in {fn.env['ALERTS_TABLE']}")
    assert item["region_name"] == {"S": "California"}
    assert item["severity"] == {"S": "high"}
    assert item["severity_score"] == {"N": "74"}  # 70 for high, x1.05 for wildfire
    assert item["category"] == {"S": "wildfire"}
    assert "received_at" in item


def test_malformed_message_is_reported_and_not_deleted(
    function: Callable[..., Any],
    aws_client: Callable[..., Any],
    wait_for: Callable[..., Any],
    log_lines: Callable[[str], list[str]],
) -> None:
    fn = function("alert_enricher")
    sqs = aws_client("sqs")
    url = queue_url(sqs, fn.trigger("sqs").source)
    sent = sqs.send_message(QueueUrl=url, MessageBody="this is not json")
    message_id = sent["MessageId"]

    def reported() -> list[dict[str, Any]]:
        found = []
        for line in log_lines("alert_enricher"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("message_id") == message_id:
                found.append(record)
        return found

    (record, *_) = wait_for(reported, what=f"alert_enricher's log line about message {message_id}")
    assert record["message"] == "malformed alert"
    assert record["error"] == "message body is not JSON"
    # Reported in batchItemFailures, so the poller kept it: in flight until the visibility timeout,
    # then back in the queue (and in the DLQ after maxReceiveCount receives).
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    kept = int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
    assert kept >= 1
    redrive = json.loads(attrs.get("RedrivePolicy", "{}"))
    if redrive:
        dlq = queue_url(sqs, redrive["deadLetterTargetArn"])
        dlq_attrs = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
        # One receive so far: far below maxReceiveCount, so nothing has been dead-lettered yet.
        assert int(dlq_attrs["Attributes"]["ApproximateNumberOfMessages"]) == 0

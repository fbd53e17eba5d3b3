"""Event records built for functions: S3, SQS, SNS and EventBridge shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from lambda_harness.endpoint.runtime.model import InvokeResult
from lambda_harness.endpoint.sources.eventbridge import aws_event, scheduled_event, target_input
from lambda_harness.endpoint.sources.s3 import enrich, next_sequencer
from lambda_harness.endpoint.sources.sns import sns_record
from lambda_harness.endpoint.sources.sqs import failed_item_ids, passes_filters, sqs_record


@dataclass
class FakeBucket:
    name: str = "b"
    account_id: str = "123456789012"
    is_versioned: bool = False


@dataclass
class FakeKey:
    name: str = "dir/a b.txt"
    version_id: str = "null"


def moto_s3_event() -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventTime": "2026-11-28T12:00:00.000",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
                    "object": {"key": "dir%2Fa+b.txt", "size": 3, "eTag": "x"},
                },
            }
        ]
    }


def test_s3_enrich_fills_what_moto_leaves_out() -> None:
    record = enrich(moto_s3_event(), FakeBucket(), FakeKey())["Records"][0]
    assert record["eventTime"] == "2026-11-28T12:00:00.000Z"
    assert record["userIdentity"]["principalId"].startswith("AWS:AIDA")
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert len(record["responseElements"]["x-amz-request-id"]) == 16
    assert record["s3"]["bucket"]["ownerIdentity"]["principalId"]
    assert record["s3"]["object"]["key"] == "dir/a+b.txt"
    assert "versionId" not in record["s3"]["object"]


def test_s3_enrich_adds_version_for_versioned_buckets() -> None:
    record = enrich(moto_s3_event(), FakeBucket(is_versioned=True), FakeKey(version_id="v1"))["Records"][0]
    assert record["s3"]["object"]["versionId"] == "v1"


def test_sequencers_increase() -> None:
    values = [next_sequencer() for _ in range(100)]
    assert values == sorted(values) and len(set(values)) == 100
    assert {len(v) for v in values} == {18}


@dataclass
class FakeMessage:
    id: str = "m-1"
    body: str = "hello"
    receipt_handle: str = "rh-1"
    approximate_receive_count: int = 2
    sent_timestamp: int = 1_700_000_000_000
    sender_id: str = "AIDAEXAMPLE"
    approximate_first_receive_timestamp: int = 1_700_000_000_500
    body_md5: str = "5d41402abc4b2a76b9719d911017c592"
    message_attributes: dict[str, Any] = field(
        default_factory=lambda: {
            "s": {"DataType": "String", "StringValue": "v"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
        }
    )
    system_attributes: dict[str, Any] = field(default_factory=dict)
    group_id: str | None = "g"
    deduplication_id: str | None = "d"
    sequence_number: str | None = "1"


@dataclass
class FakeQueue:
    queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q"
    region: str = "us-east-1"
    fifo_queue: bool = False


def test_sqs_record_shape() -> None:
    record = sqs_record(FakeMessage(), FakeQueue())
    assert record["messageId"] == "m-1" and record["receiptHandle"] == "rh-1" and record["body"] == "hello"
    assert record["attributes"] == {
        "ApproximateReceiveCount": "2",
        "SentTimestamp": "1700000000000",
        "SenderId": "AIDAEXAMPLE",
        "ApproximateFirstReceiveTimestamp": "1700000000500",
    }
    assert record["messageAttributes"]["s"] == {
        "stringValue": "v",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["b"]["binaryValue"] == "AQI="
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == FakeQueue.queue_arn
    assert record["awsRegion"] == "us-east-1" and record["md5OfBody"] == FakeMessage.body_md5


def test_sqs_record_fifo_attributes() -> None:
    record = sqs_record(FakeMessage(), FakeQueue(fifo_queue=True))
    assert record["attributes"]["MessageGroupId"] == "g"
    assert record["attributes"]["MessageDeduplicationId"] == "d"
    assert record["attributes"]["SequenceNumber"] == "1"


def result(payload: bytes) -> InvokeResult:
    return InvokeResult(
        request_id="r",
        payload=payload,
        function_error=None,
        error_type=None,
        log="",
        duration_ms=1.0,
        billed_ms=1,
        init_ms=None,
        max_memory_mb=10,
        cold=False,
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"null", set()),
        (b"{}", set()),
        (b'{"batchItemFailures": []}', set()),
        (b'{"batchItemFailures": null}', set()),
        (b'{"batchItemFailures": [{"itemIdentifier": "a"}]}', {"a"}),
        (b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', None),
        (b'{"batchItemFailures": [{"id": "a"}]}', None),
        (b'"ok"', None),
        (b"not json", None),
    ],
)
def test_batch_item_failures(payload: bytes, expected: set[str] | None) -> None:
    assert failed_item_ids(result(payload), {"a", "b"}) == expected


@dataclass
class FakeTopic:
    arn: str = "arn:aws:sns:eu-west-1:123456789012:t"


@dataclass
class FakeSubscription:
    topic: FakeTopic = field(default_factory=FakeTopic)
    arn: str = "arn:aws:sns:eu-west-1:123456789012:t:sub-1"


def test_sns_record_uses_real_ids() -> None:
    record = sns_record(FakeSubscription(), "msg", "mid-1", None, {"k": {"Type": "String", "Value": "v"}})
    assert record["EventSubscriptionArn"] == "arn:aws:sns:eu-west-1:123456789012:t:sub-1"
    sns = record["Sns"]
    assert sns["MessageId"] == "mid-1" and sns["TopicArn"] == FakeTopic.arn and sns["Subject"] is None
    assert sns["Timestamp"].endswith("Z") and sns["Timestamp"][:4] >= "2025"
    assert sns["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert "eu-west-1" in sns["UnsubscribeUrl"]


EVENT = {
    "version": "0",
    "id": "e1",
    "detail-type": "Created",
    "source": "shop",
    "account": "123456789012",
    "time": 1_764_331_200.0,
    "region": "us-east-1",
    "resources": [],
    "detail": {"order": {"id": 7}},
    "ingestion-time": 1.0,
}


def test_aws_event_normalises_time() -> None:
    event = aws_event(EVENT)
    assert event["time"] == "2025-11-28T12:00:00Z"
    assert "ingestion-time" not in event
    assert EVENT["time"] == 1_764_331_200.0  # the original is left alone


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"Input": '{"fixed": 1}'}, {"fixed": 1}),
        ({"InputPath": "$.detail.order"}, {"id": 7}),
        (
            {
                "InputTransformer": {
                    "InputPathsMap": {"o": "$.detail.order.id"},
                    "InputTemplate": '{"order": <o>}',
                }
            },
            {"order": 7},
        ),
        ({}, aws_event(EVENT)),
    ],
)
def test_target_input(target: dict[str, Any], expected: Any) -> None:
    assert json.loads(target_input({"Arn": "x", **target}, aws_event(EVENT))) == expected


@dataclass
class FakeRule:
    account_id: str = "123456789012"
    region_name: str = "us-east-1"
    arn: str = "arn:aws:events:us-east-1:123456789012:rule/nightly"


def test_scheduled_event_shape() -> None:
    event = scheduled_event(FakeRule(), 1_764_331_200.0)
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [FakeRule.arn] and event["detail"] == {}
    assert event["time"] == "2025-11-28T12:00:00Z" and event["version"] == "0" and event["id"]


@dataclass
class FakeMapping:
    filter_criteria: dict[str, Any] | None = None


@pytest.mark.parametrize(
    ("body", "patterns", "passes"),
    [
        ('{"kind": "order"}', None, True),
        ('{"kind": "order"}', ['{"body": {"kind": ["order"]}}'], True),
        ('{"kind": "refund"}', ['{"body": {"kind": ["order"]}}'], False),
        ('{"kind": "refund"}', ['{"body": {"kind": ["order"]}}', '{"body": {"kind": ["refund"]}}'], True),
        ("plain text", ['{"body": ["plain text"]}'], True),
        ("plain text", ['{"body": {"kind": ["order"]}}'], False),
    ],
)
def test_sqs_filter_criteria(body: str, patterns: list[str] | None, passes: bool) -> None:
    criteria = {"Filters": [{"Pattern": p} for p in patterns]} if patterns else None
    record = sqs_record(FakeMessage(body=body), FakeQueue())
    assert passes_filters(FakeMapping(criteria), record) is passes

"""Fidelity 7: event source mapping filters on DynamoDB streams and Kinesis, as AWS applies them.

AWS (invocation-eventfiltering): every enabled mapping of a source gets each record its
filters keep, and only those; a second function on the same stream is a second mapping.
Real endpoint (moto in-process), real workers. Stream deliveries happen inside the write,
so once ``put_item``/``put_record`` has answered every invocation is recorded. (SQS's
filtered messages being deleted is held by test_endpoint_sources.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from support.endpoint import read_records


def mapped(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    source_arn: str,
    name: str,
    pattern: Any,
) -> Path:
    """A recording function mapped to ``source_arn`` with one filter; where its records go."""
    out = out_dir / name
    out.mkdir()
    fn = deploy("sink", env={"OUT_DIR": str(out)})
    extra: dict[str, Any] = {"StartingPosition": "LATEST"}
    if pattern is not None:
        extra["FilterCriteria"] = {"Filters": [{"Pattern": json.dumps(pattern)}]}
    aws("lambda").create_event_source_mapping(
        FunctionName=fn, EventSourceArn=source_arn, BatchSize=1, **extra
    )
    return out


def test_one_dynamodb_write_invokes_only_the_mappings_whose_filters_keep_it(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path
) -> None:
    ddb = aws("dynamodb")
    table = f"t-{uuid.uuid4().hex[:8]}"
    created = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    stream = created["TableDescription"]["LatestStreamArn"]
    outs = {
        name: mapped(aws, deploy, out_dir, stream, name, pattern)
        for name, pattern in {
            "inserts": {"eventName": ["INSERT"]},
            "modifies": {"eventName": ["MODIFY"]},
            "removes": {"eventName": ["REMOVE"]},
            "invoices": {"dynamodb": {"NewImage": {"kind": {"S": ["invoice"]}}}},
        }.items()
    }
    ddb.put_item(TableName=table, Item={"id": {"S": "1"}, "kind": {"S": "order"}})
    got = {
        name: [r["event"]["Records"][0]["eventName"] for r in read_records(out)] for name, out in outs.items()
    }
    assert got == {"inserts": ["INSERT"], "modifies": [], "removes": [], "invoices": []}
    ddb.put_item(TableName=table, Item={"id": {"S": "1"}, "kind": {"S": "invoice"}})
    got = {name: len(read_records(out)) for name, out in outs.items()}
    assert got == {"inserts": 1, "modifies": 1, "removes": 0, "invoices": 1}


def test_every_mapping_of_a_kinesis_stream_gets_the_records_it_keeps(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path
) -> None:
    kinesis = aws("kinesis")
    name = f"s-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    arn = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
    everything = mapped(aws, deploy, out_dir, arn, "everything", None)
    hot = mapped(aws, deploy, out_dir, arn, "hot", {"data": {"temperature": [{"numeric": [">", 30]}]}})
    kinesis.put_record(StreamName=name, PartitionKey="p", Data=json.dumps({"temperature": 31}).encode())
    kinesis.put_record(StreamName=name, PartitionKey="p", Data=json.dumps({"temperature": 12}).encode())
    kinesis.put_record(StreamName=name, PartitionKey="p", Data=b"not json")
    assert len(read_records(everything)) == 3  # a second function on the stream is not lost
    [record] = [r["event"]["Records"][0] for r in read_records(hot)]
    assert record["eventSource"] == "aws:kinesis" and record["eventSourceARN"] == arn


def test_a_pattern_aws_cannot_use_is_refused_at_create(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with pytest.raises(ClientError) as info:
        aws("lambda").create_event_source_mapping(
            FunctionName=deploy("sink"),
            EventSourceArn=arn,
            FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": "not-an-array"})}]},
        )
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"

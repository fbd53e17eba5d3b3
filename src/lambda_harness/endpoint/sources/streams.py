"""DynamoDB-stream and Kinesis event source mappings: every mapping, filtered, as AWS delivers.

moto keeps one mapping per function and table (DynamoDB) or one per stream (Kinesis: a
second function on the same stream silently replaced the first), ignores ``Enabled``,
deleted mappings and ``FilterCriteria``, and so invoked every function of a table for
every write. ``hooks`` detaches the mappings from moto's tables and streams and calls
``StreamDelivery`` for each new record instead: every enabled mapping of that source
gets the record, unless its filters (``filtering``) drop it, in which case the function
is not invoked and the record is passed over, as AWS advances past filtered records.

Still as moto does it (documented in the fidelity page): one record per invocation,
delivered synchronously inside the write that made it, no retries or bisecting on a
function error (AWS retries a stream batch until it succeeds or expires).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from moto.awslambda.models import lambda_backends

from lambda_harness.endpoint.invoke import InvokeService
from lambda_harness.endpoint.lookup import resolve
from lambda_harness.endpoint.sources import filtering

logger = logging.getLogger(__name__)

Candidate = Callable[[dict[str, Any]], dict[str, Any]]


def mappings_of(source_arn: str) -> Iterator[Any]:
    """Every enabled event source mapping whose source is ``source_arn`` (any account, region)."""
    for _account, _region, backend in list(lambda_backends.iter_backends()):
        for esm in list(backend._event_source_mappings.values()):  # type: ignore[attr-defined]
            if esm.enabled and str(esm.event_source_arn) == source_arn:
                yield esm


def dynamodb_record(item: Any, source_arn: str, region: str) -> dict[str, Any]:
    """A DynamoDB stream record as Lambda receives it (moto's ``StreamRecord`` with epoch times)."""
    record = item.to_json()
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": record["eventSource"],
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": source_arn,
    }


def kinesis_record(
    stream: Any, shard_id: str, sequence_number: str, partition_key: str, data: str
) -> dict[str, Any]:
    """A Kinesis record of moto's ``stream`` as Lambda receives it (``data`` stays base64, as put)."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": data,
            "approximateArrivalTimestamp": round(time.time(), 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "awsRegion": stream.region,
        "eventSourceARN": stream.arn,
    }


class StreamDelivery:
    """Hands each new stream record to the mappings whose filters keep it."""

    def __init__(self, service: InvokeService) -> None:
        self.service = service

    def deliver(self, source_arn: str, record: dict[str, Any], candidate: Candidate) -> list[str]:
        """Invoke every enabled mapping of ``source_arn`` that keeps ``record``; the functions invoked."""
        invoked = []
        for esm in mappings_of(source_arn):
            try:
                if not filtering.passes(filtering.load(esm.filter_criteria), candidate(record)):
                    continue
                target = resolve(esm.account_id, esm.region, str(esm.function_arn))
                event = dict(record)
                if "invokeIdentityArn" not in event and event.get("eventSource") == "aws:kinesis":
                    event["invokeIdentityArn"] = str(target.fn.role)
                self.service.run(target, json.dumps({"Records": [event]}).encode())
                invoked.append(target.fn.function_name)
            except Exception:  # a write never fails because a mapping's function did
                logger.exception("stream mapping %s -> %s: delivery failed", source_arn, esm.function_arn)
        return invoked

"""AWS's Lambda event shapes, as pure builders: no I/O, no moto, no clock unless given.

The embedded endpoint's event sources (``endpoint/sources/``) build what they
deliver with these, and ``lambda-harness generate-event`` and ``new`` build example
events with the same functions, so a generated event has exactly the shape a
deployed trigger delivers. Shapes follow AWS's documentation and the samples AWS
publishes (``sam local generate-event``).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EXAMPLE_ACCOUNT = "123456789012"
EXAMPLE_REGION = "us-east-1"


def iso_seconds(moment: datetime) -> str:
    """``2026-01-01T12:00:00Z`` (EventBridge's ``time``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(moment: datetime) -> str:
    """``2026-01-01T12:00:00.123Z`` (S3's ``eventTime``, SNS's ``Timestamp``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def principal_id(account_id: str, prefix: str = "AIDA", length: int = 17) -> str:
    """A stable, AWS-looking principal id for an account."""
    digest = hashlib.sha256(account_id.encode()).hexdigest().upper()
    return prefix + digest[:length]


def md5_hex(text: str) -> str:
    """The MD5 of a message body, as SQS reports it."""
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - SQS's own checksum, not security


# --- S3 -------------------------------------------------------------------------------------------


def s3_event(
    *,
    event_name: str,
    bucket: str,
    key: str,
    region: str,
    account: str,
    moment: datetime,
    size: int | None = None,
    etag: str | None = None,
    sequencer: str = "0A1B2C3D4E5F678901",
    configuration_id: str = "lambda-harness",
) -> dict[str, Any]:
    """An S3 notification (``ObjectCreated:Put``, ``ObjectRemoved:Delete``, ...); ``key`` URL-encoded."""
    obj: dict[str, Any] = {"key": key, "sequencer": sequencer}
    if event_name.startswith("ObjectCreated"):
        obj.update({"size": size or 0, "eTag": etag or hashlib.md5(key.encode()).hexdigest()})  # noqa: S324
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso_millis(moment),
        "eventName": event_name,
        "userIdentity": {"principalId": f"AWS:{principal_id(account)}"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": principal_id(account, "A", 13)},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }
    return {"Records": [record]}


# --- SQS ------------------------------------------------------------------------------------------


def sqs_record(
    *,
    message_id: str,
    receipt_handle: str,
    body: str,
    attributes: dict[str, str],
    message_attributes: dict[str, Any],
    queue_arn: str,
    region: str,
    md5_of_body: str | None = None,
) -> dict[str, Any]:
    """One ``Records`` entry as Lambda receives it from an SQS event source mapping."""
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": md5_of_body or md5_hex(body),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_attributes(sender: str, sent_ms: int, receive_count: int = 1) -> dict[str, str]:
    """The ``attributes`` of a standard-queue record."""
    return {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": str(sent_ms),
        "SenderId": sender,
        "ApproximateFirstReceiveTimestamp": str(sent_ms),
    }


# --- SNS ------------------------------------------------------------------------------------------


def sns_record(
    *,
    subscription_arn: str,
    topic_arn: str,
    message_id: str,
    message: str,
    subject: str | None,
    attributes: dict[str, Any],
    timestamp: str,
) -> dict[str, Any]:
    """One ``Records`` entry as Lambda receives it from an SNS subscription."""
    region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else EXAMPLE_REGION
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": timestamp,
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-lambda-harness.pem",
            "UnsubscribeUrl": (
                f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
            ),
            "MessageAttributes": attributes,
        },
    }


# --- EventBridge ----------------------------------------------------------------------------------


def eventbridge_event(
    *,
    event_id: str,
    source: str,
    detail_type: str,
    detail: Any,
    account: str,
    region: str,
    moment: datetime,
    resources: list[str],
) -> dict[str, Any]:
    """An EventBridge event as a rule target receives it."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": iso_seconds(moment),
        "region": region,
        "resources": resources,
        "detail": detail,
    }


def scheduled_event(
    *, event_id: str, account: str, region: str, rule_arn: str, moment: datetime
) -> dict[str, Any]:
    """AWS's payload for a schedule rule firing."""
    return eventbridge_event(
        event_id=event_id,
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        account=account,
        region=region,
        moment=moment,
        resources=[rule_arn],
    )


def rule_arn(account: str, region: str, rule: str, bus: str = "default") -> str:
    """``arn:aws:events:<region>:<account>:rule/[<bus>/]<rule>``."""
    path = rule if bus in ("", "default") else f"{bus}/{rule}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"


# --- streams ----------------------------------------------------------------------------------------


def dynamodb_record(
    *,
    event_name: str,
    keys: dict[str, Any],
    new_image: dict[str, Any] | None,
    old_image: dict[str, Any] | None,
    stream_arn: str,
    region: str,
    sequence: str,
    moment: datetime,
    view_type: str = "NEW_AND_OLD_IMAGES",
) -> dict[str, Any]:
    """One DynamoDB Streams record (attribute values in DynamoDB JSON, ``{"S": ...}``)."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": int(moment.timestamp()),
        "Keys": keys,
        "SequenceNumber": sequence,
        "SizeBytes": len(json.dumps([keys, new_image, old_image])),
        "StreamViewType": view_type,
    }
    if new_image is not None:
        change["NewImage"] = new_image
    if old_image is not None:
        change["OldImage"] = old_image
    return {
        "eventID": hashlib.md5(f"{stream_arn}{sequence}".encode()).hexdigest(),  # noqa: S324
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


def kinesis_record(
    *,
    data: bytes,
    partition_key: str,
    stream_arn: str,
    region: str,
    account: str,
    sequence: str,
    moment: datetime,
) -> dict[str, Any]:
    """One Kinesis record; ``data`` base64-encoded as Lambda delivers it."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": round(moment.timestamp(), 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{account}:role/lambda-role",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


# --- HTTP: API Gateway and function URLs ------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an HTTP request an API event is built from (headers lower-cased)."""

    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


def query_parameters(raw_query: str) -> dict[str, str]:
    """``a=1&a=2&b=`` -> ``{"a": "1,2", "b": ""}`` (AWS joins repeated keys with commas)."""
    from urllib.parse import parse_qsl

    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return {key: ",".join(values) for key, values in params.items()}


def http_v2_event(
    request: HttpRequest,
    *,
    api_id: str,
    account: str,
    domain_name: str,
    request_id: str,
    moment: datetime,
    route_key: str = "$default",
    stage: str = "$default",
    text_body: bool = True,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Payload format 2.0: an HTTP API (API Gateway v2) request, and a function URL's."""
    headers = dict(request.headers)
    cookie = headers.pop("cookie", None)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": account,
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": stage,
            "time": moment.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(moment.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    # AWS leaves out cookies, queryStringParameters and body when the request has none.
    if cookie:
        event["cookies"] = [part.strip() for part in cookie.split(";") if part.strip()]
    if request.raw_query:
        event["queryStringParameters"] = query_parameters(request.raw_query)
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        if text_body:
            event["body"] = request.body.decode("utf-8", "replace")
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def rest_v1_event(
    request: HttpRequest,
    *,
    api_id: str,
    account: str,
    resource: str,
    stage: str,
    request_id: str,
    moment: datetime,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Payload format 1.0: a REST API (API Gateway v1) Lambda proxy integration request."""
    params = query_parameters(request.raw_query) if request.raw_query else None
    multi = {k: v.split(",") for k, v in params.items()} if params else None
    body = request.body.decode("utf-8", "replace") if request.body else None
    return {
        "resource": resource,
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": dict(request.headers),
        "multiValueHeaders": {k: [v] for k, v in request.headers.items()},
        "queryStringParameters": params,
        "multiValueQueryStringParameters": multi,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id[:16],
            "requestTime": moment.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{request.raw_path}",
            "accountId": account,
            "protocol": request.protocol,
            "stage": stage,
            "domainPrefix": api_id,
            "requestTimeEpoch": int(moment.timestamp() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": request.source_ip, "userAgent": request.headers.get("user-agent", "")},
            "domainName": f"{api_id}.execute-api.{EXAMPLE_REGION}.amazonaws.com",
            "apiId": api_id,
        },
        "body": body,
        "isBase64Encoded": False,
    }


# --- CloudWatch Logs subscriptions ------------------------------------------------------------------


def cloudwatch_logs_data(
    *, owner: str, log_group: str, log_stream: str, filters: list[str], messages: list[str], moment: datetime
) -> dict[str, Any]:
    """The decoded payload of a subscription delivery (before gzip and base64)."""
    stamp = int(moment.timestamp() * 1000)
    return {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": filters,
        "logEvents": [
            {"id": f"{stamp:020d}{i:036d}", "timestamp": stamp, "message": message}
            for i, message in enumerate(messages)
        ],
    }


def cloudwatch_logs_event(data: dict[str, Any]) -> dict[str, Any]:
    """``{"awslogs": {"data": base64(gzip(json))}}`` as Lambda receives it."""
    packed = gzip.compress(json.dumps(data).encode("utf-8"), mtime=0)
    return {"awslogs": {"data": base64.b64encode(packed).decode("ascii")}}

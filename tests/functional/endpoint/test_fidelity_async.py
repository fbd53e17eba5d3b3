"""Fidelity 8: asynchronous invocations as configured, through the endpoint (real workers).

AWS (invocation-async-*, recorded in test_lambda_destinations): an event invoke config per
function and qualifier; destinations SQS, SNS, Lambda and EventBridge receive AWS's
invocation record; the function's DeadLetterConfig gets the event with RequestID, ErrorCode
and ErrorMessage; S3 and SNS deliveries are asynchronous invocations too. The endpoint
fixture retries after 0.3 s instead of 1 and 2 minutes (the schedule itself is held by the
unit tests with a fake clock).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_harness import net
from lambda_harness.endpoint.server import EmbeddedEndpoint

Aws = Callable[[str], Any]


def queue(aws: Aws) -> tuple[str, str]:
    """A fresh queue: (url, arn)."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def messages(aws: Aws, url: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait (bounded) for ``count`` messages on a queue and return them."""
    got: list[dict[str, Any]] = []

    def arrived() -> bool:
        answer = aws("sqs").receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        got.extend(answer.get("Messages", []))
        return len(got) >= count

    net.wait_until(arrived, 30, what=f"{count} message(s) on {url}", interval=0.05)
    return got


def test_destinations_on_sqs_get_awss_records(aws: Aws, deploy: Callable[..., str]) -> None:
    ok_url, ok_arn = queue(aws)
    ko_url, ko_arn = queue(aws)
    destination = {"OnSuccess": {"Destination": ok_arn}, "OnFailure": {"Destination": ko_arn}}
    lam = aws("lambda")
    echo, fail = deploy("echo"), deploy("fail")
    for name in (echo, fail):
        lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig=destination)
    ok_id = lam.invoke(FunctionName=echo, InvocationType="Event", Payload=b'{"n": 1}')["ResponseMetadata"][
        "RequestId"
    ]
    ko_id = lam.invoke(FunctionName=fail, InvocationType="Event", Payload=b'{"n": 2}')["ResponseMetadata"][
        "RequestId"
    ]
    [success] = [json.loads(m["Body"]) for m in messages(aws, ok_url)]
    [failure] = [json.loads(m["Body"]) for m in messages(aws, ko_url)]
    arn = lam.get_function(FunctionName=echo)["Configuration"]["FunctionArn"]
    assert success["requestContext"] == {
        "requestId": ok_id,
        "functionArn": f"{arn}:$LATEST",
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert success["requestPayload"] == {"n": 1} and success["responsePayload"]["event"] == {"n": 1}
    assert success["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert failure["requestContext"]["requestId"] == ko_id
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3  # AWS's default: two retries
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["responsePayload"]["errorMessage"] == "boom"


def test_sns_lambda_and_eventbridge_destinations(
    aws: Aws, deploy: Callable[..., str], out_dir: Path, wait_records: Callable[..., list[dict[str, Any]]]
) -> None:
    lam, sns, events = aws("lambda"), aws("sns"), aws("events")
    sns_url, sns_queue_arn = queue(aws)
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sns_queue_arn)["SubscriptionArn"]
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true"
    )
    bus_url, bus_queue_arn = queue(aws)
    bus = events.create_event_bus(Name=f"b-{uuid.uuid4().hex[:8]}")["EventBusArn"]
    rule = f"r-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["lambda"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": bus_queue_arn}])
    sink = deploy("sink", env={"OUT_DIR": str(out_dir)})
    sink_arn = lam.get_function(FunctionName=sink)["Configuration"]["FunctionArn"]
    cases = {"sns": topic, "bus": bus, "lambda": sink_arn}
    for dest in cases.values():
        name = deploy("echo")
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": dest}}
        )
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"to": dest}))
    [via_sns] = [json.loads(m["Body"]) for m in messages(aws, sns_url)]
    assert via_sns["requestContext"]["condition"] == "Success" and via_sns["requestPayload"] == {"to": topic}
    [via_bus] = [json.loads(m["Body"]) for m in messages(aws, bus_url)]
    assert via_bus["source"] == "lambda"
    assert via_bus["detail-type"] == "Lambda Function Invocation Result - Success"
    assert via_bus["resources"][0] == bus and via_bus["resources"][1].endswith(":$LATEST")
    assert via_bus["detail"]["requestPayload"] == {"to": bus}
    [via_lambda] = wait_records(1)
    assert via_lambda["event"]["requestPayload"] == {"to": sink_arn}


def test_dead_letter_queue_gets_the_event_and_awss_attributes(
    aws: Aws, deploy: Callable[..., str], endpoint: EmbeddedEndpoint
) -> None:
    dlq_url, dlq_arn = queue(aws)
    lam = aws("lambda")
    name = deploy("fail", DeadLetterConfig={"TargetArn": dlq_arn})
    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    request_id = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"raise_error": 1}')[
        "ResponseMetadata"
    ]["RequestId"]
    # An S3 notification is an asynchronous invocation too: its failure reaches the DLQ as well.
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    aws("s3").create_bucket(Bucket=bucket)
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    aws("s3").put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    aws("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    got = messages(aws, dlq_url, 2)
    direct = next(m for m in got if json.loads(m["Body"]) == {"raise_error": 1})
    assert direct["MessageAttributes"] == {
        "RequestID": {"StringValue": request_id, "DataType": "String"},
        "ErrorCode": {"StringValue": "200", "DataType": "Number"},
        "ErrorMessage": {"StringValue": "boom", "DataType": "String"},
    }
    via_s3 = next(m for m in got if m is not direct)
    assert json.loads(via_s3["Body"])["Records"][0]["eventSource"] == "aws:s3"
    assert endpoint.service is not None and endpoint.service.wait_idle(10)


def test_event_invoke_configs_are_per_qualifier_and_replaced(aws: Aws, deploy: Callable[..., str]) -> None:
    """moto appended (a second put was invisible) and ignored Qualifier; AWS replaces, per qualifier."""
    lam = aws("lambda")
    name = deploy("echo")
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    lam.publish_version(FunctionName=name)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=120)
    latest = lam.get_function_event_invoke_config(FunctionName=name)
    assert latest["FunctionArn"] == f"{arn}:$LATEST"
    assert latest["MaximumEventAgeInSeconds"] == 120 and "MaximumRetryAttempts" not in latest  # put replaces
    lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    merged = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="$LATEST")
    assert (merged["MaximumRetryAttempts"], merged["MaximumEventAgeInSeconds"]) == (0, 120)  # update merges
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="1", MaximumRetryAttempts=2)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert sorted(c["FunctionArn"] for c in listed) == [f"{arn}:$LATEST", f"{arn}:1"]
    lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="1")
    with pytest.raises(ClientError) as info:
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier="1")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"

"""generate-event: AWS's shapes, values from the inventory, and clear refusals."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from lambda_harness.cli import main
from lambda_harness.errors import ConfigError
from lambda_harness.terraform.inventory import DeployedFunction, Inventory, Trigger
from lambda_harness.testing.generate import SOURCES, example_from_pattern, generate, target_for

#: Top-level keys of one record/event, from AWS's documented samples (sam local generate-event).
AWS_KEYS = {
    "s3-put": {
        "eventVersion",
        "eventSource",
        "awsRegion",
        "eventTime",
        "eventName",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "s3",
    },
    "sqs": {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    },
    "sns": {"EventSource", "EventVersion", "EventSubscriptionArn", "Sns"},
    "eventbridge-schedule": {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    },
    "dynamodb-stream": {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    },
    "kinesis": {
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    },
    "apigateway-v1": {
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
        "body",
        "isBase64Encoded",
    },
    "apigateway-v2": {
        "version",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "headers",
        "requestContext",
        "isBase64Encoded",
    },
}


def first(event: dict) -> dict:
    return event["Records"][0] if "Records" in event else event


@pytest.mark.parametrize("source", sorted(AWS_KEYS))
def test_shapes_have_aws_documented_keys(source: str) -> None:
    assert AWS_KEYS[source] <= set(first(generate(source)))


def test_cloudwatch_logs_data_is_gzip_and_base64_of_the_documented_payload() -> None:
    data = generate("cloudwatch-logs")["awslogs"]["data"]
    payload = json.loads(gzip.decompress(base64.b64decode(data)))
    assert set(payload) == {
        "messageType",
        "owner",
        "logGroup",
        "logStream",
        "subscriptionFilters",
        "logEvents",
    }
    assert payload["messageType"] == "DATA_MESSAGE" and set(payload["logEvents"][0]) == {
        "id",
        "timestamp",
        "message",
    }


def test_every_source_generates_json_deterministically() -> None:
    for source in SOURCES:
        assert json.dumps(generate(source)) == json.dumps(generate(source))


def fn(name: str, *triggers: Trigger) -> DeployedFunction:
    return DeployedFunction(
        name=name,
        handler="app.handler",
        runtime="python3.12",
        architecture="x86_64",
        environment={},
        timeout=3,
        memory_size=128,
        role="r",
        tf_file=Path(f"terraform/lambda_{name}.tf"),
        address=f"aws_lambda_function.{name}",
        triggers=list(triggers),
        arn=f"arn:aws:lambda:eu-west-1:111122223333:function:{name}",
    )


INVENTORY = Inventory(
    "http://127.0.0.1:4566",
    "eu-west-1",
    [
        fn("ingest", Trigger("s3", "incoming", {"filter_prefix": "in/", "filter_suffix": ".csv"})),
        fn("consume", Trigger("sqs", "arn:aws:sqs:eu-west-1:111122223333:alerts")),
        fn("nightly", Trigger("schedule", "nightly-export", {"event_bus_name": "default"})),
        fn(
            "orders",
            Trigger(
                "event",
                "order-placed",
                {
                    "event_pattern": {
                        "source": ["shop.orders"],
                        "detail-type": ["Order Placed"],
                        "detail": {"total": [{"numeric": [">", 100]}], "sku": [{"prefix": "SKU-"}]},
                    }
                },
            ),
        ),
        fn(
            "api",
            Trigger(
                "api",
                "a1b2c3",
                {"resource": "aws_apigatewayv2_integration", "route_key": "GET /alerts/{region}"},
            ),
        ),
        fn("stream", Trigger("dynamodb", "arn:aws:dynamodb:eu-west-1:111122223333:table/t/stream/2026")),
        fn("logs", Trigger("logs", "/aws/lambda/api", {"filter_name": "errors"})),
        fn("url", Trigger("url", "https://abc123.lambda-url.eu-west-1.on.aws/")),
    ],
)


def test_values_come_from_the_deployment() -> None:
    s3 = first(generate("s3-put", target_for(INVENTORY, "ingest", "s3-put")))
    assert (s3["awsRegion"], s3["s3"]["bucket"]["name"], s3["s3"]["object"]["key"]) == (
        "eu-west-1",
        "incoming",
        "in/example.csv",
    )
    sqs = first(generate("sqs", target_for(INVENTORY, "consume", "sqs")))
    assert sqs["eventSourceARN"] == "arn:aws:sqs:eu-west-1:111122223333:alerts"
    schedule = generate("eventbridge-schedule", target_for(INVENTORY, "nightly", "eventbridge-schedule"))
    assert schedule["resources"] == ["arn:aws:events:eu-west-1:111122223333:rule/nightly-export"]
    assert schedule["account"] == "111122223333"
    custom = generate("eventbridge-custom", target_for(INVENTORY, "orders", "eventbridge-custom"))
    assert (custom["source"], custom["detail-type"], custom["detail"]) == (
        "shop.orders",
        "Order Placed",
        {"total": 101, "sku": "SKU-example"},
    )
    api = generate("apigateway-v2", target_for(INVENTORY, "api", "apigateway-v2"))
    assert (api["routeKey"], api["rawPath"], api["pathParameters"]) == (
        "GET /alerts/{region}",
        "/alerts/example",
        {"region": "example"},
    )
    assert api["requestContext"]["apiId"] == "a1b2c3"
    stream = first(generate("dynamodb-stream", target_for(INVENTORY, "stream", "dynamodb-stream")))
    assert stream["eventSourceARN"].endswith("table/t/stream/2026")
    logs = json.loads(
        gzip.decompress(
            base64.b64decode(
                generate("cloudwatch-logs", target_for(INVENTORY, "logs", "cloudwatch-logs"))["awslogs"][
                    "data"
                ]
            )
        )
    )
    assert (logs["logGroup"], logs["subscriptionFilters"], logs["owner"]) == (
        "/aws/lambda/api",
        ["errors"],
        "111122223333",
    )
    url = generate("function-url", target_for(INVENTORY, "url", "function-url"))
    assert url["requestContext"]["domainName"] == "abc123.lambda-url.eu-west-1.on.aws"


def test_a_function_without_that_trigger_is_refused_with_its_triggers_named() -> None:
    with pytest.raises(ConfigError, match=r"function ingest has no sqs trigger .*its triggers: s3 incoming"):
        target_for(INVENTORY, "ingest", "sqs")
    with pytest.raises(ConfigError, match="no function 'nope'"):
        target_for(INVENTORY, "nope", "sqs")


def test_patterns_yield_values_they_match() -> None:
    assert example_from_pattern(
        {"a": ["x", "y"], "b": [{"suffix": ".png"}], "c": {"d": [{"exists": True}]}}
    ) == {"a": "x", "b": "example.png", "c": {"d": "example"}}


def test_cli_prints_and_writes_a_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".harness").mkdir()
    INVENTORY.save(tmp_path / ".harness" / "inventory.json")
    assert main(["generate-event", "sqs", "--project", str(tmp_path), "--body", "hi"]) == 0
    assert json.loads(capsys.readouterr().out)["Records"][0]["body"] == "hi"
    args = [
        "generate-event",
        "s3-put",
        "--project",
        str(tmp_path),
        "--function",
        "ingest",
        "--case",
        "upload",
    ]
    assert main(args) == 0
    case = tmp_path / "tests" / "integration" / "events" / "ingest" / "upload.json"
    assert first(json.loads(case.read_text()))["s3"]["bucket"]["name"] == "incoming"
    assert main(args) == 2  # never overwrites a case
    assert "already exists" in capsys.readouterr().err

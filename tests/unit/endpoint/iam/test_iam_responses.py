"""AccessDenied as each service sends it, read back by botocore's own parsers (what a handler sees)."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.compat import HTTPHeaders
from botocore.parsers import create_parser

from lambda_harness.endpoint.iam.evaluate import Decision
from lambda_harness.endpoint.iam.responses import access_denied, invalid_token, message

SESSION_ARN = "arn:aws:sts::123456789012:assumed-role/acme-worker/risk_ingest"
IMPLICIT = Decision("implicit-deny", "identity-based")
EXPLICIT = Decision("explicit-deny", "identity-based")


def parsed(service: str, operation: str, response: Any) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model(service)
    op = model.operation_model(operation)
    headers = HTTPHeaders()  # case-insensitive, as botocore gets them from urllib3
    for name, value in response.headers.items():
        headers[name] = value
    raw = {"status_code": response.status_code, "headers": headers, "body": response.get_data()}
    return create_parser(model.metadata["protocol"]).parse(raw, op.output_shape)  # type: ignore[no-any-return]


# (service as botocore names it, protocol, operation, action, resource) -> (status, code)
SHAPES = [
    ("s3", "rest-xml", "PutObject", "s3:PutObject", "arn:aws:s3:::b/k", 403, "AccessDenied"),
    (
        "dynamodb",
        "json",
        "Scan",
        "dynamodb:Scan",
        "arn:aws:dynamodb:eu-west-1:1:table/t",
        400,
        "AccessDeniedException",
    ),
    ("sqs", "json", "SendMessage", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q", 403, "AccessDenied"),
    ("sns", "query", "Publish", "sns:Publish", "arn:aws:sns:eu-west-1:1:t", 403, "AuthorizationError"),
    (
        "lambda",
        "rest-json",
        "GetFunction",
        "lambda:GetFunction",
        "arn:aws:lambda:eu-west-1:1:function:f",
        403,
        "AccessDeniedException",
    ),
    (
        "ssm",
        "json",
        "GetParameter",
        "ssm:GetParameter",
        "arn:aws:ssm:eu-west-1:1:parameter/p",
        400,
        "AccessDeniedException",
    ),
    (
        "secretsmanager",
        "json",
        "GetSecretValue",
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:eu-west-1:1:secret:s",
        400,
        "AccessDeniedException",
    ),
    ("kms", "json", "Decrypt", "kms:Decrypt", "arn:aws:kms:eu-west-1:1:key/k", 400, "AccessDeniedException"),
    (
        "events",
        "json",
        "PutEvents",
        "events:PutEvents",
        "arn:aws:events:eu-west-1:1:event-bus/default",
        400,
        "AccessDeniedException",
    ),
    ("sts", "query", "AssumeRole", "sts:AssumeRole", "arn:aws:iam::1:role/r", 403, "AccessDenied"),
]


@pytest.mark.parametrize(("service", "protocol", "operation", "action", "resource", "status", "code"), SHAPES)
def test_botocore_reads_code_and_message(
    service: str, protocol: str, operation: str, action: str, resource: str, status: int, code: str
) -> None:
    text = message(SESSION_ARN, service, action, resource, IMPLICIT)
    answer = parsed(service, operation, access_denied(service, protocol, text))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == status
    assert answer["Error"]["Code"] == code
    assert answer["Error"]["Message"] == text


def test_messages_read_as_aws_writes_them() -> None:
    s3 = message(SESSION_ARN, "s3", "s3:PutObject", "arn:aws:s3:::b/k", IMPLICIT)
    assert s3 == (
        f"User: {SESSION_ARN} is not authorized to perform: s3:PutObject on resource: "
        '"arn:aws:s3:::b/k" because no identity-based policy allows the s3:PutObject action'
    )
    ddb = message(SESSION_ARN, "dynamodb", "dynamodb:Scan", "arn:aws:dynamodb:eu-west-1:1:table/t", EXPLICIT)
    assert ddb.endswith(
        "on resource: arn:aws:dynamodb:eu-west-1:1:table/t with an explicit deny in an identity-based policy"
    )
    sqs = message(SESSION_ARN, "sqs", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q", IMPLICIT)
    assert "perform: sqs:sendmessage on resource" in sqs and "allows the sqs:sendmessage action" in sqs
    sns = message(SESSION_ARN, "sns", "sns:Publish", "arn:aws:sns:eu-west-1:1:t", IMPLICIT)
    assert "perform: SNS:Publish on resource" in sns
    listing = message(SESSION_ARN, "s3", "s3:ListAllMyBuckets", "*", IMPLICIT)
    assert "perform: s3:ListAllMyBuckets because no" in listing  # no "on resource" for "*"
    queue = message(
        SESSION_ARN,
        "sqs",
        "sqs:SendMessage",
        "arn:aws:sqs:eu-west-1:1:q",
        Decision("explicit-deny", "resource-based"),
    )
    assert queue.endswith("with an explicit deny in a resource-based policy")


def test_a_head_request_gets_no_body() -> None:
    assert access_denied("s3", "rest-xml", "x", head=True).get_data() == b""


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("s3", "GetObject", "InvalidToken"),
        ("dynamodb", "Scan", "UnrecognizedClientException"),
        ("sns", "Publish", "InvalidClientTokenId"),
    ],
)
def test_a_forged_token_is_refused_in_the_services_shape(service: str, operation: str, code: str) -> None:
    assert parsed(service, operation, invalid_token(service))["Error"]["Code"] == code

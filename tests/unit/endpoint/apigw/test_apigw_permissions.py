"""Resource policies vs the source ARN API Gateway presents (IAM ArnLike)."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_harness.endpoint.apigw.permissions import (
    arn_like,
    authorizer_source_arn,
    check,
    hint,
    route_source_arn,
)

FN = "arn:aws:lambda:us-east-1:123456789012:function:echo"
SOURCE = route_source_arn("us-east-1", "123456789012", "abc", "dev", method="GET", path="/alerts/{id}")


def statement(source_arn: str | None = None, **overrides: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Sid": "AllowApi",
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": FN,
    }
    if source_arn is not None:
        out["Condition"] = {"ArnLike": {"AWS:SourceArn": source_arn}}
    out.update(overrides)
    return out


def test_source_arns() -> None:
    assert SOURCE == "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/alerts/{id}"
    default = route_source_arn("us-east-1", "1", "abc", "$default", method="$default", path="")
    assert default == "arn:aws:execute-api:us-east-1:1:abc/$default/$default"
    assert (
        authorizer_source_arn("us-east-1", "1", "abc", "z9")
        == "arn:aws:execute-api:us-east-1:1:abc/authorizers/z9"
    )


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [
        ("arn:aws:execute-api:us-east-1:123456789012:abc/*/*", True),
        ("arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/*", True),
        ("arn:aws:execute-api:us-east-1:123456789012:abc/*/POST/*", False),
        ("arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/alerts/{id}", True),
        ("arn:aws:execute-api:us-east-1:123456789012:ab?/*", True),
        ("arn:aws:execute-api:us-east-1:123456789012:other/*/*", False),
        ("arn:aws:execute-api:us-east-1::abc/*/*", False),  # skip_requesting_account_id: empty account
        ("arn:aws:execute-api:*:*:abc/*", True),
        ("arn:aws:execute-api:us-east-1:123456789012:abc/*/*/alerts*", True),
    ],
)
def test_arn_like_matrix(pattern: str, allowed: bool) -> None:
    assert arn_like(pattern, SOURCE) is allowed
    assert check([statement(pattern)], FN, SOURCE, "123456789012").allowed is allowed


def test_statement_without_condition_and_other_principals() -> None:
    assert check([statement()], FN, SOURCE, "1").allowed
    assert check([statement(Principal="*")], FN, SOURCE, "1").allowed
    assert not check([statement(Principal={"Service": "s3.amazonaws.com"})], FN, SOURCE, "1").allowed
    assert not check([statement(Action="lambda:GetFunction")], FN, SOURCE, "1").allowed
    assert check([statement(Action=["lambda:*"])], FN, SOURCE, "1").allowed


def test_qualifier_must_match_the_resource() -> None:
    assert not check([statement()], FN + ":live", SOURCE, "1").allowed
    assert check([statement(Resource=FN + ":live")], FN + ":live", SOURCE, "1").allowed


def test_source_account_and_explicit_deny() -> None:
    both = statement("arn:aws:execute-api:*:*:abc/*")
    both["Condition"]["StringEquals"] = {"AWS:SourceAccount": "123456789012"}
    assert check([both], FN, SOURCE, "123456789012").allowed
    assert not check([both], FN, SOURCE, "999999999999").allowed
    deny = statement("arn:aws:execute-api:*:*:abc/*", Effect="Deny")
    assert not check([statement(), deny], FN, SOURCE, "1").allowed


def test_hint_names_the_arn_the_statements_and_the_fix() -> None:
    verdict = check([statement("arn:aws:execute-api:us-east-1::abc/*/*")], FN, SOURCE, "123456789012")
    text = hint("echo", SOURCE, verdict.statements, "HTTP API")
    assert SOURCE in text and "AllowApi ArnLike arn:aws:execute-api:us-east-1::abc/*/*" in text
    assert "arn:aws:execute-api:us-east-1:123456789012:abc/*/*" in text
    assert "skip_requesting_account_id" in text

"""terraform/stand_ins.py: a remote-state output's local value has the shape its key and use ask for."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_harness.terraform.stand_ins import Use, hcl_literal, stand_in

R = "eu-west-1"


@pytest.mark.parametrize(
    ("key", "uses", "value"),
    [
        # ARNs in the local account and the project's region, by the service the key names
        ("alerts_topic_arn", [], '"arn:aws:sns:eu-west-1:123456789012:local-alerts-topic"'),
        ("dlq_arn", [], '"arn:aws:sqs:eu-west-1:123456789012:local-dlq"'),
        ("customers_table_arn", [], '"arn:aws:dynamodb:eu-west-1:123456789012:table/local-customers-table"'),
        ("artifacts_bucket_arn", [], '"arn:aws:s3:::local-artifacts-bucket"'),
        ("kms_key_arn", [], '"arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-4000-8000-000000000000"'),
        ("something_arn", [], '"arn:aws:iam::123456789012:policy/local-something"'),
        (
            "dead_letter",
            [Use("target_arn", "aws_lambda_function")],
            '"arn:aws:iam::123456789012:policy/local-dead-letter"',
        ),
        ("layer_arns", [], '["arn:aws:lambda:eu-west-1:123456789012:layer:local-layer:1"]'),
        # ids, names and URLs of the shape AWS gives them
        ("vpc_id", [], '"vpc-0123456789abcdef0"'),
        ("private_subnet_ids", [], '["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]'),
        ("lambda_sg_id", [], '"sg-0123456789abcdef0"'),
        ("account_id", [], '"123456789012"'),
        ("correlation_id", [], '"local-correlation_id"'),
        ("customers_table_name", [], '"local-customers-table"'),
        ("jobs_queue_url", [], '"https://sqs.eu-west-1.amazonaws.com/123456789012/local-jobs-queue"'),
        ("api_url", [], '"https://api.local.test"'),
        ("log_level", [], '"local-log_level"'),
    ],
)
def test_literal_shapes(key: str, uses: list[Use], value: str) -> None:
    found = stand_in("platform", key, uses, R)
    assert (found.value, found.resources) == (value, "")


@pytest.mark.parametrize(
    ("key", "uses", "value", "resource"),
    [
        # P-C2: a permissions boundary must name an existing policy (on AWS; moto checks the shape)
        (
            "lambda_boundary_arn",
            [Use("permissions_boundary", "aws_iam_role")],
            "aws_iam_policy.platform_lambda_boundary.arn",
            'resource "aws_iam_policy" "platform_lambda_boundary"',
        ),
        (
            "boundary",
            [Use("permissions_boundary", "aws_iam_role")],
            "aws_iam_policy.platform_boundary.arn",
            'Action = "*"',
        ),
        ("logs_policy_arn", [], "aws_iam_policy.platform_logs_policy.arn", "logs:CreateLogGroup"),
        (
            "base",
            [Use("policy_arn", "aws_iam_role_policy_attachment")],
            "aws_iam_policy.platform_base.arn",
            "must exist",
        ),
        # moto refuses a function whose role does not exist
        (
            "exec",
            [Use("role", "aws_lambda_function")],
            "aws_iam_role.platform_exec.arn",
            "lambda.amazonaws.com",
        ),
        ("worker_role_arn", [], "aws_iam_role.platform_worker_role.arn", "lambda.amazonaws.com"),
    ],
)
def test_arns_that_must_exist_come_with_their_world_resource(
    key: str, uses: list[Use], value: str, resource: str
) -> None:
    found = stand_in("platform", key, uses, R)
    assert found.value == value
    assert resource in found.resources


def test_role_of_a_policy_attachment_is_a_name_not_an_arn() -> None:
    found = stand_in("platform", "worker", [Use("role", "aws_iam_role_policy_attachment")], R)
    assert (found.value, found.resources) == ('"local-worker"', "")


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (30, "30"),
        (2.5, "2.5"),
        (True, "true"),
        ("off", '"off"'),
        (["a", 1], '["a", 1]'),
        ({"a": 1}, '{ "a" = 1 }'),
        ("${var.x}", None),
        (None, "null"),
    ],
)
def test_defaults_are_written_back_with_their_type(value: Any, literal: str | None) -> None:
    assert hcl_literal(value) == literal

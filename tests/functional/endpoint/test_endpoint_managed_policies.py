"""AWS-managed policies exist on the embedded endpoint (Terraform written for AWS attaches them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.core.config import default_user_config

from lambda_harness.endpoint.server import EmbeddedEndpoint

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def test_a_managed_policy_attaches_and_reads(endpoint: EmbeddedEndpoint, aws: Callable[[str], Any]) -> None:
    iam = aws("iam")
    iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="fn-role", PolicyArn=BASIC)
    attached = iam.list_attached_role_policies(RoleName="fn-role")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [BASIC]
    assert iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"]["PolicyName"] == (
        "ReadOnlyAccess"
    )
    assert default_user_config["iam"]["load_aws_managed_policies"] is True


def test_the_switch_returns_the_previous_value() -> None:
    from lambda_harness.endpoint.server import load_aws_managed_policies

    before = load_aws_managed_policies(False)
    try:
        assert load_aws_managed_policies(True) is False
        assert load_aws_managed_policies(False) is True
    finally:
        load_aws_managed_policies(before)

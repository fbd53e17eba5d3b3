"""Settings that apply on AWS and must re-plan clean here (explore report P-F2, P-F4, P-F5, P-F6):
``logging_config`` + ``snap_start`` on a published function, a log group with ``log_group_class``,
an Image function without ``image_config``, a provisioned concurrency config on an alias.

One harness apply (``deploy``) against the real embedded endpoint, then the harness's own second
plan, then what the AWS API answers for each setting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.settings import Settings
from lambda_harness.terraform.deploy import Terraform, deploy
from lambda_harness.ui import PlainUI
from support.terraform import PROVIDER, harness_environ, make_settings, write_project

pytestmark = pytest.mark.slow

MAIN_TF = """
resource "aws_iam_role" "fn" {
  name = "settings-fn"
  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = [{
    Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]})
}
resource "aws_lambda_function" "hello" {
  function_name    = "settings-hello"
  role             = aws_iam_role.fn.arn
  handler          = "app.handler"
  runtime          = "python3.12"
  filename         = "${path.module}/../dists.zip"
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  publish          = true
  logging_config {
    log_format            = "JSON"
    application_log_level = "INFO"
    system_log_level      = "WARN"
  }
  snap_start {
    apply_on = "PublishedVersions"
  }
}
resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.hello.function_name
  function_version = aws_lambda_function.hello.version
}
resource "aws_lambda_provisioned_concurrency_config" "live" {
  function_name                     = aws_lambda_alias.live.function_name
  qualifier                         = aws_lambda_alias.live.name
  provisioned_concurrent_executions = 2
}
resource "aws_cloudwatch_log_group" "hello" {
  name              = "/aws/lambda/settings-hello"
  retention_in_days = 7
  log_group_class   = "INFREQUENT_ACCESS"
}
resource "aws_lambda_function" "ocr" {
  function_name = "settings-ocr"
  role          = aws_iam_role.fn.arn
  package_type  = "Image"
  image_uri     = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ocr:1.4.2"
}
"""


@dataclass
class Applied:
    settings: Settings
    url: str


@pytest.fixture(scope="module")
def applied(endpoint: EmbeddedEndpoint, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    root = write_project(tmp_path_factory.mktemp("settings") / "repo", {"main.tf": PROVIDER + MAIN_TF})
    settings = make_settings(root)
    deploy(settings, PlainUI(quiet=True), endpoint.url, environ=harness_environ())
    yield Applied(settings, endpoint.url)


def test_second_plan_is_empty(applied: Applied) -> None:
    tf = Terraform(applied.settings, PlainUI(quiet=True), applied.url, environ=harness_environ())
    assert tf.plan_changes() == []


def test_logging_config_and_snap_start_are_answered(applied: Applied, aws: Callable[[str], Any]) -> None:
    latest = aws("lambda").get_function_configuration(FunctionName="settings-hello")
    assert latest["LoggingConfig"] == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "WARN",
        "LogGroup": "/aws/lambda/settings-hello",
    }
    assert latest["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    version = aws("lambda").get_function_configuration(FunctionName="settings-hello", Qualifier="1")
    assert version["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}


def test_log_group_class_is_kept(applied: Applied, aws: Callable[[str], Any]) -> None:
    groups = aws("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/settings-hello")["logGroups"]
    assert [g["logGroupClass"] for g in groups] == ["INFREQUENT_ACCESS"]


def test_image_function_without_image_config_answers_none(
    applied: Applied, aws: Callable[[str], Any]
) -> None:
    config = aws("lambda").get_function(FunctionName="settings-ocr")["Configuration"]
    assert config["PackageType"] == "Image"
    assert "ImageConfigResponse" not in config


def test_provisioned_concurrency_is_ready_and_listed(applied: Applied, aws: Callable[[str], Any]) -> None:
    client = aws("lambda")
    config = client.get_provisioned_concurrency_config(FunctionName="settings-hello", Qualifier="live")
    assert (config["Status"], config["AllocatedProvisionedConcurrentExecutions"]) == ("READY", 2)
    listed = client.list_provisioned_concurrency_configs(FunctionName="settings-hello")
    arns = [c["FunctionArn"] for c in listed["ProvisionedConcurrencyConfigs"]]
    assert arns == ["arn:aws:lambda:us-east-1:123456789012:function:settings-hello:live"]


def test_provisioned_concurrency_put_delete_and_refusals(applied: Applied, aws: Callable[[str], Any]) -> None:
    client = aws("lambda")
    put = client.put_provisioned_concurrency_config(
        FunctionName="settings-hello", Qualifier="1", ProvisionedConcurrentExecutions=3
    )
    assert (put["Status"], put["RequestedProvisionedConcurrentExecutions"]) == ("READY", 3)
    client.delete_provisioned_concurrency_config(FunctionName="settings-hello", Qualifier="1")
    with pytest.raises(ClientError) as missing:
        client.get_provisioned_concurrency_config(FunctionName="settings-hello", Qualifier="1")
    assert missing.value.response["Error"]["Code"] == "ProvisionedConcurrencyConfigNotFoundException"
    with pytest.raises(ClientError) as latest:
        client.put_provisioned_concurrency_config(
            FunctionName="settings-hello", Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert latest.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as unknown:
        client.get_provisioned_concurrency_config(FunctionName="nope", Qualifier="live")
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"

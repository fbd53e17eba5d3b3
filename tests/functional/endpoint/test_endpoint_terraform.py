"""Terraform (AWS provider from the local mirror) against the endpoint: a worker repo's resource types.

Slow: ``aws_sqs_queue`` alone waits ~25 s per queue for attribute propagation (FACTS).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambda_harness import net, proc
from lambda_harness.endpoint import control
from lambda_harness.endpoint.server import EmbeddedEndpoint
from support.endpoint import handler_zip

MIRROR = Path(os.environ.get("LAMBDA_HARNESS_TF_PLUGIN_DIR", "/opt/tf-plugins"))

MAIN_TF = r"""
terraform {
  required_providers { aws = { source = "hashicorp/aws", version = "~> 5.0" } }
}
provider "aws" { region = "us-east-1" }
resource "aws_iam_role" "r" {
  name = "fn-role"
  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = [{
    Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]})
}
resource "aws_iam_role_policy" "p" {
  role = aws_iam_role.r.id
  policy = jsonencode({Version="2012-10-17",Statement=[
    {Effect="Allow",Action="s3:*",Resource="*"},
    {Effect="Allow",Action=["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],Resource="*"}]})
}
resource "aws_s3_bucket" "art" { bucket = "artifacts-bucket" }
resource "aws_s3_object" "dists" {
  bucket = aws_s3_bucket.art.id
  key = "dists.zip"
  source = "${path.module}/dists.zip"
  source_hash = filemd5("${path.module}/dists.zip")
}
resource "aws_dynamodb_table" "t" {
  name = "tbl"
  billing_mode = "PAY_PER_REQUEST"
  hash_key = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
}
resource "aws_sqs_queue" "dlq" { name = "q-dlq" }
resource "aws_sqs_queue" "q" {
  name = "q"
  redrive_policy = jsonencode({deadLetterTargetArn=aws_sqs_queue.dlq.arn, maxReceiveCount=3})
}
resource "aws_lambda_function" "f" {
  function_name = "fn"
  role = aws_iam_role.r.arn
  handler = "app.handler"
  runtime = "python3.12"
  s3_bucket = aws_s3_bucket.art.id
  s3_key = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/dists.zip")
  dead_letter_config { target_arn = aws_sqs_queue.dlq.arn }
}
resource "aws_lambda_function_event_invoke_config" "c" {
  function_name = aws_lambda_function.f.function_name
  qualifier = "$LATEST"
  maximum_retry_attempts = 1
  maximum_event_age_in_seconds = 600
  destination_config {
    on_failure { destination = aws_sqs_queue.dlq.arn }
  }
}
resource "aws_lambda_event_source_mapping" "m" {
  event_source_arn = aws_sqs_queue.q.arn
  function_name = aws_lambda_function.f.arn
  batch_size = 5
  function_response_types = ["ReportBatchItemFailures"]
  depends_on = [aws_iam_role_policy.p]  # Lambda checks the role may poll the queue
}
resource "aws_s3_bucket" "in" { bucket = "incoming-bucket" }
resource "aws_lambda_permission" "s3" {
  statement_id = "s3"
  action = "lambda:InvokeFunction"
  function_name = aws_lambda_function.f.function_name
  principal = "s3.amazonaws.com"
  source_arn = aws_s3_bucket.in.arn
}
resource "aws_s3_bucket_notification" "n" {
  bucket = aws_s3_bucket.in.id
  lambda_function {
    lambda_function_arn = aws_lambda_function.f.arn
    events = ["s3:ObjectCreated:*"]
  }
  depends_on = [aws_lambda_permission.s3]
}
resource "aws_cloudwatch_event_rule" "sched" {
  name = "every-5"
  schedule_expression = "rate(5 minutes)"
}
resource "aws_cloudwatch_event_target" "t" {
  rule = aws_cloudwatch_event_rule.sched.name
  arn = aws_lambda_function.f.arn
  input = jsonencode({hello="world"})
}
resource "aws_lambda_permission" "ev" {
  statement_id = "ev"
  action = "lambda:InvokeFunction"
  function_name = aws_lambda_function.f.function_name
  principal = "events.amazonaws.com"
  source_arn = aws_cloudwatch_event_rule.sched.arn
}
resource "aws_sns_topic" "topic" { name = "topic" }
resource "aws_sns_topic_subscription" "sub" {
  topic_arn = aws_sns_topic.topic.arn
  protocol = "lambda"
  endpoint = aws_lambda_function.f.arn
}
"""

SINK = """
import json, os, pathlib, time

def handler(event, context):
    out = pathlib.Path(os.environ["OUT_DIR"])
    tmp = out / f"{time.time_ns()}.json.tmp"
    tmp.write_text(json.dumps(event))
    tmp.rename(tmp.with_suffix(""))
    return {"ok": True}
"""


def _terraform(workdir: Path, url: str, *args: str) -> proc.Completed:
    rc = workdir / "tf.rc"
    rc.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct { exclude = ["registry.terraform.io/hashicorp/*"] }\n}\n'
    )
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(rc),
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "TF_IN_AUTOMATION": "1",
    }
    return proc.run([proc.which("terraform"), *args], cwd=workdir, env=env, check=False, timeout=600)


@pytest.mark.slow
def test_terraform_creates_a_worker_repo_and_triggers_run(
    endpoint: EmbeddedEndpoint, tmp_path: Path, aws: Callable[[str], Any]
) -> None:
    if shutil.which("terraform") is None or not MIRROR.is_dir():
        pytest.skip("terraform or the provider mirror is not installed")
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "dists.zip").write_bytes(handler_zip(SINK))
    env_block = f'runtime = "python3.12"\n  environment {{\n    variables = {{ OUT_DIR = "{out}" }}\n  }}'
    (tmp_path / "main.tf").write_text(MAIN_TF.replace('runtime = "python3.12"', env_block))
    steps = (("init", "-input=false", "-no-color"), ("apply", "-auto-approve", "-input=false", "-no-color"))
    for args in steps:
        done = _terraform(tmp_path, endpoint.url, *args)
        assert done.returncode == 0, done.output[-3000:]
    plan = _terraform(tmp_path, endpoint.url, "plan", "-detailed-exitcode", "-input=false", "-no-color")
    assert plan.returncode == 0, plan.output[-3000:]  # 2 would mean the second plan is not empty

    aws("s3").put_object(Bucket="incoming-bucket", Key="x.txt", Body=b"hi")
    queue = aws("sqs").get_queue_url(QueueName="q")["QueueUrl"]
    aws("sqs").send_message(QueueUrl=queue, MessageBody="m")
    aws("sns").publish(TopicArn="arn:aws:sns:us-east-1:123456789012:topic", Message="hello")
    assert control.trigger(endpoint.settings.with_(port=endpoint.port), "every-5") == ["fn"]
    net.wait_until(lambda: len(list(out.glob("*.json"))) >= 4, 30, what="four deliveries")
    events = [json.loads(p.read_text()) for p in out.glob("*.json")]
    assert sorted(_source(e) for e in events) == ["aws:s3", "aws:sns", "aws:sqs", "schedule"]


def _source(event: dict[str, Any]) -> str:
    if "Records" in event:
        record = event["Records"][0]
        return str(record.get("eventSource") or record.get("EventSource"))
    return "schedule" if event == {"hello": "world"} else repr(event)  # the target's Input

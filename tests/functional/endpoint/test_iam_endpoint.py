"""Function roles on a real embedded endpoint: real workers, real boto3, real moto backends."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambda_harness import net
from lambda_harness.endpoint.runtime.model import FunctionConfig
from lambda_harness.endpoint.server import EmbeddedEndpoint
from support.endpoint import handler_zip

ACCOUNT = "123456789012"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}

IDENTITY_HANDLER = """
import os, boto3

def handler(event, context):
    s3 = boto3.client("s3")
    try:
        s3.put_object(Bucket=event["bucket"], Key="out/x", Body=b"x")
        wrote = "ok"
    except Exception as exc:
        wrote = exc.response["Error"]["Code"]
    return {
        "arn": boto3.client("sts").get_caller_identity()["Arn"],
        "has_token": bool(os.environ.get("AWS_SESSION_TOKEN")),
        "read": s3.get_object(Bucket=event["bucket"], Key="in/a.json")["Body"].read().decode(),
        "wrote": wrote,
    }
"""


def make_role(
    aws: Callable[[str], Any], policy: dict[str, Any] | None = None, trust: dict[str, Any] = LAMBDA_TRUST
) -> str:
    name = f"role-{uuid.uuid4().hex[:8]}"
    arn = str(
        aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    )
    if policy is not None:
        aws("iam").put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def allow(*statements: tuple[str, str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in statements],
    }


class _Environment:
    def __init__(self) -> None:
        self.environment_id = f"test-{uuid.uuid4().hex[:6]}"
        self.current_request_id = "test-request"


def session_client(endpoint: EmbeddedEndpoint, role_arn: str, service: str, token: str | None = None) -> Any:
    """A client signed with a role session the endpoint issued, as a worker would get it."""
    source = endpoint.runtime.credentials  # type: ignore[attr-defined]
    fn = FunctionConfig(
        name="probe", version="$LATEST", handler="app.handler", runtime="python3.12", architecture="x86_64",
        memory_mb=128, timeout_s=3.0, environment={}, code_sha256="", code_zip=b"", layers=(),
        region="us-east-1", account_id=ACCOUNT, role_arn=role_arn, reserved_concurrency=None,
        endpoint_url=endpoint.url,
    )  # fmt: skip
    creds = source.issue(fn, _Environment())
    return boto3.client(
        service,
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=token or creds["AWS_SESSION_TOKEN"],
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


@pytest.fixture(scope="module")
def bucket(aws: Callable[[str], Any]) -> str:
    name = f"iam-{uuid.uuid4().hex[:8]}"
    aws("s3").create_bucket(Bucket=name)
    aws("s3").put_object(Bucket=name, Key="in/a.json", Body=b'{"a": 1}')
    return name


def test_a_worker_runs_as_its_role_and_is_refused_what_the_role_lacks(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], bucket: str
) -> None:
    role = make_role(aws, allow(("s3:GetObject", f"arn:aws:s3:::{bucket}/in/*")))
    name = f"whoami-{uuid.uuid4().hex[:6]}"
    aws("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": handler_zip(IDENTITY_HANDLER)}, Timeout=30,
    )  # fmt: skip
    answer = aws("lambda").invoke(FunctionName=name, Payload=json.dumps({"bucket": bucket}).encode())
    payload = json.loads(answer["Payload"].read())
    assert payload == {
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[-1]}/{name}",
        "has_token": True,
        "read": '{"a": 1}',
        "wrote": "AccessDenied",
    }
    request_id = answer["ResponseMetadata"]["RequestId"]
    found = net.get_json(f"{endpoint.url}/_harness/iam?request_id={request_id}")
    assert [d["action"] for d in found["denials"]] == ["s3:PutObject"]


def test_an_environment_started_ahead_runs_as_its_role_too(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], bucket: str
) -> None:
    """``run`` starts every function's first environment before pytest (POST /_harness/prestart)."""
    role = make_role(aws, allow(("s3:GetObject", f"arn:aws:s3:::{bucket}/in/*")))
    name = f"ahead-{uuid.uuid4().hex[:6]}"
    arn = aws("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": handler_zip(IDENTITY_HANDLER)}, Timeout=30,
    )["FunctionArn"]  # fmt: skip
    pool = endpoint.runtime.pool  # type: ignore[attr-defined]
    before = pool.size
    answer = net.post_json(endpoint.url + net.HARNESS_PRESTART, {"functions": [arn]}, timeout=60)
    assert not isinstance(answer, str) and answer[0] == 202
    net.wait_until(lambda: pool.size == before + 1, 60, what="the environment to start")
    resp = aws("lambda").invoke(
        FunctionName=name, Payload=json.dumps({"bucket": bucket}).encode(), LogType="Tail"
    )
    payload = json.loads(resp["Payload"].read())
    assert pool.size == before + 1  # the environment started ahead served it
    assert payload["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[-1]}/{name}"
    assert payload["wrote"] == "AccessDenied"


INIT_WRITER = """
import boto3, os

try:
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key="out/at-init", Body=b"x")
    AT_INIT = "ok"
except Exception as exc:
    AT_INIT = exc.response["Error"]["Code"]

def handler(event, context):
    return {"at_init": AT_INIT}
"""


def test_a_refusal_during_an_init_started_ahead_belongs_to_no_invocation(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], bucket: str
) -> None:
    """No invocation runs yet: the denial is one outside every event case (it fails the run)."""
    role = make_role(aws, allow(("s3:GetObject", f"arn:aws:s3:::{bucket}/in/*")))
    name = f"init-{uuid.uuid4().hex[:6]}"
    arn = aws("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": handler_zip(INIT_WRITER)}, Timeout=30, Environment={"Variables": {"BUCKET": bucket}},
    )["FunctionArn"]  # fmt: skip
    answer = net.post_json(endpoint.url + net.HARNESS_PRESTART, {"functions": [arn]}, timeout=60)
    assert not isinstance(answer, str) and answer[0] == 202

    def refused() -> list[dict[str, Any]]:
        return [d for d in net.get_json(f"{endpoint.url}/_harness/iam")["denials"] if d["function"] == name]

    net.wait_until(lambda: bool(refused()), 60, what="the init's refusal")
    [denial] = refused()
    assert (denial["action"], denial["request_id"]) == ("s3:PutObject", None)
    resp = aws("lambda").invoke(FunctionName=name, Payload=b"{}")
    assert json.loads(resp["Payload"].read()) == {"at_init": "AccessDenied"}


def test_terraform_style_requests_are_never_restricted(aws: Callable[[str], Any], bucket: str) -> None:
    aws("s3").put_object(Bucket=bucket, Key="anything/at/all", Body=b"x")  # test/test credentials


def test_each_service_refuses_in_its_own_shape(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], bucket: str
) -> None:
    role = make_role(aws, allow(("s3:GetObject", "arn:aws:s3:::nothing/*")))
    aws("dynamodb").create_table(
        TableName="iam-t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    queue = aws("sqs").create_queue(QueueName="iam-q")["QueueUrl"]
    calls: list[tuple[str, Callable[[Any], Any], int, str]] = [
        ("s3", lambda c: c.put_object(Bucket=bucket, Key="x", Body=b"x"), 403, "AccessDenied"),
        ("dynamodb", lambda c: c.scan(TableName="iam-t"), 400, "AccessDeniedException"),
        ("sqs", lambda c: c.send_message(QueueUrl=queue, MessageBody="x"), 403, "AccessDenied"),
        ("lambda", lambda c: c.list_functions(), 403, "AccessDeniedException"),
        ("ssm", lambda c: c.get_parameter(Name="/x"), 400, "AccessDeniedException"),
    ]
    for service, do, status, code in calls:
        with pytest.raises(ClientError) as caught:
            do(session_client(endpoint, role, service))
        error = caught.value.response
        assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (status, code), (
            service
        )
        assert "is not authorized to perform" in error["Error"]["Message"], service


def test_a_forged_session_token_is_refused(endpoint: EmbeddedEndpoint, aws: Callable[[str], Any]) -> None:
    client = session_client(endpoint, make_role(aws), "dynamodb", token="forged")
    with pytest.raises(ClientError, match="UnrecognizedClientException"):
        client.list_tables()


def test_an_enforce_tls_bucket_policy_no_longer_blocks_uploads(aws: Callable[[str], Any]) -> None:
    """moto applied any bucket-policy Deny to every object request, conditions ignored (§1.8)."""
    name = f"tls-{uuid.uuid4().hex[:8]}"
    aws("s3").create_bucket(Bucket=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{name}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    }  # fmt: skip
    aws("s3").put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    aws("s3").put_object(Bucket=name, Key="dists.zip", Body=b"zip")
    assert aws("s3").get_object(Bucket=name, Key="dists.zip")["Body"].read() == b"zip"


def test_aws_managed_policies_can_be_attached(aws: Callable[[str], Any]) -> None:
    role = make_role(aws).rsplit("/", 1)[-1]
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    aws("iam").attach_role_policy(RoleName=role, PolicyArn=arn)
    attached = aws("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]


def test_create_function_refuses_a_role_lambda_cannot_assume(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any]
) -> None:
    ec2_only = {
        **LAMBDA_TRUST,
        "Statement": [{**LAMBDA_TRUST["Statement"][0], "Principal": {"Service": "ec2.amazonaws.com"}}],
    }
    role = make_role(aws, trust=ec2_only)
    with pytest.raises(ClientError) as caught:
        aws("lambda").create_function(
            FunctionName="untrusted", Runtime="python3.12", Role=role, Handler="app.handler",
            Code={"ZipFile": handler_zip()},
        )  # fmt: skip
    assert caught.value.response["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "The role defined for the function cannot be assumed by Lambda.",
    }
    trust = net.get_json(f"{endpoint.url}/_harness/iam/trust")["trust"]
    assert any(f["role_arn"] == role and f["function"] == "untrusted" and f["enforced"] for f in trust)


def test_an_sqs_mapping_needs_the_role_to_poll_the_queue(aws: Callable[[str], Any]) -> None:
    queue_arn = aws("sqs").get_queue_attributes(
        QueueUrl=aws("sqs").create_queue(QueueName=f"esm-{uuid.uuid4().hex[:6]}")["QueueUrl"],
        AttributeNames=["QueueArn"],
    )["Attributes"]["QueueArn"]
    name = f"nopoll-{uuid.uuid4().hex[:6]}"
    no_policy = make_role(aws)
    aws("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=no_policy, Handler="app.echo",
        Code={"ZipFile": handler_zip()},
    )  # fmt: skip
    with pytest.raises(ClientError) as caught:
        aws("lambda").create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name)
    assert caught.value.response["Error"]["Message"] == (
        "The provided execution role does not have permissions to call ReceiveMessage on SQS"
    )

"""The guard on real SDK requests: botocore builds and signs them (never sent), the guard routes,
parses and maps them to IAM checks, decides, records and answers. No endpoint, no moto backends:
the role's documents come from a hand-written lookups fake."""

from __future__ import annotations

import ast
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from werkzeug.test import EnvironBuilder

import lambda_harness.endpoint.iam.actions as actions_module
from lambda_harness.endpoint.iam.catalog import load_catalog
from lambda_harness.endpoint.iam.credentials import FunctionSession, SessionRegistry
from lambda_harness.endpoint.iam.guard import IamGuard
from lambda_harness.endpoint.iam.ledger import Ledger
from lambda_harness.endpoint.iam.lookups import RoleDocuments
from lambda_harness.endpoint.iam.policy import PolicySource, compile_policy

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/worker"
KEY, SECRET, TOKEN = "ASIAFUNCTIONSESSION1", "secret", "session-token"


class FakeEnvironment:
    environment_id = "env-1"
    current_request_id = "req-1"


class FakeLookups:
    """The role's documents, and the few ARNs some operations need."""

    def __init__(self, *statements: dict[str, Any], bucket_policy: dict[str, Any] | None = None) -> None:
        doc = {"Version": "2012-10-17", "Statement": list(statements)}
        self.policies = (compile_policy(doc, PolicySource("inline", "p", "worker")),)
        self.bucket = compile_policy(bucket_policy, PolicySource("bucket", "b")) if bucket_policy else None

    def role(self, account: str, role_arn: str) -> RoleDocuments:
        return RoleDocuments(role_arn, self.policies)

    def bucket_policy(self, account: str, bucket: str) -> Any:
        return self.bucket

    def queue_policy(self, account: str, region: str, queue_arn: str) -> None:
        return None

    def key_policy(self, account: str, region: str, key_arn: str) -> None:
        return None

    def secret_arn(self, account: str, region: str, secret_id: str) -> str:
        return f"arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}-AbCdEf"

    def key_arn(self, account: str, region: str, key_id: str) -> str:
        return key_id if key_id.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{key_id}"

    def key_of_ciphertext(self, account: str, region: str, blob: bytes) -> None:
        return None

    def log_group_exists(self, account: str, region: str, name: str) -> bool:
        return True


def session() -> FunctionSession:
    return FunctionSession(
        "fn", "$LATEST", ROLE, ACCOUNT, REGION, KEY, TOKEN, "AROAEXAMPLE", FakeEnvironment()
    )


def guard_for(lookups: FakeLookups, mode: str = "enforce") -> tuple[IamGuard, list[dict[str, Any]]]:
    passed: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        passed.append(environ)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    registry = SessionRegistry()
    registry.add(session())
    return IamGuard(app, mode=mode, registry=registry, ledger=Ledger(), lookups=lookups), passed  # type: ignore[arg-type]


_CLIENTS: dict[tuple[str, str, str], Any] = {}
_CAPTURED: dict[str, Any] = {}


def _grab(request: Any, **_: Any) -> None:
    _CAPTURED["request"] = request
    raise _Captured


def _client(service: str, key: str, token: str) -> Any:
    """One client per service and credentials (making a boto3 client costs ~0.3 s)."""
    if (service, key, token) not in _CLIENTS:
        creds = {"aws_access_key_id": key, "aws_secret_access_key": SECRET, "aws_session_token": token}
        client = boto3.Session(region_name=REGION, **creds).client(
            service, endpoint_url="http://127.0.0.1:4566", config=Config(s3={"addressing_style": "path"})
        )
        client.meta.events.register("before-send", _grab)
        _CLIENTS[(service, key, token)] = client
    return _CLIENTS[(service, key, token)]


def signed_environ(
    service: str, operation: str, *, token: str = TOKEN, key: str = KEY, **params: Any
) -> dict[str, Any]:
    """The WSGI environ of the request boto3 would send (signed with the session's credentials)."""
    with pytest.raises(_Captured):
        getattr(_client(service, key, token), _snake(operation))(**params)
    request = _CAPTURED.pop("request")
    body = request.body.read() if hasattr(request.body, "read") else (request.body or b"")
    if isinstance(body, str):
        body = body.encode()
    url = request.url.replace("http://127.0.0.1:4566", "")
    path, _, query = url.partition("?")
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    builder = EnvironBuilder(path=path, query_string=query, method=request.method, headers=headers, data=body)
    environ = builder.get_environ()
    environ["RAW_URI"] = url
    return environ


class _Captured(Exception):
    pass


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("_v2", "_v2")


def call(guard: IamGuard, environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []
    body = b"".join(guard(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body


def uses(guard: IamGuard) -> set[tuple[str, str]]:
    fn = guard.ledger.functions().get("fn", {"used": []})
    return {(u["action"], u["resource"]) for u in fn["used"]}


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
T = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
Q = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
QURL = f"http://127.0.0.1:4566/{ACCOUNT}/q"

CASES: list[tuple[str, str, dict[str, Any], set[tuple[str, str]]]] = [
    ("s3", "GetObject", {"Bucket": "b", "Key": "in/a.json"}, {("s3:GetObject", "arn:aws:s3:::b/in/a.json")}),
    (
        "s3",
        "GetObject",
        {"Bucket": "b", "Key": "a", "VersionId": "v1"},
        {("s3:GetObjectVersion", "arn:aws:s3:::b/a")},
    ),
    (
        "s3",
        "HeadObject",
        {"Bucket": "b", "Key": "k k/ü.json"},
        {("s3:GetObject", "arn:aws:s3:::b/k k/ü.json")},
    ),
    (
        "s3",
        "PutObject",
        {"Bucket": "b", "Key": "out/x", "Body": b"x"},
        {("s3:PutObject", "arn:aws:s3:::b/out/x")},
    ),
    ("s3", "DeleteObject", {"Bucket": "b", "Key": "x"}, {("s3:DeleteObject", "arn:aws:s3:::b/x")}),
    (
        "s3",
        "DeleteObjects",
        {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}, {"Key": "c/d"}]}},
        {("s3:DeleteObject", "arn:aws:s3:::b/a"), ("s3:DeleteObject", "arn:aws:s3:::b/c/d")},
    ),
    (
        "s3",
        "CopyObject",
        {"Bucket": "b", "Key": "to", "CopySource": "src/from"},
        {("s3:PutObject", "arn:aws:s3:::b/to"), ("s3:GetObject", "arn:aws:s3:::src/from")},
    ),
    ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "in/"}, {("s3:ListBucket", "arn:aws:s3:::b")}),
    ("s3", "HeadBucket", {"Bucket": "b"}, {("s3:ListBucket", "arn:aws:s3:::b")}),
    ("s3", "ListBuckets", {}, {("s3:ListAllMyBuckets", "*")}),
    ("dynamodb", "GetItem", {"TableName": "t", "Key": {"k": {"S": "1"}}}, {("dynamodb:GetItem", f"{T}/t")}),
    (
        "dynamodb",
        "Query",
        {"TableName": "t", "IndexName": "by-x", "KeyConditionExpression": "x = :x"},
        {("dynamodb:Query", f"{T}/t/index/by-x")},
    ),
    ("dynamodb", "Scan", {"TableName": "t"}, {("dynamodb:Scan", f"{T}/t")}),
    (
        "dynamodb",
        "BatchWriteItem",
        {
            "RequestItems": {
                "a": [{"PutRequest": {"Item": {"k": {"S": "1"}}}}],
                "b": [{"DeleteRequest": {"Key": {"k": {"S": "1"}}}}],
            }
        },
        {("dynamodb:BatchWriteItem", f"{T}/a"), ("dynamodb:BatchWriteItem", f"{T}/b")},
    ),
    (
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "a", "Item": {"k": {"S": "1"}}}},
                {"Delete": {"TableName": "b", "Key": {"k": {"S": "1"}}}},
            ]
        },
        {("dynamodb:PutItem", f"{T}/a"), ("dynamodb:DeleteItem", f"{T}/b")},
    ),
    ("sqs", "SendMessage", {"QueueUrl": QURL, "MessageBody": "x"}, {("sqs:SendMessage", Q)}),
    (
        "sqs",
        "SendMessageBatch",
        {"QueueUrl": QURL, "Entries": [{"Id": "1", "MessageBody": "x"}]},
        {("sqs:SendMessage", Q)},
    ),
    ("sqs", "GetQueueUrl", {"QueueName": "q"}, {("sqs:GetQueueUrl", Q)}),
    (
        "sns",
        "Publish",
        {"TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:t", "Message": "x"},
        {("sns:Publish", f"arn:aws:sns:{REGION}:{ACCOUNT}:t")},
    ),
    (
        "events",
        "PutEvents",
        {
            "Entries": [
                {"Source": "app", "DetailType": "d", "Detail": "{}"},
                {"EventBusName": "orders", "Source": "app", "DetailType": "d", "Detail": "{}"},
            ]
        },
        {
            ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"),
            ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"),
        },
    ),
    (
        "lambda",
        "Invoke",
        {"FunctionName": "other"},
        {("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other")},
    ),
    (
        "lambda",
        "Invoke",
        {"FunctionName": "other", "Qualifier": "live"},
        {("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other:live")},
    ),
    (
        "lambda",
        "GetFunction",
        {"FunctionName": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:x"},
        {("lambda:GetFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:x")},
    ),
    (
        "logs",
        "PutLogEvents",
        {"logGroupName": "/app", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": "m"}]},
        {("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app:log-stream:s")},
    ),
    (
        "ssm",
        "GetParameter",
        {"Name": "/app/db/url"},
        {("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db/url")},
    ),
    (
        "ssm",
        "GetParameters",
        {"Names": ["/a", "b"]},
        {
            ("ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/a"),
            ("ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/b"),
        },
    ),
    (
        "secretsmanager",
        "GetSecretValue",
        {"SecretId": "db"},
        {("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-AbCdEf")},
    ),
    (
        "kms",
        "Encrypt",
        {"KeyId": "alias/app", "Plaintext": b"x"},
        {("kms:Encrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/alias/app")},
    ),
    (
        "kinesis",
        "PutRecord",
        {"StreamName": "s", "Data": b"x", "PartitionKey": "p"},
        {("kinesis:PutRecord", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s")},
    ),
    (
        "stepfunctions",
        "StartExecution",
        {"stateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:m"},
        {("states:StartExecution", f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:m")},
    ),
    (
        "sts",
        "AssumeRole",
        {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/other", "RoleSessionName": "fn"},
        {("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/other")},
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"), CASES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_operation_becomes_its_iam_checks(
    service: str, operation: str, params: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    guard, passed = guard_for(FakeLookups(ALLOW_ALL))
    status, _ = call(guard, signed_environ(service, operation, **params))
    assert status.startswith("200") and len(passed) == 1
    assert uses(guard) == expected


def test_an_s3_upload_body_is_left_unread_for_moto() -> None:
    guard, passed = guard_for(FakeLookups(ALLOW_ALL))
    call(guard, signed_environ("s3", "PutObject", Bucket="b", Key="k", Body=b"payload"))
    stream = passed[0]["wsgi.input"]
    assert b"payload" in stream.read()


def test_a_json_body_is_read_once_and_handed_on_whole() -> None:
    guard, passed = guard_for(FakeLookups(ALLOW_ALL))
    call(guard, signed_environ("dynamodb", "GetItem", TableName="t", Key={"k": {"S": "1"}}))
    assert json.loads(passed[0]["wsgi.input"].read())["TableName"] == "t"


def test_get_caller_identity_is_never_checked() -> None:
    guard, passed = guard_for(FakeLookups())  # no permission at all
    status, _ = call(guard, signed_environ("sts", "GetCallerIdentity"))
    assert status.startswith("200") and passed and uses(guard) == set()


def test_requests_of_other_keys_pass_untouched() -> None:
    guard, passed = guard_for(FakeLookups())
    status, _ = call(
        guard, signed_environ("s3", "PutObject", key="test", token="", Bucket="b", Key="k", Body=b"x")
    )
    assert status.startswith("200") and passed and guard.ledger.functions() == {}


def test_a_wrong_session_token_is_refused() -> None:
    guard, passed = guard_for(FakeLookups(ALLOW_ALL))
    status, body = call(guard, signed_environ("dynamodb", "Scan", token="forged", TableName="t"))
    assert status.startswith("400") and b"UnrecognizedClientException" in body and not passed


def test_an_unmapped_operation_passes_and_is_listed() -> None:
    guard, passed = guard_for(FakeLookups())
    status, _ = call(guard, signed_environ("dynamodb", "ListBackups"))
    assert status.startswith("200") and passed
    listed = guard.ledger.functions()["fn"]["not_evaluated"]
    assert listed == [
        {
            "service": "dynamodb",
            "operation": "ListBackups",
            "why": "no IAM mapping for this operation",
            "count": 1,
        }
    ]


def test_enforce_refuses_and_records_warn_records_and_passes() -> None:
    environ = signed_environ("s3", "PutObject", Bucket="b", Key="out/x", Body=b"x")
    guard, passed = guard_for(FakeLookups())
    status, body = call(guard, environ)
    assert status.startswith("403") and not passed and b"<Code>AccessDenied</Code>" in body
    [denial] = guard.ledger.denials()
    assert (denial.request_id, denial.enforced, denial.action) == ("req-1", True, "s3:PutObject")

    warn, passed = guard_for(FakeLookups(), mode="warn")
    status, _ = call(warn, signed_environ("s3", "PutObject", Bucket="b", Key="out/x", Body=b"x"))
    assert status.startswith("200") and passed
    assert warn.ledger.denials()[0].enforced is False


def test_off_evaluates_nothing() -> None:
    guard, passed = guard_for(FakeLookups(), mode="off")
    status, _ = call(guard, signed_environ("s3", "PutObject", Bucket="b", Key="out/x", Body=b"x"))
    assert status.startswith("200") and passed and guard.ledger.denials() == []


def test_a_bucket_policy_naming_the_role_allows_what_the_role_does_not() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROLE},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/*",
            }
        ],
    }
    guard, passed = guard_for(FakeLookups(bucket_policy=policy))
    status, _ = call(guard, signed_environ("s3", "PutObject", Bucket="b", Key="k", Body=b"x"))
    assert status.startswith("200") and passed


def test_the_ledger_route_serves_denials_by_request_id() -> None:
    guard, _ = guard_for(FakeLookups())
    call(guard, signed_environ("dynamodb", "Scan", TableName="t"))
    status, body = call(
        guard, EnvironBuilder(path="/_harness/iam", query_string="request_id=req-1").get_environ()
    )
    answer = json.loads(body)
    assert status.startswith("200") and answer["mode"] == "enforce"
    assert [d["action"] for d in answer["denials"]] == ["dynamodb:Scan"]
    _, body = call(guard, EnvironBuilder(path="/_harness/iam", query_string="request_id=other").get_environ())
    assert json.loads(body)["denials"] == []


def test_the_ledger_route_marks_a_run_and_serves_it_alone() -> None:
    guard, _ = guard_for(FakeLookups())
    call(guard, signed_environ("dynamodb", "Scan", TableName="t"))
    status, body = call(guard, EnvironBuilder(path="/_harness/iam/mark", method="POST").get_environ())
    assert status.startswith("200") and json.loads(body)["run"] == 1
    _, body = call(guard, EnvironBuilder(path="/_harness/iam", query_string="since=1").get_environ())
    assert json.loads(body)["denials"] == [] and json.loads(body)["since"] == 1
    _, body = call(guard, EnvironBuilder(path="/_harness/iam").get_environ())
    assert [d["action"] for d in json.loads(body)["denials"]] == ["dynamodb:Scan"]
    status, _ = call(guard, EnvironBuilder(path="/_harness/iam/mark").get_environ())
    assert status.startswith("405")
    status, _ = call(guard, EnvironBuilder(path="/_harness/iam", query_string="since=x").get_environ())
    assert status.startswith("400")


# --- the table against the catalog ------------------------------------------------------------------


def _actions_named_in_the_table() -> set[str]:
    source = Path(actions_module.__file__).read_text()
    named = set(re.findall(r'"([a-z0-9-]+:[A-Z][A-Za-z0-9]+)"', source))
    tree = ast.parse(source)
    for node in ast.walk(tree):  # _same_name("svc", "prefix", "A B C", ...)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_same_name":
            prefix, names = (ast.literal_eval(a) for a in node.args[1:3])
            named |= {f"{prefix}:{n}" for n in names.split()}
    return named


def test_every_action_the_table_names_exists_in_the_catalog() -> None:
    catalog = load_catalog()
    named = _actions_named_in_the_table()
    assert len(named) > 100
    unknown = sorted(a for a in named if not catalog.exists(a))
    assert unknown == []


def test_the_cases_above_cover_every_service_of_the_table() -> None:
    services = {service for service, _ in actions_module.TABLE}
    covered = {service for service, *_ in CASES}
    assert services - covered <= {"cloudwatch", "xray"}  # both take "*" only


def test_body_reader_keeps_a_stream_for_moto() -> None:
    # The guard replaces wsgi.input with an in-memory copy; a second read sees the same bytes.
    guard, passed = guard_for(FakeLookups(ALLOW_ALL))
    environ = signed_environ("sqs", "SendMessage", QueueUrl=QURL, MessageBody="hello")
    call(guard, environ)
    assert isinstance(passed[0]["wsgi.input"], io.BytesIO)
    assert b"hello" in passed[0]["wsgi.input"].getvalue()

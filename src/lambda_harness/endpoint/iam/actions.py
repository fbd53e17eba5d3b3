"""From an API operation to the IAM checks AWS makes: action(s), resource ARN(s), context keys.

IAM actions are not operations: ``ListObjectsV2`` needs ``s3:ListBucket`` on the
bucket, ``HeadObject`` ``s3:GetObject``, ``CopyObject`` ``s3:PutObject`` on the
target and ``s3:GetObject`` on the source, ``BatchWriteItem`` one check per table.
``TABLE`` holds one builder per (service, operation) the functions commonly call;
an operation not in it is let through and listed as *not evaluated*, never
silently passed. Service names are botocore's (``stepfunctions``, not ``states``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from lambda_harness.endpoint.iam.evaluate import Check


@dataclass(frozen=True)
class Operation:
    """One parsed request of a function session."""

    service: str
    name: str
    params: Mapping[str, Any]
    region: str
    account: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def arn(self, service: str, rest: str, *, region: str | None = None, account: str | None = None) -> str:
        """``arn:aws:<service>:<region>:<account>:<rest>`` in the caller's region and account."""
        return (
            f"arn:aws:{service}:{self.region if region is None else region}:{account or self.account}:{rest}"
        )


class Lookups(Protocol):
    """What some ARNs need from the endpoint's data (``lookups.MotoLookups``)."""

    def secret_arn(self, account: str, region: str, secret_id: str) -> str | None: ...

    def key_arn(self, account: str, region: str, key_id: str) -> str | None: ...

    def key_of_ciphertext(self, account: str, region: str, blob: bytes) -> str | None: ...


Builder = Callable[[Operation, Lookups], list[Check]]


class NotEvaluable(Exception):
    """The request lacks what its ARN needs (the guard lets it pass, listed as not evaluated)."""


def _param(op: Operation, name: str) -> str:
    value = op.params.get(name)
    if value in (None, ""):
        raise NotEvaluable(f"no {name} in the request")
    return str(value)


# --- S3 ----------------------------------------------------------------------------------------------


def _bucket(op: Operation) -> str:
    return f"arn:aws:s3:::{_param(op, 'Bucket')}"


def _object(op: Operation) -> str:
    return f"arn:aws:s3:::{_param(op, 'Bucket')}/{_param(op, 'Key')}"


def _s3_object(action: str, versioned: str | None = None) -> Builder:
    def build(op: Operation, _: Lookups) -> list[Check]:
        name = versioned if versioned and op.params.get("VersionId") else action
        return [Check(name, _object(op))]

    return build


def _s3_put(op: Operation, _: Lookups) -> list[Check]:
    context: dict[str, tuple[str, ...]] = {}
    for param, key in (("ServerSideEncryption", "s3:x-amz-server-side-encryption"), ("ACL", "s3:x-amz-acl")):
        if op.params.get(param):
            context[key] = (str(op.params[param]),)
    return [Check("s3:PutObject", _object(op), context)]


def _copy_source(op: Operation) -> str:
    source = unquote(_param(op, "CopySource")).lstrip("/")
    source, _, _version = source.partition("?versionId=")
    return f"arn:aws:s3:::{source}"


def _s3_copy(op: Operation, lookups: Lookups) -> list[Check]:
    return [*_s3_put(op, lookups), Check("s3:GetObject", _copy_source(op))]


def _s3_upload_part_copy(op: Operation, _: Lookups) -> list[Check]:
    return [Check("s3:PutObject", _object(op)), Check("s3:GetObject", _copy_source(op))]


def _s3_delete_many(op: Operation, _: Lookups) -> list[Check]:
    bucket = _param(op, "Bucket")
    objects = (op.params.get("Delete") or {}).get("Objects") or []
    checks = []
    for item in objects:
        action = "s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject"
        checks.append(Check(action, f"arn:aws:s3:::{bucket}/{item.get('Key', '')}"))
    return checks


def _s3_list(action: str) -> Builder:
    def build(op: Operation, _: Lookups) -> list[Check]:
        context: dict[str, tuple[str, ...]] = {"s3:prefix": (str(op.params.get("Prefix") or ""),)}
        if op.params.get("Delimiter"):
            context["s3:delimiter"] = (str(op.params["Delimiter"]),)
        if op.params.get("MaxKeys") is not None:
            context["s3:max-keys"] = (str(op.params["MaxKeys"]),)
        return [Check(action, _bucket(op), context)]

    return build


def _s3_bucket(action: str) -> Builder:
    return lambda op, _: [Check(action, _bucket(op))]


def _anywhere(action: str) -> Builder:
    return lambda op, _: [Check(action, "*")]


# --- DynamoDB --------------------------------------------------------------------------------------


def _table(op: Operation, name: str) -> str:
    return name if name.startswith("arn:") else op.arn("dynamodb", f"table/{name}")


def _ddb(action: str) -> Builder:
    def build(op: Operation, _: Lookups) -> list[Check]:
        table = _table(op, _param(op, "TableName"))
        if op.params.get("IndexName"):
            table = f"{table}/index/{op.params['IndexName']}"
        return [Check(action, table)]

    return build


def _ddb_batch(action: str) -> Builder:
    def build(op: Operation, _: Lookups) -> list[Check]:
        return [Check(action, _table(op, str(name))) for name in op.params.get("RequestItems") or {}]

    return build


_TRANSACT = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def _ddb_transact(op: Operation, _: Lookups) -> list[Check]:
    checks = []
    for item in op.params.get("TransactItems") or []:
        for kind, body in item.items():
            if kind in _TRANSACT:
                checks.append(Check(_TRANSACT[kind], _table(op, str(body.get("TableName", "")))))
    return checks


# --- SQS, SNS, EventBridge -----------------------------------------------------------------------------


def _queue(op: Operation) -> str:
    url = op.params.get("QueueUrl")
    if url:
        parts = [p for p in urlparse(str(url)).path.split("/") if p]
        if len(parts) >= 2:
            return op.arn("sqs", parts[-1], account=parts[-2])
        if parts:
            return op.arn("sqs", parts[-1])
    if op.params.get("QueueName"):
        owner = op.params.get("QueueOwnerAWSAccountId") or op.params.get("AccountId")
        return op.arn("sqs", str(op.params["QueueName"]), account=str(owner) if owner else None)
    raise NotEvaluable("no QueueUrl in the request")


def _sqs(action: str) -> Builder:
    return lambda op, _: [Check(action, _queue(op))]


def _topic(op: Operation) -> str:
    for name in ("TopicArn", "TargetArn"):
        if op.params.get(name):
            return str(op.params[name])
    if op.params.get("PhoneNumber"):
        return "*"
    raise NotEvaluable("no TopicArn in the request")


def _sns(action: str) -> Builder:
    return lambda op, _: [Check(action, _topic(op))]


def _sns_create(op: Operation, _: Lookups) -> list[Check]:
    return [Check("sns:CreateTopic", op.arn("sns", _param(op, "Name")))]


def _bus(op: Operation, name: str | None) -> str:
    name = name or "default"
    return name if name.startswith("arn:") else op.arn("events", f"event-bus/{name}")


def _put_events(op: Operation, _: Lookups) -> list[Check]:
    checks = []
    for entry in op.params.get("Entries") or []:
        context = {
            key: (str(entry[param]),)
            for param, key in (("Source", "events:source"), ("DetailType", "events:detail-type"))
            if entry.get(param)
        }
        checks.append(Check("events:PutEvents", _bus(op, entry.get("EventBusName")), context))
    return checks


# --- Lambda, Logs, SSM, Secrets Manager, KMS, Kinesis, Step Functions, STS ----------------------------


def _function(op: Operation) -> str:
    name = unquote(_param(op, "FunctionName"))
    qualifier = op.params.get("Qualifier")
    if name.startswith("arn:"):
        arn = name
    elif ":function:" in name:  # partial ARN: 123456789012:function:name
        arn = f"arn:aws:lambda:{op.region}:{name}"
    else:
        arn = op.arn("lambda", f"function:{name}")
    if qualifier and arn.count(":") == 6:
        arn = f"{arn}:{qualifier}"
    return arn


def _lambda(action: str) -> Builder:
    return lambda op, _: [Check(action, _function(op))]


def _log_group(op: Operation) -> str:
    return op.arn("logs", f"log-group:{_param(op, 'logGroupName')}")


def _log_stream(op: Operation) -> str:
    return f"{_log_group(op)}:log-stream:{_param(op, 'logStreamName')}"


def _logs(action: str, target: Callable[[Operation], str]) -> Builder:
    return lambda op, _: [Check(action, target(op))]


def _parameter(op: Operation, name: str) -> str:
    return name if name.startswith("arn:") else op.arn("ssm", f"parameter/{name.lstrip('/')}")


def _ssm(action: str, param: str = "Name") -> Builder:
    return lambda op, _: [Check(action, _parameter(op, _param(op, param)))]


def _ssm_many(action: str) -> Builder:
    return lambda op, _: [Check(action, _parameter(op, str(n))) for n in op.params.get("Names") or []]


def _secret(action: str, param: str = "SecretId") -> Builder:
    def build(op: Operation, lookups: Lookups) -> list[Check]:
        ident = _param(op, param)
        arn = lookups.secret_arn(op.account, op.region, ident)
        if arn is None:
            arn = ident if ident.startswith("arn:") else op.arn("secretsmanager", f"secret:{ident}")
        return [Check(action, arn)]

    return build


def _key_arn(op: Operation, lookups: Lookups, key_id: str) -> str:
    arn = lookups.key_arn(op.account, op.region, key_id)
    if arn is None:
        if key_id.startswith("arn:"):
            return key_id
        raise NotEvaluable(f"KMS key {key_id} is not on the endpoint")
    return arn


def _kms(action: str) -> Builder:
    def build(op: Operation, lookups: Lookups) -> list[Check]:
        context: dict[str, tuple[str, ...]] = {}
        for k, v in (op.params.get("EncryptionContext") or {}).items():
            context[f"kms:encryptioncontext:{k}"] = (str(v),)
        if op.params.get("KeyId"):
            return [Check(action, _key_arn(op, lookups, str(op.params["KeyId"])), context)]
        blob = op.params.get("CiphertextBlob")
        if blob:
            raw = blob if isinstance(blob, bytes) else base64.b64decode(str(blob))
            key = lookups.key_of_ciphertext(op.account, op.region, raw)
            if key is not None:
                return [Check(action, key, context)]
        raise NotEvaluable("no KeyId, and the ciphertext names no key on the endpoint")

    return build


def _stream(op: Operation) -> str:
    if op.params.get("StreamARN"):
        return str(op.params["StreamARN"])
    return op.arn("kinesis", f"stream/{_param(op, 'StreamName')}")


def _kinesis(action: str) -> Builder:
    return lambda op, _: [Check(action, _stream(op))]


def _arn_param(action: str, param: str) -> Builder:
    return lambda op, _: [Check(action, _param(op, param))]


def _put_metric_data(op: Operation, _: Lookups) -> list[Check]:
    context = {"cloudwatch:namespace": (str(op.params["Namespace"]),)} if op.params.get("Namespace") else {}
    return [Check("cloudwatch:PutMetricData", "*", context)]


def _same_name(
    service: str, prefix: str, names: str, build: Callable[[str], Builder]
) -> dict[tuple[str, str], Builder]:
    return {(service, name): build(f"{prefix}:{name}") for name in names.split()}


#: (botocore service, operation) -> builder of the checks AWS makes.
TABLE: dict[tuple[str, str], Builder] = {
    # S3: objects
    ("s3", "GetObject"): _s3_object("s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "HeadObject"): _s3_object("s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "SelectObjectContent"): _s3_object("s3:GetObject"),
    ("s3", "GetObjectAttributes"): _s3_object("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
    ("s3", "PutObject"): _s3_put,
    ("s3", "CreateMultipartUpload"): _s3_put,
    ("s3", "UploadPart"): _s3_object("s3:PutObject"),
    ("s3", "CompleteMultipartUpload"): _s3_object("s3:PutObject"),
    ("s3", "AbortMultipartUpload"): _s3_object("s3:AbortMultipartUpload"),
    ("s3", "ListParts"): _s3_object("s3:ListMultipartUploadParts"),
    ("s3", "CopyObject"): _s3_copy,
    ("s3", "UploadPartCopy"): _s3_upload_part_copy,
    ("s3", "DeleteObject"): _s3_object("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "DeleteObjects"): _s3_delete_many,
    ("s3", "GetObjectTagging"): _s3_object("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    ("s3", "PutObjectTagging"): _s3_object("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    ("s3", "DeleteObjectTagging"): _s3_object("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
    ("s3", "GetObjectAcl"): _s3_object("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    ("s3", "PutObjectAcl"): _s3_object("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    ("s3", "RestoreObject"): _s3_object("s3:RestoreObject"),
    # S3: buckets
    ("s3", "ListObjects"): _s3_list("s3:ListBucket"),
    ("s3", "ListObjectsV2"): _s3_list("s3:ListBucket"),
    ("s3", "HeadBucket"): _s3_bucket("s3:ListBucket"),
    ("s3", "ListObjectVersions"): _s3_list("s3:ListBucketVersions"),
    ("s3", "ListMultipartUploads"): _s3_bucket("s3:ListBucketMultipartUploads"),
    ("s3", "GetBucketLocation"): _s3_bucket("s3:GetBucketLocation"),
    ("s3", "GetBucketPolicy"): _s3_bucket("s3:GetBucketPolicy"),
    ("s3", "GetBucketTagging"): _s3_bucket("s3:GetBucketTagging"),
    ("s3", "GetBucketVersioning"): _s3_bucket("s3:GetBucketVersioning"),
    ("s3", "GetBucketNotificationConfiguration"): _s3_bucket("s3:GetBucketNotification"),
    ("s3", "ListBuckets"): _anywhere("s3:ListAllMyBuckets"),
    # DynamoDB
    **_same_name(
        "dynamodb",
        "dynamodb",
        "GetItem PutItem UpdateItem DeleteItem DescribeTable Query Scan DescribeTimeToLive "
        "UpdateTable DeleteTable CreateTable DescribeContinuousBackups",
        _ddb,
    ),
    ("dynamodb", "BatchGetItem"): _ddb_batch("dynamodb:BatchGetItem"),
    ("dynamodb", "BatchWriteItem"): _ddb_batch("dynamodb:BatchWriteItem"),
    ("dynamodb", "TransactWriteItems"): _ddb_transact,
    ("dynamodb", "TransactGetItems"): _ddb_transact,
    ("dynamodb", "ListTables"): _anywhere("dynamodb:ListTables"),
    # SQS
    **_same_name(
        "sqs",
        "sqs",
        "SendMessage ReceiveMessage DeleteMessage ChangeMessageVisibility GetQueueAttributes "
        "SetQueueAttributes PurgeQueue GetQueueUrl DeleteQueue ListQueueTags CreateQueue",
        _sqs,
    ),
    ("sqs", "SendMessageBatch"): _sqs("sqs:SendMessage"),
    ("sqs", "DeleteMessageBatch"): _sqs("sqs:DeleteMessage"),
    ("sqs", "ChangeMessageVisibilityBatch"): _sqs("sqs:ChangeMessageVisibility"),
    ("sqs", "ListQueues"): _anywhere("sqs:ListQueues"),
    # SNS
    ("sns", "Publish"): _sns("sns:Publish"),
    ("sns", "PublishBatch"): _sns("sns:Publish"),
    ("sns", "GetTopicAttributes"): _sns("sns:GetTopicAttributes"),
    ("sns", "Subscribe"): _sns("sns:Subscribe"),
    ("sns", "ListSubscriptionsByTopic"): _sns("sns:ListSubscriptionsByTopic"),
    ("sns", "CreateTopic"): _sns_create,
    ("sns", "ListTopics"): _anywhere("sns:ListTopics"),
    # EventBridge
    ("events", "PutEvents"): _put_events,
    # Lambda (Invoke is served by our own route; the guard sees it first)
    ("lambda", "Invoke"): _lambda("lambda:InvokeFunction"),
    ("lambda", "InvokeAsync"): _lambda("lambda:InvokeFunction"),
    ("lambda", "InvokeWithResponseStream"): _lambda("lambda:InvokeFunction"),
    **_same_name(
        "lambda",
        "lambda",
        "GetFunction GetFunctionConfiguration GetAlias ListVersionsByFunction ListAliases "
        "GetPolicy UpdateFunctionCode UpdateFunctionConfiguration",
        _lambda,
    ),
    ("lambda", "ListFunctions"): _anywhere("lambda:ListFunctions"),
    # CloudWatch Logs
    ("logs", "CreateLogGroup"): _logs("logs:CreateLogGroup", _log_group),
    ("logs", "CreateLogStream"): _logs("logs:CreateLogStream", _log_stream),
    ("logs", "PutLogEvents"): _logs("logs:PutLogEvents", _log_stream),
    ("logs", "GetLogEvents"): _logs("logs:GetLogEvents", _log_stream),
    ("logs", "DescribeLogStreams"): _logs("logs:DescribeLogStreams", lambda op: f"{_log_group(op)}:*"),
    ("logs", "FilterLogEvents"): _logs("logs:FilterLogEvents", lambda op: f"{_log_group(op)}:*"),
    ("logs", "DescribeLogGroups"): _anywhere("logs:DescribeLogGroups"),
    # SSM Parameter Store
    ("ssm", "GetParameter"): _ssm("ssm:GetParameter"),
    ("ssm", "GetParameterHistory"): _ssm("ssm:GetParameterHistory"),
    ("ssm", "PutParameter"): _ssm("ssm:PutParameter"),
    ("ssm", "DeleteParameter"): _ssm("ssm:DeleteParameter"),
    ("ssm", "GetParameters"): _ssm_many("ssm:GetParameters"),
    ("ssm", "DeleteParameters"): _ssm_many("ssm:DeleteParameters"),
    ("ssm", "GetParametersByPath"): _ssm("ssm:GetParametersByPath", "Path"),
    ("ssm", "DescribeParameters"): _anywhere("ssm:DescribeParameters"),
    # Secrets Manager
    **_same_name(
        "secretsmanager",
        "secretsmanager",
        "GetSecretValue DescribeSecret PutSecretValue UpdateSecret DeleteSecret TagResource",
        _secret,
    ),
    ("secretsmanager", "CreateSecret"): _secret("secretsmanager:CreateSecret", "Name"),
    ("secretsmanager", "ListSecrets"): _anywhere("secretsmanager:ListSecrets"),
    # KMS
    **_same_name(
        "kms",
        "kms",
        "Decrypt Encrypt GenerateDataKey GenerateDataKeyWithoutPlaintext DescribeKey Sign Verify GenerateMac",
        _kms,
    ),
    # Kinesis, Step Functions, CloudWatch, X-Ray, STS
    ("kinesis", "PutRecord"): _kinesis("kinesis:PutRecord"),
    ("kinesis", "PutRecords"): _kinesis("kinesis:PutRecords"),
    ("kinesis", "DescribeStream"): _kinesis("kinesis:DescribeStream"),
    ("kinesis", "DescribeStreamSummary"): _kinesis("kinesis:DescribeStreamSummary"),
    ("stepfunctions", "StartExecution"): _arn_param("states:StartExecution", "stateMachineArn"),
    ("stepfunctions", "StartSyncExecution"): _arn_param("states:StartSyncExecution", "stateMachineArn"),
    ("stepfunctions", "DescribeExecution"): _arn_param("states:DescribeExecution", "executionArn"),
    ("stepfunctions", "SendTaskSuccess"): _anywhere("states:SendTaskSuccess"),
    ("stepfunctions", "SendTaskFailure"): _anywhere("states:SendTaskFailure"),
    ("cloudwatch", "PutMetricData"): _put_metric_data,
    ("xray", "PutTraceSegments"): _anywhere("xray:PutTraceSegments"),
    ("xray", "PutTelemetryRecords"): _anywhere("xray:PutTelemetryRecords"),
    ("sts", "AssumeRole"): _arn_param("sts:AssumeRole", "RoleArn"),
}

#: Operations AWS answers for any caller: no check, nothing recorded.
ALWAYS_ALLOWED = frozenset({("sts", "GetCallerIdentity")})


def checks_for(op: Operation, lookups: Lookups) -> list[Check] | None:
    """The checks ``op`` needs (all must allow); None when the table has no row for it.

    Raises NotEvaluable when the request lacks what the ARN needs.
    """
    build = TABLE.get((op.service, op.name))
    if build is None:
        return None
    return build(op, lookups)

"""Fidelity of Invoke through the endpoint, held against AWS's recorded answers (one case per behaviour).

Items of issue 11: 1 (the invoked ARN through aliases and ``:$LATEST``) and 4 (messages: exit 0,
a missing function, a non-serializable return). Real endpoint, real workers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_harness import net
from support.endpoint import handler_zip

INTROSPECT = """
import os

def handler(event, context):
    return {"arn": context.invoked_function_arn, "pid": os.getpid()}
"""


def done(out_dir: Path) -> list[Path]:
    """Files a handler finished writing (it renames ``<id>.tmp`` into place)."""
    return [p for p in out_dir.iterdir() if p.suffix != ".tmp"]


def payload(resp: dict[str, Any]) -> Any:
    return json.loads(resp["Payload"].read())


def test_invoked_arn_is_what_the_caller_named(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    """AWS: alias -> ``:live`` (ExecutedVersion 1); ``$LATEST`` and versions kept; bare if unqualified."""
    lam = aws("lambda")
    name = deploy("handler", code=handler_zip(INTROSPECT))
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    cases = [
        ({"FunctionName": name}, arn, "$LATEST"),
        ({"FunctionName": name, "Qualifier": "$LATEST"}, f"{arn}:$LATEST", "$LATEST"),
        ({"FunctionName": name, "Qualifier": "1"}, f"{arn}:1", "1"),
        ({"FunctionName": name, "Qualifier": "live"}, f"{arn}:live", "1"),
        ({"FunctionName": f"{arn}:live"}, f"{arn}:live", "1"),
    ]
    pids: dict[str, set[int]] = {}
    for kwargs, invoked, version in cases:
        resp = lam.invoke(Payload=b"{}", **kwargs)
        body = payload(resp)
        assert (body["arn"], resp["ExecutedVersion"]) == (invoked, version), kwargs
        pids.setdefault(version, set()).add(body["pid"])
    # The invoked ARN is per invocation: version 1 and its alias share one warm environment.
    assert len(pids["1"]) == 1


def test_mapping_through_an_alias_invokes_with_the_alias_arn(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path
) -> None:
    """AWS keeps an event source mapping's alias in its FunctionArn and in the invoked ARN."""
    lam, sqs = aws("lambda"), aws("sqs")
    recorder = INTROSPECT + (
        "\nimport pathlib\n"
        "def record(event, context):\n"
        "    tmp = pathlib.Path(os.environ['OUT_DIR'], context.aws_request_id + '.tmp')\n"
        "    tmp.write_text(context.invoked_function_arn)\n"
        "    tmp.rename(tmp.with_suffix(''))  # tests never read half a file\n"
    )
    name = deploy("record", code=handler_zip(recorder), env={"OUT_DIR": str(out_dir)})
    lam.publish_version(FunctionName=name)
    alias_arn = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")["AliasArn"]
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    esm = lam.create_event_source_mapping(FunctionName=f"{name}:live", EventSourceArn=queue_arn, BatchSize=1)
    assert esm["FunctionArn"] == alias_arn
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    net.wait_until(lambda: done(out_dir), 30, what="the mapping's invocation")
    assert [p.read_text() for p in done(out_dir)] == [alias_arn]
    lam.delete_event_source_mapping(UUID=esm["UUID"])


def test_qualifier_mismatch_is_invalid_parameter(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    name = deploy("echo")
    with pytest.raises(ClientError) as info:
        aws("lambda").invoke(FunctionName=f"{name}:live", Qualifier="1", Payload=b"{}")
    error = info.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert (
        error["Message"]
        == "The derived qualifier from the function name does not match the specified qualifier."
    )


EXITS = """
import datetime, os, sys

if os.environ.get("EXIT_AT_IMPORT"):
    sys.exit(0)

def exit_zero(event, context):
    sys.exit(0)

def exit_three(event, context):
    sys.exit(3)

def when(event, context):
    return {"now": datetime.datetime(2026, 1, 1)}
"""


@pytest.mark.parametrize(
    ("handler", "env", "reason"),
    [
        ("exit_zero", {}, "Runtime exited without providing a reason"),
        ("exit_zero", {"EXIT_AT_IMPORT": "1"}, "Runtime exited without providing a reason"),
        ("exit_three", {}, "Runtime exited with error: exit status 3"),
    ],
    ids=["exit0-handler", "exit0-import", "exit3"],
)
def test_runtime_exit_messages(
    aws: Callable[[str], Any], deploy: Callable[..., str], handler: str, env: dict[str, str], reason: str
) -> None:
    """AWS (test_lambda_handler_exit / test_lambda_runtime_exit, python3.12): exit 0 has no reason."""
    name = deploy(handler, code=handler_zip(EXITS), env=env)
    resp = aws("lambda").invoke(FunctionName=name, Payload=b"{}")
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert resp["FunctionError"] == "Unhandled"
    assert payload(resp) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: {reason}",
    }


def test_non_serializable_return_is_marshal_error(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    """awslambdaric's marshaller, byte for byte what AWS answers (a regression guard for upgrades)."""
    resp = aws("lambda").invoke(FunctionName=deploy("when", code=handler_zip(EXITS)), Payload=b"{}")
    assert resp["FunctionError"] == "Unhandled"
    assert payload(resp) == {
        "errorMessage": "Unable to marshal response: Object of type datetime is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": resp["ResponseMetadata"]["RequestId"],
        "stackTrace": [],
    }


@pytest.mark.parametrize(
    ("call", "kwargs", "suffix"),
    [
        ("invoke", {"FunctionName": "doesnotexist", "Payload": b"{}"}, "doesnotexist:$LATEST"),
        ("invoke", {"FunctionName": "doesnotexist", "Qualifier": "1", "Payload": b"{}"}, "doesnotexist:1"),
        ("get_function", {"FunctionName": "doesnotexist"}, "doesnotexist"),
    ],
)
def test_missing_function_messages(
    aws: Callable[[str], Any], call: str, kwargs: dict[str, Any], suffix: str
) -> None:
    """AWS (test_invoke_exceptions, 2025-11): only Invoke adds ``:$LATEST`` to an unqualified miss."""
    with pytest.raises(ClientError) as info:
        getattr(aws("lambda"), call)(**kwargs)
    error = info.value.response["Error"]
    assert error["Code"] == "ResourceNotFoundException"
    assert error["Message"] == f"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{suffix}"


RESERVED_MESSAGE = (
    "Lambda was unable to configure your environment variables because the environment variables "
    "you have provided contains reserved keys that are currently not supported for modification. "
    "Reserved keys used in this request: "
)


def test_reserved_environment_keys_are_refused(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    """AWS: CreateFunction and UpdateFunctionConfiguration refuse AWS_REGION & co. (400)."""
    lam = aws("lambda")
    with pytest.raises(ClientError) as created:
        deploy("echo", env={"TABLE": "t", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "x"})
    error = created.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == RESERVED_MESSAGE + "AWS_REGION, AWS_ACCESS_KEY_ID"
    assert created.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    name = deploy("echo", env={"TZ": "Europe/Paris", "AWS_ENDPOINT_URL": "http://x", "PATH": "/bin"})
    with pytest.raises(ClientError) as updated:
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"_HANDLER": "app.other"}}
        )
    assert updated.value.response["Error"]["Message"] == RESERVED_MESSAGE + "_HANDLER"
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    assert variables == {"TZ": "Europe/Paris", "AWS_ENDPOINT_URL": "http://x", "PATH": "/bin"}

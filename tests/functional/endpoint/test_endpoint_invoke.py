"""Invoke through boto3 -> endpoint -> real runtime workers, with AWS's semantics."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_harness.endpoint.server import EmbeddedEndpoint
from support.endpoint import handler_zip


def test_request_response_returns_payload_and_version(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    name = deploy("echo")
    resp = aws("lambda").invoke(FunctionName=name, Payload=b'{"a": 1}')
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    body = json.loads(resp["Payload"].read())
    assert body["event"] == {"a": 1}
    assert body["arn"].endswith(f":function:{name}")


def test_tail_log_decodes_to_start_end_report(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    name = deploy("echo")
    resp = aws("lambda").invoke(FunctionName=name, Payload=b'{"k": "v"}', LogType="Tail")
    log = base64.b64decode(resp["LogResult"]).decode()
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id}" in log
    assert 'event {"k": "v"}' in log
    assert f"END RequestId: {request_id}" in log
    assert f"REPORT RequestId: {request_id}" in log


def test_no_log_result_without_tail(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    resp = aws("lambda").invoke(FunctionName=deploy("echo"), Payload=b"{}")
    assert "LogResult" not in resp


def test_handler_error_is_unhandled_with_aws_error_payload(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    resp = aws("lambda").invoke(FunctionName=deploy("fail"), Payload=b"{}")
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    error = json.loads(resp["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom"
    assert isinstance(error["stackTrace"], list)


def test_logs_reach_cloudwatch(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    name = deploy("echo")
    resp = aws("lambda").invoke(FunctionName=name, Payload=b"{}")
    request_id = resp["ResponseMetadata"]["RequestId"]
    events = aws("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    messages = [e["message"] for e in events]
    assert any(m.startswith(f"START RequestId: {request_id}") for m in messages)
    assert any(m.startswith(f"REPORT RequestId: {request_id}") for m in messages)
    streams = aws("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert any("[$LATEST]" in s["logStreamName"] for s in streams)


def test_unknown_function_is_resource_not_found(aws: Callable[[str], Any]) -> None:
    with pytest.raises(ClientError) as info:
        aws("lambda").invoke(FunctionName="does-not-exist", Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_dry_run_is_204_and_does_not_run(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path
) -> None:
    name = deploy("sink", env={"OUT_DIR": str(out_dir)})
    resp = aws("lambda").invoke(FunctionName=name, InvocationType="DryRun", Payload=b"{}")
    assert resp["StatusCode"] == 204
    aws("lambda").invoke(FunctionName=name, Payload=b'{"after": true}')
    assert [r["event"] for r in json_records(out_dir)] == [{"after": True}]


def json_records(out_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(out_dir.glob("*.json"))]


def test_event_runs_once_on_success(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    wait_records: Callable[..., list[dict[str, Any]]],
    endpoint: EmbeddedEndpoint,
) -> None:
    name = deploy("sink", env={"OUT_DIR": str(out_dir)})
    resp = aws("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    records = wait_records(1)
    assert endpoint.service is not None and endpoint.service.wait_idle(10)
    assert [r["event"] for r in json_records(out_dir)] == [{"n": 1}]
    assert records[0]["request_id"] == resp["ResponseMetadata"]["RequestId"]


def test_event_failure_is_retried_twice_with_same_request_id(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    wait_records: Callable[..., list[dict[str, Any]]],
    endpoint: EmbeddedEndpoint,
) -> None:
    name = deploy("fail", env={"OUT_DIR": str(out_dir)})
    resp = aws("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 2}')
    assert resp["StatusCode"] == 202
    wait_records(3)
    assert endpoint.service is not None and endpoint.service.wait_idle(10)
    records = json_records(out_dir)
    assert len(records) == 3
    assert {r["request_id"] for r in records} == {resp["ResponseMetadata"]["RequestId"]}
    logs = aws("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern="START")["events"]
    assert len([e for e in events if e["message"].startswith("START")]) == 3


def test_event_retries_follow_maximum_retry_attempts(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    endpoint: EmbeddedEndpoint,
) -> None:
    name = deploy("fail", env={"OUT_DIR": str(out_dir)})
    aws("lambda").put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    aws("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    assert endpoint.service is not None and endpoint.service.wait_idle(20)
    assert len(json_records(out_dir)) == 1


def test_qualifiers_version_alias_latest(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    lam = aws("lambda")
    name = deploy("echo", env={"CODE": "v1"})
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"CODE": "v2"}})
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")

    def call(**kwargs: Any) -> tuple[str, str]:
        resp = lam.invoke(FunctionName=name, Payload=b"{}", **kwargs)
        return json.loads(resp["Payload"].read())["code"], resp["ExecutedVersion"]

    assert call() == ("v2", "$LATEST")
    assert call(Qualifier="$LATEST") == ("v2", "$LATEST")
    assert call(Qualifier="1") == ("v1", "1")
    assert call(Qualifier="live") == ("v1", "1")
    resp = lam.invoke(FunctionName=f"{name}:1", Payload=b"{}")
    assert json.loads(resp["Payload"].read())["code"] == "v1"
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName=name, Qualifier="7", Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("invocation_type", "size"), [("RequestResponse", 6 * 1024 * 1024 + 1), ("Event", 1024 * 1024 + 1)]
)
def test_payload_too_large(
    aws: Callable[[str], Any], deploy: Callable[..., str], invocation_type: str, size: int
) -> None:
    name = deploy("echo")
    payload = json.dumps({"x": "a" * (size - 9)}).encode()
    assert len(payload) == size
    with pytest.raises(ClientError) as info:
        aws("lambda").invoke(FunctionName=name, InvocationType=invocation_type, Payload=payload)
    assert info.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_async_payload_just_under_limit_is_accepted(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    payload = json.dumps({"x": "a" * (1024 * 1024 - 100)}).encode()
    resp = aws("lambda").invoke(FunctionName=deploy("echo"), InvocationType="Event", Payload=payload)
    assert resp["StatusCode"] == 202


def test_invalid_json_payload_is_refused(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    with pytest.raises(ClientError) as info:
        aws("lambda").invoke(FunctionName=deploy("echo"), Payload=b"{not json")
    assert info.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_fifty_parallel_invocations_all_answered(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    name = deploy("slow")
    lam = aws("lambda")
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda i: lam.invoke(FunctionName=name, Payload=b"{}"), range(50)))
    assert [r["StatusCode"] for r in responses] == [200] * 50
    assert all("FunctionError" not in r for r in responses)
    assert all(json.loads(r["Payload"].read()) == {"ok": True} for r in responses)


def test_reserved_concurrency_zero_throttles_with_429(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    name = deploy("echo")
    aws("lambda").put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as info:
        aws("lambda").invoke(FunctionName=name, Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert info.value.response.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_client_context_reaches_the_handler(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    source = "def handler(event, context):\n    return context.client_context.custom\n"
    name = deploy("handler", code=handler_zip(source))
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}, "env": {}, "client": {}}).encode())
    resp = aws("lambda").invoke(FunctionName=name, Payload=b"{}", ClientContext=context.decode())
    assert json.loads(resp["Payload"].read()) == {"tenant": "t1"}

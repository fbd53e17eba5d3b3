"""Happy path, environment, warm reuse, logs and layers through real awslambdaric workers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from lambda_harness.endpoint.runtime import FunctionConfig, LambdaRuntime
from lambda_harness.errors import EndpointError

MakeFn = Callable[..., FunctionConfig]

ECHO = """
import os
print("module loaded")

def handler(event, context):
    print("got", event["n"])
    return {
        "echo": event,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "memory": context.memory_limit_in_mb,
        "pid": os.getpid(),
    }
"""

ENV_DUMP = """
import os, sys
def handler(event, context):
    import boto3
    return {"env": dict(os.environ), "version": list(sys.version_info[:2]), "path": sys.path,
            "boto3": boto3.__version__, "boto3_file": boto3.__file__, "cwd": os.getcwd()}
"""


def invoke_json(rt: LambdaRuntime, fn: FunctionConfig, event: Any) -> tuple[Any, Any]:
    result = rt.invoke(fn, json.dumps(event).encode())
    assert result.function_error is None, result.payload
    return json.loads(result.payload), result


def test_invoke_returns_the_handlers_payload_and_context(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    fn = fn_maker({"app.py": ECHO}, timeout_s=7.0, memory_mb=256)
    body, result = invoke_json(runtime, fn, {"n": 1, "text": "héllo"})
    assert body["echo"] == {"n": 1, "text": "héllo"}
    assert body["request_id"] == result.request_id
    assert body["arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:fn_under_test"
    assert 0 < body["remaining_ms"] <= 7000
    assert body["memory"] == "256"
    assert result.error_type is None


def test_request_id_can_be_given(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    fn = fn_maker({"app.py": ECHO})
    result = runtime.invoke(fn, b'{"n": 0}', request_id="11111111-2222-3333-4444-555555555555")
    assert result.request_id == "11111111-2222-3333-4444-555555555555"
    assert json.loads(result.payload)["request_id"] == result.request_id


def test_environment_is_lambdas_and_nothing_of_the_host(
    runtime: LambdaRuntime, fn_maker: MakeFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-secret-must-not-leak")
    monkeypatch.setenv("HARNESS_HOST_ONLY", "1")
    fn = fn_maker({"app.py": ENV_DUMP}, environment={"TABLE": "alerts", "AWS_REGION": "mars-1"})
    body, _ = invoke_json(runtime, fn, {})
    env = body["env"]
    assert env["TABLE"] == "alerts"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"  # reserved wins
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn_under_test"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn_under_test"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4599"
    assert env["TZ"] == ":UTC" and env["LANG"] == "en_US.UTF-8"
    assert body["cwd"] == env["LAMBDA_TASK_ROOT"]
    assert "fn-under-test-role" in env["AWS_SESSION_TOKEN"]
    assert env["AWS_SECRET_ACCESS_KEY"] != "host-secret-must-not-leak"
    assert "HOME" not in env and "HARNESS_HOST_ONLY" not in env
    assert body["version"] == [3, 12]
    assert body["path"][0] == env["LAMBDA_TASK_ROOT"]
    assert not [p for p in body["path"] if p.endswith("site-packages") and ".pyenv" in p]
    assert body["boto3"] == "1.40.4"
    assert body["boto3_file"].startswith(env["LAMBDA_RUNTIME_DIR"])


def test_bundled_boto3_wins_over_the_runtimes(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    files = {"app.py": ENV_DUMP, "boto3/__init__.py": "__version__ = '0.0.bundled'\n"}
    body, _ = invoke_json(runtime, fn_maker(files), {})
    assert body["boto3"] == "0.0.bundled"


def test_warm_reuse_keeps_the_process_and_logs_init_only_on_cold(
    runtime: LambdaRuntime, fn_maker: MakeFn
) -> None:
    fn = fn_maker({"app.py": ECHO})
    first, cold = invoke_json(runtime, fn, {"n": 1})
    second, warm = invoke_json(runtime, fn, {"n": 2})
    assert first["pid"] == second["pid"]
    assert cold.cold and cold.init_ms is not None and cold.init_ms > 0
    assert not warm.cold and warm.init_ms is None
    lines = cold.log.splitlines()
    assert lines.index("module loaded") < lines.index(f"START RequestId: {cold.request_id} Version: $LATEST")
    assert "got 1" in lines
    assert lines[-2] == f"END RequestId: {cold.request_id}"
    report = lines[-1]
    assert report.startswith(f"REPORT RequestId: {cold.request_id}\tDuration: ")
    assert "\tBilled Duration: " in report and "\tMemory Size: 128 MB\t" in report
    assert re.search(r"\tMax Memory Used: \d+ MB\t", report)
    assert re.search(r"\tInit Duration: \d+\.\d\d ms\t", report)
    assert "Init Duration" not in warm.log and "module loaded" not in warm.log
    assert "got 2" in warm.log.splitlines()
    assert warm.billed_ms >= 1 and warm.max_memory_mb > 0


def test_every_printed_line_is_in_the_invocations_log(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    src = "def handler(e, c):\n    for i in range(2000):\n        print('line', i)\n    return 'done'\n"
    fn = fn_maker({"app.py": src})
    for _ in range(3):
        result = runtime.invoke(fn, b"{}")
        lines = result.log.splitlines()
        assert [ln for ln in lines if ln.startswith("line ")] == [f"line {i}" for i in range(2000)]


def test_layers_are_on_the_path_in_order(runtime: LambdaRuntime, fn_maker: MakeFn, zip_maker: Any) -> None:
    first = zip_maker({"python/shared.py": "WHO = 'first'\n", "python/only_first.py": "X = 1\n"})
    second = zip_maker(
        {"python/shared.py": "WHO = 'second'\n", "python/lib/python3.12/site-packages/deep.py": "Y = 2\n"}
    )
    src = (
        "import shared, only_first, deep\ndef handler(e, c):\n    return [shared.WHO, only_first.X, deep.Y]\n"
    )
    fn = fn_maker({"app.py": src}, layers=(first, second))
    body, _ = invoke_json(runtime, fn, {})
    assert body == ["second", 1, 2]


def test_code_hash_mismatch_is_a_harness_error(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    fn = fn_maker({"app.py": ECHO})
    bad = replace(fn, code_sha256=fn_maker({"app.py": "# other\n"}).code_sha256)
    with pytest.raises(EndpointError, match=r"fn_under_test.*does not match its CodeSha256"):
        runtime.invoke(bad, b"{}")


def test_new_code_retires_the_old_environment(
    runtime: LambdaRuntime, fn_maker: MakeFn, process_gone: Callable[[int], bool]
) -> None:
    v1 = fn_maker({"app.py": ECHO})
    v2 = fn_maker({"app.py": ECHO + "\n# v2\n"})
    old, _ = invoke_json(runtime, v1, {"n": 1})
    new, result = invoke_json(runtime, v2, {"n": 2})
    assert result.cold and new["pid"] != old["pid"]
    assert process_gone(old["pid"])


def test_arm64_runs_natively_with_a_warning(runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    fn = fn_maker({"app.py": ECHO}, architecture="arm64")
    result = runtime.invoke(fn, b'{"n": 1}')
    assert result.function_error is None
    assert "is arm64 but runs natively" in result.log
    assert "fidelity.md#architecture-arm64-functions-on-an-x86_64-host" in result.log


def test_client_context_and_cognito_identity_reach_the_context(
    runtime: LambdaRuntime, fn_maker: MakeFn
) -> None:
    src = (
        "def handler(e, c):\n"
        "    return {'custom': c.client_context.custom, 'app': c.client_context.client.app_title,\n"
        "            'identity': c.identity.cognito_identity_id}\n"
    )
    context = json.dumps({"client": {"app_title": "ünïcode app"}, "custom": {"k": "v"}, "env": {}})
    identity = json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"})
    result = runtime.invoke(
        fn_maker({"app.py": src}), b"{}", client_context=context, cognito_identity=identity
    )
    assert json.loads(result.payload) == {"custom": {"k": "v"}, "app": "ünïcode app", "identity": "id-1"}

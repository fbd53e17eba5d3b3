"""The worker environment: Lambda's variables, nothing from the host."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.endpoint.runtime.env import (
    Paths,
    build_env,
    fake_credentials,
    python_path,
    reserved_overrides,
)
from lambda_harness.endpoint.runtime.model import FunctionConfig


def fn(**env: str) -> FunctionConfig:
    return FunctionConfig(
        name="alerts_api",
        version="$LATEST",
        handler="alerts_api.app.handler",
        runtime="python3.12",
        architecture="x86_64",
        memory_mb=512,
        timeout_s=10.0,
        environment=env,
        code_sha256="x",
        code_zip=b"",
        layers=(),
        region="eu-central-1",
        account_id="000000000000",
        role_arn="arn:aws:iam::000000000000:role/alerts-api-role",
        reserved_concurrency=None,
        endpoint_url="http://127.0.0.1:4566",
    )


PATHS = Paths(
    task_root=Path("/w/code/abc"),
    opt_dir=Path("/w/opt/def"),
    runtime_dir=Path("/c/runtimes/python3.12-x86_64"),
    interpreter=Path("/py/3.12.1/bin/python3.12"),
    python_version=(3, 12),
)


def build(**env: str) -> dict[str, str]:
    return build_env(fn(**env), PATHS, api_address="127.0.0.1:40001", log_stream="2026/11/28/[$LATEST]ab")


def test_reserved_variables_are_set_and_win_over_the_functions() -> None:
    env = build(AWS_REGION="us-west-2", _HANDLER="evil.handler", TABLE="alerts")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-central-1"
    assert env["_HANDLER"] == "alerts_api.app.handler"
    assert env["TABLE"] == "alerts"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "alerts_api"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:40001"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/alerts_api"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == "2026/11/28/[$LATEST]ab"
    assert env["LAMBDA_TASK_ROOT"] == "/w/code/abc"
    assert env["LAMBDA_RUNTIME_DIR"] == "/c/runtimes/python3.12-x86_64"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["TZ"] == ":UTC" and env["LANG"] == "en_US.UTF-8"


def test_nothing_comes_from_the_host() -> None:
    env = build()
    assert "HOME" not in env and "USER" not in env and "VIRTUAL_ENV" not in env
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and len(env["AWS_ACCESS_KEY_ID"]) == 20
    assert "alerts-api-role" in env["AWS_SESSION_TOKEN"]


def test_unreserved_defaults_may_be_extended_by_the_function() -> None:
    assert build()["PATH"].split(":")[:4] == ["/py/3.12.1/bin", "/usr/local/bin", "/usr/bin/", "/bin"]
    assert build()["PATH"].endswith("/w/opt/def/bin")
    assert build(TZ="Europe/Paris")["TZ"] == "Europe/Paris"
    assert "/w/opt/def/lib" in build()["LD_LIBRARY_PATH"].split(":")


def test_python_path_at_start_is_the_functions_then_the_runtime_folder() -> None:
    """The worker starts with the runtime folder on PYTHONPATH (its sitecustomize hides host packages);
    bootstrap.py then applies Lambda's order (see test_fidelity_bootstrap)."""
    assert python_path(PATHS) == "/c/runtimes/python3.12-x86_64"
    assert build(PYTHONPATH="/extra")["PYTHONPATH"] == "/extra:/c/runtimes/python3.12-x86_64"


def test_fake_credentials_are_stable_per_role_and_reserved_overrides_are_listed() -> None:
    assert fake_credentials("arn:aws:iam::1:role/a") == fake_credentials("arn:aws:iam::1:role/a")
    assert fake_credentials("arn:aws:iam::1:role/a") != fake_credentials("arn:aws:iam::1:role/b")
    assert reserved_overrides({"AWS_REGION": "x", "TABLE": "t", "_HANDLER": "h"}) == [
        "AWS_REGION",
        "_HANDLER",
    ]

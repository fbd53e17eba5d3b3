"""Fixtures for the endpoint's functional tests: a real endpoint on a free port, real workers."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambda_harness import net
from lambda_harness.endpoint.runtime import InterpreterFinder, make_runtime
from lambda_harness.endpoint.server import EmbeddedEndpoint, Timing
from lambda_harness.ui import PlainUI
from support.endpoint import handler_zip, make_settings, read_records


@pytest.fixture(scope="session")
def endpoint_cache() -> Path:
    """Runtime folders are installed once per machine, as the real CLI does."""
    if InterpreterFinder.from_environ(os.environ).find((3, 12)) is None:
        pytest.skip("CPython 3.12 is not installed (pyenv install 3.12)")
    base = os.environ.get("LAMBDA_HARNESS_TEST_CACHE") or str(Path.home() / ".cache" / "lambda-harness")
    return Path(base)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory, endpoint_cache: Path) -> Iterator[EmbeddedEndpoint]:
    """One endpoint per test module, with short retry delays and a fast scheduler."""
    project = tmp_path_factory.mktemp("project")
    settings = make_settings(project, endpoint_cache)
    runtime = make_runtime(settings)
    endpoint = EmbeddedEndpoint(
        settings,
        runtime,
        PlainUI(quiet=True),
        timing=Timing(async_retry_delays_s=(0.3, 0.3), schedule_tick_s=0.2),
    )
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()
        runtime.shutdown()


@pytest.fixture(scope="module")
def aws(endpoint: EmbeddedEndpoint) -> Callable[[str], Any]:
    """boto3 clients bound to the endpoint with test credentials."""
    config = Config(max_pool_connections=60, retries={"max_attempts": 1}, read_timeout=120)

    def client(service: str) -> Any:
        session = boto3.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        return session.client(service, endpoint_url=endpoint.url, config=config)  # type: ignore[call-overload]

    return client


@pytest.fixture(scope="module")
def role_arn(aws: Callable[[str], Any]) -> str:
    doc = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    arn = str(aws("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=doc)["Role"]["Arn"])
    # What a function with an SQS trigger needs (the mapping is refused without it, as on AWS).
    poll = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": "*",
            }
        ],
    }
    aws("iam").put_role_policy(RoleName="fn-role", PolicyName="poll", PolicyDocument=json.dumps(poll))
    return arn


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


@pytest.fixture
def deploy(aws: Callable[[str], Any], role_arn: str) -> Callable[..., str]:
    """Create a function (unique name) running ``app.<handler>``; returns its name."""

    def create(
        handler: str,
        *,
        env: dict[str, str] | None = None,
        name: str | None = None,
        code: bytes | None = None,
        **extra: Any,
    ) -> str:
        fn_name = name or f"{handler}-{uuid.uuid4().hex[:8]}"
        aws("lambda").create_function(
            FunctionName=fn_name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=f"app.{handler}",
            Code={"ZipFile": code or handler_zip()},
            Environment={"Variables": env or {}},
            **extra,
        )
        return fn_name

    return create


@pytest.fixture
def wait_records(out_dir: Path) -> Callable[..., list[dict[str, Any]]]:
    """Wait (bounded) until at least ``count`` recorded invocations exist; returns them all.

    It proves that deliveries happened, never that no more will come: a test that counts
    waits first for a sign that every delivery had its chance (e.g. ``service.wait_idle``).
    """

    def wait(count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        net.wait_until(
            lambda: len(read_records(out_dir)) >= count,
            timeout,
            what=f"{count} recorded invocations",
            interval=0.05,
            on_timeout=lambda: net.WaitTimeout(
                f"expected {count} invocations within {timeout}s, saw {len(read_records(out_dir))}"
            ),
        )
        return read_records(out_dir)

    return wait

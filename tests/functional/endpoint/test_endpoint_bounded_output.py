"""A handler's output is never buffered whole in the endpoint (issue 9, item 6).

A detached endpoint (its own process, so its memory is its own) runs a handler that prints
100 MB: the endpoint's peak resident memory grows by far less than that, the invocation still
answers, and a truncation note says how many bytes were dropped, in the log tail (LogResult) and
in CloudWatch. A 1 GB print leaves the endpoint up and answering.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambda_harness.endpoint import control
from lambda_harness.endpoint.ports import free_port
from lambda_harness.endpoint.runtime import output
from support.endpoint import handler_zip, make_settings

LOUD = """
import sys

def handler(event, context):
    line = "x" * 1023 + "\\n"
    block = line * 1024  # 1 MiB
    print("first line of the output")
    for _ in range(event["mb"]):
        sys.stdout.write(block)
    print("last line of the output")
    return {"printed_mb": event["mb"]}
"""

DROPPED = re.compile(r"lambda-harness: ([\d,]+) bytes of output dropped")


def kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for pid {pid}")


class Endpoint:
    def __init__(self, pid: int, url: str) -> None:
        self.pid, self.url = pid, url
        session = boto3.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        config = Config(retries={"total_max_attempts": 1}, read_timeout=300, proxies={})
        self.lam = session.client("lambda", endpoint_url=url, config=config)
        self.logs = session.client("logs", endpoint_url=url, config=config)
        iam = session.client("iam", endpoint_url=url, config=config)
        trust = {  # assumable by Lambda, or CreateFunction is refused as on AWS
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName="loud", AssumeRolePolicyDocument=json.dumps(trust))
        self.role = role["Role"]["Arn"]

    def deploy(self, name: str) -> None:
        self.lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role,
            Handler="app.handler",
            Code={"ZipFile": handler_zip(LOUD)},
            Timeout=300,
        )

    def invoke(self, name: str, mb: int) -> tuple[dict[str, Any], str]:
        resp = self.lam.invoke(FunctionName=name, Payload=json.dumps({"mb": mb}), LogType="Tail")
        return json.loads(resp["Payload"].read()), base64.b64decode(resp["LogResult"]).decode()

    def cloudwatch(self, name: str) -> str:
        events = self.logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        return "\n".join(e["message"] for e in events)


@pytest.fixture
def detached(tmp_path: Path, endpoint_cache: Path) -> Iterator[Endpoint]:
    settings = make_settings(tmp_path, endpoint_cache, port=free_port())
    pid = control.start_detached(settings)
    try:
        yield Endpoint(pid, settings.endpoint_url)
    finally:
        control.stop_detached(settings)


@pytest.mark.slow
def test_a_100_mb_print_keeps_the_endpoints_memory_bounded_and_says_what_was_dropped(
    detached: Endpoint,
) -> None:
    detached.deploy("loud")
    assert detached.invoke("loud", 1)[0] == {"printed_mb": 1}  # warm: worker, imports, log group
    before = kib(detached.pid, "VmHWM")

    payload, tail = detached.invoke("loud", 100)

    grown_mb = (kib(detached.pid, "VmHWM") - before) / 1024
    assert payload == {"printed_mb": 100}
    assert grown_mb < 30, f"the endpoint's peak memory grew by {grown_mb:.1f} MB for a 100 MB print"
    dropped = DROPPED.search(tail)
    assert dropped, tail[-1000:]
    printed = 100 * 1024 * 1024
    kept = output.OUTPUT_HEAD_BYTES + output.OUTPUT_TAIL_BYTES
    assert printed - kept <= int(dropped.group(1).replace(",", "")) <= printed
    assert "last line of the output" in tail
    stored = detached.cloudwatch("loud")
    assert "first line of the output" in stored and DROPPED.search(stored)
    # Two invocations (the 1 MB warm-up and the 100 MB one), each kept within head + tail.
    assert len(stored) < 2 * kept + 16 * 1024


@pytest.mark.slow
def test_a_1_gb_print_does_not_take_the_endpoint_down(detached: Endpoint) -> None:
    detached.deploy("louder")
    payload, tail = detached.invoke("louder", 1024)
    assert payload == {"printed_mb": 1024}
    assert DROPPED.search(tail)
    assert detached.invoke("louder", 0)[0] == {"printed_mb": 0}


HUGE_RESPONSE = """
def handler(event, context):
    return "r" * (event["mb"] * 1024 * 1024)
"""


@pytest.mark.slow
def test_a_response_far_over_6_mb_is_refused_without_being_buffered_whole(detached: Endpoint) -> None:
    detached.lam.create_function(
        FunctionName="huge",
        Runtime="python3.12",
        Role=detached.role,
        Handler="app.handler",
        Code={"ZipFile": handler_zip(HUGE_RESPONSE)},
        Timeout=300,
        MemorySize=2048,
    )
    warm = detached.lam.invoke(FunctionName="huge", Payload=json.dumps({"mb": 1}))
    assert len(warm["Payload"].read()) > 1024 * 1024
    before = kib(detached.pid, "VmHWM")

    resp = detached.lam.invoke(FunctionName="huge", Payload=json.dumps({"mb": 200}))

    grown_mb = (kib(detached.pid, "VmHWM") - before) / 1024
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["Payload"].read())["errorType"] == "Function.ResponseSizeTooLarge"
    assert grown_mb < 30, f"the endpoint's peak memory grew by {grown_mb:.1f} MB for a 200 MB response"

"""Invoker result parsing and error mapping, against a hand-written fake Lambda client."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from lambda_harness.errors import InvocationError
from lambda_harness.terraform.inventory import DeployedFunction, Inventory
from lambda_harness.testing.invoker import (
    Invoker,
    deployed_region,
    function_regions,
    parse_report,
    read_event_source,
    show_invocation,
)
from lambda_harness.ui import RecordingUI

REPORT_COLD = (
    "REPORT RequestId: 1f\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 41 MB\tInit Duration: 250.50 ms"
)
REPORT_WARM = (
    "REPORT RequestId: 2f\tDuration: 0.80 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 42 MB"
)


class FakeLambda:
    """Answers ``invoke`` like boto3 would, from canned responses; records the calls."""

    def __init__(self, *responses: dict[str, Any] | Exception) -> None:
        self.responses = list(responses)
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def response(payload: bytes, log: str = "", function_error: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(payload), "ExecutedVersion": "$LATEST"}
    if log:
        out["LogResult"] = base64.b64encode(log.encode()).decode()
    if function_error:
        out["FunctionError"] = function_error
    return out


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.005
        return self.now


def make(fake: FakeLambda) -> Invoker:
    return Invoker("http://127.0.0.1:1", "eu-west-1", client=fake, clock=Ticks())  # type: ignore[arg-type]


def test_parse_report_cold_and_warm() -> None:
    cold = parse_report("START RequestId: 1f\nhello\nEND RequestId: 1f\n" + REPORT_COLD + "\n")
    assert (cold.duration_ms, cold.billed_ms, cold.init_ms) == (12.34, 13.0, 250.5)
    assert (cold.memory_size_mb, cold.max_memory_mb) == (128, 41)
    warm = parse_report(REPORT_WARM)
    assert warm.init_ms is None and warm.duration_ms == 0.8 and warm.max_memory_mb == 42
    assert parse_report("no report here").duration_ms is None


def test_successful_invoke_decodes_payload_log_and_timings() -> None:
    fake = FakeLambda(response(b'{"ok": true}', "START RequestId: 1f\nhi\n" + REPORT_COLD))
    inv = make(fake).invoke("fn", {"a": 1}, qualifier="1")
    assert fake.calls[0]["FunctionName"] == "fn:1"
    assert json.loads(fake.calls[0]["Payload"]) == {"a": 1}
    assert fake.calls[0]["LogType"] == "Tail"
    assert inv.ok and inv.payload == {"ok": True} and inv.status_code == 200
    assert inv.cold and inv.init_ms == 250.5 and inv.duration_ms == 12.34 and inv.max_memory_mb == 41
    assert "hi" in inv.log_tail
    assert inv.wall_ms == pytest.approx(5.0)


def test_function_error_is_a_result() -> None:
    body = json.dumps({"errorType": "KeyError", "errorMessage": "'id'", "stackTrace": ["  File x"]})
    inv = make(FakeLambda(response(body.encode(), REPORT_WARM, "Unhandled"))).invoke("fn", b"{}")
    assert not inv.ok and not inv.cold
    assert (inv.function_error, inv.error_type, inv.error_message) == ("Unhandled", "KeyError", "'id'")
    assert inv.stack_trace == ("  File x",)
    assert inv.describe_error() == "KeyError: 'id'"


def test_non_json_payload_stays_bytes() -> None:
    inv = make(FakeLambda(response(b"\xff\x00plain"))).invoke("fn", "raw text")
    assert inv.payload == b"\xff\x00plain"
    assert inv.log_tail == ""


def test_missing_function_raises_with_the_name_and_the_fix() -> None:
    err = ClientError(
        {"Error": {"Code": "ResourceNotFoundException", "Message": "Function not found"}}, "Invoke"
    )
    with pytest.raises(InvocationError, match=r"function ghost is not deployed at http://127.0.0.1:1.*apply"):
        make(FakeLambda(err)).invoke("ghost", {})


def test_missing_function_suggests_the_deployed_name_it_resembles() -> None:
    err = ClientError(
        {"Error": {"Code": "ResourceNotFoundException", "Message": "Function not found"}}, "Invoke"
    )
    names = {"ledger-dev-nightly": "eu-central-1", "ledger-dev-ingest": "eu-central-1"}
    invoker = Invoker("http://127.0.0.1:1", regions=names, client=FakeLambda(err), clock=Ticks())  # type: ignore[arg-type]
    with pytest.raises(InvocationError, match='Did you mean "ledger-dev-nightly"\\? Check the name'):
        invoker.invoke("ledger-dev-nighty", {})
    invoker = Invoker("http://127.0.0.1:1", regions=names, client=FakeLambda(err), clock=Ticks())  # type: ignore[arg-type]
    with pytest.raises(InvocationError, match=r"Deployed here: ledger-dev-ingest, ledger-dev-nightly\."):
        invoker.invoke("payments", {})


def test_unreachable_endpoint_raises() -> None:
    err = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    with pytest.raises(InvocationError, match=r"cannot invoke fn: nothing answers.*lambda-harness up"):
        make(FakeLambda(err)).invoke("fn", {})


def test_show_invocation_prints_payload_and_says_whether_it_passed(tmp_path: Any) -> None:
    event = tmp_path / "e.json"
    event.write_text('{"k": 1}')
    ui = RecordingUI()
    ok = make(FakeLambda(response(b'{"n": 2}', REPORT_WARM)))
    assert show_invocation(ui, "fn", ok.invoke("fn", read_event_source(str(event)))) is True
    assert json.loads(ui.emitted[0]) == {"n": 2}
    bad_body = b'{"errorType": "ValueError", "errorMessage": "no"}'
    bad = make(FakeLambda(response(bad_body, REPORT_WARM, "Unhandled")))
    assert show_invocation(ui, "fn", bad.invoke("fn", read_event_source(None))) is False
    assert "ValueError: no" in ui.warnings[-1]


def test_read_event_source(tmp_path: Any) -> None:
    assert read_event_source(None) == b"{}"
    assert read_event_source("-", io.BytesIO(b'{"s": 1}')) == b'{"s": 1}'
    with pytest.raises(InvocationError, match="does not exist"):
        read_event_source(str(tmp_path / "missing.json"))


def edge_inventory() -> Inventory:
    """Lambda@Edge on an aliased us-east-1 provider beside two functions in eu-west-2."""

    def fn(name: str, region: str) -> DeployedFunction:
        return DeployedFunction(
            name=name,
            handler="app.handler",
            runtime="python3.12",
            architecture="x86_64",
            environment={},
            timeout=3,
            memory_size=128,
            role="",
            tf_file=None,
            address=f"aws_lambda_function.{name}",
            arn=f"arn:aws:lambda:{region}:123456789012:function:{name}",
        )

    functions = [fn("a-edge", "us-east-1"), fn("b-api", "eu-west-2"), fn("c-jobs", "eu-west-2")]
    return Inventory(endpoint_url="http://127.0.0.1:1", region="us-east-1", functions=functions)


def test_each_function_is_invoked_in_the_region_of_its_arn() -> None:
    inventory = edge_inventory()
    assert function_regions(inventory) == {"a-edge": "us-east-1", "b-api": "eu-west-2", "c-jobs": "eu-west-2"}
    assert deployed_region(inventory) == "eu-west-2"  # the region most functions live in
    made: dict[str, FakeLambda] = {}

    def client_for(region: str) -> FakeLambda:
        return made.setdefault(region, FakeLambda(*(response(b"{}") for _ in range(3))))

    invoker = Invoker.for_inventory("http://127.0.0.1:1", inventory, client_for=client_for)  # type: ignore[arg-type]
    for name in ("a-edge", "b-api", "unknown"):
        invoker.invoke(name)
    assert {region: [c["FunctionName"] for c in fake.calls] for region, fake in made.items()} == {
        "us-east-1": ["a-edge"],
        "eu-west-2": ["b-api", "unknown"],
    }

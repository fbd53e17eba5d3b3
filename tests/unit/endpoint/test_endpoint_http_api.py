"""The WSGI front: routing, health, trigger, Invoke request checks and response headers."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.test import Client

from lambda_harness.endpoint.front import (
    HarnessApp,
    client_context,
    credential_scope,
    reject,
    result_headers,
)
from lambda_harness.endpoint.invoke import ASYNC_PAYLOAD_LIMIT, SYNC_PAYLOAD_LIMIT
from lambda_harness.endpoint.runtime.model import InvokeResult
from lambda_harness.endpoint.wsgi import JsonResponse, Request


def moto_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"moto:" + environ["PATH_INFO"].encode()]


class FakeInvoke:
    service = None  # function URLs reach it only for a function that exists
    default_region = "us-east-1"

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, request: Request, name: str) -> JsonResponse:
        self.names.append(name)
        return JsonResponse(b"{}")


def trigger(rule: str, bus: str | None) -> list[str] | None:
    return ["fn-a"] if rule == "nightly" else None


@pytest.fixture
def invoke() -> FakeInvoke:
    return FakeInvoke()


@pytest.fixture
def client(invoke: FakeInvoke) -> Client:
    return Client(HarnessApp(moto_app, invoke, trigger))  # type: ignore[arg-type]


def test_invoke_path_is_ours(client: Client, invoke: FakeInvoke) -> None:
    client.post("/2015-03-31/functions/my%3Afn/invocations", data=b"{}")
    assert invoke.names == ["my:fn"]  # PATH_INFO arrives decoded, as from werkzeug's server


def test_everything_else_goes_to_moto(client: Client, invoke: FakeInvoke) -> None:
    assert client.get("/2015-03-31/functions/fn").get_data() == b"moto:/2015-03-31/functions/fn"
    assert client.post("/", data=b"Action=ListQueues").get_data() == b"moto:/"
    assert invoke.names == []


@pytest.mark.parametrize("path", ["/_harness/health", "/_localstack/health"])
def test_health(client: Client, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200
    body = json.loads(resp.get_data())
    assert body["services"]["lambda"] == "running" and body["edition"] == "lambda-harness"


def test_trigger_routes(client: Client) -> None:
    ok = client.post("/_harness/trigger/nightly")
    assert ok.status_code == 200 and json.loads(ok.get_data()) == {"rule": "nightly", "delivered": ["fn-a"]}
    missing = client.post("/_harness/trigger/nope")
    assert missing.status_code == 404 and missing.headers["X-Amzn-ErrorType"] == "ResourceNotFoundException"
    assert client.get("/_harness/trigger/nightly").status_code == 405
    assert client.get("/_harness/unknown").status_code == 404


def test_our_answers_are_json_with_a_length(client: Client) -> None:
    resp = client.get("/_harness/health")
    assert resp.headers["Content-Type"] == "application/json"
    assert int(resp.headers["Content-Length"]) == len(resp.get_data())


def test_errors_are_shaped_like_lambdas(client: Client) -> None:
    resp = client.get("/_harness/nope")
    assert resp.status_code == 404
    assert resp.headers["X-Amzn-ErrorType"] == "NotFound" and resp.headers["x-amzn-RequestId"]
    assert resp.headers["Content-Type"] == "application/json"
    assert json.loads(resp.get_data()) == {"Type": "User", "message": "no harness route /_harness/nope"}


def test_a_function_url_nobody_has_is_aws_404(client: Client) -> None:
    resp = client.get("/_harness/url/no-such-function/a/b")
    assert resp.status_code == 404 and resp.get_data() == b'{"message":"Not Found"}'
    assert resp.headers["Content-Type"] == "application/json" and resp.headers["x-amzn-RequestId"]
    assert resp.headers["Content-Length"] == str(len(b'{"message":"Not Found"}'))


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("RequestResponse", b"{}", None),
        ("Bogus", b"{}", "InvalidParameterValueException"),
        ("RequestResponse", b"{", "InvalidRequestContentException"),
        ("RequestResponse", b'"' + b"a" * SYNC_PAYLOAD_LIMIT + b'"', "RequestEntityTooLargeException"),
        ("Event", b'"' + b"a" * ASYNC_PAYLOAD_LIMIT + b'"', "RequestEntityTooLargeException"),
        ("DryRun", b'"' + b"a" * ASYNC_PAYLOAD_LIMIT + b'"', None),
    ],
)
def test_reject(kind: str, payload: bytes, expected: str | None) -> None:
    problem = reject(kind, payload)
    assert (problem[1] if problem else None) == expected
    if expected == "RequestEntityTooLargeException":
        assert problem is not None and problem[0] == 413


def test_credential_scope() -> None:
    auth = (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/eu-central-1/lambda/aws4_request, "
        "SignedHeaders=host, Signature=abc"
    )
    assert credential_scope(auth) == ("AKIDEXAMPLE", "eu-central-1")
    assert credential_scope(None) == (None, None)


def test_client_context_is_decoded() -> None:
    raw = base64.b64encode(b'{"custom": {"a": 1}}').decode()
    assert client_context(raw) == '{"custom": {"a": 1}}'
    assert client_context(None) is None


@dataclass
class Fn:
    version: str = "3"


def test_result_headers() -> None:
    result = InvokeResult(
        request_id="rid",
        payload=b"{}",
        function_error="Unhandled",
        error_type="ValueError",
        log="START\n" + "x" * 5000,
        duration_ms=1,
        billed_ms=1,
        init_ms=None,
        max_memory_mb=1,
        cold=False,
    )
    headers = result_headers(Fn(), result, tail=True)
    assert headers["X-Amz-Function-Error"] == "Unhandled"
    assert headers["X-Amz-Executed-Version"] == "3"
    assert headers["x-amzn-RequestId"] == "rid"
    assert len(base64.b64decode(headers["X-Amz-Log-Result"])) == 4096
    assert "X-Amz-Log-Result" not in result_headers(Fn(), result, tail=False)


class FakeCoverageRuntime:
    def __init__(self) -> None:
        self.started: list[Any] = []
        self.stopped = 0

    def start_coverage(self, spec: Any) -> str:
        self.started.append(spec)
        return "/work/code"

    def stop_coverage(self) -> dict[str, Any]:
        self.stopped += 1
        return {"saved": 2, "unsaved": []}


class FakeService:
    def __init__(self, runtime: object) -> None:
        self.runtime = runtime
        self.waited: list[float] = []

    def wait_idle(self, timeout: float) -> bool:
        self.waited.append(timeout)
        return True


def _coverage_client(runtime: object) -> tuple[Client, FakeService]:
    invoke = FakeInvoke()
    service = FakeService(runtime)
    invoke.service = service  # type: ignore[attr-defined]
    return Client(HarnessApp(moto_app, invoke, trigger)), service  # type: ignore[arg-type]


def test_coverage_route_starts_and_stops_measuring() -> None:
    runtime = FakeCoverageRuntime()
    client, service = _coverage_client(runtime)
    body = json.dumps({"data_dir": "/r/parts", "sources": ["app", "lib"]})
    answer = client.post("/_harness/coverage", data=body)
    assert answer.status_code == 200 and answer.get_json() == {"code_root": "/work/code"}
    assert runtime.started[0].sources == ("app", "lib") and not runtime.started[0].branch  # lines by default
    client.post("/_harness/coverage", data=json.dumps({"data_dir": "/r/p", "sources": [], "branch": True}))
    assert runtime.started[1].branch
    stopped = client.delete("/_harness/coverage")
    assert stopped.get_json() == {"saved": 2, "unsaved": []}
    assert runtime.stopped == 1 and service.waited  # queued async deliveries get a chance first


def test_coverage_route_refuses_a_bad_body_and_a_runtime_without_coverage() -> None:
    client, _ = _coverage_client(FakeCoverageRuntime())
    assert client.post("/_harness/coverage", data=b'{"sources": []}').status_code == 400
    assert client.get("/_harness/coverage").status_code == 405
    plain, _ = _coverage_client(object())
    assert plain.post("/_harness/coverage", data=b"{}").status_code == 501

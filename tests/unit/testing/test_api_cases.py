"""API cases: the request file, the expectation, and which route a case reaches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.terraform.inventory import ApiStage, DeployedApi
from lambda_harness.testing.api_cases import (
    HttpAnswer,
    check_http_case,
    is_http_case,
    load_request,
    route_for,
    route_gate,
)
from lambda_harness.testing.cases import EventCase, gate


def case(tmp_path: Path, data: Any, expected: Any = None, name: str = "c") -> EventCase:
    folder = tmp_path / "alerts"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data))
    expected_path = None
    if expected is not None:
        expected_path = folder / f"{name}.expected.json"
        expected_path.write_text(json.dumps(expected))
    return EventCase("alerts", name, path, expected_path)


def test_load_request(tmp_path: Path) -> None:
    spec = load_request(
        case(
            tmp_path,
            {
                "request": {
                    "method": "post",
                    "path": "/a",
                    "query": {"x": ["1", "2"], "y": 3},
                    "body": {"k": 1},
                }
            },
        )
    )
    assert (spec.method, spec.path, spec.body) == ("POST", "/a", b'{"k": 1}')
    assert spec.headers == {"Content-Type": "application/json"}
    assert spec.url("http://h/_harness/apigw/x/") == "http://h/_harness/apigw/x/a?x=1&x=2&y=3"
    text = load_request(case(tmp_path, {"request": {"path": "b", "body": "raw", "stage": "dev"}}))
    assert (text.method, text.body, text.stage) == ("GET", b"raw", "dev")
    assert text.headers == {"Content-Type": "text/plain; charset=utf-8"}  # not urllib's form default
    own = load_request(
        case(tmp_path, {"request": {"path": "b", "body": "a=1", "headers": {"content-type": "x/y"}}})
    )
    assert own.headers == {"content-type": "x/y"}
    assert load_request(case(tmp_path, {"request": {"path": "b"}})).headers == {}


@pytest.mark.parametrize(
    "data", [{"request": {"method": "GET"}}, {"event": 1}, [1], {"request": {"path": "/", "query": [1]}}]
)
def test_bad_request_files_name_the_file(tmp_path: Path, data: Any) -> None:
    with pytest.raises(ConfigError, match=r"alerts/c\.json"):
        load_request(case(tmp_path, data))


def test_is_http_case_tells_requests_from_events(tmp_path: Path) -> None:
    assert is_http_case(case(tmp_path, {"request": {"path": "/"}}))
    assert not is_http_case(
        case(tmp_path, {"request": {"userAttributes": {}}, "response": {}})
    )  # a Cognito event


def answer(status: int = 200, body: Any = None, **headers: str) -> HttpAnswer:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpAnswer(status, list(headers.items()), data)


def test_expectations(tmp_path: Path) -> None:
    plain = case(tmp_path, {"request": {"path": "/"}})
    assert check_http_case(plain, answer(204)) == []
    assert check_http_case(plain, answer(500)) == ["expected a 2xx status, got 500"]
    expected = {"status": 200, "headers": {"content-type": "application/json"}, "body": {"a": {"b": 1}}}
    full = case(tmp_path, {"request": {"path": "/"}}, expected, name="full")
    good = answer(200, {"a": {"b": 1, "c": 2}}, **{"Content-Type": "application/json"})
    assert check_http_case(full, good) == []
    bad = check_http_case(full, answer(201, {"a": {"b": 2}}))
    assert bad == [
        "status: expected 200, got 201",
        "header content-type: expected 'application/json', got None",
        "body.a.b: expected 1, got 2",
    ]
    text = case(tmp_path, {"request": {"path": "/"}}, {"body": "hello"}, name="text")
    assert check_http_case(text, answer(200, b"hello")) == []
    assert check_http_case(text, answer(200, b"bye")) == ["body: expected 'hello', got 'bye'"]


def test_bad_expectation_file(tmp_path: Path) -> None:
    odd = case(tmp_path, {"request": {"path": "/"}}, {"statusCode": 200})
    with pytest.raises(ConfigError, match="an API case expects"):
        check_http_case(odd, answer())


ROUTES = ["GET /alerts", "ANY /alerts", "GET /alerts/{id}", "GET /alerts/latest", "ANY /{proxy+}", "$default"]


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [
        ("GET", "/alerts", "GET /alerts"),
        ("PUT", "/alerts", "ANY /alerts"),
        ("GET", "/alerts/latest", "GET /alerts/latest"),
        ("GET", "/alerts/9?x=1", "GET /alerts/{id}"),
        ("GET", "/x/y", "ANY /{proxy+}"),
        ("GET", "/", "$default"),
    ],
)
def test_route_for(method: str, path: str, route: str) -> None:
    assert route_for(ROUTES, method, path) == route


def test_route_for_without_default() -> None:
    assert route_for(["GET /a"], "GET", "/b") is None


def api(routes: list[str], stages: bool = True) -> DeployedApi:
    stage = [ApiStage("$default", "http://x/", "http://y/")] if stages else []
    return DeployedApi("alerts", "alerts", "HTTP", "h1", "aws_apigatewayv2_api.alerts", stage, routes)


def test_route_gate(tmp_path: Path) -> None:
    cases = {"alerts": [case(tmp_path, {"request": {"method": "GET", "path": "/alerts/1"}})]}
    problems = route_gate([api(["GET /alerts", "GET /alerts/{id}"])], cases, tmp_path)
    assert [p.id for p in problems] == ["gate/no-route-case/alerts/GET /alerts"]
    assert "aws_apigatewayv2_api.alerts" in problems[0].message
    assert route_gate([api(["GET /alerts"], stages=False)], {}, tmp_path) == []  # not served: nothing to call


def test_function_gate_knows_api_folders(tmp_path: Path) -> None:
    cases = {"alerts": [case(tmp_path, {"request": {"path": "/"}})], "stray": []}
    problems = gate([], cases, tmp_path, apis=["alerts"])
    assert [p.id for p in problems] == ["gate/not-deployed/stray"]
    assert "APIs: alerts" in problems[0].message

"""The proxy events: REST v1, HTTP payload 1.0 and 2.0 (no server)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from lambda_harness.endpoint.apigw.events import Context, http_v1_event, http_v2_event, is_binary, rest_event
from lambda_harness.endpoint.apigw.model import GatewayRequest, Route
from lambda_harness.endpoint.apigw.routing import Match

NOW = datetime(2026, 3, 4, 19, 15, 17, 135000, tzinfo=UTC)


def request(**overrides: Any) -> GatewayRequest:
    fields: dict[str, Any] = {
        "method": "GET",
        "raw_path": "/alerts/a%20b",
        "raw_query": "x=1&x=2&y=",
        "headers": (("Host", "h"), ("User-Agent", "probe/1"), ("X-Multi", "a"), ("Cookie", "s=1; t=2")),
        "source_ip": "10.0.0.9",
    }
    fields.update(overrides)
    return GatewayRequest(**fields)


def ctx(stage: str = "dev", **overrides: Any) -> Context:
    fields: dict[str, Any] = {
        "account_id": "123456789012",
        "api_id": "abc123",
        "stage": stage,
        "request_id": "req-1",
        "domain_name": "abc123.execute-api.us-east-1.amazonaws.com",
        "now": NOW,
    }
    fields.update(overrides)
    return Context(**fields)


MATCH = Match(Route("GET", "/alerts/{id}", source_id="res1"), {"id": "a b"})

V1_KEYS = {
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
    "body",
    "isBase64Encoded",
}


def test_rest_event_shape_and_nulls() -> None:
    event = rest_event(request(raw_path="/alerts/a%20b"), MATCH, ctx(), "/alerts/a b", ())
    assert set(event) == V1_KEYS
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/alerts/{id}", "/alerts/a b", "GET")
    assert event["queryStringParameters"] == {"x": "2", "y": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
    assert event["pathParameters"] == {"id": "a b"}
    assert event["stageVariables"] is None and event["body"] is None and event["isBase64Encoded"] is False
    assert event["headers"]["X-Multi"] == "a" and event["multiValueHeaders"]["X-Multi"] == ["a"]
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.9"
    rc = event["requestContext"]
    assert rc["path"] == "/dev/alerts/a b" and rc["stage"] == "dev" and rc["resourceId"] == "res1"
    assert rc["resourcePath"] == "/alerts/{id}" and rc["requestTime"] == "04/Mar/2026:19:15:17 +0000"
    assert rc["requestTimeEpoch"] == 1772651717135
    assert rc["identity"]["sourceIp"] == "10.0.0.9" and rc["identity"]["userAgent"] == "probe/1"
    assert rc["identity"]["accessKey"] is None
    assert rc["domainPrefix"] == "abc123" and "authorizer" not in rc


def test_rest_event_empty_maps_are_null() -> None:
    event = rest_event(request(raw_query="", headers=()), Match(Route("GET", "/"), {}), ctx(), "/", ())
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["requestContext"]["path"] == "/dev/"


def test_rest_body_is_base64_only_for_binary_media_types() -> None:
    png = request(method="POST", body=b"\x89PNG", headers=(("Content-Type", "image/png"),))
    event = rest_event(png, MATCH, ctx(), "/alerts/x", ("image/*",))
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\x89PNG"
    text = rest_event(png, MATCH, ctx(), "/alerts/x", ("application/octet-stream",))
    assert text["isBase64Encoded"] is False


def test_is_binary_wildcards() -> None:
    assert is_binary("image/png; q=1", ["image/*"]) and is_binary("x/y", ["*/*"])
    assert not is_binary("text/plain", ["image/*"]) and not is_binary(None, ["*/*"])


def test_http_v2_event_keeps_a_named_stage_in_the_path_and_leaves_out_empty_parts() -> None:
    event = http_v2_event(request(raw_path="/dev/alerts/a%20b", raw_query=""), MATCH, ctx("dev"))
    assert event["rawPath"] == "/dev/alerts/a%20b"
    assert event["requestContext"]["http"]["path"] == "/dev/alerts/a b"
    assert (
        event["routeKey"] == "GET /alerts/{id}" and event["requestContext"]["routeKey"] == "GET /alerts/{id}"
    )
    assert "queryStringParameters" not in event and "body" not in event and "stageVariables" not in event
    assert event["cookies"] == ["s=1", "t=2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "a" and event["pathParameters"] == {"id": "a b"}


def test_http_v2_event_query_body_variables_authorizer() -> None:
    req = request(method="POST", body=b'{"a":1}', headers=(("Content-Type", "application/json"),))
    event = http_v2_event(
        req, MATCH, ctx("$default", stage_variables={"t": "x"}, authorizer={"lambda": {"u": 1}})
    )
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["body"] == '{"a":1}' and event["isBase64Encoded"] is False
    assert event["stageVariables"] == {"t": "x"}
    assert event["requestContext"]["authorizer"] == {"lambda": {"u": 1}}
    assert event["requestContext"]["stage"] == "$default"
    binary = http_v2_event(request(method="POST", body=b"\x00\x01"), MATCH, ctx())
    assert binary["isBase64Encoded"] is True and binary["body"] == "AAE="


def test_http_v1_event_is_the_v1_shape_with_version_and_route_key() -> None:
    event = http_v1_event(request(raw_path="/dev/alerts/a%20b"), MATCH, ctx("dev"))
    assert set(event) == V1_KEYS | {"version"} and event["version"] == "1.0"
    assert event["path"] == "/dev/alerts/a b" and event["resource"] == "/alerts/{id}"
    assert event["requestContext"]["resourceId"] == "GET /alerts/{id}"


def test_repeated_headers_stay_apart_in_v1_and_cookie_headers_in_2_0() -> None:
    headers = (("X-M", "1"), ("X-M", "2"), ("Cookie", "a=1"), ("Cookie", "b=2; c=3"))
    v1 = rest_event(request(headers=headers), MATCH, ctx(), "/alerts/a b", [])
    assert v1["headers"]["X-M"] == "2" and v1["multiValueHeaders"]["X-M"] == ["1", "2"]
    v2 = http_v2_event(request(headers=headers), MATCH, ctx())
    assert v2["headers"]["x-m"] == "1,2" and v2["cookies"] == ["a=1", "b=2", "c=3"]

"""Function URLs without a server: routing, the 2.0 event, response mapping, CORS."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lambda_harness.endpoint.sources.function_urls import (
    Route,
    UrlRequest,
    UrlTarget,
    build_event,
    cors_headers,
    is_text,
    map_result,
    match_route,
    preflight,
    query_parameters,
    request_headers,
)
from lambda_harness.endpoint.wsgi import Request

TARGET = UrlTarget(
    url_id="abc123", account_id="123456789012", domain_name="abc123.lambda-url.eu-west-1.on.aws"
)
NOW = datetime(2026, 3, 12, 19, 3, 58, 390000, tzinfo=UTC)


def environ(path: str = "/", host: str = "127.0.0.1:4566", **extra: Any) -> dict[str, Any]:
    return {"PATH_INFO": path, "REQUEST_URI": path, "HTTP_HOST": host, "wsgi.input": io.BytesIO(), **extra}


def make_request(**overrides: Any) -> UrlRequest:
    fields: dict[str, Any] = {
        "method": "GET",
        "raw_path": "/my/path",
        "raw_query": "",
        "headers": {"host": "x", "user-agent": "agent/1"},
        "body": b"",
    }
    fields.update(overrides)
    return UrlRequest(**fields)


@pytest.mark.parametrize(
    ("host", "url_id", "region"),
    [
        ("abc123.lambda-url.us-east-1.localhost:4566", "abc123", "us-east-1"),
        ("ABC123.lambda-url.eu-west-1.on.aws", "abc123", "eu-west-1"),
        ("abc123.lambda-url.us-east-1.localhost", "abc123", "us-east-1"),
    ],
)
def test_host_form_routes(host: str, url_id: str, region: str) -> None:
    route = match_route(environ("/a/b?q=1", host=host))
    assert route == Route(raw_path="/a/b", url_id=url_id, region=region)


def test_path_form_routes_rest_of_path_as_raw_path() -> None:
    assert match_route(environ("/_harness/url/my-fn/a%20b/c")) == Route(
        raw_path="/a%20b/c", function_name="my-fn"
    )
    assert match_route(environ("/_harness/url/my-fn")) == Route(raw_path="/", function_name="my-fn")


@pytest.mark.parametrize(
    "path", ["/", "/_harness/health", "/_harness/url/", "/2015-03-31/functions/x/invocations"]
)
def test_other_requests_are_not_function_urls(path: str) -> None:
    assert match_route(environ(path)) is None
    assert match_route(environ(path, host="bucket.s3.localhost:4566")) is None


def test_request_headers_are_lower_cased_with_content_headers() -> None:
    headers = request_headers(
        Request(
            environ(
                HTTP_X_MULTI="a,b", CONTENT_TYPE="application/json", CONTENT_LENGTH="2", HTTP_USER_AGENT="u"
            )
        )
    )
    assert headers == {
        "host": "127.0.0.1:4566",
        "x-multi": "a,b",
        "content-type": "application/json",
        "content-length": "2",
        "user-agent": "u",
    }


def test_event_has_aws_shape() -> None:
    event = build_event(
        make_request(raw_query="parameter1=value1&parameter1=value2&parameter2=value"), TARGET, "rid-1", NOW
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/my/path"
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert event["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    assert "cookies" not in event
    assert event["requestContext"] == {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "abc123.lambda-url.eu-west-1.on.aws",
        "domainPrefix": "abc123",
        "http": {
            "method": "GET",
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "agent/1",
        },
        "requestId": "rid-1",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2026:19:03:58 +0000",
        "timeEpoch": int(NOW.timestamp() * 1000),
    }


def test_cookies_move_out_of_headers() -> None:
    event = build_event(make_request(headers={"cookie": "a=1; b=2", "x": "y"}), TARGET, "r", NOW)
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"] == {"x": "y"}


def test_text_body_is_a_string_binary_body_is_base64() -> None:
    text = build_event(
        make_request(body=b'{"a": 1}', headers={"content-type": "application/json; charset=utf-8"}),
        TARGET,
        "r",
        NOW,
    )
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    binary = build_event(
        make_request(body=b"\x00\x01", headers={"content-type": "image/png"}), TARGET, "r", NOW
    )
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\x01"


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("text/plain", True),
        ("application/json", True),
        ("application/vnd.api+json", True),
        ("application/xml", True),
        ("application/javascript", True),
        ("application/octet-stream", False),
        ("application/x-www-form-urlencoded", False),
        (None, False),
    ],
)
def test_is_text(content_type: str | None, text: bool) -> None:
    assert is_text(content_type) is text


def test_query_parameters_keep_blank_values() -> None:
    assert query_parameters("a=1&b=&a=3&c=x%20y") == {"a": "1,3", "b": "", "c": "x y"}


def test_structured_result_maps_to_http() -> None:
    payload = json.dumps(
        {
            "statusCode": 418,
            "headers": {"X-A": "1", "Content-Length": "999"},
            "multiValueHeaders": {"X-M": ["p", "q"]},
            "cookies": ["c=1; Secure", "d=2"],
            "body": "teapot",
        }
    ).encode()
    response = map_result(payload)
    assert response.status == 418
    assert response.body == b"teapot"
    assert ("X-A", "1") in response.headers
    assert [v for k, v in response.headers if k == "X-M"] == ["p", "q"]
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["c=1; Secure", "d=2"]
    assert ("Content-Type", "application/json") in response.headers  # AWS's default
    assert not any(k.lower() == "content-length" for k, _ in response.headers)


def test_base64_result_body_is_decoded() -> None:
    body = base64.b64encode(b"\x89PNG").decode()
    response = map_result(
        json.dumps(
            {
                "statusCode": 200,
                "headers": {"content-type": "image/png"},
                "body": body,
                "isBase64Encoded": True,
            }
        ).encode()
    )
    assert response.body == b"\x89PNG"
    assert response.headers == [("content-type", "image/png")]


@pytest.mark.parametrize("payload", [b'{"hello": "world"}', b'"just text"', b"[1, 2]", b"null"])
def test_other_results_are_json_200(payload: bytes) -> None:
    response = map_result(payload)
    assert (response.status, response.body) == (200, payload)
    assert response.headers == [("Content-Type", "application/json")]


def test_non_string_body_is_serialised_and_bad_status_is_502() -> None:
    assert map_result(b'{"statusCode": 200, "body": {"a": 1}}').body == b'{"a": 1}'
    assert map_result(b'{"statusCode": "teapot"}').status == 502


CORS = {
    "AllowOrigins": ["https://app.example"],
    "AllowMethods": ["GET"],
    "AllowHeaders": ["x-h"],
    "MaxAge": 60,
}


def test_preflight_answers_from_cors_config() -> None:
    headers = {"origin": "https://app.example", "access-control-request-method": "GET"}
    response = preflight(CORS, headers)
    assert response is not None
    assert response.status == 200
    assert dict(response.headers) == {
        "Access-Control-Allow-Origin": "https://app.example",
        "Access-Control-Allow-Methods": "GET",
        "Access-Control-Allow-Headers": "x-h",
        "Access-Control-Max-Age": "60",
    }
    assert preflight(None, headers) is None  # no CORS config: the function gets the OPTIONS request
    assert preflight(CORS, {"origin": "https://app.example"}) is None  # not a preflight


def test_cors_headers_only_for_allowed_origins() -> None:
    assert cors_headers(CORS, "https://evil.example") == []
    assert cors_headers({"AllowOrigins": ["*"]}, "https://any.example") == [
        ("Access-Control-Allow-Origin", "*")
    ]
    assert cors_headers(CORS, None) == []

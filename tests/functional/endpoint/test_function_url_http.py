"""Function URLs over real HTTP: a real endpoint, real workers, requests with urllib."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from lambda_harness.endpoint.server import EmbeddedEndpoint
from support.endpoint import handler_zip

URL_HANDLERS = """
import base64, json

def web(event, context):
    body = event.get("body")
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    seen = {k: event.get(k) for k in ("version", "routeKey", "rawPath", "rawQueryString", "cookies",
                                      "queryStringParameters", "isBase64Encoded", "headers")}
    seen["body"] = body
    seen["requestContext"] = event["requestContext"]
    seen["request_id"] = context.aws_request_id
    return {"statusCode": 201, "headers": {"X-Echo": "yes", "Content-Type": "application/json"},
            "cookies": ["a=1", "b=2"], "body": json.dumps(seen)}

def plain(event, context):
    return {"hello": event["rawPath"]}

def broken(event, context):
    raise RuntimeError("nope")
"""

Response = tuple[int, dict[str, str], bytes, list[str]]


def request(
    url: str, *, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None
) -> Response:
    """(status, headers, body, Set-Cookie values) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, dict(resp.headers), resp.read(), resp.headers.get_all("Set-Cookie") or []
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read(), exc.headers.get_all("Set-Cookie") or []


@pytest.fixture(scope="module")
def url_functions(aws: Callable[[str], Any], role_arn: str) -> dict[str, str]:
    """handler -> (function name); each has a function URL (web also has a CORS config)."""
    lam = aws("lambda")
    names = {}
    for handler in ("web", "plain", "broken"):
        name = f"url-{handler}-{uuid.uuid4().hex[:6]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=f"app.{handler}",
            Code={"ZipFile": handler_zip(URL_HANDLERS)},
        )
        extra: dict[str, Any] = {}
        if handler == "web":
            extra["Cors"] = {
                "AllowOrigins": ["https://app.example"],
                "AllowMethods": ["GET", "POST"],
                "AllowHeaders": ["x-custom"],
                "MaxAge": 300,
            }
        lam.create_function_url_config(FunctionName=name, AuthType="NONE", **extra)
        names[handler] = name
    return names


def url_id(aws: Callable[[str], Any], name: str) -> str:
    url = aws("lambda").get_function_url_config(FunctionName=name)["FunctionUrl"]
    return str(urlsplit(url).hostname).split(".", 1)[0]


def test_path_form_get_with_query_and_cookies(
    endpoint: EmbeddedEndpoint, url_functions: dict[str, str]
) -> None:
    name = url_functions["web"]
    status, headers, body, cookies = request(
        f"{endpoint.url}/_harness/url/{name}/items/42?a=1&a=2&b=x",
        headers={"Cookie": "session=abc; theme=dark", "User-Agent": "probe/1", "X-Multi": "v"},
    )
    assert status == 201
    assert headers["X-Echo"] == "yes"
    assert cookies == ["a=1", "b=2"]
    seen = json.loads(body)
    assert seen["version"] == "2.0"
    assert seen["routeKey"] == "$default"
    assert seen["rawPath"] == "/items/42"
    assert seen["rawQueryString"] == "a=1&a=2&b=x"
    assert seen["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert seen["cookies"] == ["session=abc", "theme=dark"]
    assert "cookie" not in seen["headers"]
    assert seen["headers"]["x-multi"] == "v"
    assert seen["body"] is None
    ctx = seen["requestContext"]
    assert ctx["http"]["method"] == "GET"
    assert ctx["http"]["path"] == "/items/42"
    assert ctx["http"]["userAgent"] == "probe/1"
    assert ctx["http"]["sourceIp"] == "127.0.0.1"
    assert ctx["apiId"] == ctx["domainPrefix"]
    assert ctx["domainName"] == f"{ctx['apiId']}.lambda-url.us-east-1.on.aws"
    assert ctx["stage"] == "$default"
    assert ctx["requestId"] == seen["request_id"] == headers["x-amzn-RequestId"]


def test_host_form_post_text_and_binary(
    endpoint: EmbeddedEndpoint, url_functions: dict[str, str], aws: Callable[[str], Any]
) -> None:
    url_id_ = url_id(aws, url_functions["web"])
    host = f"{url_id_}.lambda-url.us-east-1.localhost:{endpoint.port}"
    status, _, body, _ = request(
        f"{endpoint.url}/submit",
        method="POST",
        data=b'{"x": 1}',
        headers={"Host": host, "Content-Type": "application/json"},
    )
    assert status == 201
    seen = json.loads(body)
    assert seen["rawPath"] == "/submit"
    assert seen["body"] == '{"x": 1}'
    assert seen["isBase64Encoded"] is False
    assert seen["requestContext"]["apiId"] == url_id_
    assert seen["requestContext"]["domainName"] == f"{url_id_}.lambda-url.us-east-1.localhost"
    assert seen["requestContext"]["http"]["method"] == "POST"
    assert "queryStringParameters" not in seen or seen["queryStringParameters"] is None

    status, _, body, _ = request(
        f"{endpoint.url}/bin",
        method="POST",
        data=b"raw-bytes",
        headers={"Host": host, "Content-Type": "application/octet-stream"},
    )
    seen = json.loads(body)
    assert status == 201
    assert seen["isBase64Encoded"] is True
    assert seen["body"] == "raw-bytes"  # the handler decoded it


def test_plain_result_is_json_200(endpoint: EmbeddedEndpoint, url_functions: dict[str, str]) -> None:
    status, headers, body, _ = request(f"{endpoint.url}/_harness/url/{url_functions['plain']}/hi")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"hello": "/hi"}


def test_raising_handler_is_502(endpoint: EmbeddedEndpoint, url_functions: dict[str, str]) -> None:
    status, _, body, _ = request(f"{endpoint.url}/_harness/url/{url_functions['broken']}/")
    assert status == 502
    assert json.loads(body) == {"message": "Internal Server Error"}


def test_unknown_function_and_url_id_are_404(endpoint: EmbeddedEndpoint, deploy: Callable[..., str]) -> None:
    status, _, body, _ = request(f"{endpoint.url}/_harness/url/no-such-fn/")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    without_url = deploy("echo")  # exists, but has no function URL
    assert request(f"{endpoint.url}/_harness/url/{without_url}/")[0] == 404
    host = f"{'0' * 32}.lambda-url.us-east-1.localhost:{endpoint.port}"
    assert request(f"{endpoint.url}/", headers={"Host": host})[0] == 404


def test_cors_preflight_and_origin_header(endpoint: EmbeddedEndpoint, url_functions: dict[str, str]) -> None:
    url = f"{endpoint.url}/_harness/url/{url_functions['web']}/x"
    status, headers, _, _ = request(
        url,
        method="OPTIONS",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert headers["Access-Control-Allow-Headers"] == "x-custom"
    assert headers["Access-Control-Max-Age"] == "300"
    status, headers, _, _ = request(url, headers={"Origin": "https://app.example"})
    assert status == 201
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    _, headers, _, _ = request(url, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers


def test_url_invocations_are_logged_like_invoke(
    endpoint: EmbeddedEndpoint, url_functions: dict[str, str], aws: Callable[[str], Any]
) -> None:
    name = url_functions["plain"]
    _, headers, _, _ = request(f"{endpoint.url}/_harness/url/{name}/logged")
    request_id = headers["x-amzn-RequestId"]
    events = aws("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert any(f"START RequestId: {request_id}" in e["message"] for e in events)


def test_repeated_headers_are_comma_joined(endpoint: EmbeddedEndpoint, url_functions: dict[str, str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=120)
    try:
        conn.putrequest("GET", f"/_harness/url/{url_functions['web']}/dup")
        conn.putheader("X-Dup", "one")
        conn.putheader("X-Dup", "two")
        conn.endheaders()
        resp = conn.getresponse()
        seen = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == 201
    assert seen["headers"]["x-dup"] == "one,two"


def test_throttled_function_is_429(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], role_arn: str
) -> None:
    lam = aws("lambda")
    name = f"url-throttled-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="app.plain",
        Code={"ZipFile": handler_zip(URL_HANDLERS)},
    )
    lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    status, _, body, _ = request(f"{endpoint.url}/_harness/url/{name}/")
    assert status == 429
    assert "message" in json.loads(body)

"""Which requests the gateway takes, the function a URI names, the v2 gaps, the binary patch."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_harness.endpoint.apigw.addressing import Target, match_request
from lambda_harness.endpoint.apigw.gaps import Gap, match
from lambda_harness.endpoint.apigw.gateway import function_arn
from lambda_harness.endpoint.hooks import patch_binary_media_types
from lambda_harness.endpoint.wsgi import RAW_HEADERS, header_pairs, raw_header_list

FN = "arn:aws:lambda:us-east-1:123456789012:function:echo"


def environ(path: str, host: str = "127.0.0.1:4566") -> dict[str, Any]:
    return {"PATH_INFO": path, "REQUEST_URI": path, "HTTP_HOST": host}


@pytest.mark.parametrize(
    ("env", "target"),
    [
        (environ("/_harness/apigw/abc/dev/x%20y"), Target("abc", "/dev/x%20y")),
        (environ("/_harness/apigw/abc"), Target("abc", "/")),
        (environ("/_aws/execute-api/abc/dev/"), Target("abc", "/dev/")),
        (environ("/_harness/apigw"), Target(None, "/")),
        (environ("/dev/x", "abc.execute-api.localhost:4566"), Target("abc", "/dev/x", host_form=True)),
        (
            environ("/x", "abc.execute-api.localhost.localstack.cloud:4566"),
            Target("abc", "/x", host_form=True),
        ),
        (environ("/x", "abc.execute-api.us-east-1.amazonaws.com"), Target("abc", "/x", host_form=True)),
    ],
)
def test_requests_for_apis(env: dict[str, Any], target: Target) -> None:
    assert match_request(env) == target


@pytest.mark.parametrize(
    "env",
    [
        environ("/restapis"),
        environ("/_harness/health"),
        environ("/_harness/apigwx"),
        environ(
            "/@connections/abc", "abc.execute-api.us-east-1.amazonaws.com"
        ),  # moto's WebSocket management API
        environ("/x", "lambda.us-east-1.amazonaws.com"),
    ],
)
def test_other_requests_are_not_taken(env: dict[str, Any]) -> None:
    assert match_request(env) is None


@pytest.mark.parametrize(
    ("uri", "variables", "arn"),
    [
        (f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}/invocations", {}, FN),
        (
            f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}:live/invocations",
            {},
            FN + ":live",
        ),
        (FN, {}, FN),
        ("echo", {}, "echo"),
        (
            f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}:${{stageVariables.alias}}/invocations",
            {"alias": "v2"},
            FN + ":v2",
        ),
        ("https://example.com/x", {}, None),
        ("", {}, None),
    ],
)
def test_function_arn(uri: str, variables: dict[str, str], arn: str | None) -> None:
    assert function_arn(uri, variables) == arn


@pytest.mark.parametrize(
    ("method", "path", "gap"),
    [
        ("POST", "/v2/apis/a1/deployments", Gap("a1", "CreateDeployment")),
        ("GET", "/v2/apis/a1/deployments", Gap("a1", "GetDeployments")),
        ("GET", "/v2/apis/a1/deployments/d1", Gap("a1", "GetDeployment", "d1")),
        ("PATCH", "/v2/apis/a1/deployments/d1", Gap("a1", "UpdateDeployment", "d1")),
        ("DELETE", "/v2/apis/a1/deployments/d1", Gap("a1", "DeleteDeployment", "d1")),
        ("PATCH", "/v2/apis/a1/stages/dev", Gap("a1", "UpdateStage", "dev")),
        ("GET", "/v2/apis/a1/authorizers", Gap("a1", "GetAuthorizers")),
        ("GET", "/v2/apis/a1/stages/dev", None),  # moto serves it
        ("POST", "/v2/apis/a1/authorizers", None),
        ("GET", "/restapis/a1/deployments", None),
    ],
)
def test_gaps(method: str, path: str, gap: Gap | None) -> None:
    assert match(method, path) == gap


@pytest.mark.parametrize(
    ("types", "op", "result"),
    [
        ([], {"op": "add", "path": "/binaryMediaTypes/image~1png"}, ["image/png"]),
        (["image/png"], {"op": "add", "path": "/binaryMediaTypes/image~1png"}, ["image/png"]),
        (["a/b", "image/png"], {"op": "remove", "path": "/binaryMediaTypes/image~1png"}, ["a/b"]),
        (["a/b"], {"op": "replace", "path": "/binaryMediaTypes/a~1b", "value": "c/d"}, ["c/d"]),
        (["a/b"], {"op": "replace", "path": "/binaryMediaTypes", "value": "*/*"}, ["*/*"]),
        (["", "a~b"], {"op": "remove", "path": "/binaryMediaTypes/a~0b"}, []),
    ],
)
def test_binary_media_type_patches(types: list[str], op: dict[str, str], result: list[str]) -> None:
    assert patch_binary_media_types(types, op) == result


def test_header_pairs_prefer_the_headers_as_received() -> None:
    raw = raw_header_list([("x-m", "1"), ("X-M", " 2 "), ("Fold", "a\r\n b"), ("X_Under", "dropped")])
    assert raw == [("X-M", "1"), ("X-M", "2"), ("Fold", "a b")]
    assert header_pairs({RAW_HEADERS: raw, "HTTP_X_M": "1,2"}) == raw
    # Without the handler's list (another WSGI server): werkzeug's view, repeats already joined.
    assert header_pairs({"HTTP_X_M": "1,2", "REQUEST_METHOD": "GET"}) == [("X-M", "1,2")]

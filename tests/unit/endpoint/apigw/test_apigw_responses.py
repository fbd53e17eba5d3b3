"""Function result -> HTTP response, per API kind and payload version (no server)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lambda_harness.endpoint.apigw.responses import Malformed, map_http_v1, map_http_v2, map_rest


def payload(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_rest_status_headers_multivalue_and_default_content_type() -> None:
    out = map_rest(
        payload(
            {
                "statusCode": "201",
                "headers": {"X-A": "1", "X-Flag": True, "Content-Length": "9"},
                "multiValueHeaders": {"X-A": ["2", "3"], "Set-Cookie": ["a=1", "b=2"]},
                "body": "hi",
            }
        )
    )
    assert out.status == 201 and out.body == b"hi"
    assert ("X-Flag", "true") in out.headers and ("Content-Type", "application/json") in out.headers
    assert [v for k, v in out.headers if k == "X-A"] == ["2", "3"]  # multiValueHeaders win
    assert [v for k, v in out.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert not any(k == "Content-Length" for k, _ in out.headers)


def test_rest_status_defaults_to_200() -> None:
    assert map_rest(payload({"body": "x"})).status == 200


@pytest.mark.parametrize(
    "value",
    [
        "not a dict",
        [1, 2],
        {"statusCode": 200, "extra": 1},
        {"statusCode": "abc"},
        {"statusCode": True},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "headers": {"X": {"nested": 1}}},
        {"statusCode": 200, "multiValueHeaders": {"X": "not a list"}},
        {"statusCode": 99},
    ],
)
def test_rest_malformed_results(value: Any) -> None:
    with pytest.raises(Malformed):
        map_rest(payload(value))


def test_rest_malformed_non_json() -> None:
    with pytest.raises(Malformed):
        map_rest(b"{not json")


def test_rest_base64_is_decoded_only_when_accept_is_a_binary_media_type() -> None:
    body = base64.b64encode(b"\x89PNG").decode()
    result = payload({"statusCode": 200, "body": body, "isBase64Encoded": True})
    assert map_rest(result, accept="image/png", binary_media_types=("image/png",)).body == b"\x89PNG"
    assert (
        map_rest(result, accept="application/json", binary_media_types=("image/png",)).body == body.encode()
    )
    assert map_rest(result).body == body.encode()


def test_http_v1_always_decodes_base64_and_rejects_malformed() -> None:
    body = base64.b64encode(b"\x00").decode()
    assert map_http_v1(payload({"statusCode": 200, "body": body, "isBase64Encoded": True})).body == b"\x00"
    with pytest.raises(Malformed):
        map_http_v1(payload({"statusCode": 200, "unexpected": True}))


@pytest.mark.parametrize("value", ["hello", [1], 3, {"a": 1}, None])
def test_http_v2_infers_a_200_json_response(value: Any) -> None:
    out = map_http_v2(payload(value))
    assert out.status == 200 and json.loads(out.body) == value
    assert ("Content-Type", "application/json") in out.headers


def test_http_v2_with_status_code_cookies_and_json_body() -> None:
    out = map_http_v2(
        payload({"statusCode": 418, "cookies": ["a=1"], "body": {"x": 1}, "headers": {"X": "y"}})
    )
    assert out.status == 418 and json.loads(out.body) == {"x": 1}
    assert ("Set-Cookie", "a=1") in out.headers and ("X", "y") in out.headers


def test_http_v2_bad_status_is_malformed() -> None:
    with pytest.raises(Malformed):
        map_http_v2(payload({"statusCode": "x"}))

"""From a Lambda proxy integration's result to the HTTP response API Gateway sends.

* REST APIs and HTTP APIs with payload 1.0: the result must be a JSON object with only
  ``statusCode``, ``headers``, ``multiValueHeaders``, ``body`` (a string) and
  ``isBase64Encoded``; anything else is a *malformed Lambda proxy response* (REST: 502,
  HTTP: 500). A REST API turns a base64 body back into bytes only when the request's
  ``Accept`` is one of the API's binary media types.
* HTTP APIs with payload 2.0 infer the format: valid JSON without ``statusCode`` is the
  body of a 200 ``application/json`` response; with it, ``headers``, ``multiValueHeaders``,
  ``cookies`` (each a ``Set-Cookie``) and ``isBase64Encoded`` are honoured.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from lambda_harness.endpoint.apigw.events import is_binary
from lambda_harness.endpoint.sources.function_urls import DROPPED_RESPONSE_HEADERS, HttpResponse

V1_KEYS = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "base64Encoded"}
)
JSON = "application/json"


class Malformed(ValueError):
    """The function's result is not a valid proxy response (the reason is for the endpoint log)."""


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise Malformed(f"header value {value!r} is not a string")


def _headers(value: Mapping[str, Any]) -> list[tuple[str, str]]:
    single = value.get("headers") or {}
    multi = value.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise Malformed("headers and multiValueHeaders must be objects")
    out = [(str(k), _header_value(v)) for k, v in single.items()]
    for key, values in multi.items():
        if not isinstance(values, list):
            raise Malformed(f"multiValueHeaders[{key!r}] must be a list")
        # multiValueHeaders win over headers of the same name.
        out = [(k, v) for k, v in out if k.lower() != str(key).lower()]
        out += [(str(key), _header_value(v)) for v in values]
    return [(k, v) for k, v in out if k.lower() not in DROPPED_RESPONSE_HEADERS]


def _status(value: Mapping[str, Any]) -> int:
    raw = value.get("statusCode", 200)
    if isinstance(raw, bool):
        raise Malformed(f"statusCode {raw!r} is not a number")
    try:
        status = int(raw)
    except (TypeError, ValueError):
        raise Malformed(f"statusCode {raw!r} is not a number") from None
    if not 100 <= status <= 599:
        raise Malformed(f"statusCode {status} is not an HTTP status")
    return status


def _with_content_type(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", JSON))
    return headers


def _parse_object(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload or b"null")
    except ValueError:
        raise Malformed("the result is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"the result is a JSON {type(value).__name__}, not an object")
    return value


def _v1_result(payload: bytes) -> tuple[dict[str, Any], str | None]:
    value = _parse_object(payload)
    extra = sorted(set(value) - V1_KEYS)
    if extra:
        raise Malformed(f"unexpected key(s) {', '.join(extra)}")
    body = value.get("body")
    if body is not None and not isinstance(body, str):
        raise Malformed(f"body is a JSON {type(body).__name__}, not a string")
    return value, body


def map_rest(
    payload: bytes, *, accept: str | None = None, binary_media_types: Sequence[str] = ()
) -> HttpResponse:
    """REST API result -> response; raises Malformed."""
    value, body = _v1_result(payload)
    if _accepts_binary(accept, binary_media_types):
        return _finish(value, body)
    # Not a binary request: API Gateway passes a base64 body through as text.
    return _finish({**value, "isBase64Encoded": False}, body)


def _accepts_binary(accept: str | None, binary_media_types: Sequence[str]) -> bool:
    first = (accept or "").split(",", 1)[0]
    return is_binary(first, binary_media_types)


def map_http_v1(payload: bytes) -> HttpResponse:
    """HTTP API payload 1.0 result -> response (base64 bodies are always decoded); raises Malformed."""
    value, body = _v1_result(payload)
    return _finish(value, body)


def map_http_v2(payload: bytes) -> HttpResponse:
    """HTTP API payload 2.0 result -> response, with AWS's format inference; raises Malformed."""
    try:
        value = json.loads(payload or b"null")
    except ValueError:
        raise Malformed("the result is not JSON") from None
    if not (isinstance(value, dict) and "statusCode" in value):
        return HttpResponse(200, [("Content-Type", JSON)], payload)
    body = value.get("body")
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    response = _finish(value, body)
    cookies = value.get("cookies") or []
    if not isinstance(cookies, list):
        raise Malformed("cookies must be a list")
    return HttpResponse(
        response.status, response.headers + [("Set-Cookie", str(c)) for c in cookies], response.body
    )


def _finish(value: Mapping[str, Any], body: str | None) -> HttpResponse:
    status = _status(value)
    headers = _with_content_type(_headers(value))
    data = (body or "").encode("utf-8")
    if value.get("isBase64Encoded", value.get("base64Encoded")) and body:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise Malformed("isBase64Encoded is true but body is not base64") from None
    return HttpResponse(status, headers, data)

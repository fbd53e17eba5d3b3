"""The events API Gateway sends a Lambda proxy integration, built from one request.

* ``rest_event``: REST APIs (the v1 proxy event); ``http_v1_event``: HTTP APIs with
  payload format 1.0 (the same shape plus ``version``); ``http_v2_event``: payload 2.0.
* Shapes and null rules follow AWS's *Set up Lambda proxy integrations* (REST) and
  *Create AWS Lambda proxy integrations for HTTP APIs* pages: in the v1 event an empty
  map and a missing body are ``null``; in the 2.0 event they are left out.
* A named HTTP API stage stays in ``rawPath``/``path`` (AWS does this; powertools-lambda-python
  #621); REST APIs strip it from ``path`` and keep it in ``requestContext.path``.
"""

from __future__ import annotations

import base64
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from lambda_harness.endpoint.apigw.model import GatewayRequest
from lambda_harness.endpoint.apigw.routing import Match
from lambda_harness.endpoint.sources.function_urls import is_text, query_parameters

#: Headers API Gateway adds for the integration (the client's own values are replaced).
FORWARDED = ("X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto")


@dataclass(frozen=True)
class Context:
    """Where the request landed: account, API, stage, ids, time, and the authorizer's output."""

    account_id: str
    api_id: str
    stage: str
    request_id: str
    domain_name: str
    now: datetime
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    authorizer: Mapping[str, Any] | None = None
    resource_path_prefix: str = ""  # the stage segment HTTP APIs keep in the path ("/dev" or "")

    @property
    def domain_prefix(self) -> str:
        """The first label of the domain name."""
        return self.domain_name.split(".", 1)[0]

    def request_time(self) -> str:
        """``04/Mar/2020:19:15:17 +0000``."""
        return self.now.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")

    def epoch_ms(self) -> int:
        """The request time in milliseconds since the epoch."""
        return int(self.now.timestamp() * 1000)


def with_forwarded(request: GatewayRequest, port: str = "443", proto: str = "https") -> list[tuple[str, str]]:
    """The request's headers plus the ``X-Forwarded-*`` ones API Gateway sets."""
    kept = [(k, v) for k, v in request.headers if k.title() not in FORWARDED]
    return [
        *kept,
        ("X-Forwarded-For", request.source_ip),
        ("X-Forwarded-Port", port),
        ("X-Forwarded-Proto", proto),
    ]


def single_and_multi(
    pairs: Sequence[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """``(last value per key, every value per key)``, both None when there are no pairs."""
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    if not multi:
        return None, None
    return {key: values[-1] for key, values in multi.items()}, multi


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decoded ``(key, value)`` pairs of a query string, repeats kept."""
    return parse_qsl(raw_query, keep_blank_values=True)


def is_binary(content_type: str | None, binary_media_types: Sequence[str]) -> bool:
    """Whether a REST API treats a body of this type as binary (``image/*`` and ``*/*`` allowed)."""
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return any(fnmatch.fnmatchcase(mime, pattern.lower()) for pattern in binary_media_types)


def _body_v1(request: GatewayRequest, binary: bool) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if binary:
        return base64.b64encode(request.body).decode("ascii"), True
    return request.body.decode("utf-8", "replace"), False


def _identity(request: GatewayRequest) -> dict[str, Any]:
    keys = (
        "accessKey",
        "accountId",
        "caller",
        "cognitoAuthenticationProvider",
        "cognitoAuthenticationType",
        "cognitoIdentityId",
        "cognitoIdentityPoolId",
        "principalOrgId",
        "user",
        "userArn",
    )
    identity: dict[str, Any] = dict.fromkeys(keys)
    identity["sourceIp"] = request.source_ip
    identity["userAgent"] = request.header("user-agent")
    return identity


def _v1_request_context(
    request: GatewayRequest, match: Match, ctx: Context, *, resource_id: str, resource_path: str, path: str
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "accountId": ctx.account_id,
        "apiId": ctx.api_id,
        "domainName": ctx.domain_name,
        "domainPrefix": ctx.domain_prefix,
        "extendedRequestId": ctx.request_id,
        "httpMethod": request.method,
        "identity": _identity(request),
        "path": path,
        "protocol": request.protocol,
        "requestId": ctx.request_id,
        "requestTime": ctx.request_time(),
        "requestTimeEpoch": ctx.epoch_ms(),
        "resourceId": resource_id,
        "resourcePath": resource_path,
        "stage": ctx.stage,
    }
    if ctx.authorizer is not None:
        out["authorizer"] = dict(ctx.authorizer)
    return out


def _v1_common(request: GatewayRequest, match: Match, ctx: Context, path: str) -> dict[str, Any]:
    headers, multi_headers = single_and_multi(with_forwarded(request))
    query, multi_query = single_and_multi(query_pairs(request.raw_query))
    return {
        "resource": match.route.path,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(match.path_params) or None,
        "stageVariables": dict(ctx.stage_variables) or None,
    }


def rest_event(
    request: GatewayRequest, match: Match, ctx: Context, path: str, binary_media_types: Sequence[str]
) -> dict[str, Any]:
    """The REST API proxy event; ``path`` is the decoded path after the stage."""
    event = _v1_common(request, match, ctx, path)
    event["requestContext"] = _v1_request_context(
        request,
        match,
        ctx,
        resource_id=match.route.source_id,
        resource_path=match.route.path,
        path=f"/{ctx.stage}{path}" if path != "/" else f"/{ctx.stage}/",
    )
    body, encoded = _body_v1(request, is_binary(request.header("content-type"), binary_media_types))
    event["body"] = body
    event["isBase64Encoded"] = encoded
    return event


def http_v1_event(request: GatewayRequest, match: Match, ctx: Context) -> dict[str, Any]:
    """An HTTP API event with payload format 1.0 (the path keeps a named stage's segment)."""
    path = unquote(request.raw_path)
    event = {"version": "1.0", **_v1_common(request, match, ctx, path)}
    route_path = "$default" if match.route.method == "$default" else match.route.path
    event["resource"] = route_path
    event["requestContext"] = _v1_request_context(
        request, match, ctx, resource_id=match.route.key, resource_path=route_path, path=path
    )
    body, encoded = _body_v1(request, not is_text(request.header("content-type")))
    event["body"] = body
    event["isBase64Encoded"] = encoded
    return event


def http_v2_event(request: GatewayRequest, match: Match, ctx: Context) -> dict[str, Any]:
    """An HTTP API event with payload format 2.0 (header names lower-cased, cookies apart)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for key, value in with_forwarded(request):
        name = key.lower()
        if name == "cookie":  # each Cookie header's pairs, in order; not in ``headers``
            cookies += [part.strip() for part in value.split(";") if part.strip()]
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ctx.account_id,
            "apiId": ctx.api_id,
            "domainName": ctx.domain_name,
            "domainPrefix": ctx.domain_prefix,
            "http": {
                "method": request.method,
                "path": unquote(request.raw_path),
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": request.header("user-agent") or "",
            },
            "requestId": ctx.request_id,
            "routeKey": match.route.key,
            "stage": ctx.stage,
            "time": ctx.request_time(),
            "timeEpoch": ctx.epoch_ms(),
        },
        "isBase64Encoded": False,
    }
    if ctx.authorizer is not None:
        event["requestContext"]["authorizer"] = dict(ctx.authorizer)
    if cookies:
        event["cookies"] = cookies
    if request.raw_query:
        event["queryStringParameters"] = query_parameters(request.raw_query)
    if match.path_params:
        event["pathParameters"] = dict(match.path_params)
    if ctx.stage_variables:
        event["stageVariables"] = dict(ctx.stage_variables)
    if request.body:
        if is_text(headers.get("content-type")):
            event["body"] = request.body.decode("utf-8", "replace")
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event

"""Lambda authorizers without a server: identity, events, answers, and the cache (fake clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lambda_harness.endpoint.apigw.authorizers import (
    AuthorizerCache,
    AuthorizerFailed,
    AuthResult,
    authorizer_event,
    identity_values,
    integration_authorizer,
    method_arn,
    parse_result,
    token_is_valid,
)
from lambda_harness.endpoint.apigw.errors import Failure
from lambda_harness.endpoint.apigw.events import Context
from lambda_harness.endpoint.apigw.model import ApiKind, AuthorizerSpec, GatewayRequest, Route
from lambda_harness.endpoint.apigw.routing import Match

REST, HTTP = ApiKind.REST, ApiKind.HTTP
TOKEN = AuthorizerSpec(
    "a1", "token", "TOKEN", "uri", ("method.request.header.Authorization",), "^Bearer .+$", 300
)
REQUEST = AuthorizerSpec(
    "a2",
    "req",
    "REQUEST",
    "uri",
    ("method.request.header.Authorization", "method.request.querystring.token"),
    ttl_s=0,
)
SIMPLE = AuthorizerSpec(
    "a3", "simple", "REQUEST", "uri", ("$request.header.Authorization",), simple=True, payload_version="2.0"
)
ARN = method_arn("us-east-1", "123456789012", "abc", "dev", method="GET", path="/alerts/7")
CTX = Context(
    "123456789012", "abc", "dev", "req-1", "abc.execute-api.us-east-1.amazonaws.com", datetime.now(UTC)
)
MATCH = Match(Route("GET", "/alerts/{id}"), {"id": "7"})


def request(headers: tuple[tuple[str, str], ...] = (), query: str = "") -> GatewayRequest:
    return GatewayRequest("GET", "/alerts/7", query, headers)


def policy(effect: str, resource: Any, **extra: Any) -> bytes:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
    return json.dumps(
        {
            "principalId": "user-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            **extra,
        }
    ).encode()


def test_method_arn() -> None:
    assert ARN == "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/alerts/7"


def test_identity_sources() -> None:
    req = request((("Authorization", "Bearer t"),), "token=q&token=r")
    assert identity_values(TOKEN, REST, req, {}, {}) == ("Bearer t",)
    assert identity_values(REQUEST, REST, req, {}, {}) == ("Bearer t", "q,r")
    assert identity_values(TOKEN, REST, request(), {}, {}) is None  # TOKEN needs its header
    # REST REQUEST without caching does not require its sources; HTTP APIs always do.
    assert identity_values(REQUEST, REST, request(), {}, {}) == ("", "")
    assert identity_values(SIMPLE, HTTP, request(), {}, {}) is None
    variables = AuthorizerSpec("x", "v", "REQUEST", "u", ("stageVariables.env", "context.stage"), ttl_s=60)
    assert identity_values(variables, REST, request(), {"env": "dev"}, {"stage": "dev"}) == ("dev", "dev")


def test_token_validation_is_a_full_match() -> None:
    assert token_is_valid(TOKEN, "Bearer abc")
    assert not token_is_valid(TOKEN, "bearer abc")
    assert token_is_valid(REQUEST, "anything")


def test_token_event() -> None:
    event = authorizer_event(
        TOKEN, REST, request(), MATCH, CTX, arn=ARN, identity=("Bearer t",), path="/alerts/7"
    )
    assert event == {"type": "TOKEN", "authorizationToken": "Bearer t", "methodArn": ARN}


def test_rest_request_event_has_the_request_and_no_body() -> None:
    event = authorizer_event(
        REQUEST,
        REST,
        request((("Authorization", "x"),)),
        MATCH,
        CTX,
        arn=ARN,
        identity=("x", ""),
        path="/alerts/7",
    )
    assert event["type"] == "REQUEST" and event["methodArn"] == ARN
    assert event["headers"]["Authorization"] == "x" and event["pathParameters"] == {"id": "7"}
    assert "body" not in event and "isBase64Encoded" not in event


def test_http_v2_event() -> None:
    event = authorizer_event(
        SIMPLE,
        HTTP,
        request((("Authorization", "x"),)),
        MATCH,
        CTX,
        arn=ARN,
        identity=("x",),
        path="/alerts/7",
    )
    assert event["version"] == "2.0" and event["type"] == "REQUEST" and event["routeArn"] == ARN
    assert event["identitySource"] == ["x"] and event["routeKey"] == "GET /alerts/{id}"
    assert event["headers"]["authorization"] == "x"


def test_http_v1_event_joins_the_identity() -> None:
    spec = AuthorizerSpec(
        "a", "v1", "REQUEST", "u", ("$request.header.A", "$request.querystring.b"), payload_version="1.0"
    )
    event = authorizer_event(
        spec, HTTP, request(), MATCH, CTX, arn=ARN, identity=("1", "2"), path="/alerts/7"
    )
    assert (
        event["identitySource"] == "1,2"
        and event["authorizationToken"] == "1,2"
        and event["methodArn"] == ARN
    )


def test_policy_allow_deny_and_no_match() -> None:
    allow = parse_result(TOKEN, REST, policy("Allow", ARN, context={"user": "u1", "n": 3, "ok": True}), None)
    assert allow.decide(ARN) is None and allow.principal_id == "user-1"
    assert (
        allow.decide(ARN.replace("/alerts/7", "/health")) is Failure.NOT_ALLOWED
    )  # a cached policy, another path
    wildcard = parse_result(TOKEN, REST, policy("Allow", "arn:aws:execute-api:*:*:abc/*/GET/*"), None)
    assert wildcard.decide(ARN) is None
    deny = parse_result(TOKEN, REST, policy("Deny", [ARN, "x"]), None)
    assert deny.decide(ARN) is Failure.EXPLICIT_DENY


def test_deny_wins_over_allow() -> None:
    statements = [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
        {"Action": "execute-api:*", "Effect": "Deny", "Resource": ARN},
    ]
    result = AuthResult(principal_id="u", statements=tuple(statements))
    assert result.decide(ARN) is Failure.EXPLICIT_DENY


def test_simple_responses() -> None:
    yes = parse_result(SIMPLE, HTTP, b'{"isAuthorized": true, "context": {"u": {"nested": 1}}}', None)
    assert yes.decide(ARN) is None and yes.context == {"u": {"nested": 1}}
    no = parse_result(SIMPLE, HTTP, b'{"isAuthorized": false}', None)
    assert no.decide(ARN) is Failure.NOT_ALLOWED


@pytest.mark.parametrize(
    ("spec", "kind", "payload", "failure"),
    [
        (SIMPLE, HTTP, b'{"isAuthorized": "yes"}', Failure.AUTHORIZER_ERROR),
        (TOKEN, REST, b"[]", Failure.AUTHORIZER_ERROR),
        (TOKEN, REST, b"not json", Failure.AUTHORIZER_ERROR),
        (TOKEN, REST, b'{"principalId": "u"}', Failure.AUTHORIZER_ERROR),
        (TOKEN, REST, policy("Allow", "*", context={"nested": {"a": 1}}), Failure.AUTHORIZER_ERROR),
    ],
)
def test_bad_answers_are_configuration_errors(
    spec: AuthorizerSpec, kind: ApiKind, payload: bytes, failure: Failure
) -> None:
    with pytest.raises(AuthorizerFailed) as caught:
        parse_result(spec, kind, payload, None)
    assert caught.value.failure is failure


def test_function_errors() -> None:
    with pytest.raises(AuthorizerFailed) as unauthorized:
        parse_result(TOKEN, REST, b"", "Unauthorized")
    assert unauthorized.value.failure is Failure.UNAUTHORIZED
    with pytest.raises(AuthorizerFailed) as other:
        parse_result(TOKEN, REST, b"", "KeyError: 'x'")
    assert other.value.failure is Failure.AUTHORIZER_ERROR


def test_context_for_the_integration() -> None:
    result = AuthResult(principal_id="u1", context={"n": 3, "ok": True, "s": "x"}, statements=())
    assert integration_authorizer(REST, result, 12) == {
        "principalId": "u1",
        "integrationLatency": 12,
        "n": "3",
        "ok": "true",
        "s": "x",
    }
    assert integration_authorizer(HTTP, result, 12) == {"lambda": {"n": 3, "ok": True, "s": "x"}}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_hit_expiry_and_ttl_zero() -> None:
    clock = FakeClock()
    cache = AuthorizerCache(clock)
    result = AuthResult(authorized=True)
    cache.put(("api", "dev", "a1", "tok"), result, 300)
    clock.now += 299
    assert cache.get(("api", "dev", "a1", "tok")) is result
    assert cache.get(("api", "dev", "a1", "other")) is None
    clock.now += 1
    assert cache.get(("api", "dev", "a1", "tok")) is None
    cache.put(("k",), result, 0)
    assert cache.get(("k",)) is None


def test_cache_is_bounded() -> None:
    cache = AuthorizerCache(FakeClock(), max_entries=2)
    for key in ("a", "b", "c"):
        cache.put((key,), AuthResult(authorized=True), 60)
    assert cache.get(("a",)) is None and cache.get(("c",)) is not None

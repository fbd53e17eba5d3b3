"""Lambda authorizers: identity, the authorizer's event, its answer, and the result cache.

REST APIs: ``TOKEN`` (one header; ``identityValidationExpression`` checked before the
call) and ``REQUEST`` authorizers answering with an IAM policy. HTTP APIs: ``REQUEST``
authorizers, payload 1.0 (IAM policy) or 2.0 (IAM policy, or ``{"isAuthorized": ...}``
with ``enableSimpleResponses``). Sources: AWS's *Use API Gateway Lambda authorizers*
and *Working with AWS Lambda authorizers for HTTP APIs* pages.

A missing identity value answers 401 without calling the function; an authorizer that
fails with ``errorMessage`` ``Unauthorized`` is a 401 too; a Deny covering the request
is 403 (REST says "explicit deny"); no Allow covering it is 403; any other failure or
output is 500. Results are cached for the authorizer's TTL, keyed on its identity
values; a cached policy is evaluated again for each request's ARN, so a policy that
allowed only ``GET/alerts`` denies ``GET/health`` from the cache, as on AWS.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambda_harness.endpoint.apigw.errors import Failure
from lambda_harness.endpoint.apigw.events import (
    Context,
    http_v1_event,
    http_v2_event,
    query_pairs,
    rest_event,
)
from lambda_harness.endpoint.apigw.model import ApiKind, AuthorizerSpec, GatewayRequest
from lambda_harness.endpoint.apigw.permissions import arn_like
from lambda_harness.endpoint.apigw.routing import Match

INVOKE_ACTIONS = frozenset({"execute-api:invoke", "execute-api:*", "*"})


class AuthorizerFailed(Exception):
    """The authorizer's answer ends the request (``failure``); ``reason`` is for the endpoint log."""

    def __init__(self, failure: Failure, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason


# --- identity -------------------------------------------------------------------------------------


def _source_value(
    source: str, request: GatewayRequest, stage_variables: Mapping[str, str], context: Mapping[str, str]
) -> str | None:
    source = source.strip()
    for prefix in ("method.request.header.", "$request.header."):
        if source.startswith(prefix):
            return request.header(source[len(prefix) :])
    for prefix in ("method.request.querystring.", "$request.querystring."):
        if source.startswith(prefix):
            values = [v for k, v in query_pairs(request.raw_query) if k == source[len(prefix) :]]
            return ",".join(values) if values else None
    for prefix in ("stageVariables.", "$stageVariables."):
        if source.startswith(prefix):
            return stage_variables.get(source[len(prefix) :])
    for prefix in ("context.", "$context."):
        if source.startswith(prefix):
            return context.get(source[len(prefix) :])
    return None


def identity_values(
    spec: AuthorizerSpec,
    kind: ApiKind,
    request: GatewayRequest,
    stage_variables: Mapping[str, str],
    context: Mapping[str, str],
) -> tuple[str, ...] | None:
    """The identity values in source order; None when a required one is missing (-> 401).

    TOKEN authorizers always need their header; REST REQUEST authorizers need every source
    only when caching is on; HTTP API authorizers need every source they name.
    """
    values = tuple(_source_value(s, request, stage_variables, context) or "" for s in spec.identity_sources)
    required = spec.type == "TOKEN" or kind is ApiKind.HTTP or spec.ttl_s > 0
    if required and any(not v for v in values):
        return None
    return values


def token_is_valid(spec: AuthorizerSpec, token: str) -> bool:
    """A TOKEN authorizer's ``identityValidationExpression`` (the whole token must match)."""
    if spec.type != "TOKEN" or not spec.validation:
        return True
    try:
        return re.fullmatch(spec.validation, token) is not None
    except re.error:
        return True  # AWS refuses a bad expression when it is set; never block on our regex dialect


def method_arn(region: str, account_id: str, api_id: str, stage: str, *, method: str, path: str) -> str:
    """``arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`` (the request's path)."""
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}/{path.lstrip('/')}"


# --- the authorizer's event ---------------------------------------------------------------------


def authorizer_event(
    spec: AuthorizerSpec,
    kind: ApiKind,
    request: GatewayRequest,
    match: Match,
    ctx: Context,
    *,
    arn: str,
    identity: tuple[str, ...],
    path: str,
) -> dict[str, Any]:
    """The event API Gateway sends the authorizer function."""
    if spec.type == "TOKEN":
        return {"type": "TOKEN", "authorizationToken": identity[0] if identity else "", "methodArn": arn}
    if kind is ApiKind.REST:
        event = rest_event(request, match, ctx, path, ())
        for key in ("body", "isBase64Encoded"):
            event.pop(key, None)
        return {"type": "REQUEST", "methodArn": arn, **event}
    if spec.payload_version == "1.0":
        event = http_v1_event(request, match, ctx)
        for key in ("body", "isBase64Encoded"):
            event.pop(key, None)
        joined = ",".join(identity)
        return {
            **event,
            "type": "REQUEST",
            "methodArn": arn,
            "identitySource": joined,
            "authorizationToken": joined,
        }
    event = http_v2_event(request, match, ctx)
    for key in ("body", "isBase64Encoded"):
        event.pop(key, None)
    return {**event, "type": "REQUEST", "routeArn": arn, "identitySource": list(identity)}


# --- the authorizer's answer --------------------------------------------------------------------


@dataclass(frozen=True)
class AuthResult:
    """What an authorizer decided, in a form that can be cached and re-evaluated."""

    principal_id: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    statements: tuple[Mapping[str, Any], ...] | None = None  # an IAM policy
    authorized: bool | None = None  # a simple response

    def decide(self, arn: str) -> Failure | None:
        """None when the request with this ARN may pass; the failure otherwise."""
        if self.authorized is not None:
            return None if self.authorized else Failure.NOT_ALLOWED
        allowed = False
        for statement in self.statements or ():
            actions = {str(a).lower() for a in _as_list(statement.get("Action"))}
            if not actions & INVOKE_ACTIONS:
                continue
            if not any(arn_like(str(r), arn) for r in _as_list(statement.get("Resource"))):
                continue
            if str(statement.get("Effect", "")).lower() == "deny":
                return Failure.EXPLICIT_DENY
            allowed = allowed or str(statement.get("Effect", "")).lower() == "allow"
        return None if allowed else Failure.NOT_ALLOWED


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _flat_context(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AuthorizerFailed(
            Failure.AUTHORIZER_ERROR, f"context is a JSON {type(value).__name__}, not an object"
        )
    nested = [k for k, v in value.items() if isinstance(v, (dict, list))]
    if nested:
        raise AuthorizerFailed(
            Failure.AUTHORIZER_ERROR,
            f"context values must be strings, numbers or booleans; {', '.join(nested)} are objects or lists",
        )
    return dict(value)


def parse_result(
    spec: AuthorizerSpec, kind: ApiKind, payload: bytes, error_message: str | None
) -> AuthResult:
    """Read an authorizer's answer; raises AuthorizerFailed (401 for ``Unauthorized``, else 500)."""
    if error_message is not None:
        if error_message == "Unauthorized":
            raise AuthorizerFailed(Failure.UNAUTHORIZED, 'the authorizer raised "Unauthorized"')
        raise AuthorizerFailed(Failure.AUTHORIZER_ERROR, f"the authorizer failed: {error_message}")
    try:
        value = json.loads(payload or b"null")
    except ValueError:
        raise AuthorizerFailed(Failure.AUTHORIZER_ERROR, "the authorizer's answer is not JSON") from None
    if not isinstance(value, dict):
        raise AuthorizerFailed(Failure.AUTHORIZER_ERROR, "the authorizer's answer is not a JSON object")
    if kind is ApiKind.HTTP and spec.simple:
        if not isinstance(value.get("isAuthorized"), bool):
            raise AuthorizerFailed(
                Failure.AUTHORIZER_ERROR, 'a simple response needs "isAuthorized": true or false'
            )
        context = value.get("context") or {}
        if not isinstance(context, dict):
            raise AuthorizerFailed(Failure.AUTHORIZER_ERROR, "context is not an object")
        return AuthResult(context=context, authorized=value["isAuthorized"])
    policy = value.get("policyDocument")
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or "principalId" not in value:
        raise AuthorizerFailed(
            Failure.AUTHORIZER_ERROR,
            "the answer needs principalId and policyDocument.Statement (an IAM policy)",
        )
    principal = value.get("principalId")
    return AuthResult(
        principal_id=None if principal is None else str(principal),
        context=_flat_context(value.get("context")),
        statements=tuple(s for s in statements if isinstance(s, dict)),
    )


def integration_authorizer(kind: ApiKind, result: AuthResult, latency_ms: int) -> dict[str, Any]:
    """``requestContext.authorizer`` for the integration's event.

    REST APIs: ``principalId``, ``integrationLatency`` and the context, values as strings;
    HTTP APIs: ``{"lambda": context}``.
    """
    if kind is ApiKind.HTTP:
        return {"lambda": dict(result.context)}
    out: dict[str, Any] = {"principalId": result.principal_id, "integrationLatency": latency_ms}
    for key, value in result.context.items():
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


# --- the cache ---------------------------------------------------------------------------------


class AuthorizerCache:
    """Authorizer results by (api, stage, authorizer, identity values), for the authorizer's TTL.

    Bounded (oldest dropped first) and locked: the endpoint serves requests on threads.
    """

    def __init__(self, clock: Callable[[], float], max_entries: int = 4096) -> None:
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, ...], tuple[float, AuthResult]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> AuthResult | None:
        """The cached result, or None when absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: tuple[str, ...], result: AuthResult, ttl_s: int) -> None:
        """Keep a result for ``ttl_s`` seconds (0: not cached)."""
        if ttl_s <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + ttl_s, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

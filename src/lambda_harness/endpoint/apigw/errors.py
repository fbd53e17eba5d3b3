"""API Gateway's own answers when it does not return the function's response: one table.

REST APIs and HTTP APIs answer differently (status, body, and REST's
``x-amzn-ErrorType`` header). Sources: AWS's *Gateway response types* for REST APIs,
*Working with routes for HTTP APIs* (404 ``Not Found``), the AWS Knowledge Center
pages on 403 and 500 errors from API Gateway and Lambda authorizers, and answers
recorded from AWS in public issues (HTTP API 500/503: aws-lambda-cpp #117,
cortexlabs/cortex #1225). docs/reference/apis.md prints this table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from lambda_harness.endpoint.apigw.model import ApiKind
from lambda_harness.endpoint.sources.function_urls import HttpResponse


class Failure(Enum):
    """Why the gateway answers itself."""

    UNKNOWN_STAGE = "unknown-stage"
    NO_ROUTE = "no-route"
    TOO_LARGE = "too-large"
    UNAUTHORIZED = "unauthorized"  # identity missing, invalid, or the authorizer said "Unauthorized"
    EXPLICIT_DENY = "explicit-deny"
    NOT_ALLOWED = "not-allowed"  # no Allow covers the request, or isAuthorized false
    AUTHORIZER_ERROR = "authorizer-error"  # authorizer failed, bad output, no permission
    PERMISSION = "permission"  # the integration function does not allow API Gateway
    INTEGRATION_CONFIG = "integration-config"  # the function does not exist, bad URI
    FUNCTION_ERROR = "function-error"  # handler error, crash, timeout inside Lambda
    MALFORMED = "malformed"  # the function answered, but not a proxy response
    THROTTLED = "throttled"
    TIMEOUT = "timeout"  # the integration timeout passed before the function answered
    NOT_EMULATED = "not-emulated"  # a feature lambda-harness does not run (its message says which)


@dataclass(frozen=True)
class Answer:
    """Status, JSON body, REST's ``x-amzn-ErrorType`` (None: not sent), and whether the body is
    written with spaces (``{"message": "Internal server error"}``: REST's integration failures,
    as AWS sends them) or compact (``{"message":"Not Found"}``: the gateway-response template
    ``{"message":$context.error.messageString}`` and every HTTP API answer)."""

    status: int
    body: Mapping[str, object | None]
    error_type: str | None = None
    spaced: bool = False


INTERNAL_REST = {"message": "Internal server error"}
INTERNAL_HTTP = {"message": "Internal Server Error"}

REST: dict[Failure, Answer] = {
    Failure.UNKNOWN_STAGE: Answer(403, {"message": "Forbidden"}, "ForbiddenException"),
    Failure.NO_ROUTE: Answer(
        403, {"message": "Missing Authentication Token"}, "MissingAuthenticationTokenException"
    ),
    Failure.TOO_LARGE: Answer(413, {"message": "Request Too Long"}, "RequestTooLargeException"),
    Failure.UNAUTHORIZED: Answer(401, {"message": "Unauthorized"}, "UnauthorizedException"),
    Failure.EXPLICIT_DENY: Answer(
        403,
        {"Message": "User is not authorized to access this resource with an explicit deny"},
        "AccessDeniedException",
    ),
    Failure.NOT_ALLOWED: Answer(
        403, {"Message": "User is not authorized to access this resource"}, "AccessDeniedException"
    ),
    Failure.AUTHORIZER_ERROR: Answer(500, {"message": None}, "AuthorizerConfigurationException", True),
    Failure.PERMISSION: Answer(500, INTERNAL_REST, "InternalServerErrorException", True),
    Failure.INTEGRATION_CONFIG: Answer(500, INTERNAL_REST, "InternalServerErrorException", True),
    Failure.FUNCTION_ERROR: Answer(502, INTERNAL_REST, "InternalServerErrorException", True),
    Failure.MALFORMED: Answer(502, INTERNAL_REST, "InternalServerErrorException", True),
    Failure.THROTTLED: Answer(500, INTERNAL_REST, "InternalServerErrorException", True),
    Failure.TIMEOUT: Answer(
        504, {"message": "Endpoint request timed out"}, "InternalServerErrorException", True
    ),
    Failure.NOT_EMULATED: Answer(501, {"message": "lambda-harness: not emulated"}),
}

HTTP: dict[Failure, Answer] = {
    Failure.UNKNOWN_STAGE: Answer(404, {"message": "Not Found"}),
    Failure.NO_ROUTE: Answer(404, {"message": "Not Found"}),
    Failure.TOO_LARGE: Answer(413, {"message": "Request Entity Too Large"}),
    Failure.UNAUTHORIZED: Answer(401, {"message": "Unauthorized"}),
    Failure.EXPLICIT_DENY: Answer(403, {"message": "Forbidden"}),
    Failure.NOT_ALLOWED: Answer(403, {"message": "Forbidden"}),
    Failure.AUTHORIZER_ERROR: Answer(500, INTERNAL_HTTP),
    Failure.PERMISSION: Answer(500, INTERNAL_HTTP),
    Failure.INTEGRATION_CONFIG: Answer(500, INTERNAL_HTTP),
    Failure.FUNCTION_ERROR: Answer(500, INTERNAL_HTTP),
    Failure.MALFORMED: Answer(500, INTERNAL_HTTP),
    Failure.THROTTLED: Answer(500, INTERNAL_HTTP),
    Failure.TIMEOUT: Answer(503, {"message": "Service Unavailable"}),
    Failure.NOT_EMULATED: Answer(501, {"message": "lambda-harness: not emulated"}),
}


def answer(failure: Failure, kind: ApiKind) -> Answer:
    """The table row for one failure and API kind."""
    return (REST if kind is ApiKind.REST else HTTP)[failure]


def render(failure: Failure, kind: ApiKind, message: str | None = None) -> HttpResponse:
    """The HTTP response API Gateway sends; ``message`` replaces the body's text (NOT_EMULATED only)."""
    row = answer(failure, kind)
    body = {"message": message} if message is not None else row.body
    headers = [("Content-Type", "application/json")]
    if row.error_type is not None:
        headers.append(("x-amzn-ErrorType", row.error_type))
    separators = (", ", ": ") if row.spaced else (",", ":")
    return HttpResponse(row.status, headers, json.dumps(body, separators=separators).encode())

"""AWS's gateway error table: every failure has an answer for each API kind."""

from __future__ import annotations

import json

import pytest

from lambda_harness.endpoint.apigw.errors import HTTP, REST, Failure, render
from lambda_harness.endpoint.apigw.model import ApiKind


def test_every_failure_has_both_answers() -> None:
    assert set(REST) == set(HTTP) == set(Failure)


@pytest.mark.parametrize(
    ("failure", "rest", "http"),
    [
        (
            Failure.NO_ROUTE,
            (403, {"message": "Missing Authentication Token"}),
            (404, {"message": "Not Found"}),
        ),
        (
            Failure.FUNCTION_ERROR,
            (502, {"message": "Internal server error"}),
            (500, {"message": "Internal Server Error"}),
        ),
        (
            Failure.PERMISSION,
            (500, {"message": "Internal server error"}),
            (500, {"message": "Internal Server Error"}),
        ),
        (
            Failure.TIMEOUT,
            (504, {"message": "Endpoint request timed out"}),
            (503, {"message": "Service Unavailable"}),
        ),
        (Failure.UNAUTHORIZED, (401, {"message": "Unauthorized"}), (401, {"message": "Unauthorized"})),
        (
            Failure.EXPLICIT_DENY,
            (403, {"Message": "User is not authorized to access this resource with an explicit deny"}),
            (403, {"message": "Forbidden"}),
        ),
        (Failure.AUTHORIZER_ERROR, (500, {"message": None}), (500, {"message": "Internal Server Error"})),
        (Failure.UNKNOWN_STAGE, (403, {"message": "Forbidden"}), (404, {"message": "Not Found"})),
    ],
)
def test_rows(
    failure: Failure, rest: tuple[int, dict[str, object]], http: tuple[int, dict[str, object]]
) -> None:
    for kind, (status, body) in ((ApiKind.REST, rest), (ApiKind.HTTP, http)):
        out = render(failure, kind)
        assert (out.status, json.loads(out.body)) == (status, body)


def test_rest_answers_carry_the_error_type_header_and_http_ones_do_not() -> None:
    assert ("x-amzn-ErrorType", "MissingAuthenticationTokenException") in render(
        Failure.NO_ROUTE, ApiKind.REST
    ).headers
    assert not any(k == "x-amzn-ErrorType" for k, _ in render(Failure.NO_ROUTE, ApiKind.HTTP).headers)


def test_not_emulated_names_the_feature() -> None:
    out = render(Failure.NOT_EMULATED, ApiKind.HTTP, "lambda-harness: JWT authorizers are not emulated")
    assert out.status == 501 and b"JWT" in out.body


@pytest.mark.parametrize(
    ("failure", "kind", "body"),
    [
        (Failure.FUNCTION_ERROR, ApiKind.REST, b'{"message": "Internal server error"}'),
        (Failure.TIMEOUT, ApiKind.REST, b'{"message": "Endpoint request timed out"}'),
        (Failure.AUTHORIZER_ERROR, ApiKind.REST, b'{"message": null}'),
        (Failure.NO_ROUTE, ApiKind.REST, b'{"message":"Missing Authentication Token"}'),
        (Failure.UNAUTHORIZED, ApiKind.REST, b'{"message":"Unauthorized"}'),
        (Failure.FUNCTION_ERROR, ApiKind.HTTP, b'{"message":"Internal Server Error"}'),
        (Failure.NO_ROUTE, ApiKind.HTTP, b'{"message":"Not Found"}'),
    ],
)
def test_bodies_byte_for_byte_as_aws_sends_them(failure: Failure, kind: ApiKind, body: bytes) -> None:
    """REST's integration failures are written with spaces, gateway-response templates compact."""
    assert render(failure, kind).body == body

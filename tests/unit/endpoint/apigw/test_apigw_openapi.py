"""OpenAPI imports into moto's models (in memory: moto's backends without a server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.apigateway.exceptions import InvalidOpenApiDocVersionException
from moto.apigateway.models import apigateway_backends
from moto.apigatewayv2.models import apigatewayv2_backends
from moto.moto_api._internal.models import moto_api_backend

from lambda_harness.endpoint.apigw import openapi
from lambda_harness.endpoint.apigw.catalog import http_table, rest_table

FN = "arn:aws:lambda:us-east-1:1:function:f"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}/invocations"
INTEGRATION = {"type": "aws_proxy", "httpMethod": "POST", "uri": URI}
ACCOUNT = "123456789012"


@pytest.fixture
def rest() -> Iterator[Any]:
    backend = apigateway_backends[ACCOUNT]["us-east-1"]
    yield backend
    moto_api_backend.reset()


def doc(**extra: Any) -> dict[str, Any]:
    return {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "7"},
        "components": {
            "securitySchemes": {
                "tok": {
                    "type": "apiKey",
                    "name": "X-Token",
                    "in": "header",
                    "x-amazon-apigateway-authorizer": {
                        "type": "token",
                        "authorizerUri": URI,
                        "authorizerResultTtlInSeconds": 0,
                    },
                },
                "iam": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                },
            }
        },
        "paths": {
            "/a/{id}": {
                "summary": "ignored",
                "parameters": [{"name": "id", "in": "path"}],
                "get": {"security": [{"tok": []}], "x-amazon-apigateway-integration": INTEGRATION},
                "x-amazon-apigateway-any-method": {
                    "security": [{"iam": []}],
                    "x-amazon-apigateway-integration": INTEGRATION,
                },
            },
            "/": {"post": {"x-amazon-apigateway-integration": INTEGRATION}},
        },
        **extra,
    }


def test_operations_skip_non_method_keys() -> None:
    assert [(p, m) for p, m, _ in openapi.operations(doc())] == [
        ("/a/{id}", "GET"),
        ("/a/{id}", "ANY"),
        ("/", "POST"),
    ]


def test_parse_json_yaml_and_mappings() -> None:
    assert openapi.parse('{"a": 1}') == {"a": 1} == openapi.parse(b"a: 1") == openapi.parse({"a": 1})


def test_rest_overwrite_keeps_the_root_id_and_reads_authorizers(rest: Any) -> None:
    api = rest.create_rest_api(name="x", description="")
    root = api.root_resource_id
    openapi.import_rest(
        rest, api.id, doc(**{"x-amazon-apigateway-binary-media-types": ["image/png"]}), "overwrite"
    )
    openapi.import_rest(rest, api.id, doc(), "overwrite")  # twice: no duplicate resources or authorizers
    assert api.root_resource_id == root and root in api.resources and len(api.authorizers) == 1
    table = {r.key: r for r in rest_table(api).routes}
    assert sorted(table) == ["ANY /a/{id}", "GET /a/{id}", "POST /"]
    get = table["GET /a/{id}"]
    assert get.authorization == "CUSTOM" and get.authorizer is not None
    assert get.authorizer.identity_sources == ("method.request.header.X-Token",) and get.authorizer.ttl_s == 0
    assert table["ANY /a/{id}"].authorization == "AWS_IAM"
    assert get.integration is not None and get.integration.type == "AWS_PROXY"
    assert rest_table(api).binary_media_types == ("image/png",)


def test_swagger_2_is_accepted_and_other_versions_refused(rest: Any) -> None:
    api = rest.create_rest_api(name="s", description="")
    swagger = {
        "swagger": "2.0",
        "info": {"title": "s"},
        "paths": {"/p": {"get": {"x-amazon-apigateway-integration": INTEGRATION}}},
    }
    openapi.import_rest(rest, api.id, swagger, "merge")
    assert [r.key for r in rest_table(api).routes] == ["GET /p"]
    with pytest.raises(InvalidOpenApiDocVersionException):
        openapi.import_rest(rest, api.id, {"openapi": "4.0", "paths": {}})


def test_http_import_routes_authorizers_cors_and_stages_kept() -> None:
    backend = apigatewayv2_backends[ACCOUNT]["us-east-1"]
    try:
        api = backend.create_api(
            api_key_selection_expression=None,
            cors_configuration=None,
            description=None,
            disable_schema_validation=None,
            disable_execute_api_endpoint=None,
            name="h",
            protocol_type="HTTP",
            route_selection_expression=None,
            tags={},
            version=None,
        )
        api.create_stage({"stageName": "$default", "autoDeploy": True})
        body = doc(**{"x-amazon-apigateway-cors": {"allowOrigins": ["*"]}})
        body["components"]["securitySchemes"]["tok"]["x-amazon-apigateway-authorizer"] = {
            "type": "request",
            "authorizerUri": URI,
            "identitySource": "$request.header.X-Token",
            "enableSimpleResponses": True,
            "authorizerPayloadFormatVersion": "2.0",
        }
        openapi.import_http(api, body)
        table = {r.key: r for r in http_table(api).routes}
        assert sorted(table) == ["ANY /a/{id}", "GET /a/{id}", "POST /"]
        auth = table["GET /a/{id}"].authorizer
        assert auth is not None and auth.simple and auth.identity_sources == ("$request.header.X-Token",)
        assert (
            list(api.stages) == ["$default"]
            and api.version == "7"
            and api.cors_configuration == {"allowOrigins": ["*"]}
        )
    finally:
        moto_api_backend.reset()

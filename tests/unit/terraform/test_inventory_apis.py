"""Inventory: REST and HTTP APIs from state, their stages' URLs and Lambda proxy routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.terraform.apis import LOCALSTACK_API_PREFIX, ApiUrls, body_routes
from lambda_harness.terraform.inventory import Inventory, Trigger, describe_triggers

FN = "arn:aws:lambda:us-east-1:1:function:f"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}/invocations"


def res(rtype: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name, "values": values}


BODY = json.dumps(
    {
        "openapi": "3.0.1",
        "paths": {
            "/a": {
                "parameters": [],
                "get": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": URI}},
                "options": {"x-amazon-apigateway-integration": {"type": "mock"}},
            },
            "/b/{x}": {
                "x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {"type": "AWS_PROXY"}}
            },
        },
    }
)
RESOURCES = [
    res("aws_api_gateway_rest_api", "shop", {"id": "r1", "name": "shop-api", "root_resource_id": "root"}),
    res("aws_api_gateway_resource", "items", {"id": "i1", "rest_api_id": "r1", "path": "/items"}),
    res(
        "aws_api_gateway_integration",
        "root",
        {"rest_api_id": "r1", "resource_id": "root", "http_method": "GET", "type": "AWS_PROXY"},
    ),
    res(
        "aws_api_gateway_integration",
        "items",
        {"rest_api_id": "r1", "resource_id": "i1", "http_method": "POST", "type": "AWS_PROXY"},
    ),
    res(
        "aws_api_gateway_integration",
        "cors",
        {"rest_api_id": "r1", "resource_id": "i1", "http_method": "OPTIONS", "type": "MOCK"},
    ),
    res("aws_api_gateway_stage", "dev", {"rest_api_id": "r1", "stage_name": "dev"}),
    res("aws_api_gateway_deployment", "old", {"rest_api_id": "r1", "stage_name": "legacy"}),
    res(
        "aws_api_gateway_rest_api",
        "body",
        {"id": "r2", "name": "body", "root_resource_id": "x", "body": BODY},
    ),
    res("aws_apigatewayv2_api", "orders", {"id": "h1", "name": "orders", "protocol_type": "HTTP"}),
    res("aws_apigatewayv2_api", "ws", {"id": "w1", "name": "ws", "protocol_type": "WEBSOCKET"}),
    res("aws_apigatewayv2_integration", "p", {"id": "ip", "api_id": "h1", "integration_type": "AWS_PROXY"}),
    res("aws_apigatewayv2_integration", "h", {"id": "ih", "api_id": "h1", "integration_type": "HTTP_PROXY"}),
    res(
        "aws_apigatewayv2_route",
        "a",
        {"api_id": "h1", "route_key": "GET /orders", "target": "integrations/ip"},
    ),
    res(
        "aws_apigatewayv2_route", "b", {"api_id": "h1", "route_key": "$default", "target": "integrations/ip"}
    ),
    res(
        "aws_apigatewayv2_route",
        "c",
        {"api_id": "h1", "route_key": "GET /proxy", "target": "integrations/ih"},
    ),
    res("aws_apigatewayv2_stage", "d", {"api_id": "h1", "name": "$default"}),
    res("aws_apigatewayv2_stage", "e", {"api_id": "h1", "name": "dev"}),
]


def inventory(tmp_path: Path, **kwargs: Any) -> Inventory:
    show = {"values": {"root_module": {"resources": RESOURCES}}}
    (tmp_path / "api.tf").write_text('resource "aws_apigatewayv2_api" "orders" {\n}\n')
    return Inventory.from_show_json(show, tmp_path, endpoint_url="http://127.0.0.1:4566", **kwargs)


def test_apis_kinds_routes_and_stages(tmp_path: Path) -> None:
    apis = {a.name: a for a in inventory(tmp_path).apis}
    assert sorted(apis) == ["body", "orders", "shop"]  # no WebSocket API
    shop, orders = apis["shop"], apis["orders"]
    assert (shop.kind, shop.api_name, shop.api_id) == ("REST", "shop-api", "r1")
    assert shop.routes == ["GET /", "POST /items"]  # the MOCK OPTIONS method is not a Lambda route
    assert [s.name for s in shop.stages] == ["dev", "legacy"]
    assert apis["body"].routes == ["ANY /b/{x}", "GET /a"] and apis["body"].stages == []
    assert orders.routes == ["$default", "GET /orders"]
    assert (orders.tf_file, orders.tf_line) == (tmp_path / "api.tf", 1)


def test_stage_urls_both_forms(tmp_path: Path) -> None:
    orders = inventory(tmp_path).api("orders")
    assert orders.stage().url == "http://127.0.0.1:4566/_harness/apigw/h1/"
    assert orders.stage("dev").url == "http://127.0.0.1:4566/_harness/apigw/h1/dev/"
    assert orders.stage("dev").host_url == "http://h1.execute-api.localhost:4566/dev/"
    local = inventory(tmp_path, api_prefix=LOCALSTACK_API_PREFIX).api("orders")
    assert local.stage().url == "http://127.0.0.1:4566/_aws/execute-api/h1/"
    assert ApiUrls("", "/p").stage("a", "$default").host_url == "http://a.execute-api.localhost/"


def test_lookup_by_terraform_name_api_name_or_id_and_stage_errors(tmp_path: Path) -> None:
    inv = inventory(tmp_path)
    assert inv.api("shop-api").name == inv.api("r1").name == "shop"
    with pytest.raises(ConfigError, match="deployed APIs: body"):
        inv.api("nope")
    with pytest.raises(ConfigError, match="its stages: dev, legacy"):
        inv.api("shop").stage()  # two stages, no $default
    with pytest.raises(ConfigError, match="its stages: none"):
        inv.api("body").stage()


def test_round_trip_through_json(tmp_path: Path) -> None:
    inv = inventory(tmp_path)
    loaded = Inventory.load(inv.save(tmp_path / "inventory.json"))
    assert loaded.apis == inv.apis


def test_body_routes_ignores_bad_bodies() -> None:
    assert body_routes("not json") == [] and body_routes(None) == [] and body_routes('{"paths": []}') == []


def test_the_triggers_column_names_each_api_once_with_its_routes(tmp_path: Path) -> None:
    """Follow-up 7: one ``api:<id>`` per API with its route keys; an authorizer by its name."""
    perm_arn = "arn:aws:execute-api:us-east-1:1:r1/*/*"
    resources = [
        res(
            "aws_lambda_function",
            "f",
            {"function_name": "f", "arn": FN, "handler": "a.b", "runtime": "python3.12"},
        ),
        res("aws_lambda_function", "auth", {"function_name": "auth", "arn": FN + "x", "handler": "a.b"}),
        *RESOURCES,
        res(
            "aws_api_gateway_integration",
            "root2",
            {"rest_api_id": "r1", "resource_id": "root", "http_method": "GET", "uri": URI},
        ),
        res(
            "aws_api_gateway_integration",
            "items2",
            {"rest_api_id": "r1", "resource_id": "i1", "http_method": "POST", "uri": URI},
        ),
        res("aws_apigatewayv2_integration", "p2", {"id": "ip2", "api_id": "h1", "integration_uri": FN}),
        res(
            "aws_apigatewayv2_route",
            "a2",
            {"api_id": "h1", "route_key": "GET /a", "target": "integrations/ip2"},
        ),
        res(
            "aws_apigatewayv2_route",
            "b2",
            {"api_id": "h1", "route_key": "GET /b", "target": "integrations/ip2"},
        ),
        res(
            "aws_lambda_permission",
            "p",
            {"function_name": "f", "principal": "apigateway.amazonaws.com", "source_arn": perm_arn},
        ),
        res(
            "aws_api_gateway_authorizer",
            "tok",
            {
                "rest_api_id": "r1",
                "name": "token",
                "authorizer_uri": URI.replace("function:f/", "function:auth/"),
            },
        ),
        res(
            "aws_lambda_permission",
            "pa",
            {
                "function_name": "auth",
                "principal": "apigateway.amazonaws.com",
                "source_arn": "arn:aws:execute-api:us-east-1:1:r1/authorizers/a1",
            },
        ),
    ]
    show = {"values": {"root_module": {"resources": resources}}}
    inv = Inventory.from_show_json(show, tmp_path, endpoint_url="http://127.0.0.1:4566")
    fns = {f.name: f for f in inv.functions}
    assert describe_triggers(fns["f"].triggers) == "api:r1 (GET /, POST /items), api:h1 (GET /a, GET /b)"
    assert describe_triggers(fns["auth"].triggers) == "api:r1 (authorizer token)"
    only_permission = [Trigger("api", perm_arn, {"resource": "aws_lambda_permission"})]
    assert describe_triggers(only_permission) == "api:r1"
    assert describe_triggers([Trigger("sqs", "arn:q"), *only_permission]) == "sqs:arn:q, api:r1"

"""One real Terraform apply of tests/fixtures/repos/apigw against a real endpoint, then only HTTP.

The fixture holds REST APIs (resource by resource, and from an OpenAPI body), HTTP APIs
(payload 1.0 and 2.0, ``$default`` and a named stage, CORS, an OpenAPI body), REST TOKEN and
REQUEST authorizers, HTTP simple and IAM-policy authorizers, and a route whose function has
no permission. ``deploy`` fails unless the second plan is empty, so the module fixture
also proves moto keeps what Terraform wrote (binary media types, the validation expression).
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.terraform.deploy import deploy
from lambda_harness.terraform.inventory import Inventory
from lambda_harness.ui import PlainUI
from support.terraform import PLUGIN_DIR, harness_environ, make_settings, write_project

pytestmark = [pytest.mark.slow]
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "repos" / "apigw"
pytest_plugins = ["pytester"]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str, *, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None
) -> Answer:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return Answer(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


@dataclass
class Applied:
    root: Path
    inventory: Inventory
    output: str

    def url(self, api: str, stage: str | None = None) -> str:
        return self.inventory.api(api).stage(stage).url


@pytest.fixture(scope="module")
def applied(endpoint: EmbeddedEndpoint, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    if shutil.which("terraform") is None or not Path(PLUGIN_DIR).is_dir():
        pytest.skip("terraform or the provider mirror is not installed")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(FIXTURE / "functions" / "app.py", "app.py")
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted((FIXTURE / "terraform").glob("*.tf"))}
    root = write_project(tmp_path_factory.mktemp("apigw") / "repo", files, zip_bytes=buf.getvalue())
    out = io.StringIO()
    inventory = deploy(make_settings(root), PlainUI(out), endpoint.url, environ=harness_environ())
    yield Applied(root, inventory, out.getvalue())


def test_inventory_lists_every_api_with_stages_routes_and_urls(
    applied: Applied, endpoint: EmbeddedEndpoint
) -> None:
    apis = {a.name: a for a in applied.inventory.apis}
    assert {name: a.kind for name, a in apis.items()} == {
        "catalog": "REST",
        "orders": "HTTP",
        "pings": "HTTP",
        "shop": "REST",
    }
    assert apis["shop"].routes == ["ANY /{proxy+}", "GET /items", "GET /items/{id}"]
    assert apis["catalog"].routes == ["ANY /products/{sku}", "GET /products"]
    assert apis["orders"].routes == [
        "$default",
        "ANY /files/{proxy+}",
        "GET /orders",
        "GET /orders/{id}",
        "GET /orphan",
        "POST /legacy",
    ]
    orders = apis["orders"]
    assert [s.name for s in orders.stages] == ["$default", "dev"]
    assert orders.stage().url == f"{endpoint.url}/_harness/apigw/{orders.api_id}/"
    assert (
        orders.stage("dev").host_url == f"http://{orders.api_id}.execute-api.localhost:{endpoint.port}/dev/"
    )
    assert orders.tf_file is not None and orders.tf_file.name == "http.tf"
    assert f"/_harness/apigw/{orders.api_id}/dev/" in applied.output  # apply prints the URLs


def test_rest_api_by_resources(applied: Applied) -> None:
    base = applied.url("shop")
    event = call(f"{base}items?q=1").json()
    assert event["resource"] == "/items" and event["stageVariables"] == {"table": "items-dev"}
    assert event["requestContext"]["path"] == "/dev/items"
    assert call(f"{base}nowhere/x?token=t").json()["pathParameters"] == {"proxy": "nowhere/x"}
    assert call(f"{applied.inventory.api('shop').stage().url.rsplit('/dev/', 1)[0]}/prod/items").status == 403


def test_rest_token_authorizer(applied: Applied) -> None:
    url = f"{applied.url('shop')}items/7"
    assert call(url).json() == {"message": "Unauthorized"}
    assert call(url, headers={"Authorization": "Token 1"}).status == 401  # identity_validation_expression
    assert call(url, headers={"Authorization": "Bearer deny"}).status == 403
    event = call(url, headers={"Authorization": "Bearer ok"}).json()
    assert event["pathParameters"] == {"id": "7"}
    assert event["requestContext"]["authorizer"]["user"] == "u1"


def test_rest_api_from_openapi_body(applied: Applied) -> None:
    base = applied.url("catalog")
    assert call(f"{base}products").json()["resource"] == "/products"
    assert call(f"{base}products/abc", method="DELETE").status == 401
    event = call(f"{base}products/abc", method="DELETE", headers={"Authorization": "Bearer x"}).json()
    assert event["resource"] == "/products/{sku}" and event["pathParameters"] == {"sku": "abc"}


def test_http_api_payloads_stages_and_default_route(applied: Applied) -> None:
    base, dev = applied.url("orders"), applied.url("orders", "dev")
    event = call(f"{base}orders?a=1").json()
    assert event["version"] == "2.0" and event["routeKey"] == "GET /orders"
    named = call(f"{dev}orders").json()
    assert named["rawPath"] == "/dev/orders" and named["stageVariables"] == {"table": "orders-dev"}
    assert call(f"{base}files/a/b", method="PUT").json()["pathParameters"] == {"proxy": "a/b"}
    assert call(f"{base}no/such/route").json()["routeKey"] == "$default"
    assert call(f"{applied.url('pings')}ping").json()["routeKey"] == "GET /ping"


def test_http_api_authorizers(applied: Applied) -> None:
    base = applied.url("orders")
    assert call(f"{base}orders/1").status == 401
    assert call(f"{base}orders/1", headers={"Authorization": "nope"}).json() == {"message": "Forbidden"}
    allowed = call(f"{base}orders/1", headers={"Authorization": "open-sesame"}).json()
    assert allowed["requestContext"]["authorizer"] == {"lambda": {"user": "u2"}}
    legacy = f"{base}legacy"
    assert call(legacy, method="POST", headers={"Authorization": "x"}).status == 401  # tenant missing
    v1 = call(
        f"{legacy}?tenant=t1",
        method="POST",
        data=b"{}",
        headers={"Authorization": "x", "Content-Type": "application/json"},
    )
    event = v1.json()
    assert event["version"] == "1.0" and event["httpMethod"] == "POST" and event["body"] == "{}"
    assert event["requestContext"]["authorizer"]["lambda"] == {"user": "u1"}


def test_http_api_cors_and_host_form(applied: Applied, endpoint: EmbeddedEndpoint) -> None:
    url = f"{applied.url('orders')}orders/1"
    preflight = call(
        url,
        method="OPTIONS",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204 and preflight.headers["access-control-max-age"] == "300"
    host = applied.inventory.api("orders").stage().host_url.split("//", 1)[1].rstrip("/")
    got = call(f"{endpoint.url}/orders", headers={"Host": host, "Origin": "https://app.example"})
    assert got.status == 200 and got.headers["access-control-expose-headers"] == "x-request-id"


def test_missing_permission_is_a_500_with_the_fix_in_the_log(
    applied: Applied, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="lambda_harness.endpoint.apigw"):
        got = call(f"{applied.url('orders')}orphan")
    assert (got.status, got.json()) == (500, {"message": "Internal Server Error"})
    api_id = applied.inventory.api("orders").api_id
    source = f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/$default/GET/orphan"
    assert f"Lambda orphan does not allow apigateway.amazonaws.com for {source}" in caplog.text


def test_plugin_runs_api_cases_and_gates_uncovered_routes(
    applied: Applied, pytester: pytest.Pytester, endpoint: EmbeddedEndpoint
) -> None:
    inventory = applied.inventory.save(pytester.path / "inventory.json")
    events = pytester.path / "tests" / "integration" / "events"
    cases = {
        "list": ({"method": "GET", "path": "/orders"}, {"status": 200, "body": {"routeKey": "GET /orders"}}),
        "item": (
            {"method": "GET", "path": "/orders/9", "headers": {"Authorization": "open-sesame"}},
            {
                "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": {"pathParameters": {"id": "9"}},
            },
        ),
        "forbidden": (
            {"method": "GET", "path": "/orders/9", "headers": {"Authorization": "x"}},
            {"status": 403},
        ),
        "wrong": ({"method": "GET", "path": "/orders"}, {"status": 201}),
    }
    (events / "orders").mkdir(parents=True)
    for name, (request, expected) in cases.items():
        (events / "orders" / f"{name}.json").write_text(json.dumps({"request": request}))
        (events / "orders" / f"{name}.expected.json").write_text(json.dumps(expected))
    pytester.makepyfile(
        test_by_hand="""
        import json, urllib.request

        def test_ping(api_url):
            with urllib.request.urlopen(api_url("pings") + "ping") as resp:
                assert json.loads(resp.read())["rawPath"] == "/ping"
        """
    )
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--harness-inventory",
        str(inventory),
        "--harness-results",
        "results.json",
        "-v",
    )
    result.stdout.fnmatch_lines(
        [
            "*test_by_hand.py::test_ping PASSED*",
            "*events::orders/forbidden PASSED*",
            "*events::orders/item PASSED*",
            "*events::orders/list PASSED*",
            "*events::orders/wrong FAILED*",
            "*gate/no-cases/echo FAILED*",
            "*gate/no-route-case/orders/POST /legacy FAILED*",
        ]
    )
    result.stdout.fnmatch_lines(["*status: expected 201, got 200*"])
    assert "gate/no-route-case/orders/GET /orders " not in result.stdout.str()
    data = json.loads((pytester.path / "results.json").read_text())
    assert data["functions"]["api:orders"]["passed"] == 3 and data["functions"]["api:orders"]["failed"] == 1

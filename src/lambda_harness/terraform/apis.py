"""The API Gateway APIs of a deployment, read from Terraform state, and their local URLs.

Part of the inventory (``inventory.Inventory.apis``): every ``aws_api_gateway_rest_api``
(REST) and ``aws_apigatewayv2_api`` with protocol HTTP, its stages with the two URLs the
embedded endpoint serves them at, and its Lambda proxy routes (from resources, routes and
integrations, or from an OpenAPI ``body``), which the gate requires event cases for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from lambda_harness.errors import ConfigError

#: Where the embedded endpoint serves API Gateway APIs; LocalStack's form is ``/_aws/execute-api``.
HARNESS_API_PREFIX = "/_harness/apigw"
LOCALSTACK_API_PREFIX = "/_aws/execute-api"
DEFAULT_STAGE = "$default"
_ADDRESS = re.compile(r"^(?:module\.[^.\[]+(?:\[[^\]]*\])?\.)*(?P<type>[a-z0-9_]+)\.")


def _v(res: Mapping[str, Any]) -> dict[str, Any]:
    return dict(res.get("values") or {})


@dataclass(frozen=True)
class ApiStage:
    """One stage of an API and where the endpoint serves it (both URLs end with ``/``)."""

    name: str
    url: str
    host_url: str


@dataclass(frozen=True)
class DeployedApi:
    """One ``aws_api_gateway_rest_api`` (kind ``REST``) or ``aws_apigatewayv2_api`` (``HTTP``).

    ``name`` is the Terraform resource name (``alerts`` for ``aws_apigatewayv2_api.alerts``),
    ``api_name`` the API's own name; ``routes`` the Lambda proxy routes (``GET /alerts/{id}``,
    ``$default``) the event cases must cover.
    """

    name: str
    api_name: str
    kind: str
    api_id: str
    address: str
    stages: list[ApiStage] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    tf_file: Path | None = None
    tf_line: int | None = None

    def stage(self, name: str | None = None) -> ApiStage:
        """A stage by name; else ``$default``, else the only stage (ConfigError when none fits)."""
        names = [s.name for s in self.stages]
        if name is None:
            if DEFAULT_STAGE in names:
                name = DEFAULT_STAGE
            elif len(names) == 1:
                name = names[0]
        for stage in self.stages:
            if stage.name == name:
                return stage
        wanted = f"stage {name!r}" if name else "a stage name (it has several)"
        raise ConfigError(
            f"API {self.name} ({self.address}): needs {wanted}; its stages: {', '.join(names) or 'none'}"
        )


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch"})


@dataclass(frozen=True)
class ApiUrls:
    """The two local URL forms of an API stage on an endpoint."""

    endpoint_url: str
    prefix: str = HARNESS_API_PREFIX

    def stage(self, api_id: str, stage: str) -> ApiStage:
        """``<endpoint>/_harness/apigw/<id>/<stage>/`` and ``http://<id>.execute-api.localhost:<port>/<stage>/``.

        The ``$default`` stage of an HTTP API has no path segment.
        """
        suffix = "" if stage == DEFAULT_STAGE else f"{quote(stage, safe='')}/"
        base = self.endpoint_url.rstrip("/")
        parts = urlsplit(base) if base else None
        port = f":{parts.port}" if parts is not None and parts.port else ""
        scheme = parts.scheme if parts is not None and parts.scheme else "http"
        return ApiStage(
            name=stage,
            url=f"{base}{self.prefix}/{api_id}/{suffix}",
            host_url=f"{scheme}://{api_id}.execute-api.localhost{port}/{suffix}",
        )


def _terraform_name(address: str) -> str:
    """``module.x.aws_apigatewayv2_api.alerts`` -> ``alerts`` (``name["k"]`` keeps its key)."""
    m = _ADDRESS.match(address)
    return address[m.end("type") + 1 :] if m else address


def _operations(body: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(METHOD or ANY, path, operation)`` of an OpenAPI ``body`` (JSON text)."""
    try:
        doc = json.loads(body) if isinstance(body, str) and body else {}
    except ValueError:
        return
    paths = doc.get("paths") if isinstance(doc, dict) else None
    for path, item in (paths or {}).items():
        for key, op in (item or {}).items() if isinstance(item, dict) else ():
            method = "ANY" if key == "x-amazon-apigateway-any-method" else key.upper()
            if isinstance(op, dict) and (method == "ANY" or key.lower() in _HTTP_METHODS):
                yield method, str(path), op


def body_routes(body: Any) -> list[str]:
    """Lambda proxy routes of an OpenAPI ``body`` (JSON), as route keys."""
    return [
        f"{method} {path}"
        for method, path, op in _operations(body)
        if str((op.get("x-amazon-apigateway-integration") or {}).get("type", "")).upper() == "AWS_PROXY"
    ]


def _of(resources: list[dict[str, Any]], rtype: str, key: str, value: Any) -> list[dict[str, Any]]:
    """The values of every ``rtype`` resource whose ``key`` is ``value``."""
    return [_v(r) for r in resources if r.get("type") == rtype and _v(r).get(key) == value]


def _rest_routes(api: Mapping[str, Any], resources: list[dict[str, Any]]) -> list[str]:
    api_id = api.get("id")
    paths = {api.get("root_resource_id"): "/"}
    paths.update(
        (v.get("id"), str(v.get("path") or ""))
        for v in _of(resources, "aws_api_gateway_resource", "rest_api_id", api_id)
    )
    routes = body_routes(api.get("body"))
    for v in _of(resources, "aws_api_gateway_integration", "rest_api_id", api_id):
        if str(v.get("type")).upper() == "AWS_PROXY" and v.get("resource_id") in paths:
            routes.append(f"{v.get('http_method')} {paths[v.get('resource_id')]}")
    return sorted(set(routes))


def _http_routes(api: Mapping[str, Any], resources: list[dict[str, Any]]) -> list[str]:
    api_id = api.get("id")
    proxies = {
        v.get("id")
        for v in _of(resources, "aws_apigatewayv2_integration", "api_id", api_id)
        if str(v.get("integration_type")).upper() == "AWS_PROXY"
    }
    routes = body_routes(api.get("body"))
    for v in _of(resources, "aws_apigatewayv2_route", "api_id", api_id):
        if str(v.get("target") or "").removeprefix("integrations/") in proxies:
            routes.append(str(v.get("route_key")))
    return sorted(set(routes))


def _stages(kind: str, api_id: Any, resources: list[dict[str, Any]]) -> list[str]:
    names = set()
    for res in resources:
        v, rtype = _v(res), res.get("type")
        if kind == "REST" and v.get("rest_api_id") == api_id:
            if rtype == "aws_api_gateway_stage" or (
                rtype == "aws_api_gateway_deployment" and v.get("stage_name")
            ):
                names.add(str(v.get("stage_name")))
        elif kind == "HTTP" and rtype == "aws_apigatewayv2_stage" and v.get("api_id") == api_id:
            names.add(str(v.get("name")))
    return sorted(names)


def collect_apis(
    resources: list[dict[str, Any]],
    urls: ApiUrls,
    where: Callable[[str], tuple[Path, int | None] | None],
) -> list[DeployedApi]:
    """Every REST and HTTP API in the state, with its stages' URLs and its Lambda proxy routes."""
    apis = []
    for res in resources:
        rtype, v, address = res.get("type"), _v(res), str(res.get("address", ""))
        if rtype == "aws_api_gateway_rest_api":
            kind, routes = "REST", _rest_routes(v, resources)
        elif rtype == "aws_apigatewayv2_api" and str(v.get("protocol_type")).upper() == "HTTP":
            kind, routes = "HTTP", _http_routes(v, resources)
        else:
            continue
        api_id = str(v.get("id") or "")
        declared = where(address)
        apis.append(
            DeployedApi(
                name=_terraform_name(address),
                api_name=str(v.get("name") or ""),
                kind=kind,
                api_id=api_id,
                address=address,
                stages=[urls.stage(api_id, s) for s in _stages(kind, v.get("id"), resources)],
                routes=routes,
                tf_file=declared[0] if declared else None,
                tf_line=declared[1] if declared else None,
            )
        )
    return sorted(apis, key=lambda a: a.name)

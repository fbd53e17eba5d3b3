"""The APIs moto holds, read in-process and turned into ``model`` values.

moto's API Gateway backends are ``BackendDict``s by account and region; indexing one
creates a backend, so the catalog only walks those that exist (``iter_backends``),
copying each dict first (request threads may change them meanwhile). REST stages are
served from their deployment's snapshot (``snapshots``); HTTP API stages with
auto-deploy from the live config.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from moto.apigateway.models import apigateway_backends
from moto.apigatewayv2.models import apigatewayv2_backends

from lambda_harness.endpoint.apigw.model import (
    Api,
    ApiKind,
    AuthorizerSpec,
    Integration,
    Route,
    RouteTable,
    Stage,
)
from lambda_harness.endpoint.apigw.snapshots import DeploymentSnapshots

logger = logging.getLogger(__name__)

#: moto's model objects; typed loosely because moto ships no type information we check against.
MotoApi = Any

REST_TIMEOUT_MS = 29000
HTTP_TIMEOUT_MS = 30000


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def resource_paths(resources: Mapping[str, Any]) -> dict[str, str]:
    """Resource id -> full path (``/alerts/{id}``), from the parent chain (moto walks its backend)."""
    paths: dict[str, str] = {}

    def path_of(resource_id: str, depth: int = 0) -> str:
        if resource_id in paths:
            return paths[resource_id]
        res = resources.get(resource_id)
        if res is None or depth > 64:
            return ""
        if not res.parent_id:
            paths[resource_id] = "/"
            return "/"
        parent = path_of(res.parent_id, depth + 1)
        paths[resource_id] = parent.rstrip("/") + "/" + str(res.path_part)
        return paths[resource_id]

    for resource_id in resources:
        path_of(resource_id)
    return paths


def _rest_authorizer(auth: Any) -> AuthorizerSpec:
    sources = tuple(s.strip() for s in str(auth.identity_source or "").split(",") if s.strip())
    return AuthorizerSpec(
        id=str(auth.id),
        name=str(auth.name or ""),
        type=str(auth.type or "").upper(),
        uri=str(auth.authorizer_uri or ""),
        identity_sources=sources,
        validation=auth.identity_validation_expression or None,
        ttl_s=_int(auth.authorizer_result_ttl, 300),
        payload_version="1.0",
    )


def rest_table(api: MotoApi) -> RouteTable:
    """A REST API's routes as its live config has them now."""
    resources = dict(api.resources)
    paths = resource_paths(resources)
    authorizers = {str(a.id): _rest_authorizer(a) for a in list(api.authorizers.values())}
    routes = []
    for resource_id, resource in resources.items():
        for method in list(resource.resource_methods.values()):
            integ = method.method_integration
            integration = None
            if integ is not None:
                integration = Integration(
                    type=str(integ.integration_type or "").upper(),
                    uri=str(integ.uri or ""),
                    payload_version="1.0",
                    timeout_ms=_int(integ.timeout_in_millis, REST_TIMEOUT_MS),
                )
            routes.append(
                Route(
                    method=str(method.http_method).upper(),
                    path=paths.get(resource_id, "/"),
                    integration=integration,
                    authorization=str(method.authorization_type or "NONE").upper(),
                    authorizer=authorizers.get(str(method.authorizer_id)) if method.authorizer_id else None,
                    source_id=str(resource_id),
                    api_key_required=bool(method.api_key_required),
                )
            )
    return RouteTable(
        api_id=str(api.id),
        kind=ApiKind.REST,
        routes=tuple(routes),
        binary_media_types=tuple(str(t) for t in api.binaryMediaTypes or () if t),
    )


def _http_authorizer(auth: Any) -> AuthorizerSpec:
    sources = auth.identity_source or ()
    if isinstance(sources, str):
        sources = [s for s in sources.split(",") if s]
    kind = str(auth.authorizer_type or "REQUEST").upper()
    return AuthorizerSpec(
        id=str(auth.id),
        name=str(auth.name or ""),
        type=kind,
        uri=str(auth.authorizer_uri or ""),
        identity_sources=tuple(str(s).strip() for s in sources),
        ttl_s=_int(auth.auth_result_ttl, 0),
        simple=bool(auth.enable_simple_response),
        payload_version=str(auth.auth_payload_format_version or "2.0"),
    )


def _route_key(key: str) -> tuple[str, str]:
    if key == "$default":
        return "$default", "$default"
    method, _, path = key.partition(" ")
    return method.upper(), path or "/"


def http_table(api: MotoApi) -> RouteTable:
    """An HTTP API's routes as its live config has them now."""
    integrations = {}
    for integ in list(api.integrations.values()):
        integrations[str(integ.id)] = Integration(
            type=str(integ.integration_type or "").upper(),
            uri=str(integ.integration_uri or ""),
            payload_version=str(integ.payload_format_version or "2.0"),
            timeout_ms=_int(integ.timeout_in_millis, HTTP_TIMEOUT_MS),
            id=str(integ.id),
        )
    authorizers = {str(a.id): _http_authorizer(a) for a in list(api.authorizers.values())}
    routes = []
    for route in list(api.routes.values()):
        method, path = _route_key(str(route.route_key))
        target = str(route.target or "")
        routes.append(
            Route(
                method=method,
                path=path,
                integration=integrations.get(target.removeprefix("integrations/")),
                authorization=str(route.authorization_type or "NONE").upper(),
                authorizer=authorizers.get(str(route.authorizer_id)) if route.authorizer_id else None,
                source_id=str(route.route_id),
                api_key_required=bool(route.api_key_required),
            )
        )
    return RouteTable(
        api_id=str(api.api_id), kind=ApiKind.HTTP, routes=tuple(routes), cors=api.cors_configuration or None
    )


class Catalog:
    """Every REST and HTTP API in moto, with the stages they serve."""

    def __init__(self, snapshots: DeploymentSnapshots) -> None:
        self.snapshots = snapshots

    def _rest(self) -> Iterator[tuple[str, str, MotoApi]]:
        backends: list[tuple[str, str, Any]] = list(apigateway_backends.iter_backends())
        for account, region, backend in backends:
            for api in list(backend.apis.values()):
                yield account, region, api

    def _http(self) -> Iterator[tuple[str, str, MotoApi]]:
        backends: list[tuple[str, str, Any]] = list(apigatewayv2_backends.iter_backends())
        for account, region, backend in backends:
            for api in list(backend.apis.values()):
                if str(api.protocol_type).upper() == "HTTP":
                    yield account, region, api

    def find(self, api_id: str) -> Api | None:
        """The API with this id (any account and region), or None."""
        for account, region, api in self._rest():
            if api.id == api_id:
                return self._rest_api(account, region, api)
        for account, region, api in self._http():
            if api.api_id == api_id:
                return self._http_api(account, region, api)
        return None

    def apis(self) -> list[Api]:
        """Every API, REST first, each sorted by name."""
        rest = [self._rest_api(a, r, api) for a, r, api in self._rest()]
        http = [self._http_api(a, r, api) for a, r, api in self._http()]
        return sorted(rest, key=lambda x: x.name) + sorted(http, key=lambda x: x.name)

    def _rest_api(self, account: str, region: str, api: MotoApi) -> Api:
        live: RouteTable | None = None
        stages = {}
        for name, stage in list(api.stages.items()):
            table = self.snapshots.get(str(api.id), stage.deployment_id)
            if table is None:
                if live is None:
                    live = rest_table(api)
                    logger.debug(
                        "REST API %s stage %s: no recorded deployment, serving the live config", api.id, name
                    )
                table = live
            variables = {str(k): str(v) for k, v in (stage.variables or {}).items()}
            stages[str(name)] = Stage(str(name), table, variables, str(stage.deployment_id or ""))
        return Api(str(api.id), ApiKind.REST, str(api.name or ""), account, region, stages)

    def _http_api(self, account: str, region: str, api: MotoApi) -> Api:
        live: RouteTable | None = None  # built only when a stage serves the live config
        stages = {}
        for name, stage in list(api.stages.items()):
            deployment_id = str((stage.config or {}).get("deploymentId") or "")
            table = None if stage.auto_deploy else self.snapshots.get(str(api.api_id), deployment_id)
            if table is None:
                if live is None:
                    live = http_table(api)
                table = live
            variables = {str(k): str(v) for k, v in (stage.stage_variables or {}).items()}
            stages[str(name)] = Stage(str(name), table, variables, deployment_id)
        return Api(str(api.api_id), ApiKind.HTTP, str(api.name or ""), account, region, stages)

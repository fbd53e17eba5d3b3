"""Import an OpenAPI document (Swagger 2.0 or OpenAPI 3) into moto's API models, as AWS does.

Replaces moto's importers (installed by ``hooks``), which crash on valid documents
(a path-level ``parameters`` list), refuse Swagger 2.0, store
``x-amazon-apigateway-any-method`` as a method of that name, keep integration types
lower-case, ignore authorizers, ``security`` and binary media types, and (REST
overwrite) give the root resource a new id while ``root_resource_id`` keeps the old one.

Read here: ``paths`` (HTTP methods and ``x-amazon-apigateway-any-method``; other keys
such as ``parameters`` and ``summary`` are skipped), ``x-amazon-apigateway-integration``
(``type``, ``uri``, ``httpMethod``, ``payloadFormatVersion``, ``timeoutInMillis``),
``security`` (operation, else document) naming a scheme with
``x-amazon-apigateway-authorizer`` (``securityDefinitions`` or
``components.securitySchemes``), ``x-amazon-apigateway-binary-media-types`` (REST) and
``x-amazon-apigateway-cors`` (HTTP). Request validators, models and mapping templates are not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml  # type: ignore[import-untyped]  # moto depends on PyYAML; no stubs here
from moto.apigateway.exceptions import InvalidOpenApiDocVersionException, InvalidOpenApiModeException

METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch"})
ANY_METHOD = "x-amazon-apigateway-any-method"
AUTHORIZER = "x-amazon-apigateway-authorizer"


def parse(body: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """A document from JSON or YAML text (or an already parsed mapping)."""
    if isinstance(body, Mapping):
        return dict(body)
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        value = json.loads(text)
    except ValueError:
        value = yaml.safe_load(text)
    return value if isinstance(value, dict) else {}


def operations(doc: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(path, METHOD or ANY, operation)`` for every operation, in document order."""
    found = []
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for key, operation in item.items():
            if not isinstance(operation, Mapping):
                continue
            if key.lower() in METHODS:
                found.append((str(path), key.upper(), dict(operation)))
            elif key.lower() == ANY_METHOD:
                found.append((str(path), "ANY", dict(operation)))
    return found


def security_schemes(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Security schemes by name (Swagger's ``securityDefinitions`` or OpenAPI 3's components)."""
    schemes = dict(doc.get("securityDefinitions") or {})
    schemes.update((doc.get("components") or {}).get("securitySchemes") or {})
    return {str(k): dict(v) for k, v in schemes.items() if isinstance(v, Mapping)}


def scheme_for(operation: Mapping[str, Any], doc: Mapping[str, Any]) -> str | None:
    """The first security scheme an operation requires (its own ``security``, else the document's)."""
    requirements = operation.get("security", doc.get("security")) or []
    for requirement in requirements:
        if isinstance(requirement, Mapping):
            for name in requirement:
                return str(name)
    return None


def authorization_of(scheme: Mapping[str, Any] | None) -> str:
    """``CUSTOM`` (a Lambda authorizer), ``AWS_IAM`` (SigV4), ``COGNITO_USER_POOLS`` or ``NONE``."""
    if scheme is None:
        return "NONE"
    authorizer = scheme.get(AUTHORIZER)
    if isinstance(authorizer, Mapping):
        return (
            "COGNITO_USER_POOLS"
            if str(authorizer.get("type", "")).lower() == "cognito_user_pools"
            else "CUSTOM"
        )
    if str(scheme.get("x-amazon-apigateway-authtype", "")).lower() == "awssigv4":
        return "AWS_IAM"
    return "NONE"


def identity_source(scheme: Mapping[str, Any], authorizer: Mapping[str, Any]) -> str:
    """A REST authorizer's identity source (TOKEN: the scheme's header)."""
    if authorizer.get("identitySource"):
        return str(authorizer["identitySource"])
    if scheme.get("in") == "header" and scheme.get("name"):
        return f"method.request.header.{scheme['name']}"
    return ""


def check_version(doc: Mapping[str, Any]) -> None:
    """Swagger 2.0 or OpenAPI 3.x, else moto's (AWS-shaped) version error."""
    swagger, openapi = str(doc.get("swagger") or ""), str(doc.get("openapi") or "")
    if not (swagger.startswith("2") or openapi.startswith("3")):
        raise InvalidOpenApiDocVersionException()


# --- REST APIs (moto.apigateway) -----------------------------------------------------------------


def import_rest(backend: Any, api_id: str, doc: Mapping[str, Any], mode: str = "merge") -> Any:
    """``PutRestApi``/``ImportRestApi`` into moto's REST API ``api_id``; returns the API."""
    if mode not in ("merge", "overwrite"):
        raise InvalidOpenApiModeException()
    check_version(doc)
    api = backend.get_rest_api(api_id)
    root = api.resources.get(api.root_resource_id) or api.default
    if mode == "overwrite":
        root.resource_methods = {}
        api.resources = {root.id: root}
        api.default = root
        api.authorizers = {}
    if "x-amazon-apigateway-binary-media-types" in doc:
        api.binaryMediaTypes = [str(t) for t in doc["x-amazon-apigateway-binary-media-types"] or ()]
    authorizers = _rest_authorizers(backend, api, doc)
    for path, method, operation in operations(doc):
        resource = _rest_resource(api, root, path)
        scheme_name = scheme_for(operation, doc)
        scheme = security_schemes(doc).get(scheme_name or "")
        resource.add_method(
            method,
            authorization_of(scheme),
            api_key_required="api_key" in (scheme_name or "").lower(),
            authorizer_id=authorizers.get(scheme_name or ""),
            operation_name=operation.get("operationId"),
        )
        integration = operation.get("x-amazon-apigateway-integration")
        if isinstance(integration, Mapping):
            resource.add_integration(
                method,
                str(integration.get("type", "")).upper(),
                str(integration.get("uri", "")),
                integration_method=str(integration.get("httpMethod") or "POST").upper(),
                timeout_in_millis=integration.get("timeoutInMillis"),
                passthrough_behavior=integration.get("passthroughBehavior"),
                request_templates=integration.get("requestTemplates"),
                content_handling=integration.get("contentHandling"),
                credentials=integration.get("credentials"),
            )
    return api


def _rest_authorizers(backend: Any, api: Any, doc: Mapping[str, Any]) -> dict[str, str]:
    ids: dict[str, str] = {}
    existing = {str(a.name): a for a in api.authorizers.values()}
    for name, scheme in security_schemes(doc).items():
        spec = scheme.get(AUTHORIZER)
        if not isinstance(spec, Mapping):
            continue
        kind = str(spec.get("type", "token")).upper()
        auth = existing.get(name) or backend.create_authorizer(api.id, name, kind)
        auth.type = kind
        auth.authorizer_uri = spec.get("authorizerUri")
        auth.authorizer_credentials = spec.get("authorizerCredentials")
        auth.identity_source = identity_source(scheme, spec)
        auth.identity_validation_expression = spec.get("identityValidationExpression")
        auth.authorizer_result_ttl = int(spec.get("authorizerResultTtlInSeconds", 300))
        auth.provider_arns = spec.get("providerARNs")
        ids[name] = str(auth.id)
    return ids


def _rest_resource(api: Any, root: Any, path: str) -> Any:
    current = root
    for part in [p for p in path.split("/") if p]:
        child = next(
            (r for r in api.resources.values() if r.parent_id == current.id and r.path_part == part), None
        )
        current = child or api.add_child(path=part, parent_id=current.id)
    return current


# --- HTTP APIs (moto.apigatewayv2) ---------------------------------------------------------------


def import_http(api: Any, doc: Mapping[str, Any]) -> None:
    """``ImportApi``/``ReimportApi`` into moto's HTTP API: routes, integrations, authorizers, CORS.

    Routes, integrations and authorizers are replaced; stages stay (moto's importer deletes them).
    """
    check_version(doc)
    api.routes.clear()
    api.integrations.clear()
    api.authorizers.clear()
    authorizers = _http_authorizers(api, doc)
    for path, method, operation in operations(doc):
        integration = operation.get("x-amazon-apigateway-integration")
        target = None
        if isinstance(integration, Mapping):
            created = api.create_integration(
                connection_type=str(integration.get("connectionType") or "INTERNET"),
                description="Imported from OpenAPI",
                integration_method=str(integration.get("httpMethod") or "POST").upper(),
                integration_type=str(integration.get("type", "")).upper(),
                integration_uri=str(integration.get("uri", "")),
                payload_format_version=str(integration.get("payloadFormatVersion") or "2.0"),
                timeout_in_millis=integration.get("timeoutInMillis"),
            )
            target = f"integrations/{created.id}"
        scheme_name = scheme_for(operation, doc)
        scheme = security_schemes(doc).get(scheme_name or "")
        api.create_route(
            api_key_required=False,
            authorization_scopes=[],
            route_key=f"{method} {path}",
            target=target,
            authorization_type=authorization_of(scheme) if scheme is not None else "NONE",
            authorizer_id=authorizers.get(scheme_name or ""),
        )
    info = doc.get("info") or {}
    if "title" in info:
        api.name = str(info["title"])
    if "version" in info:
        api.version = str(info["version"])
    cors = doc.get("x-amazon-apigateway-cors")
    if isinstance(cors, Mapping):
        api.cors_configuration = {k[:1].lower() + k[1:]: v for k, v in cors.items()}


def _http_authorizers(api: Any, doc: Mapping[str, Any]) -> dict[str, str]:
    ids = {}
    for name, scheme in security_schemes(doc).items():
        spec = scheme.get(AUTHORIZER)
        if not isinstance(spec, Mapping):
            continue
        sources = spec.get("identitySource") or ""
        created = api.create_authorizer(
            auth_creds_arn=spec.get("authorizerCredentials"),
            auth_payload_format_version=str(spec.get("authorizerPayloadFormatVersion") or "2.0"),
            auth_result_ttl=spec.get("authorizerResultTtlInSeconds", 0),
            authorizer_type=str(spec.get("type", "request")).upper(),
            authorizer_uri=spec.get("authorizerUri"),
            enable_simple_response=bool(spec.get("enableSimpleResponses", False)),
            identity_source=[s.strip() for s in sources.split(",") if s.strip()]
            if isinstance(sources, str)
            else list(sources),
            identity_validation_expr=None,
            jwt_config=spec.get("jwtConfiguration"),
            name=name,
        )
        ids[name] = str(created.id)
    return ids

"""What an API looks like once read from moto: routes, integrations, authorizers, stages.

Frozen values, so a deployment's snapshot cannot change under a request, and the
pure modules (routing, events, authorizers) can be tested without moto.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class ApiKind(StrEnum):
    """REST API (v1, ``aws_api_gateway_*``) or HTTP API (v2, ``aws_apigatewayv2_*``)."""

    REST = "REST"
    HTTP = "HTTP"

    @property
    def label(self) -> str:
        """``REST API`` / ``HTTP API``, as AWS names them."""
        return f"{self.value} API"


@dataclass(frozen=True)
class Integration:
    """A route's backend; only ``AWS_PROXY`` (Lambda proxy) is run."""

    type: str
    uri: str
    payload_version: str = "1.0"
    timeout_ms: int = 29000
    id: str = ""


@dataclass(frozen=True)
class AuthorizerSpec:
    """A Lambda (``TOKEN``/``REQUEST``) or JWT/Cognito authorizer as configured."""

    id: str
    name: str
    type: str  # TOKEN | REQUEST | JWT | COGNITO_USER_POOLS
    uri: str
    identity_sources: tuple[str, ...] = ()
    validation: str | None = None
    ttl_s: int = 300
    simple: bool = False  # HTTP APIs: enableSimpleResponses
    payload_version: str = "1.0"

    @property
    def is_lambda(self) -> bool:
        """Whether a Lambda function decides (TOKEN or REQUEST)."""
        return self.type in ("TOKEN", "REQUEST")


@dataclass(frozen=True)
class Route:
    """A REST method on a resource, or an HTTP API route.

    ``method`` is an HTTP method, ``ANY``, or ``$default`` (HTTP APIs' catch-all route);
    ``path`` the template (``/alerts/{id}``, ``/{proxy+}``); ``key`` how AWS names the
    route (``GET /alerts/{id}``, ``$default``); ``source_id`` the REST resource id or
    the HTTP route id.
    """

    method: str
    path: str
    integration: Integration | None = None
    authorization: str = "NONE"  # NONE | CUSTOM | AWS_IAM | JWT | COGNITO_USER_POOLS
    authorizer: AuthorizerSpec | None = None
    source_id: str = ""
    api_key_required: bool = False

    @property
    def key(self) -> str:
        """``GET /alerts`` (``$default`` for the default route)."""
        return "$default" if self.method == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class RouteTable:
    """Every route of one API as one deployment (REST) or the live config (HTTP) has it."""

    api_id: str
    kind: ApiKind
    routes: tuple[Route, ...] = ()
    binary_media_types: tuple[str, ...] = ()
    cors: Mapping[str, object] | None = None


@dataclass(frozen=True)
class Stage:
    """A stage: its name, variables, and the routes it serves."""

    name: str
    table: RouteTable
    variables: Mapping[str, str] = field(default_factory=dict)
    deployment_id: str = ""


@dataclass(frozen=True)
class Api:
    """One API moto holds, where it lives, and its stages by name."""

    api_id: str
    kind: ApiKind
    name: str
    account_id: str
    region: str
    stages: Mapping[str, Stage] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayRequest:
    """An HTTP request to an API, as the gateway sees it.

    ``raw_path`` is the path after the API's prefix, as sent (percent-encoded, with the
    stage segment of a named stage); ``headers`` keep their order and repeats.
    """

    method: str
    raw_path: str
    raw_query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    host: str = ""

    def header(self, name: str) -> str | None:
        """The value of a header (case-insensitive; repeats joined with commas), or None."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None

"""Which requests are for an API, what the gateway reads of them, and the index of APIs.

``match_request`` runs before every AWS API call the endpoint serves, so it decides with
plain string tests first: the path forms ``/_harness/apigw/<api-id>/...`` and
``/_aws/execute-api/<api-id>/...`` (LocalStack's), or a Host
``<api-id>.execute-api.localhost`` (also ``.localhost.localstack.cloud`` and AWS's own
``.<region>.amazonaws.com``, except moto's ``/@connections`` management API).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from lambda_harness.endpoint.apigw.model import Api, GatewayRequest
from lambda_harness.endpoint.apigw.routing import DEFAULT_STAGE
from lambda_harness.endpoint.wsgi import Request, header_pairs

HOST_FORM = re.compile(
    r"^(?P<id>[a-z0-9]+)\.execute-api\.(?:localhost(?:\.localstack\.cloud)?|[a-z0-9-]+\.amazonaws\.com)\.?(?::\d+)?$"
)
PATH_PREFIXES = ("/_harness/apigw/", "/_aws/execute-api/")
INDEX_PATHS = ("/_harness/apigw", "/_harness/apigw/")


@dataclass(frozen=True)
class Target:
    """Which API a request addresses (None: the index) and its path after the API prefix."""

    api_id: str | None
    raw_path: str
    host_form: bool = False


def raw_path(environ: Mapping[str, Any]) -> str:
    """The request target's path as the client sent it (still percent-encoded)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return urlsplit(str(raw)).path or "/"
    return quote(str(environ.get("PATH_INFO", "/")))


def match_request(environ: Mapping[str, Any]) -> Target | None:
    """The API a WSGI request addresses, or None when it is for something else."""
    host = str(environ.get("HTTP_HOST", "")).lower()
    if ".execute-api." in host:
        found = HOST_FORM.match(host)
        path = str(environ.get("PATH_INFO", ""))
        # moto serves API Gateway's WebSocket management API (@connections) on the same hosts.
        if found and not path.startswith("/@connections"):
            return Target(found.group("id"), raw_path(environ), host_form=True)
    path = str(environ.get("PATH_INFO", ""))
    if not path.startswith(("/_harness/apigw", "/_aws/execute-api/")):
        return None
    if path in INDEX_PATHS:
        return Target(None, "/")
    raw = raw_path(environ)
    for prefix in PATH_PREFIXES:
        if raw.startswith(prefix):
            api_id, _, rest = raw[len(prefix) :].partition("/")
            return Target(unquote(api_id), "/" + rest) if api_id else None
    return None


def gateway_request(environ: dict[str, Any], target: Target) -> GatewayRequest:
    """What the gateway reads of a WSGI request (headers in order with repeats, the body, the client)."""
    request = Request(environ)
    return GatewayRequest(
        method=request.method,
        raw_path=target.raw_path,
        raw_query=request.query_string.decode("latin-1"),
        headers=tuple(header_pairs(environ)),
        body=request.get_data(),
        source_ip=request.remote_addr or "127.0.0.1",
        protocol=str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
        host=str(environ.get("HTTP_HOST", "")),
    )


def api_listing(api: Api, host: str) -> dict[str, Any]:
    """One API in the index: id, name, kind, region, and per stage the URLs and routes."""
    port = host.rsplit(":", 1)[1] if ":" in host else ""
    api_host = f"{api.api_id}.execute-api.localhost" + (f":{port}" if port else "")
    stages = []
    for name in sorted(api.stages):
        suffix = "" if name == DEFAULT_STAGE else f"{quote(name)}/"
        stages.append(
            {
                "name": name,
                "url": f"http://{host}/_harness/apigw/{api.api_id}/{suffix}",
                "host_url": f"http://{api_host}/{suffix}",
                "routes": sorted(r.key for r in api.stages[name].table.routes),
            }
        )
    return {
        "id": api.api_id,
        "name": api.name,
        "kind": api.kind.label,
        "region": api.region,
        "stages": stages,
    }

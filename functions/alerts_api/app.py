"""Read API for enriched alerts, behind a Lambda function URL (or an API Gateway proxy route).

Routes: ``GET /alerts?region=DE[&limit=50]`` lists a region's alerts from the alerts table;
``GET /health`` answers ``{"status": "ok"}``. Unknown paths get 404, other methods 405 with an
``Allow`` header, a missing or unknown region 400. Accepts both the function-URL / HTTP API
payload (version 2.0) and the REST API proxy payload (version 1.0).
Environment: ``ALERTS_TABLE`` (required), ``MAX_PAGE_SIZE`` (default 200).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from worker_lib import config, ddb, jsonutil, regions
from worker_lib.log import get_logger

log = get_logger("alerts_api")

DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Request:
    """The parts of an HTTP event this API looks at."""

    method: str
    path: str
    query: Mapping[str, str]

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        """Read a payload version 2.0 (function URL, HTTP API) or 1.0 (REST API) event."""
        http = (event.get("requestContext") or {}).get("http") or {}
        method = http.get("method") or event.get("httpMethod") or ""
        path = event.get("rawPath") or event.get("path") or "/"
        query = event.get("queryStringParameters") or {}
        return cls(method=str(method).upper(), path="/" + str(path).strip("/"), query=dict(query))


def response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A proxy-integration response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": jsonutil.dumps(body),
        "isBase64Encoded": False,
    }


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point: route the request; a crash becomes a logged 500, never a stack trace."""
    request = Request.from_event(event)
    try:
        return route(
            request,
            table=ddb.table(config.require("ALERTS_TABLE")),
            max_page=config.integer("MAX_PAGE_SIZE", 200),
        )
    except Exception:
        log.exception("request failed", extra={"method": request.method, "path": request.path})
        return response(500, {"error": "internal error"})


def route(request: Request, *, table: Any, max_page: int) -> dict[str, Any]:
    """Dispatch to the view for the path and method (404 / 405 otherwise)."""
    routes: dict[str, dict[str, Callable[[Request], dict[str, Any]]]] = {
        "/alerts": {"GET": lambda req: list_alerts(req, table=table, max_page=max_page)},
        "/health": {"GET": lambda _req: response(200, {"status": "ok"})},
    }
    methods = routes.get(request.path)
    if methods is None:
        return response(404, {"error": f"no route for {request.path}"})
    view = methods.get(request.method)
    if view is None:
        return response(
            405, {"error": f"method {request.method} not allowed"}, {"allow": ", ".join(sorted(methods))}
        )
    return view(request)


def list_alerts(request: Request, *, table: Any, max_page: int) -> dict[str, Any]:
    """``GET /alerts?region=X&limit=N``: the region's alerts, by alert id."""
    region = regions.normalise(request.query.get("region"))
    if not region:
        return response(400, {"error": "missing query parameter: region"})
    if region not in regions.REGION_NAMES:
        return response(400, {"error": f"unknown region: {region}"})
    try:
        limit = int(request.query.get("limit", DEFAULT_PAGE_SIZE))
    except ValueError:
        return response(400, {"error": "limit must be an integer"})
    if not 1 <= limit <= max_page:
        return response(400, {"error": f"limit must be 1..{max_page}"})
    items = ddb.query_all(
        table,
        limit=limit,
        KeyConditionExpression="#region = :region",
        ExpressionAttributeNames={"#region": "region"},
        ExpressionAttributeValues={":region": region},
    )
    alerts = [ddb.plain(item) for item in items]
    return response(200, {"region": region, "count": len(alerts), "alerts": alerts})

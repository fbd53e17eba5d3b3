"""API Gateway's control plane in front of moto: the operations it lacks, and its crashes.

moto 5.2 has no URL rule for ``/v2/apis/<id>/deployments`` (``aws_apigatewayv2_deployment``
fails with a 404 HTML page), and ``UpdateStage`` and ``GetAuthorizers`` have rules but
no implementation (500, which Terraform retries for minutes). Served here with AWS's
shapes: ``CreateDeployment`` (which also freezes the routes for ``snapshots``),
``GetDeployment(s)``, ``UpdateDeployment``, ``DeleteDeployment``, ``UpdateStage``,
``GetAuthorizers``. Every other call goes to moto; a 5xx from it (moto crashed) becomes a
400 ``BadRequestException`` naming the call and the exception: Terraform retries a 5xx
for more than ten minutes, and stops at once on a 400.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.core.utils import iso_8601_datetime_without_milliseconds

from lambda_harness.endpoint.apigw.catalog import http_table
from lambda_harness.endpoint.apigw.snapshots import DeploymentSnapshots
from lambda_harness.endpoint.sources.function_urls import HttpResponse
from lambda_harness.endpoint.wsgi import JsonResponse, Request, StartResponse, WSGIApp

logger = logging.getLogger(__name__)

ROUTE = re.compile(
    r"^/v2/apis/(?P<api>[^/]+)/(?:(?P<deployments>deployments)(?:/(?P<deployment>[^/]+))?"
    r"|stages/(?P<stage>[^/]+)|(?P<authorizers>authorizers))/?$"
)
#: UpdateStage body key -> moto Stage attribute.
STAGE_FIELDS = {
    "accessLogSettings": "access_log_settings",
    "autoDeploy": "auto_deploy",
    "clientCertificateId": "client_certificate_id",
    "defaultRouteSettings": "default_route_settings",
    "description": "description",
    "routeSettings": "route_settings",
}


@dataclass(frozen=True)
class Gap:
    """Which missing operation a request is."""

    api_id: str
    operation: str
    item: str = ""


def match(method: str, path: str) -> Gap | None:
    """The missing operation a request asks for, or None (then moto serves it)."""
    if not path.startswith("/v2/apis/"):
        return None
    found = ROUTE.match(path)
    if found is None:
        return None
    api_id = found.group("api")
    if found.group("deployments"):
        item = found.group("deployment") or ""
        operation = {
            ("POST", False): "CreateDeployment",
            ("GET", False): "GetDeployments",
            ("GET", True): "GetDeployment",
            ("PATCH", True): "UpdateDeployment",
            ("DELETE", True): "DeleteDeployment",
        }.get((method, bool(item)))
        return Gap(api_id, operation, item) if operation else None
    if found.group("stage") and method == "PATCH":
        return Gap(api_id, "UpdateStage", found.group("stage"))
    if found.group("authorizers") and method == "GET":
        return Gap(api_id, "GetAuthorizers")
    return None


def _error(status: int, error_type: str, message: str) -> HttpResponse:
    body = json.dumps({"message": message}).encode()
    return HttpResponse(
        status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)], body
    )


def _ok(value: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(value).encode())


class HttpApiGaps:
    """Serves the missing operations; keeps HTTP API deployments (moto has no model for them)."""

    def __init__(self, snapshots: DeploymentSnapshots) -> None:
        self.snapshots = snapshots
        self._deployments: dict[str, dict[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def answer(self, request: Request, account_id: str, region: str, moto_app: WSGIApp) -> WSGIApp:
        """The WSGI answer to an API Gateway control-plane request: ours for a gap, else moto's."""
        gap = match(request.method, request.path)
        if gap is not None:
            out = self.serve(gap, account_id, region, request.get_data())
            return JsonResponse(out.body, out.status, out.headers)
        return MotoWithout5xx(moto_app, request.method, request.path)

    def serve(self, gap: Gap, account_id: str, region: str, body: bytes) -> HttpResponse:
        """Answer one missing operation for the API in ``account_id``/``region``."""
        api = apigatewayv2_backends[account_id][region].apis.get(gap.api_id)
        if api is None:
            return _error(
                404, "NotFoundException", f"Invalid API identifier specified {account_id}:{gap.api_id}"
            )
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "BadRequestException", "Could not parse request body into json")
        if gap.operation == "GetAuthorizers":
            return _ok({"items": [a.to_json() for a in list(api.authorizers.values())]})
        if gap.operation == "UpdateStage":
            return self._update_stage(api, gap.item, params)
        return self._deployment(api, gap, params)

    def _update_stage(self, api: Any, name: str, params: Mapping[str, Any]) -> HttpResponse:
        stage = api.stages.get(name)
        if stage is None:
            return _error(404, "NotFoundException", f"Invalid stage identifier specified {name}")
        for key, attribute in STAGE_FIELDS.items():
            if key in params:
                setattr(stage, attribute, params[key])
                stage.config[key] = params[key]
        if "stageVariables" in params:
            variables = dict(stage.stage_variables or {})
            for key, value in (params["stageVariables"] or {}).items():
                if value in ("", None):  # AWS removes a variable set to ""
                    variables.pop(key, None)
                else:
                    variables[key] = value
            stage.stage_variables = variables
        if "deploymentId" in params:
            stage.config["deploymentId"] = params["deploymentId"]
        stage.updated = datetime.now()
        return _ok(_stage_json(stage))

    def _deployment(self, api: Any, gap: Gap, params: Mapping[str, Any]) -> HttpResponse:
        with self._lock:
            deployments = self._deployments.setdefault(api.api_id, {})
            if gap.operation == "CreateDeployment":
                return self._create(api, deployments, params)
            if gap.operation == "GetDeployments":
                return _ok({"items": list(deployments.values())})
            found = deployments.get(gap.item)
            if found is None:
                return _error(404, "NotFoundException", f"Invalid Deployment identifier specified {gap.item}")
            if gap.operation == "DeleteDeployment":
                del deployments[gap.item]
                self.snapshots.forget(api.api_id, gap.item)
                return HttpResponse(204, [], b"")
            if gap.operation == "UpdateDeployment" and "description" in params:
                found["description"] = params["description"]
            return _ok(found)

    def _create(
        self, api: Any, deployments: dict[str, dict[str, Any]], params: Mapping[str, Any]
    ) -> HttpResponse:
        stage_name = params.get("stageName")
        if stage_name and stage_name not in api.stages:
            return _error(404, "NotFoundException", f"Invalid stage identifier specified {stage_name}")
        deployment_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6))
        deployment = {
            "autoDeployed": False,
            "createdDate": iso_8601_datetime_without_milliseconds(datetime.now(UTC)),
            "deploymentId": deployment_id,
            "deploymentStatus": "DEPLOYED",
            "description": params.get("description") or "",
        }
        deployments[deployment_id] = deployment
        self.snapshots.record(api.api_id, deployment_id, http_table(api))
        if stage_name:
            api.stages[stage_name].config["deploymentId"] = deployment_id
        return _ok(deployment, 201)


def _stage_json(stage: Any) -> dict[str, Any]:
    out: dict[str, Any] = stage.to_json()
    if stage.config.get("deploymentId"):
        out["deploymentId"] = stage.config["deploymentId"]
    return out


@dataclass(frozen=True)
class MotoWithout5xx:
    """moto's answer to one call, with a 5xx (a crash) turned into a 400 that names it."""

    moto_app: WSGIApp
    method: str
    path: str

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            captured[:] = [status, headers]
            return lambda data: None

        try:
            body = b"".join(self.moto_app(environ, capture))
        except Exception as exc:  # moto crashed: Flask in debug mode lets the exception through
            logger.exception("moto failed on %s %s", self.method, self.path)
            return self._failed(f"{type(exc).__name__}: {exc}")(environ, start_response)
        status = int(str(captured[0]).split(" ", 1)[0]) if captured else 500
        if status >= 500:
            logger.error("moto answered %s on %s %s: %s", status, self.method, self.path, body[:2000])
            return self._failed(f"HTTP {status} {body[:300]!r}")(environ, start_response)
        start_response(captured[0], captured[1])
        return [body]

    def _failed(self, what: str) -> JsonResponse:
        message = (
            f"lambda-harness: moto failed on {self.method} {self.path}: {what}; the endpoint log has the "
            "traceback. This API Gateway call or argument is not supported by the embedded endpoint"
        )
        body = json.dumps({"Type": "User", "message": message})
        return JsonResponse(body, 400, {"X-Amzn-ErrorType": "BadRequestException"})

"""The gateway: a request for an API -> stage, route, authorizer, function, response.

``ApiGateway`` serves what ``addressing.match_request`` took, with the pure modules of
this package. Every configuration error AWS would only show in CloudWatch (a missing
permission, a malformed proxy response, an authorizer's bad answer) is logged by the
endpoint with the fix, and named in the ``x-lambda-harness-reason`` response header.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from lambda_harness.endpoint.apigw import authorizers, events, permissions, responses
from lambda_harness.endpoint.apigw.addressing import Target, api_listing, gateway_request
from lambda_harness.endpoint.apigw.authorizers import AuthorizerCache, AuthorizerFailed, AuthResult
from lambda_harness.endpoint.apigw.catalog import Catalog
from lambda_harness.endpoint.apigw.errors import Failure, render
from lambda_harness.endpoint.apigw.model import Api, ApiKind, AuthorizerSpec, GatewayRequest, Route, Stage
from lambda_harness.endpoint.apigw.routing import Match, match_route, split_stage
from lambda_harness.endpoint.invoke import SYNC_PAYLOAD_LIMIT, InvokeService
from lambda_harness.endpoint.lookup import MotoFunction, lambda_backend, resolve
from lambda_harness.endpoint.lookup import Target as FunctionTarget
from lambda_harness.endpoint.runtime.model import InvokeResult, ThrottledError
from lambda_harness.endpoint.sources.function_urls import HttpResponse, cors_headers
from lambda_harness.endpoint.wsgi import JsonResponse
from lambda_harness.errors import EndpointError

logger = logging.getLogger(__name__)

#: API Gateway's payload limit for both API kinds (bytes).
MAX_REQUEST_BYTES = 10 * 1024 * 1024
INVOCATIONS = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>.+?)/invocations/?$")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.(?P<name>[A-Za-z0-9_]+)\}")


class Stop(Exception):
    """A step ends the request with this answer (``reason``: why, for the log and the reason header)."""

    def __init__(self, response: HttpResponse, reason: str = "") -> None:
        super().__init__(response.status)
        self.response = response
        self.reason = reason


#: Response header naming why the gateway answered itself (not sent by AWS; the same text is logged).
REASON_HEADER = "x-lambda-harness-reason"


@dataclass
class _Call:
    """One request in flight: what was resolved so far."""

    api: Api
    stage: Stage
    request: GatewayRequest
    route_path: str  # the decoded path after the stage (REST) / for routing (HTTP)
    request_id: str
    domain: str
    match: Match | None = None
    authorizer: Mapping[str, Any] | None = None

    @property
    def kind(self) -> ApiKind:
        return self.api.kind

    def where(self) -> str:
        route = self.match.route.key if self.match else self.route_path
        return f"{self.kind.label} {self.api.name} ({self.api.api_id}) stage {self.stage.name} {route}"

    def stop(
        self, failure: Failure, reason: str, level: int = logging.ERROR, message: str | None = None
    ) -> Stop:
        """Log why the gateway answers ``failure`` and return the ``Stop`` to raise."""
        logger.log(level, "apigw %s: %s", self.where(), reason)
        return Stop(render(failure, self.kind, message), reason)

    def context(self, now: datetime, authorizer: Mapping[str, Any] | None = None) -> events.Context:
        return events.Context(
            account_id=self.api.account_id,
            api_id=self.api.api_id,
            stage=self.stage.name,
            request_id=self.request_id,
            domain_name=self.domain,
            now=now,
            stage_variables=self.stage.variables,
            authorizer=authorizer,
        )


class ApiGateway:
    """Serves every API in the catalog; functions run through the ``InvokeService``."""

    def __init__(
        self,
        catalog: Catalog,
        service: InvokeService,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        workers: int = 32,
    ) -> None:
        self.catalog = catalog
        self.service = service
        self.now = now
        self.cache = AuthorizerCache(clock)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lh-apigw")
        self._warned: set[tuple[str, str]] = set()

    def close(self) -> None:
        """Stop the integration-timeout threads (running invocations finish)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- WSGI -------------------------------------------------------------------------------

    def answer(self, environ: dict[str, Any], target: Target) -> Response:
        """The response to one matched WSGI request."""
        if target.api_id is None:
            return self.index(environ)
        request_id = str(uuid.uuid4())
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_REQUEST_BYTES:  # answered from the header: the body is never read
            api = self.catalog.find(target.api_id)
            answer = render(Failure.TOO_LARGE, api.kind if api else ApiKind.HTTP)
        else:
            answer = self.handle(gateway_request(environ, target), target, request_id)
        return _as_wsgi(answer, request_id)

    def index(self, environ: Mapping[str, Any]) -> Response:
        """``GET /_harness/apigw``: every API, its stages, routes and both URL forms (JSON)."""
        host = str(environ.get("HTTP_HOST") or "127.0.0.1")
        listing = [api_listing(api, host) for api in self.catalog.apis()]
        return JsonResponse(json.dumps({"apis": listing}, indent=2))

    # --- one request ------------------------------------------------------------------------

    def handle(self, request: GatewayRequest, target: Target, request_id: str) -> HttpResponse:
        """The whole pipeline for one request; every early answer is a ``Stop``."""
        api = self.catalog.find(str(target.api_id))
        if api is None:
            text = f"lambda-harness: no API {target.api_id} on this endpoint; GET /_harness/apigw lists them"
            body = {"message": text}
            return HttpResponse(404, [("Content-Type", "application/json")], json.dumps(body).encode())
        try:
            call = self._resolve(api, request, target, request_id)
            preflight = self._preflight(call)
            if preflight is not None:
                return preflight
            call.match = self._route(call)
            self._authorize(call)
            response = self._integrate(call)
        except Stop as stop:
            response = stop.response
            if stop.reason:
                response = HttpResponse(
                    response.status,
                    [*response.headers, (REASON_HEADER, _header_text(stop.reason))],
                    response.body,
                )
        return self._with_cors(api, request, response)

    def _resolve(self, api: Api, request: GatewayRequest, target: Target, request_id: str) -> _Call:
        split = split_stage(api.kind, api.stages, request.raw_path)
        if split is None:
            names = ", ".join(sorted(api.stages)) or "none"
            where = f"{api.kind.label} {api.name} ({api.api_id})"
            reason = f"no stage of {where} in {request.raw_path}; its stages: {names}"
            logger.info("apigw %s", reason)
            raise Stop(render(Failure.UNKNOWN_STAGE, api.kind), reason)
        stage_name, rest = split
        host = request.host.split(":", 1)[0]
        domain = host if target.host_form and host else f"{api.api_id}.execute-api.{api.region}.amazonaws.com"
        return _Call(api, api.stages[stage_name], request, rest, request_id, domain)

    def _preflight(self, call: _Call) -> HttpResponse | None:
        cors = _cors(call.stage.table.cors)
        request = call.request
        if not cors or request.method != "OPTIONS" or not request.header("origin"):
            return None
        if not request.header("access-control-request-method"):
            return None
        # HTTP APIs answer a CORS preflight themselves, before routes and authorizers.
        return HttpResponse(204, cors_headers(cors, request.header("origin"), preflight=True))

    def _route(self, call: _Call) -> Match:
        match = match_route(call.kind, call.stage.table.routes, call.request.method, call.route_path)
        if match is None:
            routes = ", ".join(sorted(r.key for r in call.stage.table.routes)) or "none"
            reason = f"no route for {call.request.method} {call.route_path}; routes: {routes}"
            raise call.stop(Failure.NO_ROUTE, reason, logging.INFO)
        return match

    # --- authorizers ------------------------------------------------------------------------

    def _authorize(self, call: _Call) -> None:
        assert call.match is not None
        route = call.match.route
        self._note_unenforced(call, route)
        if route.authorization in ("JWT", "COGNITO_USER_POOLS") or (
            route.authorizer is not None and not route.authorizer.is_lambda
        ):
            kind = route.authorizer.type if route.authorizer else route.authorization
            message = f"lambda-harness: {kind} authorizers are not emulated ({route.key})"
            raise call.stop(Failure.NOT_EMULATED, message, logging.WARNING, message)
        if route.authorization != "CUSTOM" or route.authorizer is None:
            return
        spec = route.authorizer
        started = time.monotonic()
        result = self._authorizer_result(call, spec)
        failure = result.decide(self._method_arn(call))
        if failure is not None:
            how = (
                "denied the request explicitly"
                if failure is Failure.EXPLICIT_DENY
                else "did not allow the request"
            )
            reason = f"authorizer {spec.name or spec.id} {how} ({self._method_arn(call)})"
            raise call.stop(failure, reason, logging.INFO)
        latency = int((time.monotonic() - started) * 1000)
        call.authorizer = authorizers.integration_authorizer(call.kind, result, latency)

    def _note_unenforced(self, call: _Call, route: Route) -> None:
        for what, active in (
            ("AWS_IAM authorization", route.authorization == "AWS_IAM"),
            ("API keys", route.api_key_required),
        ):
            key = (call.api.api_id, f"{what} {route.key}")
            if active and key not in self._warned:
                self._warned.add(key)
                logger.warning(
                    "apigw %s: %s are not enforced by lambda-harness (every request passes)",
                    call.where(),
                    what,
                )

    def _method_arn(self, call: _Call) -> str:
        return authorizers.method_arn(
            call.api.region,
            call.api.account_id,
            call.api.api_id,
            call.stage.name,
            method=call.request.method,
            path=unquote(call.route_path),
        )

    def _authorizer_result(self, call: _Call, spec: AuthorizerSpec) -> AuthResult:
        request = call.request
        context_values = {"httpMethod": request.method, "path": call.route_path, "stage": call.stage.name}
        identity = authorizers.identity_values(spec, call.kind, request, call.stage.variables, context_values)
        if identity is None:
            sources = ", ".join(spec.identity_sources)
            raise call.stop(
                Failure.UNAUTHORIZED, f"identity source missing or empty ({sources})", logging.INFO
            )
        if identity and not authorizers.token_is_valid(spec, identity[0]):
            reason = f"the token does not match identityValidationExpression {spec.validation!r}"
            raise call.stop(Failure.UNAUTHORIZED, reason, logging.INFO)
        key = (call.api.api_id, call.stage.name, spec.id, *identity)
        cached = self.cache.get(key) if spec.ttl_s > 0 and identity else None
        if cached is not None:
            return cached
        try:
            result = self._run_authorizer(call, spec, identity)
        except AuthorizerFailed as exc:
            level = logging.INFO if exc.failure is Failure.UNAUTHORIZED else logging.ERROR
            raise call.stop(exc.failure, f"authorizer {spec.name or spec.id}: {exc.reason}", level) from None
        if identity:
            self.cache.put(key, result, spec.ttl_s)
        return result

    def _run_authorizer(self, call: _Call, spec: AuthorizerSpec, identity: tuple[str, ...]) -> AuthResult:
        assert call.match is not None
        target = self._function(
            call, spec.uri, Failure.AUTHORIZER_ERROR, f"authorizer {spec.name or spec.id}"
        )
        fn = target.fn
        source = permissions.authorizer_source_arn(
            call.api.region, call.api.account_id, call.api.api_id, spec.id
        )
        self._check_permission(call, fn, spec.uri, source, Failure.AUTHORIZER_ERROR)
        event = authorizers.authorizer_event(
            spec,
            call.kind,
            call.request,
            call.match,
            call.context(self.now()),
            arn=self._method_arn(call),
            identity=identity,
            path=call.route_path,
        )
        result = self._invoke(call, target, event, None, Failure.AUTHORIZER_ERROR)
        message = _error_message(result) if result.function_error else None
        return authorizers.parse_result(spec, call.kind, result.payload, message)

    # --- the integration --------------------------------------------------------------------

    def _integrate(self, call: _Call) -> HttpResponse:
        assert call.match is not None
        route = call.match.route
        integration = route.integration
        if integration is None:
            raise call.stop(Failure.INTEGRATION_CONFIG, "the route has no integration")
        if integration.type != "AWS_PROXY":
            message = (
                f"lambda-harness: {integration.type} integrations are not emulated ({route.key}); "
                "only AWS_PROXY (Lambda proxy) integrations run"
            )
            raise call.stop(Failure.NOT_EMULATED, message, logging.WARNING, message)
        target = self._function(call, integration.uri, Failure.INTEGRATION_CONFIG, "integration")
        fn = target.fn
        path = route.path if route.method != "$default" else ""
        source = permissions.route_source_arn(
            call.api.region,
            call.api.account_id,
            call.api.api_id,
            call.stage.name,
            method=route.method,
            path=path,
        )
        self._check_permission(call, fn, integration.uri, source, Failure.PERMISSION)
        event = self._event(call, integration.payload_version)
        result = self._invoke(call, target, event, integration.timeout_ms / 1000.0, Failure.FUNCTION_ERROR)
        if result.function_error:
            what = f"{result.error_type or result.function_error}: {_error_message(result)}"
            raise call.stop(
                Failure.FUNCTION_ERROR, f"function {fn.function_name} failed ({what})", logging.INFO
            )
        return self._map(call, integration.payload_version, result.payload)

    def _event(self, call: _Call, payload_version: str) -> dict[str, Any]:
        assert call.match is not None
        ctx = call.context(self.now(), call.authorizer)
        if call.kind is ApiKind.REST:
            path = unquote(call.route_path)
            return events.rest_event(call.request, call.match, ctx, path, call.stage.table.binary_media_types)
        if payload_version == "1.0":
            return events.http_v1_event(call.request, call.match, ctx)
        return events.http_v2_event(call.request, call.match, ctx)

    def _map(self, call: _Call, payload_version: str, payload: bytes) -> HttpResponse:
        try:
            if call.kind is ApiKind.REST:
                accept = call.request.header("accept")
                return responses.map_rest(
                    payload, accept=accept, binary_media_types=call.stage.table.binary_media_types
                )
            if payload_version == "1.0":
                return responses.map_http_v1(payload)
            return responses.map_http_v2(payload)
        except responses.Malformed as exc:
            reason = f"Execution failed due to configuration error: Malformed Lambda proxy response ({exc})"
            raise call.stop(Failure.MALFORMED, reason) from None

    # --- functions, permissions, invocation -------------------------------------------------

    def _function(self, call: _Call, uri: str, failure: Failure, what: str) -> FunctionTarget:
        arn = function_arn(uri, call.stage.variables)
        if arn is None:
            raise call.stop(failure, f"{what} URI {uri!r} names no Lambda function")
        try:
            return resolve(call.api.account_id, call.api.region, arn)
        except HTTPException:
            raise call.stop(failure, f"{what} function {arn} does not exist") from None

    def _check_permission(
        self, call: _Call, fn: MotoFunction, uri: str, source: str, failure: Failure
    ) -> None:
        arn = function_arn(uri, call.stage.variables) or ""
        if arn.count(":") < 6:  # a bare name: API Gateway would call the unqualified ARN
            arn = f"arn:aws:lambda:{fn.region}:{fn.account_id}:function:{arn}"
        latest = lambda_backend(fn.account_id, fn.region).get_function(fn.function_name)
        statements = list(getattr(latest.policy, "statements", None) or ())
        verdict = permissions.check(statements, arn, source, call.api.account_id)
        if not verdict.allowed:
            raise call.stop(
                failure, permissions.hint(fn.function_name, source, verdict.statements, call.kind.label)
            )

    def _invoke(
        self,
        call: _Call,
        target: FunctionTarget,
        event: Mapping[str, Any],
        timeout_s: float | None,
        failure: Failure,
    ) -> InvokeResult:
        payload = json.dumps(event).encode()
        if len(payload) > SYNC_PAYLOAD_LIMIT:
            # Lambda refuses the Invoke before any environment sees it; API Gateway logs this
            # line ("Execution failed: ...") and answers as for any failed integration.
            reason = (
                f"Execution failed: {len(payload)} byte payload is too large for the RequestResponse "
                f"invocation type (limit {SYNC_PAYLOAD_LIMIT} bytes): the event (the body, "
                "base64-encoded when binary, plus headers and context) is over Lambda's 6 MB "
                "synchronous limit; the function did not run"
            )
            raise call.stop(failure, reason)
        try:
            if timeout_s is None or timeout_s >= float(target.fn.timeout):
                return self.service.run(target, payload)  # Lambda's own timeout ends it first
            future = self._executor.submit(self.service.run, target, payload)
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            reason = f"the integration timed out after {(timeout_s or 0) * 1000:.0f} ms"
            raise call.stop(Failure.TIMEOUT, reason) from None
        except ThrottledError as exc:
            raise call.stop(Failure.THROTTLED, f"Lambda throttled the call ({exc})") from None
        except EndpointError as exc:
            raise call.stop(failure, str(exc)) from None

    def _with_cors(self, api: Api, request: GatewayRequest, response: HttpResponse) -> HttpResponse:
        stage_cors = [_cors(s.table.cors) for s in api.stages.values()]
        cors = next((c for c in stage_cors if c), None)
        origin = request.header("origin")
        if not cors or not origin:
            return response
        # With a CORS configuration, HTTP APIs replace the function's own CORS headers.
        kept = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
        return HttpResponse(response.status, kept + cors_headers(cors, origin), response.body)


def _cors(config: Mapping[str, object] | None) -> dict[str, object] | None:
    """An HTTP API's CORS configuration with AWS's key casing (``allowOrigins`` -> ``AllowOrigins``)."""
    if not config:
        return None
    return {key[:1].upper() + key[1:]: value for key, value in config.items()}


def function_arn(uri: str, stage_variables: Mapping[str, str]) -> str | None:
    """The function an integration or authorizer URI names (invoke ARN, function ARN, or name)."""
    uri = STAGE_VARIABLE.sub(lambda m: stage_variables.get(m.group("name"), ""), uri)
    found = INVOCATIONS.search(uri)
    if found:
        return found.group("arn")
    if uri.startswith("arn:aws:lambda:") or (uri and ":" not in uri and "/" not in uri):
        return uri
    return None


def _header_text(text: str, limit: int = 1000) -> str:
    """A log text fit for a header value (one line, latin-1, bounded)."""
    flat = " ".join(text.split()).encode("latin-1", "replace").decode("latin-1")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _error_message(result: InvokeResult) -> str:
    try:
        value = json.loads(result.payload)
    except ValueError:
        return result.function_error or "error"
    if isinstance(value, dict) and isinstance(value.get("errorMessage"), str):
        return str(value["errorMessage"])
    return result.function_error or "error"


def _as_wsgi(answer: HttpResponse, request_id: str) -> Response:
    headers = [*answer.headers, ("x-amzn-RequestId", request_id), ("apigw-requestid", request_id)]
    return JsonResponse(answer.body, answer.status, headers)

"""The WSGI front: our routes first, everything else to moto.

Ours: Lambda ``Invoke`` (moto ignores ``Qualifier`` and runs every delivery
synchronously, so Invoke is served here with AWS's semantics), the provisioned-concurrency
calls moto does not serve (``provisioned``: kept and answered, no behaviour), function URLs and
API Gateway APIs over HTTP (``apigw``), the HTTP API control-plane operations moto
lacks (``apigw.gaps``), the harness's health, trigger, prestart, coverage and retire
routes, and LocalStack's health routes so tools that wait for LocalStack work unchanged.

API Gateway control-plane calls go through ``apigw.gaps`` (which also turns a moto
crash into a 400, so Terraform stops at once instead of retrying for minutes).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from
from werkzeug.exceptions import HTTPException

from lambda_harness import __version__
from lambda_harness.endpoint import provisioned
from lambda_harness.endpoint.apigw import gaps as apigw_gaps
from lambda_harness.endpoint.apigw.addressing import match_request as match_api_request
from lambda_harness.endpoint.apigw.gateway import ApiGateway
from lambda_harness.endpoint.invoke import (
    ASYNC_PAYLOAD_LIMIT,
    SYNC_PAYLOAD_LIMIT,
    InvokeService,
    log_tail,
    new_request_id,
)
from lambda_harness.endpoint.lookup import MotoFunction, Target, resolve
from lambda_harness.endpoint.runtime.coverage import CoverageSpec
from lambda_harness.endpoint.runtime.model import InterpreterNotFound, InvokeResult, ThrottledError
from lambda_harness.endpoint.sources import function_urls
from lambda_harness.endpoint.wsgi import JsonResponse, Request, StartResponse, WSGIApp
from lambda_harness.errors import EndpointError
from lambda_harness.net import HARNESS_PRESTART, HARNESS_RETIRE, is_loopback

logger = logging.getLogger(__name__)

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
TRIGGER_PATH = re.compile(r"^/_harness/trigger/(?P<rule>[^/]+)/?$")
#: Start the first execution environment of each function named (the pipeline, once applied).
PRESTART_PATH = HARNESS_PRESTART
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
#: What /_localstack/health reports as running (the services Terraform and handlers use).
HEALTH_SERVICES = (
    "cloudwatch",
    "dynamodb",
    "events",
    "iam",
    "kinesis",
    "lambda",
    "logs",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "stepfunctions",
    "sts",
)

Trigger = Callable[[str, str | None], list[str] | None]
#: How long stopping coverage waits for queued asynchronous invocations (a failed one may wait
#: a minute for its retry: that one is not waited for).
COVERAGE_ASYNC_WAIT_S = 5.0


def aws_error(
    status: int, error_type: str, message: str, *, extra: Mapping[str, str] | None = None
) -> JsonResponse:
    """An error the way Lambda's REST-JSON API sends it (botocore reads the type header)."""
    body = {"Type": "User", "message": message, **(extra or {})}
    headers = {"X-Amzn-ErrorType": error_type, "x-amzn-RequestId": new_request_id()}
    return JsonResponse(json.dumps(body), status, headers)


# Compiled once: signing_service runs in front of every AWS call.
_SIGNING_SERVICE = re.compile(r"Credential=[^/,\s]+/\d+/[^/]+/([^/]+)/")
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d+/([^/]+)/")


def signing_service(authorization: str | None) -> str | None:
    """The service a SigV4 ``Authorization`` header was signed for (``apigateway``), or None."""
    match = _SIGNING_SERVICE.search(authorization or "")
    return match.group(1) if match else None


def credential_scope(authorization: str | None) -> tuple[str | None, str | None]:
    """(access key, region) from a SigV4 ``Authorization`` header, or Nones."""
    match = _CREDENTIAL_SCOPE.search(authorization or "")
    return (match.group(1), match.group(2)) if match else (None, None)


def account_for(moto_account: str | None, access_key: str | None) -> str:
    """The account moto would use for a request (env, ``X-Moto-Account-Id`` header, then access key)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if moto_account:
        return moto_account
    if access_key:
        return str(get_account_id_from(access_key))
    return str(DEFAULT_ACCOUNT_ID)


def client_context(raw: str | None) -> str | None:
    """``X-Amz-Client-Context`` is base64 JSON; the Runtime API passes the JSON itself."""
    if not raw:
        return None
    try:
        return base64.b64decode(raw).decode("utf-8")
    except ValueError:
        return None


def reject(invocation_type: str, payload: bytes) -> tuple[int, str, str] | None:
    """(status, error type, message) when AWS would refuse this Invoke request before running it."""
    if invocation_type not in INVOCATION_TYPES:
        allowed = ", ".join(INVOCATION_TYPES)
        return (
            400,
            "InvalidParameterValueException",
            f"Invocation type {invocation_type!r} is not one of {allowed}",
        )
    limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
    if len(payload) > limit:
        return (
            413,
            "RequestEntityTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
        )
    try:
        json.loads(payload)
    except ValueError as exc:
        return 400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
    return None


def result_headers(fn: MotoFunction, result: InvokeResult, tail: bool) -> dict[str, str]:
    """AWS's Invoke response headers for a finished synchronous invocation."""
    headers = {
        "X-Amz-Executed-Version": str(fn.version),
        "x-amzn-RequestId": result.request_id,
        "Content-Type": "application/json",
    }
    if result.function_error:
        # AWS says Unhandled for every runtime-reported error; moto's "Handled" is not a thing any more.
        headers["X-Amz-Function-Error"] = "Unhandled"
    if tail:
        headers["X-Amz-Log-Result"] = base64.b64encode(log_tail(result.log)).decode("ascii")
    return headers


class InvokeRoute:
    """``POST /2015-03-31/functions/<name>/invocations`` with AWS's semantics."""

    def __init__(self, service: InvokeService, default_region: str) -> None:
        self.service = service
        self.default_region = default_region

    def __call__(self, request: Request, name: str) -> WSGIApp:
        """The answer to one Invoke request (a response, or moto's not-found error as it shapes it)."""
        access_key, region = credential_scope(request.headers.get("Authorization"))
        qualifier = request.args.get("Qualifier") or None
        invocation_type = request.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        payload = request.get_data() or b"{}"
        try:
            target = resolve(
                account_for(request.headers.get("X-Moto-Account-Id"), access_key),
                region or self.default_region,
                unquote(name),
                qualifier,
            )
        except HTTPException as exc:  # moto's ResourceNotFoundException, exactly as AWS shapes it
            return exc
        problem = reject(invocation_type, payload)
        if problem is not None:
            return aws_error(*problem)
        if invocation_type == "DryRun":
            return JsonResponse(b"", 204, {"x-amzn-RequestId": new_request_id()})
        if invocation_type == "Event":
            request_id = self.service.submit(target, payload, source="invoke")
            return JsonResponse(b"", 202, {"x-amzn-RequestId": request_id})
        return self._sync(request, target, payload)

    def _sync(self, request: Request, target: Target, payload: bytes) -> JsonResponse:
        fn = target.fn
        context = client_context(request.headers.get("X-Amz-Client-Context"))
        try:
            result = self.service.run(target, payload, client_context=context)
        except ThrottledError as exc:
            return aws_error(429, "TooManyRequestsException", str(exc), extra={"Reason": exc.reason})
        except InterpreterNotFound as exc:
            return aws_error(502, "InvalidRuntimeException", str(exc))
        except EndpointError as exc:
            logger.error("invoke %s: %s", fn.function_name, exc)
            return aws_error(500, "ServiceException", f"lambda-harness: {exc}")
        tail = request.headers.get("X-Amz-Log-Type") == "Tail"
        return JsonResponse(result.payload, 200, result_headers(fn, result, tail))


class HarnessApp:
    """The endpoint's WSGI application: our routes, then moto's ``DomainDispatcherApplication``."""

    def __init__(
        self,
        moto_app: WSGIApp,
        invoke: InvokeRoute,
        trigger: Trigger,
        *,
        apigw: ApiGateway | None = None,
        gaps: apigw_gaps.HttpApiGaps | None = None,
        instance_id: str = "",
    ) -> None:
        self.moto_app = moto_app
        self.invoke = invoke
        self.trigger = trigger
        self.apigw = apigw
        self.gaps = gaps
        # Who this endpoint is: a restarted endpoint is a new one, holding nothing that was applied before.
        self.instance_id = instance_id or uuid.uuid4().hex

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        answer = self.route(environ)
        if answer is None:
            return self.moto_app(environ, start_response)
        return answer(environ, start_response)

    def route(self, environ: dict[str, Any]) -> WSGIApp | None:
        """Our answer to a request, or None when it is moto's."""
        # Runs before every AWS API call: plain string checks, a Request only for our routes.
        url_route = function_urls.match_route(environ)
        if url_route is not None:  # a Lambda function URL (by host or /_harness/url/<name>/)
            return function_urls.serve(
                Request(environ), url_route, self.invoke.service, self.invoke.default_region
            )
        if self.apigw is not None:
            api_target = match_api_request(environ)
            if api_target is not None:  # an API Gateway API (by host, /_harness/apigw/ or /_aws/execute-api/)
                return self.apigw.answer(environ, api_target)
        path = environ.get("PATH_INFO", "")
        lambda_call = self._lambda(environ, path)
        if lambda_call is not None:
            return lambda_call
        if path.startswith(("/_harness/", "/_localstack/")):
            control = self._prestart if path == PRESTART_PATH else self._control
            return control(Request(environ))
        if signing_service(environ.get("HTTP_AUTHORIZATION")) == "apigateway":
            return self._apigateway(environ)
        return None

    def _prestart(self, request: Request) -> JsonResponse:
        """``POST /_harness/prestart {"functions": [ARN, ...]}``: start their first environments."""
        if request.method != "POST":
            return aws_error(405, "MethodNotAllowed", f"use POST {request.path}")
        functions = []
        for arn in _arns(request.get_data()):
            try:
                functions.append(resolve(DEFAULT_ACCOUNT_ID, self.invoke.default_region, arn).fn)
            except HTTPException:
                continue  # not (or no longer) there: its first invocation will say so
        # Answered at once: starting a worker extracts its code and spawns a process (~0.1-0.3 s
        # each); the caller gets on with starting its tests meanwhile.
        threading.Thread(
            target=self.invoke.service.prestart, args=(functions,), name="lh-prestart", daemon=True
        ).start()
        return JsonResponse(json.dumps({"asked": len(functions)}), 202)

    def _lambda(self, environ: dict[str, Any], path: str) -> WSGIApp | None:
        """Invoke, and the provisioned-concurrency calls; None for every other path."""
        if environ.get("REQUEST_METHOD") == "POST":
            match = INVOKE_PATH.match(path)
            if match:
                return self.invoke(Request(environ), match.group("name"))
        if path.endswith(("/provisioned-concurrency", "/provisioned-concurrency/")):
            match = provisioned.PATH.match(path)
            if match:
                return self._provisioned(Request(environ), match.group("name"))
        return None

    def _provisioned(self, request: Request, name: str) -> WSGIApp:
        """The provisioned-concurrency calls moto does not serve (``provisioned``)."""
        access_key, region = credential_scope(request.headers.get("Authorization"))
        account = account_for(request.headers.get("X-Moto-Account-Id"), access_key)
        store = provisioned.ProvisionedConcurrency(account, region or self.invoke.default_region)
        try:
            return provisioned.answer(request, name, store)
        except HTTPException as exc:  # moto's AWS-shaped errors (404 function, 400 parameter)
            return exc

    def _apigateway(self, environ: dict[str, Any]) -> WSGIApp:
        """API Gateway's control plane: the operations moto lacks, else moto (its 5xx made 400s)."""
        if self.gaps is None:
            return self.moto_app
        request = Request(environ)
        access_key, region = credential_scope(request.headers.get("Authorization"))
        account = account_for(request.headers.get("X-Moto-Account-Id"), access_key)
        return self.gaps.answer(request, account, region or self.invoke.default_region, self.moto_app)

    def _control(self, request: Request) -> JsonResponse:  # noqa: PLR0911 (one return per route)
        path, method = request.path, request.method
        if path in ("/_harness/health", "/_localstack/health", "/_localstack/health/"):
            return JsonResponse(json.dumps(health_document(self.instance_id)))
        if path == "/_localstack/init/ready":
            return JsonResponse(json.dumps({"completed": True, "scripts": []}))
        if path in ("/_harness/coverage", "/_harness/coverage/"):
            return coverage_route(request, self.invoke.service)
        if path == HARNESS_RETIRE:
            return retire_route(request, self.invoke.service)
        match = TRIGGER_PATH.match(path)
        if match and method == "POST":
            rule = unquote(match.group("rule"))
            delivered = self.trigger(rule, request.args.get("bus") or None)
            if delivered is None:
                return aws_error(404, "ResourceNotFoundException", f"Rule {rule} does not exist.")
            return JsonResponse(json.dumps({"rule": rule, "delivered": delivered}))
        if match:
            return aws_error(405, "MethodNotAllowed", f"use POST {path}")
        return aws_error(404, "NotFound", f"no harness route {path}")


def coverage_route(request: Request, service: InvokeService) -> JsonResponse:
    """``POST /_harness/coverage`` ``{"data_dir", "sources", "branch"}`` starts measuring in new
    environments (answers ``{"code_root"}``); ``DELETE`` stops, once every measuring environment
    has saved its data (answers ``{"saved", "unsaved"}``)."""
    runtime: Any = service.runtime
    if not hasattr(runtime, "start_coverage"):
        return aws_error(501, "NotImplemented", "this endpoint's runtime cannot measure coverage")
    if request.method == "DELETE":
        service.wait_idle(COVERAGE_ASYNC_WAIT_S)  # let queued S3/SNS/EventBridge deliveries run first
        return JsonResponse(json.dumps(runtime.stop_coverage()))
    if request.method != "POST":
        return aws_error(405, "MethodNotAllowed", "use POST or DELETE /_harness/coverage")
    try:
        body = json.loads(request.get_data() or b"{}")
        spec = CoverageSpec(
            data_dir=Path(body["data_dir"]),
            sources=tuple(str(s) for s in body["sources"]),
            branch=bool(body.get("branch", False)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        return aws_error(400, "InvalidRequest", f'expected {{"data_dir": ..., "sources": [...]}}: {exc}')
    try:
        code_root = runtime.start_coverage(spec)
    except EndpointError as exc:
        return aws_error(500, "ServiceException", f"lambda-harness: {exc}")
    return JsonResponse(json.dumps({"code_root": str(code_root)}))


def retire_route(request: Request, service: InvokeService) -> JsonResponse:
    """``POST /_harness/retire``: close every execution environment; each function's next
    invocation starts cold (answers ``{"retired": <idle environments closed>}``).

    Loopback callers only: an endpoint opened to the network (``--allow-non-loopback``) still
    lets no other host throw away its environments.
    """
    if request.method != "POST":
        return aws_error(405, "MethodNotAllowed", f"use POST {HARNESS_RETIRE}")
    if not is_loopback(request.remote_addr or ""):
        return aws_error(403, "AccessDenied", f"{HARNESS_RETIRE} answers loopback callers only")
    runtime: Any = service.runtime
    if not hasattr(runtime, "retire_all"):
        return aws_error(501, "NotImplemented", "this endpoint's runtime cannot retire its environments")
    return JsonResponse(json.dumps({"retired": runtime.retire_all()}))


def _arns(body: bytes) -> list[str]:
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        return []
    names = doc.get("functions") if isinstance(doc, dict) else None
    return [str(n) for n in names] if isinstance(names, list) else []


def health_document(instance_id: str = "") -> dict[str, Any]:
    """LocalStack-shaped health JSON, plus ``instance_id``: this endpoint process's identity
    (``net.endpoint_identity``; the warm loop trusts kept Terraform state only on the same one)."""
    return {
        "services": dict.fromkeys(HEALTH_SERVICES, "running"),
        "edition": "lambda-harness",
        "version": __version__,
        "ready": True,
        "instance_id": instance_id,
    }

"""The WSGI front: our routes first, everything else to moto.

Ours: Lambda ``Invoke`` (moto ignores ``Qualifier`` and runs every delivery
synchronously, so Invoke is served here with AWS's semantics), the harness's
health and trigger routes, and LocalStack's health routes so tools that wait for
LocalStack work unchanged.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from
from werkzeug.exceptions import HTTPException

from lambda_harness import __version__
from lambda_harness.endpoint.invoke import (
    ASYNC_PAYLOAD_LIMIT,
    SYNC_PAYLOAD_LIMIT,
    InvokeService,
    log_tail,
    new_request_id,
)
from lambda_harness.endpoint.lookup import MotoFunction, find_function
from lambda_harness.endpoint.runtime.coverage import CoverageSpec
from lambda_harness.endpoint.runtime.model import InterpreterNotFound, InvokeResult, ThrottledError
from lambda_harness.endpoint.sources import function_urls
from lambda_harness.errors import EndpointError

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Any]

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
TRIGGER_PATH = re.compile(r"^/_harness/trigger/(?P<rule>[^/]+)/?$")
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
_STATUS = {
    200: "200 OK",
    202: "202 Accepted",
    204: "204 No Content",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Request Entity Too Large",
    501: "501 Not Implemented",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
}

Trigger = Callable[[str, str | None], list[str] | None]
#: How long stopping coverage waits for queued asynchronous invocations (a failed one may wait
#: a minute for its retry: that one is not waited for).
COVERAGE_ASYNC_WAIT_S = 5.0


def respond(
    start_response: StartResponse, status: int, body: bytes, headers: Mapping[str, str] | None = None
) -> list[bytes]:
    """Send a complete response (Content-Length always set: werkzeug then needs no chunking)."""
    out = [("Content-Length", str(len(body)))]
    out += list((headers or {}).items())
    if not any(k.lower() == "content-type" for k, _ in out):
        out.append(("Content-Type", "application/json"))
    start_response(_STATUS.get(status, f"{status} Status"), out)
    return [body]


def aws_error(
    start_response: StartResponse,
    status: int,
    error_type: str,
    message: str,
    *,
    extra: Mapping[str, str] | None = None,
) -> list[bytes]:
    """An error the way Lambda's REST-JSON API sends it (botocore reads the type header)."""
    body = {"Type": "User", "message": message, **(extra or {})}
    headers = {"X-Amzn-ErrorType": error_type, "x-amzn-RequestId": new_request_id()}
    return respond(start_response, status, json.dumps(body).encode(), headers)


def credential_scope(environ: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(access key, region) from a SigV4 Authorization header, or Nones."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    match = re.search(r"Credential=([^/,\s]+)/\d+/([^/]+)/", auth)
    return (match.group(1), match.group(2)) if match else (None, None)


def account_for(environ: Mapping[str, Any], access_key: str | None) -> str:
    """The account moto would use for this request (env, header, then access key)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
    if access_key:
        return str(get_account_id_from(access_key))
    return str(DEFAULT_ACCOUNT_ID)


def read_body(environ: Mapping[str, Any]) -> bytes:
    """The request body (werkzeug gives a Content-Length for every boto3 request)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def client_context(environ: Mapping[str, Any]) -> str | None:
    """``X-Amz-Client-Context`` is base64 JSON; the Runtime API passes the JSON itself."""
    raw = environ.get("HTTP_X_AMZ_CLIENT_CONTEXT")
    if not raw:
        return None
    try:
        return base64.b64decode(str(raw)).decode("utf-8")
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

    def __call__(self, environ: dict[str, Any], start_response: StartResponse, name: str) -> Iterable[bytes]:
        access_key, region = credential_scope(environ)
        qualifier = parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier", [None])[0]
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE") or "RequestResponse"
        payload = read_body(environ) or b"{}"
        try:
            fn = find_function(
                account_for(environ, access_key), region or self.default_region, unquote(name), qualifier
            )
        except HTTPException as exc:  # moto's ResourceNotFoundException, exactly as AWS shapes it
            return exc(environ, start_response)
        problem = reject(invocation_type, payload)
        if problem is not None:
            return aws_error(start_response, *problem)
        if invocation_type == "DryRun":
            return respond(start_response, 204, b"", {"x-amzn-RequestId": new_request_id()})
        if invocation_type == "Event":
            request_id = self.service.submit(fn, payload, source="invoke")
            return respond(start_response, 202, b"", {"x-amzn-RequestId": request_id})
        return self._sync(environ, start_response, fn, payload)

    def _sync(
        self, environ: dict[str, Any], start_response: StartResponse, fn: MotoFunction, payload: bytes
    ) -> Iterable[bytes]:
        try:
            result = self.service.run(fn, payload, client_context=client_context(environ))
        except ThrottledError as exc:
            return aws_error(
                start_response, 429, "TooManyRequestsException", str(exc), extra={"Reason": exc.reason}
            )
        except InterpreterNotFound as exc:
            return aws_error(start_response, 502, "InvalidRuntimeException", str(exc))
        except EndpointError as exc:
            logger.error("invoke %s: %s", fn.function_name, exc)
            return aws_error(start_response, 500, "ServiceException", f"lambda-harness: {exc}")
        tail = environ.get("HTTP_X_AMZ_LOG_TYPE") == "Tail"
        return respond(start_response, 200, result.payload, result_headers(fn, result, tail))


class HarnessApp:
    """The endpoint's WSGI application: our routes, then moto's ``DomainDispatcherApplication``."""

    def __init__(self, moto_app: WSGIApp, invoke: InvokeRoute, trigger: Trigger) -> None:
        self.moto_app = moto_app
        self.invoke = invoke
        self.trigger = trigger

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        url_route = function_urls.match_route(environ)
        if url_route is not None:  # a Lambda function URL (by host or /_harness/url/<name>/)
            return function_urls.serve(
                environ, start_response, url_route, self.invoke.service, self.invoke.default_region
            )
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "POST":
            match = INVOKE_PATH.match(path)
            if match:
                return self.invoke(environ, start_response, match.group("name"))
        if path.startswith(("/_harness/", "/_localstack/")):
            return self._control(environ, start_response, path, method)
        return self.moto_app(environ, start_response)

    def _control(  # noqa: PLR0911 (one return per route)
        self, environ: dict[str, Any], start_response: StartResponse, path: str, method: str
    ) -> Iterable[bytes]:
        if path in ("/_harness/health", "/_localstack/health", "/_localstack/health/"):
            return respond(start_response, 200, json.dumps(health_document()).encode())
        if path == "/_localstack/init/ready":
            return respond(start_response, 200, json.dumps({"completed": True, "scripts": []}).encode())
        if path in ("/_harness/coverage", "/_harness/coverage/"):
            return coverage_route(environ, start_response, self.invoke.service, method)
        match = TRIGGER_PATH.match(path)
        if match and method == "POST":
            rule = unquote(match.group("rule"))
            bus = parse_qs(environ.get("QUERY_STRING", "")).get("bus", [None])[0]
            delivered = self.trigger(rule, bus)
            if delivered is None:
                return aws_error(
                    start_response, 404, "ResourceNotFoundException", f"Rule {rule} does not exist."
                )
            return respond(start_response, 200, json.dumps({"rule": rule, "delivered": delivered}).encode())
        if match:
            return aws_error(start_response, 405, "MethodNotAllowed", f"use POST {path}")
        return aws_error(start_response, 404, "NotFound", f"no harness route {path}")


def coverage_route(
    environ: dict[str, Any], start_response: StartResponse, service: InvokeService, method: str
) -> Iterable[bytes]:
    """``POST /_harness/coverage`` ``{"data_dir", "sources", "branch"}`` starts measuring in new
    environments (answers ``{"code_root"}``); ``DELETE`` stops, once every measuring environment
    has saved its data (answers ``{"saved", "unsaved"}``)."""
    runtime: Any = service.runtime
    if not hasattr(runtime, "start_coverage"):
        return aws_error(
            start_response, 501, "NotImplemented", "this endpoint's runtime cannot measure coverage"
        )
    if method == "DELETE":
        service.wait_idle(COVERAGE_ASYNC_WAIT_S)  # let queued S3/SNS/EventBridge deliveries run first
        return respond(start_response, 200, json.dumps(runtime.stop_coverage()).encode())
    if method != "POST":
        return aws_error(start_response, 405, "MethodNotAllowed", "use POST or DELETE /_harness/coverage")
    try:
        body = json.loads(read_body(environ) or b"{}")
        spec = CoverageSpec(
            data_dir=Path(body["data_dir"]),
            sources=tuple(str(s) for s in body["sources"]),
            branch=bool(body.get("branch", True)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        return aws_error(
            start_response, 400, "InvalidRequest", f'expected {{"data_dir": ..., "sources": [...]}}: {exc}'
        )
    try:
        code_root = runtime.start_coverage(spec)
    except EndpointError as exc:
        return aws_error(start_response, 500, "ServiceException", f"lambda-harness: {exc}")
    return respond(start_response, 200, json.dumps({"code_root": str(code_root)}).encode())


def health_document() -> dict[str, Any]:
    """LocalStack-shaped health JSON."""
    return {
        "services": dict.fromkeys(HEALTH_SERVICES, "running"),
        "edition": "lambda-harness",
        "version": __version__,
        "ready": True,
    }

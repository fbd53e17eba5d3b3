"""Lambda function URLs served over HTTP, as AWS does (payload format 2.0, buffered).

moto stores ``aws_lambda_function_url`` configs (``LambdaFunction.url_config``, a URL
``https://<url-id>.lambda-url.<region>.on.aws``) but never serves them. Two local forms
reach a function here:

* ``Host: <url-id>.lambda-url.<region>.localhost[:port]`` (or ``...on.aws``): the URL itself;
* ``/_harness/url/<function-name>/<rawPath>``: for curl without DNS.

The request becomes AWS's function-URL event, runs synchronously through the
``InvokeService`` (the same path as Invoke: logs, CloudWatch, timeouts, throttling),
and the result becomes the HTTP response with AWS's rules. ``AWS_IAM`` auth is not
enforced (like all IAM in the embedded endpoint). The pure parts (``build_event``,
``map_result``, ``preflight``) take no server and are unit-tested on their own.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from moto.awslambda.models import lambda_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from lambda_harness import events
from lambda_harness.endpoint.invoke import SYNC_PAYLOAD_LIMIT, InvokeService, new_request_id
from lambda_harness.endpoint.lookup import MotoFunction, Target
from lambda_harness.endpoint.runtime.model import ThrottledError
from lambda_harness.endpoint.wsgi import JsonResponse, Request
from lambda_harness.errors import EndpointError

logger = logging.getLogger(__name__)

HOST_FORM = re.compile(
    r"^(?P<id>[a-z0-9]+)\.lambda-url\.(?P<region>[a-z0-9-]+)\.(?:localhost|on\.aws)\.?(?::\d+)?$"
)
PATH_PREFIX = "/_harness/url/"
#: Request content types whose body reaches the function as text; any other body is base64.
TEXT_TYPES = re.compile(
    r"^(text/.*|application/(.*\+)?(json|xml)|application/(javascript|x-javascript|ecmascript)|"
    r"application/x-yaml|application/yaml)$"
)
#: Hop-by-hop or length headers a function may not set (the server computes them).
DROPPED_RESPONSE_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
NOT_FOUND = b'{"message":"Not Found"}'
INTERNAL_ERROR = b'{"message":"Internal Server Error"}'
THROTTLED = b'{"message":"Rate Exceeded."}'


@dataclass(frozen=True)
class Route:
    """Which function a request names: by URL id (host form) or by function name (path form)."""

    raw_path: str
    url_id: str | None = None
    region: str | None = None
    function_name: str | None = None


#: The parts of an HTTP request the event is built from (headers lower-cased).
UrlRequest = events.HttpRequest
query_parameters = events.query_parameters


@dataclass(frozen=True)
class UrlTarget:
    """The function URL as AWS names it in ``requestContext``."""

    url_id: str
    account_id: str
    domain_name: str


@dataclass(frozen=True)
class HttpResponse:
    """A complete HTTP response (headers may repeat, e.g. Set-Cookie)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def match_route(environ: Mapping[str, Any]) -> Route | None:
    """The function-URL route of a WSGI request, or None when it is for the AWS API."""
    # Runs before every request: plain string checks first, so AWS API calls pay almost nothing.
    host_header = str(environ.get("HTTP_HOST", "")).lower()
    host = HOST_FORM.match(host_header) if ".lambda-url." in host_header else None
    if host:
        return Route(raw_path=_raw_path(environ), url_id=host.group("id"), region=host.group("region"))
    # PATH_INFO is the decoded raw path, so a raw path with the prefix has it in PATH_INFO too.
    if not str(environ.get("PATH_INFO", "")).startswith(PATH_PREFIX):
        return None
    raw_path = _raw_path(environ)
    if not raw_path.startswith(PATH_PREFIX):
        return None
    name, _, rest = raw_path[len(PATH_PREFIX) :].partition("/")
    if not name:
        return None
    return Route(raw_path="/" + rest, function_name=unquote(name))


def _raw_path(environ: Mapping[str, Any]) -> str:
    # werkzeug keeps the undecoded request target; rawPath is what the client sent.
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return urlsplit(str(raw)).path or "/"
    return quote(str(environ.get("PATH_INFO", "/")))


def request_headers(request: Request) -> dict[str, str]:
    """Lower-cased headers; werkzeug's server already joined repeated headers with commas."""
    return {key.lower(): value for key, value in request.headers.items()}


def is_text(content_type: str | None) -> bool:
    """Whether AWS hands a body of this content type to the function as text (not base64)."""
    if not content_type:
        return False
    return bool(TEXT_TYPES.match(content_type.split(";", 1)[0].strip().lower()))


def build_event(request: UrlRequest, target: UrlTarget, request_id: str, now: datetime) -> dict[str, Any]:
    """AWS's function-URL request event (payload format version 2.0, ``events.http_v2_event``)."""
    return events.http_v2_event(
        request,
        api_id=target.url_id,
        account=target.account_id,
        domain_name=target.domain_name,
        request_id=request_id,
        moment=now,
        text_body=is_text(request.headers.get("content-type")),
    )


def map_result(payload: bytes) -> HttpResponse:
    """The HTTP response AWS builds from a successful function result."""
    try:
        value = json.loads(payload or b"null")
    except ValueError:
        value = None
    if not (isinstance(value, dict) and "statusCode" in value):
        # Any other result is the body itself, as JSON (AWS infers 200 and application/json).
        return HttpResponse(200, [("Content-Type", "application/json")], payload)
    try:
        status = int(value["statusCode"])
        body = _response_body(value)
    except (TypeError, ValueError):
        return HttpResponse(502, [("Content-Type", "application/json")], INTERNAL_ERROR)
    headers = [
        (str(k), str(v))
        for k, v in (value.get("headers") or {}).items()
        if str(k).lower() not in DROPPED_RESPONSE_HEADERS
    ]
    for key, values in (value.get("multiValueHeaders") or {}).items():
        if str(key).lower() not in DROPPED_RESPONSE_HEADERS:
            headers += [(str(key), str(v)) for v in values or ()]
    headers += [("Set-Cookie", str(cookie)) for cookie in value.get("cookies") or ()]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status, headers, body)


def _response_body(value: Mapping[str, Any]) -> bytes:
    body = value.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return json.dumps(body).encode()
    if value.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return body.encode("utf-8")


def preflight(cors: Mapping[str, Any] | None, headers: Mapping[str, str]) -> HttpResponse | None:
    """AWS's answer to a CORS preflight when the URL has a CORS config, else None."""
    if not cors or not headers.get("origin") or "access-control-request-method" not in headers:
        return None
    return HttpResponse(200, cors_headers(cors, headers["origin"], preflight=True))


def cors_headers(
    cors: Mapping[str, Any] | None, origin: str | None, *, preflight: bool = False
) -> list[tuple[str, str]]:
    """The ``Access-Control-*`` headers for an origin the CORS config allows (none otherwise)."""
    if not cors or not origin:
        return []
    origins = [str(o) for o in cors.get("AllowOrigins") or ()]
    if "*" not in origins and origin not in origins:
        return []
    out = [
        ("Access-Control-Allow-Origin", origin if "*" not in origins or cors.get("AllowCredentials") else "*")
    ]
    if cors.get("AllowCredentials"):
        out.append(("Access-Control-Allow-Credentials", "true"))
    lists = ("AllowMethods", "AllowHeaders", "MaxAge") if preflight else ("ExposeHeaders",)
    names = {
        "AllowMethods": "Access-Control-Allow-Methods",
        "AllowHeaders": "Access-Control-Allow-Headers",
        "MaxAge": "Access-Control-Max-Age",
        "ExposeHeaders": "Access-Control-Expose-Headers",
    }
    for key in lists:
        value = cors.get(key)
        if value not in (None, [], ""):
            text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
            out.append((names[key], text))
    return out


def _latest_functions() -> Iterator[tuple[str, MotoFunction]]:
    """(region, $LATEST function) for every function moto holds, any account and region."""
    # Copy each dict before walking it: other request threads may add backends meanwhile.
    for account_backends in list(lambda_backends.values()):
        for region, backend in list(account_backends.items()):
            storage = getattr(backend, "_lambdas", None)
            for group in list(getattr(storage, "_functions", {}).values()):
                latest = group.get("latest")
                if latest is not None:
                    yield region, latest


def url_id_of(fn: MotoFunction) -> str | None:
    """The ``<url-id>`` of a function's URL (moto: ``https://<id>.lambda-url.<region>.on.aws``)."""
    config = getattr(fn, "url_config", None)
    if config is None:
        return None
    return urlsplit(str(config.url)).hostname.split(".", 1)[0]  # type: ignore[union-attr]


def find_url_function(route: Route, default_region: str) -> MotoFunction | None:
    """The function (with a URL config) a route names; None -> 404, as AWS answers."""
    found = []
    for region, fn in _latest_functions():
        url_id = url_id_of(fn)
        if url_id is None:
            continue
        if route.url_id is not None and url_id == route.url_id and region == route.region:
            return fn
        if route.function_name is not None and fn.function_name == route.function_name:
            found.append(fn)
    # A name may exist in several accounts/regions: the endpoint's default ones win.
    found.sort(key=lambda fn: (fn.region != default_region, fn.account_id != DEFAULT_ACCOUNT_ID))
    return found[0] if found else None


def _answer(response: HttpResponse, request_id: str) -> JsonResponse:
    headers = [("x-amzn-RequestId", request_id), *response.headers]
    return JsonResponse(response.body, response.status, headers)


def serve(request: Request, route: Route, service: InvokeService, default_region: str) -> JsonResponse:
    """Serve a request ``match_route`` matched: run the function, answer as AWS does."""
    request_id = new_request_id()
    fn = find_url_function(route, default_region)
    if fn is None:
        return _answer(HttpResponse(404, body=NOT_FOUND), request_id)
    url_request = UrlRequest(
        method=request.method,
        raw_path=route.raw_path,
        raw_query=request.query_string.decode("latin-1"),
        headers=request_headers(request),
        body=request.get_data(),
        source_ip=request.remote_addr or "127.0.0.1",
        protocol=str(request.environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
    )
    cors = fn.url_config.config.get("Cors")
    if url_request.method == "OPTIONS":
        answer = preflight(cors, url_request.headers)
        if answer is not None:
            return _answer(answer, request_id)
    response = _invoke(service, fn, url_request, route, request_id)
    extra = cors_headers(cors, url_request.headers.get("origin"))
    return _answer(HttpResponse(response.status, response.headers + extra, response.body), request_id)


def _invoke(
    service: InvokeService, fn: MotoFunction, request: UrlRequest, route: Route, request_id: str
) -> HttpResponse:
    if len(request.body) > SYNC_PAYLOAD_LIMIT:
        return HttpResponse(413, body=b'{"message":"Request Entity Too Large"}')
    url_id = url_id_of(fn) or ""
    host = request.headers.get("host", "").split(":", 1)[0]
    domain = host if route.url_id else f"{url_id}.lambda-url.{fn.region}.on.aws"
    target = UrlTarget(url_id=url_id, account_id=str(fn.account_id), domain_name=domain)
    event = build_event(request, target, request_id, datetime.now(UTC))
    try:
        result = service.run(Target.of(fn), json.dumps(event).encode(), request_id=request_id)
    except ThrottledError:
        return HttpResponse(429, body=THROTTLED)
    except EndpointError as exc:
        logger.error("function URL of %s: %s", fn.function_name, exc)
        return HttpResponse(502, body=INTERNAL_ERROR)
    if result.function_error:
        return HttpResponse(502, body=INTERNAL_ERROR)
    return map_result(result.payload)

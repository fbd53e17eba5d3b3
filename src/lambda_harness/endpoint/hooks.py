"""The only place that changes moto's behaviour: patches installed on start, removed on stop.

* ``LambdaFunction.invoke`` (on the class: functions are built directly and versions
  are copies) -> our runtime. Every path that runs a function ends there: Invoke
  through moto's routes, Kinesis, DynamoDB streams, log subscriptions. (HTTP
  Invoke itself is served by ``front`` before moto sees it.)
* S3 notifications: complete records, asynchronous delivery (``sources.s3``).
* SNS lambda subscriptions: real record, asynchronous delivery (``sources.sns``).
* EventBridge ``Rule.send_to_targets``: Lambda targets (``eventbridge``).
* ``create_event_source_mapping``: SQS mappings are detached from moto's queue so
  ``send_message`` no longer runs the function inline; ``sources.sqs`` serves them.
* ``Queue.attributes``: ``RedrivePolicy`` as compact JSON, like AWS, so a second
  ``terraform plan`` shows no whitespace-only change to the queue.
* API Gateway (``apigw``): ``CreateRestApi`` keeps ``binaryMediaTypes`` and
  ``UpdateRestApi`` reads AWS's JSON-pointer paths for them (``/binaryMediaTypes/image~1png``);
  ``CreateAuthorizer`` keeps ``identityValidationExpression`` (moto drops it: a typo);
  OpenAPI imports (``PutRestApi``, ``ImportRestApi``, ``ReimportApi``) go to
  ``apigw.openapi``; ``CreateDeployment`` freezes the REST API's routes (``apigw.snapshots``).
  Each of these made a second ``terraform plan`` non-empty, crashed, or served the wrong routes.

moto's backends are process-wide, so one endpoint per process may install hooks.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.apigateway.models import APIGatewayBackend, RestAPI
from moto.apigateway.responses import APIGatewayResponse
from moto.apigatewayv2.models import Api as HttpApi
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core.exceptions import JsonRESTError
from moto.events.models import Rule
from moto.s3 import notifications
from moto.sns.models import Subscription
from moto.sqs.models import Queue, sqs_backends

from lambda_harness.endpoint.apigw import openapi
from lambda_harness.endpoint.apigw.catalog import rest_table
from lambda_harness.endpoint.apigw.snapshots import DeploymentSnapshots
from lambda_harness.endpoint.invoke import InvokeService, log_tail
from lambda_harness.endpoint.runtime.model import ThrottledError
from lambda_harness.endpoint.sources import s3 as s3_events
from lambda_harness.endpoint.sources import sns as sns_events
from lambda_harness.endpoint.sources.eventbridge import EventBridge
from lambda_harness.errors import EndpointError

_lock = threading.Lock()
_installed: list[tuple[Any, str, Any]] = []  # (owner, attribute, original raw value)


@dataclass(frozen=True)
class Targets:
    """What the patched moto code calls into."""

    service: InvokeService
    events: EventBridge
    snapshots: DeploymentSnapshots = field(default_factory=DeploymentSnapshots)


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            return str(value)
    return None


def make_function_invoke(service: InvokeService) -> Callable[..., bytes]:
    """Replacement for ``LambdaFunction.invoke(self, body, request_headers, response_headers)``."""

    def invoke(fn: Any, body: str | bytes | None, request_headers: Any, response_headers: Any) -> bytes:
        payload = (body.encode() if isinstance(body, str) else body) or b"{}"
        invocation_type = _header(request_headers, "x-amz-invocation-type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            service.submit(fn, payload, source="moto")
            return b""
        try:
            result = service.run(fn, payload)
        except ThrottledError as exc:
            error = JsonRESTError("TooManyRequestsException", str(exc))
            error.code = 429
            raise error from exc
        response_headers["x-amz-executed-version"] = str(fn.version)
        if result.function_error:
            response_headers["x-amz-function-error"] = "Unhandled"
        if _header(request_headers, "x-amz-log-type") == "Tail":
            response_headers["x-amz-log-result"] = base64.b64encode(log_tail(result.log)).decode()
        return result.payload

    return invoke


def _detach_sqs(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
        esm = original(backend, spec)
        if ":sqs:" in str(esm.event_source_arn):
            for queue in sqs_backends[backend.account_id][backend.region_name].queues.values():
                if queue.queue_arn == esm.event_source_arn:
                    queue.lambda_event_source_mappings.pop(esm.function_arn, None)
        return esm

    return create_event_source_mapping


def _compact_redrive(original: property) -> property:
    def attributes(queue: Any) -> dict[str, Any]:
        result: dict[str, Any] = original.fget(queue)  # type: ignore[misc]
        if isinstance(result.get("RedrivePolicy"), str):
            result["RedrivePolicy"] = json.dumps(json.loads(result["RedrivePolicy"]), separators=(",", ":"))
        return result

    return property(attributes)


def _unescape_pointer(text: str) -> str:
    return text.replace("~1", "/").replace("~0", "~")


def patch_binary_media_types(types: list[str], op: Mapping[str, Any]) -> list[str]:
    """One ``UpdateRestApi`` operation on ``/binaryMediaTypes[/<type>]``, as AWS applies it."""
    path = str(op.get("path", ""))
    item = (
        _unescape_pointer(path[len("/binaryMediaTypes/") :]) if path.startswith("/binaryMediaTypes/") else ""
    )
    value = op.get("value")
    out = [t for t in types if t]
    if op.get("op") == "add":
        new = item or str(value or "")
        if new and new not in out:
            out.append(new)
    elif op.get("op") == "remove":
        out = [t for t in out if t != item] if item else []
    elif op.get("op") == "replace":
        if item in out and value:
            out[out.index(item)] = str(value)
        elif value and str(value) not in out:
            out = [*out, str(value)] if item else [str(value)]
    return out


def _rest_patch(original: Callable[..., Any]) -> Callable[..., Any]:
    def apply_patch_operations(api: Any, patch_operations: list[dict[str, Any]]) -> None:
        others = []
        for op in patch_operations:
            if str(op.get("path", "")).startswith("/binaryMediaTypes"):
                api.binaryMediaTypes = patch_binary_media_types(list(api.binaryMediaTypes or []), op)
            else:
                others.append(op)
        if others:
            original(api, others)

    return apply_patch_operations


def _create_rest_api_response(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_rest_api(response: Any) -> Any:
        status, headers, body = original(response)
        types = response._get_param("binaryMediaTypes")
        if status == 200 and types:
            api = response.backend.get_rest_api(json.loads(body)["id"])
            if not api.binaryMediaTypes:
                api.binaryMediaTypes = [str(t) for t in types]
                body = json.dumps(api.to_dict())
        return status, headers, body

    return create_rest_api


def _create_authorizer(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_authorizer(api: Any, *args: Any, **kwargs: Any) -> Any:
        authorizer = original(api, *args, **kwargs)
        authorizer.identity_validation_expression = kwargs.get("identiy_validation_expression")
        return authorizer

    return create_authorizer


def _put_rest_api(
    backend: Any, function_id: str, api_doc: Any, fail_on_warnings: bool, mode: str = "merge"
) -> Any:
    return openapi.import_rest(backend, function_id, openapi.parse(api_doc), mode)


def _import_rest_api(backend: Any, api_doc: Any, fail_on_warnings: bool) -> Any:
    doc = openapi.parse(api_doc)
    openapi.check_version(doc)
    info = doc.get("info") or {}
    api = backend.create_rest_api(
        name=str(info.get("title") or ""), description=str(info.get("description") or "")
    )
    return openapi.import_rest(backend, api.id, doc, "overwrite")


def _import_http_api(api: Any, body_str: str, fail_on_warnings: bool) -> None:
    openapi.import_http(api, openapi.parse(body_str))


def _snapshot_deployment(original: Callable[..., Any], snapshots: DeploymentSnapshots) -> Callable[..., Any]:
    def create_deployment(api: Any, *args: Any, **kwargs: Any) -> Any:
        deployment = original(api, *args, **kwargs)
        snapshots.record(str(api.id), str(deployment.id), rest_table(api))
        return deployment

    return create_deployment


def install(targets: Targets) -> None:
    """Patch moto for this process; EndpointError if another endpoint already did."""
    esm = "create_event_source_mapping"
    with _lock:
        if _installed:
            raise EndpointError("an endpoint is already running in this process; stop it first")
        raw = {
            (LambdaFunction, "invoke"): vars(LambdaFunction)["invoke"],
            (notifications, "_get_s3_event"): vars(notifications)["_get_s3_event"],
            (notifications, "_invoke_awslambda"): vars(notifications)["_invoke_awslambda"],
            (Subscription, "publish"): vars(Subscription)["publish"],
            (Rule, "send_to_targets"): vars(Rule)["send_to_targets"],
            (LambdaBackend, esm): vars(LambdaBackend)[esm],
            (Queue, "attributes"): vars(Queue)["attributes"],
            (APIGatewayResponse, "create_rest_api"): vars(APIGatewayResponse)["create_rest_api"],
            (RestAPI, "apply_patch_operations"): vars(RestAPI)["apply_patch_operations"],
            (RestAPI, "create_authorizer"): vars(RestAPI)["create_authorizer"],
            (RestAPI, "create_deployment"): vars(RestAPI)["create_deployment"],
            (APIGatewayBackend, "put_rest_api"): vars(APIGatewayBackend)["put_rest_api"],
            (APIGatewayBackend, "import_rest_api"): vars(APIGatewayBackend)["import_rest_api"],
            (HttpApi, "import_api"): vars(HttpApi)["import_api"],
        }
        replacements = {
            (LambdaFunction, "invoke"): make_function_invoke(targets.service),
            (notifications, "_get_s3_event"): s3_events.make_get_s3_event(notifications._get_s3_event),
            (notifications, "_invoke_awslambda"): s3_events.make_invoke_awslambda(targets.service),
            (Subscription, "publish"): sns_events.make_publish(Subscription.publish, targets.service),
            (Rule, "send_to_targets"): targets.events.make_send_to_targets(Rule.send_to_targets),
            (LambdaBackend, esm): _detach_sqs(LambdaBackend.create_event_source_mapping),
            (Queue, "attributes"): _compact_redrive(raw[(Queue, "attributes")]),
            (APIGatewayResponse, "create_rest_api"): _create_rest_api_response(
                APIGatewayResponse.create_rest_api
            ),
            (RestAPI, "apply_patch_operations"): _rest_patch(RestAPI.apply_patch_operations),
            (RestAPI, "create_authorizer"): _create_authorizer(RestAPI.create_authorizer),
            (RestAPI, "create_deployment"): _snapshot_deployment(
                RestAPI.create_deployment, targets.snapshots
            ),
            (APIGatewayBackend, "put_rest_api"): _put_rest_api,
            (APIGatewayBackend, "import_rest_api"): _import_rest_api,
            (HttpApi, "import_api"): _import_http_api,
        }
        for (owner, name), value in replacements.items():
            _installed.append((owner, name, raw[(owner, name)]))
            setattr(owner, name, value)


def uninstall() -> None:
    """Put moto back as it was (idempotent)."""
    with _lock:
        while _installed:
            owner, name, original = _installed.pop()
            setattr(owner, name, original)


def installed() -> bool:
    """Whether an endpoint's hooks are active in this process."""
    return bool(_installed)

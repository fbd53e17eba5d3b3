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
* ``FakeBucket.get_permission`` -> neutral: moto applies a bucket policy's Deny to every
  object request, conditions ignored, so an enforce-TLS policy blocked even Terraform's
  upload of dists.zip. Bucket policies are evaluated by the IAM guard, for function
  sessions only, with their conditions (``endpoint.iam``).
* ``create_function``/``update_function_configuration``: the role must be assumable by
  Lambda, and an SQS mapping's role must be allowed to poll the queue (``iam.trust.TrustGate``),
  as AWS checks.

``use_aws_managed_policies`` (separately, before moto's backends are reset) lets
``aws_iam_role_policy_attachment`` attach AWS-managed policies such as
AWSLambdaBasicExecutionRole, which moto otherwise reports as not attachable.

moto's backends are process-wide, so one endpoint per process may install hooks.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core.config import default_user_config
from moto.core.exceptions import JsonRESTError
from moto.events.models import Rule
from moto.iam.access_control import PermissionResult
from moto.s3 import notifications
from moto.s3.models import FakeBucket
from moto.sns.models import Subscription
from moto.sqs.models import Queue, sqs_backends

from lambda_harness.endpoint.iam.trust import TrustGate
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
    trust: TrustGate | None = None  # None: no trust check (iam = off)


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


def _detach_sqs(original: Callable[..., Any], gate: TrustGate | None) -> Callable[..., Any]:
    def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
        if gate is not None and ":sqs:" in str(spec.get("EventSourceArn")):
            fn = backend.get_function(spec.get("FunctionName"))
            refused = gate.event_source_refusal(fn.function_name, str(fn.role), str(spec["EventSourceArn"]))
            if refused:
                raise InvalidParameterValueException(refused)
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


def use_aws_managed_policies(enabled: bool) -> bool:
    """Make moto's IAM backends hold AWS's managed policies (read when a backend is created or
    reset, so call this before ``reset``); returns the previous setting, to restore it.

    Costs ~0.1 s and ~19 MB per account's IAM backend; without it attaching
    ``arn:aws:iam::aws:policy/...`` fails with NoSuchEntity ("does not exist or is not attachable").
    """
    iam_config = default_user_config.setdefault("iam", {"load_aws_managed_policies": False})
    previous = bool(iam_config.get("load_aws_managed_policies", False))
    iam_config["load_aws_managed_policies"] = enabled
    return previous


def _neutral_bucket_permission(bucket: Any, action: str, resource: str) -> Any:
    return PermissionResult.NEUTRAL


def _checks_trust(gate: TrustGate, create: Callable[..., Any], update: Callable[..., Any]) -> tuple[Any, Any]:
    def create_function(backend: Any, spec: dict[str, Any]) -> Any:
        refused = gate.refusal(
            str(spec.get("FunctionName") or ""), str(spec.get("Role") or ""), backend.account_id
        )
        if refused:
            raise InvalidParameterValueException(refused)
        return create(backend, spec)

    def update_function_configuration(
        backend: Any, function_name: str, qualifier: str, body: dict[str, Any]
    ) -> Any:
        if body.get("Role"):
            refused = gate.refusal(function_name, str(body["Role"]), backend.account_id)
            if refused:
                raise InvalidParameterValueException(refused)
        return update(backend, function_name, qualifier, body)

    return create_function, update_function_configuration


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
            (FakeBucket, "get_permission"): vars(FakeBucket)["get_permission"],
        }
        replacements = {
            (LambdaFunction, "invoke"): make_function_invoke(targets.service),
            (notifications, "_get_s3_event"): s3_events.make_get_s3_event(notifications._get_s3_event),
            (notifications, "_invoke_awslambda"): s3_events.make_invoke_awslambda(targets.service),
            (Subscription, "publish"): sns_events.make_publish(Subscription.publish, targets.service),
            (Rule, "send_to_targets"): targets.events.make_send_to_targets(Rule.send_to_targets),
            (LambdaBackend, esm): _detach_sqs(LambdaBackend.create_event_source_mapping, targets.trust),
            (Queue, "attributes"): _compact_redrive(raw[(Queue, "attributes")]),
            (FakeBucket, "get_permission"): _neutral_bucket_permission,
        }
        if targets.trust is not None:
            create, update = "create_function", "update_function_configuration"
            raw[(LambdaBackend, create)] = vars(LambdaBackend)[create]
            raw[(LambdaBackend, update)] = vars(LambdaBackend)[update]
            checked = _checks_trust(
                targets.trust, LambdaBackend.create_function, LambdaBackend.update_function_configuration
            )
            replacements[(LambdaBackend, create)], replacements[(LambdaBackend, update)] = checked
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

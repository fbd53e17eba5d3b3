"""The only place that changes moto's behaviour: patches installed on start, removed on stop.

* ``LambdaFunction.invoke`` (on the class: functions are built directly and versions
  are copies) -> our runtime. Every path that runs a function ends there: Invoke
  through moto's routes, Kinesis, DynamoDB streams, log subscriptions. (HTTP
  Invoke itself is served by ``front`` before moto sees it.)
* S3 notifications: complete records, asynchronous delivery (``sources.s3``).
* SNS lambda subscriptions: real record, asynchronous delivery (``sources.sns``).
* EventBridge ``Rule.send_to_targets``: Lambda targets (``eventbridge``).
* ``create_event_source_mapping``: mappings are detached from moto's queues, tables and
  streams (moto kept one per function or per stream, ignored Enabled, deletion and
  filters); ``sources.sqs`` polls SQS, and ``StreamShard.add`` (DynamoDB) and Kinesis
  ``Stream.put_record`` hand each new record to ``sources.streams``, which invokes every
  enabled mapping whose ``FilterCriteria`` keep it. Create and update refuse a filter
  pattern AWS would refuse (``sources.filtering``).
  Create and update keep the alias or version the mapping names in its
  ``FunctionArn`` (moto swaps in the version's ARN), so the alias reaches the handler.
* The five event-invoke-config calls go to ``invokeconfig`` (one config per function and
  qualifier; moto appended and ignored ``Qualifier``); ``LambdaFunction`` keeps
  ``DeadLetterConfig`` (and ``EphemeralStorage`` updates) that moto dropped, and refuses
  reserved environment keys (``AWS_REGION``, ...) as CreateFunction and
  UpdateFunctionConfiguration do on AWS (moto took them).
* ``Queue.attributes``: ``RedrivePolicy`` as compact JSON, like AWS, so a second
  ``terraform plan`` shows no whitespace-only change to the queue.
* ``FakeBucket.get_permission`` -> neutral: moto applies a bucket policy's Deny to every
  object request, conditions ignored, so an enforce-TLS policy blocked even Terraform's
  upload of dists.zip. Bucket policies are evaluated by the IAM guard, for function
  sessions only, with their conditions (``endpoint.iam``).
* ``create_function``/``update_function_configuration``: the role must be assumable by
  Lambda, and an SQS mapping's role must be allowed to poll the queue (``iam.trust.TrustGate``),
  as AWS checks.
* API Gateway (``apigw``): ``CreateRestApi`` keeps ``binaryMediaTypes`` and
  ``UpdateRestApi`` reads AWS's JSON-pointer paths for them (``/binaryMediaTypes/image~1png``);
  ``CreateAuthorizer`` keeps ``identityValidationExpression`` (moto drops it: a typo);
  OpenAPI imports (``PutRestApi``, ``ImportRestApi``, ``ReimportApi``) go to
  ``apigw.openapi``; ``CreateDeployment`` freezes the REST API's routes (``apigw.snapshots``).
  Each of these made a second ``terraform plan`` non-empty, crashed, or served the wrong routes.
* ``LambdaFunction``: ``LoggingConfig``, ``SnapStart`` and ``ImageConfigResponse`` as AWS
  answers them (``functionconfig``); CloudWatch Logs ``CreateLogGroup`` keeps ``logGroupClass``
  and ``DescribeLogGroups`` answers it (``STANDARD`` by default). Stored and answered only:
  a second ``terraform plan`` showed a change no apply could settle.

moto's backends are process-wide, so one endpoint per process may install hooks.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from moto.apigateway.models import APIGatewayBackend, RestAPI
from moto.apigateway.responses import APIGatewayResponse
from moto.apigatewayv2.models import Api as HttpApi
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamShard
from moto.events.models import Rule
from moto.iam.access_control import PermissionResult
from moto.kinesis.models import Stream as KinesisStream
from moto.kinesis.models import kinesis_backends
from moto.logs.models import LogGroup
from moto.logs.responses import LogsResponse
from moto.s3 import notifications
from moto.s3.models import FakeBucket
from moto.sns.models import Subscription
from moto.sqs.models import Queue, sqs_backends

from lambda_harness.endpoint import functionconfig
from lambda_harness.endpoint.apigw import openapi
from lambda_harness.endpoint.apigw.catalog import rest_table
from lambda_harness.endpoint.apigw.snapshots import DeploymentSnapshots
from lambda_harness.endpoint.iam.trust import TrustGate
from lambda_harness.endpoint.invoke import InvokeService, log_tail
from lambda_harness.endpoint.invokeconfig import InvokeConfigs, dead_letter_target
from lambda_harness.endpoint.lookup import Target, function_arn, parse_ref
from lambda_harness.endpoint.runtime.env import reserved_keys_error
from lambda_harness.endpoint.runtime.model import ThrottledError
from lambda_harness.endpoint.sources import filtering
from lambda_harness.endpoint.sources import s3 as s3_events
from lambda_harness.endpoint.sources import sns as sns_events
from lambda_harness.endpoint.sources import streams as stream_sources
from lambda_harness.endpoint.sources.eventbridge import EventBridge
from lambda_harness.endpoint.sources.streams import StreamDelivery
from lambda_harness.errors import EndpointError

_lock = threading.Lock()
_installed: list[tuple[Any, str, Any]] = []  # (owner, attribute, original raw value)


@dataclass(frozen=True)
class Targets:
    """What the patched moto code calls into."""

    service: InvokeService
    events: EventBridge
    streams: StreamDelivery
    snapshots: DeploymentSnapshots = field(default_factory=DeploymentSnapshots)
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
            service.submit(Target.of(fn), payload, source="moto")
            return b""
        try:
            result = service.run(Target.of(fn), payload)
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


def _keep_qualifier(backend: Any, esm: Any, name_or_arn: str) -> None:
    """AWS keeps the alias (or version) a mapping names in its FunctionArn; moto swaps in the version's."""
    ref = parse_ref(name_or_arn)
    if ref.qualifier is not None:
        esm.function_arn = function_arn(
            ref.region or backend.region_name, ref.account_id or backend.account_id, ref.name, ref.qualifier
        )


def _source_dicts(account_id: str, region: str, source_arn: str) -> list[dict[str, Any]]:
    """moto's per-source mapping dicts (queue, table or stream) for an event source ARN."""
    if ":sqs:" in source_arn:
        queues = sqs_backends[account_id][region].queues.values()
        return [q.lambda_event_source_mappings for q in queues if q.queue_arn == source_arn]
    if ":dynamodb:" in source_arn and "/stream/" in source_arn:
        table = source_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
        tables = dynamodb_backends[account_id][region].tables
        return [tables[table].lambda_event_source_mappings] if table in tables else []
    if ":kinesis:" in source_arn:
        streams = kinesis_backends[account_id][region].streams.values()
        return [st.lambda_event_source_mappings for st in streams if st.arn == source_arn]
    return []


def _detach(original: Callable[..., Any], gate: TrustGate | None) -> Callable[..., Any]:
    """Mappings leave moto's queues, tables and streams: ``sources.sqs``/``sources.streams`` serve them.

    An SQS mapping whose role may not poll the queue is refused first, as AWS does (``gate``).
    """

    def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
        filtering.load(spec.get("FilterCriteria"))  # AWS refuses a pattern it cannot use, here
        if gate is not None and ":sqs:" in str(spec.get("EventSourceArn")):
            fn = backend.get_function(spec.get("FunctionName"))
            refused = gate.event_source_refusal(fn.function_name, str(fn.role), str(spec["EventSourceArn"]))
            if refused:
                raise InvalidParameterValueException(refused)
        esm = original(backend, spec)
        for mappings in _source_dicts(backend.account_id, backend.region_name, str(esm.event_source_arn)):
            for key in [k for k, v in mappings.items() if v is esm]:
                del mappings[key]
        _keep_qualifier(backend, esm, str(spec["FunctionName"]))
        return esm

    return create_event_source_mapping


def _stream_shard_add(streams: StreamDelivery, original: Callable[..., None]) -> Callable[..., None]:
    """``StreamShard.add`` (every DynamoDB write with a stream): the new record to the mappings."""

    def add(shard: Any, old: Any, new: Any) -> None:
        original(shard, old, new)  # appends the record; no mapping is left on the table to invoke
        table = shard.table
        arn = f"{table.table_arn}/stream/{table.latest_stream_label}"
        record = stream_sources.dynamodb_record(shard.items[-1], arn, table.region_name)
        streams.deliver(arn, record, dict)

    return add


def _kinesis_put_record(streams: StreamDelivery, original: Callable[..., tuple[str, str]]) -> Any:
    """Kinesis ``Stream.put_record`` (PutRecord and each of PutRecords): the record to the mappings."""

    def put_record(stream: Any, partition_key: str, explicit_hash_key: str, data: str) -> tuple[str, str]:
        sequence_number, shard_id = original(stream, partition_key, explicit_hash_key, data)
        record = stream_sources.kinesis_record(stream, shard_id, sequence_number, partition_key, data)
        streams.deliver(stream.arn, record, filtering.kinesis_candidate)
        return sequence_number, shard_id

    return put_record


def _mapping_update(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_event_source_mapping(backend: Any, uuid: str, spec: dict[str, Any]) -> Any:
        if "FilterCriteria" in spec:
            filtering.load(spec.get("FilterCriteria"))
        esm = original(backend, uuid, spec)
        if esm is not None and spec.get("FunctionName"):
            _keep_qualifier(backend, esm, str(spec["FunctionName"]))
        return esm

    return update_event_source_mapping


# -- asynchronous invocation config: qualifier-aware event invoke configs, DeadLetterConfig ----


def _configs_of(response: Any) -> tuple[InvokeConfigs, str, str | None]:
    """(the registry, function name, Qualifier) of an event-invoke-config request to moto."""
    parts = [unquote(p) for p in response.path.split("/")]
    name = parts[parts.index("functions") + 1]
    qualifier = response.querystring.get("Qualifier", [None])[0] or None
    return InvokeConfigs(response.current_account, response.region), name, qualifier


def _put_config(response: Any) -> str:
    configs, name, qualifier = _configs_of(response)
    return json.dumps(configs.put(name, qualifier, response.json_body))


def _update_config(response: Any) -> str:
    configs, name, qualifier = _configs_of(response)
    return json.dumps(configs.update(name, qualifier, response.json_body))


def _get_config(response: Any) -> str:
    configs, name, qualifier = _configs_of(response)
    return json.dumps(configs.get(name, qualifier))


def _delete_config(response: Any) -> tuple[int, dict[str, Any], str]:
    configs, name, qualifier = _configs_of(response)
    configs.delete(name, qualifier)
    return 204, {"status": 204}, ""


def _list_configs(response: Any) -> str:
    configs, name, _qualifier = _configs_of(response)
    return json.dumps(configs.list(name))


def _refuse_reserved_keys(environment: Mapping[str, Any] | None) -> None:
    """AWS refuses a reserved key (``AWS_REGION``, ...) in a function's variables; moto took it."""
    message = reserved_keys_error((environment or {}).get("Variables"))
    if message is not None:
        raise InvalidParameterValueException(message)


def _init_keeping_dlq(original: Callable[..., None]) -> Callable[..., None]:
    """``LambdaFunction.__init__``: keep ``DeadLetterConfig.TargetArn`` and the settings of
    ``functionconfig`` (moto drops them); refuse reserved environment keys (CreateFunction)."""

    def __init__(fn: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        _refuse_reserved_keys(spec.get("Environment"))
        original(fn, account_id, spec, *args, **kwargs)
        functionconfig.remember(fn, spec)
        fn.lh_dead_letter_target = (spec.get("DeadLetterConfig") or {}).get("TargetArn") or None

    return __init__


def _configuration_with_dlq(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """``get_configuration``: ``DeadLetterConfig`` (when the function has one), ``LoggingConfig``,
    ``SnapStart`` and ``ImageConfigResponse`` as AWS answers them."""

    def get_configuration(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(fn, *args, **kwargs)
        target = dead_letter_target(fn)
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        return functionconfig.answer(fn, config)

    return get_configuration


def _update_keeping_dlq(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """``update_configuration``: moto ignores DeadLetterConfig, EphemeralStorage and the
    ``functionconfig`` settings' updates and takes reserved environment keys."""

    def update_configuration(fn: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        _refuse_reserved_keys(config_updates.get("Environment"))
        functionconfig.update(fn, config_updates)
        if "DeadLetterConfig" in config_updates:
            fn.lh_dead_letter_target = (config_updates["DeadLetterConfig"] or {}).get("TargetArn") or None
        if "EphemeralStorage" in config_updates:
            fn.ephemeral_storage = int(config_updates["EphemeralStorage"]["Size"])
        return original(fn, config_updates)

    return update_configuration


def _compact_redrive(original: property) -> property:
    def attributes(queue: Any) -> dict[str, Any]:
        result: dict[str, Any] = original.fget(queue)  # type: ignore[misc]
        if isinstance(result.get("RedrivePolicy"), str):
            result["RedrivePolicy"] = json.dumps(json.loads(result["RedrivePolicy"]), separators=(",", ":"))
        return result

    return property(attributes)


#: What DescribeLogGroups answers for a group created without ``logGroupClass`` (AWS's default).
DEFAULT_LOG_GROUP_CLASS = "STANDARD"


def _create_log_group_with_class(original: Callable[..., str]) -> Callable[..., str]:
    """``LogsResponse.create_log_group``: keep ``logGroupClass`` (moto drops it)."""

    def create_log_group(response: Any) -> str:
        body = original(response)
        group_class = response._get_param("logGroupClass")
        if group_class:
            group = response.logs_backend.groups[response._get_param("logGroupName")]
            group.lh_log_group_class = str(group_class)
        return body

    return create_log_group


def _describe_with_class(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def to_describe_dict(group: Any) -> dict[str, Any]:
        out = original(group)
        out["logGroupClass"] = getattr(group, "lh_log_group_class", DEFAULT_LOG_GROUP_CLASS)
        return out

    return to_describe_dict


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


_CONFIG_ROUTES: dict[str, Callable[..., Any]] = {
    "put_function_event_invoke_config": _put_config,
    "update_function_event_invoke_config": _update_config,
    "get_function_event_invoke_config": _get_config,
    "delete_function_event_invoke_config": _delete_config,
    "list_function_event_invoke_configs": _list_configs,
}


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
    esm, esm_update = "create_event_source_mapping", "update_event_source_mapping"
    with _lock:
        if _installed:
            raise EndpointError("an endpoint is already running in this process; stop it first")
        raw: dict[tuple[Any, str], Any] = {
            (LambdaFunction, "invoke"): vars(LambdaFunction)["invoke"],
            (notifications, "_get_s3_event"): vars(notifications)["_get_s3_event"],
            (notifications, "_invoke_awslambda"): vars(notifications)["_invoke_awslambda"],
            (Subscription, "publish"): vars(Subscription)["publish"],
            (Rule, "send_to_targets"): vars(Rule)["send_to_targets"],
            (LambdaBackend, esm): vars(LambdaBackend)[esm],
            (LambdaBackend, esm_update): vars(LambdaBackend)[esm_update],
            (Queue, "attributes"): vars(Queue)["attributes"],
            (FakeBucket, "get_permission"): vars(FakeBucket)["get_permission"],
            (StreamShard, "add"): vars(StreamShard)["add"],
            (KinesisStream, "put_record"): vars(KinesisStream)["put_record"],
            **{(LambdaResponse, name): vars(LambdaResponse)[name] for name in _CONFIG_ROUTES},
            (LambdaFunction, "__init__"): vars(LambdaFunction)["__init__"],
            (LambdaFunction, "get_configuration"): vars(LambdaFunction)["get_configuration"],
            (LambdaFunction, "update_configuration"): vars(LambdaFunction)["update_configuration"],
            (APIGatewayResponse, "create_rest_api"): vars(APIGatewayResponse)["create_rest_api"],
            (RestAPI, "apply_patch_operations"): vars(RestAPI)["apply_patch_operations"],
            (RestAPI, "create_authorizer"): vars(RestAPI)["create_authorizer"],
            (RestAPI, "create_deployment"): vars(RestAPI)["create_deployment"],
            (APIGatewayBackend, "put_rest_api"): vars(APIGatewayBackend)["put_rest_api"],
            (APIGatewayBackend, "import_rest_api"): vars(APIGatewayBackend)["import_rest_api"],
            (HttpApi, "import_api"): vars(HttpApi)["import_api"],
            (LogsResponse, "create_log_group"): vars(LogsResponse)["create_log_group"],
            (LogGroup, "to_describe_dict"): vars(LogGroup)["to_describe_dict"],
        }
        replacements: dict[tuple[Any, str], Any] = {
            (LambdaFunction, "invoke"): make_function_invoke(targets.service),
            (notifications, "_get_s3_event"): s3_events.make_get_s3_event(notifications._get_s3_event),
            (notifications, "_invoke_awslambda"): s3_events.make_invoke_awslambda(targets.service),
            (Subscription, "publish"): sns_events.make_publish(Subscription.publish, targets.service),
            (Rule, "send_to_targets"): targets.events.make_send_to_targets(Rule.send_to_targets),
            (LambdaBackend, esm): _detach(LambdaBackend.create_event_source_mapping, targets.trust),
            (LambdaBackend, esm_update): _mapping_update(LambdaBackend.update_event_source_mapping),
            (Queue, "attributes"): _compact_redrive(raw[(Queue, "attributes")]),
            (StreamShard, "add"): _stream_shard_add(targets.streams, StreamShard.add),
            (KinesisStream, "put_record"): _kinesis_put_record(targets.streams, KinesisStream.put_record),
            **{(LambdaResponse, name): route for name, route in _CONFIG_ROUTES.items()},
            (LambdaFunction, "__init__"): _init_keeping_dlq(LambdaFunction.__init__),
            (LambdaFunction, "get_configuration"): _configuration_with_dlq(LambdaFunction.get_configuration),
            (LambdaFunction, "update_configuration"): _update_keeping_dlq(
                LambdaFunction.update_configuration
            ),
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
            (FakeBucket, "get_permission"): _neutral_bucket_permission,
            (LogsResponse, "create_log_group"): _create_log_group_with_class(LogsResponse.create_log_group),
            (LogGroup, "to_describe_dict"): _describe_with_class(LogGroup.to_describe_dict),
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

"""``lambda-harness generate-event SOURCE [--function NAME]``: an event of AWS's shape.

The shapes are ``lambda_harness.events`` (what the embedded endpoint's triggers
deliver). With ``--function``, the values come from the deployment: the region and
account of the function's ARN, and its trigger of that kind in the inventory (the
bucket and its prefix/suffix filter, the queue, topic, stream or table ARN, the rule
and its event pattern, the API's route, the function URL, the log group).
Without it, AWS's example values. The output is deterministic (fixed ids and time),
so a generated event case diffs cleanly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit

from lambda_harness import events
from lambda_harness.errors import ConfigError
from lambda_harness.terraform.inventory import DeployedFunction, Inventory, Trigger

EXAMPLE_TIME = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
EXAMPLE_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
EXAMPLE_BODY = '{"hello": "world"}'

#: SOURCE -> the inventory's trigger kind that delivers it.
SOURCES: dict[str, str] = {
    "s3-put": "s3",
    "s3-delete": "s3",
    "sqs": "sqs",
    "sns": "sns",
    "eventbridge-schedule": "schedule",
    "eventbridge-custom": "event",
    "dynamodb-stream": "dynamodb",
    "kinesis": "kinesis",
    "apigateway-v1": "api",
    "apigateway-v2": "api",
    "function-url": "url",
    "cloudwatch-logs": "logs",
}


@dataclass(frozen=True)
class Options:
    """What the user may set on top of the deployment's values."""

    key: str | None = None
    body: str | None = None
    path: str | None = None
    method: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Target:
    """Where the event comes from: region, account, and the function's trigger of that kind."""

    region: str = events.EXAMPLE_REGION
    account: str = events.EXAMPLE_ACCOUNT
    trigger: Trigger | None = None

    @property
    def source(self) -> str:
        return self.trigger.source if self.trigger is not None else ""

    def detail(self, key: str, default: Any = None) -> Any:
        return self.trigger.detail.get(key, default) if self.trigger is not None else default


def trigger_target(kind: str, source: str, **detail: Any) -> Target:
    """A target with example region and account and a trigger of ``kind`` (for ``new``)."""
    return Target(trigger=Trigger(kind, source, dict(detail)))


def target_for(inventory: Inventory, function: str, source: str) -> Target:
    """The deployed function's region, account and trigger for ``source`` (ConfigError if it has none)."""
    fn = inventory.get(function)
    parts = fn.arn.split(":")
    region = parts[3] if len(parts) > 4 and parts[3] else inventory.region
    account = parts[4] if len(parts) > 4 and parts[4] else events.EXAMPLE_ACCOUNT
    kind = SOURCES[source]
    trigger = _pick(fn, kind, source)
    if trigger is None and kind not in ("api",):
        have = ", ".join(f"{t.kind} {t.source}" for t in fn.triggers) or "none"
        raise ConfigError(
            f"function {function} has no {kind} trigger in the inventory (its triggers: {have}); "
            f"declared in {fn.tf_file or 'its .tf file'}. Generate an event of one of its triggers, "
            "or leave out --function for AWS's example values"
        )
    return Target(region=region, account=account, trigger=trigger)


def _pick(fn: DeployedFunction, kind: str, source: str) -> Trigger | None:
    candidates = [t for t in fn.triggers if t.kind == kind]
    if source == "apigateway-v1":
        candidates = [t for t in candidates if "v2" not in str(t.detail.get("resource", ""))] or candidates
    elif source == "apigateway-v2":
        candidates = [t for t in candidates if "v2" in str(t.detail.get("resource", ""))] or candidates
    return candidates[0] if candidates else None


def generate(source: str, target: Target | None = None, options: Options | None = None) -> dict[str, Any]:
    """The event for ``source`` (one of ``SOURCES``)."""
    if source not in SOURCES:
        raise ConfigError(f"unknown event source {source!r}; one of: {', '.join(SOURCES)}")
    return _BUILDERS[source](target or Target(), options or Options())


# --- builders -------------------------------------------------------------------------------------


def _s3(event_name: str) -> Callable[[Target, Options], dict[str, Any]]:
    def build(t: Target, o: Options) -> dict[str, Any]:
        bucket = t.source or "example-bucket"
        prefix, suffix = t.detail("filter_prefix", "") or "", t.detail("filter_suffix", "") or ""
        key = o.key or f"{prefix}example{suffix or '.json'}"
        body = (o.body or EXAMPLE_BODY).encode()
        return events.s3_event(
            event_name=event_name,
            bucket=bucket,
            key=quote_plus(key, safe="/"),
            region=t.region,
            account=t.account,
            moment=EXAMPLE_TIME,
            size=len(body),
            configuration_id=str(t.detail("id", "") or "lambda-harness"),
        )

    return build


def _sqs(t: Target, o: Options) -> dict[str, Any]:
    arn = t.source or f"arn:aws:sqs:{t.region}:{t.account}:example-queue"
    stamp = int(EXAMPLE_TIME.timestamp() * 1000)
    record = events.sqs_record(
        message_id="059f36b4-87a3-44ab-83d2-661975830a7d",
        receipt_handle="AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        body=o.body or EXAMPLE_BODY,
        attributes=events.sqs_attributes(t.account, stamp),
        message_attributes={},
        queue_arn=arn,
        region=arn.split(":")[3] if arn.count(":") >= 5 else t.region,
    )
    return {"Records": [record]}


def _sns(t: Target, o: Options) -> dict[str, Any]:
    topic = t.source or f"arn:aws:sns:{t.region}:{t.account}:example-topic"
    record = events.sns_record(
        subscription_arn=f"{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        topic_arn=topic,
        message_id="95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        message=o.body or EXAMPLE_BODY,
        subject=None,
        attributes={},
        timestamp=events.iso_millis(EXAMPLE_TIME),
    )
    return {"Records": [record]}


def _schedule(t: Target, o: Options) -> dict[str, Any]:
    rule = t.source or "example-schedule"
    arn = events.rule_arn(t.account, t.region, rule, str(t.detail("event_bus_name", "default")))
    return events.scheduled_event(
        event_id=EXAMPLE_ID, account=t.account, region=t.region, rule_arn=arn, moment=EXAMPLE_TIME
    )


def example_from_pattern(pattern: Any) -> Any:  # noqa: PLR0911 (one return per pattern form)
    """A value an EventBridge pattern matches: the first listed value, a prefix + 'example', ..."""
    if isinstance(pattern, dict):
        return {key: example_from_pattern(value) for key, value in pattern.items()}
    if isinstance(pattern, list) and pattern:
        first = pattern[0]
        if not isinstance(first, dict):
            return first
        if "prefix" in first:
            return f"{first['prefix']}example"
        if "suffix" in first:
            return f"example{first['suffix']}"
        if "numeric" in first:
            ops = first["numeric"]
            return (ops[1] + 1) if len(ops) > 1 and isinstance(ops[1], (int, float)) else 1
        if "exists" in first:
            return "example"
        return "example"
    return pattern


def _custom(t: Target, o: Options) -> dict[str, Any]:
    pattern = t.detail("event_pattern", {}) or {}
    if not isinstance(pattern, dict):
        pattern = {}
    source = example_from_pattern(pattern.get("source", ["com.example.app"]))
    detail_type = example_from_pattern(pattern.get("detail-type", ["Example Event"]))
    detail = example_from_pattern(pattern.get("detail", {}))
    if o.detail is not None:
        try:
            detail = json.loads(o.detail)
        except ValueError as exc:
            raise ConfigError(f"--detail is not JSON ({exc}); pass an object, e.g. '{{\"id\": 1}}'") from exc
    return events.eventbridge_event(
        event_id=EXAMPLE_ID,
        source=str(source),
        detail_type=str(detail_type),
        detail=detail,
        account=t.account,
        region=t.region,
        moment=EXAMPLE_TIME,
        resources=[],
    )


def dynamodb_json(value: Any) -> dict[str, Any]:
    """A plain JSON value as a DynamoDB attribute value (``{"S": ...}``, ``{"N": ...}``, ...)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, list):
        return {"L": [dynamodb_json(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: dynamodb_json(v) for k, v in value.items()}}
    return {"S": str(value)}


def _dynamodb(t: Target, o: Options) -> dict[str, Any]:
    arn = t.source or f"arn:aws:dynamodb:{t.region}:{t.account}:table/example/stream/2026-01-01T00:00:00.000"
    item = json.loads(o.body) if o.body else {"id": "1", "message": "hello"}
    if not isinstance(item, dict) or not item:
        raise ConfigError("--body for dynamodb-stream must be a JSON object: the new item")
    keys = {k: dynamodb_json(item[k]) for k in (t.detail("keys") or list(item)[:1])}
    record = events.dynamodb_record(
        event_name="INSERT",
        keys=keys,
        new_image={k: dynamodb_json(v) for k, v in item.items()},
        old_image=None,
        stream_arn=arn,
        region=t.region,
        sequence="111",
        moment=EXAMPLE_TIME,
    )
    return {"Records": [record]}


def _kinesis(t: Target, o: Options) -> dict[str, Any]:
    arn = t.source or f"arn:aws:kinesis:{t.region}:{t.account}:stream/example-stream"
    record = events.kinesis_record(
        data=(o.body or EXAMPLE_BODY).encode(),
        partition_key="partition-1",
        stream_arn=arn,
        region=t.region,
        account=t.account,
        sequence="49590338271490256608559692538361571095921575989136588898",
        moment=EXAMPLE_TIME,
    )
    return {"Records": [record]}


def _request(o: Options, method: str, path: str) -> events.HttpRequest:
    body = (o.body or "").encode()
    headers = {"host": "example.com", "user-agent": "lambda-harness", "accept": "*/*"}
    if body:
        headers["content-type"] = "application/json"
    raw_path, _, raw_query = (o.path or path).partition("?")
    return events.HttpRequest(
        method=(o.method or method).upper(),
        raw_path=raw_path,
        raw_query=raw_query,
        headers=headers,
        body=body,
    )


def _path_parameters(template: str, raw_path: str) -> dict[str, str] | None:
    """``/alerts/{region}`` against ``/alerts/eu`` -> ``{"region": "eu"}``."""
    values = raw_path.split("/")
    params = {
        part[1:-1].rstrip("+"): values[i] if i < len(values) else "example"
        for i, part in enumerate(template.split("/"))
        if part.startswith("{")
    }
    return params or None


def _concrete(template: str) -> str:
    return "/".join("example" if part.startswith("{") else part for part in template.split("/")) or "/"


def _api_v1(t: Target, o: Options) -> dict[str, Any]:
    resource = str(t.detail("path") or "/{proxy+}")
    method = str(t.detail("http_method") or "GET")
    request = _request(o, "GET" if method == "ANY" else method, _concrete(resource))
    api_id = t.source if t.trigger is not None and ":" not in t.source else "1234567890"
    return events.rest_v1_event(
        request,
        api_id=api_id,
        account=t.account,
        resource=resource,
        stage="prod",
        request_id=EXAMPLE_ID,
        moment=EXAMPLE_TIME,
        path_parameters=_path_parameters(resource, request.raw_path),
    )


def _api_v2(t: Target, o: Options) -> dict[str, Any]:
    route_key = str(t.detail("route_key") or "$default")
    method, _, template = route_key.partition(" ") if " " in route_key else ("GET", "", "/")
    request = _request(o, "GET" if method == "ANY" else method, _concrete(template or "/"))
    api_id = t.source if t.trigger is not None and ":" not in t.source else "api-id"
    return events.http_v2_event(
        request,
        api_id=api_id,
        account=t.account,
        domain_name=f"{api_id}.execute-api.{t.region}.amazonaws.com",
        request_id=EXAMPLE_ID,
        moment=EXAMPLE_TIME,
        route_key=route_key,
        path_parameters=_path_parameters(template, request.raw_path) if template else None,
    )


def _function_url(t: Target, o: Options) -> dict[str, Any]:
    host = urlsplit(t.source).hostname if t.source else None
    domain = host or f"abcdefghijklmnopqrstuvwxyz012345.lambda-url.{t.region}.on.aws"
    request = _request(o, "GET", "/")
    return events.http_v2_event(
        request,
        api_id=domain.split(".", 1)[0],
        account=t.account,
        domain_name=domain,
        request_id=EXAMPLE_ID,
        moment=EXAMPLE_TIME,
    )


def _logs(t: Target, o: Options) -> dict[str, Any]:
    group = t.source or "/aws/lambda/example"
    messages = [o.body] if o.body else ["ERROR something failed", "INFO request handled"]
    data = events.cloudwatch_logs_data(
        owner=t.account,
        log_group=group,
        log_stream="2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        filters=[str(t.detail("filter_name", "") or "example-filter")],
        messages=messages,
        moment=EXAMPLE_TIME,
    )
    return events.cloudwatch_logs_event(data)


_BUILDERS: Mapping[str, Callable[[Target, Options], dict[str, Any]]] = {
    "s3-put": _s3("ObjectCreated:Put"),
    "s3-delete": _s3("ObjectRemoved:Delete"),
    "sqs": _sqs,
    "sns": _sns,
    "eventbridge-schedule": _schedule,
    "eventbridge-custom": _custom,
    "dynamodb-stream": _dynamodb,
    "kinesis": _kinesis,
    "apigateway-v1": _api_v1,
    "apigateway-v2": _api_v2,
    "function-url": _function_url,
    "cloudwatch-logs": _logs,
}

"""generate-event against real deliveries: what a trigger delivers through the embedded endpoint
has the same structure (every key, recursively) as the event ``generate-event`` writes for it."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.testing.generate import Options, generate, trigger_target

Records = Callable[..., list[dict[str, Any]]]


def shape(value: Any) -> Any:
    """The keys of every object, recursively; lists by their first element; scalars by type family."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "text" if isinstance(value, str) else "value"


def _arn(aws: Callable[[str], Any], fn: str) -> str:
    return str(aws("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"])


def test_s3_put_shape_matches_a_real_upload(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    bucket = f"parity-{uuid.uuid4().hex[:8]}"
    aws("s3").create_bucket(Bucket=bucket)
    aws("s3").put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": _arn(aws, fn), "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    aws("s3").put_object(Bucket=bucket, Key="in/a.json", Body=b"{}")
    real = wait_records(1)[0]["event"]
    generated = generate("s3-put", trigger_target("s3", bucket))
    assert shape(generated) == shape(real)


def test_sqs_shape_matches_a_real_batch(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    url = aws("sqs").create_queue(QueueName=f"parity-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=1)
    aws("sqs").send_message(QueueUrl=url, MessageBody='{"hello": "world"}')
    real = wait_records(1)[0]["event"]
    assert shape(generate("sqs", trigger_target("sqs", arn))) == shape(real)


def test_sns_shape_matches_a_real_publish(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    topic = aws("sns").create_topic(Name=f"parity-{uuid.uuid4().hex[:8]}")["TopicArn"]
    aws("sns").subscribe(TopicArn=topic, Protocol="lambda", Endpoint=_arn(aws, fn))
    aws("sns").publish(TopicArn=topic, Message="hello")
    real = wait_records(1)[0]["event"]
    generated = generate("sns", trigger_target("sns", topic), Options(body="hello"))
    # SNS sends "Subject": null without a subject, like the generated event.
    assert shape(generated) == shape(real)


def test_schedule_and_custom_events_match_real_rules(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    wait_records: Records,
    endpoint: EmbeddedEndpoint,
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    events = aws("events")
    rule = f"parity-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, ScheduleExpression="rate(1 day)")
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": _arn(aws, fn)}])
    request = urllib.request.Request(f"{endpoint.url}/_harness/trigger/{rule}", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    real = wait_records(1)[0]["event"]
    generated = generate("eventbridge-schedule", trigger_target("schedule", rule))
    assert shape(generated) == shape(real) and generated["resources"][0].endswith(f"rule/{rule}")
    custom_rule = f"custom-{uuid.uuid4().hex[:8]}"
    pattern = {"source": ["shop.orders"], "detail-type": ["Created"]}
    events.put_rule(Name=custom_rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=custom_rule, Targets=[{"Id": "fn", "Arn": _arn(aws, fn)}])
    generated = generate("eventbridge-custom", trigger_target("event", custom_rule, event_pattern=pattern))
    events.put_events(
        Entries=[{"Source": generated["source"], "DetailType": generated["detail-type"], "Detail": "{}"}]
    )
    delivered = [r["event"] for r in wait_records(2)]
    real_custom = next(e for e in delivered if e.get("source") == "shop.orders")
    assert shape(generated) == shape(real_custom)

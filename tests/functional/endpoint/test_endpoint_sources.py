"""Event sources: S3 notifications, SQS mappings, SNS, EventBridge rules and schedules."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambda_harness import net
from lambda_harness.endpoint import control
from lambda_harness.endpoint.server import EmbeddedEndpoint
from support.endpoint import read_records

Records = Callable[..., list[dict[str, Any]]]


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def test_s3_upload_delivers_aws_shaped_record(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    fn_arn = aws("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    bucket = f"incoming-{_uid()}"
    s3 = aws("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    s3.put_object(Bucket=bucket, Key="in/report 1.csv", Body=b"a,b\n")
    record = wait_records(1)[0]["event"]["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z")
    assert record["userIdentity"]["principalId"].startswith("AWS:")
    assert record["requestParameters"]["sourceIPAddress"]
    assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert record["s3"]["bucket"]["ownerIdentity"]["principalId"]
    assert record["s3"]["object"]["key"] == "in/report+1.csv"
    assert record["s3"]["object"]["size"] == 4
    assert record["s3"]["object"]["sequencer"]


def _queue(aws: Callable[[str], Any], visibility: int = 30, **attributes: str) -> tuple[str, str]:
    sqs = aws("sqs")
    url = sqs.create_queue(
        QueueName=f"q-{_uid()}", Attributes={"VisibilityTimeout": str(visibility), **attributes}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _depth(aws: Callable[[str], Any], url: str) -> int:
    attrs = aws("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return sum(int(v) for v in attrs["Attributes"].values())


def _wait_empty(aws: Callable[[str], Any], url: str, timeout: float = 20) -> None:
    """Until every message was handled: the poller deletes a message only once it is done with it."""
    net.wait_until(lambda: _depth(aws, url) == 0, timeout, what=f"{url} to be empty")


def test_sqs_mapping_respects_batch_size_and_deletes(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    url, arn = _queue(aws)
    for i in range(5):  # queued before the mapping exists: AWS's poller still picks them up
        aws("sqs").send_message(
            QueueUrl=url,
            MessageBody=f"m{i}",
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
        )
    aws("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=2)
    _wait_empty(aws, url)
    batches = [r["event"]["Records"] for r in wait_records(3)]
    assert all(1 <= len(b) <= 2 for b in batches)
    bodies = sorted(rec["body"] for b in batches for rec in b)
    assert bodies == [f"m{i}" for i in range(5)]
    rec = batches[0][0]
    assert rec["eventSource"] == "aws:sqs"
    assert rec["eventSourceARN"] == arn
    assert rec["awsRegion"] == "us-east-1"
    assert rec["attributes"]["ApproximateReceiveCount"] == "1"
    assert int(rec["attributes"]["SentTimestamp"]) > 1_600_000_000_000
    assert rec["messageAttributes"]["kind"]["stringValue"] == "test"
    assert rec["messageAttributes"]["kind"]["dataType"] == "String"
    assert len(rec["md5OfBody"]) == 32 and rec["receiptHandle"] and rec["messageId"]


def test_sqs_partial_batch_failure_redelivers_only_failed(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("partial", env={"OUT_DIR": str(out_dir)})
    # The visibility timeout must outlast the first batch (1 s window + a cold start, seconds on a
    # loaded machine), else the whole batch comes back before it is deleted and bad-1 is seen 3 times.
    url, arn = _queue(aws, visibility=6)
    for body in ("good-1", "bad-1", "good-2"):
        aws("sqs").send_message(QueueUrl=url, MessageBody=body)
    aws("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=fn,
        BatchSize=10,
        MaximumBatchingWindowInSeconds=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    _wait_empty(aws, url)
    seen = [
        (rec["body"], rec["attributes"]["ApproximateReceiveCount"])
        for r in wait_records(2)
        for rec in r["event"]["Records"]
    ]
    assert sorted(seen) == [("bad-1", "1"), ("bad-1", "2"), ("good-1", "1"), ("good-2", "1")]


def test_sqs_failures_go_to_dead_letter_queue(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("fail", env={"OUT_DIR": str(out_dir)})
    dlq_url, dlq_arn = _queue(aws)
    url, arn = _queue(
        aws, visibility=1, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    )
    aws("sqs").send_message(QueueUrl=url, MessageBody="poison")
    aws("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=1)
    wait_records(2)
    moved: list[dict[str, Any]] = []

    def dead_lettered() -> bool:
        moved.extend(aws("sqs").receive_message(QueueUrl=dlq_url, WaitTimeSeconds=0).get("Messages", []))
        return bool(moved)

    net.wait_until(dead_lettered, 20, what="the message in the dead-letter queue", interval=0.2)
    assert [m["Body"] for m in moved] == ["poison"]
    _wait_empty(aws, url)  # moved, so the poller is done with it: no third delivery can come
    assert len(wait_records(2)) == 2


def test_sns_publish_delivers_real_record(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    fn_arn = aws("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    sns = aws("sns")
    topic = sns.create_topic(Name=f"t-{_uid()}")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn)["SubscriptionArn"]
    message_id = sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="greeting",
        MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"}},
    )["MessageId"]
    record = wait_records(1)[0]["event"]["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == sub
    assert record["Sns"]["TopicArn"] == topic
    assert record["Sns"]["MessageId"] == message_id
    assert record["Sns"]["Message"] == "hello"
    assert record["Sns"]["Subject"] == "greeting"
    assert record["Sns"]["Timestamp"].endswith("Z") and not record["Sns"]["Timestamp"].startswith("1970")
    assert record["Sns"]["MessageAttributes"] == {"color": {"Type": "String", "Value": "blue"}}


def test_eventbridge_pattern_rule_delivers_on_put_events(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    wait_records: Records,
    endpoint: EmbeddedEndpoint,
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    fn_arn = aws("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    events = aws("events")
    rule = f"orders-{_uid()}"
    pattern = {"source": ["shop.orders"], "detail-type": ["Created"]}
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn_arn}])
    events.put_events(
        Entries=[
            {"Source": "other", "DetailType": "Created", "Detail": "{}"},
            {"Source": "shop.orders", "DetailType": "Created", "Detail": json.dumps({"id": 7})},
        ]
    )
    wait_records(1)
    # put_events matched both entries against the rule before it answered (deliveries are
    # queued as async invocations there): once the queue is idle, every delivery ran.
    assert endpoint.service is not None and endpoint.service.wait_idle(30)
    records = read_records(out_dir)
    assert len(records) == 1
    event = records[0]["event"]
    assert event["source"] == "shop.orders"
    assert event["detail"] == {"id": 7}
    assert event["time"].endswith("Z")
    assert "ingestion-time" not in event


def test_schedule_rule_fires_on_demand_with_scheduled_event(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    wait_records: Records,
    endpoint: EmbeddedEndpoint,
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    fn_arn = aws("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    events = aws("events")
    rule = f"nightly-{_uid()}"
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="cron(0 3 * * ? *)")["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn_arn}])
    request = urllib.request.Request(f"{endpoint.url}/_harness/trigger/{rule}", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert json.loads(resp.read()) == {"rule": rule, "delivered": [fn]}
    event = wait_records(1)[0]["event"]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [rule_arn]
    assert event["detail"] == {}
    assert event["account"] == "123456789012" and event["region"] == "us-east-1"


def test_control_trigger_honours_target_input(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    wait_records: Records,
    endpoint: EmbeddedEndpoint,
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    fn_arn = aws("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    rule = f"hourly-{_uid()}"
    aws("events").put_rule(Name=rule, ScheduleExpression="rate(1 hour)")
    aws("events").put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn_arn, "Input": '{"job": "reindex"}'}])
    settings = endpoint.settings.with_(port=endpoint.port)
    assert control.trigger(settings, rule) == [fn]
    assert wait_records(1)[0]["event"] == {"job": "reindex"}


def test_schedule_rule_fires_on_its_own(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    wait_records: Records,
    endpoint: EmbeddedEndpoint,
) -> None:
    assert endpoint.events is not None and endpoint.scheduler is not None
    scheduler = endpoint.scheduler
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    fn_arn = aws("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    rule = f"tick-{_uid()}"
    aws("events").put_rule(Name=rule, ScheduleExpression="rate(1 minute)")
    aws("events").put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn_arn}])
    # The pass under way may have listed the rules before this one existed; the one after it
    # has seen it (a rate runs from first sight). Then move the clock a minute ahead.
    after = scheduler.ticks + 2
    net.wait_until(lambda: scheduler.ticks >= after, 10, what="two scheduler passes", interval=0.02)
    real_clock = endpoint.events.clock
    endpoint.events.clock = lambda: real_clock() + 61
    try:
        event = wait_records(1, timeout=10)[0]["event"]
    finally:
        endpoint.events.clock = real_clock
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"][0].endswith(f":rule/{rule}")


def test_sqs_filter_criteria_drops_unmatched_messages(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    url, arn = _queue(aws)
    for kind in ("refund", "order"):
        aws("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"kind": kind}))
    aws("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=fn,
        BatchSize=10,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]},
    )
    _wait_empty(aws, url)  # both handled: the refund deleted unseen, the order after its invocation
    bodies = [rec["body"] for r in read_records(out_dir) for rec in r["event"]["Records"]]
    assert bodies == ['{"kind": "order"}']


def test_sqs_json_filter_drops_a_plain_string_message_even_with_exists_false(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path
) -> None:
    """AWS: a JSON pattern on ``body`` drops a message whose body is not JSON, before any rule."""
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    url, arn = _queue(aws)
    for body in ("plain text", json.dumps({"other": 1}), json.dumps({"kind": "x"})):
        aws("sqs").send_message(QueueUrl=url, MessageBody=body)
    pattern = {"body": {"kind": [{"exists": False}]}}
    aws("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=fn,
        BatchSize=10,
        FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]},
    )
    _wait_empty(aws, url)  # all three handled: two deleted unseen
    bodies = [rec["body"] for r in read_records(out_dir) for rec in r["event"]["Records"]]
    assert bodies == ['{"other": 1}']


def test_s3_put_object_does_not_wait_for_the_handler(
    aws: Callable[[str], Any],
    deploy: Callable[..., str],
    out_dir: Path,
    wait_records: Records,
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    fn = deploy("gated_sink", env={"OUT_DIR": str(out_dir), "GATE": str(gate)})
    fn_arn = aws("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    bucket = f"async-{_uid()}"
    aws("s3").create_bucket(Bucket=bucket)
    aws("s3").put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    # The handler waits for the gate before it records: had S3 waited for it, put_object would
    # return only after the handler gave up on the gate, with its record written.
    aws("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    assert read_records(out_dir) == []
    gate.touch()
    assert wait_records(1)[0]["event"]["Records"][0]["s3"]["object"]["key"] == "k"


def test_eventbridge_mixed_targets_still_deliver(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path, wait_records: Records
) -> None:
    fn = deploy("sink", env={"OUT_DIR": str(out_dir)})
    fn_arn = aws("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    url, queue_arn = _queue(aws)
    topic = aws("sns").create_topic(Name=f"t-{_uid()}")["TopicArn"]
    rule = f"mixed-{_uid()}"
    aws("events").put_rule(Name=rule, EventPattern=json.dumps({"source": ["mixed"]}))
    aws("events").put_targets(
        Rule=rule,
        Targets=[{"Id": "q", "Arn": queue_arn}, {"Id": "t", "Arn": topic}, {"Id": "fn", "Arn": fn_arn}],
    )
    resp = aws("events").put_events(Entries=[{"Source": "mixed", "DetailType": "X", "Detail": "{}"}])
    assert resp["FailedEntryCount"] == 0
    assert wait_records(1)[0]["event"]["source"] == "mixed"
    messages = aws("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"])["source"] for m in messages] == ["mixed"]

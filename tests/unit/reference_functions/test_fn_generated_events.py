"""Every event ``generate-event`` writes for a trigger is accepted by the reference handler that
trigger invokes: S3 -> risk_ingest, SQS -> alert_enricher, schedule -> process_checker and
export_api_log, API Gateway v1/v2 and the function URL -> alerts_api."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alert_enricher.app import enrich_batch
from alerts_api.app import Request, route
from export_api_log.app import export_day
from risk_ingest.app import s3_objects
from worker_lib import timeutil

from lambda_harness.testing.generate import Options, generate, trigger_target
from support.fn_fakes import FakeTable, dec

ALERT = {"alert_id": "a1", "region": "de-by", "category": "Flood", "severity": "High", "title": "Danube"}


def test_s3_put_and_delete_name_the_object_risk_ingest_reads() -> None:
    target = trigger_target("s3", "incoming-bucket", filter_prefix="incoming/", filter_suffix=".csv")
    for source in ("s3-put", "s3-delete"):
        assert s3_objects(generate(source, target)) == [("incoming-bucket", "incoming/example.csv")]
    spaced = generate("s3-put", target, Options(key="incoming/a b.csv"))
    assert spaced["Records"][0]["s3"]["object"]["key"] == "incoming/a+b.csv"  # URL-encoded, as S3 sends it
    assert s3_objects(spaced) == [("incoming-bucket", "incoming/a b.csv")]


def test_sqs_records_are_enriched_by_alert_enricher() -> None:
    table = FakeTable("region", "alert_id")
    event = generate("sqs", options=Options(body=json.dumps(ALERT)))
    assert enrich_batch(event, table=table, now=datetime(2026, 1, 1, tzinfo=UTC)) == {"batchItemFailures": []}
    assert ("DE-BY", "a1") in table.items


def test_the_schedule_time_is_what_the_scheduled_handlers_read() -> None:
    event = generate("eventbridge-schedule", trigger_target("schedule", "process-checker-every-5-min"))
    assert timeutil.event_time(event) == datetime(2026, 1, 1, tzinfo=UTC)
    assert str(export_day(event)) == "2025-12-31"  # the export covers the day before the run
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/process-checker-every-5-min"]


def test_every_http_shape_is_routed_by_alerts_api() -> None:
    table = FakeTable("region", "alert_id")
    table.add({"region": "DE", "alert_id": "a1", "severity_score": dec(74), "title": "Flood"})
    options = Options(path="/alerts?region=de")
    for source in ("apigateway-v1", "apigateway-v2", "function-url"):
        response = route(Request.from_event(generate(source, options=options)), table=table, max_page=200)
        assert response["statusCode"] == 200, (source, response)
        assert json.loads(response["body"])["count"] == 1

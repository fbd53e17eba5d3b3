"""risk_ingest: parsing JSON/CSV batches, validating rows, reporting problems without crashing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from risk_ingest.app import ingest, s3_objects, validate
from worker_lib.errors import InvalidInput

from support.fn_fakes import FakeS3, FakeTable

NOW = datetime(2026, 11, 28, 9, 41, tzinfo=UTC)
BUCKET = "incoming-bucket"
GOOD = {
    "incident_id": "inc-1",
    "region": "de",
    "category": "Flood",
    "severity": 4,
    "occurred_at": "2026-11-28T06:00:00Z",
    "summary": "Levee breach",
}


def s3_event(*keys: str) -> dict[str, Any]:
    return {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}} for key in keys]}


def run(s3: FakeS3, table: FakeTable, *keys: str) -> dict[str, Any]:
    return ingest(s3_event(*keys), s3=s3, table=table, now=NOW)


def test_json_batch_is_validated_and_stored() -> None:
    s3, table = FakeS3(BUCKET), FakeTable("incident_id")
    s3.objects[BUCKET]["incoming/a.json"] = json.dumps(
        {"incidents": [GOOD, {**GOOD, "incident_id": "inc-2"}]}
    ).encode()
    result = run(s3, table, "incoming/a.json")
    assert result == {
        "ingested": 2,
        "files": [{"key": "incoming/a.json", "rows": 2, "ingested": 2}],
        "errors": [],
    }
    stored = table.items[("inc-1",)]
    assert stored["region"] == "DE"
    assert stored["category"] == "flood"
    assert stored["source"] == f"s3://{BUCKET}/incoming/a.json"
    assert stored["ingested_at"] == "2026-11-28T09:41:00Z"


def test_csv_batch_reports_bad_rows_and_keeps_good_ones() -> None:
    s3, table = FakeS3(BUCKET), FakeTable("incident_id")
    s3.objects[BUCKET]["incoming/b.csv"] = (
        "\ufeffincident_id,region,category,severity,occurred_at,summary\n"
        "inc-10,FR,storm,3,2026-11-27T22:00:00Z,Gale\n"
        "inc-11,FR,storm,9,2026-11-27T22:00:00Z,Too severe\n"
        "inc-12,FR,meteor,2,2026-11-27T22:00:00Z,Unknown category\n"
        "inc-13,,storm,2,2026-11-27T22:00:00Z,No region\n"
    ).encode()
    result = run(s3, table, "incoming/b.csv")
    assert result["ingested"] == 1
    assert [(err["row"], err["error"]) for err in result["errors"]] == [
        (2, "severity must be 1..5, got 9"),
        (3, "unknown category 'meteor'"),
        (4, "missing field(s): region"),
    ]
    assert list(table.items) == [("inc-10",)]


def test_duplicate_ids_in_one_file_keep_the_last_row() -> None:
    s3, table = FakeS3(BUCKET), FakeTable("incident_id")
    rows = [GOOD, {**GOOD, "severity": 5}]
    s3.objects[BUCKET]["incoming/dup.json"] = json.dumps(rows).encode()
    run(s3, table, "incoming/dup.json")
    assert table.writers[0].overwrite_by_pkeys == ["incident_id"]
    assert table.items[("inc-1",)]["severity"] == 5


def test_missing_object_and_unsupported_type_are_reported_not_raised() -> None:
    s3, table = FakeS3(BUCKET), FakeTable("incident_id")
    result = run(s3, table, "incoming/gone.json", "incoming/readme.txt")
    assert result["ingested"] == 0
    assert result["errors"] == [
        {
            "key": "incoming/gone.json",
            "error": f"object not found: s3://{BUCKET}/incoming/gone.json (NoSuchKey)",
        },
        {"key": "incoming/readme.txt", "error": "unsupported file type (expected .json or .csv)"},
    ]
    assert s3.gets == [(BUCKET, "incoming/gone.json")]  # the .txt file is never downloaded


def test_broken_json_is_reported() -> None:
    s3, table = FakeS3(BUCKET), FakeTable("incident_id")
    s3.objects[BUCKET]["incoming/broken.json"] = b'[{"incident_id": '
    result = run(s3, table, "incoming/broken.json")
    assert result["errors"][0]["error"].startswith("not valid JSON")


def test_keys_are_url_decoded() -> None:
    assert s3_objects(s3_event("incoming/partner+a/batch%231.json")) == [
        (BUCKET, "incoming/partner a/batch#1.json")
    ]


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": [{"s3": {}}]}])
def test_non_s3_events_are_invalid_input(event: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        s3_objects(event)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "high"}, "severity must be an integer"),
        ({"occurred_at": "last tuesday"}, "occurred_at is not an ISO 8601 time"),
        ({"region": 49}, "region must be a region code"),
    ],
)
def test_validate_rejects_bad_fields(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate({**GOOD, **change}, source="s3://b/k", now=NOW)

"""worker_lib: settings, JSON, time, DynamoDB helpers and the JSON log format."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from worker_lib import config, ddb, jsonutil, regions, timeutil
from worker_lib.errors import InvalidInput, MissingSetting
from worker_lib.log import JsonFormatter

from support.fn_fakes import FakeTable, dec


def test_require_names_the_missing_variable() -> None:
    with pytest.raises(MissingSetting, match="ALERTS_TABLE"):
        config.require("ALERTS_TABLE", {"ALERTS_TABLE": "  "})
    assert config.require("ALERTS_TABLE", {"ALERTS_TABLE": "t1"}) == "t1"


def test_integer_setting_defaults_and_rejects_garbage() -> None:
    assert config.integer("N", 7, {}) == 7
    assert config.integer("N", 7, {"N": "12"}) == 12
    with pytest.raises(MissingSetting, match="must be an integer"):
        config.integer("N", 7, {"N": "ten"})


def test_region_prefers_aws_region() -> None:
    assert config.region({"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "eu-west-1"}) == "us-east-2"
    assert config.region({"AWS_DEFAULT_REGION": "ap-south-1"}) == "ap-south-1"


def test_invalid_input_is_a_value_error() -> None:
    assert issubclass(InvalidInput, ValueError)


def test_dumps_handles_decimals_and_sorts_keys() -> None:
    text = jsonutil.dumps({"b": Decimal("2"), "a": Decimal("1.5"), "c": {"x"}})
    assert text == '{"a":1.5,"b":2,"c":["x"]}'
    assert jsonutil.loads(text)["b"] == 2


def test_parse_iso_accepts_z_and_naive_times_as_utc() -> None:
    expected = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert timeutil.parse_iso("2026-11-28T12:00:00Z") == expected
    assert timeutil.parse_iso("2026-11-28T12:00:00") == expected
    assert timeutil.iso(expected) == "2026-11-28T12:00:00Z"
    with pytest.raises(ValueError):
        timeutil.parse_iso("yesterday")


def test_event_time_falls_back_to_now_for_manual_events() -> None:
    assert timeutil.event_time({"time": "2026-11-28T01:15:00Z"}).hour == 1
    before = timeutil.utcnow()
    assert timeutil.event_time({"time": "garbage"}) >= before
    assert timeutil.event_time("not a dict") >= before


def test_to_item_and_plain_round_trip_numbers() -> None:
    item = ddb.to_item({"score": 0.5, "nested": [{"w": 1.25}], "n": 3})
    assert item == {"score": Decimal("0.5"), "nested": [{"w": Decimal("1.25")}], "n": 3}
    assert ddb.plain(item) == {"score": 0.5, "nested": [{"w": 1.25}], "n": 3}


def test_scan_all_follows_pages_and_stops_at_limit() -> None:
    table = FakeTable("id", page_size=2)
    table.add(*({"id": f"i{n}", "n": dec(n)} for n in range(5)))
    assert len(list(ddb.scan_all(table))) == 5
    assert [item["id"] for item in ddb.scan_all(table, limit=3)] == ["i0", "i1", "i2"]


def test_count_uses_select_count_across_pages() -> None:
    table = FakeTable("id", page_size=2)
    table.add(*({"id": f"i{n}"} for n in range(5)))
    assert ddb.count(table, limit=100) == 5
    assert ddb.count(table, limit=3) == 3
    assert all(kwargs.get("Select") == "COUNT" for name, kwargs in table.calls if name == "scan")


def test_regions_normalise_and_name() -> None:
    assert regions.normalise(" de-by ") == "DE-BY"
    assert regions.normalise(42) == ""
    assert regions.name_of("de-by") == "Bavaria"
    assert regions.name_of("ZZ") == "Unknown"


def test_json_formatter_writes_one_object_with_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "t", "levelname": "INFO", "msg": "hello %s", "args": ("world",), "request_id": "r1"}
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line) == {"level": "INFO", "logger": "t", "message": "hello world", "request_id": "r1"}

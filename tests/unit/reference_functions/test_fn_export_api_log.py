"""export_api_log: which day, which key, what the gzipped JSON lines contain."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest
from export_api_log.app import export, export_day, export_key, render
from worker_lib.errors import InvalidInput

from support.fn_fakes import FakeS3, FakeTable, dec

SCHEDULED = {"detail-type": "Scheduled Event", "time": "2026-11-28T01:15:00Z"}


def test_scheduled_run_exports_the_previous_day() -> None:
    assert export_day(SCHEDULED) == date(2026, 11, 27)
    assert export_day({"day": "2026-03-01"}) == date(2026, 3, 1)


@pytest.mark.parametrize("day", ["2026-02-30", "27.11.2026", 20261127])
def test_bad_day_is_invalid_input(day: object) -> None:
    with pytest.raises(InvalidInput, match="'day'"):
        export_day({"day": day})


def test_key_is_date_partitioned() -> None:
    assert export_key("api-logs/", date(2026, 1, 5)) == "api-logs/2026/01/05/export-2026-01-05.jsonl.gz"


def test_export_writes_only_that_days_items_as_gzipped_json_lines() -> None:
    table = FakeTable("day", "request_key")
    table.add(
        {
            "day": "2026-11-27",
            "request_key": "09:00:01#r1",
            "path": "/alerts",
            "status": dec(200),
            "ms": dec("12.5"),
        },
        {
            "day": "2026-11-27",
            "request_key": "09:00:02#r2",
            "path": "/alerts",
            "status": dec(400),
            "ms": dec(3),
        },
        {
            "day": "2026-11-26",
            "request_key": "23:59:59#r0",
            "path": "/health",
            "status": dec(200),
            "ms": dec(1),
        },
    )
    s3 = FakeS3("exports")
    result = export(SCHEDULED, table=table, s3=s3, bucket="exports", prefix="api-logs")
    key = "api-logs/2026/11/27/export-2026-11-27.jsonl.gz"
    assert result == {"bucket": "exports", "key": key, "count": 2, "day": "2026-11-27"}
    lines = gzip.decompress(s3.objects["exports"][key]).decode().splitlines()
    assert [json.loads(line)["request_key"] for line in lines] == ["09:00:01#r1", "09:00:02#r2"]
    assert json.loads(lines[0])["ms"] == 12.5


def test_render_is_byte_reproducible() -> None:
    items = [{"a": 1}]
    assert render(items) == render(items)
    assert render([]) == (gzip.compress(b"", mtime=0), 0)

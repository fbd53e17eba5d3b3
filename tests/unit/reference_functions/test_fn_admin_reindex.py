"""admin_reindex: input validation (InvalidInput) and the dry run / real run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from admin_reindex.app import ReindexRequest, parse_request, parse_tables, reindex
from worker_lib.errors import InvalidInput

from support.fn_fakes import FakeTable

TABLES = {"incidents": "dev-incidents", "alerts": "dev-alerts"}
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_parse_tables_ignores_malformed_pairs() -> None:
    assert parse_tables("incidents=dev-incidents, alerts = dev-alerts,broken,=x") == TABLES


def test_defaults_are_a_safe_dry_run() -> None:
    assert parse_request({"table": "alerts"}, tables=TABLES) == ReindexRequest(
        table="alerts", table_name="dev-alerts", dry_run=True, limit=1000
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("reindex please", "must be a JSON object"),
        ({"table": "users"}, "'table' must be one of alerts, incidents"),
        ({"table": "alerts", "dry_run": "yes"}, "'dry_run' must be true or false"),
        ({"table": "alerts", "limit": 0}, "'limit' must be an integer"),
        ({"table": "alerts", "limit": True}, "'limit' must be an integer"),
        ({"table": "alerts", "limit": 10_001}, "'limit' must be an integer"),
        ({"table": "alerts", "force": True}, "unknown key"),
    ],
)
def test_bad_input_raises_invalid_input(event: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_request(event, tables=TABLES)


def test_dry_run_counts_up_to_the_limit_and_writes_nothing() -> None:
    table = FakeTable("incident_id", page_size=3)
    table.add(*({"incident_id": f"i{n}"} for n in range(7)))
    request = ReindexRequest(table="incidents", table_name="dev-incidents", dry_run=True, limit=5)
    assert reindex(request, table=table, now=NOW) == {
        "table": "incidents",
        "dry_run": True,
        "limit": 5,
        "would_reindex": 5,
    }
    assert not table.writers


def test_real_run_stamps_items() -> None:
    table = FakeTable("incident_id")
    table.add({"incident_id": "i1", "region": "DE"}, {"incident_id": "i2", "region": "FR"})
    request = ReindexRequest(table="incidents", table_name="dev-incidents", dry_run=False, limit=10)
    assert reindex(request, table=table, now=NOW)["reindexed"] == 2
    assert {item["reindexed_at"] for item in table.items.values()} == {"2026-11-28T12:00:00Z"}
    assert table.items[("i1",)]["region"] == "DE"

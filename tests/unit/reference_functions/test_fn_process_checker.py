"""process_checker: which heartbeats count as stale."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from process_checker.app import check

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_reports_only_heartbeats_older_than_the_threshold() -> None:
    beats: list[dict[str, Any]] = [
        {"process": "feed-hydro", "last_seen": "2026-11-28T11:58:00Z"},
        {"process": "feed-news", "last_seen": "2026-11-28T11:40:00Z"},
        {"process": "feed-fire", "last_seen": "2026-11-28T11:50:00Z"},  # exactly 600 s: alive
    ]
    result = check(beats, now=NOW, stale_after_s=600)
    assert result["checked"] == 3
    assert result["stale"] == [
        {"process": "feed-news", "last_seen": "2026-11-28T11:40:00Z", "age_seconds": 1200}
    ]
    assert result["checked_at"] == "2026-11-28T12:00:00Z"


def test_unreadable_heartbeat_counts_as_stale_and_output_is_sorted() -> None:
    beats: list[dict[str, Any]] = [
        {"process": "zeta", "last_seen": "2026-11-27T00:00:00Z"},
        {"process": "alpha", "last_seen": "never"},
        {"last_seen": None},
    ]
    result = check(beats, now=NOW, stale_after_s=60)
    assert [entry["process"] for entry in result["stale"]] == ["<unnamed>", "alpha", "zeta"]
    assert result["stale"][1]["reason"] == "unreadable last_seen"


def test_empty_table_reports_nothing() -> None:
    assert check([], now=NOW, stale_after_s=600)["stale"] == []

"""UTC time helpers. All timestamps we store are ISO 8601 strings with a ``Z`` suffix."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Format an aware datetime as ``2026-11-28T13:50:09Z`` (seconds precision)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp; a naive one is taken as UTC.

    Raises ``ValueError`` on anything else.
    """
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def from_epoch_ms(value: str | int) -> datetime:
    """Convert epoch milliseconds (as SQS attributes carry them) to an aware datetime."""
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def event_time(event: object) -> datetime:
    """The ``time`` of an EventBridge event, or now when the event has none (manual runs)."""
    if isinstance(event, dict) and isinstance(event.get("time"), str):
        try:
            return parse_iso(event["time"])
        except ValueError:
            pass
    return utcnow()

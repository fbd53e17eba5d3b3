"""EventBridge schedule expressions: rate() and AWS's six-field cron()."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lambda_harness.endpoint.sources.schedule import Cron, Rate, parse_schedule
from lambda_harness.errors import EndpointError

NOON = datetime(2026, 11, 28, 12, 0, 30, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
    ],
)
def test_rate(expression: str, period: timedelta) -> None:
    schedule = parse_schedule(expression)
    assert schedule == Rate(period)
    assert schedule.next_after(NOON) == NOON + period


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 12 * * ? *)", datetime(2026, 11, 29, 12, 0, tzinfo=UTC)),
        ("cron(15 12 * * ? *)", datetime(2026, 11, 28, 12, 15, tzinfo=UTC)),
        ("cron(0/10 * * * ? *)", datetime(2026, 11, 28, 12, 10, tzinfo=UTC)),
        ("cron(0 8 ? * MON-FRI *)", datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        ("cron(0 8 ? * 2 *)", datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),  # 2 = MON in AWS cron
        ("cron(30 6 1 * ? *)", datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
        ("cron(0 0 1 JAN ? 2027)", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        ("cron(5,35 14 * * ? *)", datetime(2026, 11, 28, 14, 5, tzinfo=UTC)),
    ],
)
def test_cron_next(expression: str, expected: datetime) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, Cron)
    assert schedule.next_after(NOON) == expected


def test_cron_next_is_strictly_after() -> None:
    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_schedule("cron(0 12 * * ? *)").next_after(at) == at + timedelta(days=1)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("every 5 minutes", "neither rate"),
        ("rate(0 minutes)", "positive"),
        ("cron(0 12 * * *)", "6 fields"),
        ("cron(0 12 * * MON *)", "must be '?'"),
        ("cron(0 12 L * ? *)", "not supported"),
        ("cron(61 12 * * ? *)", "outside 0-59"),
        ("cron(0 12 * * ? 1900)", "outside"),
        ("cron(x 12 * * ? *)", "not a number"),
    ],
)
def test_bad_expressions(expression: str, message: str) -> None:
    with pytest.raises(EndpointError, match=message):
        parse_schedule(expression)


def test_cron_that_never_fires() -> None:
    with pytest.raises(EndpointError, match="never fires"):
        parse_schedule("cron(0 0 1 JAN ? 2199)").next_after(NOON)

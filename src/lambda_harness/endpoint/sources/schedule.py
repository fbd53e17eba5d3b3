"""EventBridge schedule expressions: ``rate(...)`` and AWS's six-field ``cron(...)``.

AWS cron is ``cron(minutes hours day-of-month month day-of-week year)`` in UTC, with
day-of-week 1-7 = SUN-SAT and ``?`` in one of the two day fields. ``L``, ``W`` and
``#`` are refused with a clear error rather than silently misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lambda_harness.errors import EndpointError

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
#: How far ahead ``next_after`` looks for a matching day before giving up (a cron for 2099 only).
_HORIZON_DAYS = 366 * 5


@dataclass(frozen=True)
class Rate:
    """``rate(N unit)``: every ``period`` from when the rule was first seen."""

    period: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.period


@dataclass(frozen=True)
class Cron:
    """A parsed AWS cron expression; each field is the set of allowed values (None = any)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # 1=SUN .. 7=SAT
    years: frozenset[int] | None

    def _day_matches(self, day: datetime) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        aws_dow = (day.isoweekday() % 7) + 1  # isoweekday: MON=1..SUN=7 -> SUN=1..SAT=7
        dom_ok = self.days_of_month is None or day.day in self.days_of_month
        dow_ok = self.days_of_week is None or aws_dow in self.days_of_week
        return dom_ok and dow_ok

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after ``moment`` (UTC)."""
        start = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(_HORIZON_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise EndpointError(f"schedule {self!r} never fires in the next {_HORIZON_DAYS // 366} years")


Schedule = Rate | Cron


def parse_schedule(expression: str) -> Schedule:
    """Parse ``rate(5 minutes)`` or ``cron(0 12 * * ? *)``; EndpointError names what is wrong."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        count = int(rate.group(1))
        if count < 1:
            raise EndpointError(f"schedule {expression!r}: the rate must be a positive number")
        unit = rate.group(2).rstrip("s")
        return Rate(timedelta(seconds=count * _UNIT_SECONDS[unit]))
    cron = _CRON.match(text)
    if cron:
        return _parse_cron(expression, cron.group(1).split())
    raise EndpointError(
        f"schedule {expression!r} is neither rate(N minutes|hours|days) nor cron(m h dom mon dow year)"
    )


def _parse_cron(expression: str, fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise EndpointError(f"schedule {expression!r}: AWS cron needs 6 fields (m h dom mon dow year)")
    minute, hour, dom, month, dow, year = fields
    if dom != "?" and dow != "?":
        raise EndpointError(f"schedule {expression!r}: one of day-of-month and day-of-week must be '?'")
    return Cron(
        minutes=_field(expression, minute, 0, 59, {}),
        hours=_field(expression, hour, 0, 23, {}),
        days_of_month=_optional(expression, dom, 1, 31, {}),
        months=_field(expression, month, 1, 12, _MONTHS),
        days_of_week=_optional(expression, dow, 1, 7, _DAYS),
        years=_optional(expression, year, 1970, 2199, {}),
    )


def _optional(
    expression: str, text: str, low: int, high: int, names: dict[str, int]
) -> frozenset[int] | None:
    if text in ("?", "*"):
        return None
    return _field(expression, text, low, high, names)


def _field(expression: str, text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    if any(mark in text.upper() for mark in ("L", "W", "#")) and not any(n in text.upper() for n in names):
        raise EndpointError(f"schedule {expression!r}: L, W and # are not supported by lambda-harness")
    values: set[int] = set()
    for part in text.split(","):
        values.update(_part(expression, part, low, high, names))
    return frozenset(values)


def _part(expression: str, part: str, low: int, high: int, names: dict[str, int]) -> range:
    base, _, step_text = part.partition("/")
    step = _number(expression, step_text, names) if step_text else 1
    if base in ("*", "?"):
        first, last = low, high
    elif "-" in base:
        left, right = base.split("-", 1)
        first, last = _number(expression, left, names), _number(expression, right, names)
    else:
        first = _number(expression, base, names)
        last = high if step_text else first
    if not (low <= first <= high and low <= last <= high) or step < 1:
        raise EndpointError(f"schedule {expression!r}: {part!r} is outside {low}-{high}")
    return range(first, last + 1, step)


def _number(expression: str, text: str, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    try:
        return int(text)
    except ValueError:
        raise EndpointError(f"schedule {expression!r}: {text!r} is not a number") from None

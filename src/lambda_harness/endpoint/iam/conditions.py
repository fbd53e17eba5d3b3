"""Condition blocks with AWS's semantics, including its rules for keys a request does not carry.

``ConditionResult`` says whether a statement's conditions hold, and which keys the
answer depended on although the endpoint never sets them (``unevaluable``): such a
decision follows AWS's absent-key rules and is flagged, because on AWS the key
might be present (``aws:SourceIp``, ``aws:ResourceTag/...``).

Absent keys (IAM User Guide, condition operators): the condition is false, except
for negated operators (``StringNotEquals``, ``ArnNotLike``, ``NotIpAddress``...)
where it is true; ``...IfExists`` is true; ``Null`` tests presence itself;
``ForAllValues:`` is true and ``ForAnyValue:`` false on an absent key. Several
values of one key are ORed, several keys and several operators ANDed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from lambda_harness.endpoint.iam.policy import Condition, glob_match, substitute

#: Request context: lower-cased condition key -> its values (one or more).
Context = Mapping[str, tuple[str, ...]]

_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
}


class Unsupported(ValueError):
    """An operator the endpoint does not evaluate (``BinaryEquals``) or a value it cannot read."""


@dataclass(frozen=True)
class ConditionResult:
    """Whether every condition holds, and the keys the answer assumed absent or could not read."""

    holds: bool
    unevaluable: frozenset[str] = frozenset()


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> float:
    text = text.strip()
    try:
        return float(text)  # epoch seconds
    except ValueError:
        pass
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _equals(actual: str, expected: Iterable[str]) -> bool:
    return actual in expected


def _equals_ignore_case(actual: str, expected: Iterable[str]) -> bool:
    return actual.lower() in (e.lower() for e in expected)


def _like(actual: str, expected: Iterable[str]) -> bool:
    return any(glob_match(e, actual) for e in expected)


def _ip(actual: str, expected: Iterable[str]) -> bool:
    address = ipaddress.ip_address(actual)
    return any(address in ipaddress.ip_network(e, strict=False) for e in expected)


_MATCHERS: dict[str, Callable[[str, Iterable[str]], bool]] = {
    "StringEquals": _equals,
    "ArnEquals": _equals,
    "StringEqualsIgnoreCase": _equals_ignore_case,
    "Bool": _equals_ignore_case,
    "StringLike": _like,
    "ArnLike": _like,
    "IpAddress": _ip,
}


def _positive(base: str, actual: str, expected: Iterable[str]) -> bool:
    """The non-negated operator ``base``: does ``actual`` match any of ``expected``?"""
    matcher = _MATCHERS.get(base)
    if matcher is not None:
        return matcher(actual, expected)
    if base.startswith("Numeric"):
        return _compare(base.removeprefix("Numeric"), _number(actual), [_number(e) for e in expected])
    if base.startswith("Date"):
        return _compare(base.removeprefix("Date"), _date(actual), [_date(e) for e in expected])
    raise Unsupported(f"condition operator {base} is not evaluated by lambda-harness")


def _compare(kind: str, actual: float, expected: list[float]) -> bool:
    checks: dict[str, Callable[[float], bool]] = {
        "Equals": lambda e: actual == e,
        "LessThan": lambda e: actual < e,
        "LessThanEquals": lambda e: actual <= e,
        "GreaterThan": lambda e: actual > e,
        "GreaterThanEquals": lambda e: actual >= e,
    }
    if kind not in checks:
        raise Unsupported(f"unknown comparison {kind}")
    return any(checks[kind](e) for e in expected)


def _one_value(operator: str, actual: str, expected: tuple[str, ...]) -> bool:
    """``operator`` (possibly negated) applied to one request value."""
    if operator in _NEGATED:
        return not _positive(_NEGATED[operator], actual, expected)
    return _positive(operator, actual, expected)


def _absent(base: str, qualifier: str, if_exists: bool) -> bool:
    """AWS's answer for a key the request does not carry (every operator but Null)."""
    if if_exists or qualifier == "ForAllValues":
        return True
    if qualifier == "ForAnyValue":
        return False
    return base in _NEGATED


def evaluate_condition(
    condition: Condition, context: Context, variables: Callable[[str], str | None]
) -> tuple[bool, bool]:
    """(holds, key was absent) for one condition. Raises Unsupported for what we cannot evaluate."""
    qualifier, _, base = condition.operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    expected = tuple(substitute(v, variables) for v in condition.values)
    actual = context.get(condition.key.lower())
    if base == "Null":
        return (actual is None) == (expected[:1] == ("true",)), False
    if not actual:
        return _absent(base, qualifier, if_exists), True
    try:
        results = [_one_value(base, value, expected) for value in actual]
    except Unsupported:
        raise
    except (ValueError, TypeError) as exc:
        raise Unsupported(f"{condition.operator} {condition.key}: cannot compare {actual!r}") from exc
    return (all(results) if qualifier == "ForAllValues" else any(results)), False


def check_conditions(
    conditions: Iterable[Condition],
    context: Context,
    variables: Callable[[str], str | None],
    *,
    set_keys: frozenset[str],
) -> ConditionResult:
    """All conditions of one statement. ``set_keys``: the keys the endpoint sets when it has them;
    an absent key outside that set is reported as unevaluable (AWS might have a value)."""
    unevaluable: set[str] = set()
    holds = True
    for condition in conditions:
        try:
            ok, absent = evaluate_condition(condition, context, variables)
        except Unsupported:
            unevaluable.add(condition.key)
            ok, absent = False, False
        if absent and condition.key.lower() not in set_keys:
            unevaluable.add(condition.key)
        if not ok:
            holds = False
    return ConditionResult(holds, frozenset(unevaluable))

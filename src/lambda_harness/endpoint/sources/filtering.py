"""One matcher for AWS's event patterns: event source mapping filters and EventBridge rules.

Lambda's ``FilterCriteria`` use EventBridge's pattern syntax (invocation-eventfiltering
page): a pattern is a JSON object whose leaves are arrays of rules, ORed; nested objects
AND their fields; ``$or`` ORs whole sub-patterns. Rules: a value (string, number,
``null``, ``""``; no type coercion: ``"5"`` is not ``5``, ``true`` is not ``1``),
``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard``, ``anything-but`` (a value,
a list, or a ``prefix``/``suffix``/``equals-ignore-case``/``wildcard`` rule), ``numeric``
(``<``, ``<=``, ``=``, ``>=``, ``>`` pairs), ``exists`` and ``cidr``. Arrays in the event
match when any element does, also arrays of objects (each field is looked up in every
element); keys are never joined with dots, so ``a.b`` and ``{"a": {"b": ...}}`` differ.
``exists`` only sees leaves, as on AWS.

A mapping's filters (up to 5) are ORed; a record no filter matches is dropped (SQS: deleted;
streams: skipped). What a record is matched as (``candidate``): SQS with ``body`` parsed
when it is JSON, Kinesis with ``data`` base64-decoded and parsed at the record's top level
(a record whose data is not JSON cannot match a pattern on ``data``), DynamoDB as it is.
A pattern on ``body``/``data`` must have the message's format (an object for a JSON
message, a list of rules for a plain string), else the record is dropped whatever the rules
say (``{"body": {"x": [{"exists": false}]}}`` does not keep a plain-string body).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import json
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException

#: AWS's quota of filters per event source mapping (the default; 10 on request).
MAX_FILTERS = 5
_MISSING: list[Any] = []
_NUMERIC: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}

Pattern = dict[str, Any]


def invalid(reason: str) -> InvalidParameterValueException:
    """AWS's answer to a filter it cannot use."""
    return InvalidParameterValueException(f"Invalid filter pattern definition. {reason}")


def parse_pattern(text: str) -> Pattern:
    """One ``Pattern`` string -> a checked pattern; ``InvalidParameterValueException`` if unusable."""
    try:
        pattern = json.loads(text)
    except (TypeError, ValueError):
        raise invalid(f"Not valid JSON: {text!r}") from None
    if not isinstance(pattern, dict):
        raise invalid("A pattern must be a JSON object.")
    _check(pattern)
    return pattern


def _check(node: Mapping[str, Any]) -> None:
    for key, value in node.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) for v in value):
                raise invalid("$or takes a list of at least two patterns.")
            for sub in value:
                _check(sub)
        elif isinstance(value, dict):
            _check(value)
        elif not isinstance(value, list):
            raise invalid(f"'{key}' must be an object or an array.")
        elif not value:
            raise invalid(f"'{key}': empty arrays are not allowed.")


def load(filter_criteria: Mapping[str, Any] | None) -> list[Pattern]:
    """A mapping's ``FilterCriteria`` -> its patterns (none: every record passes)."""
    filters = (filter_criteria or {}).get("Filters") or []
    if len(filters) > MAX_FILTERS:
        raise invalid(f"At most {MAX_FILTERS} filters per event source mapping, got {len(filters)}.")
    return [parse_pattern(str(f.get("Pattern", ""))) for f in filters]


def passes(patterns: Sequence[Pattern], record: Any) -> bool:
    """Whether a record passes a mapping's filters (no filter: always)."""
    return not patterns or any(_same_shape(p, record) and matches(p, record) for p in patterns)


#: The record fields holding the message itself (SQS ``body``, Kinesis ``data``).
PAYLOAD_KEYS = ("body", "data")


def _same_shape(pattern: Pattern, record: Any) -> bool:
    """AWS's format table: a JSON pattern (an object) on the message needs a JSON message, a
    plain-string pattern (a list of rules) a plain one; otherwise the record is dropped, before
    any rule (``exists: false`` included) is looked at."""
    for key in PAYLOAD_KEYS:
        if key not in pattern or not isinstance(record, dict):
            continue
        is_json = isinstance(record.get(key), (dict, list))
        if isinstance(pattern[key], dict) != is_json:
            return False
    return True


def matches(pattern: Pattern, event: Any) -> bool:
    """Whether ``event`` matches one event pattern, with AWS's semantics (module docstring)."""
    return _match(pattern, event)


def _match(pattern: Mapping[str, Any], node: Any) -> bool:
    for key, rule in pattern.items():
        if key == "$or":
            if not any(_match(sub, node) for sub in rule):
                return False
        elif isinstance(rule, dict):
            # All objects found under key (arrays of objects included): each field of the
            # nested pattern is then looked up across all of them, as EventBridge does.
            if not _match(rule, [v for v in _flat(_children(node, key)) if isinstance(v, dict)]):
                return False
        else:
            leaves = [v for v in _flat(_children(node, key)) if not isinstance(v, dict)]
            if not _field(leaves or _MISSING, rule):
                return False
    return True


def _children(node: Any, key: str) -> list[Any]:
    """The values under ``key`` in an object, or in every object of an array."""
    if isinstance(node, dict):
        return [node[key]] if key in node else []
    if isinstance(node, list):
        return [v for item in node for v in _children(item, key)]
    return []


def _flat(values: list[Any]) -> Iterator[Any]:
    """``values`` with arrays opened (an empty array holds nothing: a leaf there is missing)."""
    for value in values:
        if isinstance(value, list):
            yield from _flat(value)
        else:
            yield value


def _field(values: list[Any], rules: list[Any]) -> bool:
    present = values is not _MISSING
    for rule in rules:
        if isinstance(rule, dict):
            name, arg = next(iter(rule.items()))
            if name == "exists":
                if bool(arg) == present:
                    return True
            elif present and any(_named(name, arg, v) for v in values):
                return True
        elif present and any(_same(rule, v) for v in values):
            return True
    return False


def _same(rule: Any, value: Any) -> bool:
    """JSON equality: booleans are not numbers, numbers compare by value."""
    if isinstance(rule, bool) or isinstance(value, bool):
        return type(rule) is type(value) and rule == value
    if _is_number(rule) and _is_number(value):
        return bool(rule == value)
    return type(rule) is type(value) and rule == value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _named(name: str, arg: Any, value: Any) -> bool:  # noqa: PLR0911 - one branch per AWS rule
    if name == "anything-but":
        return not _excluded(arg, value)
    if name == "numeric":
        return _is_number(value) and all(
            _NUMERIC[op](value, bound) for op, bound in zip(arg[::2], arg[1::2], strict=False)
        )
    if name == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(arg, strict=False)
        except (TypeError, ValueError):
            return False
    if not isinstance(value, str):
        return False
    if name in ("prefix", "suffix") and isinstance(arg, dict):
        text = str(arg.get("equals-ignore-case", ""))
        edge = value.lower().startswith if name == "prefix" else value.lower().endswith
        return edge(text.lower())
    if name == "prefix":
        return value.startswith(arg)
    if name == "suffix":
        return value.endswith(arg)
    if name == "equals-ignore-case":
        return any(value.lower() == str(a).lower() for a in (arg if isinstance(arg, list) else [arg]))
    if name == "wildcard":
        return any(_wildcard(value, str(a)) for a in (arg if isinstance(arg, list) else [arg]))
    return False


def _excluded(arg: Any, value: Any) -> bool:
    """Whether ``anything-but``'s argument excludes ``value``."""
    if isinstance(arg, dict):
        name, inner = next(iter(arg.items()))
        return _named(name, inner, value)
    return any(_same(a, value) for a in (arg if isinstance(arg, list) else [arg]))


def _wildcard(value: str, pattern: str) -> bool:
    regex = "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern))
    return re.fullmatch(regex, value, re.DOTALL) is not None


# -- what a record is matched as ----------------------------------------------------------


def sqs_candidate(record: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS record with ``body`` parsed when it is JSON (a plain body stays the string it is)."""
    out = dict(record)
    with contextlib.suppress(TypeError, ValueError):
        out["body"] = json.loads(record["body"])
    return out


def kinesis_candidate(record: Mapping[str, Any]) -> dict[str, Any]:
    """A Kinesis record's ``kinesis`` fields at the top level, ``data`` decoded and parsed.

    Data that is not JSON is left out: a pattern on ``data`` cannot match it (AWS drops
    such records), a pattern on metadata (``partitionKey``) still can.
    """
    out = {k: v for k, v in record.items() if k != "kinesis"}
    out.update(record.get("kinesis") or {})
    out.pop("data", None)
    with contextlib.suppress(KeyError, TypeError, ValueError, binascii.Error):
        out["data"] = json.loads(base64.b64decode(record["kinesis"]["data"]))
    return out

"""JSON encoding with orjson, aware of the ``Decimal`` numbers DynamoDB returns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    """Encode ``value`` as compact JSON text with sorted keys (stable output for tests and diffs)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_SORT_KEYS).decode()


def dumps_bytes(value: Any) -> bytes:
    """Like ``dumps`` but returns bytes, for S3 bodies."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_SORT_KEYS)


def loads(text: str | bytes) -> Any:
    """Decode JSON text; raises ``orjson.JSONDecodeError`` (a ``ValueError``) on bad input."""
    return orjson.loads(text)

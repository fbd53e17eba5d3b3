"""DynamoDB helpers on top of the boto3 ``Table`` resource.

The functions here take the table object as an argument, so tests pass a hand-written fake with
the same methods (``scan``, ``query``, ``put_item``, ``batch_writer``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from worker_lib import aws


def table(name: str) -> Any:
    """The boto3 ``Table`` resource for ``name`` (no AWS call happens here)."""
    return aws.resource("dynamodb").Table(name)


def to_item(value: Any) -> Any:
    """Convert floats to ``Decimal`` recursively: the resource API rejects Python floats."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {key: to_item(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_item(inner) for inner in value]
    return value


def plain(value: Any) -> Any:
    """Convert the ``Decimal`` numbers DynamoDB returns back to ``int``/``float`` recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {key: plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    return value


def _paged(method: Any, limit: int | None, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Follow ``LastEvaluatedKey`` across pages, stopping after ``limit`` items."""
    seen = 0
    while True:
        if limit is not None:
            kwargs["Limit"] = limit - seen
        page = method(**kwargs)
        for item in page.get("Items", []):
            yield item
            seen += 1
            if limit is not None and seen >= limit:
                return
        last_key = page.get("LastEvaluatedKey")
        if not last_key:
            return
        kwargs["ExclusiveStartKey"] = last_key


def scan_all(tbl: Any, *, limit: int | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Yield every item of a scan (all pages), at most ``limit`` items."""
    return _paged(tbl.scan, limit, dict(kwargs))


def query_all(tbl: Any, *, limit: int | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Yield every item of a query (all pages), at most ``limit`` items."""
    return _paged(tbl.query, limit, dict(kwargs))


def count(tbl: Any, *, limit: int) -> int:
    """Count items with ``Select=COUNT`` scans (no item data transferred), at most ``limit``."""
    total = 0
    kwargs: dict[str, Any] = {"Select": "COUNT"}
    while total < limit:
        kwargs["Limit"] = limit - total
        page = tbl.scan(**kwargs)
        total += int(page.get("Count", 0))
        last_key = page.get("LastEvaluatedKey")
        if not last_key:
            break
        kwargs["ExclusiveStartKey"] = last_key
    return min(total, limit)

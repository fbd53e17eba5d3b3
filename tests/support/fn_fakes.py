"""Hand-written fakes of the boto3 objects the handlers use (DynamoDB ``Table``, S3 client).

They implement only the calls and parameters the handlers make, and fail loudly on others,
so a handler that starts using a new API shows up here instead of passing by accident.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any


def _check_no_floats(value: Any) -> None:
    """The real resource API raises TypeError on floats; so does the fake."""
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    if isinstance(value, dict):
        for inner in value.values():
            _check_no_floats(inner)
    if isinstance(value, list):
        for inner in value:
            _check_no_floats(inner)


class FakeBatchWriter:
    """Collects ``put_item`` calls; writes them to the table when the ``with`` block ends."""

    def __init__(self, table: FakeTable, overwrite_by_pkeys: list[str] | None) -> None:
        self.table = table
        self.overwrite_by_pkeys = overwrite_by_pkeys
        self.pending: list[dict[str, Any]] = []

    def put_item(self, *, Item: dict[str, Any]) -> None:
        _check_no_floats(Item)
        if self.overwrite_by_pkeys:
            key = [Item.get(name) for name in self.overwrite_by_pkeys]
            self.pending = [p for p in self.pending if [p.get(n) for n in self.overwrite_by_pkeys] != key]
        self.pending.append(Item)


class FakeTable:
    """An in-memory DynamoDB table keyed by ``hash_key`` (and ``range_key``), with paging."""

    def __init__(self, hash_key: str, range_key: str | None = None, *, page_size: int = 1000) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self.page_size = page_size
        self.items: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.writers: list[FakeBatchWriter] = []
        self.fail_puts = False

    def _key(self, item: dict[str, Any]) -> tuple[Any, ...]:
        names = [self.hash_key] + ([self.range_key] if self.range_key else [])
        return tuple(item[name] for name in names)

    def add(self, *items: dict[str, Any]) -> None:
        """Seed items (no call recorded)."""
        for item in items:
            self.items[self._key(item)] = item

    def put_item(self, *, Item: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("put_item", {"Item": Item}))
        if self.fail_puts:
            raise RuntimeError("ProvisionedThroughputExceededException (fake)")
        _check_no_floats(Item)
        self.items[self._key(Item)] = Item
        return {}

    @contextmanager
    def batch_writer(self, overwrite_by_pkeys: list[str] | None = None) -> Iterator[FakeBatchWriter]:
        writer = FakeBatchWriter(self, overwrite_by_pkeys)
        self.writers.append(writer)
        yield writer
        for item in writer.pending:
            self.items[self._key(item)] = item

    def _page(self, rows: list[dict[str, Any]], kwargs: dict[str, Any]) -> dict[str, Any]:
        start = int(kwargs.get("ExclusiveStartKey", {}).get("_offset", 0))
        size = min(int(kwargs.get("Limit", self.page_size)), self.page_size)
        chunk = rows[start : start + size]
        page: dict[str, Any] = {"Count": len(chunk), "ScannedCount": len(chunk)}
        if kwargs.get("Select") != "COUNT":
            page["Items"] = chunk
        if start + size < len(rows):
            page["LastEvaluatedKey"] = {"_offset": start + size}
        return page

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        unknown = set(kwargs) - {"Limit", "ExclusiveStartKey", "Select"}
        assert not unknown, f"fake scan does not support {unknown}"
        self.calls.append(("scan", dict(kwargs)))
        return self._page(list(self.items.values()), kwargs)

    def query(self, **kwargs: Any) -> dict[str, Any]:
        """Supports ``#name = :value`` on the hash key, the only form the handlers use."""
        self.calls.append(("query", dict(kwargs)))
        condition = kwargs["KeyConditionExpression"]
        name_ref, _, value_ref = (part.strip() for part in condition.partition("="))
        attribute = kwargs["ExpressionAttributeNames"][name_ref]
        assert attribute == self.hash_key, f"query on {attribute}, table hash key is {self.hash_key}"
        value = kwargs["ExpressionAttributeValues"][value_ref]
        rows = sorted(
            (item for item in self.items.values() if item.get(attribute) == value),
            key=lambda item: str(item.get(self.range_key or self.hash_key)),
        )
        return self._page(rows, kwargs)


class FakeClientError(Exception):
    """Shaped like botocore's ClientError: carries ``response["Error"]["Code"]``."""

    def __init__(self, code: str, operation: str) -> None:
        super().__init__(f"An error occurred ({code}) when calling the {operation} operation")
        self.response = {"Error": {"Code": code, "Message": code}}


class _S3Exceptions:
    class NoSuchKey(FakeClientError):
        pass

    class NoSuchBucket(FakeClientError):
        pass


class FakeS3:
    """An in-memory S3 client: ``get_object`` and ``put_object`` on known buckets."""

    exceptions = _S3Exceptions

    def __init__(self, *buckets: str) -> None:
        self.objects: dict[str, dict[str, bytes]] = {bucket: {} for bucket in buckets}
        self.puts: list[dict[str, Any]] = []
        self.gets: list[tuple[str, str]] = []

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self.gets.append((Bucket, Key))
        if Bucket not in self.objects:
            raise self.exceptions.NoSuchBucket("NoSuchBucket", "GetObject")
        if Key not in self.objects[Bucket]:
            raise self.exceptions.NoSuchKey("NoSuchKey", "GetObject")
        return {"Body": io.BytesIO(self.objects[Bucket][Key])}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **extra: Any) -> dict[str, Any]:
        if Bucket not in self.objects:
            raise self.exceptions.NoSuchBucket("NoSuchBucket", "PutObject")
        self.objects[Bucket][Key] = Body
        self.puts.append({"Bucket": Bucket, "Key": Key, **extra})
        return {"ETag": '"fake"'}


def dec(value: int | str) -> Decimal:
    """Shorthand for the numbers DynamoDB returns."""
    return Decimal(str(value))

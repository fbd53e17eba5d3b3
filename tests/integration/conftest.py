"""Helpers for the hand-written side-effect tests of the sample functions.

The fixtures ``deployed_functions``, ``aws_client``, ``invoke`` and
``harness_endpoint`` come from the lambda-harness pytest plugin; these tests
run inside ``lambda-harness run`` (which deploys first) and skip in a plain
``pytest`` run. Names of tables, buckets and queues come from the deployed
functions' environment and triggers, never from literals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


class Deployed:
    """One deployed function: its environment and triggers, read from the inventory."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.name: str = fn.name
        self.env: dict[str, str] = dict(fn.environment)

    def trigger(self, kind: str) -> Any:
        """The function's first trigger of ``kind`` (fails the test when there is none)."""
        for trig in self.fn.triggers:
            if trig.kind == kind:
                return trig
        pytest.fail(f"{self.name} has no {kind} trigger in the inventory; triggers: {self.fn.triggers}")


@pytest.fixture(scope="session")
def function(deployed_functions: Any) -> Callable[[str], Deployed]:
    """``function("risk_ingest")``: the deployed function, or skip when it is not deployed."""

    def get(name: str) -> Deployed:
        for fn in deployed_functions.functions:
            if fn.name == name:
                return Deployed(fn)
        pytest.skip(f"{name} is not deployed in this repo")

    return get


@pytest.fixture(scope="session")
def wait_for() -> Callable[..., Any]:
    """``wait_for(check, what=..., timeout=30)``: poll until ``check()`` is truthy, bounded."""

    def poll(
        check: Callable[[], T],
        *,
        what: str,
        timeout: float = 30.0,
        interval: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> T:
        deadline = clock() + timeout
        while True:
            value = check()
            if value:
                return value
            if clock() >= deadline:
                pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
            sleep(interval)

    return poll


@pytest.fixture(scope="session")
def log_lines(aws_client: Callable[..., Any]) -> Callable[[str], list[str]]:
    """``log_lines("process_checker")``: every line the function wrote to CloudWatch Logs so far."""
    logs = aws_client("logs")

    def read(name: str) -> list[str]:
        group = f"/aws/lambda/{name}"
        try:
            pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
            return [event["message"] for page in pages for event in page.get("events", [])]
        except logs.exceptions.ResourceNotFoundException:
            return []

    return read

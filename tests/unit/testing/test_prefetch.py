"""CasePrefetcher: each function's cases in order, functions side by side, errors to their own item."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from lambda_harness.errors import InvocationError
from lambda_harness.testing.cases import EventCase
from lambda_harness.testing.prefetch import CasePrefetcher


def case(function: str, name: str) -> EventCase:
    return EventCase(function, name, Path(f"{function}/{name}.json"))


CASES = [case("a", "1"), case("a", "2"), case("b", "1"), case("b", "2"), case("c", "1")]


def test_functions_overlap_while_each_ones_cases_keep_their_order() -> None:
    both_running = threading.Barrier(2, timeout=10)  # a/1 and b/1 must be in flight together
    seen: list[str] = []
    lock = threading.Lock()

    def invoke(c: EventCase) -> str:
        if c.name == "1" and c.function in ("a", "b"):
            both_running.wait()
        with lock:
            seen.append(c.id)
        return f"result of {c.id}"

    prefetch = CasePrefetcher(invoke, CASES, workers=2)
    assert [prefetch.result(c) for c in CASES] == [f"result of {c.id}" for c in CASES]
    assert seen.index("a/1") < seen.index("a/2") and seen.index("b/1") < seen.index("b/2")


def test_an_invocation_error_is_raised_by_its_own_case_only() -> None:
    def invoke(c: EventCase) -> str:
        if c.id == "b/1":
            raise InvocationError("endpoint gone")
        if c.id == "c/1":
            raise RuntimeError("bug")
        return c.id

    prefetch = CasePrefetcher(invoke, CASES, workers=3)
    assert prefetch.result(CASES[0]) == "a/1" and prefetch.result(CASES[3]) == "b/2"
    with pytest.raises(InvocationError, match="endpoint gone"):
        prefetch.result(CASES[2])
    with pytest.raises(InvocationError, match="c/1 crashed: bug"):
        prefetch.result(CASES[4])


def test_stop_takes_no_further_case() -> None:
    started, gate, calls = threading.Event(), threading.Event(), []

    def invoke(c: EventCase) -> str:
        calls.append(c.id)
        started.set()
        gate.wait(10)
        return c.id

    prefetch = CasePrefetcher(invoke, CASES, workers=1)
    assert started.wait(10)
    prefetch.stop()  # while a/1 is under way
    gate.set()
    assert prefetch.result(CASES[0]) == "a/1"  # the one under way finishes
    for thread in prefetch._threads:
        thread.join(10)
    assert calls == ["a/1"]
    assert not prefetch.covers(case("z", "1")) and prefetch.covers(CASES[1])

"""Pool policy with fake environments and a fake clock."""

from __future__ import annotations

import pytest

from lambda_harness.endpoint.runtime.model import ThrottledError
from lambda_harness.endpoint.runtime.pool import Pool
from lambda_harness.errors import EndpointError


class FakeEnv:
    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.last_used = 0.0
        self.started = False
        self.closed = False

    @property
    def alive(self) -> bool:
        return self.started and not self.closed

    def start(self) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(max_concurrency: int = 3, wait: float = 0.0) -> tuple[Pool, Clock]:
    clock = Clock()
    return Pool(max_concurrency=max_concurrency, idle_timeout_s=60, clock=clock, throttle_wait_s=wait), clock


KEY = ("f", "$LATEST")


def test_released_environment_is_reused_most_recent_first() -> None:
    pool, _ = make()
    a, cold_a = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    b, cold_b = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    assert cold_a and cold_b and a is not b
    pool.release(KEY, a, reusable=True)
    pool.release(KEY, b, reusable=True)
    again, cold = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    assert again is b and not cold
    assert pool.size == 2


def test_unreusable_environment_is_closed_and_frees_its_slot() -> None:
    pool, _ = make()
    env, _ = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    pool.release(KEY, env, reusable=False)
    assert env.closed and pool.size == 0  # type: ignore[attr-defined]


def test_reserved_concurrency_throttles_at_once() -> None:
    pool, _ = make()
    pool.lease(KEY, "fp", 1, lambda: FakeEnv("fp"))
    with pytest.raises(ThrottledError) as info:
        pool.lease(KEY, "fp", 1, lambda: FakeEnv("fp"))
    assert info.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    with pytest.raises(ThrottledError):
        pool.lease(("g", "$LATEST"), "fp", 0, lambda: FakeEnv("fp"))


def test_global_cap_reclaims_idle_environments_of_other_functions_then_throttles() -> None:
    pool, _ = make(max_concurrency=2)
    other, _ = pool.lease(("other", "$LATEST"), "o", None, lambda: FakeEnv("o"))
    pool.release(("other", "$LATEST"), other, reusable=True)
    pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))  # takes the idle slot of "other"
    assert other.closed  # type: ignore[attr-defined]
    with pytest.raises(ThrottledError) as info:
        pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    assert info.value.reason == "ConcurrentInvocationLimitExceeded"


def test_new_fingerprint_retires_idle_and_busy_environments() -> None:
    pool, _ = make()
    idle, _ = pool.lease(KEY, "v1", None, lambda: FakeEnv("v1"))
    busy, _ = pool.lease(KEY, "v1", None, lambda: FakeEnv("v1"))
    pool.release(KEY, idle, reusable=True)
    fresh, cold = pool.lease(KEY, "v2", None, lambda: FakeEnv("v2"))
    assert cold and fresh is not idle and idle.closed  # type: ignore[attr-defined]
    pool.release(KEY, busy, reusable=True)
    assert busy.closed  # type: ignore[attr-defined]
    assert pool.size == 1


def test_idle_timeout_uses_the_injected_clock() -> None:
    pool, clock = make()
    env, _ = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    pool.release(KEY, env, reusable=True)
    clock.now += 59.9
    assert pool.reap_idle() == 0
    clock.now += 0.2
    assert pool.reap_idle() == 1
    assert env.closed and pool.size == 0  # type: ignore[attr-defined]


def test_failed_start_gives_the_slot_back() -> None:
    pool, _ = make(max_concurrency=1)

    class Broken(FakeEnv):
        def start(self) -> None:
            raise EndpointError("no interpreter")

    with pytest.raises(EndpointError):
        pool.lease(KEY, "fp", None, lambda: Broken("fp"))
    assert pool.size == 0
    env, cold = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    assert cold and env.alive


def test_shutdown_closes_everything_and_refuses_new_leases() -> None:
    pool, _ = make()
    busy, _ = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    idle, _ = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    pool.release(KEY, idle, reusable=True)
    pool.shutdown()
    assert busy.closed and idle.closed  # type: ignore[attr-defined]
    with pytest.raises(EndpointError, match="shut down"):
        pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    pool.release(KEY, busy, reusable=True)  # a late release after shutdown is harmless


def test_an_idle_environment_that_died_is_never_handed_out() -> None:
    pool, _ = make()
    env, _ = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    pool.release(KEY, env, reusable=True)
    env.started = False  # type: ignore[attr-defined]  # the process went away while idle
    fresh, cold = pool.lease(KEY, "fp", None, lambda: FakeEnv("fp"))
    assert cold and fresh is not env and pool.size == 1

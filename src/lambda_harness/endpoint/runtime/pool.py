"""Warm reuse and concurrency of execution environments.

Like Lambda: an environment serves one invocation at a time and is reused by the
next one (most recently used first); parallel invocations start more environments,
up to the function's reserved concurrency (beyond it: ``ThrottledError``, AWS's 429)
and a global cap (beyond it: wait for a free slot, reclaiming idle environments of
other functions first, then ``ThrottledError``). Environments idle for longer than
``idle_timeout_s`` are reclaimed; a new configuration (code hash, settings) retires
the old ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from lambda_harness.endpoint.runtime.model import ThrottledError
from lambda_harness.errors import EndpointError

Key = tuple[str, str]  # (function name, version)


class Environment(Protocol):
    """What the pool needs of a worker."""

    fingerprint: str
    last_used: float

    @property
    def alive(self) -> bool: ...

    def start(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class _Group:
    fingerprint: str
    idle: list[Environment] = field(default_factory=list)  # most recently used last
    busy: int = 0


class Pool:
    """Leases environments per function; thread-safe."""

    def __init__(
        self,
        *,
        max_concurrency: int,
        idle_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
        throttle_wait_s: float = 60.0,
    ) -> None:
        self.max_concurrency = max_concurrency
        self.idle_timeout_s = idle_timeout_s
        self.throttle_wait_s = throttle_wait_s
        self._clock = clock
        self._cond = threading.Condition()
        self._groups: dict[Key, _Group] = {}
        self._all: set[Environment] = set()
        self._total = 0
        self._closed = False

    @property
    def size(self) -> int:
        """Live environments (idle + busy)."""
        with self._cond:
            return self._total

    def has_room_for(self, key: Key, fingerprint: str) -> bool:
        """True when ``key`` has no environment of this configuration yet and a slot is free."""
        with self._cond:
            group = self._groups.get(key)
            current = (
                group is not None and group.fingerprint == fingerprint and bool(group.idle or group.busy)
            )
            return not current and not self._closed and self._total < self.max_concurrency

    def lease(
        self, key: Key, fingerprint: str, reserved: int | None, factory: Callable[[], Environment]
    ) -> tuple[Environment, bool]:
        """An environment for ``key`` and whether it is new (a cold start)."""
        retired: list[Environment] = []
        try:
            with self._cond:
                found = self._take(key, fingerprint, reserved, retired)
        finally:
            for env in retired:
                env.close()
        if found is not None:
            return found, False
        try:
            env = factory()
            with self._cond:
                if self._closed:  # shut down meanwhile (a prestart lane, an async retry): start nothing
                    raise EndpointError("the Lambda runtime is shut down; no more invocations")
                self._all.add(env)
            env.start()
        except BaseException:
            self._give_back_slot(key)
            raise
        return env, True

    def _take(
        self, key: Key, fingerprint: str, reserved: int | None, retired: list[Environment]
    ) -> Environment | None:
        """Under the lock: an idle environment, or None after reserving a slot for a new one."""
        group = self._groups.setdefault(key, _Group(fingerprint))
        if group.fingerprint != fingerprint:
            retired += self._drop_idle(group)
            group.fingerprint = fingerprint
        deadline = self._clock() + self.throttle_wait_s
        while True:
            if self._closed:
                raise EndpointError("the Lambda runtime is shut down; no more invocations")
            # Reserved concurrency caps busy environments, warm or new: checked before reuse, so
            # reserved concurrency 0 throttles even when a warm environment is idle (as on AWS).
            if reserved is not None and group.busy >= reserved:
                raise ThrottledError(
                    f"Rate Exceeded. function {key[0]} is at its reserved concurrency ({reserved})",
                    "ReservedFunctionConcurrentInvocationLimitExceeded",
                )
            warm = self._pop_alive(group, retired)
            if warm is not None:
                return warm
            if self._total < self.max_concurrency:
                group.busy += 1
                self._total += 1
                return None
            victim = self._oldest_idle()
            if victim is not None:
                retired.append(victim)
                continue
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise ThrottledError(
                    f"Rate Exceeded. all {self.max_concurrency} execution environments are busy "
                    f"(max-concurrency); function {key[0]} waited {self.throttle_wait_s:.0f}s",
                    "ConcurrentInvocationLimitExceeded",
                )
            self._cond.wait(min(remaining, 1.0))

    def _pop_alive(self, group: _Group, retired: list[Environment]) -> Environment | None:
        """The most recently used idle environment that still runs, marked busy."""
        while group.idle:
            env = group.idle.pop()
            if env.alive:
                group.busy += 1
                return env
            # Died while idle (a background thread ended the process): never hand it out.
            self._total -= 1
            self._all.discard(env)
            retired.append(env)
        return None

    def _drop_idle(self, group: _Group) -> list[Environment]:
        dropped, group.idle = group.idle, []
        self._total -= len(dropped)
        self._all.difference_update(dropped)
        return dropped

    def _oldest_idle(self) -> Environment | None:
        """Remove and return the least recently used idle environment of any function."""
        best: tuple[float, _Group] | None = None
        for group in self._groups.values():
            if group.idle and (best is None or group.idle[0].last_used < best[0]):
                best = (group.idle[0].last_used, group)
        if best is None:
            return None
        env = best[1].idle.pop(0)
        self._total -= 1
        self._all.discard(env)
        return env

    def _give_back_slot(self, key: Key) -> None:
        with self._cond:
            self._groups[key].busy -= 1
            self._total -= 1
            self._cond.notify_all()

    def environments(self) -> list[Environment]:
        """Every live environment, idle or busy (a snapshot)."""
        with self._cond:
            return list(self._all)

    def retire_idle(self, predicate: Callable[[Environment], bool]) -> int:
        """Close the idle environments ``predicate`` picks; how many were closed."""
        picked: list[Environment] = []
        with self._cond:
            for group in self._groups.values():
                gone = [e for e in group.idle if predicate(e)]
                if gone:
                    group.idle = [e for e in group.idle if e not in gone]
                    picked += gone
            self._total -= len(picked)
            self._all.difference_update(picked)
            self._cond.notify_all()
        for env in picked:
            env.close()
        return len(picked)

    def release(self, key: Key, env: Environment, reusable: bool) -> None:
        """Return ``env`` after an invocation; it is closed unless it can serve again."""
        with self._cond:
            group = self._groups[key]
            group.busy -= 1
            keep = reusable and not self._closed and env.fingerprint == group.fingerprint and env.alive
            if keep:
                env.last_used = self._clock()
                group.idle.append(env)
            else:
                self._total -= 1
                self._all.discard(env)
            self._cond.notify_all()
        if not keep:
            env.close()

    def reap_idle(self) -> int:
        """Close environments idle for longer than ``idle_timeout_s``; how many were closed."""
        now = self._clock()
        expired: list[Environment] = []
        with self._cond:
            for group in self._groups.values():
                old = [e for e in group.idle if now - e.last_used >= self.idle_timeout_s]
                if old:
                    group.idle = [e for e in group.idle if e not in old]
                    expired += old
            self._total -= len(expired)
            self._all.difference_update(expired)
            self._cond.notify_all()
        for env in expired:
            env.close()
        return len(expired)

    def shutdown(self) -> None:
        """Close every environment, busy ones too (their invocations end as runtime exits)."""
        with self._cond:
            self._closed = True
            everything = list(self._all)
            for group in self._groups.values():
                group.idle = []
            self._all.clear()
            self._cond.notify_all()
        for env in everything:
            env.close()

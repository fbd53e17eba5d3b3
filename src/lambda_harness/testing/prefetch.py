"""Event cases invoked ahead of their test items: functions in parallel, each one's cases in order.

pytest runs items one after another; invoking 50 functions' cases that way leaves the
endpoint's cores idle while each cold start runs. When the first event-case item runs,
``CasePrefetcher`` starts a few threads (bounded by the cores and max-concurrency) that
invoke the session's cases function by function: one function's cases stay in order (a
case may depend on what the one before it left behind), different functions run side by
side. Each item then waits for its own invocation, so pytest's output, the JUnit report
and the results file keep the order of the items.

All of the event cases run before any test collected after them starts (the last case
item waits for its own result), so hand-written tests never run beside them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lambda_harness.errors import InvocationError
from lambda_harness.testing.cases import EventCase

Invoke = Callable[[EventCase], object]  # an Invocation; InvocationError when it cannot be made


@dataclass
class _Slot:
    """One case's invocation, filled in by a prefetch thread."""

    done: threading.Event = field(default_factory=threading.Event)
    value: object = None
    error: InvocationError | None = None


class CasePrefetcher:
    """Invokes cases on ``workers`` threads; ``result(case)`` waits for that case's invocation."""

    def __init__(self, invoke: Invoke, cases: Sequence[EventCase], workers: int) -> None:
        self._invoke = invoke
        self._slots = {case.id: _Slot() for case in cases}
        chains: dict[str, list[EventCase]] = {}
        for case in cases:  # in item order: the first function tested is the first one invoked
            chains.setdefault(case.function, []).append(case)
        self._chains = list(chains.values())
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"lh-cases-{i}", daemon=True)
            for i in range(max(1, min(workers, len(self._chains))))
        ]
        for thread in self._threads:
            thread.start()

    def covers(self, case: EventCase) -> bool:
        """Whether this case is being invoked ahead."""
        return case.id in self._slots

    def result(self, case: EventCase) -> object:
        """The case's invocation, once made (its InvocationError is raised here, in the item)."""
        slot = self._slots[case.id]
        slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.value

    def stop(self) -> None:
        """Take no further case (an invocation under way finishes; its thread then ends)."""
        self._stopping.set()

    def _next_chain(self) -> list[EventCase] | None:
        with self._lock:
            if self._stopping.is_set() or not self._chains:
                return None
            return self._chains.pop(0)

    def _work(self) -> None:
        while (chain := self._next_chain()) is not None:
            for case in chain:
                if self._stopping.is_set():
                    return
                slot = self._slots[case.id]
                try:
                    slot.value = self._invoke(case)
                except InvocationError as exc:
                    slot.error = exc
                except Exception as exc:  # anything else still ends the item that waits, with its text
                    slot.error = InvocationError(
                        f"invoking {case.function} for case {case.id} crashed: {exc}"
                    )
                finally:
                    slot.done.set()

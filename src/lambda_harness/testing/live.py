"""Event cases run in this process, for ``watch``: no pytest start-up between a save and its result.

``run`` tests through pytest (the team's conftest, hand-written tests, JUnit); ``watch``
reruns only the event cases of the functions a change reaches, so it invokes them here
with the same ``Invoker``, judges them with the same ``check_case`` and records the same
``CaseResult`` the plugin writes. ``LiveResults`` keeps the latest result of every
function, so the table shows them all and a failure stays on screen until it is fixed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambda_harness.errors import ConfigError, InvocationError
from lambda_harness.testing.cases import EventCase, GateProblem, check_case
from lambda_harness.testing.invoker import Invocation
from lambda_harness.testing.prefetch import CasePrefetcher
from lambda_harness.testing.results import (
    CaseResult,
    ResultsRecorder,
    failure_texts,
    init_error_hint,
    init_failed,
    log_excerpt,
    summary_rows,
)

#: An invocation's IAM denials and the problems they make (``testing.iam.case_denials``).
IamCheck = Callable[[Invocation], tuple[list[dict[str, Any]], list[str]]]


def evaluate_case(
    case: EventCase, invocation: Invocation | InvocationError, iam: IamCheck | None = None
) -> CaseResult:
    """The plugin's verdict on one event case, as a ``CaseResult`` (nothing raised).

    ``iam`` asks the endpoint what the function's role was refused during the invocation:
    as in ``run``, a refusal fails the case (``iam = enforce``), even one the handler caught.
    """
    result = CaseResult(function=case.function, case=case.name, outcome="failed")
    if isinstance(invocation, InvocationError):
        result.problems = [str(invocation)]
        return result
    inv = invocation
    try:
        problems = check_case(case, inv.payload, inv.error_type or inv.function_error, inv.error_message)
    except ConfigError as exc:  # an unreadable .expected.json: the case fails, saying why
        problems = [str(exc)]
    if iam is not None:
        result.iam_denials, refused = iam(inv)
        problems += refused
    result.cold, result.duration_ms, result.init_ms = inv.cold, inv.duration_ms, inv.init_ms
    result.wall_ms, result.max_memory_mb, result.error_type = inv.wall_ms, inv.max_memory_mb, inv.error_type
    if problems and init_failed(inv.error_type, inv.log_tail):
        problems.append(init_error_hint(inv.error_type, inv.error_message, at_init=True))
    result.problems = problems
    if problems:
        result.log_excerpt = log_excerpt(inv.log_tail)
    else:
        result.outcome = "passed"
    return result


def run_cases(
    invoke: Callable[[EventCase], Invocation],
    cases: Sequence[EventCase],
    workers: int | None = None,
    iam: IamCheck | None = None,
) -> list[CaseResult]:
    """Invoke and judge ``cases``: functions side by side, each function's cases in order."""
    workers = workers or os.cpu_count() or 1

    def safe(case: EventCase) -> Invocation | InvocationError:
        try:
            return invoke(case)
        except InvocationError as exc:
            return exc

    prefetch = CasePrefetcher(safe, cases, workers)
    try:
        return [evaluate_case(case, prefetch.result(case), iam) for case in cases]  # type: ignore[arg-type]
    finally:
        prefetch.stop()


@dataclass
class LiveResults:
    """The latest case results of every function, and the gate's latest word."""

    cases: dict[str, list[CaseResult]] = field(default_factory=dict)  # function -> its cases' results
    gate: list[GateProblem] = field(default_factory=list)

    def update(self, functions: Iterable[str], results: Iterable[CaseResult]) -> None:
        """Replace the results of ``functions`` (a function whose cases are gone has none)."""
        fresh: dict[str, list[CaseResult]] = {name: [] for name in functions}
        for result in results:
            fresh.setdefault(result.function, []).append(result)
        self.cases.update(fresh)

    def forget(self, keep: Iterable[str]) -> None:
        """Drop functions that are no longer deployed."""
        wanted = set(keep)
        self.cases = {name: found for name, found in self.cases.items() if name in wanted}

    def document(self) -> dict[str, Any]:
        """The results file's shape (``ResultsRecorder.to_dict``), for the shared table helpers."""
        recorder = ResultsRecorder()
        for name in sorted(self.cases):
            recorder.cases.extend(self.cases[name])
        recorder.gate = [{"kind": p.kind, "name": p.name, "message": p.message} for p in self.gate]
        return recorder.to_dict()

    def rows(self, deployed: Sequence[str]) -> list[list[str]]:
        """The per-function table (deployed functions without cases show as not run)."""
        return summary_rows(self.document(), deployed)

    def failures(self) -> list[str]:
        """Every current failure with its log excerpt: stays until the function passes."""
        return failure_texts(self.document())

    @property
    def ok(self) -> bool:
        """No failed case and no gate problem."""
        return not self.gate and all(r.outcome == "passed" for found in self.cases.values() for r in found)

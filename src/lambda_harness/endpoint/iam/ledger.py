"""What the guard saw: every allowed use, every denial, what it could not evaluate, trust refusals.

The ledger is the evidence behind the run's IAM report: denials fail test cases
(attributed through the invocation's request id), uses feed the least-privilege
report, unevaluated operations are listed so nothing passes silently. It is served
as JSON on ``GET /_harness/iam`` (``snapshot``); the pytest plugin and the apply
stage read it over HTTP, so a detached endpoint works the same.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from lambda_harness.endpoint.iam.policy import StatementRef

#: Version of the JSON documents served on /_harness/iam (the pytest plugin checks it).
LEDGER_VERSION = 1
#: Distinct (function, action, resource) uses kept; beyond it uses are counted, not listed.
MAX_USES = 50_000


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Caller(Protocol):
    """Who made a request: a function session (``credentials.FunctionSession``)."""

    @property
    def function(self) -> str: ...

    @property
    def role_arn(self) -> str: ...

    @property
    def account(self) -> str: ...


@dataclass(frozen=True)
class RoleUser:
    """A ``Caller`` that is not a request: Lambda itself using a function's role (an event source)."""

    function: str
    role_arn: str
    account: str


@dataclass(frozen=True)
class Denial:
    """One refused (enforce) or would-be-refused (warn) request."""

    seq: int
    function: str
    role_arn: str
    session_arn: str
    service: str
    operation: str
    action: str
    resource: str
    effect: str  # explicit-deny | implicit-deny
    policy_type: str | None
    statements: tuple[dict[str, Any], ...]
    message: str
    request_id: str | None
    enforced: bool
    unevaluable: tuple[str, ...] = ()
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class TrustFinding:
    """A CreateFunction/UpdateFunctionConfiguration whose role Lambda could not assume."""

    seq: int
    function: str
    role_arn: str
    reason: str
    enforced: bool
    kind: str = "assume"  # assume: CreateFunction; event-source: CreateEventSourceMapping
    at: str = field(default_factory=_now)


@dataclass
class _Use:
    count: int
    statements: set[tuple[str, str, int]]  # (kind, policy, index)
    unevaluable: set[str]


@dataclass
class _FunctionRecord:
    role_arn: str
    account: str
    uses: dict[tuple[str, str], _Use] = field(default_factory=dict)
    unevaluated: dict[tuple[str, str, str], int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    dropped_uses: int = 0


class Ledger:
    """Thread-safe record of one endpoint's IAM decisions, in runs.

    An endpoint outlives a run when it is reused (``up --detach``, the warm loop, ``watch``):
    each pytest session starts a *run* (``mark``) and reads only what happened since
    (``since=``), so a denial or a use of an earlier run is not counted again. The last
    ``KEPT_RUNS`` runs are kept; older evidence is dropped at a mark.
    """

    KEPT_RUNS = 4

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._run = 0
        self._run_starts: dict[int, int] = {0: 0}  # run -> the seq it started after
        self._roles: dict[str, tuple[str, str]] = {}  # function -> (role ARN, account) of its session
        self._records: dict[tuple[int, str], _FunctionRecord] = {}  # (run, function) -> evidence
        self._denials: list[Denial] = []
        self._trust: list[TrustFinding] = []
        self._use_count = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _fn(self, who: Caller) -> _FunctionRecord:
        if self._roles.get(who.function, ("", ""))[0] != who.role_arn:
            # A new role for the function (re-applied Terraform): start its evidence afresh.
            for key in [k for k in self._records if k[1] == who.function]:
                self._use_count -= len(self._records.pop(key).uses)
            self._roles[who.function] = (who.role_arn, who.account)
        key = (self._run, who.function)
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = _FunctionRecord(who.role_arn, who.account)
        return record

    def mark(self) -> int:
        """Start a new run; its number is what ``since`` takes to read only this run's evidence."""
        with self._lock:
            self._run += 1
            self._run_starts[self._run] = self._seq
            oldest = self._run - self.KEPT_RUNS + 1
            for key in [k for k in self._records if k[0] < oldest]:
                self._use_count -= len(self._records.pop(key).uses)
            for run in [r for r in self._run_starts if r < oldest]:
                del self._run_starts[run]
            start = self._run_starts[min(self._run_starts)]
            self._denials = [d for d in self._denials if d.seq > start]
            self._trust = [t for t in self._trust if t.seq > start]
            return self._run

    def _after(self, since: int) -> int:
        """The seq a run started after (runs already dropped: everything kept)."""
        if since <= 0:
            return 0
        if since in self._run_starts:
            return self._run_starts[since]
        return 0 if since < self._run else self._seq

    def session_started(self, who: Caller) -> None:
        """A function got a role session (so it shows in the report even with no AWS call)."""
        with self._lock:
            self._fn(who)

    def use(
        self,
        who: Caller,
        action: str,
        resource: str,
        statements: Iterable[StatementRef],
        *,
        unevaluable: Iterable[str] = (),
    ) -> None:
        """An allowed check, and the statements that allowed it."""
        refs = {(s.source.kind, s.source.name, s.index) for s in statements}
        with self._lock:
            record = self._fn(who)
            entry = record.uses.get((action, resource))
            if entry is None:
                if self._use_count >= MAX_USES:
                    record.dropped_uses += 1
                    return
                self._use_count += 1
                entry = record.uses[(action, resource)] = _Use(0, set(), set())
            entry.count += 1
            entry.statements |= refs
            entry.unevaluable |= set(unevaluable)

    def unevaluated(self, who: Caller, service: str, operation: str, why: str) -> None:
        """A request the guard let through without a decision (no table row, unreadable request)."""
        with self._lock:
            record = self._fn(who)
            key = (service, operation, why)
            record.unevaluated[key] = record.unevaluated.get(key, 0) + 1

    def note(self, who: Caller, text: str) -> None:
        """Something AWS would do differently that is not a denial (shown in the report)."""
        with self._lock:
            record = self._fn(who)
            record.notes[text] = record.notes.get(text, 0) + 1

    def deny(self, **fields: Any) -> Denial:
        """Record a denial (``Denial``'s fields except seq and at)."""
        with self._lock:
            denial = Denial(seq=self._next(), **fields)
            self._denials.append(denial)
            return denial

    def trust(
        self, function: str, role_arn: str, reason: str, enforced: bool, kind: str = "assume"
    ) -> TrustFinding:
        """Record a role Lambda could not assume (or use for an event source mapping)."""
        with self._lock:
            finding = TrustFinding(self._next(), function, role_arn, reason, enforced, kind)
            self._trust.append(finding)
            return finding

    # --- reading (``since``: a run number from ``mark``; 0 is everything kept) ---------------------

    def denials(self, request_id: str | None = None, *, since: int = 0) -> list[Denial]:
        with self._lock:
            after = self._after(since)
            return [
                d
                for d in self._denials
                if d.seq > after and (request_id is None or d.request_id == request_id)
            ]

    def trust_findings(self, after: int = 0, *, since: int = 0) -> list[TrustFinding]:
        with self._lock:
            after = max(after, self._after(since))
            return [t for t in self._trust if t.seq > after]

    def _merged(self, since: int) -> dict[str, _FunctionRecord]:
        """Per function, its evidence of the runs from ``since`` on, summed (lock held)."""
        merged: dict[str, _FunctionRecord] = {}
        for name, (role_arn, account) in self._roles.items():
            merged[name] = _FunctionRecord(role_arn, account)
        for (run, name), record in sorted(self._records.items()):
            if run < since or name not in merged:
                continue
            into = merged[name]
            for key, use in record.uses.items():
                entry = into.uses.setdefault(key, _Use(0, set(), set()))
                entry.count += use.count
                entry.statements |= use.statements
                entry.unevaluable |= use.unevaluable
            for ukey, n in record.unevaluated.items():
                into.unevaluated[ukey] = into.unevaluated.get(ukey, 0) + n
            for text, n in record.notes.items():
                into.notes[text] = into.notes.get(text, 0) + n
            into.dropped_uses += record.dropped_uses
        return merged

    def uses_by_role(self, *, since: int = 0) -> dict[str, list[tuple[str, str, str]]]:
        """role ARN -> (function, action, resource) of every allowed use."""
        with self._lock:
            out: dict[str, list[tuple[str, str, str]]] = {}
            for name, record in self._merged(since).items():
                rows = out.setdefault(record.role_arn, [])
                rows += [(name, action, resource) for action, resource in record.uses]
            return out

    def functions(self, *, since: int = 0) -> dict[str, dict[str, Any]]:
        """Per function: role, uses, what was not evaluated, notes (JSON-ready)."""
        with self._lock:
            merged = self._merged(since)
        return {
            name: {
                "role_arn": r.role_arn,
                "account": r.account,
                "used": [
                    {
                        "action": action,
                        "resource": resource,
                        "count": use.count,
                        "allowed_by": [
                            {"kind": k, "policy": p, "index": i} for k, p, i in sorted(use.statements)
                        ],
                        "unevaluable": sorted(use.unevaluable),
                    }
                    for (action, resource), use in sorted(r.uses.items())
                ],
                "not_evaluated": [
                    {"service": s, "operation": o, "why": why, "count": n}
                    for (s, o, why), n in sorted(r.unevaluated.items())
                ],
                "notes": sorted(r.notes),
                "uses_not_listed": r.dropped_uses,
            }
            for name, r in sorted(merged.items())
        }

    def reset(self) -> None:
        with self._lock:
            self._roles.clear()
            self._records.clear()
            self._denials.clear()
            self._trust.clear()
            self._use_count = 0


def denial_dict(denial: Denial) -> dict[str, Any]:
    """A denial as JSON (tuples become lists)."""
    data = asdict(denial)
    data["statements"] = list(denial.statements)
    data["unevaluable"] = list(denial.unevaluable)
    return data

"""``smoke``: load every deployed function once (import + handler lookup), no event cases.

Only an init failure (the module does not import, the handler is missing) fails
the smoke test; a handler that raises on the probe event has still initialised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambda_harness.errors import InvocationError
from lambda_harness.testing.artifacts import ImportContext
from lambda_harness.testing.invoker import Invocation, Invoker
from lambda_harness.testing.results import init_error_hint, init_failed

SMOKE_EVENT = {"__lambda_harness_smoke__": True}


@dataclass
class SmokeReport:
    """What ``smoke`` found: one row per deployed function."""

    ok: bool
    rows: list[list[str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def classify_smoke(
    inv: Invocation, tf_file: object, context: ImportContext | None = None
) -> tuple[bool, str]:
    """(initialised?, detail): only an init failure (import, handler lookup) fails the smoke test."""
    if inv.ok:
        return True, "initialised, handler returned"
    if init_failed(inv.error_type, inv.log_tail):
        where = f" (declared in {tf_file})" if tf_file else ""
        hint = init_error_hint(inv.error_type, inv.error_message, at_init=True, context=context)
        return False, f"{inv.error_type}: {inv.error_message or ''}{where}" + (f"; {hint}" if hint else "")
    return True, f"initialised; handler raised {inv.error_type or inv.function_error} on the probe event"


def smoke_one(invoker: Invoker, fn: Any, report: SmokeReport, context: ImportContext | None = None) -> None:
    """Load ``fn`` once; ``context`` (the zips it loads) sharpens the advice for a missing module."""
    try:
        inv = invoker.invoke(fn.name, SMOKE_EVENT)
    except InvocationError as exc:
        report.rows.append([fn.name, "FAILED", "-", str(exc)])
        report.failures.append(f"{fn.name}: {exc}")
        return
    good, detail = classify_smoke(inv, fn.tf_file, context)
    init = "-" if inv.init_ms is None else f"{inv.init_ms:.1f}"
    report.rows.append([fn.name, "ok" if good else "FAILED", init, detail])
    if not good:
        report.failures.append(f"{fn.name}: {detail}")


# --- apply / destroy ------------------------------------------------------------------------------

"""Read what a plan would change from ``terraform show -json <planfile>``.

Used for the idempotency check: after an apply, a second plan must change
nothing; if it does, the resources and attributes that churn are named
("perpetual diff: aws_lambda_function.x: update (source_code_hash)").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PlannedChange:
    """One resource (or output) the plan would touch."""

    address: str
    actions: tuple[str, ...]
    attributes: tuple[str, ...]

    def describe(self) -> str:
        """``aws_s3_bucket.b: update (tags, tags_all)``."""
        if self.actions == ("read",):
            # A data source read at apply time: a consequence of another change, not a cause.
            return f"{self.address}: read during apply (it depends on a change listed here)"
        action = "replace" if set(self.actions) == {"create", "delete"} else "+".join(self.actions)
        attrs = f" ({', '.join(self.attributes)})" if self.attributes else ""
        return f"{self.address}: {action}{attrs}"


def changed_attributes(before: Any, after: Any, after_unknown: Any) -> tuple[str, ...]:
    """Top-level attribute names whose value differs or becomes unknown."""
    b = before if isinstance(before, Mapping) else {}
    a = after if isinstance(after, Mapping) else {}
    unknown = after_unknown if isinstance(after_unknown, Mapping) else {}
    names = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    names |= {k for k, v in unknown.items() if _any_true(v)}
    return tuple(sorted(names))


def _any_true(value: Any) -> bool:
    """``after_unknown`` nests dicts and lists; a ``true`` anywhere means "known after apply"."""
    if isinstance(value, Mapping):
        return any(_any_true(v) for v in value.values())
    if isinstance(value, list):
        return any(_any_true(v) for v in value)
    return value is True


def planned_changes(plan: Mapping[str, Any]) -> list[PlannedChange]:
    """Every resource change whose actions are not ``no-op``, and every changed output."""
    changes: list[PlannedChange] = []
    for rc in plan.get("resource_changes") or []:
        change = rc.get("change") or {}
        actions = tuple(change.get("actions") or ())
        if not actions or actions == ("no-op",):
            continue
        attrs: tuple[str, ...] = ()
        if "update" in actions or set(actions) == {"create", "delete"}:
            attrs = changed_attributes(change.get("before"), change.get("after"), change.get("after_unknown"))
        changes.append(PlannedChange(str(rc.get("address")), actions, attrs))
    # Causes first: data sources re-read at apply time only follow from the changes above them.
    changes.sort(key=lambda c: c.actions == ("read",))
    for name, change in sorted((plan.get("output_changes") or {}).items()):
        actions = tuple(change.get("actions") or ())
        if actions and actions != ("no-op",):
            changes.append(PlannedChange(f"output.{name}", actions, ()))
    return changes


def perpetual_diff_message(changes: Sequence[PlannedChange], workdir: str) -> str:
    """The TerraformError text for a non-empty second plan."""
    lines = [f"perpetual diff: {c.describe()}" for c in changes]
    return (
        "a second `terraform plan` right after apply is not empty, so every real apply would change these "
        "again:\n  " + "\n  ".join(lines) + "\n"
        "Fix the configuration so the value is stable (a timestamp(), uuid() or a file that changes on "
        "every build, an attribute the API normalises, a missing ignore_changes). "
        f"Inspect with: cd {workdir} && terraform plan"
    )

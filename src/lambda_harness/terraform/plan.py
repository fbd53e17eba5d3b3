"""Read what a plan would change from ``terraform show -json <planfile>``.

Used for the idempotency check: after an apply, a second plan must change
nothing; if it does, the resources and attributes that churn are named
("perpetual diff: aws_lambda_function.x: update (source_code_hash)"). A change
whose every changed attribute is one the emulator is known to drop
(``emulator_gaps.json``, data) is told apart from a configuration problem, and
the ``idempotency-waive`` setting takes named resource attributes out of the
check (``apply_waivers``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class PlannedChange:
    """One resource (or output) the plan would touch."""

    address: str
    actions: tuple[str, ...]
    attributes: tuple[str, ...]
    #: Changed leaf paths (``default_cache_behavior.lambda_function_association``; no list indices).
    paths: tuple[str, ...] = field(default=(), compare=False)
    #: The resource type (``aws_cloudfront_distribution``); empty for outputs.
    type: str = field(default="", compare=False)

    @property
    def waivable(self) -> bool:
        """An update or a replace of a resource (a create, delete or read is never waived)."""
        return bool(self.paths) and (self.actions == ("update",) or set(self.actions) == {"create", "delete"})

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


def changed_paths(before: Any, after: Any, after_unknown: Any, prefix: str = "") -> tuple[str, ...]:
    """Dotted paths of every changed (or unknown-after-apply) value, down to the first level where the
    two sides differ in shape; nested blocks' list positions are left out of the names."""
    found: list[str] = []
    _walk(before, after, after_unknown, prefix, found)
    return tuple(sorted(set(found)))


def _walk(before: Any, after: Any, unknown: Any, prefix: str, found: list[str]) -> None:
    def join(key: str) -> str:
        return f"{prefix}.{key}" if prefix else key

    if isinstance(before, Mapping) and isinstance(after, Mapping):
        fields_unknown = unknown if isinstance(unknown, Mapping) else {}
        for key in sorted(set(before) | set(after) | set(fields_unknown)):
            _walk(before.get(key), after.get(key), fields_unknown.get(key), join(str(key)), found)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        items_unknown = unknown if isinstance(unknown, list) else []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            _walk(b, a, items_unknown[i] if i < len(items_unknown) else None, prefix, found)
    elif (before != after or _any_true(unknown)) and prefix:
        found.append(prefix)


def planned_changes(plan: Mapping[str, Any]) -> list[PlannedChange]:
    """Every resource change whose actions are not ``no-op``, and every changed output."""
    changes: list[PlannedChange] = []
    for rc in plan.get("resource_changes") or []:
        change = rc.get("change") or {}
        actions = tuple(change.get("actions") or ())
        if not actions or actions == ("no-op",):
            continue
        attrs: tuple[str, ...] = ()
        paths: tuple[str, ...] = ()
        if "update" in actions or set(actions) == {"create", "delete"}:
            sides = (change.get("before"), change.get("after"), change.get("after_unknown"))
            attrs = changed_attributes(*sides)
            paths = changed_paths(*sides)
        address = str(rc.get("address"))
        kind = str(rc.get("type") or _type_of(address))
        changes.append(PlannedChange(address, actions, attrs, paths=paths, type=kind))
    # Causes first: data sources re-read at apply time only follow from the changes above them.
    changes.sort(key=lambda c: c.actions == ("read",))
    for name, change in sorted((plan.get("output_changes") or {}).items()):
        actions = tuple(change.get("actions") or ())
        if actions and actions != ("no-op",):
            changes.append(PlannedChange(f"output.{name}", actions, ()))
    return changes


def _type_of(address: str) -> str:
    """``module.m.aws_s3_bucket.b["k"]`` -> ``aws_s3_bucket``."""
    parts = address.split("[", 1)[0].split(".")
    while parts[:1] == ["module"] and len(parts) > 2:
        parts = parts[2:]
    if parts[:1] == ["data"]:
        parts = parts[1:]
    return parts[0] if parts else ""


@dataclass(frozen=True)
class EmulatorGap:
    """An attribute a local emulator drops: a diff on it is the emulator's, not the configuration's."""

    resource: str
    attribute: str
    emulator: str
    why: str

    def covers(self, change: PlannedChange, path: str) -> bool:
        inside = path == self.attribute or path.startswith(self.attribute + ".")
        return change.type == self.resource and inside


def _load_gaps() -> tuple[EmulatorGap, ...]:
    text = resources.files("lambda_harness.terraform").joinpath("emulator_gaps.json").read_text("utf-8")
    return tuple(EmulatorGap(**entry) for entry in json.loads(text)["gaps"])


#: The known gaps (``emulator_gaps.json``): add an entry there, with the reason, when one is found.
EMULATOR_GAPS = _load_gaps()


def emulator_gaps(change: PlannedChange, gaps: Iterable[EmulatorGap] = EMULATOR_GAPS) -> list[EmulatorGap]:
    """The gaps that explain ``change`` entirely (every changed path is one), else ``[]``."""
    if not change.waivable:
        return []
    known = list(gaps)
    found: list[EmulatorGap] = []
    for path in change.paths:
        gap = next((g for g in known if g.covers(change, path)), None)
        if gap is None:
            return []
        if gap not in found:
            found.append(gap)
    return found


def _covered(full: str, address: str, waiver: str) -> bool:
    # A waiver names an attribute of the resource: longer than its address, and a dotted prefix of the path.
    return len(waiver) > len(address) + 1 and (full == waiver or full.startswith(waiver + "."))


def apply_waivers(
    changes: Sequence[PlannedChange], waivers: Sequence[str]
) -> tuple[list[PlannedChange], list[str]]:
    """(changes left, ``address.path`` waived): an update or replace whose every changed path is
    covered by a waiver leaves the check; data reads then left only follow from waived changes."""
    remaining: list[PlannedChange] = []
    waived: list[str] = []
    for change in changes:
        full = [f"{change.address}.{path}" for path in change.paths]
        if change.waivable and all(any(_covered(f, change.address, w) for w in waivers) for f in full):
            waived += full
        else:
            remaining.append(change)
    if waived and all(c.actions == ("read",) for c in remaining):
        remaining = []
    return remaining, waived


def waiver_for(change: PlannedChange) -> str:
    """The ``idempotency-waive`` entries that would take ``change`` out of the check."""
    return ", ".join(json.dumps(f"{change.address}.{path}") for path in change.paths)


def perpetual_diff_message(changes: Sequence[PlannedChange], plan_command: str) -> str:
    """The TerraformError text for a non-empty second plan.

    The only command it offers is ``plan_command`` (``lambda-harness plan``): the staged plan with
    the harness's environment. A bare ``terraform plan`` there would run with the user's own
    credentials and could reach real AWS.
    """
    lines: list[str] = []
    emulator: list[PlannedChange] = []
    for change in changes:
        gaps = emulator_gaps(change)
        if gaps:
            emulator.append(change)
            why = "; ".join(f"{g.why} ({g.emulator})" for g in gaps)
            lines.append(f"perpetual diff: {change.describe()} - caused by the emulator: {why}")
        else:
            lines.append(f"perpetual diff: {change.describe()}")
    text = (
        "the second plan, right after apply, is not empty, so every real apply would change these "
        "again:\n  " + "\n  ".join(lines) + "\n"
    )
    if len(emulator) < len(changes):
        text += (
            "Fix the configuration so the value is stable (a timestamp(), uuid() or a file that changes on "
            "every build, an attribute the API normalises, a missing ignore_changes). "
        )
    if emulator:
        entries = ", ".join(waiver_for(c) for c in emulator)
        text += (
            "The emulator does not keep these attributes as real AWS does, so a real apply would not churn "
            "there. "
            "Once you have checked that, waive them in [tool.lambda-harness]: "
            f"idempotency-waive = [{entries}] (listed in every run and in the attestation). "
        )
    return text + f"Inspect with: {plan_command}"

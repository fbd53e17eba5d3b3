"""EventBridge rules with Lambda targets: pattern rules on PutEvents, schedules, triggers.

moto stores rules and targets and delivers to SQS/Logs targets, but never to
Lambda. Pattern rules are hooked at ``Rule.send_to_targets``; whether an event matches
is decided by ``sources.filtering`` (the matcher event source mappings use too: arrays
of objects and dotted keys handled as AWS does), for every target type; schedule rules
fire from a scheduler thread and on demand (``POST /_harness/trigger/<rule>``) with
AWS's scheduled-event payload. Target ``Input``, ``InputPath`` and ``InputTransformer``
are honoured; every delivery is an asynchronous invocation.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from jsonpath_ng.ext import parse as jsonpath  # type: ignore[attr-defined]
from moto.events.models import EventPattern, events_backends
from moto.events.utils import EventTemplateParser

from lambda_harness import events
from lambda_harness.endpoint.invoke import InvokeService
from lambda_harness.endpoint.lookup import resolve
from lambda_harness.endpoint.sources import filtering
from lambda_harness.endpoint.sources.schedule import Schedule, parse_schedule
from lambda_harness.errors import EndpointError

logger = logging.getLogger(__name__)

RuleKey = tuple[str, str, str, str]  # account, region, bus, rule name


def iso_time(epoch: float) -> str:
    """``2026-01-01T12:00:00Z``, the ``time`` field of an EventBridge event."""
    return events.iso_seconds(datetime.fromtimestamp(epoch, tz=UTC))


def all_rules() -> Iterator[tuple[RuleKey, Any]]:
    """Every rule on every bus of every account and region moto has created."""
    for account_id, region, backend in list(events_backends.iter_backends()):
        for bus_name, bus in list(backend.event_buses.items()):  # type: ignore[attr-defined]
            for rule in list(bus.rules.values()):
                yield (account_id, region, bus_name, rule.name), rule


def scheduled_event(rule: Any, now: float) -> dict[str, Any]:
    """AWS's payload for a schedule rule firing (the shape is ``events.scheduled_event``)."""
    return events.scheduled_event(
        event_id=str(uuid.uuid4()),
        account=rule.account_id,
        region=rule.region_name,
        rule_arn=rule.arn,
        moment=datetime.fromtimestamp(now, tz=UTC),
    )


def target_input(target: dict[str, Any], event: dict[str, Any]) -> bytes:
    """What a target passes to its function: Input, InputPath, InputTransformer or the event."""
    if target.get("Input") is not None:
        return str(target["Input"]).encode()
    if target.get("InputPath"):
        matches = jsonpath(target["InputPath"]).find(event)
        return json.dumps(matches[0].value if matches else None).encode()
    if target.get("InputTransformer"):
        transformer = target["InputTransformer"]
        with_ingestion: Any = {"ingestion-time": event.get("time"), **event}  # moto's parser reads it
        result = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=with_ingestion,
        )
        return (result if isinstance(result, str) else json.dumps(result)).encode()
    return json.dumps(event).encode()


def aws_event(event: dict[str, Any]) -> dict[str, Any]:
    """moto's event as AWS delivers it: ISO ``time``, no ``ingestion-time``."""
    out = copy.deepcopy(event)
    out.pop("ingestion-time", None)
    if isinstance(out.get("time"), (int, float)):
        out["time"] = iso_time(float(out["time"]))
    return out


class EventBridge:
    """Delivers rule matches and schedules to Lambda targets."""

    def __init__(self, service: InvokeService, *, clock: Callable[[], float] = time.time) -> None:
        self.service = service
        self.clock = clock

    def deliver(self, rule: Any, event: dict[str, Any]) -> list[str]:
        """Send ``event`` to the rule's Lambda targets; the names of the functions reached."""
        delivered = []
        for target in list(rule.targets):
            arn = str(target.get("Arn", ""))
            if ":lambda:" not in arn:
                continue
            try:
                parts = arn.split(":")
                found = resolve(parts[4], parts[3], arn)
                self.service.submit(found, target_input(target, event), source=f"events:{rule.name}")
                delivered.append(found.fn.function_name)
            except Exception:
                logger.exception("EventBridge rule %s: delivery to %s failed", rule.name, arn)
        return delivered

    def trigger(self, name: str, bus: str | None = None) -> list[str] | None:
        """Fire rule ``name`` now with a scheduled-event payload; None when there is no such rule."""
        for (_, _, bus_name, rule_name), rule in all_rules():
            if rule_name == name and (bus is None or bus == bus_name):
                return self.deliver(rule, scheduled_event(rule, self.clock()))
        return None

    def moto_delivery(
        self,
        original: Callable[..., None],
        rule: Any,
        target: dict[str, Any],
        event: dict[str, Any],
        transform_input: bool,
    ) -> None:
        """Let moto deliver to one non-Lambda target (SQS, Logs, buses, ...).

        moto raises NotImplementedError for target types it lacks (SNS, Step Functions,
        ...); PutEvents must not fail for that, as AWS would have delivered.
        """
        view = copy.copy(rule)  # moto iterates rule.targets: hand it a view with this one
        view.targets = [target]
        view.event_pattern = EventPattern.load(None)  # matched already (filtering); moto's matcher must agree
        try:
            original(view, event, transform_input)
        except NotImplementedError:
            logger.warning(
                "EventBridge rule %s: the embedded endpoint cannot deliver to target %s; event not delivered",
                rule.name,
                target.get("Arn"),
            )

    def make_send_to_targets(self, original: Callable[..., None]) -> Callable[..., None]:
        """Wrap ``moto.events.models.Rule.send_to_targets``.

        AWS matches PutEvents only against enabled rules with an event pattern; moto
        also sends to disabled rules and to schedule-only rules (an empty pattern
        matches everything), so those are skipped here for every target type.
        """
        bridge = self

        def send_to_targets(rule: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
            pattern = rule.event_pattern.get_pattern()
            if rule.state != "ENABLED" or not pattern:
                return
            event = aws_event(original_event)
            if not filtering.matches(pattern, event):  # the one matcher, for every target type
                return
            for target in rule.targets:
                if ":lambda:" not in str(target.get("Arn", "")):
                    bridge.moto_delivery(original, rule, target, original_event, transform_input)
            bridge.deliver(rule, event)

        return send_to_targets


class Scheduler:
    """Fires enabled schedule rules when due (``rate`` from first sight, ``cron`` in UTC).

    ``ticks`` counts the passes the background thread has completed, so a caller can
    wait for the scheduler to have seen a rule instead of sleeping: two more completed
    passes after the rule was created include one that began after it.
    """

    def __init__(self, bridge: EventBridge, *, tick_s: float = 1.0) -> None:
        self.bridge = bridge
        self.tick_s = tick_s
        self.ticks = 0
        self._due: dict[RuleKey, tuple[str, Schedule, float]] = {}
        self._bad: set[RuleKey] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="lh-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick()
            except Exception:
                logger.exception("EventBridge scheduler tick failed")
            self.ticks += 1

    def tick(self) -> list[str]:
        """One pass: fire every due schedule; returns the rules fired."""
        now = self.bridge.clock()
        fired, seen = [], set()
        for key, rule in all_rules():
            expression = rule.scheduled_expression
            if not expression or rule.state != "ENABLED":
                continue
            seen.add(key)
            if self._step(key, rule, expression, now):
                fired.append(rule.name)
        for key in set(self._due) - seen:
            del self._due[key]
        return fired

    def _step(self, key: RuleKey, rule: Any, expression: str, now: float) -> bool:
        entry = self._due.get(key)
        try:
            if entry is None or entry[0] != expression:
                schedule = parse_schedule(expression)
                entry = (expression, schedule, _next(schedule, now))
            due = now >= entry[2]
            if due:
                self.bridge.deliver(rule, scheduled_event(rule, now))
                entry = (entry[0], entry[1], _next(entry[1], now))
        except EndpointError as exc:
            if key not in self._bad:
                logger.warning(
                    "EventBridge rule %s: %s; it will not fire on its own (use trigger)", rule.name, exc
                )
            self._bad.add(key)
            return False
        self._due[key] = entry
        return due


def _next(schedule: Schedule, now: float) -> float:
    return schedule.next_after(datetime.fromtimestamp(now, tz=UTC)).timestamp()

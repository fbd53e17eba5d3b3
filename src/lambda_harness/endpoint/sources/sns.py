"""SNS subscriptions to Lambda with AWS's record and asynchronous delivery.

moto's own delivery uses placeholder ARNs, a constant MessageId, a 1970 timestamp and
made-up message attributes, and runs the function inside ``sns.publish``. The
wrapped ``Subscription.publish`` keeps moto's filter-policy and message-structure
handling and builds the record from the real topic, subscription and message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from lambda_harness import events
from lambda_harness.endpoint.invoke import InvokeService
from lambda_harness.endpoint.lookup import resolve

logger = logging.getLogger(__name__)


def iso_now() -> str:
    """``2026-01-01T12:00:00.123Z``, SNS's timestamp format."""
    return events.iso_millis(datetime.now(tz=UTC))


def sns_record(
    subscription: Any,
    message: str,
    message_id: str,
    subject: str | None,
    message_attributes: dict[str, Any] | None,
) -> dict[str, Any]:
    """One ``Records`` entry as Lambda receives it from SNS."""
    attributes = {
        name: {
            "Type": value.get("Type") or value.get("DataType"),
            "Value": value.get("Value", value.get("StringValue")),
        }
        for name, value in (message_attributes or {}).items()
    }
    return events.sns_record(
        subscription_arn=subscription.arn,
        topic_arn=subscription.topic.arn,
        message_id=message_id,
        message=message,
        subject=subject,
        attributes=attributes,
        timestamp=iso_now(),
    )


def make_publish(original: Callable[..., None], service: InvokeService) -> Callable[..., None]:
    """Wrap ``moto.sns.models.Subscription.publish``: lambda subscriptions are ours."""

    def publish(
        self: Any,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        message_structure = kwargs.get("message_structure")
        if self.protocol != "lambda":
            original(
                self, message, message_id, subject=subject, message_attributes=message_attributes, **kwargs
            )
            return
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        if message_structure == "json":
            message = self._parse_message_structure(message, "lambda")
        event = {"Records": [sns_record(self, message, message_id, subject, message_attributes)]}
        arn_parts = self.endpoint.split(":")
        try:
            target = resolve(arn_parts[4], arn_parts[3], self.endpoint)
            service.submit(target, json.dumps(event).encode(), source="sns")
        except Exception:  # SNS accepted the message; a failed delivery is not the publisher's error
            logger.exception("SNS delivery from %s to %s failed", self.topic.arn, self.endpoint)

    return publish

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

from lambda_harness.endpoint.invoke import InvokeService
from lambda_harness.endpoint.lookup import resolve

logger = logging.getLogger(__name__)


def iso_now() -> str:
    """``2026-01-01T12:00:00.123Z``, SNS's timestamp format."""
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sns_record(
    subscription: Any,
    message: str,
    message_id: str,
    subject: str | None,
    message_attributes: dict[str, Any] | None,
) -> dict[str, Any]:
    """One ``Records`` entry as Lambda receives it from SNS."""
    topic_arn = subscription.topic.arn
    region = topic_arn.split(":")[3]
    attributes = {
        name: {
            "Type": value.get("Type") or value.get("DataType"),
            "Value": value.get("Value", value.get("StringValue")),
        }
        for name, value in (message_attributes or {}).items()
    }
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription.arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": iso_now(),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-lambda-harness.pem",
            "UnsubscribeUrl": (
                f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription.arn}"
            ),
            "MessageAttributes": attributes,
        },
    }


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

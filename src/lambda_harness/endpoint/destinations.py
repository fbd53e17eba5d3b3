"""Where an asynchronous invocation's outcome goes: destinations and the dead-letter queue.

AWS (invocation-async-retain-records; recorded in test_lambda_destinations): an invocation
record ``{"version": "1.0", "timestamp", "requestContext": {requestId, functionArn (with
the qualifier, $LATEST when none), condition: Success | RetriesExhausted |
EventAgeExceeded, approximateInvokeCount}, "requestPayload", "responseContext":
{statusCode, executedVersion[, functionError]}, "responsePayload"}`` goes to

- SQS: as the message body; SNS: as the message; Lambda: as an asynchronous event;
- EventBridge: as ``detail`` of an event with ``source: "lambda"``, ``detail-type:
  "Lambda Function Invocation Result - Success"`` (or ``- Failure``) and ``resources``
  [bus ARN, function ARN].

The dead-letter queue (SQS or SNS) gets the event itself, with the attributes
``RequestID`` (String), ``ErrorCode`` (Number, "200") and ``ErrorMessage`` (String, the
first 1 KB of the error message). Everything goes through the in-process moto backends,
so a destination queue feeds its own mappings, a topic its subscriptions and a bus its
rules. A destination that cannot be written is logged (AWS counts it in
``DestinationDeliveryFailures``); the invocation's outcome stands.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from moto.events.models import events_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from lambda_harness.endpoint.lookup import Target, function_arn, resolve
from lambda_harness.endpoint.runtime.model import InvokeResult

logger = logging.getLogger(__name__)

Condition = Literal["Success", "RetriesExhausted", "EventAgeExceeded"]
#: What the DLQ's ErrorMessage keeps of the error message.
ERROR_MESSAGE_BYTES = 1024
#: How a Lambda destination is invoked: ``submit(target, payload, source=...)``.
Submit = Callable[..., str]


def timestamp(now: datetime | None = None) -> str:
    """``2019-11-14T18:16:05.568Z``."""
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def invoked_arn(target: Target) -> str:
    """``requestContext.functionArn``: the function with the qualifier used, ``$LATEST`` when none."""
    fn = target.fn
    return function_arn(fn.region, fn.account_id, fn.function_name, target.qualifier or "$LATEST")


def record(
    target: Target,
    *,
    request_id: str,
    payload: bytes,
    result: InvokeResult,
    condition: Condition,
    invoke_count: int,
    status_code: int = 200,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The invocation record AWS sends to a destination (``status_code`` 429: only ever throttled)."""
    response: dict[str, Any] = {"statusCode": status_code, "executedVersion": str(target.fn.version)}
    if result.function_error:
        response["functionError"] = result.function_error
    return {
        "version": "1.0",
        "timestamp": timestamp(now),
        "requestContext": {
            "requestId": request_id,
            "functionArn": invoked_arn(target),
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": _json_or_text(payload),
        "responseContext": response,
        "responsePayload": _json_or_text(result.payload),
    }


def _parts(arn: str) -> tuple[str, str, str, str]:
    """(service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[2], parts[3], parts[4], parts[5]


def _string(value: str, kind: str = "String") -> dict[str, str]:
    return {"DataType": kind, "StringValue": value}


class Destinations:
    """Writes records to destinations and events to dead-letter queues (moto in-process)."""

    def __init__(self, submit: Submit) -> None:
        self.submit = submit

    def send(self, arn: str, body: dict[str, Any], target: Target, success: bool) -> None:
        """One invocation record to an SQS, SNS, Lambda or EventBridge destination."""
        try:
            self._send(arn, body, target, success)
        except Exception:  # AWS: DestinationDeliveryFailures; the invocation's outcome stands
            logger.exception("could not send the invocation record of %s to %s", target.fn.function_name, arn)

    def _send(self, arn: str, body: dict[str, Any], target: Target, success: bool) -> None:
        service, region, account, resource = _parts(arn)
        text = json.dumps(body)
        if service == "sqs":
            sqs_backends[account][region].send_message(resource, text)
        elif service == "sns":
            sns_backends[account][region].publish(text, arn=arn)
        elif service == "lambda":
            self.submit(resolve(account, region, arn), text.encode(), source="destination")
        elif service == "events":
            outcome = "Success" if success else "Failure"
            entry = {
                "Source": "lambda",
                "DetailType": f"Lambda Function Invocation Result - {outcome}",
                "Detail": text,
                "EventBusName": arn,
                "Resources": [arn, body["requestContext"]["functionArn"]],
            }
            answer = events_backends[account][region].put_events([entry])
            if answer and "ErrorCode" in answer[0]:
                raise RuntimeError(f"PutEvents: {answer[0]['ErrorCode']}: {answer[0].get('ErrorMessage')}")
        else:
            raise ValueError(
                f"{service} is not a destination lambda-harness delivers to (SQS, SNS, Lambda, EventBridge)"
            )

    def dead_letter(
        self, arn: str, target: Target, request_id: str, payload: bytes, result: InvokeResult
    ) -> None:
        """The event to the function's DLQ (SQS or SNS), with AWS's three attributes."""
        error = _json_or_text(result.payload)
        message = str(error.get("errorMessage", "")) if isinstance(error, dict) else str(error or "")
        attributes = {
            "RequestID": _string(request_id),
            "ErrorCode": _string("200", "Number"),
            "ErrorMessage": _string(message.encode()[:ERROR_MESSAGE_BYTES].decode("utf-8", "ignore")),
        }
        try:
            service, region, account, resource = _parts(arn)
            text = payload.decode("utf-8", "replace")
            if service == "sqs":
                sqs_backends[account][region].send_message(resource, text, message_attributes=attributes)
            elif service == "sns":  # moto's SNS keeps attributes as the SNS API forwards them
                sns_attributes = {
                    k: {"Type": v["DataType"], "Value": v["StringValue"]} for k, v in attributes.items()
                }
                sns_backends[account][region].publish(text, arn=arn, message_attributes=sns_attributes)
            else:
                raise ValueError(f"a dead-letter queue is SQS or SNS, not {service}")
        except Exception:
            logger.exception(
                "could not send the failed event of %s to its DLQ %s", target.fn.function_name, arn
            )

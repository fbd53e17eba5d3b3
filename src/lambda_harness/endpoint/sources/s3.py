"""S3 bucket notifications to Lambda, shaped and timed like AWS's.

moto builds the record without ``userIdentity``, ``requestParameters``,
``responseElements``, ``s3.bucket.ownerIdentity`` and ``s3.object.sequencer``, and
with an ``eventTime`` lacking its ``Z``; and it runs the function inside the
``put_object`` request. ``enrich`` completes the record (also for notifications
moto sends to SQS and SNS); ``deliver`` queues an asynchronous invocation, as S3
does, so ``put_object`` returns at once.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from lambda_harness.endpoint.invoke import InvokeService
from lambda_harness.endpoint.lookup import resolve
from lambda_harness.events import principal_id

logger = logging.getLogger(__name__)

_sequencer_lock = threading.Lock()
_last_sequencer = 0


def next_sequencer() -> str:
    """A strictly increasing hex sequencer (AWS compares them as strings of equal length)."""
    global _last_sequencer  # noqa: PLW0603 - one process-wide ordering, like S3's per key
    with _sequencer_lock:
        _last_sequencer = max(_last_sequencer + 1, time.time_ns())
        return f"{_last_sequencer:018X}"


def enrich(event: dict[str, Any], bucket: Any, key: Any) -> dict[str, Any]:
    """Fill in the fields moto leaves out of an S3 event (in place; also returned)."""
    account_id = str(getattr(bucket, "account_id", "000000000000"))
    for record in event.get("Records", []):
        if not str(record.get("eventTime", "")).endswith("Z"):
            record["eventTime"] = f"{record['eventTime']}Z"
        record.setdefault("userIdentity", {"principalId": f"AWS:{principal_id(account_id)}"})
        record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
        record.setdefault(
            "responseElements",
            {
                "x-amz-request-id": secrets.token_hex(8).upper(),
                "x-amz-id-2": base64.b64encode(secrets.token_bytes(57)).decode("ascii"),
            },
        )
        s3 = record.setdefault("s3", {})
        owner = {"principalId": principal_id(account_id, "A", 13)}
        s3.setdefault("bucket", {}).setdefault("ownerIdentity", owner)
        obj = s3.setdefault("object", {})
        if getattr(key, "name", None):
            obj["key"] = quote_plus(key.name, safe="/")  # AWS keeps the slashes; moto encodes them
        obj.setdefault("sequencer", next_sequencer())
        version_id = getattr(key, "version_id", None)
        if getattr(bucket, "is_versioned", False) and version_id and version_id != "null":
            obj.setdefault("versionId", version_id)
    return event


def make_get_s3_event(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Wrap ``moto.s3.notifications._get_s3_event`` so every S3 event is complete."""

    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        return enrich(original(event_name, bucket, key, notification_id), bucket, key)

    return get_s3_event


def make_invoke_awslambda(service: InvokeService) -> Callable[[str, Any, str, str], None]:
    """Replacement for ``moto.s3.notifications._invoke_awslambda``: an async invocation."""

    def invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        try:
            target = resolve(account_id, region_name, fn_arn)
            service.submit(target, json.dumps(event_body).encode(), source="s3")
        except Exception:  # S3 never fails a put because its notification could not be sent
            logger.exception("S3 notification to %s could not be delivered", fn_arn)

    return invoke_awslambda

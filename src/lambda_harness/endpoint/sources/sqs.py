"""SQS event source mappings, polled like Lambda's pollers do.

moto delivers synchronously inside ``send_message``, one record per invocation,
ignores ``ReportBatchItemFailures`` and never retries; ``hooks`` detaches SQS
mappings from moto's queues and this poller takes over. It reads through the
in-process SQS backend, so moto's visibility timeouts and its redrive to the
dead-letter queue after ``maxReceiveCount`` apply unchanged:

* up to ``BatchSize`` messages per invocation, waiting up to
  ``MaximumBatchingWindowInSeconds`` to fill a batch;
* success deletes the batch; a function error deletes nothing, so the messages
  come back after the queue's visibility timeout (and move to the DLQ after
  ``maxReceiveCount`` receives);
* with ``FunctionResponseTypes = ["ReportBatchItemFailures"]`` only the messages
  not listed in ``batchItemFailures`` are deleted (an invalid answer fails the batch);
* ``FilterCriteria`` patterns (EventBridge syntax, ``sources.filtering``, against the
  record with ``body`` parsed when it is JSON): messages no filter matches are deleted
  without invoking, as AWS does;
* one batch in flight per mapping, so a queue is read in order.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.sqs.models import sqs_backends

from lambda_harness import events
from lambda_harness.endpoint.invoke import InvokeService
from lambda_harness.endpoint.lookup import resolve
from lambda_harness.endpoint.runtime.model import InvokeResult
from lambda_harness.endpoint.sources import filtering
from lambda_harness.errors import EndpointError

logger = logging.getLogger(__name__)


def sqs_mappings() -> Iterator[tuple[Any, Any, Any]]:
    """(mapping, queue, sqs backend) for every enabled SQS event source mapping."""
    for account_id, region, backend in list(lambda_backends.iter_backends()):
        for esm in list(backend._event_source_mappings.values()):  # type: ignore[attr-defined]
            arn = str(esm.event_source_arn)
            if not esm.enabled or ":sqs:" not in arn:
                continue
            sqs = sqs_backends[account_id][region]
            queue = next((q for q in list(sqs.queues.values()) if q.queue_arn == arn), None)
            if queue is not None:
                yield esm, queue, sqs


def message_attributes(message: Any) -> dict[str, Any]:
    """SQS API attributes -> the lower-camel form Lambda records carry."""
    out = {}
    for name, value in (message.message_attributes or {}).items():
        entry: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            entry["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
        out[name] = entry
    return out


def sqs_record(message: Any, queue: Any) -> dict[str, Any]:
    """One ``Records`` entry as Lambda receives it from SQS (the shape is ``events.sqs_record``)."""
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": str(message.sender_id),
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if getattr(queue, "fifo_queue", False):
        attributes["MessageGroupId"] = str(message.group_id)
        attributes["MessageDeduplicationId"] = str(message.deduplication_id)
        attributes["SequenceNumber"] = str(message.sequence_number)
    trace = (message.system_attributes or {}).get("AWSTraceHeader")
    if trace:
        attributes["AWSTraceHeader"] = trace.get("StringValue", "") if isinstance(trace, dict) else str(trace)
    return events.sqs_record(
        message_id=message.id,
        receipt_handle=message.receipt_handle,
        body=message.body,
        attributes=attributes,
        message_attributes=message_attributes(message),
        md5_of_body=message.body_md5,
        queue_arn=queue.queue_arn,
        region=queue.region,
    )


def passes_filters(esm: Any, record: dict[str, Any]) -> bool:
    """Whether a record passes the mapping's ``FilterCriteria`` (no filters: everything passes)."""
    return filtering.passes(filtering.load(esm.filter_criteria), filtering.sqs_candidate(record))


def failed_item_ids(result: InvokeResult, batch_ids: set[str]) -> set[str] | None:
    """The message ids a ``ReportBatchItemFailures`` answer lists; None = the whole batch failed."""
    try:
        answer = json.loads(result.payload or b"null")
    except ValueError:
        return None
    if answer is None or (isinstance(answer, dict) and not answer.get("batchItemFailures")):
        return set()
    if not isinstance(answer, dict) or not isinstance(answer["batchItemFailures"], list):
        return None
    failed = set()
    for item in answer["batchItemFailures"]:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in batch_ids:
            return None  # AWS treats an unknown or empty identifier as a failure of the batch
        failed.add(ident)
    return failed


class SqsPoller:
    """Polls every enabled SQS mapping and invokes its function with batches."""

    def __init__(
        self,
        service: InvokeService,
        *,
        interval_s: float = 0.05,
        workers: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.interval_s = interval_s
        self.clock = clock
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lh-sqs")
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="lh-sqs-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.poll_once()
            except Exception:
                logger.exception("SQS poller pass failed")

    def poll_once(self) -> int:
        """Start a batch for every idle mapping whose queue has visible messages; how many started."""
        started = 0
        for esm, queue, sqs in sqs_mappings():
            with self._lock:
                if esm.uuid in self._busy or not queue.messages:
                    continue
                self._busy.add(esm.uuid)
            self._executor.submit(self._run_batch, esm, queue, sqs)
            started += 1
        return started

    def _run_batch(self, esm: Any, queue: Any, sqs: Any) -> None:
        try:
            messages = self._collect(esm, queue, sqs)
            if messages:
                self._deliver(esm, queue, sqs, messages)
        except Exception:
            logger.exception("SQS mapping %s (%s): batch failed", esm.uuid, queue.name)
        finally:
            with self._lock:
                self._busy.discard(esm.uuid)

    def _collect(self, esm: Any, queue: Any, sqs: Any) -> list[Any]:
        size = int(esm.batch_size or 10)
        window = float(esm.max_batch_window or 0)
        deadline = self.clock() + window
        batch: dict[str, Any] = {}  # by message id: a window longer than the visibility timeout
        while True:  # could otherwise receive the same message twice
            wanted = size - len(batch)
            for message in sqs.receive_message(queue.name, wanted, 0, queue.visibility_timeout, ["All"]):
                batch[message.id] = message
            if len(batch) >= size or self.clock() >= deadline or self._stop.wait(self.interval_s):
                return list(batch.values())

    def _deliver(self, esm: Any, queue: Any, sqs: Any, messages: list[Any]) -> None:
        records = [sqs_record(m, queue) for m in messages]
        kept = [r for r in records if passes_filters(esm, r)]
        kept_ids = {r["messageId"] for r in kept}
        for message in messages:
            if message.id not in kept_ids:
                sqs.delete_message(queue.name, message.receipt_handle)
        messages = [m for m in messages if m.id in kept_ids]
        if not messages:
            return
        event = {"Records": kept}
        target = resolve(esm.account_id, esm.region, esm.function_arn)
        fn = target.fn
        try:
            result = self.service.run(target, json.dumps(event).encode())
        except EndpointError as exc:  # throttled or a harness fault: the batch comes back later
            logger.warning("SQS mapping %s -> %s: %s", queue.name, fn.function_name, exc)
            return
        if result.function_error:
            return  # nothing deleted: visible again after the visibility timeout
        ids = {m.id for m in messages}
        failed: set[str] | None = set()
        if "ReportBatchItemFailures" in (esm.function_response_types or ()):
            failed = failed_item_ids(result, ids)
        if failed is None:
            logger.warning(
                "SQS mapping %s -> %s: invalid batchItemFailures answer; the batch is retried",
                queue.name,
                fn.function_name,
            )
            return
        for message in messages:
            if message.id not in failed:
                sqs.delete_message(queue.name, message.receipt_handle)

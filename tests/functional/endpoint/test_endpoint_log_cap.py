"""The CloudWatch Logs the endpoint keeps are capped (issue 9, item 6).

A real endpoint whose log sink keeps at most 256 KiB, a real worker printing 64 KiB an
invocation: after twenty invocations its stream holds a note saying how much was dropped, then
only the most recent invocations' lines, and what the sink counts stays under the cap.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.endpoint.cloudwatch import DROPPED_NOTE, LogSink
from lambda_harness.endpoint.runtime import make_runtime
from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.ui import PlainUI
from support.endpoint import handler_zip, make_settings

CAP = 256 * 1024

CHATTY = """
def handler(event, context):
    for i in range(64):
        print(f"call {event['call']} line {i} " + "x" * 1000)
    return event["call"]
"""


@pytest.fixture(scope="module")
def sink() -> LogSink:
    return LogSink(max_bytes=CAP)


@pytest.fixture(scope="module")
def endpoint(
    tmp_path_factory: pytest.TempPathFactory, endpoint_cache: Path, sink: LogSink
) -> Iterator[EmbeddedEndpoint]:
    settings = make_settings(tmp_path_factory.mktemp("project"), endpoint_cache)
    runtime = make_runtime(settings)
    endpoint = EmbeddedEndpoint(settings, runtime, PlainUI(quiet=True), logs=sink)
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()
        runtime.shutdown()


def stream_events(logs: Any, group: str) -> list[str]:
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1  # one execution environment: invocations ran one after the other
    name = streams[0]["logStreamName"]
    got = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
    return [e["message"] for e in got["events"]]


def test_a_chatty_function_keeps_the_newest_logs_under_the_cap_and_a_note_says_what_was_dropped(
    aws: Callable[[str], Any], deploy: Callable[..., str], sink: LogSink
) -> None:
    name = deploy("handler", code=handler_zip(CHATTY))
    for call in range(20):
        reply = aws("lambda").invoke(FunctionName=name, Payload=json.dumps({"call": call}))
        assert json.loads(reply["Payload"].read()) == call
    assert sink.kept_bytes <= CAP
    messages = stream_events(aws("logs"), f"/aws/lambda/{name}")
    note = re.fullmatch(
        rf"{DROPPED_NOTE} ([\d,]+) older event\(s\) \(([\d,]+) bytes\) of this stream .*\n", messages[0]
    )
    assert note is not None, messages[0]
    dropped_events, dropped_bytes = (int(g.replace(",", "")) for g in note.groups())
    kept = messages[1:]
    assert dropped_bytes >= 15 * 64 * 1000  # most of twenty calls' 64 KiB went
    # every event once, dropped or kept: the cold start's INIT_START, then each call's 64 lines,
    # START, END and REPORT
    assert dropped_events + len(kept) == 1 + 20 * (64 + 3)
    assert sum(len(m) for m in kept) < CAP
    assert any(m.startswith("call 19 line 63 ") for m in kept)  # the newest call is whole
    assert not any(m.startswith("call 0 ") for m in kept)


def test_events_a_test_put_itself_are_never_dropped(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    name = deploy("handler", code=handler_zip(CHATTY))
    group, logs = f"/aws/lambda/{name}", aws("logs")
    aws("lambda").invoke(FunctionName=name, Payload=json.dumps({"call": 0}))
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "mine"}],
    )
    for call in range(1, 20):
        aws("lambda").invoke(FunctionName=name, Payload=json.dumps({"call": call}))
    messages = stream_events(logs, group)
    assert messages[0].startswith(DROPPED_NOTE) and "mine" in messages
    assert not any(m.startswith("call 0 ") for m in messages)

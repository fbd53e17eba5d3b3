"""Fidelity 3: the CloudWatch Logs events an invocation leaves, against AWS's recordings.

Real endpoint, real workers, moto's logs backend. Oracles (support.recorded):
test_multi_line_prints (python3.13: INIT_START first, one event per printed line, ``\\r``
kept, blank lines dropped, every event ending in ``\\n``) and test_invocation_type_event_error
(a handler's exception is one ``[ERROR]`` event without a trailing newline).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from support.endpoint import handler_zip
from support.recorded import ERROR_EVENT, MULTI_LINE_BODY, MULTI_LINE_EVENTS

SOURCE = """
import logging, os, pathlib, time

def printer(event, context):
    print(event["body"])
    return {"stream": context.log_stream_name}

def logs_a_record(event, context):
    logging.getLogger().setLevel(logging.INFO)
    logging.info("a\\nb")
    return {"stream": context.log_stream_name}

def meet(event, context):
    # Both invocations wait for each other: they must run in two environments at once.
    out = pathlib.Path(os.environ["OUT_DIR"])
    (out / context.aws_request_id).touch()
    deadline = time.monotonic() + 30
    while len(list(out.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"stream": context.log_stream_name}
"""
#: The handler of AWS's recorded error event, line for line (the raise is line 6).
ERROR_HANDLER = """class CustomException(Exception):
    pass


def handler(event, context):
    raise CustomException("some error occurred")
"""


def events_of(aws: Callable[[str], Any], name: str, stream: str) -> list[str]:
    answer = aws("logs").get_log_events(
        logGroupName=f"/aws/lambda/{name}", logStreamName=stream, startFromHead=True
    )
    return [e["message"] for e in answer["events"]]


def masked(message: str, request_id: str) -> str:
    """Our event with the values AWS's recording masks, masked the same way."""
    message = message.replace(request_id, "<request-id>")
    message = re.sub(r"python:(\d+\.\d+)\.v\d+", r"python:\1.v<version>", message)
    message = re.sub(
        r"arn:aws:lambda:[a-z0-9-]+::runtime:[0-9a-f]{64}",
        "arn:<partition>:lambda:<region>::runtime:<runtime-id>",
        message,
    )
    message = re.sub(r"(Duration|Billed Duration): [\d.]+ ms", r"\1: <duration> ms", message)
    return re.sub(r"Max Memory Used: \d+ MB", "Max Memory Used: <memory> MB", message)


def test_multi_line_print_gives_awss_events(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    name = deploy("printer", code=handler_zip(SOURCE))
    resp = aws("lambda").invoke(FunctionName=name, Payload=json.dumps({"body": MULTI_LINE_BODY}))
    stream = json.loads(resp["Payload"].read())["stream"]
    request_id = resp["ResponseMetadata"]["RequestId"]
    got = [masked(m, request_id) for m in events_of(aws, name, stream)]
    expected = [m.replace("python:3.13", "python:3.12") for m in MULTI_LINE_EVENTS]
    assert got == expected


def test_init_start_only_on_a_cold_start(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    name = deploy("printer", code=handler_zip(SOURCE))
    for _ in range(2):
        resp = aws("lambda").invoke(FunctionName=name, Payload=b'{"body": "x"}')
    messages = events_of(aws, name, json.loads(resp["Payload"].read())["stream"])
    assert messages[0].startswith("INIT_START ")
    assert sum(m.startswith("INIT_START ") for m in messages) == 1
    assert sum(m.startswith("START ") for m in messages) == 2


def test_a_logging_record_is_one_event(aws: Callable[[str], Any], deploy: Callable[..., str]) -> None:
    name = deploy("logs_a_record", code=handler_zip(SOURCE))
    resp = aws("lambda").invoke(FunctionName=name, Payload=b"{}")
    request_id = resp["ResponseMetadata"]["RequestId"]
    messages = events_of(aws, name, json.loads(resp["Payload"].read())["stream"])
    record = [m for m in messages if m.startswith("[INFO]")]
    assert len(record) == 1
    assert re.fullmatch(
        rf"\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request_id}\ta\nb\n", record[0]
    )


def test_a_handler_exception_is_one_error_event(
    aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    name = deploy("handler", code=handler_zip(ERROR_HANDLER))
    aws("lambda").invoke(FunctionName=name, Payload=b"{}")
    found = aws("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern="ERROR")["events"]
    assert len(found) == 1  # one event for the whole traceback: a metric filter counts 1
    # The file is /var/task/app.py with AWS's layout, its real path otherwise.
    message = re.sub(r'File "[^"]*/app\.py"', 'File "/var/task/handler.py"', found[0]["message"])
    assert message == ERROR_EVENT


def test_each_environment_writes_its_own_stream(
    aws: Callable[[str], Any], deploy: Callable[..., str], out_dir: Path
) -> None:
    name = deploy("meet", code=handler_zip(SOURCE), env={"OUT_DIR": str(out_dir)})
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: aws("lambda").invoke(FunctionName=name, Payload=b"{}"), range(2)))
    streams = {json.loads(a["Payload"].read())["stream"] for a in answers}
    assert len(streams) == 2
    described = aws("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert {s["logStreamName"] for s in described} == streams

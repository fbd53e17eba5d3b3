"""POST /_harness/retire: every execution environment is retired; each next invocation is cold."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from lambda_harness import net
from lambda_harness.endpoint.server import EmbeddedEndpoint


def invoke_log(aws: Callable[[str], Any], name: str) -> str:
    resp = aws("lambda").invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    assert "FunctionError" not in resp
    return base64.b64decode(resp["LogResult"]).decode()


def retire(endpoint: EmbeddedEndpoint) -> dict[str, int]:
    answer = net.post_json(endpoint.url + net.HARNESS_RETIRE, {}, timeout=30)
    assert not isinstance(answer, str) and answer[0] == 200, answer
    return dict(json.loads(answer[1]))


def test_retired_environments_are_not_reused(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    names = [deploy("echo") for _ in range(2)]
    for name in names:
        assert "Init Duration" in invoke_log(aws, name)  # cold
        assert "Init Duration" not in invoke_log(aws, name)  # warm: the same environment

    answer = retire(endpoint)

    assert answer["retired"] >= 2  # these two, and whatever other tests of the module left idle
    for name in names:
        assert "Init Duration" in invoke_log(aws, name)  # a new environment
        assert "Init Duration" not in invoke_log(aws, name)  # which is warm from then on
    assert retire(endpoint)["retired"] >= 2


def test_retire_answers_post_only(endpoint: EmbeddedEndpoint) -> None:
    status, body = net.probe(endpoint.url + net.HARNESS_RETIRE)  # type: ignore[misc]
    assert status == 405 and b"use POST /_harness/retire" in body

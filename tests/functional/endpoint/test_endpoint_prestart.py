"""POST /_harness/prestart: every named function's first execution environment starts at once."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from lambda_harness import net
from lambda_harness.endpoint.server import EmbeddedEndpoint
from support.endpoint import handler_zip


def arn_of(aws: Callable[[str], Any], name: str) -> str:
    return str(aws("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"])


def prestart(endpoint: EmbeddedEndpoint, arns: list[str]) -> dict[str, int]:
    answer = net.post_json(endpoint.url + net.HARNESS_PRESTART, {"functions": arns}, timeout=60)
    assert not isinstance(answer, str) and answer[0] == 202, answer  # answered at once, started behind
    return dict(json.loads(answer[1]))


def pool_size(endpoint: EmbeddedEndpoint) -> int:
    return int(endpoint.runtime.pool.size)  # type: ignore[attr-defined]


def invoke_log(aws: Callable[[str], Any], name: str) -> tuple[dict[str, Any], str]:
    resp = aws("lambda").invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    return resp, base64.b64decode(resp["LogResult"]).decode()


def test_prestarted_environments_serve_the_first_invocation_and_report_its_init(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    names = [deploy("echo") for _ in range(3)]
    before = pool_size(endpoint)
    gone = "arn:aws:lambda:us-east-1:123456789012:function:gone"

    answer = prestart(endpoint, [arn_of(aws, n) for n in names] + [gone])

    assert answer == {"asked": 3}
    net.wait_until(lambda: pool_size(endpoint) == before + 3, 60, what="three environments to start")
    for name in names:
        resp, log = invoke_log(aws, name)
        assert "FunctionError" not in resp and "Init Duration" in log  # still the cold start, as on AWS
    assert pool_size(endpoint) == before + 3  # the same environments served
    prestart(endpoint, [arn_of(aws, n) for n in names])
    resp, log = invoke_log(aws, names[0])
    assert pool_size(endpoint) == before + 3 and "Init Duration" not in log  # each already had one


def test_an_init_failure_before_the_first_invocation_is_still_its_answer(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    broken = handler_zip("import not_a_module_anywhere\n\ndef echo(event, context):\n    return event\n")
    name = deploy("echo", code=broken)
    before = pool_size(endpoint)
    prestart(endpoint, [arn_of(aws, name)])
    net.wait_until(lambda: pool_size(endpoint) > before, 60, what="the environment to start")

    resp, log = invoke_log(aws, name)

    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["Payload"].read())["errorType"] == "Runtime.ImportModuleError"
    assert "not_a_module_anywhere" in log


def test_prestart_wants_post(endpoint: EmbeddedEndpoint) -> None:
    answer = net.probe(endpoint.url + net.HARNESS_PRESTART)
    assert not isinstance(answer, str) and answer[0] == 405

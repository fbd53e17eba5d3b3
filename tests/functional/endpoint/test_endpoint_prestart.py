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
    assert not isinstance(answer, str) and answer[0] == 200, answer
    return dict(json.loads(answer[1]))


def invoke_log(aws: Callable[[str], Any], name: str) -> tuple[dict[str, Any], str]:
    resp = aws("lambda").invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    return resp, base64.b64decode(resp["LogResult"]).decode()


def test_prestarted_environments_serve_the_first_invocation_and_report_its_init(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    names = [deploy("echo") for _ in range(3)]
    before = endpoint.runtime.pool.size  # type: ignore[attr-defined]

    answer = prestart(
        endpoint, [arn_of(aws, n) for n in names] + ["arn:aws:lambda:us-east-1:123456789012:function:gone"]
    )

    assert answer == {"started": 3, "asked": 3}
    assert endpoint.runtime.pool.size == before + 3  # type: ignore[attr-defined]
    for name in names:
        resp, log = invoke_log(aws, name)
        assert "FunctionError" not in resp and "Init Duration" in log  # still the cold start, as on AWS
    assert endpoint.runtime.pool.size == before + 3  # type: ignore[attr-defined]  # the same environments
    again = prestart(endpoint, [arn_of(aws, n) for n in names])
    assert again == {"started": 0, "asked": 3}  # each already has one


def test_an_init_failure_before_the_first_invocation_is_still_its_answer(
    endpoint: EmbeddedEndpoint, aws: Callable[[str], Any], deploy: Callable[..., str]
) -> None:
    broken = handler_zip("import not_a_module_anywhere\n\ndef echo(event, context):\n    return event\n")
    name = deploy("echo", code=broken)
    prestart(endpoint, [arn_of(aws, name)])

    resp, log = invoke_log(aws, name)

    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["Payload"].read())["errorType"] == "Runtime.ImportModuleError"
    assert "not_a_module_anywhere" in log


def test_prestart_wants_post(endpoint: EmbeddedEndpoint) -> None:
    answer = net.probe(endpoint.url + net.HARNESS_PRESTART)
    assert not isinstance(answer, str) and answer[0] == 405

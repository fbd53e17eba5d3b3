"""A small fake of Lambda's Invoke HTTP API for plugin tests (fixture ``fake_lambda``).

An edge fake: the real path is covered by tests/integration through the pipeline."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.terraform import inventory as inv

# behaviour(event) -> (payload, function_error or None, log text)
Behaviour = Callable[[Any], tuple[Any, str | None, str]]
_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations")


@dataclass
class FakeLambdaServer:
    """Answers POST /2015-03-31/functions/<name>/invocations from canned behaviours."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    url: str = ""

    def answer(self, name: str, event: Any, first: bool) -> tuple[int, dict[str, str], bytes]:
        base = name.split(":", maxsplit=1)[0]
        if base not in self.behaviours:
            body = {
                "Type": "User",
                "Message": f"Function not found: arn:aws:lambda:us-east-1:1:function:{name}",
            }
            return 404, {"x-amzn-ErrorType": "ResourceNotFoundException"}, json.dumps(body).encode()
        payload, error, log = self.behaviours[base](event)
        init = "\tInit Duration: 80.00 ms" if first else ""
        report = (
            f"REPORT RequestId: r\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t"
            f"Max Memory Used: 50 MB{init}"
        )
        full_log = f"START RequestId: r\n{log}\nEND RequestId: r\n{report}\n"
        headers = {
            "X-Amz-Log-Result": base64.b64encode(full_log.encode()).decode(),
            "X-Amz-Executed-Version": "$LATEST",
        }
        if error:
            headers["X-Amz-Function-Error"] = error
        return 200, headers, json.dumps(payload).encode()

    # Behaviour builders live on the class so tests reach them through the fixture
    # (test modules here cannot import conftest).
    @staticmethod
    def ok(payload: Any, log: str = "") -> Behaviour:
        return lambda event: (payload, None, log)

    @staticmethod
    def fails(error_type: str, message: str, log: str = "Traceback (most recent call last):") -> Behaviour:
        error = {"errorType": error_type, "errorMessage": message, "stackTrace": []}
        return lambda event: (error, "Unhandled", log)

    @staticmethod
    def echo() -> Behaviour:
        return lambda event: ({"echo": event}, None, f"got {json.dumps(event)}")

    def write_inventory(self, path: Path, functions: dict[str, dict[str, str]] | None = None) -> Path:
        """An inventory of ``functions`` (default: every behaviour) pointing at this server."""
        if functions is None:
            functions = {name: {"TABLE": f"{name}-table"} for name in self.behaviours}
        return write_inventory(path, self.url, functions)


@pytest.fixture
def fake_lambda() -> Iterator[FakeLambdaServer]:
    fake = FakeLambdaServer()
    seen: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            match = _INVOKE.match(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if match is None:
                self.send_response(400)
                self.end_headers()
                return
            name = match.group(1)
            event = json.loads(raw) if raw else None
            with lock:
                first = name not in seen
                seen.add(name)
                fake.calls.append((name, event))
            status, headers, body = fake.answer(name, event, first)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def write_inventory(path: Path, endpoint: str, functions: dict[str, dict[str, str]]) -> Path:
    """An inventory file for ``functions`` (name -> environment), in the format Inventory.load reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deployed = [
        inv.DeployedFunction(
            name=n,
            handler=f"{n}.app.handler",
            runtime="python3.12",
            architecture="x86_64",
            environment=env,
            timeout=30,
            memory_size=128,
            role="arn:aws:iam::1:role/r",
            tf_file=f"terraform/lambda_{n}.tf",
            address=f"aws_lambda_function.{n}",
            triggers=[],
        )
        for n, env in functions.items()
    ]
    inv.Inventory(endpoint_url=endpoint, region="us-east-1", functions=deployed).save(path)
    return path

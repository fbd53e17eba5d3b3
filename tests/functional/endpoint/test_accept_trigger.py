"""Acceptance: `trigger` against something that is not our endpoint says so (no traceback)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.endpoint.control import trigger
from lambda_harness.errors import EndpointError
from lambda_harness.settings import load_settings


@pytest.fixture
def html_server() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html>not an AWS endpoint</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_trigger_on_a_foreign_server_is_an_endpoint_error(tmp_path: Path, html_server: int) -> None:
    settings = load_settings(tmp_path, {"port": html_server}, environ={})
    with pytest.raises(EndpointError, match="did not answer like a lambda-harness endpoint"):
        trigger(settings, "nightly")

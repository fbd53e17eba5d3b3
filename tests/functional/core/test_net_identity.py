"""net.endpoint_identity: which endpoint instance answers (the warm loop's proof of 'the same one')."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lambda_harness import net


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A loopback server answering GET <path> with the JSON document in ``routes[path]`` (else 404)."""
    routes: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path in routes
            body = json.dumps(routes.get(self.path)).encode() if found else b"{}"
            self.send_response(200 if found else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_the_embedded_endpoint_names_its_instance(server: tuple[str, dict[str, Any]]) -> None:
    url, routes = server
    routes["/_harness/health"] = {"services": {}, "instance_id": "abc"}
    assert net.endpoint_identity(url) == "instance_id:abc"


def test_localstack_names_its_session(server: tuple[str, dict[str, Any]]) -> None:
    url, routes = server
    routes["/_localstack/health"] = {"services": {"lambda": "running"}}
    routes["/_localstack/info"] = {"version": "4.14.0", "session_id": "s-1"}
    assert net.endpoint_identity(url) == "session_id:s-1"


def test_an_endpoint_that_does_not_say_has_no_identity(server: tuple[str, dict[str, Any]]) -> None:
    url, routes = server
    routes["/_harness/health"] = {"services": {}}  # an older harness: no instance id
    routes["/_localstack/info"] = {"version": "x"}
    assert net.endpoint_identity(url) is None
    assert net.endpoint_identity("http://127.0.0.1:9") is None  # nothing answers

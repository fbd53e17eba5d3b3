"""The Runtime API server over real loopback sockets, with a fake worker behind it."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest

from lambda_harness.endpoint.runtime.api import NextInvocation, RuntimeApiServer


class FakeWorker:
    def __init__(self) -> None:
        self.queue = [
            NextInvocation("rid-1", b'{"a": 1}', 1234, "arn:fn", "Root=1-x", client_context='{"c": 1}'),
        ]
        self.responses: list[tuple[str, bytes]] = []
        self.errors: list[tuple[str, bytes, str | None]] = []
        self.init_errors: list[tuple[bytes, str | None]] = []

    def next_invocation(self) -> NextInvocation | None:
        return self.queue.pop(0) if self.queue else None

    def invocation_response(self, request_id: str, body: bytes) -> bool:
        self.responses.append((request_id, body))
        return request_id == "rid-1"

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        self.errors.append((request_id, body, error_type))
        return True

    def init_error(self, body: bytes, error_type: str | None) -> None:
        self.init_errors.append((body, error_type))


@pytest.fixture
def served() -> Iterator[tuple[RuntimeApiServer, FakeWorker]]:
    worker = FakeWorker()
    server = RuntimeApiServer(worker)
    server.start()
    try:
        yield server, worker
    finally:
        server.close()


def test_next_response_and_error_on_one_keep_alive_connection(
    served: tuple[RuntimeApiServer, FakeWorker],
) -> None:
    server, worker = served
    conn = http.client.HTTPConnection(server.address)
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b'{"a": 1}'
    assert resp.getheader("Lambda-Runtime-Aws-Request-Id") == "rid-1"
    assert resp.getheader("Lambda-Runtime-Deadline-Ms") == "1234"
    assert resp.getheader("Lambda-Runtime-Invoked-Function-Arn") == "arn:fn"
    assert resp.getheader("Lambda-Runtime-Trace-Id") == "Root=1-x"
    assert resp.getheader("Lambda-Runtime-Client-Context") == '{"c": 1}'
    assert resp.getheader("Lambda-Runtime-Cognito-Identity") is None
    conn.request("POST", "/2018-06-01/runtime/invocation/rid-1/response", b'"ok"')
    resp = conn.getresponse()
    assert resp.status == 202 and json.loads(resp.read()) == {"status": "OK"}
    conn.request("POST", "/2018-06-01/runtime/invocation/other/response", b'"late"')
    resp = conn.getresponse()
    assert resp.status == 400 and json.loads(resp.read())["errorType"] == "InvalidRequestID"
    conn.request(
        "POST",
        "/2018-06-01/runtime/invocation/rid-1/error",
        b"{}",
        {"Lambda-Runtime-Function-Error-Type": "Unhandled"},
    )
    assert conn.getresponse().status == 202
    conn.close()
    assert worker.responses == [("rid-1", b'"ok"'), ("other", b'"late"')]
    assert worker.errors == [("rid-1", b"{}", "Unhandled")]


def test_init_error_chunked_body_and_expect_continue(served: tuple[RuntimeApiServer, FakeWorker]) -> None:
    server, worker = served
    with socket.create_connection((server.host, server.port)) as sock:
        sock.sendall(
            b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n')
        assert sock.recv(1000).startswith(b"HTTP/1.1 202 Accepted")
    assert worker.init_errors == [(b'{"a": 1}', "Runtime.ImportModuleError")]


def test_unknown_paths_are_404(served: tuple[RuntimeApiServer, FakeWorker]) -> None:
    server, _ = served
    conn = http.client.HTTPConnection(server.address)
    conn.request("GET", "/2018-06-01/runtime/nothing")
    assert conn.getresponse().status == 404
    conn.close()


def test_next_with_nothing_to_do_closes_the_connection(served: tuple[RuntimeApiServer, FakeWorker]) -> None:
    server, worker = served
    worker.queue.clear()
    conn = http.client.HTTPConnection(server.address)
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    conn.close()

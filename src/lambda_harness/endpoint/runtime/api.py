"""The Lambda Runtime API that awslambdaric talks to, one small server per worker.

awslambdaric finds its API by host:port only, so every worker gets its own
listening socket on 127.0.0.1 port 0. The server is hand-written over sockets
because it must be fast: TCP_NODELAY on every connection (without it each warm
invoke waits ~88 ms for delayed ACKs), each response written with one
``sendall``, keep-alive, one thread per connection (awslambdaric keeps one
connection for next/response and opens another for init errors).

Endpoints (2018-06-01): ``GET runtime/invocation/next`` (blocks until there is an
invocation), ``POST runtime/invocation/<id>/response``, ``POST
runtime/invocation/<id>/error``, ``POST runtime/init/error``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from lambda_harness.endpoint.runtime.model import MAX_RESPONSE_BYTES

logger = logging.getLogger(__name__)

PREFIX = "/2018-06-01/runtime/"
ERROR_TYPE_HEADER = "lambda-runtime-function-error-type"
_MAX_HEADER_LINES = 100


@dataclass(frozen=True)
class NextInvocation:
    """What GET /next hands to the runtime."""

    request_id: str
    body: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None
    cognito_identity: str | None = None

    def headers(self) -> dict[str, str]:
        out = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": self.trace_id,
        }
        if self.client_context is not None:
            out["Lambda-Runtime-Client-Context"] = self.client_context
        if self.cognito_identity is not None:
            out["Lambda-Runtime-Cognito-Identity"] = self.cognito_identity
        return out


class RuntimeApiHandler(Protocol):
    """What the server asks of its worker."""

    def next_invocation(self) -> NextInvocation | None:
        """Block until there is an invocation; None means the environment is going away."""

    def invocation_response(self, request_id: str, body: bytes) -> bool:
        """The handler's result; False when ``request_id`` is not the current invocation."""

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        """The handler raised; ``body`` is awslambdaric's error JSON."""

    def init_error(self, body: bytes, error_type: str | None) -> None:
        """The runtime could not load the handler (it exits right after)."""


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _reason(status: int) -> str:
    return {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}.get(
        status, "Error"
    )


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    all_headers = {"Content-Type": "application/json", **(headers or {}), "Content-Length": str(len(body))}
    lines += [f"{k}: {v}" for k, v in all_headers.items()]
    # UTF-8, not latin-1: a client context may carry any text and the runtime reads raw bytes.
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def _json(status: int, payload: dict[str, str]) -> bytes:
    return _response(status, json.dumps(payload).encode())


_ACCEPTED = _json(202, {"status": "OK"})


def _read_request(rfile: BinaryIO, sock: socket.socket) -> _Request | None:
    """One HTTP/1.1 request, or None at end of stream."""
    line = rfile.readline(65537)
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(65537)
    if not line:
        return None
    try:
        method, target, _version = line.decode("latin-1").split(" ", 2)
    except ValueError:
        return None
    req = _Request(method.upper(), target.split("?", 1)[0])
    for _ in range(_MAX_HEADER_LINES):
        hline = rfile.readline(65537)
        if hline in (b"\r\n", b"\n", b""):
            break
        name, _, value = hline.decode("latin-1").partition(":")
        req.headers[name.strip().lower()] = value.strip()
    if req.headers.get("expect", "").lower() == "100-continue":
        sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = _Body()
    if req.headers.get("transfer-encoding", "").lower() == "chunked":
        _read_chunked(rfile, body)
    else:
        body.read(rfile, int(req.headers.get("content-length", "0") or 0))
    req.body = bytes(body.kept)
    return req


#: Kept of a request body: one byte more than Lambda's largest response, so an oversized one is
#: still seen as too large (Function.ResponseSizeTooLarge) without being held whole in memory.
MAX_BODY_BYTES = MAX_RESPONSE_BYTES + 1


class _Body:
    """A request body read to its end, of which at most ``MAX_BODY_BYTES`` are kept."""

    def __init__(self) -> None:
        self.kept = bytearray()

    def read(self, rfile: BinaryIO, size: int) -> None:
        while size > 0:
            chunk = rfile.read(min(size, 1 << 20))
            if not chunk:
                return
            size -= len(chunk)
            room = MAX_BODY_BYTES - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]


def _read_chunked(rfile: BinaryIO, body: _Body) -> None:
    while True:
        size = int(rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return
        body.read(rfile, size)
        rfile.readline()


class RuntimeApiServer:
    """A Runtime API bound to 127.0.0.1 on a free port, serving one worker."""

    def __init__(self, handler: RuntimeApiHandler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(16)
        self.host, self.port = self._listener.getsockname()[:2]
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"runtime-api-{self.port}", daemon=True
        )

    @property
    def address(self) -> str:
        """``host:port`` as AWS_LAMBDA_RUNTIME_API wants it."""
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop accepting and drop every connection (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conns = list(self._conns)
        for sock in [self._listener, *conns]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self._conns.add(conn)
            threading.Thread(
                target=self._serve, args=(conn,), name=f"runtime-api-{self.port}-conn", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        rfile = conn.makefile("rb")
        try:
            while True:
                req = _read_request(rfile, conn)
                if req is None:
                    return
                reply = self._dispatch(req)
                if reply is None:
                    return
                conn.sendall(reply)
        except (OSError, ValueError) as exc:
            logger.debug("runtime api connection ended: %s", exc)
        finally:
            with self._lock:
                self._conns.discard(conn)
            rfile.close()
            conn.close()

    def _dispatch(self, req: _Request) -> bytes | None:
        if not req.path.startswith(PREFIX):
            return _json(404, {"errorMessage": f"unknown path {req.path}", "errorType": "NotFound"})
        parts = req.path[len(PREFIX) :].strip("/").split("/")
        if req.method == "GET" and parts == ["invocation", "next"]:
            inv = self.handler.next_invocation()
            return None if inv is None else _response(200, inv.body, inv.headers())
        if req.method == "POST" and parts == ["init", "error"]:
            self.handler.init_error(req.body, req.headers.get(ERROR_TYPE_HEADER))
            return _ACCEPTED
        if req.method == "POST" and len(parts) == 3 and parts[0] == "invocation":
            request_id, kind = parts[1], parts[2]
            if kind == "response":
                ok = self.handler.invocation_response(request_id, req.body)
            elif kind == "error":
                ok = self.handler.invocation_error(request_id, req.body, req.headers.get(ERROR_TYPE_HEADER))
            else:
                ok = None
            if ok:
                return _ACCEPTED
            if ok is False:
                return _json(
                    400,
                    {"errorMessage": f"Invalid request ID: {request_id}", "errorType": "InvalidRequestID"},
                )
        return _json(
            404, {"errorMessage": f"unknown endpoint {req.method} {req.path}", "errorType": "NotFound"}
        )

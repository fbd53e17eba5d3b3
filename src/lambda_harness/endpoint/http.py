"""The endpoint's HTTP/1.1 request handler: keep-alive, Content-Length on every response.

werkzeug's development server answers every request with ``Connection: close``: each SDK
call then pays a TCP handshake, a new server thread, and a 10 ms drain wait whenever the
client keeps its end open. SDKs (botocore's urllib3 pool, Terraform's Go transport) reuse
connections, so this handler keeps them open: it reads the whole request body before the
application runs (the next request on the connection starts right after it), buffers the
response to send it with a ``Content-Length`` (never chunked), and never says close. It
also hands the application the headers as received (``wsgi.RAW_HEADERS``: repeats apart).

``Connections`` tracks the open ones, so stopping the endpoint ends idle keep-alive
connections too (a pooled client must not talk to a stopped endpoint's threads).
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.exceptions import InternalServerError

from lambda_harness.endpoint.wsgi import RAW_HEADERS, raw_header_list

logger = logging.getLogger(__name__)

#: The standard reason phrase of each status.
_PHRASES = {status.value: status.phrase for status in HTTPStatus}
#: Responses that carry no body, so no Content-Length is added to them.
_NO_BODY = frozenset({204, 304})
#: Bodies declared larger than this are not read before the application runs (API Gateway's
#: 10 MB limit: its 413 comes from the Content-Length header, before any of the body).
READ_AHEAD_LIMIT = 10 * 1024 * 1024


def _declared_length(environ: dict[str, Any]) -> int:
    if environ.get("wsgi.input_terminated"):  # chunked: no length to go by
        return 0
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class Connections:
    """The server's open client connections (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()

    def add(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.add(conn)

    def discard(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)

    def close_all(self) -> None:
        """Shut every open connection down (their handler threads then end)."""
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)


class HarnessRequestHandler(MotoRequestHandler):
    """moto's handler with HTTP/1.1 keep-alive, TCP_NODELAY (else small responses wait for
    delayed ACKs) and quiet logs."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tracked = getattr(self.server, "lh_connections", None)
        if tracked is not None:
            tracked.add(self.connection)

    def finish(self) -> None:
        tracked = getattr(self.server, "lh_connections", None)
        if tracked is not None:
            tracked.discard(self.connection)
        super().finish()

    def run_wsgi(self) -> None:
        """One request: body read in full, application run, response sent with its length."""
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        environ[RAW_HEADERS] = raw_header_list(self.headers.raw_items())  # WSGI joined repeats
        if _declared_length(environ) > READ_AHEAD_LIMIT:
            # Left on the socket: API Gateway answers 413 from the header alone, a big S3 upload
            # reads it itself. It may stay unread, so the connection ends with this response.
            self.close_connection = True
        else:
            try:
                body = self._read_body(environ)
            except (ConnectionError, OSError, ValueError):
                self.close_connection = True
                return
            environ["wsgi.input"] = io.BytesIO(body)
        status, headers, chunks = self._call(environ)
        self._send(environ, status, headers, chunks)

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's dechunking stream ends itself
            return bytes(stream.read())
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = bytearray()
        while len(data) < length:
            chunk = stream.read(length - len(data))
            if not chunk:
                raise ConnectionError("the client closed the connection mid-request")
            data += chunk
        return bytes(data)

    def _call(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return chunks.append

        chunks: list[bytes] = []
        try:
            result: Iterable[bytes] = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            logger.exception("error on request %s %s", method, path)
            chunks.clear()
            chunks.extend(InternalServerError()(environ, start_response))
        return str(started[0]), list(started[1]), chunks

    def _send(
        self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]], chunks: list[bytes]
    ) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        # werkzeug upper-cases reason phrases ("500 INTERNAL SERVER ERROR"); AWS, like the RFCs,
        # sends "Internal Server Error".
        reason = _PHRASES.get(code, reason)
        body = b"".join(chunks)
        self.send_response(code, reason)
        has_length = False
        for key, value in headers:
            lower = key.lower()
            if lower in ("connection", "transfer-encoding"):
                continue  # ours to decide: keep-alive, never chunked
            has_length = has_length or lower == "content-length"
            self.send_header(key, value)
        head = environ["REQUEST_METHOD"] == "HEAD"
        if not has_length and not head and code not in _NO_BODY and code >= 200:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Status line, headers and body in one write: every socket call lets go of the GIL, and
        # getting it back behind a busy thread costs more than the call (a profile of the warm
        # invoke path showed the second write at a third of a millisecond).
        self._headers_buffer.append(b"\r\n")
        if body and not head and code not in _NO_BODY:
            self._headers_buffer.append(body)
        self.flush_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, self.path, code)

    def log(self, type: str, message: str, *args: Any) -> None:  # werkzeug's signature
        logger.log(logging.ERROR if type == "error" else logging.DEBUG, message, *args)

"""Listening sockets for the endpoint: bind with a clear error, find a free port."""

from __future__ import annotations

import errno
import socket

from lambda_harness.errors import EndpointError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or EndpointError saying who may hold the port."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise EndpointError(
                f"{host}:{port} is already in use (is LocalStack or another `lambda-harness up` running? "
                "stop it or pass --port)"
            ) from exc
        raise EndpointError(f"cannot listen on {host}:{port}: {exc.strerror}; pass --host/--port") from exc
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for tests and benchmarks that must name one up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])

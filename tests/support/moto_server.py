"""A real moto server on a free loopback port, for tests that run real terraform against it."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness import proc
from lambda_harness.endpoint.ports import free_port

MOTO_SERVER = Path(sys.executable).parent / "moto_server"


def _wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"moto_server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto_server at {url} not ready after {timeout}s")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A fresh moto server per test module, stopped by PID afterwards."""
    port = free_port()
    server = proc.spawn([MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, server)
        yield url
    finally:
        proc.stop(server)

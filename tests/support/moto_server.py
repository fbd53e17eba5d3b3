"""A real moto server on a free loopback port, for tests that run real terraform against it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness import net, proc
from lambda_harness.endpoint.ports import free_port

MOTO_SERVER = Path(sys.executable).parent / "moto_server"


def _wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    def ready() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"moto_server exited with {server.returncode}")
        return not isinstance(net.probe(f"{url}/moto-api/"), str)

    net.wait_until(ready, timeout, what=f"moto_server at {url}")


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

"""Fixtures for real terraform against a real moto server on a free loopback port."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness import proc
from lambda_harness.ui import PlainUI

# importlib import mode: make tf_helpers importable from the tests in this folder.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

MOTO_SERVER = Path(sys.executable).parent / "moto_server"

if proc.shutil.which("terraform") is None:  # pragma: no cover - depends on the machine
    pytest.skip("terraform is not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
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


@pytest.fixture
def ui() -> PlainUI:
    return PlainUI(io.StringIO())

"""Stopping the embedded endpoint ends the keep-alive connections it holds open.

Its own module: the endpoint tests' shared endpoint (one per module, one per process) must
not be running while this one starts and stops its own.
"""

from __future__ import annotations

import http.client
from pathlib import Path

from lambda_harness.endpoint.runtime import make_runtime
from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.settings import Settings
from lambda_harness.ui import PlainUI


def test_stopping_the_endpoint_ends_idle_keep_alive_connections(tmp_path: Path, endpoint_cache: Path) -> None:
    settings = Settings(
        project_dir=tmp_path,
        functions_dir=tmp_path / "functions",
        terraform_dir=tmp_path / "terraform",
        lock_file=None,
        dist=None,
        harness_dir=tmp_path / ".harness",
        cache_dir=endpoint_cache,
        cases_dir=tmp_path / "events",
        port=0,
    )
    runtime = make_runtime(settings)
    own = EmbeddedEndpoint(settings, runtime, PlainUI(quiet=True)).start()
    conn = http.client.HTTPConnection("127.0.0.1", own.port, timeout=30)
    try:
        conn.request("GET", "/_harness/health")
        conn.getresponse().read()  # the connection now idles, kept open by the server
        own.stop()
        assert conn.sock is not None
        assert conn.sock.recv(1) == b""  # the server shut it down: EOF, not a hang
    finally:
        conn.close()
        own.stop()
        runtime.shutdown()

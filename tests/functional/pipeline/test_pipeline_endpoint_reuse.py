"""The pipeline reuses an endpoint that already answers health, and leaves it running."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.endpoint import control
from lambda_harness.endpoint.session import endpoint_session
from lambda_harness.errors import ContainerError
from lambda_harness.net import endpoint_healthy
from lambda_harness.pipeline import apply_only
from lambda_harness.settings import Settings, load_settings
from lambda_harness.terraform.inventory import Inventory
from lambda_harness.ui import PlainUI


@pytest.fixture
def health_server() -> Iterator[tuple[int, list[str]]]:
    """A loopback server answering only GET /_localstack/health with LocalStack's document."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            code = 200 if self.path == "/_localstack/health" else 404
            body = b'{"services": {"lambda": "available"}}'
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def settings_for(tmp_path: Path, port: int, backend: str = "embedded") -> Settings:
    return load_settings(tmp_path, {"port": port, "backend": backend}, environ={"HOME": str(tmp_path)})


def closed_port() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = int(server.server_address[1])
    server.server_close()
    return port


def test_healthy_endpoint_is_used_and_not_stopped(
    tmp_path: Path, health_server: tuple[int, list[str]]
) -> None:
    port, seen = health_server
    settings = settings_for(tmp_path, port)
    with endpoint_session(settings, PlainUI(quiet=True)) as url:
        assert url == f"http://127.0.0.1:{port}"
    assert "/_harness/health" in seen and "/_localstack/health" in seen
    assert endpoint_healthy(url)  # still answering: we did not start it, so we did not stop it


def test_localstack_backend_without_compose_file_is_an_error(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, closed_port(), backend="localstack")
    assert not endpoint_healthy(settings.endpoint_url, timeout=0.5)
    with (
        pytest.raises(ContainerError, match=r"docker-compose\.yml"),
        endpoint_session(settings, PlainUI()),
    ):
        pass


def test_apply_only_builds_then_deploys_to_the_running_endpoint(
    tmp_path: Path, health_server: tuple[int, list[str]]
) -> None:
    port, _seen = health_server
    settings = settings_for(tmp_path, port)
    calls: list[str] = []

    def build(s: Settings, ui: Any) -> None:
        calls.append("build")

    def deploy(s: Settings, ui: Any, url: str) -> Inventory:
        calls.append(f"deploy {url}")
        return Inventory(url, "us-east-1", [])

    inventory = apply_only(settings, PlainUI(quiet=True), deploy=deploy, build=build)
    assert calls == ["build", f"deploy http://127.0.0.1:{port}"]
    assert inventory.endpoint_url == f"http://127.0.0.1:{port}"


def test_apply_says_loudly_that_it_leaves_the_endpoint_it_started_running(tmp_path: Path) -> None:
    """Follow-up 16: a real detached endpoint, named before it starts and again at the end."""
    settings = settings_for(tmp_path, closed_port())
    stream = io.StringIO()

    def deploy(s: Settings, ui: Any, url: str) -> Inventory:
        stream.write("-- deployed --\n")
        return Inventory(url, "us-east-1", [])

    try:
        apply_only(settings, PlainUI(stream), deploy=deploy, build=lambda s, ui: None)
        assert endpoint_healthy(settings.endpoint_url)
    finally:
        assert control.stop_detached(settings)
    before, after = stream.getvalue().split("-- deployed --")
    assert f"no endpoint answers on {settings.endpoint_url}: apply starts one in the background" in before
    assert "LEAVES IT RUNNING" in before and "stop it with: lambda-harness down" in before
    assert "the endpoint this apply started is still running in the background (pid " in after
    assert "log .harness/endpoint.log); stop it with: lambda-harness down" in after


def test_an_endpoint_that_cannot_retire_environments_is_named_after_an_incremental_apply(
    health_server: tuple[int, list[str]],
) -> None:
    """LocalStack has no /_harness/retire: its warm containers stay, and the run says so."""
    from lambda_harness.terraform.deploy import retire_environments
    from lambda_harness.ui import RecordingUI

    port, _seen = health_server
    url = f"http://127.0.0.1:{port}"
    ui = RecordingUI()
    retire_environments(ui, url, incremental=False)  # from scratch: nothing was warm, nothing to say
    assert not ui.warnings and not ui.infos
    retire_environments(ui, url, incremental=True)
    assert len(ui.warnings) == 1
    assert f"the endpoint at {url} cannot retire its execution environments" in ui.warnings[0]
    assert "LocalStack keeps its warm containers" in ui.warnings[0]

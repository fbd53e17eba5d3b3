"""A proxy in the environment changes nothing for loopback traffic (issue 9, item 4).

A real local "proxy" answers 403 to everything and counts what reaches it; HTTP(S)_PROXY point at
it and NO_PROXY is unset. ``run`` (in-process endpoint, Terraform, the pytest child with the plugin
and a hand-written boto3 test, a handler whose own variables name the proxy and that calls the
endpoint), then ``apply`` (a detached endpoint), ``invoke`` and ``down`` all pass, and the proxy
saw nothing.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lambda_harness import cli
from support.tiny_repo import free_port, tiny_environ, write_tiny_repo

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")

HANDLER = """
import boto3

def handler(event, context):
    # Its own variables name the proxy; the endpoint is loopback and must be reached directly.
    who = boto3.client("sts").get_caller_identity()
    return {"ok": True, "account": who["Account"]}
"""

HAND_WRITTEN = """
import boto3

def test_the_deployed_function_is_listed(deployed_functions):
    names = {f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]}
    assert "hello" in names
"""


class Proxy:
    """An HTTP proxy that refuses everything (403) and remembers each request line."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                proxy.seen.append(f"{self.command} {self.path}")
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_CONNECT = _refuse

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    server = Proxy()
    yield server
    server.close()


@pytest.mark.slow
def test_run_apply_and_invoke_reach_loopback_directly_with_a_proxy_set(
    tmp_path: Path, proxy: Proxy, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    repo = write_tiny_repo(
        tmp_path / "repo",
        handler_source=HANDLER,
        environment={"HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url},
        tests={"test_hand_written.py": HAND_WRITTEN},
    )
    for name in list(os.environ):
        if name.startswith(("AWS_", "LAMBDA_HARNESS_")) or name.upper() in ("NO_PROXY", *PROXY_VARS):
            monkeypatch.delenv(name)
    for name, value in tiny_environ().items():
        monkeypatch.setenv(name, value)
    for name in PROXY_VARS[:4]:
        monkeypatch.setenv(name, proxy.url)
    # The proxy really is in the way: a plain urllib request to loopback goes to it.
    import urllib.request

    # (A private opener: urlopen() would cache one with this proxy for the rest of the process.)
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.build_opener().open("http://127.0.0.1:9/", timeout=5)
    assert proxy.seen
    proxy.seen.clear()

    port = str(free_port())
    assert cli.main(["run", "--project", str(repo), "--port", port]) == 0, capsys.readouterr().err
    assert cli.main(["apply", "--project", str(repo), "--port", port]) == 0, capsys.readouterr().err
    try:
        assert cli.main(["invoke", "hello", "--project", str(repo), "--port", port]) == 0
        assert '"account": "123456789012"' in capsys.readouterr().out
        # The warm loop on that endpoint: Terraform skipped, the edited handler pushed by boto3.
        handler = repo / "functions" / "hello.py"
        handler.write_text(handler.read_text() + "\n# edited\n")
        assert cli.main(["run", "--project", str(repo), "--port", port]) == 0, capsys.readouterr().err
        assert "updated in place" in capsys.readouterr().err
    finally:
        assert cli.main(["down", "--project", str(repo), "--port", port]) == 0
    assert proxy.seen == []

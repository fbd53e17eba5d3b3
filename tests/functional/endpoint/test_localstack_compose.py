"""``localstack_endpoint`` with real subprocesses and no Docker: fake ``docker``/``docker-compose``
executables first on PATH start (and stop) a detached Python HTTP server that answers
``/_localstack/health`` like LocalStack, on the port the harness hands compose."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambda_harness.endpoint.localstack import localstack_endpoint
from lambda_harness.endpoint.ports import free_port
from lambda_harness.errors import ContainerError
from lambda_harness.settings import Settings
from lambda_harness.ui import RecordingUI

COMPOSE_YML = """\
services:
  builder:
    image: lambda-harness-builder:local
  localstack:
    image: localstack/localstack:4.14.0
    environment:
      GATEWAY_LISTEN: 127.0.0.1:${LAMBDA_HARNESS_PORT:-4566}
"""

# A LocalStack stand-in: /_localstack/health answers LocalStack's JSON; SIGTERM ends it.
SERVER = """\
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/_localstack/health":
            self.send_error(404)
            return
        body = json.dumps({"services": {"lambda": "available", "s3": "running"},
                           "edition": "community", "version": "4.14.0"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""

# `docker` (has the compose plugin only when FAKE_DOCKER_COMPOSE_PLUGIN=1) and `docker-compose`.
FAKE_COMPOSE = """\
import json, os, signal, subprocess, sys, time
from pathlib import Path

STATE = Path(os.environ["FAKE_COMPOSE_STATE"])
PIDFILE = STATE / "localstack.pid"


def gone(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def main(argv):
    prog, args = Path(argv[0]).name, argv[1:]
    if prog == "docker":
        if args[:1] != ["compose"] or os.environ.get("FAKE_DOCKER_COMPOSE_PLUGIN") != "1":
            print("docker: unknown command: docker " + " ".join(args), file=sys.stderr)
            return 1
        args = args[1:]
    record = {"prog": prog, "args": args, "port": os.environ.get("LAMBDA_HARNESS_PORT"),
              "token": os.environ.get("LOCALSTACK_AUTH_TOKEN")}
    with open(STATE / "calls.jsonl", "a") as f:
        f.write(json.dumps(record) + "\\n")
    if args == ["version"]:
        print("Docker Compose version v2.99.0-fake")
        return 0
    if args[:1] != ["--file"]:
        print("fake compose: expected --file FILE", file=sys.stderr)
        return 2
    compose_file, cmd = Path(args[1]), args[2:]
    if cmd == ["config", "--services"]:
        lines = compose_file.read_text().splitlines()
        names = [l.strip()[:-1] for l in lines if l.startswith("  ") and l[2] != " " and l.endswith(":")]
        print("\\n".join(names))
        return 0
    if cmd == ["up", "--detach", "localstack"]:
        if os.environ.get("FAKE_LOCALSTACK_EXITS"):
            (STATE / "logs.txt").write_text("LocalStack 4.15.0\\nLicense activation failed: no auth token\\n")
            return 0
        server = subprocess.Popen(
            [sys.executable, str(STATE / "server.py"), os.environ["LAMBDA_HARNESS_PORT"]],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        PIDFILE.write_text(str(server.pid))
        with open(STATE / "spawned.txt", "a") as f:
            f.write(f"{server.pid}\\n")
        return 0
    if cmd == ["stop", "localstack"]:
        if PIDFILE.exists():
            pid = int(PIDFILE.read_text())
            os.kill(pid, signal.SIGTERM)
            for _ in range(200):
                if gone(pid):
                    break
                time.sleep(0.05)
            PIDFILE.unlink()
        return 0
    if cmd[:1] == ["logs"]:
        logs = STATE / "logs.txt"
        print(logs.read_text() if logs.exists() else "")
        return 0
    print(f"fake compose: unexpected {cmd}", file=sys.stderr)
    return 2


sys.exit(main(sys.argv))
"""


def gone(pid: int) -> bool:
    """No such process, or a zombie waiting for init to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@dataclass
class FakeDocker:
    """The fake CLIs' folder and state: what compose was asked, and the servers it spawned."""

    bin_dir: Path
    state: Path
    project: Path

    def environ(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.update({"FAKE_COMPOSE_STATE": str(self.state), **extra})
        return env

    def calls(self) -> list[dict[str, object]]:
        path = self.state / "calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def spawned(self) -> list[int]:
        path = self.state / "spawned.txt"
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def settings(self, port: int) -> Settings:
        p = self.project
        return Settings(
            project_dir=p,
            functions_dir=p / "functions",
            terraform_dir=p / "terraform",
            lock_file=None,
            dist=None,
            harness_dir=p / ".harness",
            cache_dir=p / "cache",
            cases_dir=p / "tests" / "integration" / "events",
            port=port,
            backend="localstack",
        )


@pytest.fixture
def fake_docker(tmp_path: Path) -> Iterator[FakeDocker]:
    bin_dir, state, project = tmp_path / "bin", tmp_path / "state", tmp_path / "project"
    for folder in (bin_dir, state, project):
        folder.mkdir()
    (project / "docker-compose.yml").write_text(COMPOSE_YML)
    (state / "server.py").write_text(SERVER)
    for name in ("docker", "docker-compose"):
        exe = bin_dir / name
        exe.write_text(f"#!{sys.executable}\n{FAKE_COMPOSE}")
        exe.chmod(0o755)
    fake = FakeDocker(bin_dir, state, project)
    try:
        yield fake
    finally:
        # A failed test must not leave a server behind: kill what the fake spawned, by pid.
        for pid in fake.spawned():
            if not gone(pid) and "server.py" in Path(f"/proc/{pid}/cmdline").read_text():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def health(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url + "/_localstack/health", timeout=5) as resp:
        return dict(json.loads(resp.read()))


@pytest.mark.parametrize("plugin", ["docker-compose", "docker compose"])
def test_starts_the_compose_service_and_stops_it(fake_docker: FakeDocker, plugin: str) -> None:
    port = free_port()
    environ = fake_docker.environ(
        LOCALSTACK_AUTH_TOKEN="ls-test-token",
        FAKE_DOCKER_COMPOSE_PLUGIN="1" if plugin == "docker compose" else "0",
    )
    with localstack_endpoint(fake_docker.settings(port), RecordingUI(), environ=environ, timeout_s=30) as url:
        assert url == f"http://127.0.0.1:{port}"
        assert health(url)["services"] == {"lambda": "available", "s3": "running"}
        [pid] = fake_docker.spawned()
        assert not gone(pid)
    assert gone(pid)
    compose_calls = [c for c in fake_docker.calls() if c["args"] != ["compose", "version"]]
    used = {str(c["prog"]) for c in compose_calls if c["args"] != ["version"]}
    assert used == {"docker" if plugin == "docker compose" else "docker-compose"}
    commands = [c["args"][2:] for c in compose_calls if c["args"][:1] == ["--file"]]  # type: ignore[index]
    assert commands == [["config", "--services"], ["up", "--detach", "localstack"], ["stop", "localstack"]]
    up = next(c for c in compose_calls if c["args"][-3:] == ["up", "--detach", "localstack"])  # type: ignore[index]
    assert up["port"] == str(port)
    assert up["token"] == "ls-test-token"  # the caller's environment reaches compose


def test_an_answering_localstack_is_left_running(fake_docker: FakeDocker) -> None:
    port = free_port()
    environ = fake_docker.environ()
    settings = fake_docker.settings(port)
    with localstack_endpoint(settings, RecordingUI(), environ=environ, timeout_s=30):
        [pid] = fake_docker.spawned()
        # A second user of the same endpoint (another `run`) finds it up and must not stop it.
        with localstack_endpoint(settings, RecordingUI(), environ=environ, timeout_s=30) as url:
            assert "services" in health(url)
        assert not gone(pid)
        assert "services" in health(url)
    assert gone(pid)


def test_a_localstack_that_never_answers_times_out_with_its_logs(fake_docker: FakeDocker) -> None:
    environ = fake_docker.environ(FAKE_LOCALSTACK_EXITS="55")
    environ.pop("LOCALSTACK_AUTH_TOKEN", None)
    with pytest.raises(ContainerError) as info:  # noqa: SIM117 (the body must never run)
        with localstack_endpoint(
            fake_docker.settings(free_port()), RecordingUI(), environ=environ, timeout_s=1
        ):
            pytest.fail("the body ran although LocalStack never answered")
    text = str(info.value)
    assert "License activation failed: no auth token" in text
    assert "exit 55 without LOCALSTACK_AUTH_TOKEN (it is not set)" in text
    last = fake_docker.calls()[-1]["args"]
    assert last[-2:] == ["stop", "localstack"]  # type: ignore[index]

"""Commands without a chosen port use this project's detached endpoint (``up --detach --port P``).

A real detached endpoint process; the CLI runs in this process (``cli.main``) with a clean
environment: no ``LAMBDA_HARNESS_PORT``, no pyproject port. ``trigger`` of a rule that does not
exist shows where a command went without deploying anything: the recorded endpoint answers
"rule ... does not exist on <its url>".
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness import cli, proc
from lambda_harness.endpoint import control, pidfile, ports
from lambda_harness.settings import Settings, load_settings
from support.processes import alive


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, endpoint_cache: Path) -> None:
    for name in list(os.environ):
        if name.startswith("LAMBDA_HARNESS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LAMBDA_HARNESS_CACHE_DIR", str(endpoint_cache))  # the child's runtimes: ours
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def detached(tmp_path: Path, clean_env: None) -> Iterator[Settings]:
    """This project's detached endpoint on a free port (stopped by pid at the end)."""
    settings = load_settings(tmp_path, {"port": ports.free_port()})
    control.start_detached(settings)
    try:
        yield settings
    finally:
        control.stop_detached(settings)


def cli_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def closed_port() -> int:
    return ports.free_port()  # nothing listens there (free_port closes its socket)


def test_a_command_without_port_uses_the_recorded_endpoint(
    detached: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    project = str(detached.project_dir)
    code, output = cli_run(capsys, "trigger", "no-such-rule", "--project", project)
    assert code != 0
    assert f"using this project's endpoint on 127.0.0.1:{detached.port} (up --detach)" in output
    assert f"rule no-such-rule does not exist on {detached.endpoint_url}" in output


def test_an_explicit_port_wins(detached: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    project, other = str(detached.project_dir), closed_port()
    code, output = cli_run(capsys, "trigger", "r", "--project", project, "--port", str(other))
    assert code != 0 and "using this project's endpoint" not in output
    assert f"no endpoint answers at http://127.0.0.1:{other}" in output


def test_a_port_from_the_environment_or_pyproject_wins(
    detached: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, other = str(detached.project_dir), closed_port()
    monkeypatch.setenv("LAMBDA_HARNESS_PORT", str(other))
    code, output = cli_run(capsys, "trigger", "r", "--project", project)
    assert code != 0 and f"no endpoint answers at http://127.0.0.1:{other}" in output
    monkeypatch.delenv("LAMBDA_HARNESS_PORT")
    (detached.project_dir / "pyproject.toml").write_text(f"[tool.lambda-harness]\nport = {other}\n")
    code, output = cli_run(capsys, "trigger", "r", "--project", project)
    assert code != 0 and f"no endpoint answers at http://127.0.0.1:{other}" in output


def test_down_without_port_stops_the_recorded_endpoint(
    detached: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = pidfile.read(detached.paths).pid  # type: ignore[union-attr]
    code, output = cli_run(capsys, "down", "--project", str(detached.project_dir))
    assert code == 0 and "endpoint stopped" in output
    assert pid is not None and not alive(pid)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not an endpoint."""
    child = proc.spawn(["sleep", "300"])
    yield child
    proc.stop(child)


def test_a_dead_or_unhealthy_record_is_ignored(detached: Settings, sleeper: subprocess.Popen[bytes]) -> None:
    default = load_settings(detached.project_dir, {})  # port 4566 from the default: never contacted here
    assert control.project_endpoint(default) is not None
    real = pidfile.read(detached.paths)
    assert real is not None and real.stamp is not None
    live = pidfile.stamp_of(sleeper.pid)
    assert live is not None
    try:
        # A live process whose recorded endpoint does not answer.
        pidfile.write(detached.paths, live, live.pid, url=f"http://127.0.0.1:{closed_port()}")
        assert control.project_endpoint(default) is None
        # A recorded pid that has exited, with the url of an endpoint that does answer.
        proc.stop(sleeper)
        assert not pidfile.is_running(live)
        pidfile.write(detached.paths, live, live.pid, url=detached.endpoint_url)
        assert control.project_endpoint(default) is None
    finally:
        pidfile.write(detached.paths, real.stamp, real.stamp.pid, url=detached.endpoint_url)  # for teardown

"""Health routes, a taken port, and the endpoint as a process: detached and foreground."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambda_harness import net, proc
from lambda_harness.endpoint import control, pidfile
from lambda_harness.endpoint.ports import free_port
from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.errors import EndpointError
from lambda_harness.settings import Settings
from lambda_harness.ui import PlainUI
from support.endpoint import handler_zip, make_settings
from support.processes import alive, descendants


def _get_json(url: str) -> tuple[int, dict[str, Any]]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


@pytest.mark.parametrize("path", ["/_harness/health", "/_localstack/health"])
def test_health_routes(endpoint: EmbeddedEndpoint, path: str) -> None:
    status, body = _get_json(endpoint.url + path)
    assert status == 200
    assert body["edition"] == "lambda-harness"
    assert body["services"]["lambda"] == "running"
    assert body["services"]["s3"] == "running"


def test_localstack_init_ready(endpoint: EmbeddedEndpoint) -> None:
    assert _get_json(endpoint.url + "/_localstack/init/ready") == (200, {"completed": True, "scripts": []})


def test_trigger_unknown_rule_is_an_error(endpoint: EmbeddedEndpoint) -> None:
    with pytest.raises(EndpointError, match="rule no-such-rule does not exist"):
        control.trigger(endpoint.settings.with_(port=endpoint.port), "no-such-rule")


def test_port_in_use_is_a_clear_error(tmp_path: Path, endpoint_cache: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(tmp_path, endpoint_cache, port=port)
        endpoint = EmbeddedEndpoint(settings, _NoRuntime(), PlainUI(quiet=True))
        with pytest.raises(EndpointError, match=f"127.0.0.1:{port} is already in use .*pass --port"):
            endpoint.start()


class _NoRuntime:
    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("not reached")

    def shutdown(self) -> None:
        pass

    def use_credentials(self, source: Any) -> None:
        pass


def test_trigger_without_endpoint_says_how_to_start(tmp_path: Path, endpoint_cache: Path) -> None:
    settings = make_settings(tmp_path, endpoint_cache, port=free_port())
    with pytest.raises(EndpointError, match="lambda-harness up"):
        control.trigger(settings, "anything")


def _run_a_function(url: str) -> None:
    kw: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = boto3.client("iam", **kw)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    lam = boto3.client("lambda", **kw)
    lam.create_function(
        FunctionName="f", Runtime="python3.12", Role=role, Handler="app.echo", Code={"ZipFile": handler_zip()}
    )
    assert lam.invoke(FunctionName="f", Payload=b"{}")["StatusCode"] == 200


@pytest.fixture
def project(tmp_path: Path, endpoint_cache: Path) -> Iterator[Settings]:
    settings = make_settings(tmp_path, endpoint_cache, port=free_port())
    yield settings
    control.stop_detached(settings)  # never leave a background endpoint behind, also on failure


def _env(settings: Settings) -> dict[str, str]:
    # The child resolves its settings itself: point its cache at ours so runtimes are not reinstalled.
    return {**os.environ, "LAMBDA_HARNESS_CACHE_DIR": str(settings.cache_dir)}


def test_start_and_stop_detached_leave_nothing_behind(
    project: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDA_HARNESS_CACHE_DIR", str(project.cache_dir))
    pid = control.start_detached(project)
    assert project.paths.endpoint_pid.read_text().strip() == str(pid)
    record = json.loads(project.paths.endpoint_info.read_text())
    assert record["pid"] == pid and record["url"] == project.endpoint_url
    assert Path(record["log"]).name == "endpoint.log"
    _run_a_function(project.endpoint_url)
    workers = descendants(pid)
    assert workers, "a worker process should serve the function"
    with pytest.raises(EndpointError, match="already running"):
        control.start_detached(project)
    assert control.stop_detached(project) is True
    assert not project.paths.endpoint_pid.exists() and not project.paths.endpoint_info.exists()
    assert not alive(pid)
    assert not [w for w in workers if alive(w)]
    assert control.stop_detached(project) is False


def test_foreground_ctrl_c_stops_server_and_workers(project: Settings) -> None:
    argv = [
        sys.executable,
        "-m",
        "lambda_harness",
        "up",
        "--project",
        str(project.project_dir),
        "--port",
        str(project.port),
    ]
    child = proc.spawn(argv, env=_env(project), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        control.wait_healthy(project.endpoint_url, 60, alive=lambda: child.poll() is None)
        _run_a_function(project.endpoint_url)
        workers = descendants(child.pid)
        assert workers
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 0
        net.wait_until(
            lambda: not any(alive(w) for w in workers), 5, what="the workers to exit", interval=0.05
        )
        output = child.stdout.read().decode() if child.stdout else ""
        assert "AWS endpoint on" in output and "stopping the endpoint" in output
    finally:
        proc.stop(child)
        if child.stdout:
            child.stdout.close()


def test_down_from_another_process_stops_the_detached_endpoint(
    project: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDA_HARNESS_CACHE_DIR", str(project.cache_dir))
    pid = control.start_detached(project)
    _run_a_function(project.endpoint_url)
    workers = descendants(pid)
    done = proc.run(
        [sys.executable, "-m", "lambda_harness", "down", "--project", str(project.project_dir)], timeout=60
    )
    assert "endpoint stopped" in done.output
    assert not project.paths.endpoint_pid.exists()
    assert not alive(pid)
    assert not [w for w in workers if alive(w)]
    assert control._children.pop(pid).wait(timeout=5) == 0  # reap our own child (the CLI could not)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not an endpoint."""
    child = proc.spawn(["sleep", "300"])
    yield child
    proc.stop(child)


def test_down_refuses_a_live_process_that_is_not_the_one_it_started(
    project: Settings, sleeper: subprocess.Popen[bytes]
) -> None:
    stamp = pidfile.stamp_of(sleeper.pid)
    assert stamp is not None
    # What a recycled pid looks like: the number matches, the start time does not.
    pidfile.write(project.paths, replace(stamp, start_ticks=stamp.start_ticks - 1), sleeper.pid)
    assert control.stop_detached(project) is False
    assert sleeper.poll() is None  # left alone
    assert not project.paths.endpoint_pid.exists() and not project.paths.endpoint_info.exists()
    # The same process, recorded without a start time (an older harness): left alone too.
    project.paths.endpoint_pid.write_text(f"{sleeper.pid}\n")
    assert control.stop_detached(project) is False
    assert sleeper.poll() is None


def test_down_stops_the_process_its_record_names(project: Settings, sleeper: subprocess.Popen[bytes]) -> None:
    stamp = pidfile.stamp_of(sleeper.pid)
    assert stamp is not None
    pidfile.write(project.paths, stamp, sleeper.pid)
    assert control.stop_detached(project, grace=5) is True
    assert sleeper.poll() is not None  # signalled (and reaped by the wait for it to go)
    assert not project.paths.endpoint_pid.exists()


def test_second_endpoint_in_one_process_is_refused_and_the_first_keeps_serving(
    endpoint: EmbeddedEndpoint, tmp_path: Path, endpoint_cache: Path
) -> None:
    second = EmbeddedEndpoint(make_settings(tmp_path, endpoint_cache), _NoRuntime(), PlainUI(quiet=True))
    with pytest.raises(EndpointError, match="already running in this process"):
        second.start()
    second.stop()  # harmless: it never patched moto
    assert _get_json(endpoint.url + "/_harness/health")[0] == 200
    assert endpoint.service is not None
    from lambda_harness.endpoint import hooks

    assert hooks.installed()

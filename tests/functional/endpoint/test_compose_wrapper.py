"""The compose wrapper against a stand-in compose program (``python -c``): what it is asked,
where and with what environment, and how failures and hangs are reported."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_harness.endpoint.compose import Compose, find_program
from lambda_harness.errors import ContainerError, ToolNotFound

# Prints what it was run with; exits with FAKE_EXIT; with FAKE_HANG waits until it is stopped.
RECORDER = """
import json, os, sys, threading
if os.environ.get("FAKE_HANG"):
    threading.Event().wait()
print(json.dumps({"args": sys.argv[1:], "cwd": os.getcwd(), "port": os.environ.get("LAMBDA_HARNESS_PORT")}))
print("compose says: " + os.environ.get("FAKE_SAYS", "ok"), file=sys.stderr)
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


def flow(project: Path, on_line: Callable[[str], None] | None = None, **env: str) -> Compose:
    return Compose(
        project,
        {"LAMBDA_HARNESS_PORT": "45999", **env},
        program=(sys.executable, "-c", RECORDER),
        on_line=on_line,
        timeout_s=60,
    )


def test_each_operation_runs_the_command_a_user_would_type(tmp_path: Path) -> None:
    seen: list[str] = []
    for run in (
        lambda c: c.up(["localstack"]),
        lambda c: c.up(["builder", "endpoint"], build=False),
        lambda c: c.build(["builder"]),
        lambda c: c.stop(["localstack"]),
        lambda c: c.down(),
        lambda c: c.down(volumes=False, timeout_s=5),
    ):
        run(flow(tmp_path, on_line=seen.append))
    calls = [json.loads(line) for line in seen if line.startswith("{")]
    assert {c["cwd"] for c in calls} == {str(tmp_path)}
    assert {c["port"] for c in calls} == {"45999"}
    file_args = ["--file", str(tmp_path / "docker-compose.yml")]
    assert [c["args"] for c in calls] == [
        [*file_args, "up", "--detach", "localstack"],
        [*file_args, "up", "--detach", "--no-build", "builder", "endpoint"],
        [*file_args, "build", "builder"],
        [*file_args, "stop", "localstack"],
        [*file_args, "down", "--timeout", "10", "--volumes"],
        [*file_args, "down", "--timeout", "5"],
    ]


def test_services_and_logs_read_the_output(tmp_path: Path) -> None:
    lister = Compose(tmp_path, {}, program=(sys.executable, "-c", "print('builder\\nlocalstack')"))
    assert lister.services() == ["builder", "localstack"]
    logs = flow(tmp_path, FAKE_EXIT="1", FAKE_SAYS="License activation failed").logs_tail("localstack", 5)
    assert "License activation failed" in logs  # a failing `logs` still returns what it printed


def test_a_failed_command_is_a_container_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ContainerError) as info:
        flow(tmp_path, FAKE_EXIT="18", FAKE_SAYS="pull access denied").up(["localstack"])
    text = str(info.value)
    assert "exit code 18" in text and "pull access denied" in text
    assert f"compose file: {tmp_path / 'docker-compose.yml'}" in text


def test_a_hung_command_is_stopped_and_reported(tmp_path: Path) -> None:
    hung = Compose(tmp_path, {"FAKE_HANG": "1"}, program=(sys.executable, "-c", RECORDER), timeout_s=0.5)
    with pytest.raises(ContainerError, match=r"--file \S+ stop localstack did not finish within"):
        hung.stop(["localstack"])


def test_find_program_says_why_when_there_is_no_compose(tmp_path: Path) -> None:
    with pytest.raises(ToolNotFound, match=r"^to start x: neither `docker compose` nor `docker-compose`"):
        find_program({"PATH": str(tmp_path)}, why="to start x")


def test_find_program_prefers_the_docker_plugin(tmp_path: Path) -> None:
    docker = tmp_path / "docker"
    docker.write_text('#!/bin/sh\n[ "$1 $2" = "compose version" ] && exit 0\nexit 1\n')
    docker.chmod(0o755)
    legacy = tmp_path / "docker-compose"
    legacy.write_text("#!/bin/sh\nexit 0\n")
    legacy.chmod(0o755)
    assert find_program({"PATH": str(tmp_path)}) == (str(docker), "compose")
    docker.write_text("#!/bin/sh\nexit 1\n")  # a docker CLI without the plugin
    assert find_program({"PATH": str(tmp_path)}) == (str(legacy),)

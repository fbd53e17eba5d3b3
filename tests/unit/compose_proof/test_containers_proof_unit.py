"""The proof's pieces that need no daemon: project copy, compose env, waits, step times."""

from __future__ import annotations

import hashlib
import io
import socket
from pathlib import Path
from typing import Any

import pytest

from compose_proof import compose
from compose_proof.checks import copy_project, sha256_of
from compose_proof.engine import Engine
from compose_proof.proof import StepTimes, compose_env, free_port, host_ca_bundle
from lambda_harness.errors import ContainerError
from lambda_harness.ui import PlainUI


def test_copy_project_leaves_out_venvs_state_and_build_outputs(tmp_path: Path) -> None:
    src = tmp_path / "repo"
    for rel in (
        "functions/a/app.py",
        "src/lambda_harness/build/x.py",
        ".venv/bin/python",
        ".git/HEAD",
        "dists.zip",
        "terraform/main.tf",
        "terraform/.terraform/x",
        "terraform/terraform.tfstate",
        "functions/a/__pycache__/app.cpython-312.pyc",
        ".harness/tf/state",
    ):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text("x")
    dst = copy_project(src, tmp_path / "copy")
    copied = {p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file()}
    assert copied == {"functions/a/app.py", "src/lambda_harness/build/x.py", "terraform/main.tf"}


def test_sha256_of_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 1000)
    assert sha256_of(path) == hashlib.sha256(b"abc" * 1000).hexdigest()


def test_compose_env_points_at_the_engine_base_image_and_port(tmp_path: Path) -> None:
    engine = Engine(tmp_path, PlainUI())
    env = compose_env(
        engine,
        "local/bookworm-python:k",
        4599,
        {"COMPOSE_FILE": "other.yml", "PYENV_ROOT": "/opt/pyenv", "HOME": "/root"},
    )
    assert env["DOCKER_HOST"] == engine.dirs.base_url
    assert env["HARNESS_BASE_IMAGE"] == "local/bookworm-python:k"
    assert env["LAMBDA_HARNESS_PORT"] == "4599"
    assert env["LAMBDA_HARNESS_PYENV_ROOT"] == "/opt/pyenv"
    assert "COMPOSE_FILE" not in env
    assert env["COMPOSE_DOCKER_CLI_BUILD"] == "0"  # no docker CLI grandchild to outlive compose


def test_host_ca_bundle_prefers_what_pip_uses(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert host_ca_bundle({"PIP_CERT": str(bundle)}) == bundle
    assert host_ca_bundle({"PIP_CERT": str(tmp_path / "missing"), "SSL_CERT_FILE": str(bundle)}) == bundle


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_compose_argv_names_the_file_project_and_profiles(tmp_path: Path) -> None:
    flow = compose.Compose(tmp_path, {}, "p1", profiles=("embedded",))
    argv = flow.argv("up", "--detach")
    assert argv[0] == compose.DOCKER_COMPOSE
    assert argv[argv.index("--file") + 1] == str(tmp_path / "docker-compose.yml")
    assert argv[argv.index("--project-name") + 1] == "p1"
    assert argv[argv.index("--profile") + 1] == "embedded"
    assert argv[-2:] == ["up", "--detach"]


class FakeContainer:
    """Answers ``reload``/``attrs``/``logs`` from a script of states."""

    def __init__(self, states: list[dict[str, Any]]) -> None:
        self.name = "lhproof_endpoint_1"
        self._states = states
        self.attrs: dict[str, Any] = {}

    def reload(self) -> None:
        self.attrs = {"State": self._states.pop(0) if len(self._states) > 1 else self._states[0]}

    def logs(self, tail: int) -> bytes:
        return b"Traceback: boom\n"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, secs: float) -> None:
        self.now += secs


def test_wait_healthy_returns_once_the_healthcheck_passes() -> None:
    clock = FakeClock()
    box = FakeContainer(
        [{"Status": "running", "Health": {"Status": "starting"}}] * 3
        + [{"Status": "running", "Health": {"Status": "healthy"}}]
    )
    compose.wait_healthy(box, 60, clock=clock, sleep=clock.sleep)
    assert clock.now == pytest.approx(1.5)


def test_wait_healthy_fails_fast_with_the_logs_when_the_container_exits() -> None:
    clock = FakeClock()
    box = FakeContainer([{"Status": "exited", "ExitCode": 1, "Health": {"Status": "starting"}}])
    with pytest.raises(ContainerError, match="Traceback: boom"):
        compose.wait_healthy(box, 60, clock=clock, sleep=clock.sleep)
    assert clock.now == 0


def test_wait_healthy_gives_up_after_the_timeout() -> None:
    clock = FakeClock()
    box = FakeContainer([{"Status": "running", "Health": {"Status": "starting"}}])
    with pytest.raises(ContainerError, match="not healthy after 5s"):
        compose.wait_healthy(box, 5, clock=clock, sleep=clock.sleep)


def test_step_times_records_failed_steps_too() -> None:
    out = io.StringIO()
    times = StepTimes(PlainUI(out))
    with times.step("ok"):
        pass
    with pytest.raises(RuntimeError), times.step("boom"):
        raise RuntimeError
    assert [title for title, _secs in times.times] == ["ok", "boom"]
    times.show()
    assert "total" in out.getvalue()


def test_pipeline_settings_follow_the_container_endpoint_url(tmp_path: Path) -> None:
    from compose_proof.checks import _settings_for

    settings = _settings_for(tmp_path, "http://127.0.0.1:45123")
    assert settings.endpoint_url == "http://127.0.0.1:45123"
    assert settings.project_dir == tmp_path.resolve()

"""A real private dockerd: starts, runs host-network containers and compose services, leaves nothing.

Needs root and Debian's docker.io/docker-compose/debootstrap; they are installed
when missing, and the tests skip only when that is impossible (not root, no apt).
"""

from __future__ import annotations

import os
import socket
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from compose_proof import apt, compose
from compose_proof.baseimage import BaseSpec, ensure_image
from compose_proof.engine import Engine, mounts_under
from lambda_harness.errors import HarnessError
from lambda_harness.settings import default_cache_dir
from lambda_harness.ui import PlainUI


def _mountinfo() -> str:
    return Path("/proc/self/mountinfo").read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("a private dockerd needs root")
    try:
        apt.ensure(apt.DOCKER_NEEDS, PlainUI())
    except HarnessError as exc:
        pytest.skip(f"docker.io/docker-compose cannot be installed here: {exc}")


@pytest.fixture(scope="module")
def engine(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("engine")
    eng = Engine(root, PlainUI(), tmpfs_size="4g")  # a disk data root is slow to delete here
    eng.start()
    try:
        yield eng
    finally:
        eng.stop()
        assert mounts_under(root, _mountinfo()) == []


@pytest.fixture(scope="module")
def base_image(engine: Engine) -> str:
    return ensure_image(engine.client, BaseSpec(), default_cache_dir(os.environ), PlainUI())


def test_the_engine_answers_and_has_no_bridge(engine: Engine) -> None:
    assert engine.client.ping()
    names = {net.name for net in engine.client.networks.list()}
    assert "bridge" not in names
    assert "host" in names


def test_stopping_the_engine_ends_its_process_and_mounts(tools: None, tmp_path: Path) -> None:
    eng = Engine(tmp_path / "e", PlainUI(), tmpfs_size="1g")
    eng.start()
    assert len(mounts_under(tmp_path, _mountinfo())) >= 1  # the tmpfs
    pid = eng.pid
    assert pid is not None
    eng.stop()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    assert mounts_under(tmp_path, _mountinfo()) == []


@pytest.mark.slow
def test_a_host_network_container_serves_the_host(engine: Engine, base_image: str) -> None:
    port = _free_port()
    box = engine.client.containers.run(
        base_image,
        ["python3", "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        network_mode="host",
        init=True,
        detach=True,
    )
    try:
        body = _get_with_retry(f"http://127.0.0.1:{port}/")
        assert b"Directory listing" in body
    finally:
        box.remove(force=True)


def _get_with_retry(url: str, attempts: int = 300) -> bytes:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return bytes(resp.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


@pytest.mark.slow
def test_compose_up_healthcheck_and_down_leave_no_container(
    engine: Engine, base_image: str, tmp_path: Path
) -> None:
    port = _free_port()
    (tmp_path / "docker-compose.yml").write_text(
        textwrap.dedent(f"""\
        services:
          web:
            image: {base_image}
            network_mode: host
            init: true
            command: ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
            healthcheck:
              test: ["CMD", "python3", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:{port}/')"]
              interval: 1s
              retries: 30
        """),
        encoding="utf-8",
    )
    flow = compose.Compose(tmp_path, engine.env(), "lhtest")
    flow.up(["web"])
    try:
        compose.wait_healthy(flow.container(engine.client, "web"), 60)
    finally:
        flow.down()
    leftover = engine.client.containers.list(all=True, filters={"label": "com.docker.compose.project=lhtest"})
    assert leftover == []
    assert {net.name for net in engine.client.networks.list()} == {"host", "none"}


@pytest.mark.slow
def test_profiles_keep_a_service_out_of_a_bare_up_unless_named(
    engine: Engine, base_image: str, tmp_path: Path
) -> None:
    # docker-compose.yml relies on this: a bare `up` starts builder + localstack, and
    # `--profile embedded up builder endpoint` (or naming `endpoint`) starts the endpoint.
    service = {"image": base_image, "network_mode": "host", "init": True, "command": ["sleep", "300"]}
    spec = {"services": {"plain": service, "extra": {**service, "profiles": ["x"]}}}
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    label = {"label": "com.docker.compose.project=lhprofiles"}
    seen = {}
    for profiles, services in (((), ()), (("x",), ()), ((), ("extra",))):
        flow = compose.Compose(tmp_path, engine.env(), "lhprofiles", profiles=profiles)
        flow.up(list(services))
        try:
            seen[(profiles, services)] = {
                c.labels["com.docker.compose.service"] for c in engine.client.containers.list(filters=label)
            }
        finally:
            flow.down()
    assert seen == {((), ()): {"plain"}, (("x",), ()): {"plain", "extra"}, ((), ("extra",)): {"extra"}}

"""docker-compose v1 itself accepts docker-compose.yml, and the profiles select the services we say."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compose_proof import apt, compose
from lambda_harness import proc
from lambda_harness.errors import HarnessError
from lambda_harness.ui import PlainUI

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def docker_compose() -> str:
    if not Path(compose.DOCKER_COMPOSE).exists():
        if os.geteuid() != 0:
            pytest.skip("docker-compose is not installed and installing it needs root")
        try:
            apt.ensure(apt.DOCKER_NEEDS, PlainUI())
        except HarnessError as exc:
            pytest.skip(f"docker-compose cannot be installed here: {exc}")
    return compose.DOCKER_COMPOSE


def _services(*profiles: str) -> set[str]:
    flow = compose.Compose(ROOT, {"PATH": os.environ.get("PATH", "")}, "lhconfig", profiles=profiles)
    done = proc.run(flow.argv("config", "--services"), cwd=ROOT, env=flow.env, timeout=60)
    return set(done.stdout.split())


def test_compose_v1_accepts_the_file_and_sees_every_service(docker_compose: str) -> None:
    # `config --services` lists profiled services too (compose 1.29); what `up` starts per
    # profile is tested against a real engine in test_containers_engine_live.py.
    assert _services(compose.EMBEDDED_PROFILE) == {compose.BUILDER, compose.LOCALSTACK, compose.ENDPOINT}


def test_variables_reach_the_resolved_file(docker_compose: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_HARNESS_PORT": "4999",
        "HARNESS_BASE_IMAGE": "mirror.example/sam/build-python3.12",
    }
    flow = compose.Compose(ROOT, env, "lhconfig", profiles=(compose.EMBEDDED_PROFILE,))
    text = proc.run(flow.argv("config"), cwd=ROOT, env=env, timeout=60).stdout
    assert "BASE_IMAGE: mirror.example/sam/build-python3.12" in text
    assert "http://127.0.0.1:4999/_harness/health" in text
    assert "GATEWAY_LISTEN: 127.0.0.1:4999" in text

"""docker-compose.yml, the Dockerfiles and .dockerignore say what the issue asks for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from compose_proof import compose

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / compose.COMPOSE_FILE).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_services_the_proof_drives_exist(spec: dict[str, Any]) -> None:
    assert {compose.BUILDER, compose.ENDPOINT, compose.LOCALSTACK} <= set(spec["services"])


def test_every_service_uses_the_host_network_and_no_network_is_declared(spec: dict[str, Any]) -> None:
    assert "networks" not in spec
    for name, service in spec["services"].items():
        assert service.get("network_mode") == "host", name
        assert "ports" not in service, f"{name}: published ports need a bridge"
        assert "networks" not in service, name


def test_every_service_runs_under_an_init_so_it_stops_at_once(spec: dict[str, Any]) -> None:
    for name, service in spec["services"].items():
        assert service.get("init") is True, name


def test_images_build_on_the_host_network_from_a_base_image_argument(spec: dict[str, Any]) -> None:
    for name in (compose.BUILDER, compose.ENDPOINT):
        build = spec["services"][name]["build"]
        assert build["network"] == "host"
        assert build["args"]["BASE_IMAGE"] == "${HARNESS_BASE_IMAGE:-public.ecr.aws/sam/build-python3.12}"
        assert (ROOT / build["dockerfile"]).is_file()


def test_the_builder_runs_the_same_build_command_on_the_mounted_project(spec: dict[str, Any]) -> None:
    builder = spec["services"][compose.BUILDER]
    assert builder["command"] == ["build"]
    assert ".:/project" in builder["volumes"]
    assert builder["working_dir"] == "/project"


def test_the_embedded_endpoint_is_a_profile_with_port_variable_and_healthcheck(spec: dict[str, Any]) -> None:
    endpoint = spec["services"][compose.ENDPOINT]
    assert endpoint["profiles"] == [compose.EMBEDDED_PROFILE]
    assert "${LAMBDA_HARNESS_PORT:-4566}" in endpoint["command"]
    assert any("/_harness/health" in part for part in endpoint["healthcheck"]["test"])
    assert endpoint["stop_signal"] == "SIGINT"
    pythons = [v for v in endpoint["volumes"] if "/versions:" in v]
    assert pythons and pythons[0].endswith(":ro")
    assert "PYENV_ROOT" in endpoint["environment"]


def test_localstack_is_the_default_endpoint_with_its_socket_and_token(spec: dict[str, Any]) -> None:
    localstack = spec["services"][compose.LOCALSTACK]
    assert "profiles" not in localstack
    assert localstack["image"] == "${LOCALSTACK_IMAGE:-localstack/localstack:4.14.0}"
    assert "LOCALSTACK_AUTH_TOKEN" in localstack["environment"]
    assert any(v.endswith(":/var/run/docker.sock") for v in localstack["volumes"])
    assert any("/_localstack/health" in part for part in localstack["healthcheck"]["test"])


@pytest.mark.parametrize("dockerfile", ["Dockerfile.build", "Dockerfile.endpoint"])
def test_dockerfiles_take_the_base_image_as_an_argument(dockerfile: str) -> None:
    text = (ROOT / dockerfile).read_text(encoding="utf-8")
    instructions = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert instructions[0] == "ARG BASE_IMAGE=public.ecr.aws/sam/build-python3.12"
    assert instructions[1] == "FROM ${BASE_IMAGE}"
    assert "python3 -m venv /opt/harness" in text


def _instructions(dockerfile: str) -> list[str]:
    text = (ROOT / dockerfile).read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)  # continuation lines make one instruction
    return [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def test_both_dockerfiles_share_their_install_layers() -> None:
    build, endpoint = _instructions("Dockerfile.build"), _instructions("Dockerfile.endpoint")
    install = next(i for i, ln in enumerate(build) if "--no-deps /src" in ln)
    assert build[: install + 1] == endpoint[: install + 1]


def test_the_build_context_holds_only_what_installs_the_harness() -> None:
    lines = [
        ln
        for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if ln and not ln.startswith("#")
    ]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!src/"} <= set(lines)


@pytest.mark.parametrize("dockerfile", ["Dockerfile.build", "Dockerfile.endpoint"])
def test_dependencies_install_before_the_source_is_copied(dockerfile: str) -> None:
    # Editing src/ must not re-run the long dependency install (its layer stays cached).
    steps = _instructions(dockerfile)
    deps = next(i for i, ln in enumerate(steps) if "tomllib" in ln and "check_call" in ln)
    source = steps.index("COPY src/ /src/src/")
    assert steps[deps - 1] == "COPY pyproject.toml /src/"
    assert deps < source

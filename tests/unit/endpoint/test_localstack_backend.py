"""``--backend localstack`` with fakes: reuse a running LocalStack, else compose up / wait / stop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lambda_harness.endpoint.localstack import (
    LOG_TAIL_LINES,
    SERVICE,
    compose_environment,
    down_localstack,
    find_compose,
    localstack_endpoint,
    start_localstack,
)
from lambda_harness.errors import ContainerError, ToolNotFound
from lambda_harness.settings import Settings
from lambda_harness.ui import RecordingUI

COMPOSE_YML = "services:\n  localstack:\n    image: localstack/localstack:4.14.0\n"


def make_settings(project: Path, port: int = 45123, host: str = "127.0.0.1") -> Settings:
    return Settings(
        project_dir=project,
        functions_dir=project / "functions",
        terraform_dir=project / "terraform",
        lock_file=None,
        dist=None,
        harness_dir=project / ".harness",
        cache_dir=project / "cache",
        cases_dir=project / "tests" / "integration" / "events",
        host=host,
        port=port,
        backend="localstack",
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_YML)
    return tmp_path


@dataclass
class FakeClock:
    """Time that moves only when the code under test sleeps."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class FakeLocalStack:
    """The health probe: answers after `up` plus `polls_until_healthy` probes, until `stop`."""

    up_already: bool = False
    polls_until_healthy: int = 3
    never_healthy: bool = False
    probes: list[str] = field(default_factory=list)
    _polls_since_up: int | None = None

    def healthy(self, url: str) -> bool:
        self.probes.append(url)
        if self.up_already:
            return True
        if self._polls_since_up is None or self.never_healthy:
            return False
        self._polls_since_up += 1
        return self._polls_since_up > self.polls_until_healthy

    def started(self) -> None:
        self._polls_since_up = 0

    def stopped(self) -> None:
        self._polls_since_up = None
        self.up_already = False


@dataclass
class FakeCompose:
    """A ComposeCommand that records calls and drives the fake LocalStack."""

    localstack: FakeLocalStack
    service_names: list[str] = field(default_factory=lambda: [SERVICE, "builder"])
    logs: str = "LocalStack version: 4.15.0\nLicense activation failed! exit code 55"
    fail_up: bool = False
    fail_stop: bool = False
    calls: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return "fake-compose --file docker-compose.yml"

    def services(self) -> list[str]:
        self.calls.append("services")
        return list(self.service_names)

    def up(self, services: Sequence[str], *, build: bool = True) -> None:
        self.calls.append(f"up {' '.join(services)}")
        if self.fail_up:
            raise ContainerError("compose up failed: pull access denied")
        self.localstack.started()

    def stop(self, services: Sequence[str]) -> None:
        self.calls.append(f"stop {' '.join(services)}")
        if self.fail_stop:
            raise ContainerError("compose stop failed")
        self.localstack.stopped()

    def logs_tail(self, service: str, lines: int) -> str:
        self.calls.append(f"logs {service} {lines}")
        return self.logs


def never_listening(host: str, port: int) -> bool:
    return False


def test_already_running_is_used_and_left_running(project: Path) -> None:
    ls = FakeLocalStack(up_already=True)
    compose = FakeCompose(ls)
    ui = RecordingUI()
    settings = make_settings(project)
    with localstack_endpoint(settings, ui, compose=compose, healthy=ls.healthy) as url:
        assert url == settings.endpoint_url
    assert compose.calls == []
    assert ls.probes == [settings.endpoint_url]
    assert any("left running" in line for line in ui.infos)


def test_not_running_is_started_waited_for_and_stopped(project: Path) -> None:
    ls = FakeLocalStack(polls_until_healthy=3)
    compose = FakeCompose(ls)
    clock = FakeClock()
    settings = make_settings(project)
    with localstack_endpoint(
        settings,
        RecordingUI(),
        compose=compose,
        healthy=ls.healthy,
        listening=never_listening,
        clock=clock,
        sleep=clock.sleep,
    ) as url:
        assert url == settings.endpoint_url
        assert compose.calls == ["services", f"up {SERVICE}"]
        assert ls.healthy(url)  # the body runs against an answering LocalStack
    assert compose.calls == ["services", f"up {SERVICE}", f"stop {SERVICE}"]
    assert len(clock.slept) == 3  # waited for the health answer, without real sleeping
    assert not ls.healthy(settings.endpoint_url)


def test_stopped_when_the_body_raises(project: Path) -> None:
    ls = FakeLocalStack(polls_until_healthy=0)
    compose = FakeCompose(ls)
    clock = FakeClock()
    with (
        pytest.raises(RuntimeError, match="terraform exploded"),
        localstack_endpoint(
            make_settings(project),
            RecordingUI(),
            compose=compose,
            healthy=ls.healthy,
            listening=never_listening,
            clock=clock,
            sleep=clock.sleep,
        ),
    ):
        raise RuntimeError("terraform exploded")
    assert compose.calls[-1] == f"stop {SERVICE}"


def test_timeout_reports_logs_tail_and_auth_token_hint(project: Path) -> None:
    ls = FakeLocalStack(never_healthy=True)
    compose = FakeCompose(ls)
    clock = FakeClock()
    settings = make_settings(project)
    with pytest.raises(ContainerError) as info:  # noqa: SIM117 (the body must never run)
        with localstack_endpoint(
            settings,
            RecordingUI(),
            compose=compose,
            environ={"PATH": ""},
            healthy=ls.healthy,
            listening=never_listening,
            clock=clock,
            sleep=clock.sleep,
            timeout_s=20,
        ):
            pytest.fail("the body ran although LocalStack never answered")
    text = str(info.value)
    assert f"{settings.endpoint_url}/_localstack/health within 20s" in text
    assert "License activation failed! exit code 55" in text  # the logs tail
    assert "4.14.0" in text and "exit 55" in text
    assert "LOCALSTACK_AUTH_TOKEN (it is not set)" in text
    assert compose.calls == [
        "services",
        f"up {SERVICE}",
        f"logs {SERVICE} {LOG_TAIL_LINES}",
        f"stop {SERVICE}",
    ]
    assert 20 <= sum(clock.slept) <= 21


def test_timeout_says_when_the_token_is_set(project: Path) -> None:
    ls = FakeLocalStack(never_healthy=True)
    clock = FakeClock()
    with pytest.raises(ContainerError, match=r"it is set\)"):
        start_localstack(
            make_settings(project),
            RecordingUI(),
            compose=FakeCompose(ls),
            environ={"LOCALSTACK_AUTH_TOKEN": "ls-abc"},
            healthy=ls.healthy,
            listening=never_listening,
            clock=clock,
            sleep=clock.sleep,
            timeout_s=2,
        )


def test_missing_compose_is_a_clear_error(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    empty_bin = tmp_path_factory.mktemp("bin")  # a PATH with neither docker nor docker-compose
    ls = FakeLocalStack()
    settings = make_settings(project)
    with pytest.raises(ToolNotFound) as info:  # noqa: SIM117
        with localstack_endpoint(
            settings,
            RecordingUI(),
            environ={"PATH": str(empty_bin)},
            healthy=ls.healthy,
            listening=never_listening,
        ):
            pytest.fail("the body ran without LocalStack")
    text = str(info.value)
    assert "--backend localstack needs Docker with compose to start the localstack service from" in text
    assert str(project / "docker-compose.yml") in text
    assert f"start LocalStack yourself on {settings.endpoint_url}" in text


def test_missing_compose_file_is_a_clear_error(tmp_path: Path) -> None:
    ls = FakeLocalStack()
    compose = FakeCompose(ls)
    with pytest.raises(ContainerError, match="needs Docker with compose") as info:
        start_localstack(
            make_settings(tmp_path),
            RecordingUI(),
            compose=compose,
            healthy=ls.healthy,
            listening=never_listening,
        )
    assert f"{tmp_path / 'docker-compose.yml'} does not exist" in str(info.value)
    assert compose.calls == []


def test_missing_localstack_service_is_a_clear_error(project: Path) -> None:
    ls = FakeLocalStack()
    compose = FakeCompose(ls, service_names=["builder", "endpoint"])
    with pytest.raises(ContainerError, match="has no 'localstack' service"):
        start_localstack(
            make_settings(project),
            RecordingUI(),
            compose=compose,
            healthy=ls.healthy,
            listening=never_listening,
        )
    assert compose.calls == ["services"]


def test_port_taken_by_something_else_is_not_started(project: Path) -> None:
    ls = FakeLocalStack()
    compose = FakeCompose(ls)
    with pytest.raises(
        ContainerError,
        match="does not answer /_localstack/health as LocalStack does, so LocalStack cannot start",
    ):
        start_localstack(
            make_settings(project),
            RecordingUI(),
            compose=compose,
            healthy=ls.healthy,
            listening=lambda h, p: True,
        )
    assert compose.calls == []


def test_remote_host_is_not_started(project: Path) -> None:
    ls = FakeLocalStack()
    compose = FakeCompose(ls)
    with pytest.raises(ContainerError, match=r"only starts it on 127\.0\.0\.1"):
        start_localstack(
            make_settings(project, host="10.1.2.3"),
            RecordingUI(),
            compose=compose,
            healthy=ls.healthy,
            listening=never_listening,
        )
    assert compose.calls == []


def test_failed_up_is_stopped_quietly_and_explained(project: Path) -> None:
    ls = FakeLocalStack()
    compose = FakeCompose(ls, fail_up=True, fail_stop=True)
    ui = RecordingUI()
    with pytest.raises(ContainerError, match="needs Docker with compose") as info:
        start_localstack(
            make_settings(project), ui, compose=compose, healthy=ls.healthy, listening=never_listening
        )
    assert "pull access denied" in str(info.value)
    assert "is the Docker daemon running" in str(info.value)
    assert compose.calls == ["services", f"up {SERVICE}", f"stop {SERVICE}"]
    assert ui.warnings == []  # a stop that fails like the up did is no news


def test_failed_stop_is_a_warning_with_the_command(project: Path) -> None:
    ls = FakeLocalStack(polls_until_healthy=0)
    compose = FakeCompose(ls, fail_stop=True)
    ui = RecordingUI()
    with localstack_endpoint(
        make_settings(project), ui, compose=compose, healthy=ls.healthy, listening=never_listening
    ):
        pass
    assert ui.warnings == [
        f"could not stop LocalStack (compose stop failed); run: {compose.describe()} stop {SERVICE}"
    ]


def test_compose_environment_sets_the_port_and_keeps_the_token(project: Path) -> None:
    env = compose_environment(
        make_settings(project, port=45999), {"LOCALSTACK_AUTH_TOKEN": "ls-1", "HOME": "/h"}
    )
    assert env == {"LOCALSTACK_AUTH_TOKEN": "ls-1", "HOME": "/h", "LAMBDA_HARNESS_PORT": "45999"}


def test_find_compose_falls_back_to_docker_compose_v1(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Only docker-compose on PATH: `docker` is not found, so no process is started to ask it.
    bin_dir = tmp_path_factory.mktemp("bin")
    legacy = bin_dir / "docker-compose"
    legacy.write_text("#!/bin/sh\nexit 0\n")
    legacy.chmod(0o755)
    found = find_compose(make_settings(project), {"PATH": str(bin_dir)})
    assert found.program == (str(legacy),)
    assert found.describe() == f"{legacy} --file {project / 'docker-compose.yml'}"


def test_down_stops_the_service(project: Path) -> None:
    compose = FakeCompose(FakeLocalStack())
    down_localstack(make_settings(project), RecordingUI(), compose=compose)
    assert compose.calls == [f"stop {SERVICE}"]

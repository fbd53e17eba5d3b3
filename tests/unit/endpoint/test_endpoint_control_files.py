"""The detached endpoint's pid file: absent, stale, unreadable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambda_harness.endpoint import control
from lambda_harness.errors import EndpointError
from lambda_harness.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        project_dir=tmp_path,
        functions_dir=tmp_path,
        terraform_dir=tmp_path,
        lock_file=None,
        dist=None,
        harness_dir=tmp_path / ".harness",
        cache_dir=tmp_path,
        cases_dir=tmp_path,
    )


def test_stop_without_pid_file_is_false(settings: Settings) -> None:
    assert control.stop_detached(settings) is False


def test_stale_pid_is_not_signalled_and_the_files_go(settings: Settings) -> None:
    settings.harness_dir.mkdir()
    # Our own pid runs pytest, not `lambda_harness up`: it must be left alone.
    control.pid_file(settings).write_text(f"{os.getpid()}\n")
    control.info_file(settings).write_text('{"url": "http://127.0.0.1:1"}')
    assert control.stop_detached(settings) is False
    assert not control.pid_file(settings).exists() and not control.info_file(settings).exists()


def test_unreadable_pid_file_is_cleaned_up(settings: Settings) -> None:
    settings.harness_dir.mkdir()
    control.pid_file(settings).write_text("not a pid")
    assert control.stop_detached(settings) is False
    assert not control.pid_file(settings).exists()


def test_wait_healthy_gives_up_when_the_process_died(settings: Settings) -> None:
    with pytest.raises(EndpointError, match="exited before"):
        control.wait_healthy(
            "http://127.0.0.1:9",
            30,
            alive=lambda: False,
            sleep=lambda _: None,
            probe=lambda _: "connection refused",
        )


def test_wait_healthy_times_out(settings: Settings) -> None:
    ticks = iter([0.0, 100.0])
    with pytest.raises(EndpointError, match=r"not healthy after 5s \(HTTP 503\)"):
        control.wait_healthy(
            "http://127.0.0.1:9",
            5,
            clock=lambda: next(ticks),
            sleep=lambda _: None,
            probe=lambda _: "HTTP 503",
        )


def test_wait_healthy_returns_once_healthy() -> None:
    answers = iter(["refused", "refused", None])
    slept: list[float] = []
    control.wait_healthy("http://127.0.0.1:9", 5, sleep=slept.append, probe=lambda _: next(answers))
    assert slept == [0.1, 0.1]
